"""Choosing a protocol: the Anthropic and Gemini variables select their provider with no login (in Qwen Code's
getAuthTypeFromEnv order, after the OpenAI ones), a project's .env cannot route a key through them, `auth
status` shows the protocol, and `--provider custom --protocol` logs in to a gateway speaking either. Keys never
appear in any output."""

from __future__ import annotations

import json

import pytest

from tests.helpers import invoke, run_qwen
from tests.security.recorder import Recorder

CANARY_ANT = "sk-ant-CANARY-7e1c0b"
CANARY_GEM = "gm-CANARY-93fa1d"


@pytest.fixture
def ant(anthropic_server):
    anthropic_server.accept_tokens = {CANARY_ANT}
    return anthropic_server


@pytest.fixture
def gem(gemini_server):
    gemini_server.accept_tokens = {CANARY_GEM}
    return gemini_server


@pytest.fixture
def recorder():
    rec = Recorder().start()
    yield rec
    rec.stop()


def anthropic_env(server) -> dict:
    return {"ANTHROPIC_API_KEY": CANARY_ANT, "ANTHROPIC_MODEL": "claude-test", "ANTHROPIC_BASE_URL": server.url}


def gemini_env(isolated, server) -> dict:
    """GEMINI_API_KEY + GEMINI_MODEL; the loopback URL from the user's own config (Gemini has no URL variable)."""
    isolated.qwen_home.mkdir(parents=True, exist_ok=True)
    (isolated.qwen_home / "config.toml").write_text(f'[providers.gemini]\nbase_url = "{server.url}"\n')
    return {"GEMINI_API_KEY": CANARY_GEM, "GEMINI_MODEL": "gemini-test"}


def no_secret(result) -> None:
    for secret in (CANARY_ANT, CANARY_GEM):
        assert secret not in result.stdout and secret not in result.stderr
    assert "Traceback" not in result.stderr


def test_the_anthropic_variables_work_with_no_login(ant):
    result = invoke(["ask", "hi"], env=anthropic_env(ant))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "Hello from claude\n"
    (req,) = ant.chat_requests
    assert req.bearer == CANARY_ANT and req.json["model"] == "claude-test"
    assert req.json["max_tokens"] == 8192  # the catalogue entry's, as the Messages API requires one
    no_secret(result)


def test_the_gemini_variables_work_with_no_login(isolated, gem):
    result = invoke(["ask", "hi"], env=gemini_env(isolated, gem))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "Hello from gemini\n"
    assert gem.chat_requests[0].headers["x-goog-api-key"] == CANARY_GEM
    no_secret(result)


def test_a_variable_of_a_row_missing_selects_nothing(isolated, ant):
    env = anthropic_env(ant)
    del env["ANTHROPIC_BASE_URL"]  # Qwen Code needs all three too
    result = invoke(["ask", "hi"], env=env)
    assert result.exit_code == 3 and ant.requests == []


def test_the_order_is_openai_then_gemini_then_anthropic(isolated, openai_server, gem, ant):
    both = {**gemini_env(isolated, gem), **anthropic_env(ant)}
    assert invoke(["ask", "hi"], env=both).stdout == "Hello from gemini\n"
    openai = {"OPENAI_API_KEY": "sk-test-key", "OPENAI_BASE_URL": openai_server.url, "OPENAI_MODEL": "test-model"}
    assert invoke(["ask", "hi"], env={**both, **openai}).stdout == "Hello from stub\n"
    assert ant.requests == []


@pytest.mark.parametrize("fmt", ["json", "stream-json"])
def test_json_outputs_are_the_same_on_every_protocol(isolated, ant, gem, fmt):
    for env in (anthropic_env(ant), gemini_env(isolated, gem)):
        result = invoke(["ask", "-o", fmt, "--usage", "hi"], env=env)
        assert result.exit_code == 0, result.stderr
        lines = [json.loads(line) for line in result.stdout.splitlines()]
        final = lines[-1]
        assert final["finish_reason"] == "stop" and final["usage"]["completion_tokens"] == 3
        if fmt == "json":
            assert final["content"].startswith("Hello from ")
        else:
            assert [line["text"] for line in lines[:-1]][:1] == ["Hello"]
        no_secret(result)


def test_no_stream_works_on_both(isolated, ant, gem):
    assert invoke(["ask", "--no-stream", "hi"], env=anthropic_env(ant)).stdout == "Hello from claude\n"
    assert invoke(["ask", "--no-stream", "hi"], env=gemini_env(isolated, gem)).stdout == "Hello from gemini\n"


def test_seed_on_anthropic_is_refused_in_one_line(ant):
    result = invoke(["ask", "--seed", "3", "hi"], env=anthropic_env(ant))
    assert result.exit_code == 2 and ant.requests == []
    assert result.stderr.splitlines()[0] == "Error: the Anthropic Messages API has no seed option"


