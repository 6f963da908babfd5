"""The statistics policy's second lines of defence, through its public functions: a decision cannot be edited
after it is made, an opt-out in the project file still counts when the user file cannot be read, and a method
the policy does not know is never taken from the credentials."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest

from qwen_cli.telemetry import policy


def test_a_decision_cannot_be_changed_once_made():
    decision = policy.Decision(
        False, "do_not_track", "DO_NOT_TRACK is set", "qwen-oauth", "config", True, "default", None
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        decision.enabled = True
    assert decision.as_dict()["enabled"] is False and decision.rule == 1


def test_a_project_opt_out_counts_even_when_the_user_file_cannot_be_read(tmp_path):
    unreadable = tmp_path / "config.toml"
    unreadable.mkdir()  # reading it fails (as a file without read permission would)
    project = tmp_path / "project.toml"
    project.write_text("[privacy]\nusage_statistics = false\n")
    settings = SimpleNamespace(user_file=unreadable, project_file=project)
    assert policy.file_opt_out(settings) == str(project)
    assert policy.file_opt_out(SimpleNamespace(user_file=unreadable, project_file=None)) is None


def test_an_unknown_method_on_the_credentials_falls_back_to_the_configured_one():
    settings = SimpleNamespace(
        get=lambda name: "coding-plan" if name == "auth.method" else None, source=lambda name: "user config"
    )
    odd = SimpleNamespace(credentials=SimpleNamespace(method="carrier-pigeon"))
    assert policy.invocation_method(odd, settings) == ("coding-plan", "user config")
    used = SimpleNamespace(credentials=SimpleNamespace(method="api-key"))
    assert policy.invocation_method(used, settings) == ("api-key", "credentials used by this command")
