"""The allowlist, the crash-frame reduction, the spool bound and `qwen telemetry show`."""

from __future__ import annotations

import json
import os
import stat

import pytest

from qwen_cli.telemetry import events, spool
from qwen_cli.telemetry.hook import classify
from tests.helpers import invoke
from tests.privacy.util import hooked, mark_notice_shown, queue, queued, qwen_home

COLLECTING = {"QWEN_AUTH_METHOD": "coding-plan"}


def event(**overrides) -> dict:
    base = {
        "event": "command",
        "ts": 1_790_000_000,
        "command": "config",
        "subcommand": "get",
        "auth_method": "coding-plan",
        "provider": "coding-plan",
        "model": "qwen3.5-plus",
        "duration_ms": 12,
        "exit_code": 0,
        "cli_version": "0.1.0",
        "python_version": "3.11.7",
        "os_family": "linux",
        "installation_id": "0" * 32,
        "session_id": "1" * 32,
    }
    base.update(overrides)
    return base


def test_a_valid_event_passes_in_field_order():
    clean = events.validate(event(input_tokens=5, output_tokens=3, total_tokens=8))
    assert list(clean) == [k for k in events.FIELDS if k in clean]


@pytest.mark.parametrize(
    "overrides",
    [
        {"prompt": "hello"},
        {"hostname": "box"},
        {"cwd": "/home/alice"},
        {"user": "alice"},
        {"command": "rm -rf /"},
        {"command": "Config"},
        {"subcommand": "a b"},
        {"auth_method": "password"},
        {"provider": "evil.example.com"},
        {"model": "sk-abcdefghijklmnop"},
        {"model": "/home/alice/model"},
        {"duration_ms": -1},
        {"duration_ms": "12"},
        {"duration_ms": True},
        {"exit_code": 256},
        {"error_class": "Error: /home/alice/secret"},
        {"crash_frames": ["/home/alice/x.py:f:1"]},
        {"crash_frames": ["tests.test_x:f:1"]},
        {"crash_frames": "qwen_cli.x:f:1"},
        {"input_tokens": 1.5},
        {"os_family": "Ubuntu 24.04 on alice-laptop"},
        {"installation_id": "alice"},
        {"session_id": "x" * 32},
        {"cli_version": "0.1.0 alice"},
        {"ts": None},
    ],
)
def test_anything_outside_the_allowlist_is_rejected_without_echoing_the_value(overrides):
    with pytest.raises(events.EventRejected) as info:
        events.validate(event(**overrides))
    for value in overrides.values():
        if isinstance(value, str) and len(value) > 3:
            assert value not in str(info.value)


def test_recording_rejects_what_the_allowlist_rejects():
    with pytest.raises(events.EventRejected):
        spool.append(qwen_home(), event(prompt="secret prompt"))
    assert not queue().exists()


def test_user_supplied_ids_are_mapped_to_the_catalogue():
    assert events.model_id("qwen3-coder-plus") == "qwen3-coder-plus"
    assert events.model_id("coder-model") == "coder-model"
    assert events.model_id("deepseek-v4-flash") == "deepseek-v4-flash"  # in a catalogue list, not a default
    for free_text in ("sk-or-v1-abcdef0123456789", "/home/alice/models/q.gguf", "my-private-finetune", "a b"):
        assert events.model_id(free_text) == "other"
    assert events.model_id(None) is None
    assert events.provider_id("openrouter") == "openrouter"
    assert events.provider_id("https://llm.internal.example.com/v1") == "custom"
    assert events.provider_id("anything", method="qwen-oauth") == "qwen"
    assert events.provider_id("anything", method="coding-plan") == "coding-plan"


def _crash_inside_package():
    from qwen_cli import catalogue

    secret_local = "CANARY-LOCAL-sk-123456"  # noqa: F841 - a local that must not be collected
    catalogue.region("/home/alice/CANARY-PATH")  # raises UsageError with the path in its message


def test_crash_frames_keep_only_package_frames_as_module_function_line():
    try:
        _crash_inside_package()
    except Exception as exc:  # noqa: BLE001
        error = exc
    frames = events.crash_frames(error)
    assert frames and all(f.startswith("qwen_cli.") for f in frames)
    assert any(f.startswith("qwen_cli.catalogue:region:") for f in frames)
    assert not any("test" in f for f in frames)
    text = json.dumps(
        events.validate(event(event="crash", exit_code=1, error_class=events.error_class(error), crash_frames=frames))
    )
    assert "CANARY" not in text and "alice" not in text and "/" not in text.replace("\\/", "")


def test_token_counts_from_usage_objects_and_mappings():
    from qwen_cli.providers.events import Usage

    assert events.token_counts(Usage(5, 3, 8)) == {"input_tokens": 5, "output_tokens": 3, "total_tokens": 8}
    assert events.token_counts({"input_tokens": 2, "output_tokens": 1}) == {"input_tokens": 2, "output_tokens": 1}
    assert events.token_counts({"prompt_tokens": "5", "total_tokens": -1}) == {}
    assert events.token_counts(None) == {}


