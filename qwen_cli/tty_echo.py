"""Keep the terminal from echoing keys (a `^C`, typed-ahead text) while a live display redraws itself.

rich pads each line of a live display to the terminal's width, so the cursor rests in the last column; an
echoed `^C` there wraps onto a new line, the display's idea of its height is then one line short, and its
final redraw prints the first line again. With echo off for the length of the display nothing moves it.
"""

from __future__ import annotations

import contextlib
from typing import IO, Any


class EchoOff:
    def __init__(self, stream: IO[str]) -> None:
        self._fd: int | None = None
        self._saved: list[Any] | None = None
        try:
            import termios

            fd = stream.fileno()
            if stream.isatty():
                self._saved = termios.tcgetattr(fd)
                self._fd = fd
        except (ImportError, AttributeError, OSError, ValueError):
            self._saved = None

    def __enter__(self) -> EchoOff:
        if self._saved is not None and self._fd is not None:
            import termios

            quiet = list(self._saved)
            quiet[3] &= ~(termios.ECHO | termios.ECHOCTL)
            with contextlib.suppress(OSError):
                termios.tcsetattr(self._fd, termios.TCSANOW, quiet)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._saved is not None and self._fd is not None:
            import termios

            with contextlib.suppress(OSError):
                termios.tcsetattr(self._fd, termios.TCSANOW, self._saved)
            self._saved = None
