"""`qwen chat` with stdin from a pipe: each line is a turn, answers plain on stdout, exit at EOF."""

import json
import stat

import pytest

from tests.helpers import login_second_api_key, run_qwen
from tests.servers.openai_stub import error, stream_reply


@pytest.fixture
def env(openai_server):
    return {"OPENAI_API_KEY": "sk-test-key", "OPENAI_BASE_URL": openai_server.url, "OPENAI_MODEL": "test-model"}


def _sessions(isolated):
    return sorted((isolated.qwen_home / "sessions").glob("*.jsonl"))


def _lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_two_line_script_is_two_turns_and_the_second_carries_the_first(openai_server, env, isolated):
    openai_server.script(stream_reply(["Hi", " there"]), stream_reply(["Then", " this"]))
    result = run_qwen(["chat"], input="hi\nand then?\n", env=env)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "Hi there\nThen this\n"
    first, second = openai_server.chat_requests
    assert first.json["messages"] == [{"role": "user", "content": "hi"}]
    assert second.json["messages"] == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "Hi there"},
        {"role": "user", "content": "and then?"},
    ]
    assert first.json["stream"] is True and first.json["model"] == "test-model"
    assert "qwen chat ·" not in result.stderr  # no banner in pipe mode
    [path] = _sessions(isolated)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    records = _lines(path)
    assert records[0]["type"] == "meta" and records[0]["method"] == "api-key"
    assert [(r["role"], r["content"]) for r in records[1:]] == [
        ("user", "hi"),
        ("assistant", "Hi there"),
        ("user", "and then?"),
        ("assistant", "Then this"),
    ]


def test_blank_lines_are_skipped_and_empty_input_sends_nothing(openai_server, env, isolated):
    result = run_qwen(["chat"], input="\n  \n", env=env)
    assert result.exit_code == 0 and result.stdout == ""
    assert openai_server.chat_requests == []
    assert _sessions(isolated) == []


def test_slash_commands_work_in_a_script(openai_server, env, isolated):
    script = "/system answer in one word\nhi\n/stats\n/model other-model\nagain\n/exit\nnever sent\n"
    result = run_qwen(["chat"], input=script, env=env)
    assert result.exit_code == 0, result.stderr
    first, second = openai_server.chat_requests
    assert first.json["messages"][0] == {"role": "system", "content": "answer in one word"}
    assert second.json["model"] == "other-model"
    assert second.json["messages"][0]["role"] == "system"
    assert "Turns: 1" in result.stderr and "Tokens: 5 in, 3 out" in result.stderr
    assert result.stdout.count("Hello from stub") == 2  # slash output stays off stdout
    assert len(openai_server.chat_requests) == 2


def test_unknown_command_in_a_script_exits_2_with_did_you_mean(openai_server, env):
    result = run_qwen(["chat"], input="/sytem be brief\nhi\n", env=env)
    assert result.exit_code == 2
    assert "unknown command /sytem; did you mean /system?" in result.stderr
    assert openai_server.chat_requests == []


def test_a_failed_turn_exits_with_its_code_and_is_marked_failed(openai_server, env, isolated):
    openai_server.script(stream_reply(["ok"]))
    openai_server.accept_tokens = {"sk-test-key"}
    openai_server.script(error(401, {"error": {"message": "Invalid API key"}}))
    result = run_qwen(["chat"], input="one\ntwo\nthree\n", env=env)
    assert result.exit_code == 3
    assert result.stdout == "ok\n"
    assert "Error:" in result.stderr and result.stderr.count("Error:") == 1
    assert len(openai_server.chat_requests) == 2
    [path] = _sessions(isolated)
    assert _lines(path)[-1] == {"type": "failed"}


def test_context_guard_drops_oldest_turns_with_a_notice(openai_server, env):
    long_answer = ["x" * 80]
    openai_server.script(*(stream_reply(long_answer) for _ in range(3)))
    env = dict(env, QWEN_CHAT_MAX_CONTEXT_CHARS="200")
    result = run_qwen(["chat", "--system", "SYS"], input="q1 " + "a" * 40 + "\nq2\nq3\n", env=env)
    assert result.exit_code == 0, result.stderr
    third = openai_server.chat_requests[2].json["messages"]
    assert third[0] == {"role": "system", "content": "SYS"}
    assert third[1]["content"] == "q2"
    assert len(openai_server.chat_requests[1].json["messages"]) == 4  # nothing dropped yet
    assert result.stderr.count("dropped the oldest 1 turn") == 1
    assert "chat.max_context_chars (200)" in result.stderr


