"""oauth_creds.json through token_store's public functions: when a token counts as due for refresh, what is
written and read back, which files are refused with which message, and the lock's edge cases (a lock put back
when it turned out to be live, a lock that is no longer ours, signal handlers restored). Fast and in-process;
tests/auth/test_token_store.py has the multi-process ones."""

from __future__ import annotations

import json
import math
import os
import signal
import stat
import threading

import pytest

from qwen_cli.auth import token_store
from qwen_cli.auth.token_store import InvalidCredentialsFile, OAuthToken

NOW = 1_800_000_000.0


def _token(expiry_date, **kw):
    return OAuthToken("acc", "ref", "Bearer", expiry_date, **kw)


@pytest.mark.parametrize("left, due", [(29.5, True), (30.0, False), (30.5, False), (-5, True)])
def test_a_token_is_refreshed_when_less_than_30_seconds_are_left(left, due):
    token = _token(int((NOW + left) * 1000))
    assert token.seconds_left(NOW) == pytest.approx(left)
    assert token.expires_at == pytest.approx(NOW + left, abs=1e-3)
    assert token.needs_refresh(NOW) is due


def test_a_token_of_unknown_lifetime_is_never_due():
    token = _token(None)
    assert token.expires_at is None
    assert token.seconds_left(NOW) == math.inf
    assert token.needs_refresh(NOW) is False


def test_seconds_left_uses_the_clock_when_no_time_is_given():
    import time

    token = _token(int((time.time() + 100) * 1000))
    assert 98 < token.seconds_left() <= 100


def test_optional_fields_are_left_out_of_the_file_when_unknown(isolated):
    token_store.write_token(isolated.qwen_home, _token(None))
    raw = (isolated.qwen_home / "oauth_creds.json").read_text()
    assert raw.endswith("}\n") and raw.startswith('{\n  "access_token"')
    assert json.loads(raw) == {"access_token": "acc", "refresh_token": "ref", "token_type": "Bearer"}
    assert token_store.read_token(isolated.qwen_home) == _token(None)

    token_store.write_token(isolated.qwen_home, _token(5, resource_url="portal.qwen.ai", id_token="idt"))
    assert json.loads((isolated.qwen_home / "oauth_creds.json").read_text()) == {
        "access_token": "acc",
        "refresh_token": "ref",
        "token_type": "Bearer",
        "resource_url": "portal.qwen.ai",
        "expiry_date": 5,
        "id_token": "idt",
    }


def test_empty_optional_strings_read_as_unknown_and_a_float_expiry_as_whole_milliseconds():
    token = token_store.parse_token(
        {
            "access_token": "a",
            "refresh_token": "r",
            "token_type": "Bearer",
            "expiry_date": 1234.9,
            "resource_url": "",
            "id_token": "",
        }
    )
    assert token == OAuthToken("a", "r", "Bearer", 1234, None, None)
    odd = token_store.parse_token(
        {"access_token": "a", "refresh_token": "r", "token_type": "Bearer", "resource_url": 5, "id_token": ["x"]}
    )
    assert odd.resource_url is None and odd.id_token is None


def _write_creds(isolated, content: bytes):
    isolated.qwen_home.mkdir(parents=True, exist_ok=True)
    (isolated.qwen_home / "oauth_creds.json").write_bytes(content)


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"\xff\xfe{}", b"[" * 100_000 + b"]" * 100_000, b'{"access_token": "a"}', b'"a string"'],
    ids=["not-json", "not-utf8", "too-deep", "fields-missing", "not-an-object"],
)
def test_an_unusable_credentials_file_is_one_error_with_a_login_hint(isolated, content):
    _write_creds(isolated, content)
    path = isolated.qwen_home / "oauth_creds.json"
    with pytest.raises(InvalidCredentialsFile) as caught:
        token_store.read_token(isolated.qwen_home)
    assert caught.value.message == f"{path} is not a valid Qwen OAuth credentials file"
    assert caught.value.hint == "Log in again: qwen auth login --method qwen-oauth"


def test_a_credentials_path_that_cannot_be_read_says_why(isolated):
    path = isolated.qwen_home / "oauth_creds.json"
    path.mkdir(parents=True)
    with pytest.raises(InvalidCredentialsFile) as caught:
        token_store.read_token(isolated.qwen_home)
    assert caught.value.message == f"cannot read {path}: Is a directory"


def test_no_file_is_no_token_and_delete_says_whether_there_was_one(isolated):
    assert token_store.read_token(isolated.qwen_home) is None
    assert token_store.delete_token(isolated.qwen_home) is False
    token_store.write_token(isolated.qwen_home, _token(1))
    assert token_store.delete_token(isolated.qwen_home) is True
    assert not (isolated.qwen_home / "oauth_creds.json").exists()


class _Waited(Exception):
    pass


def _stop_at_first_wait(seconds):
    raise _Waited(seconds)


