"""`qwen ask --schema` as a real process against the loopback stub: what is asked for, what is printed."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from tests.helpers import qwen_command, run_qwen
from tests.servers.openai_stub import stream_reply

PERSON = "name, age int"


@pytest.fixture
def env(openai_server):
    return {"OPENAI_API_KEY": "sk-test-key", "OPENAI_BASE_URL": openai_server.url, "OPENAI_MODEL": "test-model"}


def ask(args, env, **kw):
    return run_qwen(["ask", *args], env=env, **kw)


def sent(server) -> dict:
    return server.chat_requests[-1].json


def test_a_valid_answer_is_one_line_of_compact_json(openai_server, env):
    openai_server.script(stream_reply(['{"name": "Ada",', ' "age": 36}']))
    result = ask(["--schema", PERSON, "who wrote the first program?"], env)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == '{"name":"Ada","age":36}\n' and result.stderr == ""


def test_without_catalogue_support_it_asks_for_json_mode_and_says_the_shape(openai_server, env):
    openai_server.script(stream_reply(['{"name": "Ada", "age": 36}']))
    ask(["-s", "Be exact.", "--schema", PERSON, "who"], env)
    body = sent(openai_server)
    assert body["response_format"] == {"type": "json_object"}
    system = body["messages"][0]
    assert system["role"] == "system" and system["content"].startswith("Be exact.\n\n")
    assert '"required":["name","age"]' in system["content"]  # the short form, expanded, in the instruction
    assert [m["role"] for m in body["messages"]] == ["system", "user"]


def test_with_json_schema_support_it_sends_response_format_json_schema(openai_server, env, isolated):
    isolated.qwen_home.mkdir(parents=True, exist_ok=True)
    (isolated.qwen_home / "config.toml").write_text('[models."test-model"]\njson_schema = true\n')
    openai_server.script(stream_reply(['{"name": "Ada", "age": 36}']))
    assert ask(["--schema", PERSON, "who"], env).exit_code == 0
    body = sent(openai_server)
    schema = body["response_format"]["json_schema"]["schema"]
    assert body["response_format"]["type"] == "json_schema"
    assert schema["properties"] == {"name": {"type": "string"}, "age": {"type": "integer"}}
    assert body["messages"] == [{"role": "user", "content": "who"}]  # no instruction needed


def test_an_answer_of_another_shape_exits_9_with_one_line(openai_server, env):
    openai_server.script(stream_reply(['{"name": "Ada", "age": "old"}']))
    result = ask(["--schema", PERSON, "who"], env)
    assert result.exit_code == 9 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == "Error: the answer did not match the schema at age: 'old' is not of type 'integer'"
    assert lines[1].startswith("Hint: ") and len(lines) == 2


def test_prose_instead_of_json_exits_9(openai_server, env):
    openai_server.script(stream_reply(["Sure! Ada Lovelace, 36."]))
    result = ask(["--schema", PERSON, "who"], env)
    assert result.exit_code == 9 and result.stdout == ""
    assert result.stderr.startswith("Error: the answer is not JSON (")


def test_json_output_carries_the_raw_text_in_the_error_object(openai_server, env):
    openai_server.script(stream_reply(["not ", "json"]))
    result = ask(["-o", "json", "--schema", PERSON, "who"], env)
    error = json.loads(result.stdout)["error"]
    assert result.exit_code == 9 and error["exit_code"] == 9 and error["type"] == "schema"
    assert error["raw"] == "not json"


def test_json_output_of_a_valid_answer_has_the_value(openai_server, env):
    openai_server.script(stream_reply(['{"name": "Ada", "age": 36}']))
    result = ask(["-o", "json", "--schema", PERSON, "who"], env)
    out = json.loads(result.stdout)
    assert out["json"] == {"name": "Ada", "age": 36} and out["content"] == '{"name":"Ada","age":36}'
    assert len(result.stdout.splitlines()) == 1


def test_stream_json_prints_only_the_checked_result(openai_server, env):
    openai_server.script(stream_reply(['{"name": "Ada",', ' "age": 36}']))
    result = ask(["-o", "stream-json", "--schema", PERSON, "who"], env)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["type"] for line in lines] == ["result"] and lines[0]["json"]["age"] == 36


def test_schema_multi_prints_a_json_array(openai_server, env):
    openai_server.script(stream_reply(['{"items": [{"name": "Ada", "age": 36},', ' {"name": "Alan", "age": 41}]}']))
    result = ask(["--schema-multi", PERSON, "two pioneers"], env)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == '[{"name":"Ada","age":36},{"name":"Alan","age":41}]\n'
    assert '"type":"array"' in sent(openai_server)["messages"][0]["content"]


def test_a_fenced_answer_is_still_read(openai_server, env):
    openai_server.script(stream_reply(['```json\n{"name": "Ada", "age": 36}\n```']))
    assert ask(["--schema", PERSON, "who"], env).stdout == '{"name":"Ada","age":36}\n'


def test_inline_json_and_a_file_are_read_too(openai_server, env, isolated):
    inline = '{"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}'
    (isolated.work / "ok.json").write_text(inline)
    for value in (inline, "ok.json"):
        openai_server.script(stream_reply(['{"ok": true}']))
        result = ask(["--schema", value, "fine?"], env, cwd=isolated.work)
        assert result.stdout == '{"ok":true}\n', (value, result.stderr)
        assert '"required":["ok"]' in sent(openai_server)["messages"][0]["content"]


def test_short_form_types_and_optional_fields(openai_server, env):
    openai_server.script(stream_reply(['{"tags": ["a"], "score": 1.5, "ok": false, "n": [1, 2]}']))
    result = ask(["--schema", "tags list, score float, ok bool, n list[int], nick?", "go"], env)
    assert result.exit_code == 0, result.stderr
    instruction = sent(openai_server)["messages"][0]["content"]
    assert '"required":["tags","score","ok","n"]' in instruction
    assert '"n":{"type":"array","items":{"type":"integer"}}' in instruction


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("name, age integr", "unknown type 'integr'"),
        ("{not json", "the inline --schema is not valid JSON"),
        ('{"type": "nonsense"}', "is not a valid JSON Schema"),
        ("missing.json", "can't read the schema file missing.json"),
    ],
)
def test_a_bad_schema_is_a_usage_error_and_nothing_is_sent(openai_server, env, value, message):
    result = ask(["--schema", value, "who"], env)
    assert result.exit_code == 2 and message in result.stderr.splitlines()[0]
    assert openai_server.chat_requests == []


def test_nothing_reaches_a_pipe_before_the_answer_is_valid(openai_server, env):
    openai_server.script(stream_reply(['{"name": "Ada",', ' "age"', ": 36}"], delay=0.4))
    proc = subprocess.Popen(
        qwen_command() + ["ask", "--schema", PERSON, "who"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **env},
    )
    chunks = []
    while True:
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            break
        chunks.append((time.monotonic(), chunk))
    proc.wait(timeout=15)
    assert proc.returncode == 0
    assert [c for _, c in chunks] == [b'{"name":"Ada","age":36}\n']  # one write, after the last token
    last_token_sent = openai_server.chat_requests[-1].time + 0.8
    assert chunks[0][0] >= last_token_sent


def test_plain_ask_does_not_import_jsonschema(isolated):
    probe = "import sys, qwen_cli.cli.ask; print('jsonschema' in sys.modules)"
    out = subprocess.run([os.sys.executable, "-c", probe], capture_output=True, text=True, cwd=isolated.work)
    assert out.stdout.strip() == "False", out.stderr


def test_on_a_terminal_progress_goes_to_stderr_and_the_json_to_stdout(openai_server, env):
    from tests.helpers import invoke

    openai_server.script(stream_reply(['{"name": "Ada",', ' "age": 36}']))
    result = invoke(["ask", "--schema", PERSON, "who"], env=env, tty=True)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == '{"name":"Ada","age":36}\n'
    assert "receiving the answer: " in result.stderr and result.stderr.endswith("\r\x1b[K")


def _anthropic_env(anthropic_server) -> dict:
    anthropic_server.accept_tokens = {"sk-ant-test"}
    return {
        "ANTHROPIC_API_KEY": "sk-ant-test",
        "ANTHROPIC_MODEL": "claude-test",
        "ANTHROPIC_BASE_URL": anthropic_server.url,
    }


def test_images_on_another_protocol_are_refused_before_sending(anthropic_server, isolated):
    (isolated.work / "shot.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 16)
    result = ask(["-a", "shot.png", "who"], _anthropic_env(anthropic_server), cwd=isolated.work)
    assert result.exit_code == 2 and "-a works with OpenAI-compatible providers only" in result.stderr
    assert anthropic_server.requests == []


def test_on_the_anthropic_protocol_the_shape_goes_in_the_system_prompt_and_is_checked(anthropic_server):
    from tests.servers.anthropic_stub import message_stream

    env = _anthropic_env(anthropic_server)
    anthropic_server.script(message_stream(['{"name": "Ada",', ' "age": 36}']))
    result = ask(["--schema", PERSON, "-s", "Be brief.", "who wrote the first program?"], env)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == '{"name":"Ada","age":36}\n'
    body = anthropic_server.chat_requests[-1].json
    assert body["system"].startswith("Be brief.\n\n") and '"required":["name","age"]' in body["system"]
    assert "response_format" not in body and all(m["role"] != "system" for m in body["messages"])

    anthropic_server.script(message_stream(['{"name": "Ada"}']))
    result = ask(["--schema", PERSON, "who?"], env)
    assert result.exit_code == 9 and "age" in result.stderr and result.stdout == ""


def test_on_the_gemini_protocol_it_asks_for_json_mode_and_checks_the_shape(gemini_server, isolated):
    from tests.servers.gemini_stub import KEY, gemini_stream

    isolated.qwen_home.mkdir(parents=True, exist_ok=True)
    (isolated.qwen_home / "config.toml").write_text(f'[providers.gemini]\nbase_url = "{gemini_server.url}"\n')
    env = {"GEMINI_API_KEY": KEY, "GEMINI_MODEL": "gemini-test"}
    gemini_server.script(gemini_stream(['{"items": [{"name": "Ada", "age": 36},', ' {"name": "Grace", "age": 85}]}']))
    result = ask(["--schema-multi", PERSON, "two programmers"], env)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == [{"name": "Ada", "age": 36}, {"name": "Grace", "age": 85}]
    body = gemini_server.chat_requests[-1].json
    assert body["generationConfig"]["responseMimeType"] == "application/json"
    assert '"type":"array"' in body["systemInstruction"]["parts"][0]["text"]
