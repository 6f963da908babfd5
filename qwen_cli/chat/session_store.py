"""Sessions saved as they go: one JSON object per line in `$QWEN_HOME/sessions/<id>.jsonl`, mode 0600.

Each line is appended, flushed and fsynced on its own, so a crash loses at most the line being written.
Reading is forgiving: a line that is not a JSON object is skipped and reported, never fatal.

Record types:
  {"type": "meta", "id", "created", "method", "provider", "model"}   first line
  {"type": "message", "role": "user"|"assistant", "content", "cut"?}  one per message
  {"type": "failed"}                                                  the last user message got no answer
  {"type": "system", "content"}                                       system prompt set ("" removes it)
  {"type": "model", "model"}                                          /model switched
  {"type": "auth", "method", "provider", "model"}                     /auth switched (never a secret)

The auth method a session uses is the one in its meta line, or in its last `auth` record: resuming uses it.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qwen_cli.errors import ConfigError, UsageError
from qwen_cli.fsutil import ensure_private_dir

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,80}$")


def sessions_dir(home: Path) -> Path:
    return Path(home) / "sessions"


def new_id(now: float | None = None) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now if now is not None else time.time()))
    return f"{stamp}-{secrets.token_hex(3)}"


@dataclass
class Loaded:
    """What a session file holds, with the problems found while reading it."""

    id: str
    meta: dict = field(default_factory=dict)
    records: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class Summary:
    id: str
    path: Path
    created: float
    first_words: str
    turns: int

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(self.created)),
            "first_words": self.first_words,
            "turns": self.turns,
            "path": str(self.path),
        }


class SessionFile:
    """One session being written. The file is created on the first append, so an empty chat leaves nothing."""

    def __init__(self, path: Path, meta: dict | None = None):
        self.path = Path(path)
        self.id = self.path.stem
        self._pending_meta = meta
        self._fd: int | None = None
        self._created = False  # this object created the file (and may remove it while it is still empty)

    @property
    def exists(self) -> bool:
        return self.path.exists()

    def update_meta(self, **fields) -> bool:
        """Change the meta line while it is still unwritten (nothing recorded yet). False once it is on disk."""
        if self._pending_meta is None or self._fd is not None:
            return False
        self._pending_meta.update(fields)
        return True

    def append(self, record: dict) -> None:
        """Write one record (the meta line first). An OSError (full disk, lost permission) is a ConfigError,
        and a file this object created is not left behind empty."""
        try:
            fd = self._open() if self._fd is None else self._fd
            if self._pending_meta is not None:
                meta = self._pending_meta
                self._write(fd, {"type": "meta", "id": self.id, **meta})
                self._pending_meta = None
            self._write(fd, record)
        except OSError as exc:
            self._drop_if_empty()
            raise unwritable(self.path, exc) from None

    def _drop_if_empty(self) -> None:
        if not self._created or self._fd is None:
            return
        try:
            if os.fstat(self._fd).st_size == 0:
                os.unlink(self.path)
                self.close()
                self._created = False
        except OSError:
            pass

    def _open(self) -> int:
        ensure_private_dir(self.path.parent)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o600)
            self._created = True
        except FileExistsError:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND, 0o600)
        self._fd = fd
        size = os.fstat(fd).st_size
        if size > 0:
            self._pending_meta = None  # resuming: the file already has its meta line
            if os.pread(fd, 1, size - 1) != b"\n":
                # A crash cut the last line short. End it, so that only it is lost (skipped when read),
                # not the next record too by being glued onto it.
                os.write(fd, b"\n")
        try:
            os.fchmod(fd, 0o600)
        except OSError:
            pass
        return fd

    def _write(self, fd: int, record: dict[str, Any]) -> None:
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        # One write() per line on an O_APPEND descriptor: lines never interleave or tear apart.
        view = memoryview(line)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class SessionStore:
    def __init__(self, home: Path, clock: Callable[[], float] = time.time):
        self.dir = sessions_dir(home)
        self.clock = clock

    def path_for(self, session_id: str) -> Path:
        if not _ID.match(session_id):
            raise UsageError(f"not a session id: {session_id!r}", hint="List sessions with `qwen chat --list`.")
        return self.dir / f"{session_id}.jsonl"

    def create(self, method: str | None, provider: str | None, model: str | None) -> SessionFile:
        now = self.clock()
        session_id = new_id(now)
        meta = {"created": now, "method": method, "provider": provider, "model": model}
        return SessionFile(self.dir / f"{session_id}.jsonl", meta)

    def reopen(self, session_id: str) -> SessionFile:
        return SessionFile(self.path_for(session_id))

    def check_writable(self, session_id: str | None = None) -> None:
        """Fail now, before a request is sent, when the turn could not be saved: a ConfigError (exit 8) naming
        the directory or file, and nothing left behind. With `session_id`, that session's file must take
        appends; without, the directory must take a new file."""
        path = self.path_for(session_id) if session_id else None
        target = self.dir
        try:
            ensure_private_dir(self.dir)
            if path is not None and path.exists():
                target = path
                os.close(os.open(path, os.O_WRONLY | os.O_APPEND))
            else:
                fd, probe = tempfile.mkstemp(prefix=".probe-", suffix=".tmp", dir=self.dir)
                os.close(fd)
                os.unlink(probe)
        except OSError as exc:
            raise unwritable(target, exc) from None

    def files(self) -> list[Path]:
        """Session files, newest first (by last write)."""
        try:
            found = [p for p in self.dir.glob("*.jsonl") if p.is_file()]
        except OSError:
            return []
        return sorted(found, key=_mtime, reverse=True)

    def newest_id(self) -> str | None:
        files = self.files()
        return files[0].stem if files else None

    def load(self, session_id: str) -> Loaded:
        path = self.path_for(session_id)
        if not path.is_file():
            raise UsageError(f"no session {session_id!r} in {self.dir}", hint="List sessions with `qwen chat --list`.")
        return read(path)

    def summaries(self) -> list[Summary]:
        out = []
        for path in self.files():
            loaded = read(path)
            created = loaded.meta.get("created")
            if not isinstance(created, (int, float)):
                created = _mtime(path)
            users = [r for r in replay(loaded.records) if r["role"] == "user"]
            first = users[0]["content"] if users else ""
            out.append(Summary(path.stem, path, float(created), first_words(first), len(users)))
        return out


def unwritable(path: Path, exc: OSError) -> ConfigError:
    where = path if path.is_dir() else path.parent
    return ConfigError(
        f"cannot save the chat session: {path}: {exc.strerror or exc}",
        hint=f"Make {where} writable (or point QWEN_HOME at a writable directory) and try again.",
    )


def read(path: Path) -> Loaded:
    loaded = Loaded(id=Path(path).stem)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        loaded.warnings.append(f"cannot read session {path}: {exc.strerror}")
        return loaded
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            record = None
        if not isinstance(record, dict) or not isinstance(record.get("type"), str):
            loaded.warnings.append(f"{path}:{number}: skipped a corrupt session line")
            continue
        if record["type"] == "meta":
            loaded.meta = record
        else:
            loaded.records.append(record)
    return loaded


def replay(records: list[dict]) -> list[dict]:
    """The messages a session's records add up to (system prompt and model changes are not messages)."""
    messages: list[dict] = []
    for record in records:
        kind = record.get("type")
        if kind == "message" and record.get("role") in ("user", "assistant"):
            content = record.get("content")
            if isinstance(content, str):
                messages.append({"role": record["role"], "content": content, "cut": bool(record.get("cut"))})
        elif kind == "failed" and messages and messages[-1]["role"] == "user":
            messages.pop()
    return messages


def recorded_auth(loaded: Loaded) -> dict:
    """The auth method, provider and model the session last used: its meta line, then each `auth` record
    (a switch) and `model` record in order. Values are None when the file never named them."""
    meta = loaded.meta
    state = {key: _text(meta.get(key)) for key in ("method", "provider", "model")}
    for record in loaded.records:
        kind = record.get("type")
        if kind == "auth" and _text(record.get("method")):
            state = {key: _text(record.get(key)) for key in ("method", "provider", "model")}
        elif kind == "model" and _text(record.get("model")):
            state["model"] = record["model"]
    return state


def _text(value):
    return value if isinstance(value, str) and value else None


def last_of(records: list[dict], kind: str, key: str):
    """The value of `key` in the last record of type `kind`, or None."""
    for record in reversed(records):
        if record.get("type") == kind and key in record:
            return record[key]
    return None


def first_words(text: str, limit: int = 48) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