def test_list_continue_resume_and_ask_continue(openai_server, env, isolated):
    run_qwen(["chat"], input="first session question\n", env=env)
    result = run_qwen(["chat"], input="second session\nmore\n", env=env)
    assert result.exit_code == 0
    listing = run_qwen(["chat", "--list"], env=env)
    assert listing.exit_code == 0
    rows = listing.stdout.splitlines()
    assert rows[0].split() == ["ID", "DATE", "TURNS", "FIRST", "WORDS"]
    assert "second session" in rows[1] and rows[1].split()[3] == "2"
    assert "first session question" in rows[2]
    data = json.loads(run_qwen(["chat", "--list", "--json"], env=env).stdout)
    assert [d["turns"] for d in data] == [2, 1]
    newest, oldest = data[0]["id"], data[1]["id"]

    openai_server.requests.clear()
    result = run_qwen(["chat", "--continue"], input="third\n", env=env)
    assert result.exit_code == 0, result.stderr
    sent = [m["content"] for m in openai_server.chat_requests[0].json["messages"]]
    assert sent == ["second session", "Hello from stub", "more", "Hello from stub", "third"]

    openai_server.requests.clear()
    result = run_qwen(["chat", "--resume", oldest], input="back\n", env=env)
    assert result.exit_code == 0, result.stderr
    sent = [m["content"] for m in openai_server.chat_requests[0].json["messages"]]
    assert sent == ["first session question", "Hello from stub", "back"]

    # `qwen ask -c` adds a turn to the newest session (the one just resumed).
    openai_server.requests.clear()
    result = run_qwen(["ask", "-c", "and", "finally?"], env=env)
    assert result.exit_code == 0, result.stderr
    sent = [m["content"] for m in openai_server.chat_requests[0].json["messages"]]
    assert sent == ["first session question", "Hello from stub", "back", "Hello from stub", "and finally?"]
    data = json.loads(run_qwen(["chat", "--list", "--json"], env=env).stdout)
    assert data[0]["id"] == oldest and data[0]["turns"] == 3
    assert {d["id"] for d in data} == {newest, oldest}


def test_ask_continue_without_sessions_starts_one(openai_server, env, isolated):
    result = run_qwen(["ask", "-c", "-s", "be brief", "hello"], env=env)
    assert result.exit_code == 0, result.stderr
    [path] = _sessions(isolated)
    records = _lines(path)
    assert records[0]["type"] == "meta"
    assert records[1] == {"type": "system", "content": "be brief"}
    assert [r.get("content") for r in records[2:]] == ["hello", "Hello from stub"]
    result = run_qwen(["ask", "-c", "again"], env=env)
    messages = openai_server.chat_requests[-1].json["messages"]
    assert messages[0] == {"role": "system", "content": "be brief"}
    assert [m["content"] for m in messages[1:]] == ["hello", "Hello from stub", "again"]


def test_ask_continue_failure_adds_nothing(openai_server, env, isolated):
    run_qwen(["ask", "-c", "hello"], env=env)
    [path] = _sessions(isolated)
    before = path.read_text()
    openai_server.script(error(400, {"error": {"message": "bad request"}}))
    result = run_qwen(["ask", "-c", "broken"], env=env)
    assert result.exit_code == 4
    assert path.read_text() == before


def test_resume_skips_corrupt_lines_with_a_warning(openai_server, env, isolated):
    run_qwen(["chat"], input="kept question\n", env=env)
    [path] = _sessions(isolated)
    with open(path, "a") as fh:
        fh.write('{"type": "message", "role": "us\n')
    result = run_qwen(["chat", "--continue"], input="next\n", env=env)
    assert result.exit_code == 0, result.stderr
    assert "skipped a corrupt session line" in result.stderr
    assert "Traceback" not in result.stderr
    sent = [m["content"] for m in openai_server.chat_requests[-1].json["messages"]]
    assert sent == ["kept question", "Hello from stub", "next"]


