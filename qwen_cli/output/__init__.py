"""The one owner of terminal output: every line a command prints goes through `app.out`.

Five kinds, each with one prefix, one colour rule and the same redaction and terminal-safety:

    out.answer(text)   stdout, the model's words or a command's result, no prefix
    out.info(text)     stderr, progress and status lines, no prefix
    out.notice(text)   stderr, "Notice: " (dim): something the user should know, nothing went wrong
    out.warn(text)     stderr, "Warning: " (yellow): something may be wrong; the command goes on
    out.error(error)   stderr, "Error: " (red) plus a "Hint: " line; JSON formats also get {"error": ...} on stdout

Text from servers is data: every line goes through `termsafe.clean` and `secrets.redact` here, so callers
never do it themselves. A closed pipe on stderr is not an error worth a traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qwen_cli.context import AppContext

__all__ = ["Output"]

_ANSI = {"red": "31", "green": "32", "yellow": "33", "blue": "34", "magenta": "35", "cyan": "36", "dim": "2"}
_PREFIX = {"notice": ("Notice: ", "dim"), "warn": ("Warning: ", "yellow")}


def style(text: str, colour: str, enabled: bool) -> str:
    if not enabled or not text:
        return text
    return f"\x1b[{_ANSI[colour]}m{text}\x1b[0m"


class Output:
    def __init__(self, app: AppContext) -> None:
        self.app = app

    def _safe(self, text: str) -> str:
        from qwen_cli.secrets import redact
        from qwen_cli.termsafe import clean

        return clean(redact(text, self.app.secrets))

    def _line(self, stream: Any, text: str) -> None:
        try:
            stream.write(text + "\n")
            stream.flush()
        except (BrokenPipeError, ValueError):
            pass

    def answer(self, text: str) -> None:
        self._line(self.app.stdout, self._safe(text))

    def info(self, text: str = "") -> None:
        self._line(self.app.stderr, self._safe(text))

    def _prefixed(self, kind: str, text: str) -> None:
        prefix, colour = _PREFIX[kind]
        self._line(self.app.stderr, style(prefix, colour, self.app.color_for(self.app.stderr)) + self._safe(text))

    def notice(self, text: str) -> None:
        self._prefixed("notice", text)

    def warn(self, text: str) -> None:
        self._prefixed("warn", text)

    def error(self, error: Any) -> None:
        from qwen_cli.render import print_error

        print_error(self.app, error)
