"""Helpers for the privacy tests: in-process runs with the real statistics hook, and state set-up."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from qwen_cli.cli.main import install_statistics_hook, run
from qwen_cli.context import AppContext
from tests.helpers import Result, _Stream


def hooked(args: list[str], env: dict | None = None, app_attrs: dict | None = None) -> Result:
    """Run `qwen ARGS` in-process exactly as main() does: the statistics hook is installed first."""
    environ = dict(os.environ)
    environ.update(env or {})
    stdout, stderr = _Stream(), _Stream()
    app = AppContext(stdin=_Stream(""), stdout=stdout, stderr=stderr, env=environ, cwd=Path.cwd())
    install_statistics_hook(app)
    for name, value in (app_attrs or {}).items():
        setattr(app, name, value)
    code = run(app, list(args))
    return Result(code, stdout.getvalue(), stderr.getvalue())


def qwen_home() -> Path:
    return Path(os.environ["QWEN_HOME"])


def telemetry_dir() -> Path:
    return qwen_home() / "telemetry"


def queue() -> Path:
    return telemetry_dir() / "queue.jsonl"


def queued() -> list[dict]:
    if not queue().exists():
        return []
    return [json.loads(line) for line in queue().read_text().splitlines() if line.strip()]


def mark_notice_shown() -> None:
    telemetry_dir().mkdir(parents=True, exist_ok=True)
    (telemetry_dir() / "notice-shown").write_text("shown\n")


def write_user_config(text: str) -> None:
    qwen_home().mkdir(parents=True, exist_ok=True)
    (qwen_home() / "config.toml").write_text(text)


def wait_until(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