def test_usage_errors(env):
    assert run_qwen(["chat", "--continue"], input="x\n", env=env).exit_code == 2
    result = run_qwen(["chat", "--resume", "nope"], input="x\n", env=env)
    assert result.exit_code == 2 and "no session 'nope'" in result.stderr
    assert run_qwen(["chat", "--json"], env=env).exit_code == 2
    empty = run_qwen(["chat", "--list"], env=env)
    assert empty.exit_code == 0 and empty.stdout == "" and "No saved sessions" in empty.stderr


def test_save_writes_a_markdown_transcript(openai_server, env, isolated):
    result = run_qwen(["chat"], input="hi\n/save notes/t.md\n", env=env, cwd=isolated.work)
    assert result.exit_code == 2  # the directory does not exist
    (isolated.work / "notes").mkdir()
    result = run_qwen(["chat"], input="hi\n/save notes/t.md\n", env=env, cwd=isolated.work)
    assert result.exit_code == 0, result.stderr
    text = (isolated.work / "notes" / "t.md").read_text()
    assert "## You\n\nhi\n\n## Assistant\n\nHello from stub" in text


def test_save_says_where_it_writes_before_and_after(openai_server, env, isolated):
    result = run_qwen(["chat"], input="/help\n/save\nhi\n/save\n", env=env, cwd=isolated.work)
    assert result.exit_code == 0, result.stderr
    assert "(default: qwen-chat-<id>.md in the current directory)" in result.stderr
    assert "Nothing to save yet: the conversation is empty." in result.stderr
    [path] = isolated.work.glob("qwen-chat-*.md")
    assert f"Saved the transcript (1 turn) to {path}\n" in result.stderr  # the absolute path


def test_without_credentials_exits_3(isolated):
    result = run_qwen(["chat"], input="hi\n")
    assert result.exit_code == 3
    assert "Traceback" not in result.stderr


def test_clear_starts_a_new_session_and_help_lists_commands(openai_server, env, isolated):
    script = "/system be brief\nhi\n/clear\n/system -\n/help\nnew topic\n"
    result = run_qwen(["chat"], input=script, env=env)
    assert result.exit_code == 0, result.stderr
    first, second = openai_server.chat_requests
    assert contents(first) == ["be brief", "hi"]
    assert second.json["messages"] == [{"role": "user", "content": "new topic"}]
    assert "Fresh conversation. The previous one is saved as" in result.stderr
    for name in ("/auth", "/model", "/system", "/clear", "/stats", "/save", "/terms", "/telemetry", "/exit"):
        assert name in result.stderr
    assert len(_sessions(isolated)) == 2


def test_finish_reason_length_is_noticed(openai_server, env):
    openai_server.script(stream_reply(["trunc"], finish_reason="length"))
    result = run_qwen(["chat"], input="hi\n", env=env)
    assert result.exit_code == 0
    assert "finish_reason=length" in result.stderr


def contents(request):
    return [m["content"] for m in request.json["messages"]]


def test_model_list_falls_back_to_the_catalogue(openai_server, env):
    openai_server.models_response = error(500, {"error": {"message": "boom"}})
    result = run_qwen(["chat"], input="/model\n", env=env)
    assert result.exit_code == 0, result.stderr
    assert "Could not list models from the provider" in result.stderr
    assert "* test-model" in result.stderr


def test_a_provider_echoing_the_key_in_a_models_error_is_redacted(openai_server, env):
    canary = "gsk_CANARYchatmodels0123456789"
    openai_server.accept_tokens.add(canary)
    openai_server.models_response = error(500, {"error": {"message": f"bad key {canary} for /models"}})
    result = run_qwen(["chat"], input="/model\n", env={**env, "OPENAI_API_KEY": canary})
    assert "Could not list models from the provider" in result.stderr
    assert canary not in result.stdout + result.stderr


def test_terms_and_telemetry_commands(openai_server, env, isolated):
    result = run_qwen(["chat"], input="/terms\n/telemetry\n/telemetry off\n/telemetry maybe\n", env=env)
    assert result.exit_code == 2  # the last line is a usage error
    assert "Which terms apply" in result.stderr
    assert "Usage statistics: off" in result.stderr
    assert "usage_statistics = false" in (isolated.qwen_home / "config.toml").read_text()
    assert "/telemetry takes on or off" in result.stderr
    assert result.stdout == ""


