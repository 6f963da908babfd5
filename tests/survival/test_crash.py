"""Crash safety: writers SIGKILLed at random moments, 200 kills in all, must leave every file parseable and
holding either the old or the new content. A lock left by a killed refresh is broken once stale."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.auth.helpers import seed_oauth
from tests.survival.registry import CANARY_ACCESS, CANARY_KEY, CANARY_REFRESH, REGISTRY
from tests.survival.util import assert_no_canary, run

WRITERS = Path(__file__).with_name("writers.py")
KILLS = {"config": 25, "config-cli": 25, "credentials": 50, "oauth": 50, "session": 50}  # 200 in all
SEED_CONFIG = (
    "# my settings\n[network]\nmax_retries = 4\nread_timeout = 33.5\n\n"
    '[providers.custom]\nheaders = { X-Team = "' + "t" * 300 + '" }\n'
)
OPENROUTER = {"model": "qwen/qwen3-coder", "key": CANARY_KEY + "-openrouter"}


def _toml(path: Path) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    return tomllib.loads(path.read_text("utf-8"))


def _spawn(kind: str, home: Path, tag: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(WRITERS), kind, str(home), tag],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ),
    )


def _kill_when_writing(proc: subprocess.Popen, rng: random.Random, window: float = 0.06) -> None:
    """Wait for the writer's first write, then SIGKILL it at a random moment of its loop."""
    line = proc.stdout.readline()
    if line != b"ready\n":
        proc.kill()
        raise AssertionError(f"writer failed to start: {proc.stderr.read().decode()[-2000:]}")
    time.sleep(rng.uniform(0, window))
    assert proc.poll() is None, "the writer stopped by itself"
    proc.kill()
    proc.wait(10)
    proc.stdout.close()
    proc.stderr.close()
    assert proc.returncode == -9


def _leftovers(home: Path) -> list[str]:
    return sorted(p.name for p in home.iterdir() if p.name.endswith(".tmp") or ".stale-" in p.name)


def _age_leftovers(home: Path) -> int:
    """Temp files of killed atomic writes, made two minutes old (as they would be by the user's next run)."""
    found = [p for p in home.iterdir() if p.name.endswith(".tmp")]
    old = time.time() - 120
    for p in found:
        os.utime(p, (old, old))
    REGISTRY.add("crash_orphaned_temp_files", len(found))
    return len(found)


def _record(kind: str, kills: int, corrupt: int, home: Path) -> None:
    REGISTRY.add("crash_kills", kills)
    REGISTRY.add("crash_corrupt_files", corrupt)
    REGISTRY.set(f"crash_kills_{kind}", kills)
    left = _leftovers(home)
    REGISTRY.add("crash_orphaned_temp_files_after_next_write", len(left))
    assert left == [], left  # the next normal write swept them (they may hold a copy of a key)


@pytest.mark.slow
def test_killed_config_writers_leave_old_or_new_config(isolated):
    home = isolated.qwen_home
    path = home / "config.toml"
    path.write_text(SEED_CONFIG)
    seed = _toml(path)
    rng = random.Random(8)
    kills = corrupt = attempts = 0
    previous = None
    lifetime = _cli_lifetime(isolated)
    i = 0
    while kills < KILLS["config"] + KILLS["config-cli"]:
        i += 1
        via_cli = i % 2 == 1
        tag = f"w{i}"
        if via_cli:
            # A real `qwen config set`, killed at a random moment of its short life (import, load, write).
            attempts += 1
            assert attempts < 200, "could not land the kills"
            proc = subprocess.Popen(
                [*_qwen(), "config", "set", "general.model", tag],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=dict(os.environ),
            )
            time.sleep(rng.uniform(0.01, lifetime))
            if proc.poll() is None:
                proc.kill()
                kills += 1
            proc.wait(10)
        else:
            _kill_when_writing(_spawn("config", home, tag), rng)
            kills += 1
        try:
            data = _toml(path)
            model = data.get("general", {}).get("model")
            rest = {k: v for k, v in data.items() if k != "general"}
            ok = rest == seed and (
                model in (previous, tag) if via_cli else re.fullmatch(re.escape(tag) + r"-\d+", model or "")
            )
        except (ValueError, OSError):
            ok = False
        corrupt += 0 if ok else 1
        previous = model if ok else previous
    # The loader agrees, and a normal command still works (and sweeps the killed writers' temp files).
    assert run(["config", "get", "network.max_retries"]).stdout.strip() == "4"
    _age_leftovers(home)
    assert run(["config", "set", "general.model", "after"]).exit_code == 0
    _record("config", kills, corrupt, home)
    assert kills == KILLS["config"] + KILLS["config-cli"] and corrupt == 0, (kills, corrupt)