def test_options_reach_each_api_in_its_own_fields(isolated, ant, gem):
    args = ["ask", "-s", "terse", "--temperature", "0.3", "--top-p", "0.5", "--max-tokens", "9", "--stop", "X", "hi"]
    assert invoke(args, env=anthropic_env(ant)).exit_code == 0
    sent = ant.chat_requests[0].json
    assert (sent["system"], sent["temperature"], sent["top_p"], sent["max_tokens"], sent["stop_sequences"]) == (
        "terse",
        0.3,
        0.5,
        9,
        ["X"],
    )
    assert invoke([*args[:-1], "--seed", "4", "hi"], env=gemini_env(isolated, gem)).exit_code == 0
    sent = gem.chat_requests[0].json
    assert sent["systemInstruction"] == {"parts": [{"text": "terse"}]}
    assert sent["generationConfig"] == {
        "temperature": 0.3,
        "topP": 0.5,
        "maxOutputTokens": 9,
        "seed": 4,
        "stopSequences": ["X"],
    }


def test_auth_status_shows_the_protocol(isolated, ant):
    text = invoke(["auth", "status"], env=anthropic_env(ant))
    assert any(line.split() == ["protocol", "anthropic"] for line in (text.stdout + text.stderr).splitlines())
    data = json.loads(invoke(["auth", "status", "--json"], env=anthropic_env(ant)).stdout)
    (row,) = [row for row in data["methods"] if row["provider"] == "anthropic"]
    assert row["protocol"] == "anthropic" and row["active"] is True
    no_secret(text)


def test_a_project_env_cannot_point_the_anthropic_key_elsewhere(isolated, ant, recorder):
    """The shell has the key and model; a cloned repo's .env adds ANTHROPIC_BASE_URL: refused, nothing sent."""
    (isolated.work / ".env").write_text(f"ANTHROPIC_BASE_URL={recorder.url}\n")
    env = {"ANTHROPIC_API_KEY": CANARY_ANT, "ANTHROPIC_MODEL": "claude-test"}
    result = run_qwen(["ask", "hi"], env=env)
    assert result.exit_code == 8, result.output
    assert not recorder.contacted
    error = next(line for line in result.stderr.splitlines() if line.startswith("Error:"))
    assert "ANTHROPIC_BASE_URL" in error and "ANTHROPIC_API_KEY from the environment" in error
    no_secret(result)


def test_a_stored_anthropic_key_never_follows_a_project_url(isolated, ant, recorder):
    stored = run_qwen(["auth", "login", "--provider", "anthropic", "--key-stdin"], input=CANARY_ANT + "\n")
    assert stored.exit_code == 0, stored.output
    (isolated.work / ".env").write_text(f"ANTHROPIC_BASE_URL={recorder.url}\nANTHROPIC_MODEL=claude-test\n")
    result = run_qwen(["ask", "hi"])
    assert result.exit_code == 8, result.output
    assert not recorder.contacted
    no_secret(result)


@pytest.mark.parametrize("protocol", ["anthropic", "gemini"])
def test_custom_login_with_a_protocol(isolated, ant, gem, protocol):
    server, key, model = (
        (ant, CANARY_ANT, "claude-test") if protocol == "anthropic" else (gem, CANARY_GEM, "gemini-test")
    )
    login = invoke(
        [
            "auth",
            "login",
            "--provider",
            "custom",
            "--protocol",
            protocol,
            "--base-url",
            server.url,
            "--model",
            model,
            "--key-stdin",
            "--verify",
        ],
        input=key + "\n",
    )
    assert login.exit_code == 0, login.stderr
    result = invoke(["ask", "hi"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Hello from ")
    assert len(server.chat_requests) == 1
    status = json.loads(invoke(["auth", "status", "--json"]).stdout)
    assert any(row.get("protocol") == protocol for row in status["methods"]), status
    no_secret(login)
    no_secret(result)


def test_protocol_is_only_for_the_custom_provider():
    result = invoke(["auth", "login", "--provider", "openai", "--protocol", "gemini", "--key-stdin"], input="k\n")
    assert result.exit_code == 2
    assert "--protocol does not apply to OpenAI" in result.stderr


def test_chat_in_a_pipe_carries_the_conversation_on_both(isolated, ant, gem):
    from tests.servers.anthropic_stub import message_stream
    from tests.servers.gemini_stub import gemini_stream

    ant.script(message_stream(["Hi"]), message_stream(["Then"]))
    result = run_qwen(["chat"], input="hi\nand then?\n", env=anthropic_env(ant))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "Hi\nThen\n"
    assert ant.chat_requests[1].json["messages"] == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "Hi"},
        {"role": "user", "content": "and then?"},
    ]
    gem.script(gemini_stream(["Hi"]), gemini_stream(["Then"]))
    result = run_qwen(["chat"], input="hi\nand then?\n", env=gemini_env(isolated, gem))
    assert result.exit_code == 0 and result.stdout == "Hi\nThen\n", result.stderr
    assert [c["role"] for c in gem.chat_requests[1].json["contents"]] == ["user", "model", "user"]
    no_secret(result)


def test_debug_traces_mask_both_key_headers(isolated, ant, gem):
    for env in (anthropic_env(ant), gemini_env(isolated, gem)):
        result = run_qwen(["--debug", "ask", "hi"], env=env)
        assert result.exit_code == 0, result.stderr
        assert "anthropic-version: 2023-06-01" in result.stderr or "x-goog-api-key" in result.stderr.lower()
        no_secret(result)
