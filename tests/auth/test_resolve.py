"""The resolver and the catalogues it reads: which method, which provider, which region, which model."""

from __future__ import annotations

import pytest

from qwen_cli import catalogue
from qwen_cli.auth import keystore, manage
from qwen_cli.auth.resolve import NotConfigured, choose, inventory, resolve
from qwen_cli.errors import AuthError, UsageError
from tests.auth.helpers import CANARY_KEY, settings_for

REQUIRED_PROVIDERS = (
    "openai",
    "anthropic",
    "openrouter",
    "deepseek",
    "dashscope",
    "dashscope-intl",
    "modelscope",
    "groq",
    "together",
    "fireworks",
    "mistral",
    "ollama",
    "lmstudio",
    "vllm",
    "custom",
)


def test_provider_catalogue_has_every_required_provider_with_its_fields():
    providers = catalogue.providers()
    for pid in REQUIRED_PROVIDERS:
        p = providers[pid]
        assert p.name and p.checked
        if pid != "custom":
            assert p.base_url and p.default_model
        if p.local:
            assert p.key_env is None
        elif pid != "custom":
            assert p.key_env and p.key_env.endswith("_API_KEY")


@pytest.mark.parametrize(
    "alias, region",
    [
        ("china", "china"),
        ("cn", "china"),
        ("aliyun", "china"),
        ("global", "global"),
        ("intl", "global"),
        ("international", "global"),
        ("alibabacloud", "global"),
        ("  INTL ", "global"),
    ],
)
def test_region_aliases(alias, region):
    assert catalogue.region(alias).id == region


def test_coding_plan_catalogue_matches_the_facts():
    plan = catalogue.coding_plan()
    assert plan["models"][0] == "qwen3.5-plus"
    assert catalogue.region("china").base_url == "https://coding.dashscope.aliyuncs.com/v1"
    assert catalogue.region("global").base_url == "https://coding-intl.dashscope.aliyuncs.com/v1"


def test_nothing_configured_is_its_own_error(isolated):
    with pytest.raises(NotConfigured) as info:
        resolve(settings_for())
    assert info.value.exit_code == 3
    for way in ("Qwen OAuth", "Coding Plan", "API key"):
        assert way in info.value.message
    for way in ("qwen auth login", "qwen-oauth", "coding-plan", "OPENAI_API_KEY"):
        assert way in info.value.hint


def test_auto_detection_order(isolated):
    env = {"BAILIAN_CODING_PLAN_API_KEY": "sk-sp-x1234567890", "DASHSCOPE_API_KEY": "sk-ds-1234567890"}
    assert choose(settings_for(**env)).provider == "dashscope"
    env["OPENAI_API_KEY"] = CANARY_KEY
    assert choose(settings_for(**env)).provider == "openai"
    env["OPENAI_BASE_URL"] = "http://127.0.0.1:1/v1"
    assert choose(settings_for(**env)).provider == "custom"
    assert choose(settings_for(BAILIAN_CODING_PLAN_API_KEY="sk-sp-x1234567890")).method == "coding-plan"


def test_oauth_file_from_qwen_code_is_picked_up(isolated):
    isolated.qwen_home.mkdir(parents=True)
    (isolated.qwen_home / "oauth_creds.json").write_text(
        '{"access_token": "a", "refresh_token": "r", "token_type": "Bearer", "expiry_date": 99999999999999}'
    )
    choice = choose(settings_for())
    assert (choice.method, choice.reason) == ("qwen-oauth", "oauth_creds.json")
    creds = resolve(settings_for())
    assert creds.base_url == "https://dashscope.aliyuncs.com/compatible-mode/v1"  # no resource_url
    assert creds.refresh is not None


def test_unknown_method_in_env_is_usage_error(isolated):
    from qwen_cli.errors import ConfigError

    with pytest.raises((UsageError, ConfigError)):
        choose(settings_for(QWEN_AUTH_METHOD="password"))


def test_api_key_missing_key_names_the_login_command_and_env_var(isolated):
    with pytest.raises(AuthError) as info:
        resolve(settings_for(QWEN_AUTH_METHOD="api-key", QWEN_AUTH_PROVIDER="groq"))
    assert "qwen auth login --method api-key --provider groq" in info.value.hint
    assert "GROQ_API_KEY" in info.value.hint


def test_stored_base_url_and_model_are_used(isolated):
    settings = settings_for()
    manage.store_api_key(settings, "custom", CANARY_KEY, "https://gw.example/v1/", "gw-model")
    creds = resolve(settings_for(QWEN_AUTH_METHOD="api-key"))
    assert (creds.provider, creds.base_url, creds.model, creds.token) == (
        "custom",
        "https://gw.example/v1",
        "gw-model",
        CANARY_KEY,
    )
    assert creds.source == "credentials.toml"


def test_coding_plan_stored_base_url_applies_only_to_its_region(isolated):
    settings = settings_for()
    manage.store_coding_plan(settings, "sk-sp-abcdef123456", "global", "https://gw.example/v1", None)
    assert resolve(settings_for()).base_url == "https://gw.example/v1"
    other = resolve(settings_for(QWEN_AUTH_REGION="cn"))
    assert other.base_url == "https://coding.dashscope.aliyuncs.com/v1"
    assert other.headers["X-DashScope-CacheControl"] == "enable"


def test_credentials_file_is_private_and_entries_are_replaced(isolated):
    import stat

    settings = settings_for()
    manage.store_api_key(settings, "openai", "sk-one-000000000001", None, None)
    manage.store_api_key(settings, "openai", "sk-two-000000000002", None, "gpt-x")
    path = keystore.path_for(isolated.qwen_home)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    entries = keystore.entries(isolated.qwen_home)
    assert len(entries) == 1 and entries[0].data == {"key": "sk-two-000000000002", "model": "gpt-x"}


def test_inventory_reads_no_network_and_marks_broken_entries(isolated):
    settings = settings_for()
    manage.store_api_key(settings, "custom", CANARY_KEY, None, None)  # custom without a base URL
    choice, states = inventory(settings_for())
    assert choice.provider == "custom"
    assert states[0].active and not states[0].usable and "base URL" in states[0].problem