def _qwen() -> list[str]:
    from tests.helpers import qwen_command

    return qwen_command()


def _cli_lifetime(isolated) -> float:
    """How long an unkilled `qwen config set` lives here (the kill window), measured on a scratch home."""
    env = dict(os.environ, QWEN_HOME=str(isolated.tmp / "scratch-home"))
    start = time.monotonic()
    subprocess.run([*_qwen(), "config", "set", "general.model", "x"], env=env, capture_output=True, check=True)
    return max(0.05, (time.monotonic() - start) * 0.95)


@pytest.mark.slow
def test_killed_keystore_writers_leave_old_or_new_credentials(isolated):
    from qwen_cli.auth import keystore

    home = isolated.qwen_home
    keystore.save(home, keystore.Entry("api-key", "openrouter", {"model": OPENROUTER["model"]}), OPENROUTER["key"])
    rng = random.Random(9)
    kills = corrupt = 0
    for i in range(KILLS["credentials"]):
        tag = f"c{i}"
        _kill_when_writing(_spawn("credentials", home, tag), rng)
        kills += 1
        try:
            data = _toml(home / "credentials.toml")
            plan = data["coding-plan"]
            ok = (
                data["api-key"] == {"openrouter": OPENROUTER}
                and plan["key"] == CANARY_KEY
                and plan["region"] == "global"
                and re.fullmatch(re.escape(tag) + r"-\d+", plan["model"])
            )
        except (ValueError, KeyError, OSError):
            ok = False
        corrupt += 0 if ok else 1
    assert oct((home / "credentials.toml").stat().st_mode & 0o777) == "0o600"
    _age_leftovers(home)
    keystore.save(home, keystore.Entry("coding-plan", None, {"region": "global", "model": "after"}), CANARY_KEY)
    status = run(["auth", "status", "--json"], env={"QWEN_AUTH_METHOD": "coding-plan"})
    assert status.exit_code == 0, status.output
    assert_no_canary(status)
    _record("credentials", kills, corrupt, home)
    assert kills == KILLS["credentials"] and corrupt == 0


