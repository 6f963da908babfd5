"""`qwen chat`: an interactive session with slash commands, /auth, history and resume."""

from __future__ import annotations

from typing import TYPE_CHECKING

import rich_click as click

from qwen_cli.cli.common import credentials_for, pass_app, profile_option
from qwen_cli.cli.completers import models, session_ids
from qwen_cli.errors import UsageError

if TYPE_CHECKING:
    from typing import IO

    from qwen_cli.auth.credentials import Credentials
    from qwen_cli.chat.repl import ReadlineReader, StreamReader
    from qwen_cli.chat.session import ChatSession
    from qwen_cli.chat.session_store import Loaded, SessionStore
    from qwen_cli.cli.chat_host import CliHost
    from qwen_cli.context import AppContext


@click.command(name="chat")
@click.option("-m", "--model", shell_complete=models, help="Model to use for this session (see /model).")
@click.option("-s", "--system", "system", help="System prompt for a new session (see /system).")
@click.option("-c", "--continue", "continue_", is_flag=True, help="Resume the newest session.")
@click.option("-r", "--resume", "resume", metavar="ID", shell_complete=session_ids, help="Resume session ID.")
@click.option("--list", "list_", is_flag=True, help="List saved sessions: id, date, first words, turns.")
@click.option("--json", "as_json", is_flag=True, help="With --list: print JSON.")
@profile_option
@pass_app
def chat(
    app: AppContext,
    model: str | None,
    system: str | None,
    continue_: bool,
    resume: str | None,
    list_: bool,
    as_json: bool,
) -> int:
    """Talk with the model: answers stream, slash commands manage the session, everything is saved.

    On a terminal this is a REPL (Ctrl-C stops an answer, Ctrl-D leaves, /help lists commands).
    With stdin from a pipe, each line is one turn and the answers are printed plain.

    \b
    Examples:
      qwen chat
      qwen chat --continue
      qwen chat --list
      printf 'hi\\nand then?\\n' | qwen chat
    """
    from qwen_cli.chat.session_store import SessionStore

    store = SessionStore(app.settings.home)
    if as_json and not list_:
        raise UsageError("--json goes with --list", hint="Run `qwen chat --list --json`.")
    if list_:
        return list_sessions(app, store, as_json)
    if continue_ and resume:
        raise UsageError("use either --continue or --resume ID, not both")
    session_id = resume
    if continue_:
        session_id = store.newest_id()
        if session_id is None:
            raise UsageError("no saved session to continue", hint="Start one with `qwen chat`.")
    return run_chat(app, store, model=model, system=system, session_id=session_id)


def run_chat(
    app: AppContext,
    store: SessionStore,
    model: str | None = None,
    system: str | None = None,
    session_id: str | None = None,
) -> int:
    from qwen_cli.chat import repl
    from qwen_cli.chat.session import ChatSession
    from qwen_cli.cli.chat_host import CliHost

    plain = not app.stdin_isatty
    store.check_writable(session_id)  # exit 8 before any login or request when the session can't be saved
    host = CliHost(app, plain=plain)
    loaded = store.load(session_id) if session_id else None
    if loaded is not None:
        for warning in loaded.warnings:
            app.out.warn(warning)
        credentials = resume_credentials(app, loaded, model)
    else:
        credentials = credentials_for(app, model=model)
    session = ChatSession(
        host,
        credentials,
        store,
        max_context_chars=app.settings.get("chat.max_context_chars"),
        session_file=store.reopen(session_id) if session_id else None,
        clock=app.clock,
        workdir=app.cwd,
    )
    if loaded is not None:
        restore(session, loaded)
        if system:
            session.set_system(system)
    elif system:
        session.conversation.system = system
    try:
        if plain:
            from qwen_cli.local_input import capped_lines

            return repl.run_lines(session, capped_lines(app.stdin, app.settings.get("input.max_bytes")))
        banner(host, session, resumed=loaded is not None)
        reader = make_reader(app)
        try:
            code = repl.run_interactive(session, reader, host)
        finally:
            if isinstance(reader, repl.ReadlineReader):
                reader.save()
        if session.saved:
            app.out.info(f"Session {session.id} saved; resume it with: qwen chat --resume {session.id}")
        return code
    finally:
        session.close()


