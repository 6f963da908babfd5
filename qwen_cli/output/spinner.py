"""A small spinner on stderr while the first token is awaited; it erases itself when stopped."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qwen_cli.context import AppContext


class Spinner:
    FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

    def __init__(self, app: AppContext, label: str = "thinking", interval: float = 0.08) -> None:
        self.stream = app.stderr
        self.label = label
        self.interval = interval
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._drawn = False

    def start(self) -> Spinner:
        self._thread = threading.Thread(target=self._run, name="spinner", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        i = 0
        # Don't flash a spinner for answers that start at once.
        if self._stop.wait(0.15):
            return
        while not self._stop.is_set():
            with self._lock:
                if self._stop.is_set():
                    break
                try:
                    self.stream.write(f"\r{self.FRAMES[i % len(self.FRAMES)]} {self.label}…")
                    self.stream.flush()
                    self._drawn = True
                except (OSError, ValueError):
                    return
            i += 1
            self._stop.wait(self.interval)

    def stop(self) -> None:
        """Stop and erase (a second call does nothing)."""
        self._stop.set()
        with self._lock:
            if self._drawn:
                try:
                    self.stream.write("\r\x1b[K")
                    self.stream.flush()
                except (OSError, ValueError):
                    pass
                self._drawn = False
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=1)
        return None
