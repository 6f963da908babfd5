"""The local queue of events: $QWEN_HOME/telemetry/queue.jsonl, mode 0600, bounded.

One JSON object per line. Past 1,000 events or 1 MB the oldest lines are dropped. Every write goes
through `fsutil.atomic_write` under a short file lock; every read re-validates each line against the
allowlist, so a hand-edited queue can never smuggle a field out.

Two locks live next to the queue:
  spool.lock  held for the few milliseconds of a read-modify-write of the queue;
  send.lock   held by a sender for the whole of one export (check, send, trim), and by `off` while it
              deletes the queue, so that once `off` returns no sender can still be in flight.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from pathlib import Path

from qwen_cli.telemetry import events as _events

MAX_EVENTS = 1000
MAX_BYTES = 1_000_000


def directory(home: Path) -> Path:
    return Path(home) / "telemetry"


def queue_file(home: Path) -> Path:
    return directory(home) / "queue.jsonl"


def notice_file(home: Path) -> Path:
    return directory(home) / "notice-shown"


def installation_file(home: Path) -> Path:
    return directory(home) / "installation-id"


def stamp_file(home: Path) -> Path:
    return directory(home) / "last-export"


def _locked(path: Path):
    from qwen_cli.fsutil import ensure_private_dir, file_lock

    ensure_private_dir(path.parent)
    return file_lock(path)


def spool_lock(home: Path):
    return _locked(directory(home) / "spool.lock")


def send_lock(home: Path):
    return _locked(directory(home) / "send.lock")


def encode(event: dict) -> str:
    return json.dumps(_events.validate(event), separators=(",", ":"), ensure_ascii=True)


def _read_lines(home: Path) -> list[str]:
    try:
        text = queue_file(home).read_text("utf-8", errors="replace")
    except FileNotFoundError:
        return []
    return [line for line in text.split("\n") if line.strip()]


def _write_lines(home: Path, lines: list[str]) -> None:
    from qwen_cli.fsutil import atomic_write

    path = queue_file(home)
    if not lines:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return
    atomic_write(path, "\n".join(lines) + "\n", mode=0o600)


def bound(lines: list[str]) -> list[str]:
    """Drop the oldest lines until at most MAX_EVENTS lines and MAX_BYTES bytes remain."""
    total = sum(len(line.encode("utf-8")) + 1 for line in lines)
    start = 0
    while start < len(lines) and (len(lines) - start > MAX_EVENTS or total > MAX_BYTES):
        total -= len(lines[start].encode("utf-8")) + 1
        start += 1
    return lines[start:]


def append(home: Path, event: dict) -> None:
    """Validate and queue one event (EventRejected if it is not allowlisted)."""
    line = encode(event)
    with spool_lock(home):
        _write_lines(home, bound(_read_lines(home) + [line]))


def _parse(line: str) -> dict | None:
    try:
        return _events.validate(json.loads(line))
    except (ValueError, TypeError):
        return None


def read(home: Path) -> list[dict]:
    """The queued events that pass the allowlist, oldest first."""
    if not queue_file(home).exists():
        return []  # and create nothing: looking must leave no trace
    with spool_lock(home):
        lines = _read_lines(home)
    return [event for event in map(_parse, lines) if event is not None]


def snapshot(home: Path) -> list[tuple[str, dict]]:
    """(line, event) pairs for a sender: it later removes exactly the lines it delivered."""
    with spool_lock(home):
        lines = _read_lines(home)
    pairs = []
    for line in lines:
        event = _parse(line)
        if event is not None:
            pairs.append((line, event))
    return pairs


def remove(home: Path, delivered: list[str]) -> None:
    """Remove delivered lines (and any line that no longer passes the allowlist)."""
    pending: dict[str, int] = {}
    for line in delivered:
        pending[line] = pending.get(line, 0) + 1
    with spool_lock(home):
        kept = []
        for line in _read_lines(home):
            if pending.get(line, 0) > 0:
                pending[line] -= 1
            elif _parse(line) is not None:
                kept.append(line)
        _write_lines(home, kept)


def count(home: Path) -> int:
    return len(read(home))


def clear(home: Path) -> int:
    """Delete the queue, the export stamp and the installation id. Returns how many events were dropped.

    Takes the send lock first, so an export already in flight finishes (or fails) before this returns,
    and any later sender finds nothing to send.
    """
    with send_lock(home), spool_lock(home):
        dropped = sum(1 for line in _read_lines(home) if _parse(line) is not None)
        for path in (queue_file(home), stamp_file(home), installation_file(home)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
    return dropped


def installation_id(home: Path) -> str:
    """The random installation id, created on first use. It identifies nothing but this $QWEN_HOME."""
    from qwen_cli.fsutil import atomic_write

    path = installation_file(home)
    try:
        value = path.read_text("ascii").strip()
        if len(value) == 32 and all(c in "0123456789abcdef" for c in value):
            return value
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    value = uuid.uuid4().hex
    atomic_write(path, value + "\n", mode=0o600)
    return value


def notice_shown(home: Path) -> bool:
    return notice_file(home).exists()


def mark_notice_shown(home: Path) -> None:
    from qwen_cli.fsutil import atomic_write

    atomic_write(notice_file(home), "The usage statistics notice was shown.\n", mode=0o600)
