"""One resolution per invocation, told the same way by every command (issue 13 §2). Each test builds one
setup and runs every command that shows the method, provider, model or key against it."""

from __future__ import annotations

import json
import os

import pexpect

from tests.helpers import invoke, qwen_command, run_qwen

FIRST_KEY = "sk-first-key-1111aaaa"
SECOND_KEY = "sk-second-key-2222bbbb"


def _json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_an_env_only_setup_is_the_same_method_everywhere(isolated, openai_server):
    env = {"OPENAI_API_KEY": "sk-test-key", "OPENAI_BASE_URL": openai_server.url, "OPENAI_MODEL": "test-model"}
    status = _json(invoke(["auth", "status", "--json"], env=env))
    assert (status["active"], status["active_provider"]) == ("api-key", "custom")
    telemetry = _json(invoke(["telemetry", "status", "--json"], env=env))
    assert (telemetry["method"], telemetry["method_source"]) == ("api-key", "env:OPENAI_BASE_URL")
    assert telemetry["reason"] == "api_key_method"  # rule 2 because it is an API key, not "nothing configured"
    text = invoke(["telemetry", "status"], env=env).stdout
    assert "no authentication method is configured" not in text and "Auth method:      api-key" in text
    terms = _json(invoke(["terms", "show", "--json"], env=env))
    assert (terms["active"]["method"], terms["active"]["provider"]) == ("api-key", "custom")
    model = _json(invoke(["config", "get", "general.model", "--json"], env=env))
    assert (model["value"], model["source"]) == ("test-model", "env:OPENAI_MODEL")
    answer = _json(invoke(["ask", "hi", "-o", "json"], env=env))
    assert answer["model"] == "test-model"


def test_a_project_that_sets_only_the_provider_is_the_api_key_method_everywhere(isolated, openai_server):
    project = isolated.work / ".qwen" / "config.toml"
    project.parent.mkdir(parents=True)
    project.write_text('[auth]\nprovider = "openrouter"\n')
    env = {"OPENROUTER_API_KEY": "sk-or-key-12345678"}
    status = _json(invoke(["auth", "status", "--json"], env=env))
    telemetry = _json(invoke(["telemetry", "status", "--json"], env=env))
    terms = _json(invoke(["terms", "show", "--json"], env=env))
    assert (status["active"], status["active_provider"]) == ("api-key", "openrouter")
    assert (telemetry["method"], telemetry["reason"]) == ("api-key", "api_key_method")
    assert telemetry["method_source"].startswith("project:")
    assert (terms["active"]["method"], terms["active"]["provider"]) == ("api-key", "openrouter")


def _login(openai_server, key, *extra, env=None):
    return invoke(
        [
            "auth",
            "login",
            "--method",
            "api-key",
            "--provider",
            "openai",
            "--base-url",
            openai_server.url,
            "--model",
            "test-model",
            "--key-stdin",
            *extra,
        ],
        input=key,
        env=env,
    )


def test_an_env_key_over_a_stored_login_is_shown_as_overriding_it(isolated, openai_server):
    openai_server.accept_tokens = {FIRST_KEY}
    assert _login(openai_server, FIRST_KEY).exit_code == 0
    assert invoke(["auth", "status", "--verify"]).exit_code == 0  # a result for the stored key
    stored_only = invoke(["auth", "status"]).stdout
    assert "verified  ok, " in stored_only and "overridden" not in stored_only

    env = {"OPENAI_API_KEY": SECOND_KEY}
    status = invoke(["auth", "status"], env=env)
    assert "key       sk-…bbbb from environment variable OPENAI_API_KEY" in status.stdout
    assert "stored    sk-…aaaa in credentials.toml, overridden by OPENAI_API_KEY" in status.stdout
    assert "verified  not yet" in status.stdout  # the stored key's result is not this key's
    row = _json(invoke(["auth", "status", "--json"], env=env))["methods"][0]
    assert row["overridden"] == "sk-…aaaa in credentials.toml, overridden by OPENAI_API_KEY"
    assert row["verified"] is None

    failed = invoke(["auth", "status", "--verify"], env=env)  # the env key is the one checked, and rejected
    assert failed.exit_code == 3 and "FAILED" in failed.output
    assert "verified  FAILED" in invoke(["auth", "status"], env=env).stdout
    assert "verified  FAILED" not in invoke(["auth", "status"]).stdout  # not shown beside the stored key
    for text in (status.output, failed.output):
        assert FIRST_KEY not in text and SECOND_KEY not in text


def test_login_verify_checks_before_saving_and_keeps_the_previous_login(isolated, openai_server):
    openai_server.accept_tokens = {FIRST_KEY}
    assert _login(openai_server, FIRST_KEY, "--verify").exit_code == 0
    before = (isolated.qwen_home / "credentials.toml").read_text(), (isolated.qwen_home / "config.toml").read_text()

    rejected = _login(openai_server, SECOND_KEY, "--verify")
    assert rejected.exit_code == 3, rejected.output
    assert "FAILED" in rejected.stderr and "key saved" not in rejected.stderr
    assert "Error: the new key was not saved" in rejected.stderr
    after = (isolated.qwen_home / "credentials.toml").read_text(), (isolated.qwen_home / "config.toml").read_text()
    assert after == before
    answer = invoke(["ask", "hi"])
    assert answer.exit_code == 0 and openai_server.chat_requests[-1].bearer == FIRST_KEY


