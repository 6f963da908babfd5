"""The usage ledger through the real boundary: `qwen ask` / `qwen chat` subprocesses against the loopback stub
append records to $QWEN_HOME/usage.jsonl, and `qwen usage` reads them back."""

from __future__ import annotations

import json
import os
import stat
import subprocess

from tests.helpers import qwen_command, run_qwen
from tests.servers.openai_stub import error, stream_reply
from tests.usage.helpers import ledger_file, plan_env, records

CANARY_KEY = "sk-ledger-canary-key-5d1e"
CANARY_PROMPT = "prompt-canary-0b7c"
CANARY_ANSWER = "answer-canary-91aa"
FIELDS = {"time", "method", "provider", "region", "model", "input_tokens", "output_tokens", "status", "duration_ms"}


def api_env(openai_server, **extra):
    openai_server.accept_tokens.add(CANARY_KEY)
    env = {"OPENAI_API_KEY": CANARY_KEY, "OPENAI_BASE_URL": openai_server.url, "OPENAI_MODEL": "test-model"}
    env.update(extra)
    return env


def test_ask_appends_one_record_with_the_fields_and_nothing_secret(openai_server, isolated):
    openai_server.script(stream_reply([CANARY_ANSWER], usage=(12, 3, 15)))
    result = run_qwen(["ask", CANARY_PROMPT], env=api_env(openai_server))
    assert result.exit_code == 0, result.stderr
    [rec] = records(isolated.qwen_home)
    assert set(rec) == FIELDS
    assert rec["method"] == "api-key" and rec["model"] == "test-model" and rec["status"] == "ok"
    assert (rec["input_tokens"], rec["output_tokens"]) == (12, 3)
    assert isinstance(rec["duration_ms"], int) and rec["duration_ms"] >= 0
    text = ledger_file(isolated.qwen_home).read_text()
    host, port = openai_server.url.split("//")[1].split("/")[0].split(":")
    for secret in (CANARY_KEY, CANARY_PROMPT, CANARY_ANSWER, openai_server.url, host, port, str(isolated.home)):
        assert secret not in text
    assert stat.S_IMODE(ledger_file(isolated.qwen_home).stat().st_mode) == 0o600


def test_each_chat_turn_is_a_record(openai_server, isolated):
    openai_server.script(stream_reply(["one"]), stream_reply(["two"]))
    result = run_qwen(["chat"], input="hi\nagain\n", env=api_env(openai_server))
    assert result.exit_code == 0, result.stderr
    assert [r["status"] for r in records(isolated.qwen_home)] == ["ok", "ok"]


def test_a_failed_request_is_recorded_with_its_error_type_only(openai_server, isolated):
    openai_server.script(error(400, {"error": {"message": f"bad {CANARY_PROMPT}"}}))
    result = run_qwen(["ask", CANARY_PROMPT], env=api_env(openai_server))
    assert result.exit_code == 4
    [rec] = records(isolated.qwen_home)
    assert rec["status"] == "RequestError" and rec["input_tokens"] is None
    assert CANARY_PROMPT not in ledger_file(isolated.qwen_home).read_text()


def test_the_ledger_off_records_nothing(openai_server, isolated):
    result = run_qwen(["ask", "hi"], env=api_env(openai_server, QWEN_USAGE_LEDGER="false"))
    assert result.exit_code == 0, result.stderr
    assert not ledger_file(isolated.qwen_home).exists()


def test_a_project_may_turn_the_ledger_off_but_not_on(openai_server, isolated):
    project = isolated.work / ".qwen"
    project.mkdir()
    (project / "config.toml").write_text("[usage]\nledger = false\n")
    assert run_qwen(["ask", "hi"], env=api_env(openai_server)).exit_code == 0
    assert not ledger_file(isolated.qwen_home).exists()

    (project / "config.toml").write_text("[usage]\nledger = true\n")
    isolated.qwen_home.mkdir(parents=True, exist_ok=True)
    (isolated.qwen_home / "config.toml").write_text("[usage]\nledger = false\n")
    assert run_qwen(["ask", "hi"], env=api_env(openai_server)).exit_code == 0
    assert not ledger_file(isolated.qwen_home).exists()


