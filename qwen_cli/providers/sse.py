"""An incremental Server-Sent Events parser: bytes in, complete events out.

Network chunks split lines, multi-byte characters and CRLF pairs anywhere; `feed()` copes with all of
them. Lines are split on bytes (CR and LF never occur inside a UTF-8 character) and decoded whole, so
each byte is looked at a bounded number of times however long a line grows: parsing is linear in the
input. Comment lines (`: keep-alive`) are skipped, several `data:` lines in one event are joined with
"\n", and an event is dispatched at the blank line that ends it (per the WHATWG spec). A line or an
event longer than `max_event_bytes` raises EventTooLarge instead of growing without bound.
"""

from __future__ import annotations

from dataclasses import dataclass

_BOM = b"\xef\xbb\xbf"


@dataclass
class SSEEvent:
    """One server-sent event: its data, its event name, and whether the body ended before it was dispatched."""

    data: str
    event: str = "message"
    complete: bool = True  # False: the body ended before the blank line that would have dispatched it


class EventTooLarge(ValueError):
    def __init__(self, limit: int):
        super().__init__(f"a stream line or event exceeded {limit} bytes")
        self.limit = limit


class SSEParser:
    def __init__(self, max_event_bytes: int = 0) -> None:
        self.max_event_bytes = max_event_bytes  # 0: no cap
        self._pending: list[bytes] = []  # the pieces of a line still waiting for its line ending
        self._pending_size = 0
        self._data: list[str] = []
        self._data_size = 0
        self._event = ""
        self._started = False
        self._skip_lf = False  # the last chunk ended with CR: an LF starting the next one belongs to it
        self.truncated = False  # set by close() when the body ended inside a line or an event

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        if not chunk:
            return []
        if self._skip_lf:
            self._skip_lf = False
            chunk = chunk[1:] if chunk[:1] == b"\n" else chunk
        if b"\r" in chunk:
            # A CR ends a line at once, even at the end of a chunk; a following LF is swallowed there.
            self._skip_lf = chunk.endswith(b"\r")
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = chunk.split(b"\n")
        tail = lines.pop()
        events: list[SSEEvent] = []
        if lines and self._pending:
            lines[0] = b"".join((*self._pending, lines[0]))
            self._pending, self._pending_size = [], 0
        for line in lines:
            self._line(line, events)
        if tail:
            self._pending.append(tail)
            self._pending_size += len(tail)
            self._check(self._pending_size)
        return events

    def close(self) -> list[SSEEvent]:
        """End of body. An event still waiting for its blank line comes back with complete=False (the
        caller decides whether the stream was cut); a half-written line is dropped. Both set `truncated`."""
        events: list[SSEEvent] = []
        self.truncated = bool(self._pending or self._data)
        if self._data:
            events.append(SSEEvent("\n".join(self._data), self._event or "message", complete=False))
        self._pending, self._pending_size, self._data, self._data_size, self._event = [], 0, [], 0, ""
        return events

    def _check(self, size: int) -> None:
        if self.max_event_bytes and size > self.max_event_bytes:
            raise EventTooLarge(self.max_event_bytes)

    def _line(self, line: bytes, events: list[SSEEvent]) -> None:
        if not self._started:
            self._started = True
            line = line.removeprefix(_BOM)
        if not line:
            if self._data:
                events.append(SSEEvent("\n".join(self._data), self._event or "message"))
                self._data, self._data_size = [], 0
            self._event = ""
            return
        self._check(len(line))
        if line[:1] == b":":
            return
        name, sep, value = line.partition(b":")
        if sep and value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            self._data_size += len(value)
            self._check(self._data_size)
            self._data.append(value.decode("utf-8", "replace"))
        elif name == b"event":
            self._event = value.decode("utf-8", "replace")
