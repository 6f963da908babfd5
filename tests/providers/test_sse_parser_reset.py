"""close() hands back what was left and makes the parser as good as new: the size caps count from zero again,
so a parser reused for the next stream (a reconnect) accepts exactly what a fresh one would."""

from __future__ import annotations

import pytest

from qwen_cli.providers.sse import EventTooLarge, SSEParser


def _used_and_closed(limit: int) -> SSEParser:
    parser = SSEParser(max_event_bytes=limit)
    parser.feed(b"data:aaa\ndata:bb\nevent:x\ndata:cut")  # an event without its blank line, a line cut
    left = parser.close()
    assert [(e.data, e.event, e.complete) for e in left] == [("aaa\nbb", "x", False)]
    assert parser.truncated
    return parser


def test_after_close_an_event_of_exactly_the_cap_fits_and_one_byte_more_does_not():
    parser = _used_and_closed(12)
    events = parser.feed(b"data:aaaa\ndata:aaaa\ndata:aaaa\n\n")  # 12 bytes of data in three lines
    assert [(e.data, e.event) for e in events] == [("aaaa\naaaa\naaaa", "message")]
    parser = _used_and_closed(12)
    with pytest.raises(EventTooLarge):
        parser.feed(b"data:aaaa\ndata:aaaa\ndata:aaaaa\n\n")  # 13


def test_after_close_a_partial_line_of_exactly_the_cap_fits_and_one_byte_more_does_not():
    parser = _used_and_closed(12)
    parser.feed(b"data:aaaaaaa")  # 12 bytes, no line ending yet
    assert [e.data for e in parser.feed(b"\n\n")] == ["aaaaaaa"]
    parser = _used_and_closed(12)
    with pytest.raises(EventTooLarge):
        parser.feed(b"data:aaaaaaaa")  # 13


def test_a_fresh_parser_is_not_truncated():
    parser = SSEParser()
    assert parser.truncated is False
    parser.feed(b"data: whole\n\n")
    assert parser.close() == [] and parser.truncated is False
