"""Slash commands: parsing, the registry, /help, and did-you-mean for unknown names."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from qwen_cli.chat.conversation import to_markdown
from qwen_cli.errors import UsageError

if TYPE_CHECKING:
    from qwen_cli.auth.credentials import Credentials
    from qwen_cli.chat.session import ChatSession

EXIT = "exit"
_COMMAND = re.compile(r"^/([A-Za-z][\w-]*)(?:\s+(.*))?$", re.DOTALL)


Handler = Callable[["ChatSession", str], "str | None"]


@dataclass(frozen=True)
class Command:
    name: str
    args: str
    help: str
    handler: Handler


REGISTRY: dict[str, Command] = {}


def command(name: str, args: str, help: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        REGISTRY[name] = Command(name, args, help, fn)
        return fn

    return register


def parse(line: str) -> tuple[str, str] | None:
    """`/name rest` -> (name, rest). Anything else (including `/usr/bin ...` and `//escaped`) is a message."""
    text = line.strip()
    if text.startswith("//"):
        return None
    found = _COMMAND.match(text)
    if not found:
        return None
    return found.group(1).lower(), (found.group(2) or "").strip()


def unescape(line: str) -> str:
    """`//text` sends `/text` as a message."""
    stripped = line.lstrip()
    return stripped[1:] if stripped.startswith("//") else line


def dispatch(session: ChatSession, name: str, argument: str) -> str | None:
    entry = REGISTRY.get(name)
    if entry is None:
        guess = difflib.get_close_matches(name, list(REGISTRY), n=1, cutoff=0.5)
        if not guess:
            guess = [n for n in REGISTRY if n.startswith(name[:2])][:1]
        raise UsageError(
            f"unknown command /{name}" + (f"; did you mean /{guess[0]}?" if guess else ""),
            hint="Type /help for the list of commands; start a message with // to send a literal slash.",
        )
    return entry.handler(session, argument)


def help_text() -> str:
    width = max(len(f"/{c.name} {c.args}".strip()) for c in REGISTRY.values())
    lines = ["Commands:"]
    for c in REGISTRY.values():
        lines.append(f"  {f'/{c.name} {c.args}'.strip():<{width}}  {c.help}")
    lines += [
        "",
        'Multi-line input: start a block with """ and end it with """, or end a line with \\.',
        "Ctrl-C stops an answer or clears the line; Ctrl-D or /exit leaves.",
    ]
    return "\n".join(lines)


@command("help", "", "Show this list.")
def _help(session: ChatSession, argument: str) -> None:
    session.host.out.info(help_text())


@command("auth", "[METHOD [PROVIDER]]", "Switch to another configured method, or log in (`/auth login`).")
def _auth(session: ChatSession, argument: str) -> None:
    new = session.host.commands.auth(session.credentials, argument)
    if new is None:
        return
    session.set_credentials(new)
    session.host.out.info(f"Now using {describe(new)}. The conversation is kept.")


@command("model", "[NAME]", "Use model NAME; without it, list the models and pick one.")
def _model(session: ChatSession, argument: str) -> None:
    host, out = session.host, session.host.out
    if argument:
        note = host.provider.check_model(session.credentials, argument)
        session.set_model(argument)
        out.info(f"Model: {argument}" + (f" ({note})" if note else ""))
        return
    current = session.credentials.model
    models = host.provider.list_models(session.credentials)
    if not models:
        out.info(f"Model: {current} (no list available; use /model NAME)")
        return
    if host.prompter is not None:
        picked = host.prompter.choose("Models", models, current)
        if picked and picked != current:
            session.set_model(picked)
            out.info(f"Model: {picked}")
        return
    out.info("\n".join(f"{'*' if m == current else ' '} {m}" for m in models))


@command("system", "[TEXT]", "Show the system prompt, or set it (`/system -` removes it).")
def _system(session: ChatSession, argument: str) -> None:
    out = session.host.out
    if not argument:
        current = session.conversation.system
        out.info(f"System prompt: {current}" if current else "No system prompt. Set one with /system TEXT.")
        return
    session.set_system(None if argument == "-" else argument)
    out.info("System prompt removed." if argument == "-" else "System prompt set.")


@command("clear", "", "Start a fresh conversation (the current one stays saved).")
def _clear(session: ChatSession, argument: str) -> None:
    old = session.id if session.saved else None
    session.clear()
    session.host.out.info("Fresh conversation." + (f" The previous one is saved as {old}." if old else ""))


@command("stats", "", "Turns, tokens in and out, and time spent.")
def _stats(session: ChatSession, argument: str) -> None:
    s = session.conversation.stats
    extra = []
    if s.cut:
        extra.append(f"{s.cut} cut")
    if s.failed:
        extra.append(f"{s.failed} failed")
    session.host.out.info(
        f"Turns: {s.turns}" + (f" ({', '.join(extra)})" if extra else "") + "\n"
        f"Tokens: {s.prompt_tokens} in, {s.completion_tokens} out\n"
        f"Time: {s.seconds:.1f}s waiting for answers\n"
        f"Session: {session.id}  Model: {session.credentials.model}\n"
        "Talking to:\n" + "\n".join(resolution_lines(session.credentials))
    )
    plan = session.host.commands.plan_usage()
    if plan:
        session.host.out.info(plan)


@command("save", "[PATH]", "Save the transcript as markdown (default: qwen-chat-<id>.md in the current directory).")
def _save(session: ChatSession, argument: str) -> None:
    turns = session.conversation.stats.turns
    if not session.conversation.transcript:
        session.host.out.info("Nothing to save yet: the conversation is empty.")
        return
    path = Path(argument or f"qwen-chat-{session.id}.md").expanduser()
    text = to_markdown(session.conversation, f"qwen chat {session.id}")
    written = write_private(path if path.is_absolute() else session.workdir / path, text)
    session.host.out.info(f"Saved the transcript ({turns} turn{'s' if turns != 1 else ''}) to {written}")


def write_private(target: Path, text: str) -> Path:
    """`text` into `target`, readable by its owner only (a transcript holds the whole conversation)."""
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror}") from None
    return target


@command("terms", "", "Show the terms of service and privacy notice for the active method.")
def _terms(session: ChatSession, argument: str) -> None:
    text = session.host.commands.terms(session.credentials)
    if text:
        session.host.out.info(text)


@command("telemetry", "[on|off]", "Show or change the optional usage statistics setting.")
def _telemetry(session: ChatSession, argument: str) -> None:
    if argument and argument.lower() not in ("on", "off"):
        raise UsageError(f"/telemetry takes on or off, not {argument!r}")
    text = session.host.commands.telemetry(argument.lower())
    if text:
        session.host.out.info(text)


@command("exit", "", "Leave (Ctrl-D works too).")
def _exit(session: ChatSession, argument: str) -> str:
    return EXIT


@command("quit", "", "Leave.")
def _quit(session: ChatSession, argument: str) -> str:
    return EXIT


def describe(credentials: Credentials) -> str:
    return f"{_label(credentials)}, model {credentials.model}"


def _label(credentials: Credentials) -> str:
    method, provider = credentials.method, credentials.provider
    return method if not provider or provider == method else f"{method} ({provider})"


def resolution_lines(credentials: Credentials) -> list[str]:
    """The banner's and /stats' account of the resolution: what `auth status --json` and `ask -o json` show
    as method, provider, model, base URL and origins."""
    origins = credentials.origins()

    def row(label: str, value: str, origin: str) -> str:
        return f"  {label:<9} {value}" + (f"  (from {origin})" if origin else "")

    return [
        row("method", _label(credentials), origins["method"]),
        row("model", credentials.model, origins["model"]),
        row("base URL", credentials.base_url, origins["base_url"]),
        row("key", "set" if credentials.token else "none", origins["key"]),
    ]
