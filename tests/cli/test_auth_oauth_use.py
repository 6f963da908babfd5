"""Using a Qwen OAuth login from `qwen ask`: refresh near expiry, forced refresh after 401, invalid_grant,
the concurrency target (16 processes, one refresh) and interop with a lock held by another program."""

from __future__ import annotations

import json
import os
import subprocess
import time

from tests.auth.helpers import read_creds, seed_oauth
from tests.helpers import qwen_command, run_qwen


def _env(oauth_server, **extra):
    return {"QWEN_OAUTH_BASE_URL": oauth_server.base_url, "QWEN_AUTH_METHOD": "qwen-oauth", **extra}


def test_ask_with_a_valid_token_sends_qwen_headers(isolated, oauth_server):
    seeded = seed_oauth(oauth_server, isolated.qwen_home)
    result = run_qwen(["ask", "hi"], env=_env(oauth_server))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "Hello from stub"
    req = oauth_server.openai.requests[-1]
    assert req.bearer == seeded["access_token"]
    assert req.headers["x-dashscope-authtype"] == "qwen-oauth"
    assert req.headers["x-dashscope-cachecontrol"] == "enable"
    assert "x-dashscope-useragent" in req.headers
    assert req.json["model"] == "coder-model"
    assert oauth_server.refresh_requests == 0


def test_ask_refreshes_an_expired_token_first(isolated, oauth_server):
    seeded = seed_oauth(oauth_server, isolated.qwen_home, expires_in=10)
    result = run_qwen(["ask", "hi"], env=_env(oauth_server))
    assert result.exit_code == 0, result.output
    assert oauth_server.refresh_requests == 1
    creds = read_creds(isolated.qwen_home)
    assert creds["access_token"] != seeded["access_token"]
    assert oauth_server.openai.requests[-1].bearer == creds["access_token"]


def test_api_401_forces_one_refresh_and_one_retry(isolated, oauth_server):
    seeded = seed_oauth(oauth_server, isolated.qwen_home)
    oauth_server.openai.accept_tokens.discard(seeded["access_token"])  # revoked server-side, not yet expired
    result = run_qwen(["ask", "hi"], env=_env(oauth_server))
    assert result.exit_code == 0, result.output
    assert oauth_server.refresh_requests == 1
    bearers = [r.bearer for r in oauth_server.openai.requests if r.path.endswith("/chat/completions")]
    assert bearers == [seeded["access_token"], read_creds(isolated.qwen_home)["access_token"]]


def test_invalid_grant_exits_3_with_login_hint(isolated, oauth_server):
    seed_oauth(oauth_server, isolated.qwen_home, expires_in=-100)
    oauth_server.revoke_refresh_tokens()
    result = run_qwen(["ask", "hi"], env=_env(oauth_server))
    assert result.exit_code == 3
    assert "qwen auth login --method qwen-oauth" in result.stderr
    assert "Traceback" not in result.output
    assert not (isolated.qwen_home / "oauth_creds.lock").exists()


def test_sixteen_concurrent_asks_with_an_expired_token_refresh_once(isolated, oauth_server):
    """The concurrency target: exactly one refresh request, all 16 succeed, the file stays valid JSON."""
    seed_oauth(oauth_server, isolated.qwen_home, expires_in=-30)
    oauth_server.token_delay = 0.2  # widen the race window
    env = dict(os.environ, **_env(oauth_server))
    procs = [
        subprocess.Popen(
            qwen_command() + ["ask", f"question {i}"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for i in range(16)
    ]
    outcomes = [(p.wait(120), p.stdout.read().decode(), p.stderr.read().decode()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    failures = [o for o in outcomes if o[0] != 0]
    assert failures == [], failures
    assert all(o[1].strip() == "Hello from stub" for o in outcomes)
    assert oauth_server.refresh_requests == 1
    creds = read_creds(isolated.qwen_home)  # valid JSON
    bearers = {r.bearer for r in oauth_server.openai.requests if r.path.endswith("/chat/completions")}
    assert bearers == {creds["access_token"]}
    assert not (isolated.qwen_home / "oauth_creds.lock").exists()


def test_ask_waits_for_a_lock_held_by_another_program(isolated, oauth_server):
    seed_oauth(oauth_server, isolated.qwen_home, expires_in=-30)
    lock = isolated.qwen_home / "oauth_creds.lock"
    lock.write_text("2f1c9e3a-0000-4000-8000-qwen-code-node")  # as Qwen Code would hold it
    env = dict(os.environ, **_env(oauth_server))
    proc = subprocess.Popen(
        qwen_command() + ["ask", "hi"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    time.sleep(1.0)
    assert proc.poll() is None  # still waiting for the lock
    assert oauth_server.refresh_requests == 0
    released = time.monotonic()
    lock.unlink()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert oauth_server.refresh_requests == 1
    (refresh,) = [r for r in oauth_server.requests if r.form.get("grant_type") == "refresh_token"]
    assert refresh.time >= released  # it waited for the other program's lock, not merely for a while


def test_ask_breaks_a_stale_lock(isolated, oauth_server):
    seed_oauth(oauth_server, isolated.qwen_home, expires_in=-30)
    lock = isolated.qwen_home / "oauth_creds.lock"
    lock.write_text("left-behind-by-a-crashed-process")
    old = time.time() - 11
    os.utime(lock, (old, old))
    start = time.monotonic()
    result = run_qwen(["ask", "hi"], env=_env(oauth_server))
    assert result.exit_code == 0, result.output
    assert time.monotonic() - start < 10
    assert oauth_server.refresh_requests == 1
    assert not lock.exists()
    json.loads((isolated.qwen_home / "oauth_creds.json").read_text())


def test_oauth_quota_429_exits_7_and_names_the_other_methods(isolated, oauth_server):
    from tests.servers.openai_stub import error

    seed_oauth(oauth_server, isolated.qwen_home)
    oauth_server.openai.script(
        error(429, {"error": {"message": "Free allocated quota exceeded.", "code": "insufficient_quota"}})
    )
    result = run_qwen(["ask", "hi"], env=_env(oauth_server))
    assert result.exit_code == 7, result.output
    assert "quota" in result.stderr.lower()
    assert "coding-plan" in result.stderr.lower() or "coding plan" in result.stderr.lower()
