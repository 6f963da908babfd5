"""`qwen auth status / switch / logout`, environment auto-auth, QWEN_AUTH_METHOD and the first-run exit."""

from __future__ import annotations

import json

from qwen_cli.settings import read_toml
from tests.auth.helpers import CANARY_KEY, CANARY_PLAN_KEY, seed_oauth
from tests.helpers import invoke, run_qwen
from tests.servers.openai_stub import error


def _status(env=None) -> tuple[int, dict]:
    result = invoke(["auth", "status", "--json"], env=env)
    return result.exit_code, json.loads(result.stdout)


def _login_two(isolated):
    assert (
        invoke(
            ["auth", "login", "--method", "coding-plan", "--region", "global", "--key-stdin"], input=CANARY_PLAN_KEY
        ).exit_code
        == 0
    )
    assert (
        invoke(
            ["auth", "login", "--method", "api-key", "--provider", "openrouter", "--key-stdin"], input=CANARY_KEY
        ).exit_code
        == 0
    )


def test_status_with_nothing_configured_exits_3(isolated):
    result = invoke(["auth", "status"])
    assert result.exit_code == 3
    assert "qwen auth login" in result.stderr
    code, data = _status()
    default = {"name": "default", "reason": "default", "why": "no other was chosen"}
    assert code == 3 and data == {
        "active": None,
        "active_provider": None,
        "profile": default,
        "profiles": ["default"],
        "methods": [],
    }


def test_status_lists_every_method_and_marks_the_active_one(isolated, oauth_server):
    seed_oauth(oauth_server, isolated.qwen_home, expires_in=7200)
    _login_two(isolated)
    code, data = _status({"QWEN_OAUTH_BASE_URL": oauth_server.base_url})
    assert code == 0
    assert data["active"] == "api-key" and data["active_provider"] == "openrouter"
    by = {(m["method"], m["provider"]): m for m in data["methods"]}
    assert set(by) == {("qwen-oauth", "qwen"), ("coding-plan", "coding-plan"), ("api-key", "openrouter")}
    for row in data["methods"]:
        assert {"method", "active", "provider", "base_url", "model", "source", "expires_at"} <= set(row)
    assert [m["active"] for m in data["methods"]].count(True) == 1
    oauth = by[("qwen-oauth", "qwen")]
    assert oauth["source"] == "oauth_creds.json" and oauth["model"] == "coder-model"
    assert oauth["base_url"] == oauth_server.openai.url
    assert oauth["expires_at"].endswith("Z") and 7100 < oauth["expires_in"] <= 7200
    plan = by[("coding-plan", "coding-plan")]
    assert plan["region"] == "global" and plan["source"] == "credentials.toml" and plan["key"] == "sk-…ee11"
    assert plan["base_url"] == "https://coding-intl.dashscope.aliyuncs.com/v1"
    router = by[("api-key", "openrouter")]
    assert router["active"] and router["key"] == "sk-…8d60" and "openrouter.ai/terms" in router["terms"]

    text = invoke(["auth", "status"], env={"QWEN_OAUTH_BASE_URL": oauth_server.base_url})
    assert text.exit_code == 0
    assert "* API Key (openrouter)  (active)" in text.stdout
    assert "expires   in 1 h 59 min" in text.stdout or "expires   in 2 h 0 min" in text.stdout
    assert str(isolated.qwen_home / "credentials.toml") in text.stdout
    for secret in (CANARY_KEY, CANARY_PLAN_KEY):
        assert secret not in text.output


def test_qwen_auth_method_selects_for_one_invocation(isolated):
    _login_two(isolated)
    code, data = _status({"QWEN_AUTH_METHOD": "coding-plan"})
    assert code == 0 and data["active"] == "coding-plan"
    assert read_toml(isolated.qwen_home / "config.toml")["auth"]["method"] == "api-key"
    code, data = _status({"QWEN_AUTH_METHOD": "qwen-oauth"})
    assert code == 3 and data["active"] == "qwen-oauth"
    assert data["methods"][0]["problem"]


def test_switch_between_configured_methods(isolated):
    _login_two(isolated)
    result = invoke(["auth", "switch", "coding-plan"])
    assert result.exit_code == 0, result.output
    assert "Switched to Alibaba Cloud Coding Plan (global)" in result.stderr
    assert _status()[1]["active"] == "coding-plan"
    assert invoke(["auth", "switch", "api-key"]).exit_code == 0
    assert _status()[1]["active_provider"] == "openrouter"


def test_switch_to_unconfigured_method_exits_3_with_the_login_command(isolated):
    _login_two(isolated)
    result = invoke(["auth", "switch", "qwen-oauth"])
    assert result.exit_code == 3
    assert "qwen auth login --method qwen-oauth" in result.stderr
    result = invoke(["auth", "switch", "api-key", "--provider", "groq"])
    assert result.exit_code == 3
    assert "qwen auth login --method api-key --provider groq" in result.stderr
    assert _status()[1]["active_provider"] == "openrouter"


