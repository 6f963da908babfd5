"""An incremental Server-Sent Events parser: bytes in, complete events out.

Network chunks split lines, multi-byte characters and CRLF pairs anywhere; `feed()` copes with all of
them. Comment lines (`: keep-alive`) are skipped, several `data:` lines in one event are joined with
"\n", and an event is only dispatched at the blank line that ends it (per the WHATWG spec).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass


@dataclass
class SSEEvent:
    data: str
    event: str = "message"


class SSEParser:
    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""  # text after the last complete line
        self._data: list[str] = []
        self._event = ""
        self._started = False
        self.truncated = False  # set by close() when the body ended inside a line or an event

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        return self._lines(self._decoder.decode(chunk))

    def close(self) -> list[SSEEvent]:
        """End of body. Complete `data:` lines still waiting for their blank line are dispatched (servers
        often omit the last one); a half-written line is dropped and recorded in `truncated`."""
        events = self._lines(self._decoder.decode(b"", final=True))
        tail = self._pending
        if tail.endswith("\r"):
            tail = tail[:-1]
            self._pending = ""
            event = self._line(tail)
            if event is not None:
                events.append(event)
            tail = ""
        if tail:
            self.truncated = True
        if self._data:
            events.append(SSEEvent("\n".join(self._data), self._event or "message"))
        self._pending, self._data, self._event = "", [], ""
        return events

    def _lines(self, text: str) -> list[SSEEvent]:
        if not text:
            return []
        if not self._started:
            self._started = True
            text = text.removeprefix("\ufeff")
        buf = self._pending + text
        events: list[SSEEvent] = []
        start = 0
        n = len(buf)
        while True:
            cr = buf.find("\r", start)
            lf = buf.find("\n", start)
            if cr == -1 and lf == -1:
                break
            if cr == -1 or (lf != -1 and lf < cr):
                end, nxt = lf, lf + 1
            elif cr + 1 < n:
                end, nxt = cr, cr + 2 if buf[cr + 1] == "\n" else cr + 1
            else:
                break  # a CR at the very end may be the first half of CRLF: wait for more
            event = self._line(buf[start:end])
            if event is not None:
                events.append(event)
            start = nxt
        self._pending = buf[start:]
        return events

    def _line(self, line: str) -> SSEEvent | None:
        if not line:
            if not self._data:
                self._event = ""
                return None
            event = SSEEvent("\n".join(self._data), self._event or "message")
            self._data, self._event = [], ""
            return event
        if line[0] == ":":
            return None
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        return None
