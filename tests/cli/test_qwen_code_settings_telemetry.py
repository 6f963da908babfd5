"""Qwen Code's opt-out is honoured in the shared home (issue 18 §5): `privacy.usageStatisticsEnabled: false`
in `$QWEN_HOME/settings.json` turns qwen's statistics off, and `telemetry status` names the file. Any
settings.json may only turn them off: `true` in one never turns them on (docs/privacy.md, docs/security.md)."""

from __future__ import annotations

import json

import pytest

from tests.cli.qwen_code_files import write
from tests.helpers import run_qwen
from tests.privacy.util import hooked, mark_notice_shown, queued, write_user_config

COLLECTING = {"QWEN_AUTH_METHOD": "coding-plan"}  # a method whose statistics are on by default
OFF = '{\n  // Qwen Code: /settings > Usage statistics\n  "privacy": {"usageStatisticsEnabled": false,},\n}\n'
ON = '{"privacy": {"usageStatisticsEnabled": true}}'


def _status(env: dict | None = None) -> dict:
    result = run_qwen(["telemetry", "status", "--json"], env={**COLLECTING, **(env or {})})
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _recorded() -> list[dict]:
    mark_notice_shown()
    hooked(["config", "get", "network.max_retries"], env=COLLECTING)
    return queued()


def test_qwen_codes_opt_out_in_the_shared_home_turns_qwens_off(isolated):
    path = write(isolated.qwen_home / "settings.json", OFF)

    data = _status()

    assert (data["enabled"], data["reason"], data["rule"], data["file"]) == (False, "setting_off", 3, str(path))
    assert str(path) in data["detail"] and "usageStatisticsEnabled" in data["detail"]
    text = run_qwen(["telemetry", "status"], env=COLLECTING).stdout
    assert "Usage statistics: off" in text and f"Decided by file:  {path}" in text
    assert _recorded() == []


def test_it_wins_over_qwens_own_true_and_telemetry_on_says_so(isolated):
    path = write(isolated.qwen_home / "settings.json", OFF)
    write_user_config("[privacy]\nusage_statistics = true\n")
    assert _status()["file"] == str(path)

    switched = run_qwen(["telemetry", "on"], env=COLLECTING)
    assert switched.exit_code == 0, switched.output
    assert "still off" in switched.stdout and str(path) in switched.stdout


@pytest.mark.parametrize("trusted", [False, True])
def test_a_project_settings_json_may_turn_them_off_trusted_or_not(isolated, trusted):
    path = write(isolated.work / ".qwen" / "settings.json", OFF)
    if trusted:
        assert run_qwen(["trust"]).exit_code == 0
    data = _status()
    assert (data["enabled"], data["file"]) == (False, str(path))


@pytest.mark.parametrize("where", ["user", "project"])
def test_true_in_a_settings_json_never_turns_them_on(isolated, where):
    write_user_config("[privacy]\nusage_statistics = false\n")
    write(isolated.qwen_home / "settings.json" if where == "user" else isolated.work / ".qwen" / "settings.json", ON)
    data = _status()
    assert (data["enabled"], data["file"]) == (False, str(isolated.qwen_home / "config.toml"))


def test_without_an_opt_out_the_default_stands(isolated):
    write(isolated.qwen_home / "settings.json", ON)
    data = _status()
    assert (data["enabled"], data["reason"], data["file"]) == (True, "default_on", None)
