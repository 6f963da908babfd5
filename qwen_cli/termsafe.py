"""Text from servers made safe to show on a terminal: no control character survives except newline and tab.

Each C0 control (and DEL) becomes its visible Unicode "control picture" (ESC -> ␛, BEL -> ␇, a bare
CR -> ␍); each C1 control (U+0080-U+009F) becomes ␛ plus the 7-bit character it stands for
(U+009B, CSI -> "␛["). CRLF becomes a newline. Whole escape sequences are not parsed: once ESC, BEL
and the C1 introducers are gone, no sequence can start or end, so an escape sequence split across two
streamed tokens can't get through either. qwen's own styling is added after filtering.
"""

from __future__ import annotations

import re
from typing import IO

_CONTROLS = [*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0)]
_TABLE = {c: chr(0x2400 + c) for c in range(0x20) if c not in (0x09, 0x0A)}
_TABLE[0x7F] = "\u2421"
_TABLE.update({c: "\u241b" + chr(c - 0x40) for c in range(0x80, 0xA0)})
_ANY = re.compile("[" + "".join(f"\\x{c:02x}" for c in _CONTROLS) + "]")
# JSON is escaped, not pictured: `\u009b` decodes to the same string, so data stays exact.
_JSON_TABLE = {c: f"\\u{c:04x}" for c in range(0x7F, 0xA0)}


def clean(text: str) -> str:
    """`text` with every control character except newline and tab made visible (see the module doc)."""
    if _ANY.search(text) is None:
        return text
    return text.replace("\r\n", "\n").translate(_TABLE)


def json_text(encoded: str) -> str:
    """JSON text from json.dumps(ensure_ascii=False) with DEL and C1 escaped too (json escapes only C0)."""
    return encoded.translate(_JSON_TABLE)


class Stream:
    """clean() for text that arrives in pieces: a CR ending one piece waits for the next, so a CRLF split
    between two tokens is still a newline and not ␍."""

    def __init__(self) -> None:
        self._cr = False

    def feed(self, text: str) -> str:
        if self._cr:
            text, self._cr = "\r" + text, False
        if text.endswith("\r"):
            text, self._cr = text[:-1], True
        return clean(text)

    def flush(self) -> str:
        held, self._cr = self._cr, False
        return clean("\r") if held else ""


class Writer:
    """A text stream whose every write goes through clean(), for output made only of plain text."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, text: str) -> None:
        self.stream.write(clean(text))

    def flush(self) -> None:
        self.stream.flush()
