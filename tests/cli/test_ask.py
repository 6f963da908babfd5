"""`qwen ask` in-process, through the real error boundary, against the loopback OpenAI stub."""

from __future__ import annotations

import json

import pytest

from qwen_cli.providers import http
from tests.helpers import invoke
from tests.servers.openai_stub import error, hang, json_reply, raw, stream_reply


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    monkeypatch.setattr(http, "BACKOFF_BASE", 0.01)


@pytest.fixture
def env(openai_server):
    return {"OPENAI_API_KEY": "sk-test-key", "OPENAI_BASE_URL": openai_server.url, "OPENAI_MODEL": "test-model"}


def ask(args, env, **kw):
    return invoke(["ask", *args], env=env, **kw)


def user_message(server) -> str:
    return server.chat_requests[-1].json["messages"][-1]["content"]


# -- input -----------------------------------------------------------------------------------------------


def test_prompt_from_arguments(openai_server, env):
    result = ask(["what", "is", "2+2?"], env)
    assert result.exit_code == 0 and result.stdout == "Hello from stub\n" and result.stderr == ""
    assert openai_server.chat_requests[-1].json["messages"] == [{"role": "user", "content": "what is 2+2?"}]


def test_piped_stdin_is_added_after_the_prompt(openai_server, env):
    ask(["summarise"], env, input="line one\nline two\n")
    assert user_message(openai_server) == "summarise\n\nline one\nline two"


def test_stdin_alone_is_the_prompt(openai_server, env):
    ask([], env, input="just stdin\n")
    assert user_message(openai_server) == "just stdin"


@pytest.mark.parametrize("stdin", ["", "  \n\n"])
def test_empty_input_is_a_usage_error(openai_server, env, stdin):
    result = ask([], env, input=stdin)
    assert result.exit_code == 2 and "nothing to ask" in result.stderr
    assert openai_server.chat_requests == []


def test_empty_input_in_json_mode_prints_an_error_object(openai_server, env):
    result = ask(["-o", "json"], env, input="")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["exit_code"] == 2


def test_files_are_attached_with_their_names(openai_server, env, isolated):
    (isolated.work / "a.py").write_text("print('a')\n")
    (isolated.work / "notes.md").write_text("has ``` fences\n")
    ask(["-f", "a.py", "--file", "notes.md", "review"], env)
    content = user_message(openai_server)
    assert content.startswith("review\n\nFile: a.py\n```\nprint('a')\n```")
    assert "File: notes.md\n````\nhas ``` fences\n````" in content


def test_missing_file_is_a_usage_error(openai_server, env):
    result = ask(["-f", "nope.txt", "q"], env)
    assert result.exit_code == 2 and "nope.txt: no such file" in result.stderr


def test_non_utf8_file_is_decoded_with_a_warning(openai_server, env, isolated):
    (isolated.work / "latin1.txt").write_bytes("café".encode("latin-1"))
    result = ask(["-f", "latin1.txt", "q"], env)
    assert result.exit_code == 0
    assert "latin1.txt is not valid UTF-8" in result.stderr
    assert "caf\ufffd" in user_message(openai_server)


def test_system_prompt_and_sampling_options(openai_server, env):
    ask(
        [
            "-s",
            "be brief",
            "-m",
            "other-model",
            "--temperature",
            "0.3",
            "--top-p",
            "0.5",
            "--max-tokens",
            "9",
            "--seed",
            "4",
            "q",
        ],
        env,
    )
    body = openai_server.chat_requests[-1].json
    assert body["messages"][0] == {"role": "system", "content": "be brief"}
    assert (body["model"], body["temperature"], body["top_p"], body["max_tokens"], body["seed"]) == (
        "other-model",
        0.3,
        0.5,
        9,
        4,
    )


@pytest.mark.parametrize("args", [["--temperature", "5"], ["--top-p", "2"], ["--max-tokens", "0"]])
def test_out_of_range_options_are_usage_errors(openai_server, env, args):
    result = ask([*args, "q"], env)
    assert result.exit_code == 2 and openai_server.chat_requests == []


def test_dotenv_file_is_enough(openai_server, isolated):
    (isolated.work / ".env").write_text(
        f"OPENAI_API_KEY=sk-test-key\nOPENAI_BASE_URL={openai_server.url}\nOPENAI_MODEL=test-model\n"
    )
    result = invoke(["ask", "hi"])
    assert result.exit_code == 0 and result.stdout == "Hello from stub\n"


def test_no_credentials_is_exit_3():
    result = invoke(["ask", "hi"])
    assert result.exit_code == 3 and "Traceback" not in result.output


# -- output ----------------------------------------------------------------------------------------------