def test_openai_model_is_the_effective_model_in_config(isolated, openai_server):
    env = {"OPENAI_API_KEY": "sk-test-key", "OPENAI_BASE_URL": openai_server.url, "OPENAI_MODEL": "other-model"}
    assert invoke(["config", "get", "general.model"], env=env).stdout == "other-model\n"
    shown = _json(invoke(["config", "show", "--json"], env=env))["settings"]["general.model"]
    assert (shown["value"], shown["source"]) == ("other-model", "env:OPENAI_MODEL")
    line = next(x for x in invoke(["config", "show"], env=env).stdout.splitlines() if x.startswith("general.model"))
    assert "other-model" in line and "env:OPENAI_MODEL" in line
    status = _json(invoke(["auth", "status", "--json"], env=env))
    assert status["methods"][0]["model"] == "other-model"
    assert status["methods"][0]["origins"]["model"] == "env:OPENAI_MODEL"
    assert status["methods"][0]["origins"]["method"] == "env:OPENAI_BASE_URL"
    assert _json(invoke(["ask", "hi", "-o", "json"], env=env))["model"] == "other-model"
    # with nothing configured the setting itself is shown, as before
    assert invoke(["config", "get", "general.model"]).stdout == "(unset)\n"


def test_auth_then_enter_in_chat_keeps_the_model_chosen_with_model(isolated, openai_server):
    openai_server.models.append("third-model")
    env = dict(
        os.environ,
        OPENAI_API_KEY="sk-test-key",
        OPENAI_BASE_URL=openai_server.url,
        OPENAI_MODEL="test-model",
        TERM="xterm",
    )
    command = qwen_command()
    child = pexpect.spawn(
        command[0], [*command[1:], "chat"], env=env, encoding="utf-8", timeout=10, dimensions=(40, 120)
    )
    child.expect_exact("> ")
    child.sendline("/model third-model")
    child.expect_exact("third-model")
    child.expect_exact("> ")
    child.sendline("/auth")
    child.expect_exact("Switch to:")
    child.expect_exact("Choose 1-2 [1]: ")
    child.sendline("")  # Enter: keep the current login
    child.expect_exact("> ")
    child.sendline("hi")
    child.expect_exact("Hello from stub")
    child.expect_exact("> ")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert openai_server.chat_requests[-1].json["model"] == "third-model"
    assert run_qwen(["auth", "status", "--json"], env=env).exit_code == 0


def _shown(label: str, value: str, origin: str) -> str:
    return f"  {label:<9} {value}  (from {origin})"


def test_auth_status_ask_json_and_chat_stats_tell_the_same_resolution(isolated, openai_server):
    # One setup with parts from three places: a stored login, a model from the environment, a key from it.
    openai_server.accept_tokens = {FIRST_KEY, SECOND_KEY}
    assert _login(openai_server, FIRST_KEY).exit_code == 0
    env = {"OPENAI_MODEL": "other-model", "OPENAI_API_KEY": SECOND_KEY}
    status = _json(invoke(["auth", "status", "--json"], env=env))
    row = next(r for r in status["methods"] if r["active"])
    expected = {key: row[key] for key in ("method", "provider", "model", "base_url", "origins")}
    assert expected["origins"]["model"] == "env:OPENAI_MODEL" and expected["model"] == "other-model"
    assert expected["origins"]["key"] == "env:OPENAI_API_KEY"

    answer = _json(invoke(["ask", "hi", "-o", "json"], env=env))
    assert answer["resolution"] == expected

    chat = run_qwen(["chat"], input="/stats\n", env=env)
    assert chat.exit_code == 0, chat.stderr
    origins = expected["origins"]
    for line in (
        _shown("method", f"{expected['method']} ({expected['provider']})", origins["method"]),
        _shown("model", expected["model"], origins["model"]),
        _shown("base URL", expected["base_url"], origins["base_url"]),
        _shown("key", "set", origins["key"]),
    ):
        assert line in chat.stderr.splitlines(), (line, chat.stderr)
    for text in (chat.output, json.dumps(answer)):
        assert FIRST_KEY not in text and SECOND_KEY not in text


def test_model_in_chat_is_shown_as_the_model_origin_in_stats(isolated, openai_server):
    env = {"OPENAI_API_KEY": "sk-test-key", "OPENAI_BASE_URL": openai_server.url, "OPENAI_MODEL": "test-model"}
    chat = run_qwen(["chat"], input="/stats\n/model other-model\n/stats\n", env=env)
    assert chat.exit_code == 0, chat.stderr
    lines = chat.stderr.splitlines()
    assert _shown("model", "test-model", "env:OPENAI_MODEL") in lines
    assert _shown("model", "other-model", "/model") in lines


def test_a_resumed_session_names_itself_as_the_model_origin(isolated, openai_server):
    env = {"OPENAI_API_KEY": "sk-test-key", "OPENAI_BASE_URL": openai_server.url, "OPENAI_MODEL": "test-model"}
    assert run_qwen(["chat"], input="/model other-model\nhi\n", env=env).exit_code == 0
    (path,) = (isolated.qwen_home / "sessions").glob("*.jsonl")
    resumed = run_qwen(["chat", "--resume", path.stem], input="/stats\n", env=env)
    assert resumed.exit_code == 0, resumed.stderr
    assert _shown("model", "other-model", f"session {path.stem}") in resumed.stderr.splitlines()
