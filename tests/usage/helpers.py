"""Shared pieces of the usage ledger tests: the ledger's path, crafted records, a Coding Plan login."""

from __future__ import annotations

import json
from pathlib import Path

PLAN_KEY = "sk-sp-ledger-canary-7f3a"

# Monday 2026-11-30 00:00 UTC+8 is Sunday 2026-11-29 16:00 UTC.
MONDAY_UTC8 = 1795968000.0


def ledger_file(qwen_home: Path) -> Path:
    return qwen_home / "usage.jsonl"


def records(qwen_home: Path) -> list[dict]:
    path = ledger_file(qwen_home)
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def record(t: float, *, method="coding-plan", provider="coding-plan", model="qwen3-coder-plus", status="ok", **kw):
    base = {
        "time": t,
        "method": method,
        "provider": provider,
        "region": "china" if method == "coding-plan" else None,
        "model": model,
        "input_tokens": 100,
        "output_tokens": 10,
        "status": status,
        "duration_ms": 5,
    }
    base.update(kw)
    return base


def write_records(qwen_home: Path, items: list[dict]) -> None:
    qwen_home.mkdir(parents=True, exist_ok=True)
    with ledger_file(qwen_home).open("a") as fh:
        for item in items:
            fh.write(json.dumps(item) + "\n")


def plan_env(openai_server, qwen_home: Path, tier: str | None = "lite", **extra) -> dict:
    """A Coding Plan login pointed at the stub (key in the environment), with the plan tier set."""
    openai_server.accept_tokens.add(PLAN_KEY)
    qwen_home.mkdir(parents=True, exist_ok=True)
    creds = qwen_home / "credentials.toml"
    creds.write_text(f'[coding-plan]\nbase_url = "{openai_server.url}"\nregion = "china"\n')
    creds.chmod(0o600)
    env = {"QWEN_AUTH_METHOD": "coding-plan", "BAILIAN_CODING_PLAN_API_KEY": PLAN_KEY, "QWEN_NETWORK_MAX_RETRIES": "0"}
    if tier:
        env["QWEN_CODING_PLAN_TIER"] = tier
    env.update(extra)
    return env