def test_no_stream(openai_server, env):
    openai_server.script(json_reply("all at once"))
    result = ask(["--no-stream", "q"], env)
    assert result.stdout == "all at once\n"
    assert openai_server.chat_requests[-1].json["stream"] is False


def test_answer_ending_in_newline_gets_no_extra_one(openai_server, env):
    openai_server.script(stream_reply(["line\n"]))
    assert ask(["q"], env).stdout == "line\n"


def test_usage_goes_to_stderr(openai_server, env):
    openai_server.script(stream_reply(["a", "b"], usage=(1200, 34, 1234)))
    result = ask(["--usage", "q"], env)
    assert result.stdout == "ab\n"
    assert "usage: 1,200 prompt + 34 completion = 1,234 tokens" in result.stderr


def test_usage_when_the_provider_sends_none(openai_server, env):
    openai_server.script(stream_reply(["a"], usage=None))
    assert "not reported" in ask(["--usage", "q"], env).stderr


def test_reasoning_is_hidden_by_default_and_on_stderr_when_asked(openai_server, env):
    openai_server.script(stream_reply(["answer"], reasoning=["deep ", "thought"]))
    hidden = ask(["q"], env)
    assert hidden.stdout == "answer\n" and "thought" not in hidden.output
    openai_server.script(stream_reply(["answer"], reasoning=["deep ", "thought"]))
    shown = ask(["--show-reasoning", "q"], env)
    assert shown.stdout == "answer\n" and "deep thought" in shown.stderr


def test_length_finish_warns_but_succeeds(openai_server, env):
    openai_server.script(stream_reply(["partial"], finish_reason="length"))
    result = ask(["q"], env)
    assert result.exit_code == 0 and "token limit" in result.stderr


def test_markdown_on_a_terminal(openai_server, env):
    openai_server.script(stream_reply(["# Title\n\n", "some **bold** ", "text\n"]))
    result = ask(["q"], env, tty=True)
    assert result.exit_code == 0
    assert "Title" in result.stdout and "bold" in result.stdout
    assert "**bold**" not in result.stdout and "# Title" not in result.stdout


def test_raw_keeps_markdown_source_on_a_terminal(openai_server, env):
    openai_server.script(stream_reply(["# Title\n\n", "some **bold** text"]))
    result = ask(["--raw", "q"], env, tty=True)
    assert result.stdout == "# Title\n\nsome **bold** text\n"


def test_spinner_on_a_terminal_stderr_is_erased(openai_server, env):
    # hidden reasoning first: the spinner keeps turning until the first answer token
    openai_server.script(stream_reply(["a", "b"], reasoning=["hmm"], delay=0.4))
    result = ask(["--raw", "q"], env, tty=True)
    assert result.stdout == "ab\n"
    assert "thinking" in result.stderr and result.stderr.endswith("\r\x1b[K")


def test_json_output(openai_server, env):
    openai_server.script(stream_reply(["4"], usage=(7, 1, 8)))
    result = ask(["-o", "json", "2+2"], env)
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["content"] == "4" and data["model"] == "test-model" and data["finish_reason"] == "stop"
    assert data["usage"] == {"prompt_tokens": 7, "completion_tokens": 1, "total_tokens": 8}
    assert isinstance(data["duration_ms"], int)


def test_json_output_with_null_usage(openai_server, env):
    openai_server.script(stream_reply(["4"], usage=None))
    assert json.loads(ask(["-o", "json", "q"], env).stdout)["usage"] is None


def test_stream_json_output(openai_server, env):
    openai_server.script(stream_reply(["a", "b"]))
    lines = [json.loads(line) for line in ask(["-o", "stream-json", "q"], env).stdout.splitlines()]
    assert lines[:2] == [{"type": "delta", "text": "a"}, {"type": "delta", "text": "b"}]
    assert lines[2]["type"] == "result" and lines[2]["content"] == "ab" and len(lines) == 3
    assert set(lines[2]) >= {"model", "finish_reason", "usage", "duration_ms"}


# -- every exit code, in every format --------------------------------------------------------------------

FAILURES = [
    ("auth", lambda s: error(401, {"error": {"message": "Invalid API key"}}), 3),
    ("request", lambda s: error(400, {"error": {"message": "bad request"}}), 4),
    ("server", lambda s: error(500, {"error": {"message": "boom"}}, times=9), 5),
    ("network", lambda s: stream_reply(["a", "b"], truncate_after=1), 6),
    ("rate_limit", lambda s: error(429, {"error": {"message": "slow"}}, {"Retry-After": "0"}, times=9), 7),
    ("quota", lambda s: error(429, {"error": {"message": "insufficient_quota"}}), 7),
]