@pytest.mark.parametrize("second_look", [5.0, 10.0])
def test_a_lock_that_proves_live_when_set_aside_is_put_back(isolated, second_look):
    """Another waiter replaced the stale lock with a fresh one between our look at its age and our rename:
    what we moved aside is young, so it goes back in place, and we wait for it like any live lock."""
    isolated.qwen_home.mkdir(parents=True)
    lock = isolated.qwen_home / "oauth_creds.lock"
    lock.write_text("a-live-process")
    os.utime(lock, (1_700_000_000, 1_700_000_000))  # whole seconds: the ages below are exact
    looks = iter([1_700_000_011.0, 1_700_000_000.0 + second_look])
    with pytest.raises(_Waited):
        with token_store.locked(isolated.qwen_home, sleep=_stop_at_first_wait, now=lambda: next(looks)):
            pytest.fail("a live lock was taken over")
    assert lock.read_text() == "a-live-process"
    assert sorted(p.name for p in isolated.qwen_home.iterdir()) == ["oauth_creds.lock"]


@pytest.mark.parametrize("theirs", ["00000000-0000-4000-8000-000000000000", "ffffffff-ffff-4fff-bfff-ffffffffffff"])
def test_a_lock_that_is_no_longer_ours_is_left_to_its_holder(isolated, theirs):
    lock = isolated.qwen_home / "oauth_creds.lock"
    with token_store.locked(isolated.qwen_home):
        assert stat.S_IMODE(lock.stat().st_mode) == 0o600
        lock.write_text(theirs)  # as if we had stalled for over 10 s and another process took it over
    assert lock.read_text() == theirs


@pytest.mark.parametrize("age, broken", [(10.0, False), (10.5, True)])
def test_a_lock_exactly_ten_seconds_old_is_still_live(isolated, age, broken):
    isolated.qwen_home.mkdir(parents=True)
    lock = isolated.qwen_home / "oauth_creds.lock"
    lock.write_text("another-process")
    os.utime(lock, (1_700_000_000, 1_700_000_000))  # whole seconds, so the age below is exact
    clock = lambda: 1_700_000_000 + age  # noqa: E731
    if broken:
        with token_store.locked(isolated.qwen_home, sleep=_stop_at_first_wait, now=clock):
            assert lock.read_text() != "another-process"
    else:
        with pytest.raises(_Waited):
            with token_store.locked(isolated.qwen_home, sleep=_stop_at_first_wait, now=clock):
                pytest.fail("a lock exactly 10 s old was taken over")
        assert lock.read_text() == "another-process"


def test_the_lock_puts_the_signal_handlers_back(isolated):
    def mine(_signum, _frame):
        pass

    previous = signal.signal(signal.SIGTERM, mine)
    try:
        hup = signal.getsignal(signal.SIGHUP)
        with token_store.locked(isolated.qwen_home):
            assert signal.getsignal(signal.SIGTERM) is not mine
        assert signal.getsignal(signal.SIGTERM) is mine
        assert signal.getsignal(signal.SIGHUP) == hup
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_the_lock_works_off_the_main_thread(isolated):
    outcome = []

    def worker():
        try:
            with token_store.locked(isolated.qwen_home):
                outcome.append((isolated.qwen_home / "oauth_creds.lock").exists())
        except BaseException as exc:  # noqa: BLE001 - reported below
            outcome.append(exc)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(10)
    assert outcome == [True]
    assert not (isolated.qwen_home / "oauth_creds.lock").exists()


@pytest.mark.parametrize("age", [5.0, 10.0])
def test_a_live_lock_is_never_moved_aside_even_for_a_moment(isolated, age):
    """While a stale lock is set aside its name is free, and a third process could take it. So a lock that is
    not stale is left exactly where it is: every look at the clock finds it in place."""
    isolated.qwen_home.mkdir(parents=True)
    lock = isolated.qwen_home / "oauth_creds.lock"
    lock.write_text("a-live-process")
    os.utime(lock, (1_700_000_000, 1_700_000_000))

    def clock():
        assert lock.read_text() == "a-live-process", "the live lock was moved"
        return 1_700_000_000 + age

    with pytest.raises(_Waited):
        with token_store.locked(isolated.qwen_home, sleep=_stop_at_first_wait, now=clock):
            pytest.fail("a live lock was taken over")
    assert sorted(p.name for p in isolated.qwen_home.iterdir()) == ["oauth_creds.lock"]


def test_a_waiter_gives_up_after_twenty_tries_as_qwen_code_does(isolated):
    """Qwen Code's numbers, written out (not read from the module): 20 tries, waits of 100 ms x 1.5 capped at
    2 s between them, about 27 s in all."""
    lock = isolated.qwen_home / "oauth_creds.lock"
    with token_store.locked(isolated.qwen_home):
        waits = []
        with pytest.raises(token_store.LockTimeout) as caught:
            with token_store.locked(isolated.qwen_home, sleep=waits.append):
                pass
    expected = [min(0.1 * 1.5**i, 2.0) for i in range(19)]
    assert waits == pytest.approx(expected)
    assert sum(waits) == pytest.approx(26.93, abs=0.01)
    assert caught.value.message == f"another process holds the token refresh lock {lock}"
