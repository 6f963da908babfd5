"""Qwen OAuth credentials file (`oauth_creds.json`, Qwen Code's format) and its cross-process lock.

The lock protocol is the one Qwen Code uses, so the two programs can share `~/.qwen`:
`oauth_creds.lock` is created with O_CREAT|O_EXCL and holds a random UUID; waiters back off
100 ms x 1.5 up to 2 s for about 20 attempts; a lock whose mtime is older than 10 s is stale.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qwen_cli import paths
from qwen_cli.auth.profiles import file_of as _of_profile
from qwen_cli.errors import AuthError

log = logging.getLogger("qwen_cli.auth")

LOCK_STALE_AFTER = 10.0
LOCK_FIRST_DELAY = 0.1
LOCK_BACKOFF = 1.5
LOCK_MAX_DELAY = 2.0
LOCK_ATTEMPTS = 20
REFRESH_MARGIN = 30.0  # seconds of validity below which a token is refreshed


@dataclass
class OAuthToken:
    access_token: str
    refresh_token: str
    token_type: str
    expiry_date: int | None  # epoch milliseconds, as Qwen Code writes it; None: the server did not say
    resource_url: str | None = None
    id_token: str | None = None

    def __post_init__(self) -> None:
        # Every token read from the file or received from the server is hidden from all output from now on.
        from qwen_cli.secrets import register

        register(self.access_token, self.refresh_token, self.id_token)

    @property
    def expires_at(self) -> float | None:
        return None if self.expiry_date is None else self.expiry_date / 1000.0

    def seconds_left(self, now: float | None = None) -> float:
        """Seconds of validity left; infinite when the lifetime is unknown (it is refreshed after a 401)."""
        if self.expiry_date is None:
            return math.inf
        return self.expiry_date / 1000.0 - (time.time() if now is None else now)

    def needs_refresh(self, now: float | None = None) -> bool:
        return self.seconds_left(now) < REFRESH_MARGIN

    def to_json(self) -> dict[str, Any]:
        """Qwen Code's fields; expiry_date is left out when unknown (RFC 6749 makes expires_in optional), and
        refresh_token when the server gave none."""
        data: dict[str, Any] = {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "token_type": self.token_type,
            "resource_url": self.resource_url,
            "expiry_date": self.expiry_date,
        }
        if not self.refresh_token:  # Qwen Code refuses an empty one; a missing one is fine
            del data["refresh_token"]
        if self.resource_url is None:
            del data["resource_url"]
        if self.expiry_date is None:
            del data["expiry_date"]
        if self.id_token:
            data["id_token"] = self.id_token
        return data


class InvalidCredentialsFile(AuthError):
    pass


def creds_path(home: Path, profile: str | None = None) -> Path:
    return _of_profile(paths.oauth_creds_file(home), profile)


def lock_path(home: Path, profile: str | None = None) -> Path:
    return _of_profile(paths.oauth_lock_file(home), profile)


def profiles(home: Path) -> list[str]:
    """The named profiles that have a Qwen OAuth token file."""
    from qwen_cli.auth.profiles import check
    from qwen_cli.errors import UsageError

    default = paths.oauth_creds_file(home)
    found = []
    for path in sorted(home.glob(f"{default.stem}.*{default.suffix}")):  # one order on every file system
        name = path.name[len(default.stem) + 1 : -len(default.suffix)]
        try:
            if check(name):
                found.append(name)
        except UsageError:
            continue  # not a file of ours
    return found


# The largest expiry_date (epoch ms) a date can show: the end of year 9999. Later is not a real lifetime.
MAX_EXPIRY_DATE = 253402300799999


def parse_token(data: object) -> OAuthToken | None:
    """An OAuthToken from parsed JSON, or None when it is not usable. Qwen Code's rule: access_token and
    token_type are non-empty strings, and so is refresh_token when present; expiry_date is a positive number.
    A missing or null expiry_date means "unknown", as this program writes it when the server gave no lifetime."""
    if not isinstance(data, dict):
        return None

    def text(name: str) -> bool:
        return isinstance(data.get(name), str) and bool(data[name])

    if not (text("access_token") and text("token_type")) or ("refresh_token" in data and not text("refresh_token")):
        return None
    expiry = data.get("expiry_date")
    if expiry is not None and (
        isinstance(expiry, bool)
        or not isinstance(expiry, (int, float))
        or not math.isfinite(expiry)
        or not 0 < expiry <= MAX_EXPIRY_DATE
    ):
        return None
    resource = data.get("resource_url")
    id_token = data.get("id_token")
    return OAuthToken(
        access_token=data["access_token"],
        refresh_token=data.get("refresh_token", ""),
        token_type=data["token_type"],
        expiry_date=None if expiry is None else int(expiry),
        resource_url=resource if isinstance(resource, str) and resource else None,
        id_token=id_token if isinstance(id_token, str) and id_token else None,
    )


def read_token(home: Path, profile: str | None = None) -> OAuthToken | None:
    """The stored token, None when there is no file; InvalidCredentialsFile when it is unusable."""
    path = creds_path(home, profile)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InvalidCredentialsFile(
            f"cannot read {path}: {exc.strerror or exc}",
            hint="Check its permissions, or log in again: qwen auth login --method qwen-oauth",
        ) from None
    try:
        token = parse_token(json.loads(raw.decode("utf-8")))
    except (ValueError, RecursionError):  # not UTF-8 (a UnicodeDecodeError is a ValueError), not JSON, too deep
        token = None
    if token is None:
        raise InvalidCredentialsFile(
            f"{path} is not a valid Qwen OAuth credentials file",
            hint="Log in again: qwen auth login --method qwen-oauth",
        )
    return token


def write_token(home: Path, token: OAuthToken, profile: str | None = None) -> None:
    from qwen_cli.fsutil import atomic_write

    atomic_write(creds_path(home, profile), json.dumps(token.to_json(), indent=2) + "\n")
    forget_refusal(home, profile)


def delete_token(home: Path, profile: str | None = None) -> bool:
    forget_refusal(home, profile)
    try:
        creds_path(home, profile).unlink()
        return True
    except FileNotFoundError:
        return False


# After an invalid_grant the file stays (Qwen Code may still want it); a fingerprint of the refused refresh
# token, kept beside it, lets `auth status` show the login as expired until the file holds another token.
def refusal_path(home: Path, profile: str | None = None) -> Path:
    return _of_profile(paths.oauth_refused_file(home), profile)


def _fingerprint(refresh_token: str) -> str:
    import hashlib

    return "sha256:" + hashlib.sha256(refresh_token.encode("utf-8")).hexdigest()


def mark_refused(home: Path, token: OAuthToken, profile: str | None = None) -> None:
    from qwen_cli.fsutil import atomic_write

    atomic_write(refusal_path(home, profile), _fingerprint(token.refresh_token) + "\n")


def was_refused(home: Path, token: OAuthToken, profile: str | None = None) -> bool:
    try:
        return refusal_path(home, profile).read_text("ascii").strip() == _fingerprint(token.refresh_token)
    except (OSError, UnicodeDecodeError):
        return False


def forget_refusal(home: Path, profile: str | None = None) -> None:
    with contextlib.suppress(FileNotFoundError):
        refusal_path(home, profile).unlink()


class LockTimeout(AuthError):
    pass


class _Lock:
    def __init__(self, path: Path, sleep: Callable[[float], None], now: Callable[[], float]):
        self.path = path
        self.sleep = sleep
        self.now = now
        self.ident = str(uuid.uuid4())

    def _try_create(self) -> bool:
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            return False
        try:
            os.write(fd, self.ident.encode("ascii"))
        finally:
            os.close(fd)
        return True

    def _break_if_stale(self) -> None:
        try:
            age = self.now() - self.path.stat().st_mtime
        except FileNotFoundError:
            return
        if age <= LOCK_STALE_AFTER:
            return
        log.debug("breaking a stale lock %s (%.0f s old)", self.path, age)
        # Rename rather than unlink so that two waiters breaking the same stale lock can't delete a fresh
        # lock created in between by a third: only one rename of a given file succeeds, and we check what we got.
        aside = self.path.with_name(f"{self.path.name}.stale-{self.ident}")
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return
        try:
            if self.now() - aside.stat().st_mtime <= LOCK_STALE_AFTER:
                with contextlib.suppress(FileExistsError, FileNotFoundError):
                    os.link(aside, self.path)  # it was a live lock after all: put it back if still free
        finally:
            with contextlib.suppress(FileNotFoundError):
                aside.unlink()

    def acquire(self) -> None:
        from qwen_cli.fsutil import ensure_private_dir

        ensure_private_dir(self.path.parent)
        delay = LOCK_FIRST_DELAY
        for attempt in range(LOCK_ATTEMPTS):
            if attempt:  # a wait between two attempts, none after the last
                log.debug("waiting %.2f s for %s", delay, self.path)
                self.sleep(delay)
                delay = min(delay * LOCK_BACKOFF, LOCK_MAX_DELAY)
            if self._try_create():
                return
            self._break_if_stale()
            if self._try_create():
                return
        raise LockTimeout(
            f"another process holds the token refresh lock {self.path}",
            hint="Wait for the other qwen or Qwen Code process; if none is running, delete that file.",
        )

    def release(self) -> None:
        """Called only after a successful acquire()."""
        try:
            if self.path.read_text("ascii", errors="replace").strip() != self.ident:
                return  # ours was broken as stale and someone else holds it now
            self.path.unlink()
        except OSError:  # gone already (deleted by hand, or broken as stale), or unreadable
            pass


class _Terminated(BaseException):
    pass


@contextlib.contextmanager
def _trap_signals() -> Iterator[None]:
    """While the lock is held, turn SIGTERM/SIGHUP into an exception so `finally` can remove the lock."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}

    def handler(signum: int, _frame: object) -> None:
        raise _Terminated(signum)

    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if not sig or signal.getsignal(sig) is signal.SIG_IGN:
            continue  # not on this platform, or ignored on purpose (nohup): a hangup must not end us now, lock or not
        try:
            previous[sig] = signal.signal(sig, handler)
        except (ValueError, OSError):
            pass
    try:
        yield
    finally:
        for sig, old in previous.items():
            with contextlib.suppress(ValueError, OSError):
                signal.signal(sig, old)


@contextlib.contextmanager
def locked(
    home: Path,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], float] = time.time,
    profile: str | None = None,
) -> Iterator[None]:
    """Hold `oauth_creds.lock` (a named profile: its own lock) for the duration of the block; it is removed
    on exit, errors and signals."""
    lock = _Lock(lock_path(home, profile), sleep, now)
    lock.acquire()
    signum = None
    try:
        with _trap_signals():
            yield
    except _Terminated as exc:
        signum = exc.args[0]
    finally:
        lock.release()
    if signum is not None:
        os.kill(os.getpid(), signum)  # re-deliver with the original disposition now that the lock is gone
        raise SystemExit(128 + signum)