def test_auth_menu_needs_a_terminal_in_pipe_mode(openai_server, env):
    result = run_qwen(["chat"], input="/auth\nhi\n", env=env)
    assert result.exit_code == 2
    assert "/auth needs a terminal" in result.stderr
    assert openai_server.chat_requests == []


# -- resuming with the session's own auth method ----------------------------------------------------------


def test_resume_uses_the_method_the_session_was_started_with(openai_server, env, isolated):
    assert run_qwen(["chat"], input="started with the env key\n", env=env).exit_code == 0
    login_second_api_key(openai_server, env)  # now the active method is api-key (openrouter)
    config = isolated.qwen_home / "config.toml"
    before = config.read_bytes()
    [path] = _sessions(isolated)
    session_id = path.stem

    for args in (["--continue"], ["--resume", session_id]):
        openai_server.requests.clear()
        result = run_qwen(["chat", *args], input="and now?\n", env=env)
        assert result.exit_code == 0, result.stderr
        [request] = openai_server.chat_requests
        assert request.bearer == "sk-test-key" and request.json["model"] == "test-model"
        assert contents(request)[-1] == "and now?"
        assert "not configured" not in result.stderr
    assert config.read_bytes() == before  # resuming never changes the active method

    # A new session (and `qwen ask`) still uses the active method.
    openai_server.requests.clear()
    assert run_qwen(["chat"], input="fresh\n", env=env).exit_code == 0
    assert openai_server.chat_requests[0].bearer == "sk-second-key"
    text = path.read_text()
    assert "sk-test-key" not in text and "sk-second-key" not in text
    assert _lines(path)[0]["method"] == "api-key" and _lines(path)[0]["provider"] == "custom"


def test_resume_after_auth_mid_session_uses_the_last_method(openai_server, env, isolated):
    login_second_api_key(openai_server, env)
    assert run_qwen(["auth", "switch", "api-key", "--provider", "custom"], env=env).exit_code == 0
    result = run_qwen(["chat"], input="one\n/auth api-key openrouter\ntwo\n", env=env)
    assert result.exit_code == 0, result.stderr
    [path] = _sessions(isolated)
    auth = [r for r in _lines(path) if r["type"] == "auth"]
    assert auth == [{"type": "auth", "method": "api-key", "provider": "openrouter", "model": "other-model"}]
    assert "sk-second-key" not in path.read_text()

    assert run_qwen(["auth", "switch", "api-key", "--provider", "custom"], env=env).exit_code == 0
    openai_server.requests.clear()
    result = run_qwen(["chat", "--continue"], input="three\n", env=env)
    assert result.exit_code == 0, result.stderr
    [request] = openai_server.chat_requests
    assert request.bearer == "sk-second-key" and request.json["model"] == "other-model"
    assert contents(request) == ["one", "Hello from stub", "two", "Hello from stub", "three"]
    # -m still wins over the session's model
    openai_server.requests.clear()
    result = run_qwen(["chat", "--continue", "-m", "picked-model"], input="four\n", env=env)
    assert result.exit_code == 0, result.stderr
    assert openai_server.chat_requests[0].bearer == "sk-second-key"
    assert openai_server.chat_requests[0].json["model"] == "picked-model"


def test_auth_before_the_first_message_is_the_sessions_method(openai_server, env, isolated):
    login_second_api_key(openai_server, env)
    openai_server.models.append("third-model")
    assert run_qwen(["auth", "switch", "api-key", "--provider", "custom"], env=env).exit_code == 0
    result = run_qwen(["chat"], input="/auth api-key openrouter\n/model third-model\nhi\n", env=env)
    assert result.exit_code == 0, result.stderr
    [path] = _sessions(isolated)
    meta = _lines(path)[0]
    assert (meta["method"], meta["provider"], meta["model"]) == ("api-key", "openrouter", "third-model")


