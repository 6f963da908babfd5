"""Streaming answer output, shared by `qwen ask` and `qwen chat`.

`render_answer(app, events, ...)` consumes the adapter's events and writes them as they arrive:
- text on a terminal: markdown rendered live with rich (rich is imported only then);
- text in a pipe or file (or --raw): plain text, flushed per delta;
- json: one object at the end; stream-json: NDJSON delta lines, then one result line.
A spinner runs on stderr (when it is a terminal) until the first token. Reasoning goes to stderr when
asked for and is hidden otherwise. It returns an Answer; a failure or Ctrl-C mid-answer does not raise
but comes back as `answer.error` with `answer.cut = True`, the text printed so far left in place.
Anything else (BrokenPipeError, a termination signal) propagates to the error boundary, after the sink
is closed so the terminal gets its cursor back.
Text shown on a terminal, and reasoning (stderr), goes through `termsafe`; `answer.text` keeps the bytes.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from qwen_cli import termsafe
from qwen_cli.errors import QwenError
from qwen_cli.output.json import write_json
from qwen_cli.output.spinner import Spinner
from qwen_cli.output.style import style
from qwen_cli.providers.events import Event, Finish, ReasoningDelta, TextDelta, Usage

if TYPE_CHECKING:
    from rich.live import Live
    from rich.markdown import Markdown

    from qwen_cli.context import AppContext
    from qwen_cli.tty_echo import EchoOff


@dataclass
class Answer:
    """An answer as it was rendered: its text, reasoning, usage, finish reason, timing and any error."""

    text: str = ""
    reasoning: str = ""
    usage: Usage | None = None
    finish_reason: str | None = None
    model: str | None = None
    duration_ms: int = 0
    cut: bool = False
    error: BaseException | None = field(default=None, repr=False)
    resolution: dict[str, Any] | None = None  # Credentials.resolution(): who answered, and why them

    def result(self, with_reasoning: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "content": self.text,
            "model": self.model,
            "finish_reason": self.finish_reason,
            "usage": self.usage.as_dict() if self.usage else None,
            "duration_ms": self.duration_ms,
        }
        if self.resolution is not None:
            out["resolution"] = self.resolution
        if with_reasoning:
            out["reasoning"] = self.reasoning
        return out

    def raise_if_cut(self) -> None:
        if self.error is not None:
            raise self.error


def usage_line(usage: Usage | None) -> str:
    if usage is None:
        return "usage: not reported by the provider"

    def n(v: int | None) -> str:
        return "?" if v is None else f"{v:,}"

    return (
        f"usage: {n(usage.prompt_tokens)} prompt + {n(usage.completion_tokens)} completion"
        f" = {n(usage.total_tokens)} tokens"
    )


def render_answer(
    app: AppContext,
    events: Iterable[Event],
    *,
    output_format: str | None = None,
    markdown: bool | None = None,
    show_reasoning: bool = False,
    model: str | None = None,
    started: float | None = None,
    resolution: dict[str, Any] | None = None,
) -> Answer:
    fmt = output_format or app.output_format
    if fmt == "json":
        sink: _Sink = _JsonSink(app, show_reasoning)
    elif fmt == "stream-json":
        sink = _StreamJsonSink(app, show_reasoning)
    elif fmt == "progress":
        sink = _ProgressSink(app, show_reasoning)
    elif app.stdout_isatty if markdown is None else markdown:
        sink = _MarkdownSink(app, show_reasoning)
    else:
        sink = _PlainSink(app, show_reasoning)
    start = time.monotonic() if started is None else started
    answer = Answer(model=model, resolution=resolution)
    # A dumb terminal can't erase a line: no spinner there (rich already turns the live display off).
    spinner: Spinner | None = None
    if fmt in ("text", "progress") and app.stderr_isatty and app.env.get("TERM") != "dumb":
        spinner = Spinner(app)
    ending: BaseException | None = None
    try:
        if spinner:
            spinner.start()
        for event in events:
            if isinstance(event, TextDelta):
                if spinner:
                    spinner.stop()
                    spinner = None
                answer.text += event.text
                sink.text(event.text)
            elif isinstance(event, ReasoningDelta):
                if spinner and show_reasoning:
                    spinner.stop()
                    spinner = None
                answer.reasoning += event.text
                sink.reasoning(event.text)
            elif isinstance(event, Usage):
                answer.usage = event
            elif isinstance(event, Finish):
                answer.finish_reason = event.reason
                answer.model = event.model or answer.model
    except (QwenError, KeyboardInterrupt) as exc:
        answer.cut, answer.error = True, exc
    except BaseException as exc:
        answer.cut, answer.error, ending = True, exc, exc
    finally:
        if spinner:
            spinner.stop()
        answer.duration_ms = int((time.monotonic() - start) * 1000)
    if ending is None:
        sink.close(answer)
        return answer
    with contextlib.suppress(OSError, ValueError):  # the terminal or the pipe may be gone already
        sink.close(answer)
    raise ending


class _Sink:
    def __init__(self, app: AppContext, show_reasoning: bool) -> None:
        self.app = app
        self.show_reasoning = show_reasoning
        self._reasoning_open = False
        self._reasoning_filter = termsafe.Stream()

    def text(self, text: str) -> None:
        raise NotImplementedError

    def reasoning(self, text: str) -> None:
        if not self.show_reasoning:
            return
        err = self.app.stderr
        err.write(style(self._reasoning_filter.feed(text), "dim", self.app.color_for(err)))
        err.flush()
        self._reasoning_open = True

    def end_reasoning(self) -> None:
        if self._reasoning_open:
            self._reasoning_open = False
            self.app.stderr.write(self._reasoning_filter.flush() + "\n")
            self.app.stderr.flush()

    def close(self, answer: Answer) -> None:
        self.end_reasoning()


class _PlainSink(_Sink):
    """Plain text: on a terminal through termsafe, into a pipe or file byte for byte."""

    def __init__(self, app: AppContext, show_reasoning: bool) -> None:
        super().__init__(app, show_reasoning)
        self.wrote = False
        self.last = ""
        self.filter = termsafe.Stream() if app.stdout_isatty else None

    def text(self, text: str) -> None:
        self.end_reasoning()
        if self.filter is not None:
            text = self.filter.feed(text)
        out = self.app.stdout
        out.write(text)
        out.flush()
        self.wrote = True
        self.last = text[-1:] or self.last

    def close(self, answer: Answer) -> None:
        super().close(answer)
        held = self.filter.flush() if self.filter is not None else ""
        if self.wrote and (held or self.last != "\n"):
            self.app.stdout.write(held + "\n")
            self.app.stdout.flush()


class _MarkdownSink(_Sink):
    """Live markdown: the document is re-rendered a few times a second, not per token."""

    def __init__(self, app: AppContext, show_reasoning: bool) -> None:
        super().__init__(app, show_reasoning)
        self.live: Live | None = None
        self.echo_off: EchoOff | None = None
        self.doc = _LiveMarkdown()

    def text(self, text: str) -> None:
        if self.live is None:
            self.end_reasoning()
            self.live = self._start()
        self.doc.text += text

    def _start(self) -> Live:
        from rich.console import Console
        from rich.live import Live

        from qwen_cli.tty_echo import EchoOff

        self.echo_off = EchoOff(self.app.stdin).__enter__()

        colour = self.app.color_for(self.app.stdout)
        console = Console(file=self.app.stdout, no_color=not colour, highlight=False, soft_wrap=False)
        live = Live(
            self.doc,
            console=console,
            refresh_per_second=8,
            transient=False,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        live.start()
        return live

    def close(self, answer: Answer) -> None:
        super().close(answer)
        try:
            if self.live is not None:
                self.live.stop()
                self.live = None
        finally:
            if self.echo_off is not None:
                self.echo_off.__exit__(None, None, None)
                self.echo_off = None


class _LiveMarkdown:
    def __init__(self) -> None:
        self.text = ""

    def __rich__(self) -> Markdown:
        from rich.markdown import Markdown

        # hyperlinks=False: a link shows its target, so an answer can't hide where a click goes.
        return Markdown(termsafe.clean(self.text), hyperlinks=False)


class _ProgressSink(_Sink):
    """Nothing on stdout (the caller prints the answer once it is checked, as `ask --schema` does); on a
    terminal, a count of what has arrived on stderr, erased at the end."""

    def __init__(self, app: AppContext, show_reasoning: bool) -> None:
        super().__init__(app, show_reasoning)
        self.live = app.stderr_isatty and app.env.get("TERM") != "dumb"
        self.chars = 0
        self.drawn = 0.0

    def text(self, text: str) -> None:
        self.end_reasoning()
        self.chars += len(text)
        if self.live and time.monotonic() - self.drawn > 0.1:
            self.drawn = time.monotonic()
            self.app.stderr.write(f"\rreceiving the answer: {self.chars:,} characters")
            self.app.stderr.flush()

    def close(self, answer: Answer) -> None:
        super().close(answer)
        if self.live and self.drawn:
            self.app.stderr.write("\r\x1b[K")
            self.app.stderr.flush()


class _JsonSink(_Sink):
    def text(self, text: str) -> None:
        pass

    def reasoning(self, text: str) -> None:
        pass

    def close(self, answer: Answer) -> None:
        if answer.error is None:
            _write_line(self.app.stdout, answer.result(self.show_reasoning))


class _StreamJsonSink(_Sink):
    def text(self, text: str) -> None:
        _write_line(self.app.stdout, {"type": "delta", "text": text})

    def reasoning(self, text: str) -> None:
        if self.show_reasoning:
            _write_line(self.app.stdout, {"type": "reasoning", "text": text})

    def close(self, answer: Answer) -> None:
        if answer.error is None:
            _write_line(self.app.stdout, {"type": "result", **answer.result(self.show_reasoning)})


def _write_line(stream: IO[str], payload: dict[str, Any]) -> None:
    write_json(stream, payload, pretty=False)
