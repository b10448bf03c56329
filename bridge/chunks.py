"""Chunked note lists: assembling ``/diffjam/notes`` requests and splitting results.

A request is one params message plus ``notes_chunks`` chunks with the same request id, in
any order. :class:`ChunkAssembler` holds the parts until the request is complete and
checks them: chunk index in range, no duplicate chunk, the same ``chunk_count`` in every
chunk and in the params, at most :data:`~bridge.protocol.MAX_NOTES` notes in all. A
request still incomplete :data:`EXPIRY_S` seconds after its first part is dropped and
reported by :meth:`ChunkAssembler.expire`. A request that fails a check is dropped at once;
parts of it that arrive later start a new (incomplete) request that expires in turn.

A request whose params the server refused (bad params, ``BUSY``) has had its one
outcome: :meth:`ChunkAssembler.refuse` drops its chunks and remembers the id for
:data:`REFUSED_MEMORY_S` seconds, during which :meth:`ChunkAssembler.was_refused` tells
the server to log late chunks of that id instead of answering them with a second error.

The assembler is not thread-safe: the server's receive loop owns it.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bridge.protocol import (
    MAX_NOTES,
    MAX_NOTES_PER_CHUNK,
    BeatNote,
    ErrorCode,
    NotesChunk,
    ProtocolError,
    Reply,
    RequestMessage,
)

__all__ = [
    "EXPIRY_S",
    "REFUSED_MEMORY_S",
    "ChunkAssembler",
    "ReadyRequest",
    "result_replies",
    "split_chunks",
]

EXPIRY_S = 5.0
REFUSED_MEMORY_S = 10.0
MAX_PENDING = 64
MAX_REFUSED = 1024  # ids remembered at most; the oldest are forgotten first

Address = tuple[str, int]


@dataclass(frozen=True)
class ReadyRequest:
    """A complete request: its params, all its notes in chunk order, and who sent it."""

    message: RequestMessage
    notes: tuple[BeatNote, ...]
    sender: Address


@dataclass
class _Pending:
    first_seen: float
    sender: Address
    message: RequestMessage | None = None
    count: int | None = None
    chunks: dict[int, tuple[BeatNote, ...]] = field(default_factory=dict)

    def n_notes(self) -> int:
        return sum(len(notes) for notes in self.chunks.values())


class ChunkAssembler:
    """Collects request parts until complete; see the module docstring for the checks."""

    def __init__(
        self,
        *,
        expiry_s: float = EXPIRY_S,
        max_pending: int = MAX_PENDING,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._expiry_s = expiry_s
        self._max_pending = max_pending
        self._clock = clock
        self._pending: dict[str, _Pending] = {}
        self._refused: OrderedDict[str, float] = OrderedDict()  # id -> when refused

    def __contains__(self, request_id: str) -> bool:
        return request_id in self._pending

    def __len__(self) -> int:
        return len(self._pending)

    def add_request(self, message: RequestMessage, sender: Address) -> ReadyRequest | None:
        """Add a params message; the complete request, or None while chunks are missing."""
        rid = message.request_id
        pending = self._pending.get(rid)
        if pending is not None and pending.message is not None:
            raise ProtocolError(
                ErrorCode.DUPLICATE_ID, f"request {rid!r} already has params", request_id=rid
            )
        expected = message.params.notes_chunks
        if pending is None:
            if expected == 0:
                return ReadyRequest(message, (), sender)
            pending = self._open(rid, sender)
        elif pending.count != expected:
            self._pending.pop(rid)
            raise ProtocolError(
                ErrorCode.CHUNK,
                f"params say {expected} chunk(s) but the chunks say {pending.count}",
                request_id=rid,
            )
        pending.message = message
        pending.sender = sender
        pending.count = expected
        return self._complete(rid, pending)

    def add_chunk(self, chunk: NotesChunk, sender: Address) -> ReadyRequest | None:
        """Add one notes chunk; the complete request, or None while parts are missing."""
        rid = chunk.request_id
        pending = self._pending.get(rid)
        if pending is None:
            pending = self._open(rid, sender)
            pending.count = chunk.count
        if chunk.count != pending.count:
            self._pending.pop(rid)
            source = "params" if pending.message is not None else "earlier chunks"
            raise ProtocolError(
                ErrorCode.CHUNK,
                f"chunk_count {chunk.count} does not match {pending.count} from the {source}",
                request_id=rid,
            )
        if chunk.index in pending.chunks:
            self._pending.pop(rid)
            raise ProtocolError(
                ErrorCode.CHUNK, f"chunk {chunk.index} arrived twice", request_id=rid
            )
        pending.chunks[chunk.index] = chunk.notes
        if pending.n_notes() > MAX_NOTES:
            self._pending.pop(rid)
            raise ProtocolError(
                ErrorCode.TOO_LARGE, f"more than {MAX_NOTES} notes", request_id=rid
            )
        return self._complete(rid, pending)

    def refuse(self, request_id: str) -> int:
        """The params of ``request_id`` were refused: drop its chunks and remember the id
        for :data:`REFUSED_MEMORY_S` s (see :meth:`was_refused`); the chunks dropped."""
        pending = self._pending.pop(request_id, None)
        self._refused[request_id] = self._clock()
        self._refused.move_to_end(request_id)
        while len(self._refused) > MAX_REFUSED:
            self._refused.popitem(last=False)
        return 0 if pending is None else len(pending.chunks)

    def was_refused(self, request_id: str) -> bool:
        """Whether ``request_id``'s params were refused less than REFUSED_MEMORY_S s ago."""
        refused_at = self._refused.get(request_id)
        return refused_at is not None and self._clock() - refused_at < REFUSED_MEMORY_S

    def forget_refusal(self, request_id: str) -> None:
        """New params for a refused id start a new request: its chunks count again."""
        self._refused.pop(request_id, None)

    def discard(self, request_id: str) -> bool:
        """Forget an incomplete request (cancelled by the client); whether it was held."""
        return self._pending.pop(request_id, None) is not None

    def expire(self) -> list[tuple[Address, ProtocolError]]:
        """Drop requests incomplete for longer than the expiry; their errors, to reply."""
        now = self._clock()
        while self._refused and now - next(iter(self._refused.values())) >= REFUSED_MEMORY_S:
            self._refused.popitem(last=False)
        expired = []
        for rid, pending in list(self._pending.items()):
            if now - pending.first_seen < self._expiry_s:
                continue
            del self._pending[rid]
            have = len(pending.chunks)
            want = "?" if pending.count is None else str(pending.count)
            missing = "; params missing" if pending.message is None else ""
            error = ProtocolError(
                ErrorCode.CHUNK,
                f"incomplete after {self._expiry_s:g} s: {have} of {want} chunk(s) arrived"
                f"{missing}",
                request_id=rid,
            )
            expired.append((pending.sender, error))
        return expired

    def _open(self, rid: str, sender: Address) -> _Pending:
        if len(self._pending) >= self._max_pending:
            raise ProtocolError(
                ErrorCode.BUSY,
                f"{self._max_pending} requests are already waiting for chunks",
                request_id=rid,
            )
        pending = _Pending(first_seen=self._clock(), sender=sender)
        self._pending[rid] = pending
        return pending

    def _complete(self, rid: str, pending: _Pending) -> ReadyRequest | None:
        if pending.message is None or len(pending.chunks) != pending.count:
            return None
        del self._pending[rid]
        notes = tuple(note for index in sorted(pending.chunks) for note in pending.chunks[index])
        return ReadyRequest(pending.message, notes, pending.sender)


def split_chunks(
    notes: Sequence[BeatNote], *, size: int = MAX_NOTES_PER_CHUNK
) -> list[tuple[BeatNote, ...]]:
    """Split notes into chunks of at most ``size``; no notes is one empty chunk."""
    if not notes:
        return [()]
    return [tuple(notes[k : k + size]) for k in range(0, len(notes), size)]


def result_replies(request_id: str, variation: int, notes: Sequence[BeatNote]) -> list[Reply]:
    """The ``/diffjam/result`` chunks of one variation, in order."""
    chunks = split_chunks(notes)
    replies = []
    for index, chunk in enumerate(chunks):
        args: list[Any] = [request_id, variation, index, len(chunks)]
        for note in chunk:
            args += [note.start, note.duration, note.pitch, note.velocity]
        replies.append(Reply("/diffjam/result", tuple(args)))
    return replies