@pytest.mark.parametrize("kind, reply, code", FAILURES, ids=[f[0] for f in FAILURES])
def test_failures_exit_non_zero_in_text_mode(openai_server, env, kind, reply, code):
    openai_server.script(reply(openai_server))
    result = ask(["q"], {**env, "QWEN_NETWORK_MAX_RETRIES": "1"})
    assert result.exit_code == code
    assert result.stderr.count("Error: ") == 1 and "Traceback" not in result.output


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_key_the_provider_echoes_in_its_error_is_masked(openai_server, fmt):
    # Not sk-shaped, so only the registered secret (app.secrets) can catch it.
    key = "gsk_live_CANARY_echoed_4321"
    openai_server.accept_tokens.add(key)
    openai_server.script(error(401, {"error": {"message": f"Invalid API key: {key}"}}))
    env = {"OPENAI_API_KEY": key, "OPENAI_BASE_URL": openai_server.url, "OPENAI_MODEL": "test-model"}
    result = ask(["-o", fmt, "q"], env)
    assert result.exit_code == 3
    assert key not in result.output
    assert "gsk…4321" in result.output


@pytest.mark.parametrize("fmt", ["json", "stream-json"])
@pytest.mark.parametrize("kind, reply, code", FAILURES, ids=[f[0] for f in FAILURES])
def test_failures_print_an_error_object_in_json_modes(openai_server, env, fmt, kind, reply, code):
    openai_server.script(reply(openai_server))
    result = ask(["-o", fmt, "q"], {**env, "QWEN_NETWORK_MAX_RETRIES": "1"})
    assert result.exit_code == code
    lines = result.stdout.splitlines()
    err = json.loads(lines[-1])["error"]
    assert err["type"] == kind and err["exit_code"] == code and err["message"]
    assert not any(json.loads(line).get("type") == "result" for line in lines)
    if fmt == "json":
        assert len(lines) == 1


def test_cut_stream_keeps_the_text_and_exits_6(openai_server, env):
    openai_server.script(stream_reply(["kept ", "text", " lost"], truncate_after=2))
    result = ask(["q"], env)
    assert result.exit_code == 6
    assert result.stdout == "kept text\n"
    assert "cut off" in result.stderr


def test_stream_json_cut_keeps_deltas_then_error(openai_server, env):
    openai_server.script(stream_reply(["a", "b"], truncate_after=1))
    lines = [json.loads(line) for line in ask(["-o", "stream-json", "q"], env).stdout.splitlines()]
    assert lines[0] == {"type": "delta", "text": "a"} and lines[-1]["error"]["exit_code"] == 6


def test_html_error_is_readable(openai_server, env):
    openai_server.script(error(404, "<html><title>404 Not Found</title></html>", {"Content-Type": "text/html"}))
    openai_server.models_response = error(404, "<html></html>", {"Content-Type": "text/html"})
    result = ask(["q"], env)
    assert result.exit_code == 4 and "HTTP 404: 404 Not Found" in result.stderr
    assert "JSONDecodeError" not in result.output


def test_unknown_model_lists_models(openai_server, env):
    openai_server.script(error(404, {"error": {"message": "model not found"}}))
    result = ask(["-m", "gpt-9", "q"], env)
    assert result.exit_code == 4 and "'gpt-9' was not found" in result.stderr and "other-model" in result.stderr


def test_http_key_to_remote_host_is_exit_8(env):
    result = ask(["q"], {**env, "OPENAI_BASE_URL": "http://api.example.com/v1"})
    assert result.exit_code == 8 and "plain http://" in result.stderr


def test_retry_notices_go_to_stderr(openai_server, env):
    openai_server.script(error(503, "busy", {"Retry-After": "0"}), stream_reply(["ok"]))
    result = ask(["q"], env)
    assert result.stdout == "ok\n" and "retrying" in result.stderr


def test_read_timeout_setting(openai_server, env):
    openai_server.script(hang(5))
    result = ask(["q"], {**env, "QWEN_NETWORK_READ_TIMEOUT": "0.3"})
    assert result.exit_code == 6 and "network.read_timeout" in result.stderr


def test_secret_never_appears_in_errors(openai_server, env):
    openai_server.script(error(400, {"error": {"message": "bad key sk-test-key in request"}}))
    result = ask(["-o", "json", "q"], env)
    assert "sk-test-key" not in result.output


def test_non_json_mid_stream_error_event(openai_server, env):
    openai_server.script(
        raw(200, ['event: error\ndata: {"message": "model overloaded"}\n\n'], {"Content-Type": "text/event-stream"})
    )
    result = ask(["q"], env)
    assert result.exit_code == 5 and "model overloaded" in result.stderr