def test_resume_falls_back_to_the_active_method_with_a_notice(openai_server, env, isolated):
    assert run_qwen(["chat"], input="started with the env key\n", env=env).exit_code == 0
    login_second_api_key(openai_server, env)
    config = isolated.qwen_home / "config.toml"
    before = config.read_bytes()
    without_env = {k: v for k, v in env.items() if not k.startswith("OPENAI_")}  # custom is gone now
    openai_server.requests.clear()
    result = run_qwen(["chat", "--continue"], input="still there?\n", env=without_env)
    assert result.exit_code == 0, result.stderr
    [request] = openai_server.chat_requests
    assert request.bearer == "sk-second-key" and request.json["model"] == "other-model"
    assert contents(request) == ["started with the env key", "Hello from stub", "still there?"]
    notices = [line for line in result.stderr.splitlines() if "not configured" in line]
    assert len(notices) == 1, result.stderr
    assert "api-key (custom)" in notices[0] and "api-key (openrouter)" in notices[0]
    assert config.read_bytes() == before


def test_ask_continue_with_another_method_records_it(openai_server, env, isolated):
    assert run_qwen(["chat"], input="hi\n", env=env).exit_code == 0
    login_second_api_key(openai_server, env)
    result = run_qwen(["ask", "-c", "via", "openrouter"], env=env)
    assert result.exit_code == 0, result.stderr
    assert openai_server.chat_requests[-1].bearer == "sk-second-key"
    [path] = _sessions(isolated)
    records = _lines(path)
    assert records[-3] == {"type": "auth", "method": "api-key", "provider": "openrouter", "model": "other-model"}
    assert run_qwen(["ask", "-c", "again"], env=env).exit_code == 0
    assert sum(1 for r in _lines(path) if r["type"] == "auth") == 1  # same method: nothing more recorded
    openai_server.requests.clear()
    assert run_qwen(["chat", "--continue"], input="back in chat\n", env=env).exit_code == 0
    assert openai_server.chat_requests[0].bearer == "sk-second-key"


def test_model_is_checked_against_the_providers_list(openai_server, env, isolated):
    result = run_qwen(["chat"], input="/model other-model\n/model test-modle\nnever sent\n", env=env)
    assert result.exit_code == 2
    host = openai_server.url.split("/")[2]
    assert "Model: other-model\n" in result.stderr
    assert f"Error: model 'test-modle' was not found at {host}; did you mean 'test-model'?" in result.stderr
    assert "Hint: Type /model to list the models and pick one." in result.stderr
    assert openai_server.chat_requests == []
    assert [r.path for r in openai_server.requests if r.method == "GET"] == ["/v1/models"]  # asked once


def test_model_says_it_was_not_checked_when_the_provider_has_no_list(openai_server, env):
    openai_server.models_response = error(500, {"error": {"message": "no list today"}})
    result = run_qwen(["chat"], input="/model anything\nhi\n", env=env)
    assert result.exit_code == 0, result.stderr
    assert "Model: anything (not checked: the provider did not list its models (" in result.stderr
    assert openai_server.chat_requests[0].json["model"] == "anything"


def test_a_missing_model_hint_names_the_way_to_choose_where_the_user_is(openai_server, env):
    gone = dict(env, OPENAI_MODEL="gone-model")
    missing = {"error": {"message": "The model `gone-model` does not exist", "code": "model_not_found"}}
    hint = "Hint: Available models: other-model, test-model. Choose one with {}."
    openai_server.script(error(404, missing))
    chat = run_qwen(["chat"], input="hi\n", env=gone)
    assert chat.exit_code == 4 and hint.format("/model NAME") in chat.stderr, chat.stderr
    openai_server.script(error(404, missing))
    ask = run_qwen(["ask", "hi"], env=gone)
    assert ask.exit_code == 4 and hint.format("-m MODEL") in ask.stderr, ask.stderr


def test_bare_exit_in_a_script_is_a_message_as_typed(openai_server, env):
    result = run_qwen(["chat"], input="exit\nclear\n", env=env)
    assert result.exit_code == 0, result.stderr
    assert [r.json["messages"][-1]["content"] for r in openai_server.chat_requests] == ["exit", "clear"]
    assert "Did you mean" not in result.stderr and "resume it with" not in result.stderr


def test_a_chat_whose_only_turn_failed_saves_no_session(openai_server, env, isolated):
    openai_server.script(error(401, {"error": {"message": "Invalid API key"}}))
    result = run_qwen(["chat"], input="/system be brief\nhello\n", env=env)
    assert result.exit_code == 3
    assert _sessions(isolated) == []
    listed = run_qwen(["chat", "--list", "--json"], env=env)
    assert listed.exit_code == 0 and json.loads(listed.stdout) == []
