"""§7 Concurrent writers lose nothing: parallel `qwen auth login`, `auth logout` and `config set` processes
each read-modify-write credentials.toml or config.toml under its sidecar lock, so every one keeps its change."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

from tests.helpers import Result, qwen_command
from tests.security.localenv import CANARY

# Fifteen api-key providers from the catalogue plus the Coding Plan: sixteen distinct entries.
PROVIDERS = [
    "openai",
    "anthropic",
    "openrouter",
    "deepseek",
    "dashscope",
    "dashscope-intl",
    "modelscope",
    "groq",
    "together",
    "fireworks",
    "mistral",
    "ollama",
    "lmstudio",
    "vllm",
    "custom",
]
SETTINGS = {
    "network.max_retries": "4",
    "network.connect_timeout": "11.0",
    "network.read_timeout": "121.0",
    "network.headers_timeout": "181.0",
    "network.idle_timeout": "301.0",
    "network.max_response_bytes": "33554433",
    "network.max_event_bytes": "8388609",
    "input.max_bytes": "8388610",
    "chat.max_context_chars": "200001",
    "chat.history_size": "1001",
    "general.model": "model-x",
    "auth.region": "global",
    "auth.store": "file",
    "privacy.usage_statistics": "false",
    "network.allow_insecure_http": "true",
    "auth.provider": "groq",
}


def key_for(i: int) -> str:
    return f"{CANARY}-{i:02d}"


def login_args(i: int) -> list[str]:
    if i == len(PROVIDERS):
        return ["auth", "login", "--method", "coding-plan", "--region", "global", "--key-stdin"]
    extra = ["--base-url", "http://127.0.0.1:9/v1", "--model", "m"] if PROVIDERS[i] == "custom" else []
    return ["auth", "login", "--method", "api-key", "--provider", PROVIDERS[i], *extra, "--key-stdin"]


def crowd(commands: list[tuple[list[str], bytes]]) -> list[Result]:
    """Start every command, then hand each its stdin (a few bytes: the pipe takes them without blocking),
    so all of them are past their input and racing for the file together; then collect them all."""
    procs = [
        subprocess.Popen(
            qwen_command() + args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(os.environ),
        )
        for args, _ in commands
    ]
    for proc, (_, stdin) in zip(procs, commands, strict=True):
        proc.stdin.write(stdin)
        proc.stdin.close()
        proc.stdin = None  # handed over: communicate() must not flush it
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        results.append(Result(proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")))
    return results


def load(path):
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    return tomllib.loads(path.read_text())


def stored_keys(home) -> dict[str, str]:
    data = load(home / "credentials.toml")
    found = {name: entry.get("key") for name, entry in data.get("api-key", {}).items()}
    if "coding-plan" in data:
        found["coding-plan"] = data["coding-plan"].get("key")
    return found


def assert_clean(results: list[Result]) -> None:
    for result in results:
        assert result.exit_code == 0, result.stderr[-1000:]
        assert "Traceback" not in result.output
        assert CANARY not in result.output, result.output


def assert_no_leftovers(home) -> None:
    """No temp file; the lock files are empty (they hold no copy of anything) and private."""
    assert [p.name for p in home.iterdir() if p.name.endswith(".tmp")] == []
    for lock in home.glob("*.lock"):
        assert lock.stat().st_size == 0 and stat.S_IMODE(lock.stat().st_mode) == 0o600, lock


def test_16_parallel_logins_for_different_providers_all_keep_their_key(isolated):
    isolated.qwen_home.mkdir(mode=0o700)
    results = crowd([(login_args(i), key_for(i).encode()) for i in range(16)])
    assert_clean(results)
    assert all("key saved" in r.stderr for r in results), [r.stderr for r in results]
    expected = {name: key_for(i) for i, name in enumerate([*PROVIDERS, "coding-plan"])}
    assert stored_keys(isolated.qwen_home) == expected
    assert stat.S_IMODE((isolated.qwen_home / "credentials.toml").stat().st_mode) == 0o600
    assert_no_leftovers(isolated.qwen_home)


def test_16_parallel_config_sets_of_different_keys_all_keep_their_value(isolated):
    results = crowd([(["config", "set", key, value], b"") for key, value in SETTINGS.items()])
    assert_clean(results)
    data = load(isolated.qwen_home / "config.toml")
    flat = {f"{table}.{name}": value for table, entries in data.items() for name, value in entries.items()}
    shown = {key: str(value).lower() if isinstance(value, bool) else str(value) for key, value in flat.items()}
    assert shown == SETTINGS
    assert_no_leftovers(isolated.qwen_home)


def test_parallel_logouts_and_logins_remove_and_add_exactly_theirs(isolated):
    """Eight stored logins are forgotten while eight others are added: the file ends with exactly the new eight."""
    isolated.qwen_home.mkdir(mode=0o700)
    assert_clean(crowd([(login_args(i), key_for(i).encode()) for i in range(8)]))
    logouts = [(["auth", "logout", "api-key", "--provider", PROVIDERS[i]], b"") for i in range(8)]
    logins = [(login_args(i), key_for(i).encode()) for i in range(8, 16)]
    assert_clean(crowd([item for pair in zip(logouts, logins, strict=True) for item in pair]))
    expected = {name: key_for(i) for i, name in enumerate([*PROVIDERS, "coding-plan"]) if i >= 8}
    assert stored_keys(isolated.qwen_home) == expected
    assert_no_leftovers(isolated.qwen_home)
