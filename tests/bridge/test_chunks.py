"""Chunk assembly of /diffjam/notes requests and chunking of results."""

from __future__ import annotations

import pytest

from bridge.chunks import ChunkAssembler, result_replies, split_chunks
from bridge.protocol import BeatNote, ErrorCode, NotesChunk, ProtocolError, RequestMessage
from bridge.protocol import RequestParams as Params

SENDER = ("127.0.0.1", 5000)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def note(k: int) -> BeatNote:
    return BeatNote(start=float(k), duration=1.0, pitch=60 + k % 12, velocity=90)


def chunk(rid: str, index: int, count: int, *ks: int) -> NotesChunk:
    return NotesChunk(rid, index, count, tuple(note(k) for k in ks))


def request(rid: str, chunks: int) -> RequestMessage:
    return RequestMessage("infill", rid, Params(notes_chunks=chunks, bars=(1, 1)))


def test_params_without_chunks_is_ready_at_once() -> None:
    ready = ChunkAssembler().add_request(request("a", 0), SENDER)
    assert ready is not None
    assert ready.notes == ()
    assert ready.sender == SENDER


def test_chunks_in_any_order_before_and_after_params() -> None:
    assembler = ChunkAssembler()
    assert assembler.add_chunk(chunk("a", 2, 3, 4, 5), SENDER) is None
    assert assembler.add_request(request("a", 3), ("127.0.0.1", 6000)) is None
    assert assembler.add_chunk(chunk("a", 0, 3, 0, 1), SENDER) is None
    ready = assembler.add_chunk(chunk("a", 1, 3, 2, 3), SENDER)
    assert ready is not None
    assert [n.start for n in ready.notes] == [0, 1, 2, 3, 4, 5]  # chunk order
    assert ready.sender == ("127.0.0.1", 6000)  # replies go where the params came from
    assert "a" not in assembler


@pytest.mark.parametrize(
    ("steps", "code", "text"),
    [
        ([chunk("a", 0, 2, 1), chunk("a", 0, 2, 1)], ErrorCode.CHUNK, "arrived twice"),
        ([chunk("a", 0, 2, 1), chunk("a", 1, 3, 1)], ErrorCode.CHUNK, "does not match 2"),
        ([request("a", 2), chunk("a", 0, 3, 1)], ErrorCode.CHUNK, "from the params"),
        ([chunk("a", 0, 2, 1), request("a", 3)], ErrorCode.CHUNK, "params say 3"),
        ([chunk("a", 0, 2, 1), request("a", 0)], ErrorCode.CHUNK, "params say 0"),
        ([request("a", 2), request("a", 2)], ErrorCode.DUPLICATE_ID, "already has params"),
    ],
)
def test_inconsistent_parts_are_refused_and_dropped(steps, code, text) -> None:
    assembler = ChunkAssembler()
    for step in steps[:-1]:
        add = assembler.add_chunk if isinstance(step, NotesChunk) else assembler.add_request
        assert add(step, SENDER) is None
    last = steps[-1]
    add = assembler.add_chunk if isinstance(last, NotesChunk) else assembler.add_request
    with pytest.raises(ProtocolError, match=text) as info:
        add(last, SENDER)
    assert (info.value.code, info.value.request_id) == (code, "a")
    if code == ErrorCode.CHUNK:
        assert "a" not in assembler


def test_too_many_notes_in_all() -> None:
    assembler = ChunkAssembler()
    big = tuple(note(0) for _ in range(128))
    for index in range(156):
        assert assembler.add_chunk(NotesChunk("a", index, 157, big), SENDER) is None
    with pytest.raises(ProtocolError) as info:
        assembler.add_chunk(NotesChunk("a", 156, 157, big), SENDER)
    assert info.value.code == ErrorCode.TOO_LARGE


def test_expiry_after_five_seconds() -> None:
    clock = Clock()
    assembler = ChunkAssembler(clock=clock)
    assembler.add_chunk(chunk("a", 0, 2, 1), SENDER)
    clock.now += 2.0
    assembler.add_request(request("b", 1), SENDER)
    clock.now += 2.9
    assert assembler.expire() == []
    clock.now += 0.1  # "a" is 5.0 s old
    [(sender, error)] = assembler.expire()
    assert sender == SENDER
    assert (error.code, error.request_id) == (ErrorCode.CHUNK, "a")
    assert error.message == "incomplete after 5 s: 1 of 2 chunk(s) arrived; params missing"
    clock.now += 2.0
    [(_, error)] = assembler.expire()
    assert error.message == "incomplete after 5 s: 0 of 1 chunk(s) arrived"
    assert len(assembler) == 0


def test_pending_limit_answers_busy() -> None:
    assembler = ChunkAssembler(max_pending=2)
    assembler.add_chunk(chunk("a", 0, 2), SENDER)
    assembler.add_chunk(chunk("b", 0, 2), SENDER)
    with pytest.raises(ProtocolError) as info:
        assembler.add_chunk(chunk("c", 0, 2), SENDER)
    assert info.value.code == ErrorCode.BUSY
    assert assembler.discard("a")
    assert not assembler.discard("a")
    assembler.add_chunk(chunk("c", 0, 2), SENDER)


def test_split_chunks() -> None:
    assert split_chunks([]) == [()]
    notes = [note(k) for k in range(300)]
    chunks = split_chunks(notes)
    assert [len(c) for c in chunks] == [128, 128, 44]
    assert [n for c in chunks for n in c] == notes


def test_result_replies() -> None:
    [empty] = result_replies("r", 2, [])
    assert empty.args == ("r", 2, 0, 1)
    replies = result_replies("r", 0, [note(k) for k in range(129)])
    assert [r.args[:4] for r in replies] == [("r", 0, 0, 2), ("r", 0, 1, 2)]
    assert replies[1].args[4:] == (128.0, 1.0, 60 + 128 % 12, 90)
    assert replies[0].tags() == "siii" + "ffii" * 128


def test_refused_request_drops_its_chunks_and_is_remembered_ten_seconds() -> None:
    clock = Clock()
    assembler = ChunkAssembler(clock=clock)
    assembler.add_chunk(chunk("a", 0, 2, 1, 2), SENDER)
    assembler.add_chunk(chunk("b", 0, 2, 1), SENDER)
    assert assembler.refuse("a") == 1                  # its params were refused
    assert "a" not in assembler and "b" in assembler
    assert assembler.was_refused("a") and not assembler.was_refused("b")
    assert assembler.refuse("c") == 0                  # refused before any chunk came
    clock.now += 9.9
    assert assembler.was_refused("a")
    [(_, error)] = assembler.expire()                  # "b" only: "a" has had its error
    assert error.request_id == "b"
    clock.now += 0.1
    assert not assembler.was_refused("a")
    assert assembler.expire() == []
    assembler.refuse("d")
    assembler.forget_refusal("d")                      # new params for "d" were accepted
    assert not assembler.was_refused("d")
