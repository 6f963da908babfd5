"""Guards for behaviour that once had no test: each of these fails when its behaviour is broken on purpose
(the commit that added it says what was broken to see it go red)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from qwen_cli.auth import token_store
from qwen_cli.providers import http
from qwen_cli.telemetry import exporter, spool
from tests.helpers import ended_after_signal, run_qwen
from tests.servers.collector import Collector
from tests.servers.openai_stub import error, raw, stream_reply


@pytest.fixture
def env(openai_server):
    return {"OPENAI_API_KEY": "sk-test-key", "OPENAI_BASE_URL": openai_server.url, "OPENAI_MODEL": "test-model"}


# -- 9. retries back off exponentially ---------------------------------------------------------------------


@pytest.mark.parametrize("jitter, factor", [(0.0, 0.5), (0.5, 0.75), (0.999999, 1.0)])
def test_backoff_doubles_per_attempt_up_to_the_cap_with_jitter_in_the_upper_half(monkeypatch, jitter, factor):
    monkeypatch.setattr("random.random", lambda: jitter)
    waits = [http.backoff(n) for n in range(6)]
    assert waits == pytest.approx([x * factor for x in (0.5, 1.0, 2.0, 4.0, 8.0, 8.0)], rel=1e-5)


def test_503s_are_retried_with_growing_gaps_end_to_end(openai_server, env):
    openai_server.script(error(503, {"error": {"message": "busy"}}, times=3), stream_reply(["ok"]))
    result = run_qwen(["ask", "hi"], env={**env, "QWEN_NETWORK_MAX_RETRIES": "3"})
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "ok\n"
    times = [r.time for r in openai_server.chat_requests]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert len(gaps) == 3
    # attempt n waits 0.5 * 2**n seconds, times a jitter in [0.5, 1): 0.25-0.5, 0.5-1, 1-2 (plus a process's slack)
    for n, gap in enumerate(gaps):
        assert 0.25 * 2**n - 0.02 <= gap <= 0.5 * 2**n + 0.75, gaps
    assert gaps[2] > gaps[0] * 1.9, gaps
    assert [f"({i}/3)" in result.stderr for i in (1, 2, 3)] == [True] * 3


# -- 10. a stale OAuth lock is broken after 10 s, not before -----------------------------------------------


class _Waited(Exception):
    pass


def _stop_at_first_wait(seconds):
    raise _Waited(seconds)


@pytest.mark.parametrize("age, broken", [(9.0, False), (10.0, False), (11.0, True)])
def test_a_lock_is_stale_only_when_older_than_ten_seconds(isolated, age, broken):
    isolated.qwen_home.mkdir(parents=True)
    lock = isolated.qwen_home / "oauth_creds.lock"
    lock.write_text("another-process")
    mtime = lock.stat().st_mtime
    clock = lambda: mtime + age  # noqa: E731 - the lock is exactly `age` seconds old
    if broken:
        with token_store.locked(isolated.qwen_home, sleep=_stop_at_first_wait, now=clock):
            assert lock.read_text() != "another-process"
        assert not lock.exists()
    else:
        with pytest.raises(_Waited):
            with token_store.locked(isolated.qwen_home, sleep=_stop_at_first_wait, now=clock):
                pytest.fail("a lock that is not yet stale was taken over")
        assert lock.read_text() == "another-process"


# -- 11 and 12. logout takes the lock, and forgets the --verify result -------------------------------------


HOLDER = (
    "import os, sys, time, uuid\n"
    "lock, creds = sys.argv[1], sys.argv[2]\n"
    "fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600); os.write(fd, str(uuid.uuid4()).encode())\n"
    "os.close(fd); print('held', flush=True)\n"
    "time.sleep(1.0)\n"
    "print('creds still there' if os.path.exists(creds) else 'creds gone', flush=True)\n"
    "os.unlink(lock)\n"
)


def test_oauth_logout_waits_for_the_lock_another_process_holds(isolated):
    isolated.qwen_home.mkdir(parents=True)
    creds = isolated.qwen_home / "oauth_creds.json"
    creds.write_text(
        json.dumps(
            {
                "access_token": "a",
                "refresh_token": "r",
                "token_type": "Bearer",
                "expiry_date": int(time.time() * 1000) + 3_600_000,
            }
        )
    )
    lock = isolated.qwen_home / "oauth_creds.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(lock), str(creds)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        result = run_qwen(["auth", "logout", "qwen-oauth"])
        waited = time.monotonic() - started
        assert holder.stdout.readline().strip() == "creds still there"  # nothing was removed while it held the lock
    finally:
        holder.wait(10)
    assert result.exit_code == 0, result.stderr
    assert "Logged out of qwen-oauth" in result.stderr + result.stdout
    assert waited >= 0.6
    assert not creds.exists() and not lock.exists()


def test_logout_forgets_the_verify_result(openai_server, isolated):
    login = [
        "auth",
        "login",
        "--method",
        "api-key",
        "--base-url",
        openai_server.url,
        "--model",
        "test-model",
        "--key-stdin",
    ]
    assert run_qwen(login, input="sk-test-key\n").exit_code == 0
    verified = run_qwen(["auth", "status", "--verify"])
    assert verified.exit_code == 0, verified.stderr
    assert "verified  ok, " in run_qwen(["auth", "status"]).stdout
    out = run_qwen(["auth", "logout"])
    assert out.exit_code == 0, out.stderr
    assert run_qwen(login, input="sk-test-key\n").exit_code == 0
    status = run_qwen(["auth", "status"])
    assert "verified  ok" not in status.stdout
    assert re.search(r"verified\s+not yet", status.stdout), status.stdout


# -- 13 and 14. the telemetry exporter: no redirects; a stamp in the future does not block exports ---------


def _telemetry_env(collector) -> dict:
    return {"QWEN_AUTH_METHOD": "coding-plan", "QWEN_TELEMETRY_ENDPOINT": collector.url}


def _queue_events(n: int) -> None:
    from tests.privacy.test_telemetry_allowlist import event
    from tests.privacy.util import qwen_home

    for i in range(n):
        spool.append(qwen_home(), event(duration_ms=i))


@pytest.mark.parametrize("where", ["same collector", "another collector"])
def test_the_exporter_follows_no_redirect(collector, where):
    """A collector answering 307 must not be able to forward the statistics, even to a path of its own."""
    from tests.privacy.util import queued

    second = Collector().start()
    try:
        collector.redirect = "/v1/elsewhere" if where == "same collector" else second.url
        _queue_events(2)
        result = run_qwen(["telemetry", "flush"], env=_telemetry_env(collector))
        assert result.exit_code == 6, result.output
        assert "HTTP 307" in result.stderr and "2 kept" in result.stderr
        assert [r["path"] for r in collector.requests] == ["/v1/logs"]
        assert second.snapshot() == (0, 0, 0)
        assert len(queued()) == 2
    finally:
        second.stop()


def test_a_stamp_far_in_the_future_does_not_block_automatic_exports(collector):
    """After the clock was set back a day, the export must not wait a day."""
    from tests.privacy.util import mark_notice_shown, qwen_home

    home = qwen_home()
    now = 1_800_000_000.0
    spool.stamp_file(home).parent.mkdir(parents=True, exist_ok=True)
    spool.stamp_file(home).write_text(f"{now + 86_400:.3f}\n")
    assert exporter.claim(home, now) is True
    assert exporter.claim(home, now + 1) is False  # and the new stamp counts from now

    spool.stamp_file(home).write_text(f"{time.time() + 86_400:.3f}\n")
    mark_notice_shown()
    result = run_qwen(["config", "get", "network.max_retries"], env=_telemetry_env(collector))
    assert result.exit_code == 0 and result.stdout == "3\n"
    assert collector.wait_for(1, timeout=10), "no automatic export while the stamp was in the future"


# -- 15 and 16. what reaches the provider: config headers, and no compression of a stream ------------------


def test_provider_headers_from_the_user_config_reach_the_request(openai_server, env, isolated):
    isolated.qwen_home.mkdir(parents=True)
    (isolated.qwen_home / "config.toml").write_text(
        '[providers.custom]\nheaders = { "X-Guard-Header" = "from-config", "HTTP-Referer" = "https://example.test" }\n'
        '[providers.openrouter]\nheaders = { "X-Other-Provider" = "no" }\n'
    )
    result = run_qwen(["ask", "hi"], env=env)
    assert result.exit_code == 0, result.stderr
    headers = openai_server.chat_requests[-1].headers
    assert headers["x-guard-header"] == "from-config"
    assert headers["http-referer"] == "https://example.test"
    assert "x-other-provider" not in headers


def test_streaming_requests_ask_for_an_uncompressed_body(openai_server, env):
    assert run_qwen(["ask", "hi"], env=env).exit_code == 0
    assert run_qwen(["ask", "--no-stream", "hi"], env=env).exit_code == 0
    streamed, whole = openai_server.chat_requests
    assert streamed.json["stream"] is True and streamed.headers["accept-encoding"] == "identity"
    assert whole.headers.get("accept-encoding") != "identity"


# -- 17. finish_reason content_filter is said ---------------------------------------------------------------


def test_a_content_filter_stop_is_warned_about(openai_server, env):
    openai_server.script(stream_reply(["partial"], finish_reason="content_filter"))
    result = run_qwen(["ask", "hi"], env=env)
    assert result.exit_code == 0
    assert result.stdout == "partial\n"
    assert "content filter stopped the answer" in result.stderr


# -- 18. SIGHUP releases the OAuth lock ---------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM], ids=["SIGHUP", "SIGTERM"])
def test_a_signal_while_the_lock_is_held_removes_it_without_the_cli_handlers(isolated, sig):
    """token_store.locked on its own (as library code, with no CLI signal handler) must not leave the lock."""
    isolated.qwen_home.mkdir(parents=True)
    code = (
        "import sys, time\nfrom pathlib import Path\nfrom qwen_cli.auth import token_store\n"
        "with token_store.locked(Path(sys.argv[1])):\n    print('locked', flush=True)\n    time.sleep(30)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(isolated.qwen_home)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    proc.send_signal(sig)
    assert ended_after_signal(proc) in (-sig, 128 + sig)
    assert not (isolated.qwen_home / "oauth_creds.lock").exists()


def test_an_ignored_sighup_stays_ignored_while_the_lock_is_held(isolated):
    """Under nohup a hangup is ignored on purpose: holding the lock must not turn it back into an exit."""
    isolated.qwen_home.mkdir(parents=True)
    code = (
        "import signal, sys, time\nfrom pathlib import Path\nfrom qwen_cli.auth import token_store\n"
        "signal.signal(signal.SIGHUP, signal.SIG_IGN)\n"
        "with token_store.locked(Path(sys.argv[1])):\n    print('locked', flush=True)\n"
        "    sys.stdin.readline()\nprint('released', flush=True)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(isolated.qwen_home)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "locked"
    proc.send_signal(signal.SIGHUP)
    time.sleep(0.3)
    assert proc.poll() is None, "the ignored hangup ended the process"
    out, _ = proc.communicate("go\n", timeout=10)
    assert out.strip() == "released" and proc.returncode == 0
    assert not (isolated.qwen_home / "oauth_creds.lock").exists()


# -- 19. a key with whitespace inside is refused ------------------------------------------------------------


def test_a_key_with_whitespace_inside_is_refused_at_login(isolated):
    result = run_qwen(
        ["auth", "login", "--method", "api-key", "--provider", "openrouter", "--key-stdin"], input="sk-abc def\n"
    )
    assert result.exit_code == 2, result.output
    assert "contains whitespace" in result.stderr
    assert "sk-abc" not in result.output
    assert not (isolated.qwen_home / "credentials.toml").exists()
    assert "api-key" not in run_qwen(["auth", "status", "--json"]).stdout.split('"methods"')[1]


# -- 20. an unterminated final SSE event, through `qwen ask` ------------------------------------------------

SSE = {"Content-Type": "text/event-stream"}
OK_EVENT = b'data: {"choices":[{"index":0,"delta":{"content":"ok so far"}}]}\n\n'


def test_a_final_done_without_its_blank_line_is_a_complete_answer(openai_server, env):
    openai_server.script(raw(200, [OK_EVENT + b"data: [DONE]\n"], SSE))
    result = run_qwen(["ask", "hi"], env=env)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "ok so far\n" and result.stderr == ""


def test_a_final_text_event_without_its_blank_line_is_a_cut_answer(openai_server, env):
    openai_server.script(
        raw(200, [OK_EVENT + b'data: {"choices":[{"index":0,"delta":{"content":" and more"}}]}\n'], SSE)
    )
    result = run_qwen(["ask", "hi"], env=env)
    assert result.exit_code == 6, result.output
    assert result.stdout.startswith("ok so far")
    assert "and more" not in result.stdout  # an event that never ended is not shown as if it had
    assert "cut off" in result.stderr


# -- the terminal: TERM=dumb, /quit, config path --json -----------------------------------------------------


@pytest.mark.parametrize("term", ["dumb", "xterm"])
def test_term_dumb_gets_no_escape_sequences_and_no_live_display(openai_server, term):
    from tests.security.terminal import env_for, finish, spawn

    openai_server.script(
        stream_reply(["# Title\n\n", "some **bold** ", "text\n"], reasoning=["deep ", "thought"], delay=0.3)
    )
    child = spawn(["ask", "--show-reasoning", "hi"], {**env_for(openai_server), "TERM": term})
    out = finish(child)
    assert child.exitstatus == 0, out
    if term == "dumb":
        assert "\x1b" not in out, repr(out)
        assert out.count("Title") == 1 and "\r\x1b" not in out  # written once, never redrawn
        assert "thinking" not in out and "deep thought" in out
    else:  # the same answer on a capable terminal is styled and redrawn: the check above can fail
        assert "\x1b[1m" in out and out.count("Title") > 1
        assert re.search(r"\x1b\[[0-9;]*mdeep", out), repr(out)  # the reasoning is dimmed


def test_quit_in_a_chat_script_ends_the_chat(openai_server, env):
    result = run_qwen(["chat"], input="hi\n/quit\nnever sent\n", env=env)
    assert result.exit_code == 0, result.stderr
    assert [r.json["messages"][-1]["content"] for r in openai_server.chat_requests] == ["hi"]
    assert result.stdout == "Hello from stub\n"


def test_config_path_json_names_the_files_in_play(isolated):
    (isolated.work / ".qwen").mkdir()
    (isolated.work / ".qwen" / "config.toml").write_text("[network]\nmax_retries = 1\n")
    result = run_qwen(["config", "path", "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["home"] == str(isolated.qwen_home)
    assert data["user"] == str(isolated.qwen_home / "config.toml")
    assert os.path.realpath(data["project"]) == os.path.realpath(isolated.work / ".qwen" / "config.toml")
    assert data["dotenv"] is None
    roles = {f["role"]: f for f in data["files"]}
    assert data["files"][0]["path"] == data["user"] and data["files"][0]["exists"] is False
    assert any(f["path"] == data["project"] and f["exists"] for f in roles.values()), data["files"]


def test_a_ctrl_c_python_swallows_is_still_seen_by_the_device_flow_wait(isolated):
    """A SIGINT that lands while a __del__ or weakref callback runs only prints "Exception ignored"; the
    device-flow polling asks errors.raise_if_interrupted after each wait, so the login still ends (exit 130)."""
    code = (
        "import os, signal\nfrom qwen_cli.cli import main\nfrom qwen_cli import errors\n"
        "main._end_on_signals()\n"
        "class Dying:\n    def __del__(self):\n        os.kill(os.getpid(), signal.SIGINT)\n"
        "Dying()\n"  # the KeyboardInterrupt is raised inside __del__ and swallowed there
        "print('carried on', flush=True)\n"
        "try:\n    errors.raise_if_interrupted()\nexcept KeyboardInterrupt:\n    print('interrupted', flush=True)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert proc.stdout.split() == ["carried", "on", "interrupted"], proc.stdout + proc.stderr
