"""Concurrency: many `qwen ask` processes with one expired OAuth token refresh it exactly once; `config set`
racing with readers never shows a torn file."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tests.auth.helpers import read_creds, seed_oauth
from tests.survival.registry import CANARY_ACCESS, CANARY_REFRESH, REGISTRY
from tests.survival.util import assert_no_canary, finish, popen


def _crowd(isolated, oauth_server, n: int, debug_every: int = 0) -> tuple[int, int]:
    seed_oauth(oauth_server, isolated.qwen_home, expires_in=-30, access=CANARY_ACCESS, refresh=CANARY_REFRESH)
    oauth_server.token_delay = 0.3  # the refresh is slow, so the crowd really piles up on the lock
    env = {"QWEN_OAUTH_BASE_URL": oauth_server.base_url, "QWEN_AUTH_METHOD": "qwen-oauth"}
    start = time.monotonic()
    procs = []
    for i in range(n):
        debug = ["--debug"] if debug_every and i % debug_every == 0 else []
        procs.append(popen([*debug, "ask", f"question {i}"], env=env))
    results = [finish(p, f"concurrent ask {i}/{n}", timeout=300) for i, p in enumerate(procs)]
    elapsed = time.monotonic() - start
    successes = sum(1 for r in results if r.exit_code == 0 and r.stdout.strip() == "Hello from stub")
    failures = [(r.exit_code, r.stderr[-300:]) for r in results if r.exit_code != 0]
    for r in results:
        assert "Traceback" not in r.output, r.stderr[-4000:]
        assert_no_canary(r)
    creds = read_creds(isolated.qwen_home)  # still valid JSON
    bearers = {r.bearer for r in oauth_server.openai.chat_requests}
    for token in oauth_server.access_tokens:
        REGISTRY.secret(token)
    REGISTRY.set(f"concurrency_{n}_refresh_requests", oauth_server.refresh_requests)
    REGISTRY.set(f"concurrency_{n}_successes", f"{successes}/{n}")
    REGISTRY.set(f"concurrency_{n}_seconds", round(elapsed, 1))
    assert failures == [], failures
    assert successes == n
    assert oauth_server.refresh_requests == 1
    assert bearers == {creds["access_token"]}
    assert not (isolated.qwen_home / "oauth_creds.lock").exists()
    return successes, oauth_server.refresh_requests


def test_16_concurrent_asks_refresh_once(isolated, oauth_server):
    _crowd(isolated, oauth_server, 16, debug_every=4)


@pytest.mark.slow
def test_64_concurrent_asks_refresh_once(isolated, oauth_server):
    _crowd(isolated, oauth_server, 64, debug_every=8)


READER = r"""
import sys, tomllib
from pathlib import Path
from qwen_cli.settings import Settings, read_toml
path = Path(sys.argv[1])
reads = bad = 0
import time
stop, give_up = Path(sys.argv[2]), time.monotonic() + 120
while not stop.exists() and time.monotonic() < give_up:  # until every writer is done
    try:
        data = read_toml(path)
        value = data["general"]["model"]
        ok = data["network"] == {"max_retries": 4} and value.startswith("v") and data["general"]["pad"] == "p" * 4000
    except Exception as exc:
        ok = False
    reads += 1
    bad += 0 if ok else 1
print(reads, bad)
"""


def test_config_set_racing_with_readers_never_shows_a_torn_file(isolated):
    """Writers (`qwen config set` processes and a write_value loop) against readers in two processes."""
    path = isolated.qwen_home / "config.toml"
    path.write_text('[network]\nmax_retries = 4\n\n[general]\nmodel = "v0"\npad = "' + "p" * 4000 + '"\n')
    seconds = 3.0
    stop = isolated.tmp / "writers-done"
    reader_code = READER if sys.version_info >= (3, 11) else READER.replace("import sys, tomllib", "import sys")
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", reader_code, str(path), str(stop)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(2)
    ]
    loop = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom pathlib import Path\nfrom qwen_cli.settings import write_value\n"
            "end = time.monotonic() + float(sys.argv[2]); n = 0\n"
            "while time.monotonic() < end or n < 60:  # 60 writes however loaded the machine is\n"
            "    n += 1; write_value(Path(sys.argv[1]), 'general.model', f'v{n}')\n"
            "print(n)",
            str(path),
            str(seconds),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    cli_writes = 0
    deadline = time.monotonic() + seconds
    # At least three CLI writes however slow the machine is; the readers read until every writer is done.
    while time.monotonic() < deadline or cli_writes < 3:
        result = finish(popen(["config", "set", "general.model", f"v-cli-{cli_writes}"]), "config set race")
        assert result.exit_code == 0, result.output
        cli_writes += 1
    loop_out, loop_err = loop.communicate(timeout=60)
    stop.touch()  # the readers have read through every write
    assert loop.returncode == 0, loop_err.decode()
    reads = torn = 0
    for reader in readers:
        out, err = reader.communicate(timeout=60)
        assert reader.returncode == 0, err.decode()
        r, b = map(int, out.split())
        reads, torn = reads + r, torn + b
    writes = cli_writes + int(loop_out)
    REGISTRY.set("config_race_writes", writes)
    REGISTRY.set("config_race_reads", reads)
    REGISTRY.set("config_race_torn_reads", torn)
    assert writes > 50 and reads > 100
    assert torn == 0
    assert os.stat(path).st_mode & 0o777 == 0o600
