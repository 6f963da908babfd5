"""Private writes of user state: atomic (temp file beside the target, fsync, os.replace), through symlinks to
their targets, and read-modify-write cycles serialised across processes by a sidecar flock."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
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
    When `path` is a symlink (a dotfile manager's), its target is replaced, from a temp file in the target's
    directory, and the link stays a link. An OSError (read-only or full disk, no permission) becomes a
    ConfigError naming the file."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    path = Path(path)
    try:
        ensure_private_dir(path.parent)
        path = real_target(path)
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


def real_target(path: Path) -> Path:
    """The file a write to `path` must replace: `path` itself, or the end of its chain of symlinks."""
    if not path.is_symlink():
        return path
    return Path(os.path.realpath(path))


LOCK_TIMEOUT = 30.0  # seconds; a holder keeps a settings or credentials lock for milliseconds


def lock_file_for(path: Path) -> Path:
    """The sidecar lock of a state file: `credentials.toml.lock` beside `credentials.toml` (beside the name
    qwen uses, which for a symlinked file is in $QWEN_HOME, not in the dotfile repository)."""
    return path.with_name(path.name + ".lock")


@contextlib.contextmanager
def locked_update(path: Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the cross-process lock of `path` around one read-modify-write of it, so concurrent writers of
    different entries all keep theirs. A lock file that can't be created is reported as `path` being unwritable."""
    path = Path(path)
    try:
        ensure_private_dir(path.parent)
    except OSError as exc:
        raise _unwritable(path, exc) from None
    with file_lock(lock_file_for(path), timeout=timeout, unwritable=path):
        yield


@contextlib.contextmanager
def file_lock(lock_path: Path, timeout: float | None = None, unwritable: Path | None = None) -> Iterator[None]:
    """An exclusive flock on `lock_path` (created 0600 and kept, never opened through a symlink) for the block.
    The kernel drops it when the process dies, so a killed holder can't leave it stuck. timeout=None waits as
    long as it takes; otherwise a ConfigError after `timeout` seconds."""
    # No O_CLOEXEC needed: os.open already makes the descriptor non-inheritable (PEP 446).
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(lock_path, flags, 0o600)
    except OSError as exc:
        raise _unwritable(unwritable or lock_path, exc) from None
    try:
        _acquire(fd, timeout, lock_path)
        try:
            yield
        finally:
            _release(fd)
    finally:
        os.close(fd)


class _LockWait(Exception):
    pass


def _acquire(fd: int, timeout: float | None, lock_path: Path) -> None:
    try:
        import fcntl
    except ModuleNotFoundError:  # Windows
        _acquire_windows(fd, timeout, lock_path)
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    except BlockingIOError:
        pass
    # Wait in the kernel, which wakes a waiter the moment the holder lets go (polling would let a busy writer
    # starve it), with an alarm for the deadline.
    try:
        with _alarm(timeout):
            fcntl.flock(fd, fcntl.LOCK_EX)
    except _LockWait:
        raise _busy(lock_path, timeout) from None


@contextlib.contextmanager
def _alarm(seconds: float | None) -> Iterator[None]:
    """Raise _LockWait in the main thread after `seconds`; without a deadline (or off the main thread, or when
    SIGALRM is someone else's) just wait."""
    import signal
    import threading

    usable = (
        seconds is not None
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None)
    )
    if not usable:
        yield
        return

    def expired(_signum, _frame):
        raise _LockWait

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)  # type: ignore[arg-type]  # usable: seconds is not None
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _acquire_windows(fd: int, timeout: float | None, lock_path: Path) -> None:
    import msvcrt

    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined,unused-ignore]  # Windows only
            return
        except OSError:
            if deadline is not None and time.monotonic() > deadline:
                raise _busy(lock_path, timeout) from None
            time.sleep(0.02)


def _busy(lock_path: Path, timeout: float | None):
    from qwen_cli.errors import ConfigError

    return ConfigError(
        f"another qwen process has held {lock_path} for over {timeout:g} s",
        hint="Wait for it to finish and try again; the lock goes away when that process exits.",
    )


def _release(fd: int) -> None:
    try:
        import fcntl
    except ModuleNotFoundError:  # Windows
        import msvcrt

        with contextlib.suppress(OSError):
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined,unused-ignore]  # Windows only
        return
    fcntl.flock(fd, fcntl.LOCK_UN)


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
            if entry.is_file(follow_symlinks=False) and now - entry.stat().st_mtime > ORPHAN_AGE:
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
