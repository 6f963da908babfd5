"""The shared answer renderer on hand-made event streams (the adapter is tested against real servers)."""

from __future__ import annotations

import io
import json

import pytest

from qwen_cli.context import AppContext
from qwen_cli.errors import NetworkError
from qwen_cli.output.answer import render_answer, usage_line
from qwen_cli.providers.events import Finish, ReasoningDelta, TextDelta, Usage


class Stream(io.StringIO):
    def __init__(self, tty=False):
        super().__init__()
        self.tty = tty

    def isatty(self):
        return self.tty


def app_for(tty=False, fmt="text") -> AppContext:
    return AppContext(
        stdin=Stream(),
        stdout=Stream(tty),
        stderr=Stream(tty),
        env={"NO_COLOR": "1", "COLUMNS": "80"},
        output_format=fmt,
    )


def events_then(exc, *events):
    yield from events
    raise exc


GOOD = [ReasoningDelta("why"), TextDelta("a"), TextDelta("b"), Usage(1, 2, 3), Finish("stop", "m")]


def test_plain_answer_collects_everything():
    app = app_for()
    answer = render_answer(app, iter(GOOD), model="fallback")
    assert app.stdout.getvalue() == "ab\n" and app.stderr.getvalue() == ""
    assert (answer.text, answer.reasoning, answer.usage, answer.finish_reason, answer.model) == (
        "ab",
        "why",
        Usage(1, 2, 3),
        "stop",
        "m",
    )
    assert not answer.cut and answer.error is None


@pytest.mark.parametrize("exc", [NetworkError("cut"), KeyboardInterrupt()])
def test_failure_mid_answer_is_returned_with_the_text_so_far(exc):
    app = app_for()
    answer = render_answer(app, events_then(exc, TextDelta("partial")))
    assert app.stdout.getvalue() == "partial\n"
    assert answer.cut and answer.error is exc and answer.text == "partial"
    with pytest.raises(type(exc)):
        answer.raise_if_cut()


def test_markdown_live_render_is_stopped_on_failure():
    app = app_for(tty=True)
    answer = render_answer(app, events_then(KeyboardInterrupt(), TextDelta("**bold** words")))
    out = app.stdout.getvalue()
    assert answer.cut and "bold" in out and "words" in out and "**" not in out
    assert out.endswith("\x1b[?25h")  # the cursor rich hid while live is shown again


def test_json_prints_nothing_on_failure():
    app = app_for(fmt="json")
    render_answer(app, events_then(NetworkError("cut"), TextDelta("x")))
    assert app.stdout.getvalue() == ""


def test_json_result_with_reasoning_when_asked():
    app = app_for(fmt="json")
    render_answer(app, iter(GOOD), show_reasoning=True)
    data = json.loads(app.stdout.getvalue())
    assert data["reasoning"] == "why" and data["content"] == "ab"


def test_stream_json_reasoning_lines_only_when_asked():
    app = app_for(fmt="stream-json")
    render_answer(app, iter(GOOD))
    assert [json.loads(line)["type"] for line in app.stdout.getvalue().splitlines()] == ["delta", "delta", "result"]
    app = app_for(fmt="stream-json")
    render_answer(app, iter(GOOD), show_reasoning=True)
    assert json.loads(app.stdout.getvalue().splitlines()[0]) == {"type": "reasoning", "text": "why"}


def test_broken_pipe_is_not_swallowed():
    class Closed(Stream):
        def write(self, text):
            raise BrokenPipeError

    app = app_for()
    app.stdout = Closed()
    with pytest.raises(BrokenPipeError):
        render_answer(app, iter(GOOD))


def test_usage_line():
    assert usage_line(Usage(1000, None, None)) == "usage: 1,000 prompt + ? completion = ? tokens"
    assert "not reported" in usage_line(None)
