"""The statistics policy where its usual inputs are missing: no method can be resolved (the status then names
no method source, or the configured method's), an opt-out set by a layer other than a file or the environment
(a command-line flag), and a settings object with no user file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace

from qwen_cli.settings import Settings
from qwen_cli.telemetry import policy
from tests.helpers import invoke


def status(env: dict | None = None) -> dict:
    result = invoke(["telemetry", "status", "--json"], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_with_no_method_configured_the_status_names_no_method_and_no_source(isolated):
    data = status()
    assert (data["reason"], data["method"], data["method_source"]) == ("no_auth_method", None, None)


def test_a_configured_method_that_cannot_be_resolved_is_still_named_with_its_source(isolated):
    settings = Settings.load(
        env={**os.environ, "QWEN_AUTH_METHOD": "coding-plan", "QWEN_PROFILE": "gone"}, cwd=Path.cwd()
    )
    app = SimpleNamespace(credentials=None)
    assert policy.invocation_method(app, settings) == ("coding-plan", "env:QWEN_AUTH_METHOD")


def test_an_opt_out_from_a_flag_turns_statistics_off_and_stops_sending(isolated):
    """Neither a file nor the environment says false: the setting itself (from the flag layer) decides."""
    env = {**os.environ, "QWEN_AUTH_METHOD": "qwen-oauth", "QWEN_TELEMETRY_ENDPOINT": "http://127.0.0.1:9/v1"}
    settings = Settings.load(env=env, cwd=Path.cwd(), flags={policy.SETTING: "false"})
    decision = policy.decide(settings, "qwen-oauth", "env:QWEN_AUTH_METHOD")
    assert (decision.enabled, decision.reason) == (False, "setting_off")
    assert decision.detail == "privacy.usage_statistics = false (flag)"
    assert policy.sending_allowed(settings) == (False, "usage statistics are off")
    on = Settings.load(env=env, cwd=Path.cwd())
    assert policy.sending_allowed(on) == (True, "http://127.0.0.1:9/v1")


def test_without_a_user_file_the_project_files_opt_out_still_counts(tmp_path):
    project = tmp_path / "project.toml"
    project.write_text("[privacy]\nusage_statistics = false\n")
    settings = SimpleNamespace(user_file=None, project_file=project)
    assert policy.file_opt_out(settings) == str(project)
