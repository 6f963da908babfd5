"""The sidecar flock around every read-modify-write of config.toml and credentials.toml (fsutil.locked_update):
it excludes, it waits for a holder that lets go, it gives up with one clear error after its timeout, it leaves
no alarm behind, and it is never opened through a symlink.

The other holder is an flock on a second open of the lock file in this process: flock locks belong to the open
file, so the two exclude each other exactly as two processes would.
"""

from __future__ import annotations

import os
import signal
import stat
import sys
import threading
import time

import pytest

from tests.helpers import run_qwen

fcntl = pytest.importorskip("fcntl")


class Holder:
    def __init__(self, lock_path):
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def release(self):
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def test_a_held_lock_makes_the_writer_wait_until_it_is_released(isolated):
    from qwen_cli.fsutil import locked_update

    config = isolated.qwen_home / "config.toml"
    holder = Holder(isolated.qwen_home / "config.toml.lock")
    threading.Timer(0.3, holder.release).start()
    start = time.monotonic()
    with locked_update(config, timeout=10):
        waited = time.monotonic() - start
    assert 0.25 <= waited < 5
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0), "the deadline alarm outlived the wait"
    assert signal.getsignal(signal.SIGALRM) == signal.SIG_DFL


def test_a_lock_held_past_the_timeout_is_one_clear_error(isolated):
    from qwen_cli.errors import ConfigError
    from qwen_cli.fsutil import locked_update

    config = isolated.qwen_home / "config.toml"
    lock = isolated.qwen_home / "config.toml.lock"
    holder = Holder(lock)
    releaser = threading.Timer(3.0, holder.release)  # so a writer that ignores its deadline fails, not hangs
    releaser.start()
    try:
        start = time.monotonic()
        with pytest.raises(ConfigError) as caught:
            with locked_update(config, timeout=0.3):
                pytest.fail("the lock was taken while another holder had it")
        assert time.monotonic() - start < 2.5
    finally:
        releaser.cancel()
        holder.release()
    assert caught.value.message == f"another qwen process has held {lock} for over 0.3 s"
    assert "Wait for it to finish" in caught.value.hint
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_the_lock_file_is_private_and_kept(isolated):
    from qwen_cli.fsutil import locked_update

    config = isolated.qwen_home / "config.toml"
    with locked_update(config):
        pass
    lock = isolated.qwen_home / "config.toml.lock"
    assert stat.S_IMODE(lock.stat().st_mode) == 0o600
    with locked_update(config):  # a free lock is taken at once, again and again
        pass


def test_a_state_dir_that_cannot_be_made_is_reported_as_the_file_being_unwritable(isolated, tmp_path):
    from qwen_cli.errors import ConfigError
    from qwen_cli.fsutil import locked_update

    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    with pytest.raises(ConfigError) as caught:
        with locked_update(blocker / "config.toml"):
            pass
    assert caught.value.message == f"cannot write {blocker / 'config.toml'}: File exists"


@pytest.mark.skipif(sys.platform == "win32", reason="O_NOFOLLOW is POSIX")
def test_a_symlinked_lock_file_is_refused_not_followed(isolated, tmp_path):
    isolated.qwen_home.mkdir(parents=True, mode=0o700)
    elsewhere = tmp_path / "elsewhere" / "planted"
    elsewhere.parent.mkdir()
    (isolated.qwen_home / "config.toml.lock").symlink_to(elsewhere)

    result = run_qwen(["config", "set", "network.max_retries", "5"])

    config = isolated.qwen_home / "config.toml"
    assert result.exit_code == 8, result.output
    assert result.stderr.splitlines()[0] == f"Error: cannot write {config}: Too many levels of symbolic links"
    assert not elsewhere.exists()
    assert not config.exists()


def test_a_writer_off_the_main_thread_waits_without_an_alarm(isolated):
    """SIGALRM can only be handled in the main thread, so elsewhere the wait has no deadline but still ends."""
    from qwen_cli.fsutil import locked_update

    holder = Holder(isolated.qwen_home / "config.toml.lock")
    outcome = []

    def writer():
        try:
            with locked_update(isolated.qwen_home / "config.toml", timeout=0.1):
                outcome.append("locked")
        except BaseException as exc:  # noqa: BLE001 - reported below
            outcome.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    time.sleep(0.3)  # past the writer's timeout, which cannot fire off the main thread
    holder.release()
    thread.join(10)
    assert outcome == ["locked"]


def test_a_lock_without_a_deadline_waits_as_long_as_it_takes(isolated):
    """The telemetry spool's lock has no timeout: the holder is another qwen finishing a send."""
    from qwen_cli.fsutil import file_lock

    lock = isolated.qwen_home / "spool.lock"
    holder = Holder(lock)
    threading.Timer(0.3, holder.release).start()
    start = time.monotonic()
    with file_lock(lock):
        assert time.monotonic() - start >= 0.25
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