def test_token_counts_recorded_from_app_usage():
    mark_notice_shown()
    hooked(
        ["config", "get", "network.max_retries"],
        env=COLLECTING,
        app_attrs={"usage": {"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9}},
    )
    (recorded,) = queued()
    assert (recorded["input_tokens"], recorded["output_tokens"], recorded["total_tokens"]) == (7, 2, 9)


def test_command_names_come_only_from_the_cli_table():
    import qwen_cli.cli.config  # noqa: F401 - loaded, as it would be after the command ran
    import qwen_cli.cli.root  # noqa: F401

    assert classify(["config", "set", "general.model", "sk-secret"]) == ("config", "set")
    assert classify(["--debug", "config", "get", "x"]) == ("config", "get")
    assert classify(["ask", "what is the password of alice?"]) == ("ask", None)
    assert classify(["what is the password of alice?"]) == ("unknown", None)
    assert classify([]) == ("none", None)
    assert classify(["config", "/home/alice"]) == ("config", None)


def test_recorded_event_of_a_real_run():
    mark_notice_shown()
    result = hooked(["config", "set", "general.model", "sk-CANARY-model-123456"], env=COLLECTING)
    assert result.exit_code == 0
    hooked(["config", "get", "general.model"], env=COLLECTING)
    hooked(["config", "get", "no.such.key"], env=COLLECTING)
    first, second, third = queued()
    assert (first["command"], first["subcommand"], first["exit_code"]) == ("config", "set", 0)
    assert second["model"] == "other"
    assert (third["exit_code"], third["error_class"], third["event"]) == (2, "UsageError", "command")
    assert first["installation_id"] == second["installation_id"] != first["session_id"]
    assert first["session_id"] != second["session_id"]
    assert set().union(*queued()) <= set(events.FIELDS)


def test_spool_is_private():
    mark_notice_shown()
    hooked(["config", "get", "network.max_retries"], env=COLLECTING)
    assert stat.S_IMODE(os.stat(queue()).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(queue().parent).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(queue().parent / "installation-id").st_mode) == 0o600


def test_spool_keeps_at_most_1000_events_dropping_the_oldest():
    home = qwen_home()
    lines = [spool.encode(event(duration_ms=i)) for i in range(1000)]
    queue().parent.mkdir(parents=True)
    queue().write_text("\n".join(lines) + "\n")
    for i in range(1000, 1005):
        spool.append(home, event(duration_ms=i))
    kept = spool.read(home)
    assert len(kept) == 1000
    assert kept[0]["duration_ms"] == 5 and kept[-1]["duration_ms"] == 1004


def test_spool_keeps_at_most_one_megabyte():
    home = qwen_home()
    frames = [f"qwen_cli.providers.openai_compat:some_rather_long_function_name_{i}:{1000 + i}" for i in range(20)]
    big = event(event="crash", exit_code=1, error_class="RuntimeError", crash_frames=frames)
    assert len(spool.encode(big)) > 1500
    lines = [spool.encode(big)] * 700
    queue().parent.mkdir(parents=True)
    queue().write_text("\n".join(lines) + "\n")
    spool.append(home, event(duration_ms=99))
    size = queue().stat().st_size
    kept = spool.read(home)
    assert size <= spool.MAX_BYTES and len(kept) < 700
    assert kept[-1]["duration_ms"] == 99


def test_bound_is_exact():
    lines = ["x" * 99] * 20_000  # 100 bytes a line with its newline
    assert len(spool.bound(lines)) == 1000
    assert sum(len(x) + 1 for x in spool.bound(["y" * 4999] * 300)) == 1_000_000


def test_show_prints_exactly_what_is_queued():
    home = qwen_home()
    spool.append(home, event(duration_ms=1))
    spool.append(home, event(duration_ms=2, exit_code=3, error_class="AuthError"))
    result = invoke(["telemetry", "show"])
    assert result.exit_code == 0
    assert result.stdout.splitlines() == queue().read_text().splitlines()
    assert "2 event(s) queued" in result.stderr and "stay on this machine" in result.stderr


def test_show_json_shape_and_otlp_body():
    home = qwen_home()
    spool.append(home, event(duration_ms=1))
    data = json.loads(invoke(["telemetry", "show", "--json"]).stdout)
    assert set(data) == {"count", "spool", "endpoint", "events"}
    assert data["count"] == 1 and data["endpoint"] is None and data["events"] == spool.read(home)
    body = json.loads(invoke(["telemetry", "show", "--otlp"]).stdout)
    (record,) = body["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
    assert record["body"] == {"stringValue": "command"}
    attrs = {a["key"]: a["value"] for a in record["attributes"]}
    assert attrs["duration_ms"] == {"intValue": "1"} and attrs["command"] == {"stringValue": "config"}


def test_a_hand_edited_spool_cannot_smuggle_fields():
    home = qwen_home()
    spool.append(home, event(duration_ms=1))
    with open(queue(), "a") as fh:
        fh.write(json.dumps(event(duration_ms=2, prompt="CANARY-SMUGGLED")) + "\n")
        fh.write("not json\n")
    result = invoke(["telemetry", "show"])
    assert "CANARY" not in result.stdout and len(result.stdout.splitlines()) == 1
    body = invoke(["telemetry", "show", "--otlp"]).stdout
    assert "CANARY" not in body
