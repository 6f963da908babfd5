"""The one owner of terminal output: every line a command prints goes through `app.out`.

Five kinds of line, each with one prefix, one colour rule and the same redaction and terminal-safety:

    out.answer(text)   stdout, a command's result, no prefix
    out.info(text)     stderr, progress and status lines, no prefix
    out.notice(text)   stderr, "Notice: " (dim): something the user should know, nothing went wrong
    out.warn(text)     stderr, "Warning: " (yellow): something may be wrong; the command goes on
    out.error(error)   stderr, "Error: " (red) plus a "Hint: " line; JSON formats also get {"error": ...} on stdout

and two that are not lines: `out.prompt(text)` (a question on stderr, the cursor stays after it) and
`out.render(events)`, the model's answer as it streams (`qwen_cli.output.answer`). `out.json(payload)` is
a command's result as JSON on stdout.

Text from servers is data: every line goes through `termsafe.clean` and `secrets.redact` here, so callers
never do it themselves. The words of events that both `ask` and `chat` report live in `output.messages`.
A closed pipe on stderr is not an error worth a traceback.

The package: `style` (colours), `json` (JSON on stdout), `errors` (the Error/Hint lines), `answer` (streaming
answers), `spinner`, `messages`. Only `answer` imports rich, and only when it draws markdown.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, TYPE_CHECKING, Any

from qwen_cli.output.style import style

if TYPE_CHECKING:
    from qwen_cli.context import AppContext
    from qwen_cli.errors import QwenError
    from qwen_cli.output.answer import Answer
    from qwen_cli.providers.events import Event

__all__ = ["Output", "style"]

_PREFIX = {"notice": ("Notice: ", "dim"), "warn": ("Warning: ", "yellow")}


class Output:
    def __init__(self, app: AppContext) -> None:
        self.app = app
        # How answers are drawn in this invocation: None is markdown on a terminal and plain text elsewhere;
        # False is plain text everywhere (`ask --raw`, chat in pipe mode).
        self.markdown: bool | None = None

    def _safe(self, text: str) -> str:
        from qwen_cli.secrets import redact
        from qwen_cli.termsafe import clean

        return clean(redact(text, self.app.secrets))

    def _write(self, stream: IO[str], text: str) -> None:
        try:
            stream.write(text)
            stream.flush()
        except (BrokenPipeError, ValueError):
            pass

    def answer(self, text: str) -> None:
        self._write(self.app.stdout, self._safe(text) + "\n")

    def info(self, text: str = "") -> None:
        self._write(self.app.stderr, self._safe(text) + "\n")

    def _prefixed(self, kind: str, text: str) -> None:
        prefix, colour = _PREFIX[kind]
        shown = style(prefix, colour, self.app.color_for(self.app.stderr)) + self._safe(text)
        self._write(self.app.stderr, shown + "\n")

    def notice(self, text: str) -> None:
        self._prefixed("notice", text)

    def warn(self, text: str) -> None:
        self._prefixed("warn", text)

    def error(self, error: QwenError) -> None:
        from qwen_cli.output.errors import print_error

        print_error(self.app, error)

    def prompt(self, text: str) -> None:
        """A question on stderr with no newline: the answer is typed after it."""
        self._write(self.app.stderr, self._safe(text))

    def json(self, payload: Any, pretty: bool = True) -> None:
        """A JSON result on stdout, every string redacted (write_json makes the text terminal-safe)."""
        from qwen_cli.output.json import write_json

        write_json(self.app.stdout, self._redacted(payload), pretty=pretty)

    def json_lines(self, payloads: list[Any]) -> None:
        """NDJSON lines on stdout (`ask --each`), redacted as json() does, in one write."""
        from qwen_cli.output.json import write_json_lines

        write_json_lines(self.app.stdout, [self._redacted(payload) for payload in payloads])

    def _redacted(self, value: Any) -> Any:
        if isinstance(value, str):
            from qwen_cli.secrets import redact

            return redact(value, self.app.secrets)
        if isinstance(value, dict):
            return {k: self._redacted(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._redacted(v) for v in value]
        return value

    def render(
        self,
        events: Iterable[Event],
        *,
        output_format: str | None = None,
        markdown: bool | None = None,
        show_reasoning: bool = False,
        model: str | None = None,
        started: float | None = None,
        resolution: dict[str, Any] | None = None,
    ) -> Answer:
        """Draw a streamed answer in this invocation's format (see `qwen_cli.output.answer`)."""
        from qwen_cli.output.answer import render_answer

        return render_answer(
            self.app,
            events,
            output_format=output_format,
            markdown=self.markdown if markdown is None else markdown,
            show_reasoning=show_reasoning,
            model=model,
            started=started,
            resolution=resolution,
        )