def resume_credentials(app: AppContext, loaded: Loaded, model: str | None) -> Credentials:
    """The credentials for a resumed session: the method (and provider) it last used, resolved afresh, with
    its model unless -m names one. When that method is not configured any more, the active one, with a
    one-line notice. Nothing is written to config.toml: the active method stays what it was."""
    from qwen_cli.chat.session_store import recorded_auth
    from qwen_cli.chat.slash import describe
    from qwen_cli.errors import AuthError, ConfigError, UsageError

    auth = recorded_auth(loaded)
    method = auth["method"]
    if method is None:  # a file that never said: the active method, as before
        return credentials_for(app, model=model)
    from qwen_cli.auth import methods

    provider = auth["provider"] if method in methods.METHODS and methods.get(method).takes_provider else None
    try:
        resumed = credentials_for(app, method=method, provider=provider, model=model or auth["model"])
    except (AuthError, ConfigError, UsageError) as exc:
        reason = exc.message
    else:
        if model is None and auth["model"]:
            resumed.model_source = f"session {loaded.id}"  # not a flag, though resolve() was passed it as one
        return resumed
    credentials = credentials_for(app, model=model)
    was = method if not provider else f"{method} ({provider})"
    app.out.notice(
        f"session {loaded.id} used {was}, which is not configured now ({reason}); using {describe(credentials)}."
    )
    return credentials


def restore(session: ChatSession, loaded: Loaded) -> None:
    from qwen_cli.chat.session_store import last_of, replay

    conversation = session.conversation
    conversation.transcript = replay(loaded.records)
    conversation.system = last_of(loaded.records, "system", "content") or None
    conversation.stats.turns = sum(1 for m in conversation.transcript if m["role"] == "assistant")


def make_reader(app: AppContext) -> ReadlineReader | StreamReader:
    import sys

    from qwen_cli import paths
    from qwen_cli.chat.repl import ReadlineReader, StreamReader

    history = paths.qwen_home(app.env) / "chat_history"
    size = app.settings.get("chat.history_size")
    if app.stdin is sys.stdin and app.stdin_isatty:
        if sys.stdout.isatty():
            return ReadlineReader(history, size)
        if app.stderr is sys.stderr and app.stderr_isatty and _has_fd(sys.stdout):
            # `qwen chat > file`: readline draws on the terminal behind stderr while reading a line.
            return ReadlineReader(history, size, terminal_fd=sys.stderr.fileno())
    return StreamReader(app.stdin, echo=app.out.prompt)


def _has_fd(stream: IO[str] | None) -> bool:
    try:
        return stream is not None and stream.fileno() == 1
    except (AttributeError, OSError, ValueError):
        return False


def banner(host: CliHost, session: ChatSession, resumed: bool) -> None:
    from qwen_cli.chat.slash import describe, resolution_lines
    from qwen_cli.cli.auth_flow import wrap
    from qwen_cli.cli.chat_terms import summary_line

    app = host.app
    lines = [f"qwen chat · {describe(session.credentials)}", *resolution_lines(session.credentials)]
    terms = summary_line(app, session.credentials)
    if terms and terms not in app.shown_once:  # else the login just before the banner showed it
        app.shown_once.add(terms)
        lines.append(wrap(app, terms))
    from qwen_cli import privacy_guard

    guard = privacy_guard.describe(app.settings)
    if guard:
        lines.append(wrap(app, guard))
    if resumed:
        turns = session.conversation.stats.turns
        lines.append(f"Resumed session {session.id} ({turns} turn{'s' if turns != 1 else ''}).")
    if not app.stdout_isatty:
        lines.append("Answers go to stdout, which is not a terminal, as plain text.")
    lines.append("Type /help for commands; Ctrl-D or /exit leaves.")
    app.out.info("\n".join(lines))


def list_sessions(app: AppContext, store: SessionStore, as_json: bool) -> int:
    from qwen_cli.termsafe import clean

    summaries = store.summaries()
    if as_json:
        app.out.json([s.as_dict() for s in summaries])
        return 0
    if not summaries:
        app.out.info("No saved sessions. Start one with `qwen chat`.")
        return 0
    # First words are cleaned before the columns are measured: a control picture is one column wide.
    rows = [(s.id, s.as_dict()["created"].replace("T", " "), str(s.turns), clean(s.first_words)) for s in summaries]
    widths = [max(len(r[i]) for r in rows + [("ID", "DATE", "TURNS", "")]) for i in range(3)]
    header = ("ID", "DATE", "TURNS", "FIRST WORDS")
    for row in [header, *rows]:
        app.out.answer(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:>{widths[2]}}  {row[3]}".rstrip())
    return 0
