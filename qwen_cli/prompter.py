"""Questions to the person at the terminal: pick from a list, type a line, type a secret, confirm.

Every question names what it needs and the flag that supplies it instead: off a terminal the prompter
raises that usage error itself (exit 2), so callers never check for a terminal first. End of input at a
prompt is `Cancelled`, which the error boundary and chat's /auth treat like Ctrl-C.

`TerminalPrompter` is the real one (stdin, with the prompt and menus on stderr through `app.out`);
tests pass a scripted one with the same methods.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TextIO, cast

from qwen_cli.errors import UsageError

if TYPE_CHECKING:
    from qwen_cli.context import AppContext

__all__ = ["MAX_TRIES", "Cancelled", "Prompter", "TerminalPrompter", "need_terminal"]

MAX_TRIES = 3


class Cancelled(KeyboardInterrupt):
    """End of input at a prompt: the person went away, as with Ctrl-C."""


def need_terminal(what: str, flag: str) -> UsageError:
    return UsageError(f"{what} is needed and this is not a terminal, so nothing can be asked", hint=f"Pass {flag}.")


class Prompter(Protocol):
    @property
    def interactive(self) -> bool: ...

    def choose(
        self, title: str, options: list[tuple[str, str]], *, need: str, flag: str, default: str | None = None
    ) -> str:
        """The id of one of `options` ((id, label) pairs), by number or id; Enter takes `default`."""
        ...

    def text(
        self, prompt: str, *, need: str, flag: str, problem: Callable[[str], str | None] | None = None
    ) -> str | None:
        """A line, asked again (up to MAX_TRIES) while `problem(answer)` says what is wrong; None when no
        good answer came."""
        ...

    def secret(self, prompt: str, *, need: str, flag: str) -> str:
        """A line typed without echo."""
        ...

    def confirm(self, prompt: str, *, need: str, flag: str, default: bool = False) -> bool: ...

    def say(self, text: str = "") -> None:
        """A line of the conversation (a menu, what was wrong), wrapped to the terminal."""
        ...


class TerminalPrompter:
    def __init__(self, app: AppContext) -> None:
        self.app = app

    @property
    def interactive(self) -> bool:
        return self.app.interactive

    def _require(self, need: str, flag: str) -> None:
        if not self.interactive:
            raise need_terminal(need, flag)

    # -- the lines around the questions ------------------------------------------------------------------

    def width(self) -> int | None:
        """Columns of the terminal behind stderr (its own size first: that is where it would cut a line),
        else COLUMNS, else 80. None off a terminal: logs and pipes get whole lines."""
        app = self.app
        if not app.stderr_isatty:
            return None
        try:
            return os.get_terminal_size(app.stderr.fileno()).columns
        except (AttributeError, OSError, ValueError):
            columns = app.env.get("COLUMNS", "")
            return int(columns) if columns.isdigit() and int(columns) > 0 else 80

    def wrap(self, text: str, indent: str = "", first: str | None = None) -> str:
        """`text` wrapped at spaces to fit the terminal, so the terminal never cuts a word or a URL in two
        (a URL longer than a line stays whole on a line of its own), nor a `command` in backquotes.
        Unchanged off a terminal."""
        import re
        import textwrap

        first = indent if first is None else first
        width = self.width()
        if width is None:
            return first + " ".join(text.split())
        glued = re.sub(r"`[^`]*`", lambda m: m.group().replace(" ", "\xa0"), " ".join(text.split()))
        lines = textwrap.wrap(
            glued,
            width=max(width - 1, 20),
            initial_indent=first,
            subsequent_indent=indent,
            break_long_words=False,
            break_on_hyphens=False,
        )
        return "\n".join(lines).replace("\xa0", " ")

    def say(self, text: str = "") -> None:
        self.app.out.info(self.wrap(text) if text else "")

    def _ask(self, prompt: str, hidden: bool = False) -> str:
        app = self.app
        if hidden and app.stdin is sys.stdin and app.stdin_isatty:
            import getpass

            try:
                return getpass.getpass(prompt, stream=cast(TextIO, app.stderr))
            except EOFError:
                raise Cancelled() from None
        app.out.prompt(prompt)
        line = app.stdin.readline()
        if not line:
            raise Cancelled()
        return line.rstrip("\r\n")

    # -- the questions -----------------------------------------------------------------------------------

    def choose(
        self, title: str, options: list[tuple[str, str]], *, need: str, flag: str, default: str | None = None
    ) -> str:
        """A numbered menu. A label's first line follows its number; further lines are indented under it."""
        self._require(need, flag)
        self.say(title)
        width = len(str(len(options)))
        for i, (_value, label) in enumerate(options, 1):
            number = f"  {str(i).rjust(width)}. "
            head, *more = label.split("\n")
            self.app.out.info(self.wrap(head, " " * len(number), first=number))
            for line in more:
                self.app.out.info(self.wrap(line, " " * (len(number) + 2)))
        ids = [value for value, _ in options]
        suffix = f" [{ids.index(default) + 1}]" if default in ids else ""
        for _ in range(MAX_TRIES):
            answer = self._ask(f"Choose 1-{len(options)}{suffix}: ").strip()
            if not answer and default is not None and default in ids:
                return default
            if answer.isdigit() and 1 <= int(answer) <= len(options):
                return ids[int(answer) - 1]
            if answer in ids:
                return answer
            self.say(f"Please type a number from 1 to {len(options)}.")
        raise UsageError("no valid choice was made")

    def text(
        self, prompt: str, *, need: str, flag: str, problem: Callable[[str], str | None] | None = None
    ) -> str | None:
        self._require(need, flag)
        for _ in range(MAX_TRIES):
            answer = self._ask(prompt).strip()
            reason = problem(answer) if problem else None
            if reason is None:
                return answer
            self.say(reason)
        return None

    def secret(self, prompt: str, *, need: str, flag: str) -> str:
        self._require(need, flag)
        return self._ask(prompt, hidden=True)

    def confirm(self, prompt: str, *, need: str, flag: str, default: bool = False) -> bool:
        self._require(need, flag)
        for _ in range(MAX_TRIES):
            answer = self._ask(f"{prompt} [{'Y/n' if default else 'y/N'}] ").strip().lower()
            if not answer:
                return default
            if answer in ("y", "yes", "n", "no"):
                return answer.startswith("y")
            self.say("Please answer y or n.")
        return default
