"""Entry point and the single error boundary: every failure becomes one line and a stable exit code."""

from __future__ import annotations

import os
import sys

from qwen_cli import __version__

# Not `from typing import TYPE_CHECKING`: importing typing costs `qwen --version` ~3 ms; mypy reads this name too.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from types import ModuleType

    import click

    from qwen_cli.context import AppContext

VERSION_LINE = f"qwen {__version__}"


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else list(argv)
    if args in (["--version"], ["-V"]):
        # Fast path: the most common health check shouldn't pay for importing click.
        sys.stdout.write(VERSION_LINE + "\n")
        sys.stdout.flush()
        sys.exit(0)
    from qwen_cli.context import AppContext
    from qwen_cli.errors import Terminated

    app = AppContext()
    install_statistics_hook(app)
    _end_on_signals()
    try:
        code = run(app, args)
    except Terminated as exc:  # a signal that landed after the boundary had finished
        code = exc.exit_code
    sys.exit(code)


def install_statistics_hook(app: AppContext) -> None:
    """Set `app.after_command` so the invocation may record one allowlisted usage event.

    The telemetry package is imported after the command has run, and not at all when the method the command
    used is one statistics never apply to (policy rule 2: the registry's answer, asked here only).
    """
    started = app.clock()

    def after_command(args, code, error):
        method = app.credentials.method if app.credentials is not None else None
        if method is not None:
            from qwen_cli.auth import methods

            if method in methods.METHODS and not methods.statistics_may_apply(method):
                return
        from qwen_cli.telemetry.hook import after_command as record

        record(app, args, code, error, started=started)

    app.after_command = after_command


def _end_on_signals() -> None:
    """SIGTERM and SIGHUP raise Terminated, so the process unwinds as it does for Ctrl-C: the terminal is
    restored, locks and temp files are removed, and the exit code is 143 or 129. A signal the parent set
    to be ignored (`nohup`) stays ignored; a second signal while unwinding is ignored too."""
    import signal

    from qwen_cli.errors import Terminated, note_signal

    def handler(signum, _frame):
        note_signal(signum)
        if not fired:
            fired.append(signum)
            raise Terminated(signum)

    def interrupt(signum, _frame):
        note_signal(signum)  # remembered, in case the exception is swallowed (errors.raise_if_interrupted)
        raise KeyboardInterrupt

    fired: list[int] = []
    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None and signal.getsignal(sig) is not signal.SIG_IGN:
            signal.signal(sig, handler)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, interrupt)


def run(app: AppContext, args: list[str]) -> int:
    import click

    from qwen_cli.cli.root import PipeClosed, root
    from qwen_cli.errors import ExitCode, QwenError, Terminated

    code: int = ExitCode.OK
    error: BaseException | None = None
    try:
        result = root.main(args=args, prog_name="qwen", standalone_mode=False, obj=app)
        code = result if isinstance(result, int) else ExitCode.OK
    except QwenError as exc:
        error, code = exc, exc.exit_code
        _debug_traceback(app, exc)
        _print_error(app, exc)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except _no_args_is_help(click) as exc:  # a group without its subcommand: its help page, exit 2
        _safe_write(app.stdout, exc.format_message() + "\n")
        code = exc.exit_code
    except click.ClickException as exc:
        error, code = exc, exc.exit_code
        _print_error(app, _click_error(exc))
    except (KeyboardInterrupt, click.exceptions.Abort) as exc:
        error, code = exc, ExitCode.INTERRUPTED
        _safe_write(app.stderr, "\nInterrupted.\n")
    except Terminated as exc:
        error, code = exc, exc.exit_code
        _safe_write(app.stderr, "\nTerminated.\n" if code == ExitCode.TERMINATED else "\nHung up.\n")
    except (BrokenPipeError, PipeClosed):
        _silence_stdout()
        code = ExitCode.OK
    except Exception as exc:  # noqa: BLE001 - the boundary: anything unexpected becomes exit 1
        error, code = exc, ExitCode.INTERNAL
        _debug_traceback(app, exc)
        _print_error(
            app,
            QwenError(
                f"internal error ({type(exc).__name__}), rerun with --debug for details",
                hint="If it persists, report it with the output of `qwen --debug ...`.",
            ),
        )
    _terms_notice(app, args)
    _after_command(app, args, int(code), error)
    try:
        app.stdout.flush()
    except (BrokenPipeError, ValueError):
        _silence_stdout()
    return int(code)


def _terms_notice(app: AppContext, args: list[str]) -> None:
    """The one-line notice of a changed terms entry (qwen_cli/terms_notice.py); it never fails a command."""
    if not app.stderr_isatty:  # the cheap test first: a pipe or a script imports nothing
        return
    try:
        from qwen_cli.terms_notice import show

        show(app, args)
    except Exception:  # noqa: BLE001, S110 - a notice must not turn a finished command into a failure
        pass


def _print_error(app: AppContext, exc) -> None:
    from qwen_cli.output.errors import print_error as render_error  # only a failing command needs it

    render_error(app, exc)


def _no_args_is_help(click: ModuleType) -> tuple[type[click.UsageError], ...]:
    """click >= 8.2 raises this for a group run without its subcommand; older click prints the help itself."""
    found = getattr(click.exceptions, "NoArgsIsHelpError", None)
    return (found,) if found is not None else ()


def _click_error(exc):
    """A Click failure (no such option, a missing argument, a bad choice...) as the usual one `Error:` line,
    with the command's usage line as the hint, instead of rich-click's usage box."""
    import click

    from qwen_cli.errors import QwenError, UsageError

    if not isinstance(exc, click.UsageError):
        return QwenError(exc.format_message())
    ctx = exc.ctx
    if ctx is None:
        return UsageError(exc.format_message(), hint="See `qwen --help`.")
    usage = " ".join([ctx.command_path, *ctx.command.collect_usage_pieces(ctx)])
    return UsageError(exc.format_message(), hint=f"Usage: {usage} (more with `{ctx.command_path} --help`).")


def _after_command(app: AppContext, args: list[str], code: int, error: BaseException | None) -> None:
    """Record one allowlisted usage event, if the user's settings permit it. Never fails the command."""
    hook = app.after_command
    if hook is None:
        return
    try:
        hook(args, code, error)
    except Exception as exc:  # noqa: BLE001 - statistics must never break a command
        if app.debug:
            _debug_traceback(app, exc)


def _debug_traceback(app: AppContext, exc: BaseException) -> None:
    if not app.debug:
        return
    import traceback

    from qwen_cli.secrets import redact
    from qwen_cli.termsafe import clean

    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    _safe_write(app.stderr, clean(redact(text, app.secrets)))


def _safe_write(stream, text: str) -> None:
    try:
        stream.write(text)
        stream.flush()
    except (BrokenPipeError, ValueError, OSError):
        pass


def _silence_stdout() -> None:
    """After EPIPE, point stdout at /dev/null so the interpreter's final flush can't raise again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
