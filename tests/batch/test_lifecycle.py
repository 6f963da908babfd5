"""`qwen batch status|results|cancel|list` after a submit: the status steps, --wait, the results in input
order (the stub answers in reverse), partial failures and the error file, the batches that end otherwise,
and the record's origin as the only place the key goes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

from tests.batch.conftest import FAST, lines, login, qwen, submitted
from tests.helpers import qwen_command
from tests.servers.batch_stub import KEY, BatchStub


def test_status_shows_the_newest_batch_and_its_counts(logged_in):
    first = submitted("a\n")
    second = submitted("b\nc\n")
    result = qwen("status")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split()[:2] == [second, "in_progress"]  # the stub steps once per retrieve
    data = json.loads(qwen("status", first, "--json").stdout)
    assert data["id"] == first and data["status"] == "in_progress"
    assert data["request_counts"] == {"total": 1, "completed": 0, "failed": 0}
    assert data["record"]["origin"] == logged_in.url and "ids" not in data["record"]


def test_wait_polls_until_completed_and_results_come_in_input_order(logged_in):
    batch_id = submitted("What is a mutex?\nWhat is a semaphore?\nWhat is a monitor?\n")
    waited = qwen("status", "--wait")
    assert waited.exit_code == 0, waited.stderr
    assert waited.stdout.split()[:2] == [batch_id, "completed"] and "3/3 done" in waited.stdout
    assert waited.stderr == ""  # no bar off a terminal
    output = logged_in.files[logged_in.batches[batch_id]["output_file_id"]]["content"].decode()
    assert [json.loads(x)["custom_id"] for x in output.splitlines()] == ["2", "1", "0"]  # the server's order

    result = qwen("results")
    assert result.exit_code == 0, result.stderr
    assert [(x["index"], x["id"], x["ok"], x["content"]) for x in lines(result)] == [
        (0, 0, True, "answer: Q: What is a mutex?"),
        (1, 1, True, "answer: Q: What is a semaphore?"),
        (2, 2, True, "answer: Q: What is a monitor?"),
    ]
    assert lines(result)[0]["usage"] == {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
    assert result.stderr == ""
    assert qwen("results", batch_id, "--json").stdout == result.stdout  # the lines are JSON either way


def test_partial_failures_come_from_the_error_file_with_the_each_exit_code(logged_in):
    logged_in.fail = {"1": (400, "messages[0] is too long"), "2": (500, "the worker crashed")}
    submitted('a\n{"id": "b-id", "input": "b"}\nc\nd\n')
    assert qwen("status", "--wait").exit_code == 0
    result = qwen("results")
    out = lines(result)
    assert [x["ok"] for x in out] == [True, False, False, True]
    assert out[1]["id"] == "b-id" and out[1]["error"]["type"] == "request" and out[1]["error"]["exit_code"] == 4
    assert "messages[0] is too long" in out[1]["error"]["message"]
    assert out[2]["error"]["exit_code"] == 5 and "the worker crashed" in out[2]["error"]["message"]
    assert result.exit_code == 4  # severity.py: 4 ranks above 5, as for --each
    err = result.stderr.splitlines()
    assert err == [
        "Error: 2 of 4 answered, 2 failed (1 exit 4, 1 exit 5)",
        'Hint: Failed lines have "ok": false with the reason; submit those inputs again.',
    ]
    assert [r.path for r in logged_in.requests][-2:] == [
        f"/v1/files/{logged_in.batches[next(iter(logged_in.batches))]['output_file_id']}/content",
        f"/v1/files/{logged_in.batches[next(iter(logged_in.batches))]['error_file_id']}/content",
    ]


def test_results_before_the_batch_has_ended_is_one_line_with_the_wait_hint(logged_in):
    batch_id = submitted("a\n")
    result = qwen("results")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"Error: batch {batch_id} is in_progress: its results are not ready yet",
        f"Hint: Wait for it: qwen batch status {batch_id} --wait",
    ]


def test_cancel_keeps_what_finished_and_the_rest_are_failed_lines(logged_in):
    logged_in.hold = True
    logged_in.answered_before_end = 1
    batch_id = submitted("a\nb\nc\n")
    cancelled = qwen("cancel", "--json")
    assert cancelled.exit_code == 0, cancelled.stderr
    assert json.loads(cancelled.stdout)["status"] == "cancelling"
    assert logged_in.requests[-1].path == f"/v1/batches/{batch_id}/cancel"
    waited = qwen("status", "--wait")
    assert waited.exit_code == 5 and waited.stdout.split()[:2] == [batch_id, "cancelled"]
    assert f"Error: batch {batch_id} ended cancelled" in waited.stderr and "Hint:" in waited.stderr
    result = qwen("results")
    out = lines(result)
    assert [x["ok"] for x in out] == [True, False, False] and result.exit_code == 5
    assert "ended cancelled before this request ran" in out[1]["error"]["message"]
    assert [r["status"] for r in _ledger()] == ["ok"]  # the two that never ran made no request


def test_an_expired_batch_uses_the_error_files_batch_expired_line(logged_in):
    logged_in.outcome = "expired"
    submitted("a\nb\nc\n")
    assert qwen("status", "--wait").exit_code == 5
    out = lines(qwen("results"))
    assert [x["ok"] for x in out] == [True, False, False]
    assert "completion window expired" in out[1]["error"]["message"]  # the error file's own line
    assert "ended expired before this request ran" in out[2]["error"]["message"]  # no line at all


def test_a_batch_that_failed_validation(logged_in):
    logged_in.outcome = "failed"
    batch_id = submitted("a\n")
    waited = qwen("status", "--wait")
    assert waited.exit_code == 4
    assert "failed validation, so none of its requests ran: model x-1 is not supported" in waited.stderr
    result = qwen("results", batch_id)
    assert result.exit_code == 4 and result.stdout == "" and "Hint:" in result.stderr


def test_list_is_newest_first_and_refreshes_on_request(logged_in):
    older = submitted("a\n")
    newer = submitted("b\n")
    text = qwen("list")
    assert text.exit_code == 0
    assert [line.split()[0] for line in text.stdout.splitlines()] == ["ID", newer, older]
    listed = json.loads(qwen("list", "--json").stdout)["batches"]
    assert [b["id"] for b in listed] == [newer, older] and listed[0]["status"] == "validating"
    assert [r.method for r in logged_in.requests].count("GET") == 0  # local records only
    refreshed = json.loads(qwen("list", "--refresh", "--json").stdout)["batches"]
    assert [b["status"] for b in refreshed] == ["in_progress", "in_progress"]


def test_nothing_submitted_yet(isolated):
    for args in (["status"], ["results"], ["cancel"]):
        result = qwen(*args)
        assert result.exit_code == 2 and result.stderr.startswith("Error: no batch has been submitted yet")
    assert qwen("list").exit_code == 0 and qwen("list", "--json").stdout.strip() == '{\n  "batches": []\n}'


def test_a_login_now_pointing_elsewhere_gets_nothing_sent(logged_in):
    batch_id = submitted("a\n")
    trap = BatchStub().start()
    try:
        login(trap.url)  # the same openai login, now at another server
        trap.requests.clear()
        for args in (["status"], ["results", batch_id], ["cancel"]):
            result = qwen(*args)
            assert result.exit_code == 8, result.stderr
            assert (
                f"batch {batch_id} was created at 127.0.0.1:" in result.stderr and "nothing was sent" in result.stderr
            )
        assert trap.requests == []
    finally:
        trap.stop()


def test_wait_gives_up_after_the_wait_timeout(logged_in):
    logged_in.hold = True
    batch_id = submitted("a\n")
    result = qwen("status", "--wait", env={"QWEN_BATCH_WAIT_TIMEOUT": "0.3"})
    assert result.exit_code == 6
    assert f"Error: batch {batch_id} is still in_progress after 0.3s (batch.wait_timeout)" in result.stderr


def test_ctrl_c_while_waiting_exits_130_and_leaves_the_batch_running(logged_in):
    logged_in.hold = True
    batch_id = submitted("a\n")
    proc = subprocess.Popen(
        [*qwen_command(), "batch", "status", "--wait"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **FAST, "QWEN_BATCH_POLL_INTERVAL": "0.2"},
    )
    deadline = time.monotonic() + 20
    while sum(r.path.endswith(batch_id) for r in logged_in.requests) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130
    text = err.decode()
    assert f"Error: stopped waiting: batch {batch_id} is still in_progress on the provider" in text
    assert "qwen batch cancel" in text and "Traceback" not in text
    assert not any(r.path.endswith("/cancel") for r in logged_in.requests)
    assert KEY not in text


def test_the_progress_bar_is_drawn_on_a_terminal_stderr_only(logged_in):
    import pty

    batch_id = submitted("a\nb\n")
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(
            [*qwen_command(), "batch", "status", "--wait"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=follower,
            env={**os.environ, **FAST},
            timeout=30,
        )
        os.close(follower)
        drawn = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(leader)
    assert proc.returncode == 0
    assert proc.stdout.decode().split()[:2] == [batch_id, "completed"]  # stdout: the status line only
    assert b"\r[" in drawn and b"2/2 done, 0 failed, completed" in drawn


def test_server_text_is_cleaned_and_a_hostile_batch_id_never_becomes_a_path(logged_in, isolated):
    batch_id = submitted("a\n")
    logged_in.batches[batch_id]["status"] = "in_progress\x1b]0;pwned\x07\x1b[31m"
    shown = qwen("status")
    assert shown.exit_code == 0 and "\x1b" not in shown.stdout and "\x07" not in shown.stdout
    assert "\x1b" not in qwen("list").stdout
    outside = qwen("status", "../../etc/passwd")
    assert outside.exit_code == 2 and "is not a batch id" in outside.stderr
    assert sorted(p.name for p in (isolated.qwen_home / "batches").iterdir()) == [f"{batch_id}.json"]


def test_results_put_each_request_that_ran_in_the_usage_ledger_once(logged_in):
    from tests.helpers import run_qwen

    logged_in.fail = {"1": (429, "slow down")}
    submitted("a\nb\nc\n")
    assert qwen("status", "--wait").exit_code == 0
    assert qwen("results").exit_code != 0  # one request failed
    assert qwen("results").exit_code != 0  # a second download records nothing again
    ledger = _ledger()
    assert [(r["provider"], r["status"], r["input_tokens"], r["output_tokens"]) for r in ledger] == [
        ("openai", "ok", 5, 3),
        ("openai", "RateLimitError", None, None),
        ("openai", "ok", 5, 3),
    ]
    usage = run_qwen(["usage", "--json"])
    assert usage.exit_code == 0, usage.stderr
    total = json.loads(usage.stdout)["total"]
    assert (total["requests"], total["failed"], total["input_tokens"], total["output_tokens"]) == (3, 1, 10, 6)


def _ledger() -> list[dict]:
    home = os.environ["QWEN_HOME"]
    with open(os.path.join(home, "usage.jsonl")) as fh:
        return [json.loads(x) for x in fh.read().splitlines()]
