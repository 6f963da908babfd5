"""The root `qwen` group. Subcommands are imported only when invoked (or when help lists them).

Plain click here: rich-click renders help pages (qwen_cli/cli/rich_help.py) and is imported only for them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

import click

from qwen_cli import __version__

if TYPE_CHECKING:
    from qwen_cli.context import AppContext

# name -> "module:attribute", imported only when the command runs or help lists it.
COMMANDS: dict[str, str] = {
    "ask": "qwen_cli.cli.ask:ask",
    "chat": "qwen_cli.cli.chat:chat",
    "auth": "qwen_cli.cli.auth:auth",
    "config": "qwen_cli.cli.config:config",
    "telemetry": "qwen_cli.cli.telemetry:telemetry",
    "terms": "qwen_cli.cli.terms:terms",
    "trust": "qwen_cli.cli.trust:trust",
    "templates": "qwen_cli.cli.templates:templates_group",
    "models": "qwen_cli.cli.models:models",
    "batch": "qwen_cli.cli.batch:batch",
    "usage": "qwen_cli.cli.usage:usage",
    "completion": "qwen_cli.cli.completion:completion",
}

_NEWEST = "qwen.newest_context"


class Context(click.Context):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.meta[_NEWEST] = self  # the command being parsed, for the errors click raises without a context

    def get_help(self) -> str:
        from qwen_cli.cli.rich_help import render  # rich-click only when a help page is shown

        if self.color is None:
            # rich decided about colour already (NO_COLOR, FORCE_COLOR, a terminal): click's --help callback
            # echoes with color=ctx.color and would strip it again off a terminal.
            self.color = True
        return render(self)


def _with_context(command):
    """Every command gets Context, whose help pages rich-click renders."""
    command.context_class = Context
    for sub in getattr(command, "commands", {}).values():
        _with_context(sub)
    return command


class PipeClosed(Exception):
    """The reader of stdout went away (`| head`). Not an OSError, so Click can't turn it into exit 1."""


class LazyGroup(click.Group):
    context_class = Context

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except BrokenPipeError as exc:
            raise PipeClosed() from exc
        except click.UsageError as exc:
            if exc.ctx is None:  # e.g. "Option '--resume' requires an argument."
                exc.ctx = ctx.meta.get(_NEWEST, ctx)
            raise

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name = args[0] if args else ""
        if args and name not in COMMANDS and not name.startswith("-") and not ctx.resilient_parsing:
            # Click suggests from self.commands, which a lazy group leaves empty.
            import difflib

            close = difflib.get_close_matches(name, list(COMMANDS), n=2)
            suggestion = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise click.UsageError(f"No such command {name!r}.{suggestion}", ctx=ctx)
        return super().resolve_command(ctx, args)

    def get_command(self, ctx: click.Context, name: str):
        if name not in COMMANDS:
            return None
        module_name, attr = COMMANDS[name].split(":")
        return _with_context(getattr(importlib.import_module(module_name), attr))


@click.group(
    cls=LazyGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, "--version", "-V", prog_name="qwen", message="%(prog)s %(version)s")
@click.option(
    "--debug",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=lambda ctx, _p, value: _enable_debug(ctx.obj) if value else None,
    help="Show tracebacks and HTTP traces (secrets masked).",
)
@click.option("--no-color", is_flag=True, help="Plain output, no colour (NO_COLOR is honoured too).")
@click.pass_context
def root(ctx: click.Context, no_color: bool) -> None:
    """qwen: Qwen models and any OpenAI-compatible provider, from your terminal and your pipelines.

    \b
    Examples:
      qwen auth login           # choose Qwen OAuth, Coding Plan or an API key
      git diff | qwen ask "write a commit message"
      qwen terms show --provider openrouter
    """
    app = ctx.obj
    app.no_color = app.no_color or no_color
    if ctx.invoked_subcommand is None:
        if app.stdin_isatty and app.stdout_isatty:
            ctx.invoke(root.get_command(ctx, "chat"))
            return
        click.echo(ctx.get_help(), file=app.stdout)
        ctx.exit(2)


def _enable_debug(app: AppContext) -> None:
    """Eager, so --debug also covers errors raised while Click is still resolving the command."""
    from qwen_cli.debuglog import enable_debug_logging

    app.debug = True
    enable_debug_logging(app)
