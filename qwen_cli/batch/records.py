"""The local record of each submitted batch: $QWEN_HOME/batches/<id>.json (0600, written atomically).

A record says where the batch lives (the login's method, provider, profile and base URL: a later command
sends the key only there) and what it holds (the input ids in input order, so the results come back in it).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from qwen_cli.errors import ConfigError, ServerError, UsageError

DIR = "batches"
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,199}")


@dataclass
class Record:
    id: str
    method: str
    provider: str
    origin: str  # the login's base URL when the batch was created
    model: str
    input: str  # the input file as given (or - for stdin)
    input_file_id: str
    total: int
    ids: list[Any] = field(default_factory=list)  # each input's id (the --each line's "id"), in input order
    profile: str | None = None
    created: float = field(default_factory=time.time)
    status: str = ""  # as last seen
    request_counts: dict[str, Any] = field(default_factory=dict)
    in_ledger: bool = False  # its requests are in the usage ledger (done by the first `results`)

    def summary(self) -> dict[str, Any]:
        """The record without its id list, for `status`, `list` and `submit --json`."""
        data = asdict(self)
        data.pop("ids")
        data["created_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.created))
        return data


def directory(home: Path) -> Path:
    return home / DIR


def check_id(batch_id: str, given_by_user: bool = True) -> str:
    """A batch id that is safe as a file name (a record's name is its id)."""
    if _SAFE_ID.fullmatch(batch_id or ""):
        return batch_id
    if given_by_user:
        raise UsageError(f"{batch_id!r} is not a batch id", hint="See the ids with `qwen batch list`.")
    raise ServerError(
        "the provider answered with a batch id that qwen can't record", hint="Check the base URL; try again."
    )


def save(home: Path, record: Record) -> Path:
    from qwen_cli.fsutil import atomic_write, ensure_private_dir

    ensure_private_dir(home)
    ensure_private_dir(directory(home))
    path = directory(home) / f"{check_id(record.id, given_by_user=False)}.json"
    atomic_write(path, json.dumps(asdict(record), ensure_ascii=False), mode=0o600)
    return path


def load(home: Path, batch_id: str) -> Record:
    path = directory(home) / f"{check_id(batch_id)}.json"
    if not path.exists():
        raise UsageError(
            f"no batch {batch_id} was submitted from here (no {path.name} in {directory(home)})",
            hint="`qwen batch list` shows the batches submitted with qwen.",
        )
    return _read(path)


def newest(home: Path) -> Record:
    found = all_records(home)
    if not found:
        raise UsageError("no batch has been submitted yet", hint="qwen batch submit IN.jsonl 'PROMPT with $input'")
    return found[0]


def all_records(home: Path) -> list[Record]:
    """Every readable record, newest first; an unreadable one is skipped (load() names it)."""
    records = []
    for path in directory(home).glob("*.json") if directory(home).is_dir() else []:
        try:
            records.append(_read(path))
        except ConfigError:
            continue
    return sorted(records, key=lambda r: r.created, reverse=True)


def _read(path: Path) -> Record:
    try:
        data = json.loads(path.read_text("utf-8"))
        record = Record(**data)
        if not isinstance(record.ids, list) or not isinstance(record.origin, str):
            raise TypeError
        return record
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(
            f"can't read the batch record {path}: {type(exc).__name__}",
            hint="Delete that file; the batch itself is still on the provider (qwen batch list --refresh).",
        ) from None
