"""What the workers of one run share: the pace after a rate limit, and one OAuth refresh.

`Gate` is installed as providers.http's pacer: every request waits at it before it is sent, and a 429
(or 503/529) seen by any worker holds it shut for the server's Retry-After (or the backoff), so one
rate limit slows every worker instead of each one finding it for itself.

`SharedRefresh` wraps the credentials' refresh: the first worker whose token is rejected refreshes, the
others that were rejected with the same token get that result instead of refreshing again.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qwen_cli.auth.credentials import Credentials


class Gate:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._open_at = 0.0
        self._stop = threading.Event()
        self.holds = 0

    def wait(self) -> None:
        """Block until the gate is open (or the run is stopping)."""
        while True:
            with self._lock:
                delay = self._open_at - self._clock()
            if delay <= 0 or self._stop.wait(delay):
                return

    def hold(self, seconds: float) -> None:
        """Keep everyone from sending for `seconds` from now (a longer hold already set stays)."""
        with self._lock:
            self.holds += 1
            self._open_at = max(self._open_at, self._clock() + seconds)

    def release(self) -> None:
        """Stopping: nobody waits any longer."""
        self._stop.set()


class SharedRefresh:
    def __init__(self, credentials: Credentials) -> None:
        self._lock = threading.Lock()
        self.current = self._shared(credentials)

    def _shared(self, credentials: Credentials) -> Credentials:
        if credentials.refresh is None:
            return credentials
        inner = credentials.refresh
        rejected = credentials.token

        def refresh() -> Credentials | None:
            with self._lock:
                if self.current.token != rejected:  # another worker refreshed already
                    return self.current
                fresh = inner()
                if fresh is not None:
                    self.current = self._shared(fresh)
                    return self.current
                return None

        return dataclasses.replace(credentials, refresh=refresh)