def test_switch_without_argument_off_a_terminal_is_usage_error(isolated):
    _login_two(isolated)
    assert invoke(["auth", "switch"]).exit_code == 2


def test_several_api_key_providers_and_switch_by_provider(isolated):
    _login_two(isolated)
    invoke(["auth", "login", "--provider", "deepseek", "--key-stdin"], input="sk-deepseek-000000001")
    assert _status()[1]["active_provider"] == "deepseek"
    assert invoke(["auth", "switch", "--provider", "openrouter"]).exit_code == 0
    assert _status()[1]["active_provider"] == "openrouter"


def test_switch_and_logout_take_the_provider_as_a_word_like_chats_auth(isolated):
    _login_two(isolated)
    assert run_qwen(["auth", "login", "--provider", "ollama"]).exit_code == 0
    result = run_qwen(["auth", "switch", "api-key", "openrouter"])
    assert result.exit_code == 0, result.stderr
    assert "Switched to API Key (openrouter)" in result.stderr
    assert _status()[1]["active_provider"] == "openrouter"
    for args, words in (
        (["api-key", "ollama", "--provider", "openrouter"], "two providers given"),
        (["coding-plan", "ollama"], "a provider goes with api-key, not coding-plan"),
    ):
        wrong = run_qwen(["auth", "switch", *args])
        assert wrong.exit_code == 2 and f"Error: {words}" in wrong.stderr, wrong.stderr
    assert _status()[1]["active_provider"] == "openrouter"
    result = run_qwen(["auth", "logout", "api-key", "ollama"])
    assert result.exit_code == 0 and "Logged out of api-key (ollama)" in result.stderr
    assert "ollama" not in read_toml(isolated.qwen_home / "credentials.toml")["api-key"]


def test_logout_forgets_the_active_login_and_unsets_it(isolated):
    _login_two(isolated)
    result = invoke(["auth", "logout"])
    assert result.exit_code == 0
    assert "Logged out of api-key (openrouter)" in result.stderr
    creds = read_toml(isolated.qwen_home / "credentials.toml")
    assert "api-key" not in creds and "coding-plan" in creds
    assert "method" not in read_toml(isolated.qwen_home / "config.toml").get("auth", {})
    # nothing is active any more, but the stored Coding Plan key is found on its own
    code, data = _status()
    assert code == 0 and data["active"] == "coding-plan"
    assert invoke(["auth", "logout", "--all"]).exit_code == 0
    assert _status()[0] == 3


def test_logout_all_removes_the_auth_settings_the_logins_wrote(isolated):
    _login_two(isolated)
    assert invoke(["auth", "switch", "coding-plan"]).exit_code == 0
    config = isolated.qwen_home / "config.toml"
    assert read_toml(config)["auth"] == {"method": "coding-plan", "provider": "openrouter", "region": "global"}
    assert invoke(["config", "set", "network.max_retries", "5"]).exit_code == 0
    assert run_qwen(["auth", "logout", "--all"]).exit_code == 0
    assert read_toml(config) == {"network": {"max_retries": 5}}  # other settings stay


def test_logging_out_of_the_coding_plan_forgets_its_region(isolated):
    _login_two(isolated)
    assert run_qwen(["auth", "logout", "coding-plan"]).exit_code == 0
    assert read_toml(isolated.qwen_home / "config.toml")["auth"] == {"method": "api-key", "provider": "openrouter"}


def test_logout_oauth_removes_the_file(isolated, oauth_server):
    seed_oauth(oauth_server, isolated.qwen_home)
    result = invoke(["auth", "logout", "qwen-oauth"])
    assert result.exit_code == 0
    assert not (isolated.qwen_home / "oauth_creds.json").exists()
    assert not (isolated.qwen_home / "oauth_creds.lock").exists()


def test_logout_mentions_env_keys_that_stay(isolated):
    result = invoke(["auth", "logout", "--all"], env={"OPENAI_API_KEY": CANARY_KEY})
    assert result.exit_code == 0
    assert "OPENAI_API_KEY is still set" in result.stderr
    assert CANARY_KEY not in result.output


# -- environment auto-auth -----------------------------------------------------------------------------