def test_clear_deletes_the_ledger(openai_server, isolated):
    run_qwen(["ask", "hi"], env=api_env(openai_server))
    assert ledger_file(isolated.qwen_home).exists()
    result = run_qwen(["usage", "--clear"])
    assert result.exit_code == 0 and "1 record" in result.stderr
    assert not ledger_file(isolated.qwen_home).exists()
    assert "No requests recorded" in run_qwen(["usage"]).stdout


def test_an_unwritable_ledger_never_fails_the_request(openai_server, isolated):
    # A directory where the file should be: unwritable even for root (tests may run as root).
    ledger_file(isolated.qwen_home).mkdir(parents=True)
    openai_server.script(stream_reply(["fine"]), stream_reply(["still fine"]))
    result = run_qwen(["ask", "hi"], env=api_env(openai_server))
    assert result.exit_code == 0 and result.stdout == "fine\n"
    assert result.stderr.count("Warning:") == 1 and "usage ledger" in result.stderr
    chat = run_qwen(["chat"], input="a\nb\n", env=api_env(openai_server))
    assert chat.exit_code == 0 and chat.stderr.count("usage ledger") == 1  # one warning per invocation


def test_16_concurrent_writers_lose_and_tear_no_record(openai_server, isolated):
    env = dict(os.environ, **api_env(openai_server))
    procs = [
        subprocess.Popen(
            [*qwen_command(), "ask", f"q{i}"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for i in range(16)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    lines = ledger_file(isolated.qwen_home).read_text().splitlines()
    assert len(lines) == 16
    assert all(set(json.loads(line)) == FIELDS for line in lines)


def test_the_ledger_rotates_at_its_cap_and_keeps_one_old_file(openai_server, isolated):
    cap = 1500
    env = api_env(openai_server, QWEN_USAGE_MAX_BYTES=str(cap))
    home = isolated.qwen_home
    home.mkdir(parents=True)
    fields = {"time": 1_790_000_000, "method": "m", "provider": "p", "region": None, "model": "x", "status": "ok"}
    one = json.dumps({**dict.fromkeys(FIELDS, 0), **fields}) + "\n"
    ledger_file(home).write_text(one * (cap // len(one)))
    before = len(records(home))
    assert run_qwen(["ask", "hi"], env=env).exit_code == 0
    old = home / "usage.jsonl.1"
    assert old.exists() and len(old.read_text().splitlines()) == before
    assert len(records(home)) == 1  # the new file holds only the new record
    assert stat.S_IMODE(ledger_file(home).stat().st_mode) == 0o600
    data = json.loads(run_qwen(["usage", "--json", "--since", "9999d"], env=env).stdout)
    assert data["total"]["requests"] == before + 1  # both files are read


def test_a_coding_plan_quota_429_names_the_window_the_ledger_says_is_full(openai_server, isolated):
    from tests.usage.helpers import record, write_records

    now = 1_796_000_000.0
    write_records(isolated.qwen_home, [record(now - 3600 + i) for i in range(1200)])
    openai_server.script(error(429, {"error": {"message": "hour allocated quota exceeded", "code": "Throttling"}}))
    env = plan_env(openai_server, isolated.qwen_home, QWEN_USAGE_NOW=str(now))
    result = run_qwen(["ask", "hi"], env=env)
    assert result.exit_code == 7
    first = result.stderr.splitlines()[0]
    assert first.startswith("Error: Coding Plan 5-hour limit reached: hour allocated quota exceeded")
    assert "the 5-hour window is full, 1,200 of 1,200 requests" in first
    assert "leaves it at 2026-11-30 04:53 UTC" in first  # the oldest, sent an hour ago, plus 5 hours
    assert records(isolated.qwen_home)[-1]["status"] == "QuotaError"
