"""$QWEN_HOME/usage.jsonl: one JSON object per request this machine sent, mode 0600, never sent anywhere.

A record holds only the fields in FIELDS: when, which method, provider, region and model, the token counts,
the outcome (`ok`, `interrupted`, or the error's class name) and how long it took. Never a prompt, an answer,
a URL, a host, a path or a key; every read re-checks each line against FIELDS, so a hand-edited line can't
add one.

Appends hold the sidecar lock (`fsutil.file_lock`) for one small write, so concurrent writers neither lose nor
tear records. Past `usage.max_bytes` the file is renamed to usage.jsonl.1 (replacing the previous one) and a
new one starts: the ledger holds at most twice that.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from qwen_cli.settings import Settings

FILE = "usage.jsonl"
LOCK_TIMEOUT = 2.0  # seconds; a writer holds the lock for one append, a reader for one read
CLOCK_VAR = "QWEN_USAGE_NOW"  # test seam: the ledger's clock only (epoch seconds), for window tests

# name -> the types its value may have. `time` is epoch seconds (UTC).
FIELDS: dict[str, tuple[type, ...]] = {
    "time": (int, float),
    "method": (str,),
    "provider": (str,),
    "region": (str, type(None)),
    "model": (str,),
    "input_tokens": (int, type(None)),
    "output_tokens": (int, type(None)),
    "status": (str,),
    "duration_ms": (int,),
}
MAX_TEXT = 100  # a model id or status longer than this is clipped


def path(home: Path) -> Path:
    return Path(home) / FILE


def rotated(home: Path) -> Path:
    return Path(home) / (FILE + ".1")


def now(env: Mapping[str, str]) -> float:
    """Epoch seconds: the real clock, or QWEN_USAGE_NOW (honoured for the ledger's clock and nothing else)."""
    fake = env.get(CLOCK_VAR)
    if fake:
        try:
            return float(fake)
        except ValueError:
            pass
    return time.time()


def enabled(settings: Settings) -> bool:
    """`usage.ledger`. A project file (or its .env) may turn the ledger off but not on: a `true` from there
    counts only when the user's own file doesn't say `false`."""
    if not settings.get("usage.ledger"):
        return False
    source = settings.source("usage.ledger")
    if not source.startswith(("project:", ".env:")):
        return True
    from qwen_cli.settings import flatten, read_toml

    try:
        own = flatten(read_toml(settings.user_file)).get("usage.ledger") if settings.user_file.exists() else None
    except Exception:  # noqa: BLE001 - an unreadable user file was reported when settings loaded
        own = None
    return own is not False


def encode(record: Mapping[str, Any]) -> str:
    return json.dumps(clean(record), separators=(",", ":"), ensure_ascii=True)


def clean(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record with only the allowlisted fields, each of an allowed type (ValueError otherwise)."""
    out: dict[str, Any] = {}
    for name, types in FIELDS.items():
        value = record.get(name)
        if isinstance(value, bool) or not isinstance(value, types):
            raise ValueError(f"usage record field {name!r} has the wrong type")
        out[name] = value[:MAX_TEXT] if isinstance(value, str) else value
    return out


def append(home: Path, record: Mapping[str, Any], max_bytes: int) -> None:
    """Add one record (an OSError or a ConfigError when the home can't be written; callers decide)."""
    append_all(home, [record], max_bytes)


def append_all(home: Path, records: Iterable[Mapping[str, Any]], max_bytes: int) -> None:
    """Add records in one locked write (`ask --each` finishes hundreds of requests a second)."""
    from qwen_cli.fsutil import ensure_private_dir, file_lock, lock_file_for

    line = "".join(encode(record) + "\n" for record in records).encode("ascii")
    if not line:
        return
    target = path(home)
    ensure_private_dir(target.parent)
    with file_lock(lock_file_for(target), timeout=LOCK_TIMEOUT, unwritable=target):
        try:
            size = target.stat().st_size
        except FileNotFoundError:
            size = 0
        if max_bytes and size and size + len(line) > max_bytes:
            os.replace(target, rotated(home))
        fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)


def read(home: Path) -> list[dict[str, Any]]:
    """Every valid record, oldest first (the rotated file, then the current one). Creates nothing."""
    lines: list[str] = []
    for file in (rotated(home), path(home)):
        try:
            lines += file.read_text("utf-8", errors="replace").split("\n")
        except (FileNotFoundError, NotADirectoryError):
            continue
    records = []
    for line in lines:
        if not line.strip():
            continue
        try:
            records.append(clean(json.loads(line)))
        except (ValueError, TypeError, AttributeError):
            continue  # a torn or hand-edited line is skipped, never shown
    return records


def clear(home: Path) -> int:
    """Delete the ledger (both files). Returns how many records were dropped."""
    from qwen_cli.fsutil import file_lock, lock_file_for

    target = path(home)
    if not target.exists() and not rotated(home).exists():
        return 0
    with file_lock(lock_file_for(target), timeout=LOCK_TIMEOUT, unwritable=target):
        dropped = len(read(home))
        for file in (target, rotated(home)):
            with contextlib.suppress(FileNotFoundError):
                file.unlink()
    return dropped
