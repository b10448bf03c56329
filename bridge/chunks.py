"""Chunked note lists: assembling ``/diffjam/notes`` requests and splitting results.

A request is one params message plus ``notes_chunks`` chunks with the same request id
from the same client, in any order. Requests are keyed by ``(owner, request id)``, the
owner being the address and port the client sends from: another client's parts with the
same id make a request of their own and never see, complete or cancel this one.

:class:`ChunkAssembler` holds the parts until the request is complete and checks them:
chunk index in range, no duplicate chunk, the same ``chunk_count`` in every chunk and in
the params, at most :data:`~wire.protocol.MAX_NOTES` notes in all, at most
:data:`MAX_PENDING` requests waiting (:data:`MAX_PENDING_PER_CLIENT` of one client). A
request still incomplete :data:`EXPIRY_S` seconds after its first part is dropped and
reported by :meth:`ChunkAssembler.expire`.

Every request has exactly one outcome. Once it has had it without being queued (a part
refused, cancelled while waiting for chunks, expired), :meth:`ChunkAssembler.close` drops
its parts and remembers the id for :data:`CLOSED_MEMORY_S` seconds, during which
:meth:`ChunkAssembler.is_late` tells the server to log and ignore the parts of it that
still arrive (its chunks, and its params if they had not come yet) instead of answering
them with a second error or starting a request that would expire with one. New params for
the id after that start a new request.

The assembler is not thread-safe: the server's receive loop owns it.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from wire.protocol import (
    MAX_NOTES,
    BeatNote,
    ErrorCode,
    NotesChunk,
    ProtocolError,
    RequestMessage,
)

__all__ = [
    "CLOSED_MEMORY_S",
    "EXPIRY_S",
    "ChunkAssembler",
    "ReadyRequest",
]

EXPIRY_S = 5.0
CLOSED_MEMORY_S = 10.0
MAX_PENDING = 64
MAX_PENDING_PER_CLIENT = 16
MAX_CLOSED = 1024  # ids remembered at most; the oldest are forgotten first

Address = tuple[str, int]
Key = tuple[Address, str]  # (owner, request id)


@dataclass(frozen=True)
class ReadyRequest:
    """A complete request: its params, all its notes in chunk order, the client that sent
    it (``owner``: its address and port) and where its replies go (``reply_to``)."""

    message: RequestMessage
    notes: tuple[BeatNote, ...]
    owner: Address
    reply_to: Address


@dataclass
class _Pending:
    first_seen: float
    reply_to: Address
    message: RequestMessage | None = None
    count: int | None = None
    chunks: dict[int, tuple[BeatNote, ...]] = field(default_factory=dict)

    def n_notes(self) -> int:
        return sum(len(notes) for notes in self.chunks.values())


@dataclass
class _Closed:
    at: float
    params_seen: bool


class ChunkAssembler:
    """Collects request parts until complete; see the module docstring for the checks."""

    def __init__(
        self,
        *,
        expiry_s: float = EXPIRY_S,
        max_pending: int = MAX_PENDING,
        max_pending_per_client: int = MAX_PENDING_PER_CLIENT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._expiry_s = expiry_s
        self._max_pending = max_pending
        self._max_per_client = max_pending_per_client
        self._clock = clock
        self._pending: dict[Key, _Pending] = {}
        self._closed: OrderedDict[Key, _Closed] = OrderedDict()

    def __contains__(self, key: Key) -> bool:
        return key in self._pending

    def __len__(self) -> int:
        return len(self._pending)

    def add_request(self, message: RequestMessage, *, owner: Address,
                    reply_to: Address) -> ReadyRequest | None:
        """Add a params message; the complete request, or None while chunks are missing."""
        rid = message.request_id
        key = (owner, rid)
        pending = self._pending.get(key)
        if pending is not None and pending.message is not None:
            raise ProtocolError(
                ErrorCode.DUPLICATE_ID, f"request {rid!r} already has params", request_id=rid
            )
        expected = message.params.notes_chunks
        if pending is None:
            if expected == 0:  # the notes, if any, came in the params
                return ReadyRequest(message, message.params.notes, owner, reply_to)
            pending = self._open(key, reply_to)
        elif pending.count != expected:
            raise ProtocolError(
                ErrorCode.CHUNK,
                f"params say {expected} chunk(s) but the chunks say {pending.count}",
                request_id=rid,
            )
        pending.message = message
        pending.reply_to = reply_to
        pending.count = expected
        return self._complete(key, pending)

    def add_chunk(self, chunk: NotesChunk, *, owner: Address,
                  reply_to: Address) -> ReadyRequest | None:
        """Add one notes chunk; the complete request, or None while parts are missing.

        A chunk that contradicts the request raises ProtocolError; the server then closes
        the request (:meth:`close`)."""
        rid = chunk.request_id
        key = (owner, rid)
        pending = self._pending.get(key)
        if pending is None:
            pending = self._open(key, reply_to)
            pending.count = chunk.count
        if chunk.count != pending.count:
            source = "params" if pending.message is not None else "earlier chunks"
            raise ProtocolError(
                ErrorCode.CHUNK,
                f"chunk_count {chunk.count} does not match {pending.count} from the {source}",
                request_id=rid,
            )
        if chunk.index in pending.chunks:
            raise ProtocolError(
                ErrorCode.CHUNK, f"chunk {chunk.index} arrived twice", request_id=rid
            )
        pending.chunks[chunk.index] = chunk.notes
        if pending.n_notes() > MAX_NOTES:
            raise ProtocolError(
                ErrorCode.TOO_LARGE, f"more than {MAX_NOTES} notes: a request holds at most "
                f"{MAX_NOTES}", request_id=rid
            )
        return self._complete(key, pending)

    def close(self, owner: Address, request_id: str, *, params: bool) -> int:
        """The request has had its outcome (``params``: the part that ended it was its
        params): drop its parts and remember it for :data:`CLOSED_MEMORY_S` s (see
        :meth:`is_late`); the number of chunks dropped."""
        key = (owner, request_id)
        pending = self._pending.pop(key, None)
        params_seen = params or (pending is not None and pending.message is not None)
        self._remember(key, params_seen)
        return 0 if pending is None else len(pending.chunks)

    def cancel(self, owner: Address, request_id: str) -> bool:
        """Cancel a request waiting for parts (it is closed); whether there was one."""
        if (owner, request_id) not in self._pending:
            return False
        self.close(owner, request_id, params=False)
        return True

    def is_late(self, owner: Address, request_id: str, *, params: bool) -> bool:
        """Whether a part (``params``: the params message, else a chunk) belongs to a
        request closed less than :data:`CLOSED_MEMORY_S` s ago, to be logged and ignored.

        Params are late when the closed request had not had its params yet (they are its
        own, and are taken as such); once it had them, new params start a new request."""
        key = (owner, request_id)
        closed = self._closed.get(key)
        if closed is None or self._clock() - closed.at >= CLOSED_MEMORY_S:
            return False
        if not params:
            return True
        if closed.params_seen:
            del self._closed[key]
            return False
        closed.params_seen = True
        return True

    def expire(self) -> list[tuple[Address, ProtocolError]]:
        """Close requests incomplete for longer than the expiry; their reply addresses and
        errors, to send."""
        now = self._clock()
        while self._closed and now - next(iter(self._closed.values())).at >= CLOSED_MEMORY_S:
            self._closed.popitem(last=False)
        expired = []
        for key, pending in list(self._pending.items()):
            if now - pending.first_seen < self._expiry_s:
                continue
            del self._pending[key]
            self._remember(key, pending.message is not None)
            have = len(pending.chunks)
            want = "?" if pending.count is None else str(pending.count)
            missing = "; params missing" if pending.message is None else ""
            error = ProtocolError(
                ErrorCode.CHUNK,
                f"incomplete after {self._expiry_s:g} s: {have} of {want} chunk(s) arrived"
                f"{missing}",
                request_id=key[1],
            )
            expired.append((pending.reply_to, error))
        return expired

    def _remember(self, key: Key, params_seen: bool) -> None:
        self._closed[key] = _Closed(self._clock(), params_seen)
        self._closed.move_to_end(key)
        while len(self._closed) > MAX_CLOSED:
            self._closed.popitem(last=False)

    def _open(self, key: Key, reply_to: Address) -> _Pending:
        if len(self._pending) >= self._max_pending:
            raise ProtocolError(
                ErrorCode.BUSY,
                f"{self._max_pending} requests are already waiting for chunks",
                request_id=key[1],
            )
        mine = sum(1 for owner, _ in self._pending if owner == key[0])
        if mine >= self._max_per_client:
            raise ProtocolError(
                ErrorCode.BUSY,
                f"{mine} of your requests are already waiting for chunks (at most "
                f"{self._max_per_client} a client)",
                request_id=key[1],
            )
        pending = _Pending(first_seen=self._clock(), reply_to=reply_to)
        self._pending[key] = pending
        return pending

    def _complete(self, key: Key, pending: _Pending) -> ReadyRequest | None:
        if pending.message is None or len(pending.chunks) != pending.count:
            return None
        del self._pending[key]
        notes = tuple(note for index in sorted(pending.chunks) for note in pending.chunks[index])
        return ReadyRequest(pending.message, notes, key[0], pending.reply_to)
