"""Chunk assembly of /diffjam/notes requests and chunking of results."""

from __future__ import annotations

import pytest

from bridge.chunks import ChunkAssembler
from wire.protocol import (
    BeatNote,
    ErrorCode,
    NotesChunk,
    ProtocolError,
    RequestMessage,
    result_replies,
    split_chunks,
)
from wire.protocol import RequestParams as Params

SENDER = ("127.0.0.1", 5000)
OTHER = ("127.0.0.1", 5001)


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


def add(assembler: ChunkAssembler, part, owner=SENDER):
    if isinstance(part, NotesChunk):
        return assembler.add_chunk(part, owner=owner, reply_to=owner)
    return assembler.add_request(part, owner=owner, reply_to=owner)


def test_params_without_chunks_is_ready_at_once() -> None:
    ready = add(ChunkAssembler(), request("a", 0))
    assert ready is not None
    assert ready.notes == ()
    assert ready.owner == ready.reply_to == SENDER


def test_chunks_in_any_order_before_and_after_params() -> None:
    assembler = ChunkAssembler()
    assert add(assembler, chunk("a", 2, 3, 4, 5)) is None
    assert assembler.add_request(request("a", 3), owner=SENDER,
                                 reply_to=("127.0.0.1", 6000)) is None
    assert add(assembler, chunk("a", 0, 3, 0, 1)) is None
    ready = add(assembler, chunk("a", 1, 3, 2, 3))
    assert ready is not None
    assert [n.start for n in ready.notes] == [0, 1, 2, 3, 4, 5]  # chunk order
    assert ready.reply_to == ("127.0.0.1", 6000)  # replies go where the params said
    assert ready.owner == SENDER
    assert (SENDER, "a") not in assembler


def test_parts_of_another_client_make_another_request() -> None:
    assembler = ChunkAssembler()
    assert add(assembler, chunk("a", 0, 1, 7)) is None
    # Another client's params with the same id do not take the first client's notes.
    assert add(assembler, request("a", 1), owner=OTHER) is None
    assert not assembler.cancel(OTHER, "b")
    assert assembler.cancel(OTHER, "a")  # cancels its own request only
    assert (SENDER, "a") in assembler
    ready = add(assembler, request("a", 1))
    assert ready is not None and [n.start for n in ready.notes] == [7]


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
def test_inconsistent_parts_are_refused(steps, code, text) -> None:
    assembler = ChunkAssembler()
    for step in steps[:-1]:
        assert add(assembler, step) is None
    with pytest.raises(ProtocolError, match=text) as info:
        add(assembler, steps[-1])
    assert (info.value.code, info.value.request_id) == (code, "a")


def test_too_many_notes_in_all() -> None:
    assembler = ChunkAssembler()
    big = tuple(note(0) for _ in range(128))
    for index in range(156):
        assert add(assembler, NotesChunk("a", index, 157, big)) is None
    with pytest.raises(ProtocolError, match="at most 20000") as info:
        add(assembler, NotesChunk("a", 156, 157, big))
    assert info.value.code == ErrorCode.TOO_LARGE


def test_expiry_after_five_seconds() -> None:
    clock = Clock()
    assembler = ChunkAssembler(clock=clock)
    add(assembler, chunk("a", 0, 2, 1))
    clock.now += 2.0
    add(assembler, request("b", 1))
    clock.now += 2.9
    assert assembler.expire() == []
    clock.now += 0.1  # "a" is 5.0 s old
    [(sender, error)] = assembler.expire()
    assert sender == SENDER
    assert (error.code, error.request_id) == (ErrorCode.CHUNK, "a")
    assert error.message == "incomplete after 5 s: 1 of 2 chunk(s) arrived; params missing"
    assert assembler.is_late(SENDER, "a", params=False)  # its late parts are ignored
    clock.now += 2.0
    [(_, error)] = assembler.expire()
    assert error.message == "incomplete after 5 s: 0 of 1 chunk(s) arrived"
    assert len(assembler) == 0


def test_pending_limits_answer_busy() -> None:
    assembler = ChunkAssembler(max_pending=3, max_pending_per_client=2)
    add(assembler, chunk("a", 0, 2))
    add(assembler, chunk("b", 0, 2))
    with pytest.raises(ProtocolError, match="2 a client") as info:
        add(assembler, chunk("c", 0, 2))  # this client's share is used up
    assert info.value.code == ErrorCode.BUSY
    add(assembler, chunk("c", 0, 2), owner=OTHER)  # another client still gets in
    with pytest.raises(ProtocolError, match="3 requests") as info:
        add(assembler, chunk("d", 0, 2), owner=("127.0.0.1", 5002))
    assert info.value.code == ErrorCode.BUSY
    assert assembler.cancel(SENDER, "a")
    assert not assembler.cancel(SENDER, "a")
    add(assembler, chunk("c", 0, 2))


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


def test_closed_request_drops_its_chunks_and_is_remembered_ten_seconds() -> None:
    clock = Clock()
    assembler = ChunkAssembler(clock=clock)
    add(assembler, chunk("a", 0, 2, 1, 2))
    add(assembler, chunk("b", 0, 2, 1))
    assert assembler.close(SENDER, "a", params=True) == 1   # its params were refused
    assert (SENDER, "a") not in assembler and (SENDER, "b") in assembler
    assert assembler.is_late(SENDER, "a", params=False)    # a late chunk: ignored
    assert not assembler.is_late(SENDER, "b", params=False)
    assert not assembler.is_late(OTHER, "a", params=False)  # another client's "a"
    assert assembler.close(SENDER, "c", params=True) == 0   # refused before any chunk came
    clock.now += 9.9
    assert assembler.is_late(SENDER, "a", params=False)
    [(_, error)] = assembler.expire()                        # "b" only: "a" had its error
    assert error.request_id == "b"
    clock.now += 0.1
    assert not assembler.is_late(SENDER, "a", params=False)
    assert assembler.expire() == []
    assembler.close(SENDER, "d", params=True)
    assert not assembler.is_late(SENDER, "d", params=True)  # new params: a new request
    assert not assembler.is_late(SENDER, "d", params=False)


def test_params_of_a_request_closed_by_a_chunk_are_its_own() -> None:
    clock = Clock()
    assembler = ChunkAssembler(clock=clock)
    add(assembler, chunk("a", 0, 2, 1))
    assert assembler.close(SENDER, "a", params=False) == 1  # e.g. a bad second chunk
    assert assembler.is_late(SENDER, "a", params=False)
    assert assembler.is_late(SENDER, "a", params=True)      # the params it was waiting for
    assert assembler.is_late(SENDER, "a", params=False)
    assert not assembler.is_late(SENDER, "a", params=True)  # params again: a new request
