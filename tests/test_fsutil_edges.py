"""fsutil's edges that the end-to-end tests cannot reach: the mode and flag arithmetic of private directories
and lock files (whose descriptor no child inherits), the documented 30 s lock deadline, temp files orphaned
long ago or exactly at the age limit, and the defensive branches a filesystem can hit (a directory qwen may
not chmod, a folder that cannot be listed or fsynced, an orphan that another process removed first). Each test
here was written from a surviving mutant (docs/testing.md)."""

from __future__ import annotations

import errno
import os
import signal
import stat
import threading
import time
from types import SimpleNamespace

import pytest

from qwen_cli import fsutil
from qwen_cli.errors import ConfigError

fcntl = pytest.importorskip("fcntl")


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.fixture
def chmods(monkeypatch):
    """Every os.chmod call fsutil makes (they still happen)."""
    calls = []
    real = os.chmod

    def spy(path, mode, *args, **kwargs):
        calls.append((str(path), mode))
        return real(path, mode, *args, **kwargs)

    monkeypatch.setattr(fsutil.os, "chmod", spy)
    return calls


def test_a_new_private_directory_is_created_0700_with_no_chmod_after(isolated, umask_022, chmods):
    """mkdir itself makes it 0700: no moment in which others may enter before a chmod narrows it."""
    target = isolated.tmp / "new" / "state"
    fsutil.ensure_private_dir(target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    assert chmods == []


def test_an_already_private_directory_is_left_untouched(isolated, chmods):
    target = isolated.tmp / "private"
    target.mkdir(mode=0o700)
    os.chmod(target, 0o700)
    chmods.clear()
    before = target.stat().st_ctime_ns
    time.sleep(0.05)  # a chmod would move the ctime past the filesystem clock's granularity
    fsutil.ensure_private_dir(target)
    assert chmods == []
    assert target.stat().st_ctime_ns == before


def test_a_wide_directory_is_narrowed_to_0700(isolated, chmods):
    target = isolated.tmp / "wide"
    target.mkdir()
    os.chmod(target, 0o755)
    chmods.clear()
    fsutil.ensure_private_dir(target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    assert chmods == [(str(target), 0o700)]


def test_a_directory_qwen_may_not_chmod_is_used_as_it_is(isolated, monkeypatch):
    target = isolated.tmp / "foreign"
    target.mkdir()
    os.chmod(target, 0o755)

    def refuse(path, mode, *args, **kwargs):
        raise PermissionError(errno.EPERM, "Operation not permitted", str(path))

    monkeypatch.setattr(fsutil.os, "chmod", refuse)
    assert fsutil.ensure_private_dir(target) == target


@pytest.fixture
def lock_open_flags(monkeypatch):
    """The flags file_lock opens its lock file with."""
    seen = []
    real = os.open

    def spy(path, flags, *args, **kwargs):
        if str(path).endswith(".lock"):
            seen.append(flags)
        return real(path, flags, *args, **kwargs)

    monkeypatch.setattr(fsutil.os, "open", spy)
    return seen


def test_without_o_nofollow_the_lock_file_still_opens_read_write(isolated, monkeypatch, lock_open_flags):
    """A platform without O_NOFOLLOW contributes nothing in its place."""
    monkeypatch.delattr(os, "O_NOFOLLOW")
    with fsutil.file_lock(isolated.tmp / "state.lock"):
        pass
    assert lock_open_flags == [os.O_RDWR | os.O_CREAT]


def test_the_lock_file_is_opened_read_write_created_and_never_through_a_link(isolated, lock_open_flags):
    with fsutil.file_lock(isolated.tmp / "state.lock"):
        pass
    assert lock_open_flags == [os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW]


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="lists the open descriptors through /proc")
def test_a_child_process_does_not_inherit_the_held_lock(isolated):
    lock = isolated.tmp / "state.lock"
    with fsutil.file_lock(lock):
        held = [int(fd) for fd in os.listdir("/proc/self/fd") if os.path.realpath(f"/proc/self/fd/{fd}") == str(lock)]
        assert len(held) == 1
        assert not os.get_inheritable(held[0])


def test_the_default_lock_deadline_is_the_documented_30_seconds(isolated, monkeypatch):
    """docs/failure-matrix.md: "One held for over 30 s is exit 8". The alarm is armed for 30 s; here it is
    made to ring at once, so the test does not wait 30 s to see the error it leads to."""
    path = isolated.qwen_home / "config.toml"
    path.parent.mkdir(parents=True)
    holder = os.open(fsutil.lock_file_for(path), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(holder, fcntl.LOCK_EX)
    armed = []
    real = signal.setitimer

    def soon(which, seconds, *args):
        if seconds:
            armed.append(seconds)
            seconds = 0.05
        return real(which, seconds, *args)

    monkeypatch.setattr(signal, "setitimer", soon)
    # Should the alarm never ring, the holder lets go after 10 s: the test then fails instead of hanging.
    watchdog = threading.Timer(10.0, fcntl.flock, (holder, fcntl.LOCK_UN))
    watchdog.start()
    try:
        with pytest.raises(ConfigError, match=r"for over 30 s"), fsutil.locked_update(path):
            pass
    finally:
        watchdog.cancel()
        os.close(holder)
    assert armed == [30.0]


def _orphan(path, age_from_epoch: float):
    orphan = path.with_name(f".{path.name}.leftover.tmp")
    orphan.write_text("secret = 'from a writer killed mid-write'\n")
    os.utime(orphan, (age_from_epoch, age_from_epoch))
    return orphan


def test_an_orphan_dated_long_ago_is_swept(isolated):
    """A temp file with an mtime from decades ago (a clock that was wrong then) is as old as it looks."""
    path = isolated.qwen_home / "credentials.toml"
    path.parent.mkdir(parents=True)
    orphan = _orphan(path, float(int(time.time() / 2) - 10))
    fsutil.atomic_write(path, "x = 1\n")
    assert not orphan.exists()
    assert path.read_text() == "x = 1\n"


def test_an_orphan_exactly_the_orphan_age_old_is_kept(isolated, monkeypatch):
    """Only a temp file older than ORPHAN_AGE is a dead writer's: at exactly that age it may still be in use."""
    path = isolated.qwen_home / "credentials.toml"
    path.parent.mkdir(parents=True)
    written = float(int(time.time()) - 3600)
    orphan = _orphan(path, written)
    monkeypatch.setattr(fsutil, "time", SimpleNamespace(time=lambda: written + fsutil.ORPHAN_AGE))
    fsutil.atomic_write(path, "x = 1\n")
    assert orphan.exists()
    monkeypatch.setattr(fsutil, "time", SimpleNamespace(time=lambda: written + fsutil.ORPHAN_AGE + 0.5))
    fsutil.atomic_write(path, "x = 2\n")
    assert not orphan.exists()


def test_an_orphan_another_process_removed_first_is_no_error(isolated, monkeypatch):
    path = isolated.qwen_home / "credentials.toml"
    path.parent.mkdir(parents=True)
    _orphan(path, time.time() - 3600)
    real = os.unlink

    def gone(target, *args, **kwargs):
        if str(target).endswith(".leftover.tmp"):
            real(target)
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(target))
        return real(target, *args, **kwargs)

    monkeypatch.setattr(fsutil.os, "unlink", gone)
    fsutil.atomic_write(path, "x = 1\n")
    assert path.read_text() == "x = 1\n"


def test_a_folder_that_cannot_be_listed_skips_the_sweep_not_the_write(isolated, monkeypatch):
    path = isolated.qwen_home / "config.toml"

    def refuse(directory):
        raise PermissionError(errno.EACCES, "Permission denied", str(directory))

    monkeypatch.setattr(fsutil.os, "scandir", refuse)
    fsutil.atomic_write(path, "a = 1\n")
    assert path.read_text() == "a = 1\n"


def test_a_folder_that_cannot_be_opened_or_fsynced_still_gets_the_file(isolated, monkeypatch):
    """Some filesystems refuse to open or fsync a directory (EINVAL); the file is in place either way."""
    path = isolated.qwen_home / "config.toml"
    real_open, real_fsync = os.open, os.fsync

    def open_no_dirs(target, flags, *args, **kwargs):
        if flags == os.O_RDONLY and os.path.isdir(target):
            raise PermissionError(errno.EACCES, "Permission denied", str(target))
        return real_open(target, flags, *args, **kwargs)

    monkeypatch.setattr(fsutil.os, "open", open_no_dirs)
    fsutil.atomic_write(path, "a = 1\n")
    assert path.read_text() == "a = 1\n"

    def fsync_no_dirs(fd):
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_fsync(fd)

    monkeypatch.setattr(fsutil.os, "open", real_open)
    monkeypatch.setattr(fsutil.os, "fsync", fsync_no_dirs)
    fsutil.atomic_write(path, "a = 2\n")
    assert path.read_text() == "a = 2\n"


def test_a_failed_replace_whose_temp_file_cannot_be_removed_is_still_one_clear_error(isolated, monkeypatch):
    path = isolated.qwen_home / "config.toml"
    fsutil.atomic_write(path, "old = 1\n")

    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    def stuck(target, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(target))

    monkeypatch.setattr(fsutil.os, "replace", full)
    monkeypatch.setattr(fsutil.os, "unlink", stuck)
    with pytest.raises(ConfigError, match=r"cannot write .*config\.toml: No space left on device"):
        fsutil.atomic_write(path, "new = 1\n")
    assert path.read_text() == "old = 1\n"
