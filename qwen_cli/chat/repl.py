"""The read loop: readline input with a history file, multi-line blocks, Ctrl-C and Ctrl-D semantics,
and the plain line-per-turn loop used when stdin is not a terminal."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from qwen_cli.chat import slash
from qwen_cli.errors import QwenError

if TYPE_CHECKING:
    from qwen_cli.chat.host import Host, Prompter
    from qwen_cli.chat.session import ChatSession

PROMPT = "> "
CONTINUATION = ". "
FENCE = '"""'


class StreamReader:
    """Reads lines from a text stream, showing the prompt with `echo` (used off a real terminal)."""

    def __init__(self, stream: IO[str], echo: Callable[[str], None] | None = None) -> None:
        self.stream = stream
        self.echo = echo

    def __call__(self, prompt: str) -> str:
        if self.echo is not None:
            self.echo(prompt)
        line = self.stream.readline()
        if not line:
            raise EOFError
        return line.rstrip("\n").rstrip("\r")


class ReadlineReader:
    """`input()` with GNU readline (or libedit) line editing and a private, capped history file.

    CPython's input() uses readline only when file descriptors 0 and 1 are both terminals, and readline
    draws on fd 1. When stdout is redirected (`qwen chat > file`), pass `terminal_fd` (stderr's descriptor,
    a terminal): fd 1 is pointed at it for the duration of each read and put back afterwards, so the
    prompt and the line editing appear on the terminal and the answers still go to the file.
    """

    def __init__(self, history_file: Path | None, history_size: int = 1000, terminal_fd: int | None = None) -> None:
        self.history_file = history_file
        self.history_size = history_size
        self.terminal_fd = terminal_fd
        self.readline: Any = None  # the module, when this Python has one
        try:
            import readline
        except ImportError:  # e.g. Windows without pyreadline: plain input() still works
            return
        self.readline = readline
        readline.set_history_length(history_size if history_size > 0 else -1)
        if history_file is not None:
            try:
                readline.read_history_file(str(history_file))
            except (OSError, ValueError):
                pass

    def __call__(self, prompt: str) -> str:
        if self.terminal_fd is None:
            return input(prompt)
        import sys

        sys.stdout.flush()  # what was written so far belongs in the file
        saved = os.dup(1)
        try:
            os.dup2(self.terminal_fd, 1)
            return input(prompt)
        finally:
            os.dup2(saved, 1)
            os.close(saved)

    def save(self) -> None:
        if self.readline is None or self.history_file is None or self.history_size == 0:
            return
        import tempfile

        from qwen_cli.fsutil import atomic_write, ensure_private_dir

        path = self.history_file
        try:
            ensure_private_dir(path.parent)
            # readline writes only to a path: let it write a private temp file, then replace atomically.
            fd, scratch = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".readline", dir=path.parent)
            os.close(fd)
            try:
                self.readline.set_history_length(self.history_size)
                self.readline.write_history_file(scratch)
                atomic_write(path, Path(scratch).read_bytes())
            finally:
                os.unlink(scratch)
        except OSError:
            pass


def read_message(read: Callable[[str], str]) -> str:
    """One user message: a line, a `\"\"\"` block, or lines joined by a trailing backslash.

    EOFError and KeyboardInterrupt propagate (the caller decides: leave, or clear the line).
    """
    line = read(PROMPT)
    stripped = line.strip()
    if stripped.startswith(FENCE):
        rest = stripped[len(FENCE) :]
        if rest.endswith(FENCE) and len(rest) >= len(FENCE):
            return rest[: -len(FENCE)]
        lines = [rest] if rest else []
        while True:
            more = read(CONTINUATION)
            if more.rstrip().endswith(FENCE):
                tail = more.rstrip()[: -len(FENCE)]
                if tail:
                    lines.append(tail)
                return "\n".join(lines)
            lines.append(more)
    lines = []
    while line.endswith("\\"):
        lines.append(line[:-1])
        line = read(CONTINUATION)
    lines.append(line)
    return "\n".join(lines)


def handle(session: ChatSession, text: str) -> str | None:
    """A slash command or a turn. Returns slash.EXIT to leave."""
    parsed = slash.parse(text)
    if parsed is not None:
        return slash.dispatch(session, *parsed)
    session.send(slash.unescape(text))
    return None


# Typed without the slash, these are far more often meant as the command than as a message.
BARE_COMMANDS = ("exit", "quit", "clear", "help")


def confirm_bare_command(prompter: Prompter | None, text: str) -> str:
    """On a terminal, `exit` (etc.) alone asks "Did you mean /exit?": yes (or Enter) runs the command,
    anything else sends the word as typed. Without a person to ask (pipe mode) it never asks."""
    word = text.strip().lower()
    if word not in BARE_COMMANDS or prompter is None:
        return text
    answer = prompter.ask(f"Did you mean /{word}? [Y/n] ").strip().lower()
    return f"/{word}" if answer in ("", "y", "yes") else text


def run_interactive(session: ChatSession, read: Callable[[str], str], host: Host) -> int:
    """The terminal loop. A failed turn or command prints its error and the session goes on."""
    out = host.out
    while True:
        try:
            text = read_message(read)
        except KeyboardInterrupt:
            out.info()  # Ctrl-C at the prompt: drop the line, stay
            continue
        except EOFError:
            out.info()
            return 0
        if not text.strip():
            continue
        try:
            if handle(session, confirm_bare_command(host.prompter, text)) == slash.EXIT:
                return 0
        except QwenError as error:
            out.error(error)
        except KeyboardInterrupt:  # Ctrl-C inside a command's own prompt (e.g. /auth)
            out.info()


def run_lines(session: ChatSession, lines: Iterable[str]) -> int:
    """Pipe mode: each non-empty line is one turn (or a slash command). Errors propagate, exiting with
    their code; end of input ends the session."""
    for raw in lines:
        text = raw.rstrip("\n").rstrip("\r")
        if not text.strip():
            continue
        if handle(session, text) == slash.EXIT:
            break
    return 0
