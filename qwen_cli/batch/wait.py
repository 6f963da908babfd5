"""Polling a batch until it ends: every batch.poll_interval seconds, for at most batch.wait_timeout.

The caller passes how to fetch the batch and what to do with each answer (draw the bar); Ctrl-C raises
KeyboardInterrupt out of here, and the batch keeps running on the provider.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from qwen_cli.errors import NetworkError, raise_if_interrupted

ENDED = ("completed", "failed", "expired", "cancelled")
RUNNING = ("validating", "in_progress", "finalizing", "cancelling")


def until_ended(
    fetch: Callable[[], dict[str, Any]],
    interval: float,
    timeout: float,
    on_update: Callable[[dict[str, Any]], None],
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    started = time.monotonic()
    while True:
        batch = fetch()
        on_update(batch)
        if batch.get("status") in ENDED:
            return batch
        left = timeout - (time.monotonic() - started)
        if left <= 0:
            raise NetworkError(
                f"batch {batch.get('id')} is still {batch.get('status')} after {timeout:g}s (batch.wait_timeout)",
                hint="It keeps running on the provider: check later with `qwen batch status`, or raise "
                "batch.wait_timeout.",
            )
        sleep(min(interval, left))
        raise_if_interrupted()


class Bar:
    """`[####....] 12/40 done, 1 failed, in_progress` on stderr, redrawn in place (only on a terminal).

    Only our own numbers and a status from the known list are drawn: nothing else a server sent."""

    WIDTH = 24

    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write
        self.shown = False

    def __call__(self, batch: dict[str, Any]) -> None:
        counts = batch.get("request_counts") or {}
        total, done, failed = (_count(counts, k) for k in ("total", "completed", "failed"))
        status = batch.get("status") if batch.get("status") in ENDED + RUNNING else "unknown"
        filled = self.WIDTH * (done + failed) // max(1, total)
        self._write(
            f"\r[{'#' * filled}{'.' * (self.WIDTH - filled)}] {done + failed}/{total} done, {failed} failed, "
            f"{status}\x1b[K"
        )
        self.shown = True

    def finish(self) -> None:
        if self.shown:
            self._write("\n")


def _count(counts: dict[str, Any], name: str) -> int:
    value = counts.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
