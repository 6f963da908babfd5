"""oauth_creds.json validation and the cross-process lock (Qwen Code's protocol), with real processes."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time

import pytest

from qwen_cli.auth import qwen_oauth, token_store
from tests.auth.helpers import read_creds, seed_oauth, settings_for


@pytest.mark.parametrize(
    "data, valid",
    [
        ({"access_token": "a", "refresh_token": "r", "token_type": "Bearer", "expiry_date": 1}, True),
        (
            {
                "access_token": "a",
                "refresh_token": "r",
                "token_type": "Bearer",
                "expiry_date": 1.5,
                "resource_url": "portal.qwen.ai",
                "id_token": "i",
            },
            True,
        ),
        # no expiry_date (or null): the lifetime is unknown, as written after a reply without expires_in
        ({"access_token": "a", "refresh_token": "r", "token_type": "Bearer"}, True),
        ({"access_token": "a", "refresh_token": "r", "token_type": "Bearer", "expiry_date": None}, True),
        ({"access_token": "a", "refresh_token": "r", "token_type": "Bearer", "expiry_date": float("inf")}, False),
        ({"access_token": "a", "refresh_token": "r", "token_type": "Bearer", "expiry_date": float("nan")}, False),
        ({"access_token": "a", "refresh_token": "r", "token_type": "Bearer", "expiry_date": "1"}, False),
        ({"access_token": "a", "refresh_token": "r", "token_type": "Bearer", "expiry_date": True}, False),
        ({"access_token": 1, "refresh_token": "r", "token_type": "Bearer", "expiry_date": 1}, False),
        ({"refresh_token": "r", "token_type": "Bearer", "expiry_date": 1}, False),
        ([], False),
    ],
)
def test_validity_rule_is_qwen_codes_with_an_optional_expiry(data, valid):
    assert (token_store.parse_token(data) is not None) is valid


def test_roundtrip_keeps_optional_fields(isolated):
    token = token_store.OAuthToken("a", "r", "Bearer", 123, "portal.qwen.ai", "idt")
    token_store.write_token(isolated.qwen_home, token)
    assert token_store.read_token(isolated.qwen_home) == token
    assert read_creds(isolated.qwen_home)["id_token"] == "idt"


def test_lock_is_exclusive_holds_a_uuid_and_is_removed(isolated):
    lock = isolated.qwen_home / "oauth_creds.lock"
    with token_store.locked(isolated.qwen_home):
        content = lock.read_text()
        assert len(content) == 36 and content.count("-") == 4
        waits = []
        with pytest.raises(token_store.LockTimeout):
            with token_store.locked(isolated.qwen_home, sleep=waits.append):
                pass
        assert len(waits) == 19  # 20 attempts, as protocol-facts.md gives Qwen Code's: 19 waits between them
        assert waits[0] == pytest.approx(0.1) and waits[1] == pytest.approx(0.15)
        assert max(waits) == pytest.approx(2.0)
        assert lock.read_text() == content  # the waiter did not touch it
    assert not lock.exists()


def test_lock_is_removed_when_the_block_raises(isolated):
    with pytest.raises(RuntimeError):
        with token_store.locked(isolated.qwen_home):
            raise RuntimeError("boom")
    assert not (isolated.qwen_home / "oauth_creds.lock").exists()


def test_stale_lock_is_broken(isolated):
    isolated.qwen_home.mkdir(parents=True)
    lock = isolated.qwen_home / "oauth_creds.lock"
    lock.write_text("a-dead-process")
    old = time.time() - 11
    os.utime(lock, (old, old))
    waits = []
    with token_store.locked(isolated.qwen_home, sleep=waits.append):
        assert lock.read_text() != "a-dead-process"
    assert waits == []
    assert not lock.exists()
    assert [p.name for p in isolated.qwen_home.iterdir()] == []


def test_fresh_lock_held_by_another_process_is_waited_for(isolated):
    """As Qwen Code holds it: a plain file with a UUID, released a moment later."""
    isolated.qwen_home.mkdir(parents=True)
    lock = isolated.qwen_home / "oauth_creds.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os, sys, time, uuid\n"
            f"p = {str(lock)!r}\n"
            "fd = os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600); os.write(fd, str(uuid.uuid4()).encode())\n"
            "os.close(fd); print('held', flush=True); time.sleep(0.8); os.unlink(p)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    start = time.monotonic()
    with token_store.locked(isolated.qwen_home):
        waited = time.monotonic() - start
    holder.wait(5)
    assert 0.5 < waited < 5


def _refresh_worker(base_url, home, queue):
    os.environ["QWEN_HOME"] = home
    os.environ["QWEN_OAUTH_BASE_URL"] = base_url
    try:
        creds = qwen_oauth.credentials(settings_for())
        queue.put(("ok", creds.token))
    except Exception as exc:  # noqa: BLE001
        queue.put(("error", repr(exc)))


def test_many_processes_refresh_once(oauth_server, isolated):
    """The library-level version of the `qwen ask` concurrency test: 12 processes, one refresh request."""
    seed_oauth(oauth_server, isolated.qwen_home, expires_in=-5)
    oauth_server.token_delay = 0.3
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=_refresh_worker, args=(oauth_server.base_url, str(isolated.qwen_home), queue))
        for _ in range(12)
    ]
    for p in procs:
        p.start()
    results = [queue.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(10)
    assert [r[0] for r in results] == ["ok"] * 12, results
    assert oauth_server.refresh_requests == 1
    tokens = {r[1] for r in results}
    assert tokens == {read_creds(isolated.qwen_home)["access_token"]}
    assert not (isolated.qwen_home / "oauth_creds.lock").exists()


def test_sigterm_while_holding_the_lock_removes_it(isolated):
    isolated.qwen_home.mkdir(parents=True)
    code = (
        "import time, sys\n"
        "from pathlib import Path\n"
        "from qwen_cli.auth import token_store\n"
        f"with token_store.locked(Path({str(isolated.qwen_home)!r})):\n"
        "    print('locked', flush=True)\n"
        "    time.sleep(30)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    assert (isolated.qwen_home / "oauth_creds.lock").exists()
    proc.send_signal(signal.SIGTERM)
    rc = proc.wait(10)
    assert rc in (-signal.SIGTERM, 128 + signal.SIGTERM)
    assert not (isolated.qwen_home / "oauth_creds.lock").exists()


def test_concurrent_writes_never_leave_a_torn_file(isolated):
    token = token_store.OAuthToken("a" * 2000, "r", "Bearer", 1)
    token_store.write_token(isolated.qwen_home, token)
    code = (
        "from pathlib import Path\nfrom qwen_cli.auth import token_store\n"
        f"h = Path({str(isolated.qwen_home)!r})\n"
        "for i in range(200):\n"
        "    token_store.write_token(h, token_store.OAuthToken(str(i) * 2000, 'r', 'Bearer', i))\n"
    )
    writer = subprocess.Popen([sys.executable, "-c", code])
    try:
        while writer.poll() is None:
            json.loads((isolated.qwen_home / "oauth_creds.json").read_text())
    finally:
        writer.wait(30)
    assert [p.name for p in isolated.qwen_home.iterdir()] == ["oauth_creds.json"]


def test_a_refresh_made_by_another_process_while_we_waited_is_used(oauth_server, isolated):
    """Deterministic: the lock is held by "another program"; while we wait for it, that program stores a fresh
    token and lets go. The re-read under the lock must find it, so no refresh request is made."""
    from qwen_cli.auth.http import FormClient

    seed_oauth(oauth_server, isolated.qwen_home, expires_in=-5)
    fresh = seed_oauth(oauth_server, isolated.qwen_home.parent / "other", expires_in=3600)
    lock = isolated.qwen_home / "oauth_creds.lock"
    lock.write_text("held-by-another-program")
    waits = []

    def other_program_finishes(seconds):
        waits.append(seconds)
        if lock.exists():
            (isolated.qwen_home / "oauth_creds.json").write_text(json.dumps(fresh))
            lock.unlink()

    endpoints = qwen_oauth.Endpoints.from_settings(settings_for(oauth_server))
    token = qwen_oauth.fresh_token(isolated.qwen_home, endpoints, FormClient(), sleep=other_program_finishes)
    assert waits, "the lock was not waited for"
    assert token.access_token == fresh["access_token"]
    assert oauth_server.refresh_requests == 0
