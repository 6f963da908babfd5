"""A hostile server can't drive the terminal: its control sequences are made visible on a terminal, its
answer passes byte for byte into a pipe, stderr is always filtered, and JSON stays escaped."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess

import pytest

from qwen_cli import termsafe
from qwen_cli.context import AppContext
from qwen_cli.debuglog import RedactingFormatter
from tests.helpers import qwen_command, run_qwen
from tests.security import hostile_api as hostile
from tests.security.terminal import env_for, finish, spawn, violations
from tests.servers.openai_stub import error

SHOWN = termsafe.clean(hostile.ANSWER).rstrip("\n")


def _safe(text: str) -> None:
    assert not violations(text), violations(text)


def _env(openai_server) -> dict:
    return dict(os.environ, OPENAI_API_KEY="sk-test-key", OPENAI_BASE_URL=openai_server.url, OPENAI_MODEL="test-model")


# -- the filter itself -------------------------------------------------------------------------------


def test_every_control_character_but_newline_and_tab_is_made_visible():
    every = "".join(chr(c) for c in range(0xA0))
    shown = termsafe.clean(every)
    assert [c for c in shown if ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0] == ["\t", "\n"]
    assert termsafe.clean("a\x1b]52;c;eA==\x07b") == "a␛]52;c;eA==␇b"
    assert termsafe.clean("\x9b2J \x9d0;t\x9c") == "␛[2J ␛]0;t␛\\"
    assert termsafe.clean("one\r\ntwo\rthree\x7f") == "one\ntwo␍three␡"
    assert termsafe.clean("plain text, ünïcödé, 中文\tand tabs\n") == "plain text, ünïcödé, 中文\tand tabs\n"


def test_a_sequence_split_across_streamed_tokens_is_still_neutralised():
    stream = termsafe.Stream()
    shown = "".join(stream.feed(t) for t in hostile.ANSWER_TOKENS) + stream.flush()
    assert shown == termsafe.clean(hostile.ANSWER)
    assert "\x1b" not in shown and "end\n" in shown  # "end\r" + "\n" is one newline, not ␍
    stream.feed("held\r")
    assert stream.flush() == "␍"


def test_json_text_escapes_del_and_c1_as_well():
    encoded = termsafe.json_text(json.dumps(hostile.ANSWER, ensure_ascii=False))
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in encoded)
    assert json.loads(encoded) == hostile.ANSWER


# -- qwen ask on a terminal --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [[], ["--raw"]], ids=["markdown", "raw"])
def test_ask_on_a_terminal_shows_the_attack_and_runs_none_of_it(openai_server, mode):
    hostile.make_hostile(openai_server)
    out = finish(spawn(["ask", *mode, "--show-reasoning", "hi"], env_for(openai_server)))
    _safe(out)
    assert "␛]52;c;cm0gLXJmIH4K␇" in out and "AAAA␍BBBB" in out and "xy␡z" in out and "␛[?25l" in out
    assert "␛]8;;https://evil.example/x␛\\innocent" in out
    assert "thinking ␛]52;c;" in out  # the reasoning, on stderr
    if mode:
        assert SHOWN in out.replace("\r\n", "\n")  # --raw: exactly the filtered text
        assert "\x1b[?25l" not in out
    else:
        assert out.rfind("\x1b[?25h") > out.rfind("\x1b[?25l")  # rich's own hide, undone at the end


def test_ask_error_on_a_terminal_is_one_safe_line(openai_server):
    openai_server.script(hostile.hostile_error())
    child = spawn(["ask", "hi"], env_for(openai_server))
    out = finish(child)
    assert child.exitstatus == 4
    _safe(out)
    [line] = [x for x in out.splitlines() if "Error:" in x]
    assert "bad request ␛]52;c;" in line and "AAAA BBBB" in line  # one line: CR is whitespace there


def test_markdown_links_show_their_target(openai_server):
    openai_server.script(hostile.stream_reply(["see [the docs](https://evil.example/steal?d=secret) now"]))
    out = finish(spawn(["ask", "hi"], env_for(openai_server)))
    _safe(out)
    assert "https://evil.example/steal?d=secret" in out
    assert "\x1b]8;" not in out


# -- in a pipe: the answer byte for byte, stderr still filtered ----------------------------------------


@pytest.mark.parametrize("mode", [[], ["--raw"]], ids=["default", "raw"])
def test_ask_in_a_pipe_passes_the_answer_unchanged_and_filters_stderr(openai_server, mode):
    hostile.make_hostile(openai_server)
    proc = subprocess.run(
        [*qwen_command(), "ask", *mode, "--show-reasoning", "hi"],
        capture_output=True,
        env=_env(openai_server),
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == hostile.ANSWER.encode()
    err = proc.stderr.decode()
    _safe(err)
    assert "thinking ␛]52;c;" in err


def test_ask_error_in_a_pipe_is_filtered(openai_server):
    openai_server.script(
        hostile.stream_reply(["partial \x1b]0;t\x07 "], error_after=1, error_message=hostile.ERROR_MESSAGE)
    )
    result = run_qwen(["ask", "hi"], env=_env(openai_server))
    assert result.exit_code == 5
    assert result.stdout == "partial \x1b]0;t\x07 \n"  # what arrived before the error, unchanged
    _safe(result.stderr)
    assert result.stderr.startswith("Error: the server reported an error mid-stream: bad request ␛]52;c;")


def test_model_ids_in_an_error_hint_are_filtered(openai_server):
    hostile.make_hostile(openai_server)
    openai_server.clear_script()
    openai_server.script(error(404, {"error": {"message": "The model does not exist", "code": "model_not_found"}}))
    result = run_qwen(["ask", "-m", "nope", "hi"], env=_env(openai_server))
    assert result.exit_code == 4, result.stderr
    _safe(result.stderr)
    assert "Hint: Available models: " in result.stderr and "evil␛]52;c;cm0gLXJmIH4K␇model" in result.stderr


def test_verification_detail_in_auth_status_is_filtered(openai_server):
    openai_server.models_response = error(401, {"error": {"message": "denied " + hostile.ATTACK}})
    result = run_qwen(["auth", "status", "--verify"], env=_env(openai_server))
    _safe(result.stdout)
    _safe(result.stderr)
    assert "denied ␛]52;c;" in result.stdout and "denied ␛]52;c;" in result.stderr


# -- json keeps escaping -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "stream-json"])
def test_json_output_escapes_every_control_character(openai_server, fmt):
    hostile.make_hostile(openai_server)
    result = run_qwen(["ask", "-o", fmt, "--show-reasoning", "hi"], env=_env(openai_server))
    assert result.exit_code == 0, result.stderr
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in result.stdout.replace("\n", ""))
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    content = lines[-1]["content"]
    assert content == hostile.ANSWER
    if fmt == "stream-json":
        assert "".join(x["text"] for x in lines if x["type"] == "delta") == hostile.ANSWER


def test_json_error_object_is_escaped_and_exact(openai_server):
    openai_server.script(hostile.hostile_error())
    result = run_qwen(["ask", "-o", "json", "hi"], env=_env(openai_server))
    assert result.exit_code == 4
    assert "\x1b" not in result.stdout and "\x9b" not in result.stdout and "\\u001b]52" in result.stdout
    assert json.loads(result.stdout)["error"]["message"].endswith(" ".join(hostile.ERROR_MESSAGE.split()))
    _safe(result.stderr)


# -- qwen chat ---------------------------------------------------------------------------------------


def test_chat_on_a_terminal_answers_and_model_list_are_filtered(openai_server):
    hostile.make_hostile(openai_server)
    child = spawn(["chat"], env_for(openai_server))
    child.expect_exact(b"> ")
    child.sendline(b"hi")
    child.expect_exact("xy␡z".encode())
    child.expect_exact(b"> ")
    child.sendline(b"/model")
    child.expect_exact(b"Pick a number or a name")
    child.sendline(b"")
    child.expect_exact(b"> ")
    child.sendline(b"/exit")
    out = finish(child)
    assert child.exitstatus == 0
    _safe(out)
    assert "␛]52;c;cm0gLXJmIH4K␇" in out and "AAAA␍BBBB" in out
    assert "evil␛]52;c;cm0gLXJmIH4K␇model" in out  # the /model list
    assert out.rfind("\x1b[?25h") > out.rfind("\x1b[?25l")


def test_chat_plain_answers_on_a_terminal_are_filtered(openai_server):
    """stdin from a pipe (plain answers), stdout on the terminal."""
    hostile.make_hostile(openai_server)
    command = ["bash", "-c", 'printf "hi\\n" | "$@"', "bash", *qwen_command(), "chat"]
    child = spawn([], env_for(openai_server), command=command)
    out = finish(child)
    assert child.exitstatus == 0
    _safe(out)
    assert SHOWN in out.replace("\r\n", "\n")


def test_chat_in_a_pipe_passes_the_answer_unchanged(openai_server):
    hostile.make_hostile(openai_server)
    proc = subprocess.run(
        [*qwen_command(), "chat"], input=b"hi\n", capture_output=True, env=_env(openai_server), timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == hostile.ANSWER.encode()
    _safe(proc.stderr.decode())


# -- the device login --------------------------------------------------------------------------------


@pytest.fixture
def hostile_oauth(openai_server):
    stub = hostile.HostileOAuth()
    stub.resource_url = openai_server.url
    stub.on_token_issued = openai_server.accept_tokens.add
    stub.start()
    try:
        yield stub
    finally:
        stub.stop()


def test_device_code_and_verification_uri_are_filtered(hostile_oauth):
    hostile_oauth.URI_TAIL = ""  # a verification URI with control characters is refused before it is shown (below)
    child = spawn(["auth", "login", "--method", "qwen-oauth"], env_for(QWEN_OAUTH_BASE_URL=hostile_oauth.base_url))
    child.expect_exact(b"Waiting for approval")
    hostile_oauth.approve()
    child.expect_exact(b"Logged in: Qwen OAuth")
    out = finish(child)
    assert child.exitstatus == 0, out
    _safe(out)
    assert "␛]0;owned title␇␛[2J␛[H" in out  # the user code's tail
    assert "\x1b]8;;" + hostile_oauth.base_url in out  # qwen's own link


def test_a_verification_uri_with_control_characters_is_refused_with_a_safe_error(hostile_oauth):
    child = spawn(["auth", "login", "--method", "qwen-oauth"], env_for(QWEN_OAUTH_BASE_URL=hostile_oauth.base_url))
    out = finish(child)
    assert child.exitstatus == 3, out
    _safe(out)
    assert "may not be shown or opened: it contains spaces or control characters" in out
    assert "Waiting for approval" not in out and hostile_oauth.poll_requests == 0


def test_debug_output_and_warnings_are_filtered(openai_server):
    openai_server.script(hostile.hostile_error())
    result = run_qwen(["--debug", "ask", "hi"], env=_env(openai_server))
    assert result.exit_code == 4
    assert "Traceback" in result.stderr and "bad request ␛]52;c;" in result.stderr  # --debug's traceback
    _safe(result.stderr)
    stderr = io.StringIO()
    AppContext(stderr=stderr, env={}).warn("the provider said " + hostile.ATTACK)
    _safe(stderr.getvalue())
    record = logging.LogRecord("qwen_cli.http", logging.DEBUG, __file__, 1, "GET %s", (hostile.ATTACK,), None)
    _safe(RedactingFormatter(AppContext(env={})).format(record))


def test_terms_and_the_session_list_are_filtered(openai_server):
    """Both print text from settings or session files, which a project or an earlier answer may have set."""
    settings = {"QWEN_AUTH_METHOD": "api-key", "QWEN_AUTH_PROVIDER": "evil" + hostile.OSC0}
    result = run_qwen(["terms", "show"], env=settings)
    assert result.exit_code == 0, result.stderr
    assert "evil␛]0;owned title␇ (not in the catalogue)" in result.stdout
    _safe(result.stdout)
    flagged = run_qwen(["terms", "show", "--provider", "evil" + hostile.OSC0])  # on the line: not in the catalogue
    assert flagged.exit_code == 2 and "unknown provider" in flagged.stderr
    _safe(flagged.stderr)
    assert run_qwen(["chat"], input="first " + hostile.OSC52 + "\n", env=_env(openai_server)).exit_code == 0
    listed = run_qwen(["chat", "--list"])
    assert "first ␛]52;c;" in listed.stdout
    _safe(listed.stdout)


# -- local files are data too ------------------------------------------------------------------------------


def test_config_show_and_path_make_a_cloned_projects_control_sequences_visible(isolated):
    project = isolated.work / ".qwen"
    project.mkdir()
    (project / "config.toml").write_text('general.model = "x\\u001b]0;pwned\\u0007y"\n')
    for args in (["config", "show"], ["config", "get", "general.model"], ["config", "path"]):
        result = run_qwen(args)
        assert result.exit_code == 0, result.stderr
        _safe(result.stdout)
        _safe(result.stderr)
    assert "x␛]0;pwned␇y" in run_qwen(["config", "show"]).stdout
