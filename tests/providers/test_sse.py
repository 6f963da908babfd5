"""The SSE parser on raw bytes: no server needed."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qwen_cli.providers.sse import EventTooLarge, SSEEvent, SSEParser


def parse(*chunks: bytes) -> tuple[list[SSEEvent], bool]:
    parser = SSEParser()
    events = []
    for chunk in chunks:
        events.extend(parser.feed(chunk))
    events.extend(parser.close())
    return events, parser.truncated


def datas(*chunks: bytes) -> list[str]:
    return [e.data for e in parse(*chunks)[0]]


def test_one_event_per_blank_line():
    assert datas(b"data: a\n\ndata: b\n\n") == ["a", "b"]


def test_crlf_and_lone_cr_line_endings():
    assert datas(b"data: a\r\n\r\ndata: b\r\rdata: c\n\n") == ["a", "b", "c"]


def test_crlf_split_between_chunks_is_one_line_ending():
    assert datas(b"data: a\r", b"\n\r", b"\ndata: b\r\n\r\n") == ["a", "b"]


def test_a_cr_ending_one_chunk_swallows_only_an_lf_that_starts_the_next():
    assert datas(b"data: a\r", b"\rdata: b\r", b"\r") == ["a", "b"]  # CR, CR: a line end, then a blank line
    assert datas(b"data: a\r", b"data: b\n\n") == ["a\nb"]  # the next line keeps its first byte


def test_comments_and_keepalives_are_skipped():
    assert datas(b": keep-alive\n\n:\n\ndata: x\n\n: ping\n\n") == ["x"]


def test_several_data_lines_are_joined_with_newline():
    assert datas(b'data: {\ndata: "a": 1}\n\n') == ['{\n"a": 1}']


def test_event_field_and_optional_space_after_colon():
    events, _ = parse(b"event: error\ndata:{}\n\n")
    assert events == [SSEEvent("{}", "error")]


def test_other_fields_are_ignored():
    assert datas(b"id: 7\nretry: 1000\ndata: a\n\n") == ["a"]


def test_data_line_split_across_chunks():
    assert datas(b"da", b"ta: hel", b"lo\n", b"\n") == ["hello"]


def test_multibyte_character_split_across_chunks():
    raw = "data: é中😀\n\n".encode()
    # split inside every multi-byte sequence
    chunks = [raw[i : i + 1] for i in range(len(raw))]
    assert datas(*chunks) == ["é中😀"]


def test_invalid_utf8_is_replaced_not_raised():
    assert datas(b"data: a\xffb\n\n") == ["a\ufffdb"]


def test_bom_at_start_is_ignored():
    assert datas(b"\xef\xbb\xbfdata: a\n\n") == ["a"]


def test_done_marker_is_just_data():
    assert datas(b"data: [DONE]\n\n") == ["[DONE]"]


def test_final_event_without_blank_line_comes_back_marked_incomplete():
    # The adapter takes a bare [DONE] like this one; any other unterminated event means the stream was cut.
    events, truncated = parse(b"data: a\n\ndata: [DONE]\n")
    assert events == [SSEEvent("a"), SSEEvent("[DONE]", complete=False)] and truncated


def test_cut_multi_line_event_is_marked_incomplete_not_dispatched_whole():
    events, truncated = parse(b'data: {"a":1}\n\ndata: {\ndata: "choices": [\n')
    assert events == [SSEEvent('{"a":1}'), SSEEvent('{\n"choices": [', complete=False)] and truncated


def test_final_cr_ends_the_line_but_not_the_event():
    events, truncated = parse(b"data: a\r")
    assert events == [SSEEvent("a", complete=False)] and truncated


def test_blank_line_as_a_cr_at_the_end_of_a_chunk_dispatches_at_once():
    parser = SSEParser()
    assert parser.feed(b"data: a\r\r") == [SSEEvent("a")]
    assert parser.feed(b"\ndata: b\r\n\r") == [SSEEvent("b")]  # the LF after the CR is swallowed
    assert parser.feed(b"\n") == [] and parser.close() == [] and not parser.truncated


def test_half_written_line_is_dropped_and_flagged():
    events, truncated = parse(b'data: {"a":1}\n\ndata: {"b"')
    assert [e.data for e in events] == ['{"a":1}'] and truncated


def test_a_line_longer_than_the_cap_raises_without_waiting_for_its_end():
    parser = SSEParser(max_event_bytes=1000)
    parser.feed(b"data: " + b"x" * 900)
    with pytest.raises(EventTooLarge):
        parser.feed(b"x" * 200)


def test_an_event_of_many_lines_longer_than_the_cap_raises():
    parser = SSEParser(max_event_bytes=1000)
    with pytest.raises(EventTooLarge):
        parser.feed(b"data: " + b"x" * 600 + b"\n" + b"data: " + b"y" * 600 + b"\n")


def test_events_under_the_cap_pass():
    parser = SSEParser(max_event_bytes=1000)
    assert parser.feed((b"data: " + b"x" * 900 + b"\n\n") * 3) == [SSEEvent("x" * 900)] * 3


def test_parsing_a_long_line_is_linear_in_its_length():
    # The old parser re-scanned everything pending on every chunk: 24 MiB in 64 KiB chunks took about 5 s.
    chunk = b"x" * 65536
    parser = SSEParser()
    start = time.perf_counter()
    parser.feed(b"data: ")
    for _ in range(384):
        parser.feed(chunk)
    events = parser.feed(b"\n\n")
    assert len(events[0].data) == 384 * 65536
    assert time.perf_counter() - start < 1.5


def test_empty_data_event():
    assert datas(b"data:\n\n") == [""]


_event_text = st.text(alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=20)


@settings(max_examples=200, deadline=None)
@given(
    payloads=st.lists(_event_text, min_size=1, max_size=6),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=12),
)
def test_any_chunking_gives_the_same_events(payloads, newline, cuts):
    raw = "".join(f"data: {p}{newline}{newline}" for p in payloads).encode()
    points = sorted({c for c in cuts if c < len(raw)})
    chunks = [raw[a:b] for a, b in zip([0, *points], [*points, len(raw)], strict=True)]
    assert datas(*chunks) == payloads


def test_a_crlf_split_between_chunks_is_one_line_ending_not_a_blank_line():
    parser = SSEParser()
    assert parser.feed(b"data: a\r") == []
    assert parser.feed(b"\ndata: b\r\n\r\n") == [SSEEvent("a\nb")]  # not "a" dispatched early, then "b"
    assert parser.close() == [] and not parser.truncated


def test_an_lf_is_swallowed_only_right_after_the_cr_that_ended_a_chunk():
    parser = SSEParser()
    assert parser.feed(b"data: a\r") == []
    assert parser.feed(b"\n") == []  # the CR's own LF
    assert parser.feed(b"\n") == [SSEEvent("a")]  # a blank line
    parser = SSEParser()
    parser.feed(b"data: a\r")
    assert parser.feed(b"\tdata: b\n\n") == [SSEEvent("a")]  # only an LF is swallowed: "\tdata" is no field


def test_the_bom_is_dropped_at_the_start_of_the_stream_only():
    assert datas(b"data: a\n\n\xef\xbb\xbfdata: b\n\n") == ["a"]
    assert datas(b"\n\xef\xbb\xbfdata: a\n\n") == []


def test_fields_other_than_data_and_event_are_ignored():
    events, _ = parse(b"comment: x\nabc: x\nid: 7\nretry: 1000\nev: y\nzzz: z\ndata: a\n\n")
    assert events == [SSEEvent("a", "message")]


def test_only_a_space_after_the_colon_is_removed():
    assert datas(b"data:\tx\n\ndata:  y\n\n") == ["\tx", " y"]


def test_the_line_cap_is_exact_across_chunks_and_starts_again_for_each_line():
    parser = SSEParser(max_event_bytes=10)
    assert parser.feed(b"data:") == [] and parser.feed(b" 1234") == []  # 10 bytes pending: at the cap
    with pytest.raises(EventTooLarge):
        parser.feed(b"5")
    parser = SSEParser(max_event_bytes=10)
    parser.feed(b"data: 12")
    assert parser.feed(b"\ndata: 1234") == []  # the first line is done: the second counts from 0
    with pytest.raises(EventTooLarge):
        parser.feed(b"5")


def test_the_event_cap_is_exact_and_starts_again_for_each_event():
    parser = SSEParser(max_event_bytes=12)
    assert parser.feed(b"data:123456\ndata:123456\n") == []  # 12 bytes of data: at the cap
    with pytest.raises(EventTooLarge):
        parser.feed(b"data:1\n")
    parser = SSEParser(max_event_bytes=12)
    assert parser.feed(b"data:123456\n\n") == [SSEEvent("123456")]
    assert parser.feed(b"data:123456\ndata:123456\n\n") == [SSEEvent("123456\n123456")]
    parser.feed(b"data:123456\ndata:123456\n")
    with pytest.raises(EventTooLarge):
        parser.feed(b"data:1\n")
