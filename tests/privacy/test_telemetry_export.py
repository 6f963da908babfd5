"""Export to a loopback OTLP collector: flush, failures, the rate limit, the background send, and not one
byte after `qwen telemetry off`."""

from __future__ import annotations

import json
import time

from qwen_cli.settings import Settings
from qwen_cli.telemetry import exporter, spool
from tests.helpers import invoke, run_qwen
from tests.privacy.test_telemetry_allowlist import event
from tests.privacy.util import mark_notice_shown, queue, queued, qwen_home, telemetry_dir, wait_until


def env_for(collector, **extra) -> dict:
    return {"QWEN_AUTH_METHOD": "coding-plan", "QWEN_TELEMETRY_ENDPOINT": collector.url, **extra}


def fill(n: int) -> None:
    for i in range(n):
        spool.append(qwen_home(), event(duration_ms=i))


def test_flush_sends_otlp_json_logs_and_reports_the_count(collector):
    fill(3)
    result = invoke(["telemetry", "flush"], env=env_for(collector))
    assert result.exit_code == 0, result.output
    assert result.stdout == "Sent 3 event(s).\n"
    (request,) = collector.requests
    assert request["method"] == "POST" and request["path"] == "/v1/logs"
    assert request["headers"]["Content-Type"] == "application/json"
    body = json.loads(request["body"])
    resource = body["resourceLogs"][0]
    assert {"key": "service.name", "value": {"stringValue": "qwen-cli"}} in resource["resource"]["attributes"]
    records = resource["scopeLogs"][0]["logRecords"]
    assert [r["attributes"][[a["key"] for a in r["attributes"]].index("duration_ms")]["value"] for r in records] == [
        {"intValue": "0"},
        {"intValue": "1"},
        {"intValue": "2"},
    ]
    assert all(r["timeUnixNano"] == str(1_790_000_000 * 10**9) for r in records)
    assert not queue().exists()
    again = invoke(["telemetry", "flush", "--json"], env=env_for(collector))
    assert json.loads(again.stdout) == {"sent": 0, "kept": 0, "requests": 0, "skipped": None, "error": None}
    assert len(collector.requests) == 1


def test_flush_without_endpoint_sends_nothing_and_keeps_events():
    fill(2)
    result = invoke(["telemetry", "flush"], env={"QWEN_AUTH_METHOD": "coding-plan"})
    assert result.exit_code == 0
    assert "Sent 0 events" in result.stdout and "nothing leaves this machine" in result.stdout
    assert len(queued()) == 2


def test_a_failed_send_keeps_the_events(collector):
    fill(4)
    collector.status = 503
    result = invoke(["telemetry", "flush"], env=env_for(collector))
    assert result.exit_code == 6
    assert "4 kept" in result.stderr and "HTTP 503" in result.stderr
    assert len(queued()) == 4
    collector.stop()  # now nobody listens at all
    result = invoke(["telemetry", "flush"], env=env_for(collector))
    assert result.exit_code == 6 and len(queued()) == 4
    assert collector.url not in result.stderr


def test_batches_and_partial_failure(collector, monkeypatch):
    monkeypatch.setattr(exporter, "BATCH_SIZE", 2)
    fill(5)
    settings = Settings.load(env={**__import__("os").environ, **env_for(collector)})
    result = exporter.send(settings)
    assert (result.sent, result.kept, result.requests) == (5, 0, 3)
    assert len(collector.records()) == 5


def test_rate_limit_at_most_one_automatic_export_a_minute():
    home = qwen_home()
    now = 1_800_000_000.0
    assert exporter.claim(home, now) is True
    assert exporter.claim(home, now + 1) is False
    assert exporter.claim(home, now + 59) is False
    assert exporter.claim(home, now + 60) is True


def test_background_export_never_delays_the_command(collector):
    collector.delay = 4.0  # a collector that answers slowly
    mark_notice_shown()
    env = env_for(collector)
    started = time.monotonic()
    result = run_qwen(["config", "get", "network.max_retries"], env=env)
    elapsed = time.monotonic() - started
    assert result.exit_code == 0 and result.stdout == "3\n" and result.stderr == ""
    assert elapsed < 3.0
    assert collector.wait_for(1)  # the detached sender did deliver, after the command had exited
    assert wait_until(lambda: not queue().exists())
    # Within the minute a second command queues its event but starts no export.
    run_qwen(["config", "get", "network.max_retries"], env=env)
    time.sleep(0.5)
    assert collector.snapshot()[1] == 1 and len(queued()) == 1


