"""`qwen models` as a real process: the provider's /models merged with the catalogue, and its failures."""

from __future__ import annotations

import json

import pytest

from tests.helpers import login_second_api_key, run_qwen
from tests.servers.openai_stub import error


@pytest.fixture
def env(openai_server):
    return {"OPENAI_API_KEY": "sk-test-key", "OPENAI_BASE_URL": openai_server.url, "OPENAI_MODEL": "test-model"}


def test_lists_the_providers_models_with_facts_and_the_default(openai_server, env, isolated):
    isolated.qwen_home.mkdir(parents=True, exist_ok=True)
    (isolated.qwen_home / "config.toml").write_text(
        '[models."other-model"]\ncontext_window = 32768\nimage_input = true\njson_schema = false\n'
    )
    result = run_qwen(["models", "--json"], env=env)
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["default"] == "test-model" and out["base_url"] == openai_server.url
    rows = {r["id"]: r for r in out["models"]}
    assert rows["other-model"] == {
        "id": "other-model",
        "default": False,
        "offered": True,
        "context_window": 32768,
        "image_input": True,
        "json_schema": False,
    }
    assert rows["test-model"]["default"] is True
    assert rows["test-model"]["context_window"] is None and rows["test-model"]["image_input"] is None  # unknown
    assert [r.path for r in openai_server.requests] == ["/v1/models"]

    text = run_qwen(["models"], env=env)
    lines = text.stdout.splitlines()
    assert lines[0].split() == ["MODEL", "CONTEXT", "IMAGES", "SCHEMA"]
    assert lines[1].split() == ["other-model", "32,768", "yes", "no"]
    assert lines[2].split() == ["*", "test-model", "unknown", "unknown", "unknown"]
    assert "default" in text.stderr


def test_a_default_the_provider_does_not_list_is_shown_as_such(openai_server, env):
    openai_server.models = ["only-this"]
    out = json.loads(run_qwen(["models", "--json"], env=env).stdout)
    assert [(r["id"], r["offered"], r["default"]) for r in out["models"]] == [
        ("only-this", True, False),
        ("test-model", False, True),
    ]


def test_a_named_provider_login(openai_server, env):
    login_second_api_key(openai_server, env)
    openai_server.requests.clear()
    out = json.loads(run_qwen(["models", "--provider", "openrouter", "--json"], env={}).stdout)
    assert out["provider"] == "openrouter" and out["default"] == "other-model"
    assert openai_server.requests[-1].bearer == "sk-second-key"


@pytest.mark.parametrize(("status", "code"), [(500, 5), (404, 4)])
def test_a_failing_provider_is_one_error_line_and_its_exit_code(openai_server, env, status, code):
    openai_server.models_response = error(status, {"error": {"message": "no models here"}}, times=10)
    result = run_qwen(["models"], env={**env, "QWEN_NETWORK_MAX_RETRIES": "0"})
    assert result.exit_code == code and result.stdout == ""
    assert result.stderr.startswith("Error: ") and "Traceback" not in result.stderr


def test_completion_of_model_uses_the_last_listing_without_a_request(openai_server, env, isolated):
    from tests.cli.test_completion import bash_complete

    login_second_api_key(openai_server, env)
    openai_server.models = ["listed-alpha", "listed-beta"]
    assert run_qwen(["models"], env={}).exit_code == 0
    seen = len(openai_server.requests)
    assert bash_complete(["qwen", "ask", "-m", "listed-"]) == ["listed-alpha", "listed-beta"]
    assert len(openai_server.requests) == seen  # completion made no request