def test_openai_env_vars_work_with_no_login(isolated, openai_server):
    env = {"OPENAI_API_KEY": "sk-test-key", "OPENAI_BASE_URL": openai_server.url, "OPENAI_MODEL": "test-model"}
    result = run_qwen(["ask", "hi"], env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "Hello from stub"
    code, data = _status(env)
    assert code == 0
    row = data["methods"][0]
    assert (row["method"], row["provider"], row["source"]) == ("api-key", "custom", "env:OPENAI_API_KEY")
    assert row["model"] == "test-model" and row["base_url"] == openai_server.url


def test_dotenv_file_works_with_no_login(isolated, openai_server):
    dotenv = isolated.work / ".env"
    dotenv.write_text(f"OPENAI_API_KEY=sk-test-key\nOPENAI_BASE_URL={openai_server.url}\nOPENAI_MODEL=test-model\n")
    result = run_qwen(["ask", "hi"])
    assert result.exit_code == 0, result.output
    assert openai_server.requests[-1].json["model"] == "test-model"
    row = _status()[1]["methods"][0]
    assert row["source"] == f".env:{dotenv}"
    text = invoke(["auth", "status"])
    assert f".env file {dotenv}" in text.stdout


def test_shell_env_beats_dotenv(isolated, openai_server):
    (isolated.work / ".env").write_text("OPENAI_API_KEY=sk-from-dotenv-0000\nOPENAI_MODEL=dotenv-model\n")
    env = {"OPENAI_API_KEY": "sk-test-key", "OPENAI_BASE_URL": openai_server.url}
    result = run_qwen(["ask", "hi"], env=env)
    assert result.exit_code == 0, result.output
    assert openai_server.requests[-1].bearer == "sk-test-key"
    assert openai_server.requests[-1].json["model"] == "dotenv-model"


def test_dashscope_and_coding_plan_env_keys(isolated):
    code, data = _status({"DASHSCOPE_API_KEY": "sk-dashscope-00001111"})
    assert code == 0 and data["active"] == "api-key" and data["active_provider"] == "dashscope"
    assert data["methods"][0]["base_url"] == "https://dashscope.aliyuncs.com/compatible-mode/v1"
    code, data = _status({"BAILIAN_CODING_PLAN_API_KEY": CANARY_PLAN_KEY, "QWEN_AUTH_REGION": "intl"})
    assert code == 0 and data["active"] == "coding-plan"
    row = data["methods"][0]
    assert row["source"] == "env:BAILIAN_CODING_PLAN_API_KEY"
    assert row["base_url"] == "https://coding-intl.dashscope.aliyuncs.com/v1"


def test_a_chosen_method_wins_over_ambient_env_keys_but_env_supplies_its_key(isolated):
    invoke(["auth", "login", "--provider", "openrouter", "--key-stdin"], input="sk-stored-000011112222")
    code, data = _status({"OPENAI_API_KEY": CANARY_KEY, "OPENROUTER_API_KEY": "sk-env-router-33334444"})
    active = next(m for m in data["methods"] if m["active"])
    assert active["provider"] == "openrouter" and active["source"] == "env:OPENROUTER_API_KEY"


def test_qwen_model_and_openai_model_precedence(isolated, openai_server):
    env = {"OPENAI_API_KEY": "sk-test-key", "OPENAI_BASE_URL": openai_server.url, "OPENAI_MODEL": "env-model"}
    assert _status(env)[1]["methods"][0]["model"] == "env-model"
    assert _status(dict(env, QWEN_MODEL="qwen-model"))[1]["methods"][0]["model"] == "qwen-model"


def test_first_run_off_a_terminal_exits_3_with_an_error_and_a_hint(isolated):
    result = run_qwen(["ask", "hello"])
    assert result.exit_code == 3
    error, hint = result.stderr.strip().splitlines()
    assert error.startswith("Error: no credentials configured") and len(error) <= 120
    assert hint.startswith("Hint: ")
    assert "qwen-oauth" in hint and "coding-plan" in hint and "OPENAI_API_KEY" in hint


def test_status_verify_reports_what_and_when(isolated, openai_server):
    openai_server.accept_tokens.add(CANARY_KEY)
    invoke(
        [
            "auth",
            "login",
            "--method",
            "api-key",
            "--base-url",
            openai_server.url,
            "--model",
            "test-model",
            "--key-stdin",
        ],
        input=CANARY_KEY,
    )
    result = invoke(["auth", "status", "--verify", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["verification"]["ok"] is True
    assert data["verification"]["what"] == f"GET {openai_server.url}/models"
    assert data["verification"]["at"].endswith("Z")
    later = invoke(["auth", "status"])
    assert "verified  ok, " in later.stdout and f"GET {openai_server.url}/models" in later.stdout
    openai_server.accept_tokens.discard(CANARY_KEY)
    failed = invoke(["auth", "status", "--verify"])
    assert failed.exit_code == 3
    assert "FAILED" in failed.stdout + failed.stderr


def test_a_key_echoed_by_the_provider_during_verify_is_masked_everywhere(isolated, openai_server):
    key = "gsk_live_CANARY_verify_9876"  # not sk-shaped: only the known token can mask it
    openai_server.accept_tokens.add(key)
    invoke(
        [
            "auth",
            "login",
            "--method",
            "api-key",
            "--base-url",
            openai_server.url,
            "--model",
            "test-model",
            "--key-stdin",
        ],
        input=key,
    )
    openai_server.models_response = error(401, {"error": {"message": f"Invalid API key: {key}"}})
    failed = invoke(["auth", "status", "--verify"])
    assert failed.exit_code == 3 and "FAILED" in failed.output
    later = invoke(["auth", "status", "--json"])
    stored = (isolated.qwen_home / "auth_verified.json").read_text()
    for text in (failed.output, later.output, stored):
        assert key not in text
    assert json.loads(stored)["api-key:custom"]["detail"].endswith("Invalid API key: gsk…9876")
