"""Slash commands: parsing, the registry, /help, and did-you-mean for unknown names."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from qwen_cli.chat.conversation import to_markdown
from qwen_cli.errors import UsageError

EXIT = "exit"
_COMMAND = re.compile(r"^/([A-Za-z][\w-]*)(?:\s+(.*))?$", re.DOTALL)


@dataclass(frozen=True)
class Command:
    name: str
    args: str
    help: str
    handler: Callable


REGISTRY: dict[str, Command] = {}


def command(name: str, args: str, help: str):
    def register(fn):
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


def dispatch(session, name: str, argument: str):
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
def _help(session, argument):
    session.host.notice(help_text())


@command("auth", "[METHOD [PROVIDER]]", "Switch to another configured method, or log in (`/auth login`).")
def _auth(session, argument):
    new = session.host.auth(session.credentials, argument)
    if new is None:
        return
    session.set_credentials(new)
    session.host.notice(f"Now using {describe(new)}. The conversation is kept.")


@command("model", "[NAME]", "Use model NAME; without it, list the models and pick one.")
def _model(session, argument):
    host = session.host
    if argument:
        note = host.check_model(session.credentials, argument)
        session.set_model(argument)
        host.notice(f"Model: {argument}" + (f" ({note})" if note else ""))
        return
    current = session.credentials.model
    models = host.list_models(session.credentials)
    if not models:
        host.notice(f"Model: {current} (no list available; use /model NAME)")
        return
    if host.interactive:
        picked = host.choose("Models", models, current)
        if picked and picked != current:
            session.set_model(picked)
            host.notice(f"Model: {picked}")
        return
    host.notice("\n".join(f"{'*' if m == current else ' '} {m}" for m in models))


@command("system", "[TEXT]", "Show the system prompt, or set it (`/system -` removes it).")
def _system(session, argument):
    host = session.host
    if not argument:
        current = session.conversation.system
        host.notice(f"System prompt: {current}" if current else "No system prompt. Set one with /system TEXT.")
        return
    session.set_system(None if argument == "-" else argument)
    host.notice("System prompt removed." if argument == "-" else "System prompt set.")


@command("clear", "", "Start a fresh conversation (the current one stays saved).")
def _clear(session, argument):
    old = session.id if session.saved else None
    session.clear()
    session.host.notice("Fresh conversation." + (f" The previous one is saved as {old}." if old else ""))


@command("stats", "", "Turns, tokens in and out, and time spent.")
def _stats(session, argument):
    s = session.conversation.stats
    extra = []
    if s.cut:
        extra.append(f"{s.cut} cut")
    if s.failed:
        extra.append(f"{s.failed} failed")
    session.host.notice(
        f"Turns: {s.turns}" + (f" ({', '.join(extra)})" if extra else "") + "\n"
        f"Tokens: {s.prompt_tokens} in, {s.completion_tokens} out\n"
        f"Time: {s.seconds:.1f}s waiting for answers\n"
        f"Session: {session.id}  Model: {session.credentials.model}"
    )


@command("save", "[PATH]", "Save the transcript as markdown (default: qwen-chat-<id>.md in the current directory).")
def _save(session, argument):
    turns = session.conversation.stats.turns
    if not session.conversation.transcript:
        session.host.notice("Nothing to save yet: the conversation is empty.")
        return
    path = argument or f"qwen-chat-{session.id}.md"
    text = to_markdown(session.conversation, f"qwen chat {session.id}")
    written = session.host.write_file(str(Path(path).expanduser()), text)  # an absolute path
    session.host.notice(f"Saved the transcript ({turns} turn{'s' if turns != 1 else ''}) to {written}")


@command("terms", "", "Show the terms of service and privacy notice for the active method.")
def _terms(session, argument):
    text = session.host.terms(session.credentials)
    if text:
        session.host.notice(text)


@command("telemetry", "[on|off]", "Show or change the optional usage statistics setting.")
def _telemetry(session, argument):
    if argument and argument.lower() not in ("on", "off"):
        raise UsageError(f"/telemetry takes on or off, not {argument!r}")
    text = session.host.telemetry(argument.lower())
    if text:
        session.host.notice(text)


@command("exit", "", "Leave (Ctrl-D works too).")
def _exit(session, argument):
    return EXIT


@command("quit", "", "Leave.")
def _quit(session, argument):
    return EXIT


def describe(credentials) -> str:
    method = getattr(credentials, "method", "?")
    provider = getattr(credentials, "provider", None)
    label = method if not provider or provider == method else f"{method} ({provider})"
    return f"{label}, model {getattr(credentials, 'model', '?')}"
