"""One voice on the terminal: the same event says the same words in `ask` and `chat`, and every kind of
line (answer, info, notice, warning, error, prompt) is redacted and made terminal-safe, whoever wrote it."""

from __future__ import annotations

import io
import json
import re

import pytest

from qwen_cli.context import AppContext
from qwen_cli.errors import RequestError
from tests.helpers import run_qwen
from tests.security import hostile_api as hostile
from tests.security.terminal import violations
from tests.servers.openai_stub import error, stream_reply

CANARY = "gsk_CANARYvoice0123456789abcdef"  # not sk-shaped: only app.secrets can hide it
MASKED = "gsk…cdef"
SHOWN_ATTACK = "␛]52;c;cm0gLXJmIH4K␇"  # hostile.OSC52 as qwen shows it


@pytest.fixture
def env(openai_server):
    return {"OPENAI_API_KEY": "sk-test-key", "OPENAI_BASE_URL": openai_server.url, "OPENAI_MODEL": "test-model"}


def _about(stderr: str, word: str) -> list[str]:
    return [line for line in stderr.splitlines() if word in line]


# -- the same event, the same words -------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["length", "content_filter"])
def test_an_answer_stopped_early_is_the_same_warning_in_ask_and_chat(openai_server, env, reason):
    openai_server.script(*(stream_reply(["partial"], finish_reason=reason) for _ in range(2)))
    asked = run_qwen(["ask", "hi"], env=env)
    chatted = run_qwen(["chat"], input="hi\n", env=env)
    assert asked.exit_code == chatted.exit_code == 0, asked.stderr + chatted.stderr
    assert asked.stdout == chatted.stdout == "partial\n"
    said = _about(asked.stderr, f"finish_reason={reason}")
    assert len(said) == 1 and said[0].startswith("Warning: "), asked.stderr
    assert _about(chatted.stderr, f"finish_reason={reason}") == said


def test_dropped_turns_are_the_same_notice_in_chat_and_ask_continue(openai_server, env):
    openai_server.script(*(stream_reply(["x" * 80]) for _ in range(4)))
    env = dict(env, QWEN_CHAT_MAX_CONTEXT_CHARS="200")
    chatted = run_qwen(["chat"], input="q1 " + "a" * 40 + "\nq2\nq3\n", env=env)
    asked = run_qwen(["ask", "-c", "q4"], env=env)
    assert chatted.exit_code == asked.exit_code == 0, chatted.stderr + asked.stderr
    in_chat, in_ask = _about(chatted.stderr, "dropped the oldest"), _about(asked.stderr, "dropped the oldest")
    assert len(in_chat) == len(in_ask) == 1, chatted.stderr + asked.stderr
    assert in_chat[0].startswith("Notice: dropped the oldest ")

    def words(line):
        return re.sub(r"\d+ turns?", "N turns", line)

    assert words(in_chat[0]) == words(in_ask[0])


# -- every kind is redacted and cleaned ----------------------------------------------------------------


def _clean_and_redacted(text: str) -> None:
    assert CANARY not in text
    assert not violations(text), violations(text)


def _hostile(openai_server, env):
    openai_server.accept_tokens.add(CANARY)
    return dict(env, OPENAI_API_KEY=CANARY)


def test_an_error_line_from_the_server_is_redacted_and_cleaned(openai_server, env):
    openai_server.script(error(400, {"error": {"message": f"bad key {CANARY} " + hostile.ATTACK}}))
    result = run_qwen(["ask", "hi"], env=_hostile(openai_server, env))
    assert result.exit_code == 4
    [line] = _about(result.stderr, "bad key")
    assert line.startswith("Error: ") and MASKED in line and SHOWN_ATTACK in line
    _clean_and_redacted(result.stdout + result.stderr)


def test_a_warning_from_the_server_is_redacted_and_cleaned(openai_server, env):
    openai_server.models_response = error(500, {"error": {"message": f"no list for {CANARY} " + hostile.ATTACK}})
    result = run_qwen(["chat"], input="/model\n", env=_hostile(openai_server, env))
    assert result.exit_code == 0, result.stderr
    [line] = _about(result.stderr, "Could not list models")
    assert line.startswith("Warning: ") and MASKED in line and SHOWN_ATTACK in line
    _clean_and_redacted(result.stdout + result.stderr)


def test_info_lines_from_the_server_are_redacted_and_cleaned(openai_server, env):
    openai_server.models = ["test-model", f"leak-{CANARY}", "evil" + hostile.OSC52 + "model"]
    result = run_qwen(["chat"], input="/model\n", env=_hostile(openai_server, env))
    assert result.exit_code == 0, result.stderr
    assert f"  leak-{MASKED}" in result.stderr.splitlines()
    assert f"  evil{SHOWN_ATTACK}model" in result.stderr.splitlines()
    _clean_and_redacted(result.stdout + result.stderr)


def test_a_notice_quoting_a_session_file_is_redacted_and_cleaned(openai_server, env, isolated):
    hostile_env = _hostile(openai_server, env)
    assert run_qwen(["chat"], input="hi\n", env=hostile_env).exit_code == 0
    [path] = (isolated.qwen_home / "sessions").glob("*.jsonl")
    provider = f"evil{hostile.OSC52}{CANARY}"
    with path.open("a") as fh:  # a session file someone else wrote to
        fh.write(json.dumps({"type": "auth", "method": "api-key", "provider": provider, "model": "m"}) + "\n")
    result = run_qwen(["chat", "--continue"], input="again\n", env=hostile_env)
    assert result.exit_code == 0, result.stderr
    [line] = _about(result.stderr, "not configured now")
    assert line.startswith("Notice: ") and f"evil{SHOWN_ATTACK}{MASKED}" in line
    _clean_and_redacted(result.stdout + result.stderr)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_each_kind_has_one_prefix_and_colour_and_none_lets_a_secret_or_an_escape_through():
    stdout, stderr = _Terminal(), _Terminal()
    app = AppContext(stdout=stdout, stderr=stderr, env={"TERM": "xterm"}, secrets=[CANARY])
    text = f"said {CANARY} " + hostile.ATTACK
    out = app.out
    out.answer(text)
    out.info(text)
    out.notice(text)
    out.warn(text)
    out.error(RequestError(text, hint=text))
    out.prompt(text)
    shown = f"said {MASKED} "
    assert stdout.getvalue().startswith(shown) and stdout.getvalue().count("\n") == 1
    lines = stderr.getvalue().split("\n")
    assert lines[0].startswith(shown)  # info: no prefix, no colour
    assert lines[1].startswith("\x1b[2mNotice: \x1b[0m" + shown)
    assert lines[2].startswith("\x1b[33mWarning: \x1b[0m" + shown)
    assert lines[3].startswith("\x1b[31mError: \x1b[0m" + shown)
    assert lines[4].startswith("\x1b[2mHint: \x1b[0m" + shown)
    assert lines[5].startswith(shown) and len(lines) == 6  # the prompt: no newline after it
    for written in (stdout.getvalue(), stderr.getvalue()):
        _clean_and_redacted(written)
        assert SHOWN_ATTACK in written
