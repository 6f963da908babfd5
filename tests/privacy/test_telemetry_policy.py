"""Every path of the effective state, seen through `qwen telemetry status --json` and through what a real
run actually records."""

from __future__ import annotations

import json
import types

import pytest

from tests.helpers import invoke
from tests.privacy.util import hooked, mark_notice_shown, queue, queued, telemetry_dir, write_user_config

COLLECTING = {"QWEN_AUTH_METHOD": "coding-plan"}


def status(env: dict | None = None) -> dict:
    result = invoke(["telemetry", "status", "--json"], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def records_after_runs(env: dict, runs: int = 2, app_attrs: dict | None = None) -> list[dict]:
    mark_notice_shown()
    for _ in range(runs):
        hooked(["config", "get", "network.max_retries"], env=env, app_attrs=app_attrs)
    return queued()


def test_status_json_shape():
    data = status(COLLECTING)
    for key, kind in (
        ("enabled", bool),
        ("reason", str),
        ("detail", str),
        ("rule", int),
        ("queued", int),
        ("spool", str),
        ("exports", bool),
        ("notice_shown", bool),
    ):
        assert isinstance(data[key], kind), key
    assert "endpoint" in data and data["endpoint"] is None
    assert data["exports"] is False


@pytest.mark.parametrize("method", ["qwen-oauth", "coding-plan"])
def test_default_on_for_qwen_oauth_and_coding_plan(method):
    env = {"QWEN_AUTH_METHOD": method}
    data = status(env)
    assert (data["enabled"], data["reason"], data["rule"], data["method"]) == (True, "default_on", 3, method)
    events = records_after_runs(env)
    assert len(events) == 2 and {e["auth_method"] for e in events} == {method}


@pytest.mark.parametrize("value", ["1", "true", "yes"])
def test_do_not_track_turns_everything_off(value):
    env = {**COLLECTING, "DO_NOT_TRACK": value}
    write_user_config("[privacy]\nusage_statistics = true\n")
    data = status(env)
    assert (data["enabled"], data["reason"], data["rule"]) == (False, "do_not_track", 1)
    assert records_after_runs(env) == []
    assert not queue().exists()


def test_do_not_track_zero_does_not_opt_out():
    data = status({**COLLECTING, "DO_NOT_TRACK": "0"})
    assert data["enabled"] is True


@pytest.mark.parametrize(
    "name", ["QWEN_USAGE_STATISTICS", "QWEN_USAGE_STATISTICS_ENABLED", "QWEN_PRIVACY_USAGE_STATISTICS"]
)
def test_environment_switch_off(name):
    env = {**COLLECTING, name: "0"}
    data = status(env)
    assert (data["enabled"], data["reason"], data["rule"]) == (False, "env_opt_out", 1)
    assert name in data["detail"]
    assert records_after_runs(env) == []


def test_dotenv_switch_off(isolated):
    (isolated.work / ".env").write_text("QWEN_USAGE_STATISTICS=0\n")
    data = status(COLLECTING)
    assert (data["enabled"], data["reason"]) == (False, "env_opt_out")
    assert records_after_runs(COLLECTING) == []


def test_api_key_method_is_never_collected_whatever_the_setting():
    write_user_config('[privacy]\nusage_statistics = true\n[auth]\nmethod = "api-key"\n')
    data = status({"QWEN_USAGE_STATISTICS": "1"})
    assert (data["enabled"], data["reason"], data["rule"], data["method"]) == (False, "api_key_method", 2, "api-key")
    assert records_after_runs({"QWEN_USAGE_STATISTICS": "1"}) == []
    assert not telemetry_dir().joinpath("installation-id").exists()


def test_credentials_of_the_invocation_decide_over_the_configured_method():
    """A command that resolved api-key credentials records nothing even if auth.method says coding-plan."""
    creds = types.SimpleNamespace(method="api-key", provider="openai", model="gpt-4o-mini")
    assert records_after_runs(COLLECTING, app_attrs={"credentials": creds}) == []
    creds = types.SimpleNamespace(method="qwen-oauth", provider="qwen", model="coder-model")
    events = records_after_runs({}, app_attrs={"credentials": creds})
    assert [(e["auth_method"], e["provider"], e["model"]) for e in events] == [
        ("qwen-oauth", "qwen", "coder-model")
    ] * 2


def test_no_method_configured_collects_nothing():
    data = status()
    assert (data["enabled"], data["reason"], data["rule"], data["method"]) == (False, "no_auth_method", 2, None)
    assert not telemetry_dir().exists()  # looking at the status leaves no trace
    assert records_after_runs({}) == []
    assert sorted(p.name for p in telemetry_dir().iterdir()) == ["notice-shown"]


def test_user_opt_out_in_config_file():
    write_user_config("[privacy]\nusage_statistics = false\n")
    data = status(COLLECTING)
    assert (data["enabled"], data["reason"], data["rule"]) == (False, "setting_off", 3)
    assert records_after_runs(COLLECTING) == []


def test_explicit_setting_on():
    write_user_config("[privacy]\nusage_statistics = true\n")
    data = status(COLLECTING)
    assert (data["enabled"], data["reason"], data["rule"]) == (True, "setting_on", 3)


def test_setting_on_in_a_dotenv_file_is_named_as_the_reason_not_the_default(isolated):
    (isolated.work / ".env").write_text("QWEN_PRIVACY_USAGE_STATISTICS=true\n")
    data = status(COLLECTING)
    assert (data["enabled"], data["reason"], data["rule"]) == (True, "setting_on", 3)
    assert data["setting_source"].startswith(".env:")


def test_user_opt_out_cannot_be_overridden_by_project_dotenv_or_environment(isolated):
    write_user_config("[privacy]\nusage_statistics = false\n")
    (isolated.work / ".qwen").mkdir()
    (isolated.work / ".qwen" / "config.toml").write_text("[privacy]\nusage_statistics = true\n")
    (isolated.work / ".env").write_text("QWEN_USAGE_STATISTICS=1\n")
    env = {**COLLECTING, "QWEN_USAGE_STATISTICS_ENABLED": "true"}
    data = status(env)
    assert (data["enabled"], data["reason"]) == (False, "setting_off")
    assert records_after_runs(env) == []


def test_endpoint_from_environment_is_used_and_from_a_project_file_ignored(isolated):
    data = status({**COLLECTING, "QWEN_TELEMETRY_ENDPOINT": "http://127.0.0.1:9/v1/logs"})
    assert data["endpoint"] == "http://127.0.0.1:9/v1/logs" and data["exports"] is True
    (isolated.work / ".qwen").mkdir()
    (isolated.work / ".qwen" / "config.toml").write_text('[telemetry]\nendpoint = "http://127.0.0.1:9/v1/logs"\n')
    data = status(COLLECTING)
    assert data["endpoint"] is None and "ignored" in data["endpoint_note"]
    data = status({**COLLECTING, "QWEN_TELEMETRY_ENDPOINT": "ftp://127.0.0.1/x"})
    assert data["endpoint"] is None


def test_status_text_names_the_rule_and_says_nothing_leaves():
    result = invoke(["telemetry", "status"], env={**COLLECTING, "DO_NOT_TRACK": "1"})
    assert result.exit_code == 0
    assert "Usage statistics: off" in result.stdout
    assert "rule 1" in result.stdout and "DO_NOT_TRACK" in result.stdout
    assert "nothing leaves this machine" in result.stdout
    result = invoke(["telemetry", "status"], env={"QWEN_AUTH_METHOD": "api-key"})
    assert "rule 2" in result.stdout and "api-key" in result.stdout


def test_first_collection_shows_the_notice_once_and_records_nothing():
    first = hooked(["config", "get", "network.max_retries"], env=COLLECTING)
    assert first.exit_code == 0 and first.stdout == "3\n"
    assert "Usage statistics" in first.stderr and "qwen telemetry off" in first.stderr
    assert "DO_NOT_TRACK" in first.stderr
    assert queued() == []
    second = hooked(["config", "get", "network.max_retries"], env=COLLECTING)
    assert "Usage statistics" not in second.stderr
    assert len(queued()) == 1


def test_no_notice_when_not_collecting():
    result = hooked(["config", "get", "network.max_retries"], env={"QWEN_AUTH_METHOD": "api-key"})
    assert result.stderr == ""
    result = hooked(["config", "get", "network.max_retries"], env={**COLLECTING, "DO_NOT_TRACK": "1"})
    assert result.stderr == ""


def test_on_and_off_commands():
    result = invoke(["telemetry", "off"], env=COLLECTING)
    assert result.exit_code == 0 and "off" in result.stdout
    assert status(COLLECTING)["reason"] == "setting_off"
    result = invoke(["telemetry", "on"], env=COLLECTING)
    assert result.exit_code == 0 and "Usage statistics: on" in result.stdout
    assert "never your prompts" in result.stderr.lower()
    assert status(COLLECTING)["reason"] == "setting_on"
    # `on` shows what is collected, so the first collecting run records at once without a second notice.
    run = hooked(["config", "get", "network.max_retries"], env=COLLECTING)
    assert run.stderr == "" and len(queued()) == 1
    result = invoke(["telemetry", "on"], env={"QWEN_AUTH_METHOD": "api-key"})
    assert "still off" in result.stdout and "api-key" in result.stdout


def test_telemetry_commands_themselves_are_not_recorded():
    mark_notice_shown()
    for args in (["telemetry", "status"], ["telemetry", "show"], ["telemetry", "flush"]):
        hooked(args, env=COLLECTING)
    assert queued() == []
