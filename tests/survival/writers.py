"""Writer processes for the crash test: each rewrites its file in a loop until killed, printing "ready" after
the first write.

    python writers.py config|credentials|oauth|session HOME TAG

State n of writer TAG is fully determined by (TAG, n), so the checker can tell "old or new" from "torn".
"""

from __future__ import annotations

import sys
from pathlib import Path

CANARY_KEY = "sk-sp-SURVIVALCANARY-5e0c7a1f9b3d"  # same as registry.CANARY_KEY (this file runs standalone)


def config_loop(home: Path, tag: str) -> None:
    from qwen_cli.settings import write_value

    path = home / "config.toml"
    n = 0
    while True:
        write_value(path, "general.model", f"{tag}-{n}")
        n += 1
        ready(n)


def credentials_loop(home: Path, tag: str) -> None:
    from qwen_cli.auth import keystore

    n = 0
    while True:
        entry = keystore.Entry("coding-plan", None, {"region": "global", "model": f"{tag}-{n}"})
        keystore.save(home, entry, CANARY_KEY)
        n += 1
        ready(n)


def oauth_loop(home: Path, tag: str) -> None:
    import os

    from qwen_cli.auth import qwen_oauth
    from qwen_cli.settings import Settings

    settings = Settings.load(env=dict(os.environ), cwd=Path.cwd())
    endpoints = qwen_oauth.Endpoints.from_settings(settings)
    client = qwen_oauth._client(settings)
    n = 0
    while True:
        qwen_oauth.fresh_token(home, endpoints, client, force=True)
        n += 1
        ready(n)


def session_loop(home: Path, tag: str) -> None:
    from qwen_cli.chat.session_store import SessionFile

    session = SessionFile(
        home / "sessions" / "crash-test.jsonl", {"created": 0, "method": None, "provider": None, "model": None}
    )
    n = 0
    while True:
        # 1-3 KB lines: big enough that a non-atomic append would show a torn line.
        session.append({"type": "message", "role": "user", "content": f"{tag}-{n} " + "x" * (1000 + 97 * (n % 23))})
        n += 1
        ready(n)


def ready(n: int) -> None:
    """Tell the test after the first write: imports are done and the file exists."""
    if n == 1:
        sys.stdout.write("ready\n")
        sys.stdout.flush()


LOOPS = {"config": config_loop, "credentials": credentials_loop, "oauth": oauth_loop, "session": session_loop}

if __name__ == "__main__":
    kind, home, tag = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    LOOPS[kind](home, tag)
