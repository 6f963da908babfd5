"""Atomic, private writes of user state: temp file in the same directory, fsync, os.replace."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (and parents) with mode 0700; tighten an existing one we own."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o700)
    except OSError:
        pass
    return path


def atomic_write(path: Path, data: bytes | str, mode: int = 0o600) -> None:
    """Replace `path` with `data` so a crash leaves either the old file or the new one, never a torn one.
    An OSError (read-only or full disk, no permission) becomes a ConfigError naming the file."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    path = Path(path)
    try:
        ensure_private_dir(path.parent)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _unwritable(path, exc) from None
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise _unwritable(path, exc) from None
        raise
    _fsync_dir(path.parent)
    _sweep_orphans(path)


ORPHAN_AGE = 60.0  # seconds; a live writer holds its temp file for milliseconds


def _sweep_orphans(path: Path) -> None:
    """Delete temp files of `path` left behind by writers that were killed mid-write. They may hold a copy of
    a secret (credentials.toml), which must not outlive the file itself, e.g. across `qwen auth logout`."""
    prefix = f".{path.name}."
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return
    now = time.time()
    for entry in entries:
        if not (entry.name.startswith(prefix) and entry.name.endswith(".tmp")):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and now - entry.stat(follow_symlinks=False).st_mtime > ORPHAN_AGE:
                os.unlink(entry.path)
        except OSError:
            pass


def _unwritable(path: Path, exc: OSError):
    """A read-only, full or foreign-owned home is the user's to fix: one line and exit 8, not a crash."""
    from qwen_cli.errors import ConfigError

    return ConfigError(
        f"cannot write {path}: {exc.strerror or exc}",
        hint=f"Make {path.parent} writable (or point QWEN_HOME at a writable directory) and try again.",
    )


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
