"""The Qwen OAuth lock when its file changes under us: a lock dated decades ago (a clock that was wrong when
it was made) is stale like any other, a holder that lets go while we look at its lock's age hands it over at
once, and a lock deleted by hand while we hold it (as the timeout's hint suggests) is no error on the way out."""

from __future__ import annotations

import os
import time

from qwen_cli.auth import token_store


def _foreign_lock(home, mtime: float):
    home.mkdir(parents=True, exist_ok=True)
    lock = token_store.lock_path(home)
    lock.write_text("another-process")
    os.utime(lock, (mtime, mtime))
    return lock


def test_a_lock_dated_decades_ago_is_broken_at_once(isolated):
    # An age of 2,000,005 s, whose remainder modulo the mtime (5 s) would look fresh.
    lock = _foreign_lock(isolated.qwen_home, 1_000_000.0)
    waits = []
    with token_store.locked(isolated.qwen_home, sleep=waits.append, now=lambda: 3_000_005.0):
        assert lock.read_text() != "another-process"
    assert waits == []
    assert list(isolated.qwen_home.iterdir()) == []


def test_a_holder_that_lets_go_while_we_check_its_age_hands_the_lock_over(isolated):
    lock = _foreign_lock(isolated.qwen_home, time.time())
    waits = []

    def now():
        lock.unlink(missing_ok=True)  # the holder finishes between our failed create and the look at its age
        return time.time()

    with token_store.locked(isolated.qwen_home, sleep=waits.append, now=now):
        assert lock.read_text() != "another-process"
    assert waits == []


def test_a_lock_deleted_by_hand_while_held_is_no_error_on_release(isolated):
    with token_store.locked(isolated.qwen_home):
        token_store.lock_path(isolated.qwen_home).unlink()
    assert list(isolated.qwen_home.iterdir()) == []
