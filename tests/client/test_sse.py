"""The SSE decoder on hand-written byte streams, cut anywhere the network may cut them."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aipaint.client._core import task_of
from aipaint.client.errors import AipaintAPIError
from aipaint.client.sse import ServerSentEvent, SSEDecoder, aiter_events, iter_events

TASK = {"id": "t1", "model": "m", "params": {}, "status": "running"}
STREAM = (
    b": keep-alive\n\n"
    b"event: task\nid: 1\ndata: " + json.dumps(TASK).encode() + b"\n\n"
    b"retry: 3000\n"
    b"data: first line\ndata: second line\n\n"
    b":ping\r\n\r\n"
    b'event: task\r\nid: 2\r\ndata: {"id": "t1",\r\ndata:  "status": "succeeded"}\r\n\r\n'
)
EXPECTED = [
    ServerSentEvent(data=json.dumps(TASK), event="task", id="1"),
    ServerSentEvent(data="first line\nsecond line", id="1", retry=3000),
    ServerSentEvent(data='{"id": "t1",\n "status": "succeeded"}', event="task", id="2", retry=3000),
]


def decode(*chunks: bytes) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    return [event for chunk in chunks for event in decoder.feed(chunk)]


def test_a_stream_in_one_chunk() -> None:
    assert decode(STREAM) == EXPECTED


def test_a_stream_byte_by_byte() -> None:
    assert decode(*(STREAM[i : i + 1] for i in range(len(STREAM)))) == EXPECTED


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
def test_a_stream_cut_anywhere(cuts: list[int]) -> None:
    points = [0, *sorted(cuts), len(STREAM)]
    assert decode(*(STREAM[a:b] for a, b in itertools.pairwise(points))) == EXPECTED


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"])
def test_every_line_ending(eol: bytes) -> None:
    stream = eol.join([b"event: task", b"data: a", b"data: b", b"", b""])
    assert decode(stream) == [ServerSentEvent(data="a\nb", event="task")]


def test_a_crlf_split_between_chunks_is_one_line_end() -> None:
    # Were the LF read as a second, empty line, "a" would be dispatched alone.
    assert decode(b"data: a\r", b"\ndata: b\r", b"\n\r\n") == [ServerSentEvent(data="a\nb")]


def test_a_lone_cr_then_a_blank_line_in_the_next_chunk() -> None:
    assert decode(b"data: a\r", b"\r") == [ServerSentEvent(data="a")]


def test_a_multibyte_character_split_between_chunks() -> None:
    encoded = "data: 一只鸟\n\n".encode()
    cut = encoded.index("鸟".encode()) + 1
    assert decode(encoded[:cut], encoded[cut:]) == [ServerSentEvent(data="一只鸟")]


def test_comments_and_keep_alives_make_no_event() -> None:
    assert decode(b": hello\n\n:\n\n: ping\r\n\r\n") == []


def test_an_event_without_data_is_dropped() -> None:
    assert decode(b"event: ping\nid: 7\n\ndata: x\n\n") == [ServerSentEvent(data="x", id="7")]


def test_an_empty_data_line_is_an_event_with_empty_data() -> None:
    assert decode(b"data\n\ndata:\n\n") == [ServerSentEvent(data=""), ServerSentEvent(data="")]


def test_only_one_space_after_the_colon_is_removed() -> None:
    assert decode(b"data:no space\n\ndata:  two\n\n") == [
        ServerSentEvent(data="no space"),
        ServerSentEvent(data=" two"),
    ]


def test_the_event_type_resets_after_each_event() -> None:
    events = decode(b"event: task\ndata: 1\n\ndata: 2\n\n")
    assert [e.event for e in events] == ["task", "message"]


def test_the_last_event_id_persists_and_an_id_with_nul_is_ignored() -> None:
    decoder = SSEDecoder()
    events = decoder.feed(b"id: 5\ndata: a\n\ndata: b\n\nid: x\x00y\ndata: c\n\nid\ndata: d\n\n")
    assert [e.id for e in events] == ["5", "5", "5", ""]
    assert decoder.last_event_id == ""


def test_retry_takes_digits_only() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"retry: 1500\n\nretry: soon\n\nretry: 1.5\n\n")
    assert decoder.retry == 1500


def test_unknown_fields_are_ignored() -> None:
    assert decode(b"foo: bar\ndata: x\n\n") == [ServerSentEvent(data="x")]


def test_an_event_cut_off_by_the_end_of_the_stream_is_discarded() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: complete\n\ndata: never finished\n") == [
        ServerSentEvent(data="complete")
    ]


def test_a_leading_byte_order_mark_is_skipped() -> None:
    assert decode(b"\xef\xbb", b"\xbfdata: x\n\n") == [ServerSentEvent(data="x")]


def test_iter_events_over_chunks() -> None:
    chunks: Iterator[bytes] = iter([b"data: a\n", b"\ndata: b\n\n"])
    assert [e.data for e in iter_events(chunks)] == ["a", "b"]


@pytest.mark.anyio
async def test_aiter_events_over_chunks() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for chunk in (b"data: a\r", b"\n\r\ndata: b\n", b"\n"):
            yield chunk

    assert [e.data async for e in aiter_events(chunks())] == ["a", "b"]


class TestTaskOf:
    def test_a_task_event(self) -> None:
        assert task_of(ServerSentEvent(data=json.dumps(TASK))) == TASK

    @pytest.mark.parametrize("data", ["ping", "", "[1, 2]", '{"hello": 1}', '{"id": 1}'])
    def test_events_that_carry_no_task(self, data: str) -> None:
        assert task_of(ServerSentEvent(data=data)) is None

    def test_an_error_event_raises_it(self) -> None:
        body = {"error": {"code": "not_found", "message": "gone", "details": []}}
        with pytest.raises(AipaintAPIError) as caught:
            task_of(ServerSentEvent(data=json.dumps(body), event="error"), 200)
        assert (caught.value.code, caught.value.message) == ("not_found", "gone")

    def test_a_failed_task_is_a_task_not_an_error(self) -> None:
        failed = {**TASK, "status": "failed", "error": {"code": "x", "message": "y"}}
        assert task_of(ServerSentEvent(data=json.dumps(failed))) == failed
