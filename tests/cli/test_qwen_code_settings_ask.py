"""A Qwen Code user with nothing of qwen's configured: `$QWEN_HOME/settings.json` alone gives `qwen ask` the
provider, base URL, key and model Qwen Code would use, and every command names that file as the source
(issue 16 §3). Each test runs the real `qwen` against loopback stubs."""

from __future__ import annotations

import json

import pytest

from qwen_cli.qwen_code_settings import custom_env_key
from tests.cli.qwen_code_files import GW_KEY_VAR, GW_MODEL, realistic, write
from tests.helpers import run_qwen
from tests.servers.openai_stub import OpenAIStub


@pytest.fixture
def other_server():
    stub = OpenAIStub().start()
    yield stub
    stub.stop()


def _settings(isolated, text: str):
    return write(isolated.qwen_home / "settings.json", text)


def _json(result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_qwen_code_user_asks_with_no_qwen_config(isolated, openai_server):
    path = _settings(isolated, realistic(openai_server.url))
    source = f"settings.json:{path}"

    answer = _json(run_qwen(["ask", "hi", "-o", "json"]))

    assert not (isolated.qwen_home / "config.toml").exists()
    assert answer["content"] == "Hello from stub"
    (request,) = openai_server.chat_requests
    assert request.bearer == "sk-test-key" and request.json["model"] == GW_MODEL
    assert answer["resolution"]["provider"] == "custom"
    assert answer["resolution"]["base_url"] == openai_server.url
    assert answer["resolution"]["origins"] == {"method": source, "key": source, "model": source, "base_url": source}

    shown = _json(run_qwen(["config", "show", "--json"]))["settings"]
    for name, value in (("auth.method", "api-key"), ("auth.provider", "custom"), ("general.model", GW_MODEL)):
        assert (shown[name]["value"], shown[name]["source"]) == (value, source)
    text = run_qwen(["config", "show"])
    assert f"{GW_KEY_VAR} is filled from {path}" in text.stderr and "sk-test-key" not in text.output

    status = _json(run_qwen(["auth", "status", "--json"]))
    (active,) = [m for m in status["methods"] if m["active"]]
    assert (active["base_url"], active["model"], active["source"]) == (openai_server.url, GW_MODEL, source)
    assert active["origins"]["base_url"] == source
    assert f"from {source}" in run_qwen(["auth", "status"]).stdout


def test_settings_env_fills_only_variables_that_are_unset(isolated, openai_server):
    path = _settings(isolated, realistic(openai_server.url, key="sk-stale-key-in-settings"))

    answer = _json(run_qwen(["ask", "hi", "-o", "json"], env={GW_KEY_VAR: "sk-test-key"}))

    assert openai_server.chat_requests[0].bearer == "sk-test-key"
    assert answer["resolution"]["origins"]["key"] == f"env:{GW_KEY_VAR}"
    assert answer["resolution"]["origins"]["base_url"] == f"settings.json:{path}"


@pytest.mark.parametrize("where", ["environment", "settings.env"])
def test_a_custom_entry_without_env_key_finds_qwen_codes_generated_key_name(isolated, openai_server, where):
    var = custom_env_key("openai", openai_server.url)
    if where == "settings.env":  # what /auth writes for a custom provider
        text = realistic(openai_server.url, key_var=None).replace('"env": {', f'"env": {{"{var}": "sk-test-key",', 1)
        env = {}
    else:
        text, env = realistic(openai_server.url, key_var=None), {var: "sk-test-key"}
    path = _settings(isolated, text)

    answer = _json(run_qwen(["ask", "hi", "-o", "json"], env=env))

    assert openai_server.chat_requests[0].bearer == "sk-test-key"
    expected = f"env:{var}" if where == "environment" else f"settings.json:{path}"
    assert answer["resolution"]["origins"]["key"] == expected


def test_a_qwen_custom_login_finds_its_generated_key_name(isolated, openai_server):
    """No settings.json at all: qwen's own custom login is matched by the key's name too."""
    login = run_qwen(
        ["auth", "login", "--method", "api-key", "--provider", "custom", "--base-url", openai_server.url]
        + ["--model", "test-model", "--key-stdin"],
        input="sk-stored-but-stale\n",
    )
    assert login.exit_code == 0, login.output
    var = custom_env_key("openai", openai_server.url)

    answer = _json(run_qwen(["ask", "hi", "-o", "json"], env={var: "sk-test-key"}))

    assert openai_server.chat_requests[-1].bearer == "sk-test-key"
    assert answer["resolution"]["origins"]["key"] == f"env:{var}"


def test_the_environment_and_qwens_own_logins_rank_above_settings_json(isolated, openai_server, other_server):
    _settings(isolated, realistic(openai_server.url))
    env = {"OPENAI_BASE_URL": other_server.url, "OPENAI_API_KEY": "sk-test-key", "OPENAI_MODEL": "test-model"}

    from_env = _json(run_qwen(["ask", "hi", "-o", "json"], env=env))
    assert from_env["resolution"]["origins"]["base_url"] == "env:OPENAI_BASE_URL"
    assert from_env["resolution"]["origins"]["method"] == "env:OPENAI_BASE_URL"

    login = run_qwen(
        ["auth", "login", "--method", "api-key", "--provider", "custom", "--base-url", other_server.url]
        + ["--model", "test-model", "--key-stdin"],
        input="sk-test-key\n",
    )
    assert login.exit_code == 0, login.output
    stored = _json(run_qwen(["ask", "hi", "-o", "json"]))
    assert stored["resolution"]["origins"]["base_url"] == "credentials.toml"
    assert stored["resolution"]["origins"]["method"].startswith("user:")

    assert openai_server.chat_requests == [] and len(other_server.chat_requests) == 2


@pytest.mark.parametrize(
    "base_url, key_var, method, provider, region",
    [
        ("https://coding-intl.dashscope.aliyuncs.com/v1", "BAILIAN_CODING_PLAN_API_KEY", "coding-plan", None, "global"),
        ("https://coding.dashscope.aliyuncs.com/v1/", "BAILIAN_CODING_PLAN_API_KEY", "coding-plan", None, "china"),
        (
            "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
            "DASHSCOPE_API_KEY",
            "api-key",
            "dashscope",
            "sg-singapore",
        ),
        (
            "https://token-plan.ap-southeast-1.maas.aliyuncs.com/compatible-mode/v1",
            "BAILIAN_TOKEN_PLAN_API_KEY",
            "api-key",
            "token-plan",
            "ap-southeast-1",
        ),
        ("https://openrouter.ai/api/v1", "OPENROUTER_API_KEY", "api-key", "openrouter", None),
    ],
)
def test_a_preset_entry_is_the_catalogue_provider_and_region(isolated, base_url, key_var, method, provider, region):
    """What /auth writes for a preset maps to qwen's own method, provider and region (no request is made)."""
    path = _settings(isolated, realistic(base_url, key="sk-sp-preset-key-0123", key_var=key_var, model="qwen3.7-plus"))

    status = _json(run_qwen(["auth", "status", "--json"]))

    (active,) = [m for m in status["methods"] if m["active"]]
    assert (active["method"], active["provider"] if provider else None) == (method, provider)
    assert active["base_url"] == base_url.rstrip("/") and active["model"] == "qwen3.7-plus"
    assert active["source"] == f"settings.json:{path}"
    if method == "coding-plan":  # the region is the method's own setting; api-key regions show as the base URL
        shown = _json(run_qwen(["config", "show", "--json"]))["settings"]["auth.region"]
        assert (shown["value"], shown["source"]) == (region, f"settings.json:{path}")


@pytest.mark.parametrize(
    "content, line",
    [
        ('{\n  "model": {"name": "m"}\n  "env": {}\n}\n', 3),
        ('{\n  // fine\n  "env": {"A": "b"},\n  "model": /* open\n', 4),
    ],
)
def test_a_broken_settings_json_is_one_warning_and_qwen_carries_on(isolated, openai_server, content, line):
    path = _settings(isolated, content)
    env = {"OPENAI_BASE_URL": openai_server.url, "OPENAI_API_KEY": "sk-test-key", "OPENAI_MODEL": "test-model"}

    result = run_qwen(["ask", "hi"], env=env)

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "Hello from stub"
    warnings = [w for w in result.stderr.splitlines() if "settings.json" in w]
    assert len(warnings) == 1 and f"{path}:{line}:" in warnings[0], result.stderr
    assert "Traceback" not in result.output

    alone = run_qwen(["ask", "hi"])  # nothing else configured: the usual first-run error, plus the warning
    assert alone.exit_code == 3 and f"{path}:{line}:" in alone.stderr and "Traceback" not in alone.output


def test_selected_openai_without_an_entry_is_openai_variables_and_model_name(isolated, openai_server):
    """Qwen Code's openai auth with no modelProviders entry: OPENAI_API_KEY and OPENAI_BASE_URL (here from
    settings.env) and model.name. The model name applies to that provider only, never to another one."""
    text = json.dumps(
        {
            "env": {"OPENAI_API_KEY": "sk-test-key", "OPENAI_BASE_URL": openai_server.url},
            "security": {"auth": {"selectedType": "openai"}},
            "model": {"name": "other-model"},
        }
    )
    path = _settings(isolated, text)

    answer = _json(run_qwen(["ask", "hi", "-o", "json"]))

    assert openai_server.chat_requests[0].json["model"] == "other-model"
    assert answer["resolution"]["origins"]["model"] == f"settings.json:{path}"
    env = {"DASHSCOPE_API_KEY": "sk-dashscope-0123456789", "QWEN_AUTH_PROVIDER": "dashscope"}
    model = _json(run_qwen(["config", "get", "general.model", "--json"], env=env))
    assert model["value"] != "other-model" and model["source"] == "catalogue"


def test_selected_qwen_oauth_is_the_qwen_oauth_method(isolated):
    path = _settings(
        isolated, '{"security": {"auth": {"selectedType": "qwen-oauth"}}, "model": {"name": "coder-model"}}'
    )

    status = run_qwen(["auth", "status", "--json"])

    assert status.exit_code == 3  # selected, but there is no oauth_creds.json: the usual "log in" answer
    assert json.loads(status.stdout)["active"] == "qwen-oauth"
    shown = _json(run_qwen(["config", "show", "--json"]))
    assert (shown["settings"]["auth.method"]["value"], shown["settings"]["auth.method"]["source"]) == (
        "qwen-oauth",
        f"settings.json:{path}",
    )
    listed = run_qwen(["config", "path"]).stdout.splitlines()
    assert listed[-1].split()[0] == str(path) and "qwen-code user" in listed[-1]


def test_selected_anthropic_is_the_anthropic_provider_on_its_own_protocol(isolated, anthropic_server):
    """Qwen Code's anthropic auth: ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL (here from settings.env) and
    model.name, sent as the Messages API."""
    from tests.servers.anthropic_stub import message_stream

    anthropic_server.accept_tokens = {"sk-ant-test"}
    text = json.dumps(
        {
            "env": {"ANTHROPIC_API_KEY": "sk-ant-test", "ANTHROPIC_BASE_URL": anthropic_server.url},
            "security": {"auth": {"selectedType": "anthropic"}},
            "model": {"name": "claude-from-settings"},
        }
    )
    path = _settings(isolated, text)
    anthropic_server.script(message_stream(["Hello ", "from claude"]))

    answer = _json(run_qwen(["ask", "hi", "-o", "json"]))

    assert answer["content"] == "Hello from claude"
    (request,) = anthropic_server.chat_requests
    assert request.path.startswith("/v1/messages") and request.json["model"] == "claude-from-settings"
    assert answer["resolution"]["provider"] == "anthropic"
    assert answer["resolution"]["origins"]["method"] == f"settings.json:{path}"


def test_a_qwen_setting_in_settings_json_env_is_shown_as_unused_not_filled(isolated, openai_server):
    """settings.json's `env` can fill a provider's variables, but qwen's own settings are read from flags,
    the environment, .env and config.toml only: `config show` must not call such an entry "filled"."""
    text = json.dumps(
        {
            "env": {"QWEN_PRIVACY_REQUIRE_NO_TRAINING": "false", "QWEN_NETWORK_PROXY": "http://127.0.0.1:9"},
            "privacy": {"usageStatisticsEnabled": False},
        }
    )
    path = _settings(isolated, text)

    shown = run_qwen(["config", "show"])
    assert shown.exit_code == 0, shown.output
    for name in ("QWEN_PRIVACY_REQUIRE_NO_TRAINING", "QWEN_NETWORK_PROXY"):
        assert f"{name} is filled from" not in shown.stderr
        assert f"{name} in {path} (Qwen Code's settings.json env) is not used" in shown.stderr
    settings = _json(run_qwen(["config", "show", "--json"]))
    assert settings["settings"]["network.proxy"]["value"] is None
    assert settings["qwen_code"]["ignored_env"] == {
        "QWEN_NETWORK_PROXY": f"settings.json:{path}",
        "QWEN_PRIVACY_REQUIRE_NO_TRAINING": f"settings.json:{path}",
    }