def test_zero_bytes_after_off(collector, isolated):
    mark_notice_shown()
    env = env_for(collector)
    run_qwen(["config", "get", "network.max_retries"], env=env)
    assert collector.wait_for(1), "the first automatic export should have reached the collector"
    for _ in range(3):
        run_qwen(["terms", "show"], env=env)
    assert len(queued()) >= 3

    result = run_qwen(["telemetry", "off"], env=env)
    assert result.exit_code == 0 and "Deleted" in result.stdout
    assert not queue().exists()
    before = collector.snapshot()

    # Every way to provoke a send: more commands (with the rate-limit stamp gone), flushes, a .env and a
    # project file that try to switch statistics back on, and a sender started by hand.
    (isolated.work / ".qwen").mkdir()
    (isolated.work / ".qwen" / "config.toml").write_text("[privacy]\nusage_statistics = true\n")
    (isolated.work / ".env").write_text("QWEN_USAGE_STATISTICS=1\n")
    for args in (
        ["config", "get", "network.max_retries"],
        ["terms", "show"],
        ["telemetry", "status"],
        ["ask", "hello"],
        ["telemetry", "flush"],
        ["config", "show"],
        ["telemetry", "flush"],
    ):
        spool.stamp_file(qwen_home()).unlink(missing_ok=True)
        run_qwen(args, env={**env, "QWEN_USAGE_STATISTICS_ENABLED": "1"})
    spool.stamp_file(qwen_home()).unlink(missing_ok=True)
    run_qwen(["telemetry", "flush"], env=env)
    assert exporter.send(Settings.load()).sent == 0
    time.sleep(1.0)  # room for any detached sender to (wrongly) fire
    assert collector.snapshot() == before
    assert not queue().exists()
    assert not (telemetry_dir() / "installation-id").exists()
    status = json.loads(run_qwen(["telemetry", "status", "--json"], env=env).stdout)
    assert status["enabled"] is False and status["queued"] == 0


def test_off_waits_for_a_send_in_flight_and_nothing_follows(collector):
    """`off` while a slow export is running: once `off` has returned, the byte count never moves."""
    collector.delay = 1.5
    fill(3)
    env = env_for(collector)
    exporter.spawn_background({**__import__("os").environ, **env}, qwen_home().parent)
    assert collector.wait_for(1)  # the sender is now waiting for the slow answer, holding the send lock
    result = invoke(["telemetry", "off"], env=env)
    assert result.exit_code == 0
    after_off = collector.snapshot()
    fill(2)  # even events that appear afterwards (e.g. written by an old process) are never sent
    spool.stamp_file(qwen_home()).unlink(missing_ok=True)
    exporter.spawn_background({**__import__("os").environ, **env}, qwen_home().parent)
    invoke(["telemetry", "flush"], env=env)
    time.sleep(1.0)
    assert collector.snapshot() == after_off


def test_setting_false_by_hand_also_stops_sending(collector):
    fill(2)
    env = env_for(collector)
    invoke(["config", "set", "privacy.usage_statistics", "false"], env=env)
    result = invoke(["telemetry", "flush"], env=env)
    assert result.exit_code == 0 and "Sent 0 events" in result.stdout
    assert collector.snapshot() == (0, 0, 0)


def test_a_user_opt_out_blocks_flush_even_when_a_project_file_says_true(collector, isolated):
    """Events queued before the opt-out (say by an older qwen) stay here: the user file's false wins."""
    from tests.privacy.util import write_user_config

    write_user_config("[privacy]\nusage_statistics = false\n")
    (isolated.work / ".qwen").mkdir()
    (isolated.work / ".qwen" / "config.toml").write_text("[privacy]\nusage_statistics = true\n")
    fill(2)
    result = invoke(["telemetry", "flush"], env=env_for(collector))
    assert result.exit_code == 0 and "Sent 0 events" in result.stdout, result.output
    assert collector.snapshot() == (0, 0, 0)


def test_do_not_track_blocks_flush(collector):
    fill(2)
    result = invoke(["telemetry", "flush"], env=env_for(collector, DO_NOT_TRACK="1"))
    assert "Sent 0 events" in result.stdout and "DO_NOT_TRACK" in result.stdout
    assert collector.snapshot() == (0, 0, 0)


def test_export_uses_the_shared_network_settings_no_proxy_bypasses_the_proxy(collector, monkeypatch):
    """network.proxy points at a closed port; NO_PROXY names the loopback collector, so the batch still lands."""
    import socket

    dead = socket.socket()  # bound but never listening: refused, and no parallel test can take the port
    dead.bind(("127.0.0.1", 0))
    dead_port = dead.getsockname()[1]
    fill(2)
    env = env_for(collector, QWEN_NETWORK_PROXY=f"http://127.0.0.1:{dead_port}")
    blocked = invoke(["telemetry", "flush"], env=env)
    assert blocked.exit_code == 6 and len(collector.records()) == 0
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    result = invoke(["telemetry", "flush"], env=env)
    dead.close()
    assert result.exit_code == 0, result.output
    assert len(collector.records()) == 2
