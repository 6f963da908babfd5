"""`qwen ask --each` as a subprocess against the loopback stub: order under -P, inputs, fields, failures and
the exit code, the shared 429 pace, the quota stop, --resume, Ctrl-C, the progress bar, the canary."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time

import pytest

from tests.auth.helpers import seed_oauth
from tests.helpers import qwen_command, run_qwen
from tests.servers.openai_stub import call, error, json_reply, stream_reply

KEY = "sk-test-key"


@pytest.fixture
def env(openai_server):
    return {
        "OPENAI_API_KEY": KEY,
        "OPENAI_BASE_URL": openai_server.url,
        "OPENAI_MODEL": "test-model",
        "QWEN_NETWORK_MAX_RETRIES": "0",
    }


def user_text(rec) -> str:
    return rec.json["messages"][-1]["content"]


def echo(rec):
    return json_reply(f"echo: {user_text(rec)}")


def each(args, env, input=None, timeout=60):
    return run_qwen(["ask", "--no-stream", *args], input=input, env=env, timeout=timeout)


def out_lines(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines()]


class InFlight:
    """Counts the chat requests the stub is answering at once (the latency is spent inside)."""

    def __init__(self, server, seconds):
        self.now = self.most = 0
        self.lock = threading.Lock()
        self.seconds = seconds
        server.latency = self

    def __call__(self, rec):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        time.sleep(self.seconds(rec) if callable(self.seconds) else self.seconds)
        with self.lock:
            self.now -= 1
        return 0


# -- order, inputs, fields ---------------------------------------------------------------------------


def test_lines_come_out_in_input_order_though_answers_arrive_out_of_order(openai_server, env, tmp_path):
    # Earlier lines are answered slower than later ones, so the server finishes them in reverse order.
    inputs = tmp_path / "in.txt"
    inputs.write_text("".join(f"q{i}\n" for i in range(12)))
    flight = InFlight(openai_server, lambda rec: 0.05 * (12 - int(user_text(rec).split("q")[1])))
    openai_server.reply_for = echo
    result = each(["--each", str(inputs), "-P", "6", "Say: $input"], env)
    assert result.exit_code == 0, result.stderr
    lines = out_lines(result)
    assert [line["index"] for line in lines] == list(range(12))
    assert [line["id"] for line in lines] == list(range(12))
    assert [line["content"] for line in lines] == [f"echo: Say: q{i}" for i in range(12)]
    assert all(line["ok"] is True and line["usage"]["total_tokens"] for line in lines)
    assert flight.most == 6
    assert result.stderr == ""  # a pipe: no bar, no summary when everything worked


def test_stdin_lines_and_blank_lines(openai_server, env):
    openai_server.reply_for = echo
    result = each(["--each", "-", "-P", "2"], env, input="first\n\n  second  \n")
    assert result.exit_code == 0, result.stderr
    assert [(line["index"], line["content"]) for line in out_lines(result)] == [(0, "echo: first"), (1, "echo: second")]


def test_json_objects_fill_the_prompt_and_name_their_lines(openai_server, env, tmp_path):
    inputs = tmp_path / "in.jsonl"
    inputs.write_text(
        json.dumps({"id": "ada", "name": "Ada", "year": 1843}) + "\n" + json.dumps({"name": "Alan", "year": 1936})
    )
    openai_server.reply_for = echo
    result = each(["--each", str(inputs), "-s", "About $name.", "What did $name do in $year?"], env)
    assert result.exit_code == 0, result.stderr
    lines = out_lines(result)
    assert [line["id"] for line in lines] == ["ada", 1]
    assert [line["content"] for line in lines] == ["echo: What did Ada do in 1843?", "echo: What did Alan do in 1936?"]
    systems = sorted(r.json["messages"][0]["content"] for r in openai_server.chat_requests)
    assert systems == ["About Ada.", "About Alan."]


def test_a_missing_field_is_one_usage_error_before_anything_is_sent(openai_server, env, tmp_path):
    inputs = tmp_path / "in.jsonl"
    inputs.write_text('{"name": "Ada", "year": 1843}\n{"name": "Alan"}\n')
    result = each(["--each", str(inputs), "What did $name do in $year?"], env)
    assert result.exit_code == 2
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert error_lines == [f"Error: --each {inputs} line 2 has no field 'year' (the prompt uses $year)"]
    assert result.stdout == ""
    assert openai_server.chat_requests == []


def test_a_line_that_is_not_json_is_named(openai_server, env):
    result = each(["--each", "-"], env, input='ok\n{"broken": \n')
    assert result.exit_code == 2 and "stdin line 2 starts with '{' but is not JSON" in result.stderr
    assert openai_server.chat_requests == []


def test_parallel_above_the_cap_is_a_usage_error(openai_server, env):
    result = each(["--each", "-", "-P", "65"], env, input="a\n")
    assert result.exit_code == 2 and "each.max_parallel" in result.stderr
    raised = each(["--each", "-", "-P", "65"], {**env, "QWEN_EACH_MAX_PARALLEL": "100"}, input="a\n")
    assert raised.exit_code == 0, raised.stderr


# -- failures ----------------------------------------------------------------------------------------


def test_mixed_failures_exit_with_the_most_severe_code_and_one_summary_line(openai_server, env):
    def reply(rec):
        text = user_text(rec)
        if text == "bad":
            return error(400, {"error": {"message": "bad request here"}})
        if text == "down":
            return error(500, {"error": {"message": "upstream down"}})
        return echo(rec)

    openai_server.reply_for = reply
    result = each(["--each", "-", "-P", "3"], env, input="fine\ndown\nbad\nalso fine\n")
    assert result.exit_code == 4  # a rejected request (4) ranks above a server error (5): severity.ORDER
    lines = out_lines(result)
    assert [line["ok"] for line in lines] == [True, False, False, True]
    assert lines[1]["error"]["exit_code"] == 5 and lines[1]["error"]["type"] == "server"
    assert lines[2]["error"]["exit_code"] == 4 and "bad request here" in lines[2]["error"]["message"]
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1 and "2 of 4 answered, 2 failed" in error_lines[0]
    assert "Traceback" not in result.stderr


def test_a_429_with_retry_after_holds_every_worker(openai_server, env):
    env = {**env, "QWEN_NETWORK_MAX_RETRIES": "3"}
    seen: list[str] = []
    limited_at: list[float] = []

    def reply(rec):
        seen.append(user_text(rec))
        if user_text(rec) == "q0" and not limited_at:
            limited_at.append(time.monotonic())
            return error(429, {"error": {"message": "slow down"}}, headers={"Retry-After": "1"})
        return echo(rec)

    openai_server.reply_for = reply
    openai_server.latency = lambda rec: 0 if user_text(rec) == "q0" else 0.2
    result = each(["--each", "-", "-P", "4"], env, input="".join(f"q{i}\n" for i in range(8)))
    assert result.exit_code == 0, result.stderr
    assert all(line["ok"] for line in out_lines(result))
    times = [r.time for r in openai_server.chat_requests]
    # Four went out together; after the 429 nobody sent anything until its Retry-After had passed.
    later = [t - limited_at[0] for t in times if t > limited_at[0] + 0.05]
    assert len(later) >= 5 and min(later) >= 0.95, later


def test_a_quota_error_stops_the_run_and_keeps_what_finished(openai_server, env):
    def reply(rec):
        if user_text(rec) == "q3":
            return error(429, {"error": {"message": "You exceeded your current quota"}})
        return echo(rec)

    openai_server.reply_for = reply
    openai_server.latency = 0.1
    result = each(["--each", "-", "-P", "2"], env, input="".join(f"q{i}\n" for i in range(20)))
    assert result.exit_code == 7
    lines = out_lines(result)
    assert len(openai_server.chat_requests) <= 6  # the one in flight beside q3 finishes; nothing new starts
    assert [line["index"] for line in lines] == sorted(line["index"] for line in lines)
    assert {line["index"] for line in lines} == set(range(len(lines)))
    assert lines[3]["ok"] is False and lines[3]["error"]["type"] == "quota"
    assert all(line["ok"] for i, line in enumerate(lines) if i != 3)
    assert "You exceeded your current quota; stopped: " in result.stderr and " not sent in " in result.stderr
    assert "--resume" in result.stderr


def test_resume_asks_only_what_was_not_answered(openai_server, env, tmp_path):
    earlier = tmp_path / "out.jsonl"
    earlier.write_text(
        json.dumps({"index": 0, "id": 0, "ok": True, "content": "x", "usage": None})
        + "\n"
        + json.dumps({"index": 1, "id": 1, "ok": False, "error": {"type": "server"}, "usage": None})
        + "\n"
        + json.dumps({"index": 2, "id": "two", "ok": True, "content": "y", "usage": None})
        + '\n{"index": 3, "id": 3, "ok": tr'  # cut by an interruption
    )
    openai_server.reply_for = echo
    inputs = 'zero\none\n{"id": "two", "input": "two"}\nthree\nfour\n'
    result = each(["--each", "-", "--resume", str(earlier)], env, input=inputs)
    assert result.exit_code == 0, result.stderr
    assert sorted(user_text(r) for r in openai_server.chat_requests) == ["four", "one", "three"]
    assert [line["id"] for line in out_lines(result)] == [1, 3, 4]


def test_ctrl_c_finishes_the_lines_in_flight_and_exits_130(openai_server, env, tmp_path):
    openai_server.reply_for = echo
    openai_server.latency = 0.6
    proc = subprocess.Popen(
        [*qwen_command(), "ask", "--no-stream", "--each", "-", "-P", "2"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **env},
    )
    proc.stdin.write("".join(f"q{i}\n" for i in range(10)).encode())
    proc.stdin.close()
    proc.stdin = None  # communicate() must not touch it again
    assert openai_server.wait_for_requests(2, timeout=20)
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    lines = [json.loads(line) for line in stdout.decode().splitlines()]
    assert [line["content"] for line in lines] == ["echo: q0", "echo: q1"]
    assert len(openai_server.chat_requests) == 2
    assert "interrupted: 2 of 10 answered, 0 failed, 8 not sent" in stderr.decode()
    assert "Traceback" not in stderr.decode()


def test_one_oauth_refresh_is_shared_by_every_worker(isolated, oauth_server):
    seeded = seed_oauth(oauth_server, isolated.qwen_home)
    stale = seeded["access_token"]
    oauth_server.openai.accept_tokens.discard(stale)  # revoked: the workers' first requests get a 401
    oauth_server.openai.latency = 0.05
    oauth_server.token_delay = 0.2
    env = {"QWEN_OAUTH_BASE_URL": oauth_server.base_url, "QWEN_AUTH_METHOD": "qwen-oauth"}
    result = each(["--each", "-", "-P", "4"], env, input="".join(f"q{i}\n" for i in range(24)))
    assert result.exit_code == 0, result.stderr
    assert len(out_lines(result)) == 24
    assert oauth_server.refresh_requests == 1
    # Only the requests in flight when the token was refused carried it; every later one had the new token.
    bearers = [r.bearer for r in oauth_server.openai.chat_requests]
    assert bearers.count(stale) <= 4 and len(bearers) == 24 + bearers.count(stale)


# -- the terminal and secrets ------------------------------------------------------------------------


def test_a_progress_bar_on_a_terminal(openai_server, env, tmp_path):
    pexpect = pytest.importorskip("pexpect")
    inputs = tmp_path / "in.txt"
    inputs.write_text("".join(f"q{i}\n" for i in range(6)))
    openai_server.latency = 0.15
    child = pexpect.spawn(
        qwen_command()[0],
        [*qwen_command()[1:], "ask", "--no-stream", "--each", str(inputs), "-P", "2"],
        env={**os.environ, **env},
        encoding="utf-8",
        timeout=30,
    )
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "6/6 done, 0 failed, " in child.before and " tokens, " in child.before and "/s" in child.before


def test_the_key_never_reaches_the_output(openai_server, env):
    def reply(rec):
        if user_text(rec) == "fail":
            return error(400, {"error": {"message": f"bad key {rec.bearer}"}})
        return json_reply(f"your key is {rec.bearer}")

    openai_server.reply_for = reply
    result = each(["--each", "-", "-P", "2"], env, input="show\nfail\n")
    assert result.exit_code == 4
    assert KEY not in result.stdout and KEY not in result.stderr
    assert "your key is" in result.stdout


def test_streamed_requests_by_default(openai_server, env):
    result = run_qwen(["ask", "--each", "-", "-P", "2"], input="a\nb\nc\n", env=env)
    assert result.exit_code == 0, result.stderr
    assert [line["content"] for line in out_lines(result)] == ["Hello from stub"] * 3
    assert all(r.json["stream"] is True for r in openai_server.chat_requests)


def test_a_reader_that_goes_away_stops_the_run_quietly(openai_server, env):
    openai_server.latency = 0.05
    proc = subprocess.run(
        [
            "bash",
            "-c",
            f"printf 'q%s\\n' $(seq 40) | {' '.join(qwen_command())} ask --no-stream --each - -P 2 | head -n 1",
        ],
        env={**os.environ, **env},
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 0 and proc.stdout.decode().count("\n") == 1
    assert "Traceback" not in proc.stderr.decode() and "Error" not in proc.stderr.decode()
    assert len(openai_server.chat_requests) < 40


def test_a_saved_template_fills_every_line(openai_server, env, isolated):
    templates = isolated.qwen_home / "templates"
    templates.mkdir(parents=True, exist_ok=True)
    (templates / "greet.toml").write_text('system = "Be $tone."\nprompt = "Greet $input"\n')
    openai_server.reply_for = echo
    result = each(["--each", "-", "-t", "greet", "-p", "tone", "brief"], env, input="Ada\nAlan\n")
    assert result.exit_code == 0, result.stderr
    assert [line["content"] for line in out_lines(result)] == ["echo: Greet Ada", "echo: Greet Alan"]
    assert {r.json["messages"][0]["content"] for r in openai_server.chat_requests} == {"Be brief."}


def test_each_request_is_one_record_in_the_usage_ledger(openai_server, env, isolated):
    openai_server.reply_for = echo
    result = each(["--each", "-", "-P", "3", "Say: $input"], env, input="a\nb\nc\nd\n")
    assert result.exit_code == 0, result.stderr
    ledger = isolated.qwen_home / "usage.jsonl"
    records = [json.loads(line) for line in ledger.read_text().splitlines()]
    assert len(records) == 4 and {r["status"] for r in records} == {"ok"}
    assert all(r["model"] == "test-model" for r in records)
    assert KEY not in ledger.read_text() and "Say:" not in ledger.read_text()


@pytest.mark.parametrize("streamed", [True, False], ids=["stream", "no-stream"])
def test_each_worker_keeps_its_connection_for_the_next_request(openai_server, env, streamed):
    # 40 requests on 4 workers: a worker that reuses its kept-alive connection opens one, not one per prompt.
    openai_server.latency = 0.01
    args = ["ask", "--each", "-", "-P", "4", *([] if streamed else ["--no-stream"])]
    result = run_qwen(args, input="".join(f"q{i}\n" for i in range(40)), env=env, timeout=60)
    assert result.exit_code == 0, result.stderr
    assert len(out_lines(result)) == 40 and len(openai_server.chat_requests) == 40
    assert openai_server.connections <= 4 + 2, f"{openai_server.connections} TCP connections for 40 requests"


def test_a_server_that_holds_the_stream_open_after_done_costs_a_fraction_of_a_second(openai_server, env):
    # The answer is complete at [DONE]; the body's end is waited for only briefly before the connection is closed.
    def held(h, rec):
        out = h.begin_body(200, {"Content-Type": "text/event-stream"})
        out.write(stream_reply(["held"]).events(rec).__next__()[1])
        out.write(b"data: [DONE]\n\n")
        h.sleep(20)
        out.finish()

    openai_server.reply_for = lambda rec: call(held)
    started = time.monotonic()
    result = run_qwen(["ask", "--each", "-", "-P", "2"], input="a\nb\nc\n", env=env, timeout=60)
    assert result.exit_code == 0, result.stderr
    assert [line["content"] for line in out_lines(result)] == ["held"] * 3
    assert time.monotonic() - started < 10


def ledger_records(isolated) -> list[dict]:
    ledger = isolated.qwen_home / "usage.jsonl"
    return [json.loads(line) for line in ledger.read_text().splitlines()] if ledger.exists() else []


def test_every_request_of_a_long_run_is_recorded_and_a_quota_stop_loses_none(openai_server, env, isolated):
    # The records are appended in batches during the run: all of them get there, the quota-stopped run's too.
    openai_server.reply_for = echo
    result = run_qwen(["ask", "--each", "-", "-P", "8"], input="".join(f"q{i}\n" for i in range(60)), env=env)
    assert result.exit_code == 0, result.stderr
    assert len(ledger_records(isolated)) == 60 and {r["status"] for r in ledger_records(isolated)} == {"ok"}

    def reply(rec):
        if user_text(rec) == "q5":
            return error(429, {"error": {"message": "You exceeded your current quota"}})
        return echo(rec)

    openai_server.reply_for = reply
    openai_server.latency = 0.05
    before = len(openai_server.chat_requests)
    result = each(["--each", "-", "-P", "3"], env, input="".join(f"q{i}\n" for i in range(30)))
    assert result.exit_code == 7
    sent = len(openai_server.chat_requests) - before
    records = ledger_records(isolated)[60:]
    assert len(records) == sent
    assert sorted(r["status"] for r in records) == ["QuotaError"] + ["ok"] * (sent - 1)