@pytest.mark.slow
def test_killed_refreshes_leave_a_valid_token_and_stale_locks_are_broken(isolated, oauth_server):
    from qwen_cli.auth import token_store

    home = isolated.qwen_home
    oauth_server.rotate_refresh = False  # a kill between the server's answer and the write must not end the chain
    oauth_server.token_delay = 0.01  # a wider window inside the lock
    seed_oauth(oauth_server, home, access=CANARY_ACCESS, refresh=CANARY_REFRESH)
    os.environ["QWEN_OAUTH_BASE_URL"] = oauth_server.base_url  # restored by the isolation fixture's env reset
    rng = random.Random(10)
    kills = corrupt = stale = 0
    lock = home / "oauth_creds.lock"
    try:
        for i in range(KILLS["oauth"]):
            _kill_when_writing(_spawn("oauth", home, f"o{i}"), rng, window=0.08)
            kills += 1
            try:
                token = token_store.read_token(home)
                ok = (
                    token is not None
                    and token.access_token in set(oauth_server.access_tokens)
                    and token.refresh_token == CANARY_REFRESH
                )
            except Exception:  # noqa: BLE001 - anything unreadable is corrupt
                ok = False
            corrupt += 0 if ok else 1
            if lock.exists():
                # Left by the killed process. Age it past 10 s instead of waiting: the next writer (which
                # must refresh before it says "ready") has to break it.
                stale += 1
                old = time.time() - 11
                os.utime(lock, (old, old))
    finally:
        os.environ.pop("QWEN_OAUTH_BASE_URL", None)
    for token in oauth_server.access_tokens:
        REGISTRY.secret(token)
    if lock.exists():
        old = time.time() - 11
        os.utime(lock, (old, old))
    # The next real run after all that: refreshes (breaking any stale lock) and answers.
    stored = json.loads((home / "oauth_creds.json").read_text())
    stored["expiry_date"] = int((time.time() - 60) * 1000)
    (home / "oauth_creds.json").write_text(json.dumps(stored))
    _age_leftovers(home)
    before = oauth_server.refresh_requests
    result = run(
        ["--debug", "ask", "hi"], env={"QWEN_OAUTH_BASE_URL": oauth_server.base_url, "QWEN_AUTH_METHOD": "qwen-oauth"}
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "Hello from stub"
    assert oauth_server.refresh_requests == before + 1
    assert not lock.exists()
    assert_no_canary(result)
    REGISTRY.add("stale_locks_left_by_kills", stale)
    REGISTRY.add("stale_locks_broken", stale)
    _record("oauth", kills, corrupt, home)
    assert kills == KILLS["oauth"] and corrupt == 0


@pytest.mark.slow
def test_killed_session_appenders_leave_whole_lines(isolated):
    from qwen_cli.chat.session_store import read

    home = isolated.qwen_home
    path = home / "sessions" / "crash-test.jsonl"
    rng = random.Random(11)
    kills = corrupt = torn = 0
    tags = []
    for i in range(KILLS["session"]):
        tag = f"s{i}"
        tags.append(tag)
        _kill_when_writing(_spawn("session", home, tag), rng, window=0.04)
        kills += 1
        # The kernel may cut a large write short when SIGKILL lands mid-copy: the line being written is
        # then lost (skipped with a warning, as the issue allows), and nothing else may be.
        torn += not path.read_bytes().endswith(b"\n")
        loaded = read(path)
        # Every line is a whole record, and they are exactly tag-0, tag-1, ... for each writer in turn.
        seen = [r["content"].split(" ")[0] for r in loaded.records]
        expected_tags = [s.rsplit("-", 1)[0] for s in seen]
        numbers_ok = all(
            int(seen[j].rsplit("-", 1)[1])
            == (int(seen[j - 1].rsplit("-", 1)[1]) + 1 if j and expected_tags[j] == expected_tags[j - 1] else 0)
            for j in range(len(seen))
        )
        order_ok = list(dict.fromkeys(expected_tags)) == tags
        ok = len(loaded.warnings) <= torn and loaded.meta.get("type") == "meta" and numbers_ok and order_ok
        corrupt += 0 if ok else 1
    REGISTRY.add("crash_session_lines_cut_by_kills", torn)
    _record("session", kills, corrupt, home)
    assert kills == KILLS["session"] and corrupt == 0


@pytest.mark.slow
def test_a_lock_is_broken_only_once_it_is_ten_seconds_old(isolated, oauth_server):
    """Real time, kept short: a lock 9.2 s old is waited for, then broken when it crosses 10 s."""
    home = isolated.qwen_home
    seed_oauth(oauth_server, home, expires_in=-30, access=CANARY_ACCESS, refresh=CANARY_REFRESH)
    lock = home / "oauth_creds.lock"
    lock.write_text("9d0d7a8e-dead-4000-8000-killed-process")
    born = time.time() - 9.2
    os.utime(lock, (born, born))
    wall0, mono0 = time.time(), time.monotonic()
    result = run(["ask", "hi"], env={"QWEN_OAUTH_BASE_URL": oauth_server.base_url, "QWEN_AUTH_METHOD": "qwen-oauth"})
    assert result.exit_code == 0, result.output
    (refresh,) = [r for r in oauth_server.requests if r.form.get("grant_type") == "refresh_token"]
    age_at_refresh = wall0 + (refresh.time - mono0) - born
    assert age_at_refresh >= 10.0, age_at_refresh
    assert age_at_refresh < 13.0, age_at_refresh  # and not much later: it was broken, not waited out
    assert not lock.exists()
    for token in oauth_server.access_tokens:
        REGISTRY.secret(token)
    REGISTRY.add("stale_locks_broken", 1)
    REGISTRY.set("stale_lock_age_when_broken_s", round(age_at_refresh, 2))


def test_a_torn_last_session_line_costs_only_itself(isolated):
    """A kill (or power loss) can cut the last line short; the next session appended must not be glued to it."""
    from qwen_cli.chat.session_store import SessionFile, read

    path = isolated.qwen_home / "sessions" / "torn.jsonl"
    first = SessionFile(path, {"created": 0, "method": None, "provider": None, "model": None})
    first.append({"type": "message", "role": "user", "content": "one"})
    first.close()
    with open(path, "ab") as fh:
        fh.write(b'{"type": "message", "role": "assistant", "cont')  # the torn tail
    resumed = SessionFile(path)
    resumed.append({"type": "message", "role": "user", "content": "two"})
    resumed.close()
    loaded = read(path)
    assert [r["content"] for r in loaded.records] == ["one", "two"]
    assert len(loaded.warnings) == 1  # the torn line, reported and skipped


def test_temp_files_of_killed_writers_are_swept_by_the_next_write(isolated):
    from qwen_cli.auth import keystore

    home = isolated.qwen_home
    home.mkdir(parents=True, exist_ok=True)
    orphan = home / ".credentials.toml.k1ll3d.tmp"
    orphan.write_text(f'[coding-plan]\nkey = "{CANARY_KEY}"\n')
    old = time.time() - 120
    os.utime(orphan, (old, old))
    live = home / ".credentials.toml.wr1t1ng.tmp"  # another writer, mid-write right now
    live.write_text("partial")
    keystore.save(home, keystore.Entry("coding-plan", None, {"region": "global"}), CANARY_KEY)
    assert not orphan.exists()
    assert live.exists()
    live.unlink()
