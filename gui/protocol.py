"""What the panel adds to the wire protocol (:mod:`wire.protocol`, the one definition the
engine uses too): the failures the panel makes up itself, the error texts people read,
and notes converted between the wire's :class:`~wire.protocol.BeatNote` and
:class:`~gui.clip.ClipNote`.

No Qt and no sockets here; :mod:`gui.client` does the sending and receiving.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from gui.clip import ClipNote
from wire.protocol import BeatNote, EngineError, ErrorCode

__all__ = [
    "Failure",
    "LocalError",
    "LocalFailure",
    "beat_notes",
    "clip_notes",
    "error_text",
]


class LocalError(Enum):
    """Failures the panel reports for a request without the engine saying so."""

    NO_ANSWER = "no answer"  # the engine acknowledged nothing in time
    LOCAL_TIMEOUT = "local timeout"  # the request did not finish in time
    INCOMPLETE_RESULT = "incomplete result"  # result chunks were lost on the way back


@dataclass(frozen=True)
class LocalFailure:
    """A request failed here (never sent by the engine, so it has no :class:`ErrorCode`)."""

    request_id: str
    code: LocalError
    message: str

    @property
    def name(self) -> str:
        return self.code.name


Failure = EngineError | LocalFailure  # what ``EngineClient.request_failed`` carries

_PLAIN_ERRORS: dict[ErrorCode | LocalError, str] = {
    ErrorCode.MALFORMED: "The engine could not read a message from the panel",
    ErrorCode.UNKNOWN_ADDRESS: "The engine does not know this command (is it an older version?)",
    ErrorCode.BAD_TYPES: "The engine could not read a message from the panel",
    ErrorCode.BAD_JSON: "The engine could not read a message from the panel",
    ErrorCode.BAD_PARAMS: "The engine refused a setting",
    ErrorCode.BAD_CHORD: "The engine did not understand a chord",
    ErrorCode.BAD_BARS: "Those bars are outside the clip",
    ErrorCode.UNSUPPORTED_METER: "The engine cannot use this clip's time signature",
    ErrorCode.TOO_LARGE: "The clip is too large for the engine",
    ErrorCode.CHUNK: "Part of the clip was lost on the way to the engine; try again",
    ErrorCode.BUSY: "The engine is busy with other requests; try again in a moment",
    ErrorCode.DUPLICATE_ID: "The engine already has a request with this id; try again",
    ErrorCode.TIMEOUT: "The engine gave up on this request (it took too long)",
    ErrorCode.CANCELLED: "Cancelled",
    ErrorCode.UNKNOWN_REQUEST: "The engine no longer knows this request",
    ErrorCode.JAM: "Live jam",
    ErrorCode.INTERNAL: "The engine failed while working on this request",
    LocalError.NO_ANSWER: "The engine is not answering",
    LocalError.LOCAL_TIMEOUT: "The engine took too long and the panel stopped waiting",
    LocalError.INCOMPLETE_RESULT: "Part of the result was lost on the way back; try again",
}


def error_text(error: Failure) -> str:
    """A failure for people: ``"The engine did not understand a chord: unknown chord
    symbol 'Hx'"`` rather than ``"BAD_CHORD (code 6): ..."`` (the protocol name stays in
    logs and tooltips)."""
    plain = _PLAIN_ERRORS[error.code]
    return f"{plain}: {error.message}" if error.message else plain


def clip_notes(notes: Iterable[BeatNote]) -> tuple[ClipNote, ...]:
    """Notes from the wire as the panel's notes (validated by :class:`ClipNote`)."""
    return tuple(ClipNote(n.start, n.duration, n.pitch, n.velocity) for n in notes)


def beat_notes(notes: Iterable[ClipNote]) -> tuple[BeatNote, ...]:
    """The panel's notes as the wire carries them."""
    return tuple(BeatNote(float(n.start), float(n.duration), n.pitch, n.velocity)
                 for n in notes)
