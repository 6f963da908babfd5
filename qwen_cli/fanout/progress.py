"""The progress line of `--each` on stderr, only when stderr is a terminal: done, failed, tokens, rate.

The line is our own numbers (nothing a server sent), redrawn in place at most ten times a second.
"""

from __future__ import annotations

import time
from typing import IO

from qwen_cli.fanout.run import Outcome

WIDTH = 24
EVERY = 0.1  # seconds between redraws


class Bar:
    def __init__(self, stream: IO[str], total: int) -> None:
        self._stream = stream
        self._total = total
        self._drawn_at = 0.0
        self._shown = False

    def __call__(self, outcome: Outcome) -> None:
        now = time.monotonic()
        if now - self._drawn_at < EVERY:
            return
        self._drawn_at = now
        self._draw(outcome)

    def _draw(self, outcome: Outcome) -> None:
        done = outcome.answered + outcome.failed
        filled = WIDTH * done // max(1, self._total)
        rate = done / outcome.elapsed if outcome.elapsed > 0 else 0.0
        text = (
            f"\r[{'#' * filled}{'.' * (WIDTH - filled)}] {done}/{self._total} done, {outcome.failed} failed, "
            f"{outcome.tokens} tokens, {rate:.1f}/s"
        )
        self._write(text + "\x1b[K")
        self._shown = True

    def finish(self, outcome: Outcome) -> None:
        if self._shown or outcome.answered + outcome.failed:
            self._draw(outcome)
            self._write("\n")

    def _write(self, text: str) -> None:
        try:
            self._stream.write(text)
            self._stream.flush()
        except (BrokenPipeError, ValueError):
            pass
