"""The panel's side of the diffjam OSC protocol, version 1 (``docs/osc-protocol.md``).

Pure functions and value objects, no sockets and no Qt: building the datagrams the panel
sends (requests with their chunked ``/diffjam/notes``, settings, jam control) and decoding
what the engine sends back into typed events. :class:`ResultAssembler` puts
``/diffjam/result`` chunks back together.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket, ParseError

from gui.clip import ClipNote

__all__ = [
    "MAX_NOTES_PER_CHUNK",
    "PROTOCOL_VERSION",
    "TASKS",
    "Accepted",
    "Done",
    "EngineError",
    "Event",
    "JamPorts",
    "JamState",
    "Progress",
    "ProtocolError",
    "ResultAssembler",
    "ResultChunk",
    "SettingsReply",
    "Status",
    "decode",
    "encode",
    "error_text",
    "request_datagrams",
]

PROTOCOL_VERSION = 1
MAX_NOTES_PER_CHUNK = 128
TASKS = ("infill", "accompany", "generate")
_PREFIX = "/diffjam/"


class ProtocolError(ValueError):
    """A datagram from the engine does not follow the protocol."""


@dataclass(frozen=True)
class Status:
    """``/diffjam/status``: what the engine says about itself."""

    protocol: int
    version: str
    model: str
    device: str
    queue: int
    queue_capacity: int
    busy: bool
    last_latency_ms: float | None
    models: tuple[str, ...] = ()  # names a request's "model" may give, the default's first


@dataclass(frozen=True)
class Accepted:
    request_id: str
    position: int


@dataclass(frozen=True)
class Progress:
    request_id: str
    fraction: float


@dataclass(frozen=True)
class ResultChunk:
    request_id: str
    variation: int
    chunk_index: int
    chunk_count: int
    notes: tuple[ClipNote, ...]


@dataclass(frozen=True)
class Done:
    """``/diffjam/done``: the request finished; ``info`` is the engine's JSON as sent."""

    request_id: str
    info: Mapping[str, Any]

    @property
    def bars(self) -> tuple[int, int] | None:
        bars = self.info.get("bars")
        if isinstance(bars, list) and len(bars) == 2:
            return int(bars[0]), int(bars[1])
        return None

    @property
    def latency_ms(self) -> float | None:
        latency = self.info.get("latency_ms")
        return float(latency) if isinstance(latency, int | float) else None


@dataclass(frozen=True)
class EngineError:
    """``/diffjam/error``: ``request_id`` is ``""`` when the bad message had none."""

    request_id: str
    code: int
    name: str
    message: str


_PLAIN_ERRORS = {
    "MALFORMED": "The engine could not read a message from the panel",
    "UNKNOWN_ADDRESS": "The engine does not know this command (is it an older version?)",
    "BAD_TYPES": "The engine could not read a message from the panel",
    "BAD_JSON": "The engine could not read a message from the panel",
    "BAD_PARAMS": "The engine refused a setting",
    "BAD_CHORD": "The engine did not understand a chord",
    "BAD_BARS": "Those bars are outside the clip",
    "UNSUPPORTED_METER": "The engine cannot use this clip's time signature",
    "TOO_LARGE": "The clip is too large for the engine",
    "CHUNK": "Part of the clip was lost on the way to the engine; try again",
    "BUSY": "The engine is busy with other requests; try again in a moment",
    "DUPLICATE_ID": "The engine already has a request with this id; try again",
    "TIMEOUT": "The engine gave up on this request (it took too long)",
    "CANCELLED": "Cancelled",
    "UNKNOWN_REQUEST": "The engine no longer knows this request",
    "JAM": "Live jam",
    "INTERNAL": "The engine failed while working on this request",
    "NO_ANSWER": "The engine is not answering",
    "LOCAL_TIMEOUT": "The engine took too long and the panel stopped waiting",
    "INCOMPLETE_RESULT": "Part of the result was lost on the way back; try again",
}


def error_text(error: EngineError) -> str:
    """An engine error for people: ``"The engine did not understand a chord: unknown
    chord symbol 'Hx'"`` rather than ``"BAD_CHORD (code 6): ..."`` (the protocol name
    stays in logs and tooltips)."""
    plain = _PLAIN_ERRORS.get(error.name, f"The engine reported a problem ({error.name})")
    return f"{plain}: {error.message}" if error.message else plain


@dataclass(frozen=True)
class SettingsReply:
    values: Mapping[str, Any]


@dataclass(frozen=True)
class JamState:
    running: bool
    bar: int | None
    chord: str | None
    tempo: float | None
    clock: str | None
    error: str | None


@dataclass(frozen=True)
class JamPorts:
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]


Event = (
    Status | Accepted | Progress | ResultChunk | Done | EngineError | SettingsReply
    | JamState | JamPorts
)  # fmt: skip


def encode(address: str, *args: str | int | float) -> bytes:
    """One OSC message as bytes; Python ``int`` is sent as ``i``, ``float`` as ``f``."""
    builder = OscMessageBuilder(address=address)
    for arg in args:
        if isinstance(arg, bool):
            raise TypeError("the protocol sends booleans inside JSON, never as OSC args")
        if isinstance(arg, str):
            builder.add_arg(arg, OscMessageBuilder.ARG_TYPE_STRING)
        elif isinstance(arg, int):
            builder.add_arg(arg, OscMessageBuilder.ARG_TYPE_INT)
        else:
            builder.add_arg(float(arg), OscMessageBuilder.ARG_TYPE_FLOAT)
    return builder.build().dgram


def request_datagrams(
    task: str, request_id: str, params: Mapping[str, Any], notes: Sequence[ClipNote]
) -> list[bytes]:
    """The datagrams of one request: its ``/diffjam/notes`` chunks, then the params.

    ``notes_chunks`` is set in the params from the notes; other params pass through.
    """
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
    if not 1 <= len(request_id) <= 64:
        raise ValueError(f"request id {request_id!r} must have 1 to 64 characters")
    chunks = [
        notes[start : start + MAX_NOTES_PER_CHUNK]
        for start in range(0, len(notes), MAX_NOTES_PER_CHUNK)
    ]
    datagrams = []
    for index, chunk in enumerate(chunks):
        args: list[str | int | float] = [request_id, index, len(chunks)]
        for note in chunk:
            args += [float(note.start), float(note.duration), note.pitch, note.velocity]
        datagrams.append(encode(_PREFIX + "notes", *args))
    body = dict(params, notes_chunks=len(chunks))
    datagrams.append(encode(_PREFIX + task, request_id, json.dumps(body)))
    return datagrams


def decode(datagram: bytes) -> list[Event]:
    """Decode one datagram (message or bundle) from the engine into events.

    Raises :class:`ProtocolError` naming the address and what was wrong.
    """
    try:
        packet = OscPacket(datagram)
    except ParseError as err:
        raise ProtocolError(f"unreadable OSC datagram: {err}") from err
    return [_event(timed.message.address, list(timed.message.params)) for timed in packet.messages]


def _event(address: str, args: list[Any]) -> Event:
    try:
        return _DECODERS[address](args)
    except KeyError as err:
        if address not in _DECODERS:
            raise ProtocolError(f"unexpected address {address}") from err
        raise ProtocolError(f"{address}: missing key {err}") from err
    except (TypeError, ValueError, IndexError) as err:
        raise ProtocolError(f"{address} with arguments {args!r}: {err}") from err


def _json_object(text: Any) -> dict[str, Any]:
    if not isinstance(text, str):
        raise TypeError(f"expected a JSON string, got {type(text).__name__}")
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("expected a JSON object")
    return value


def _status(args: list[Any]) -> Status:
    data = _json_object(args[0])
    latency = data.get("last_latency_ms")
    models = data.get("models")
    return Status(
        protocol=int(data["protocol"]),
        version=str(data.get("version") or ""),
        model=str(data.get("model") or ""),
        device=str(data.get("device") or ""),
        queue=int(data.get("queue", 0)),
        queue_capacity=int(data.get("queue_capacity", 0)),
        busy=bool(data.get("busy", False)),
        last_latency_ms=float(latency) if isinstance(latency, int | float) else None,
        models=tuple(str(m) for m in models if m) if isinstance(models, list) else (),
    )


def _notes(args: list[Any]) -> tuple[ClipNote, ...]:
    if len(args) % 4:
        raise ValueError("notes must come in groups of 4 (start, duration, pitch, velocity)")
    return tuple(
        ClipNote(
            start=float(args[i]),
            duration=float(args[i + 1]),
            pitch=int(args[i + 2]),
            velocity=int(args[i + 3]),
        )
        for i in range(0, len(args), 4)
    )


def _result(args: list[Any]) -> ResultChunk:
    request_id, variation, index, count = args[:4]
    if not isinstance(request_id, str):
        raise TypeError("request id must be a string")
    if not 0 <= int(index) < int(count):
        raise ValueError(f"chunk {index} of {count}")
    return ResultChunk(
        request_id=request_id,
        variation=int(variation),
        chunk_index=int(index),
        chunk_count=int(count),
        notes=_notes(args[4:]),
    )


def _jam_state(args: list[Any]) -> JamState:
    data = _json_object(args[0])
    bar, tempo = data.get("bar"), data.get("tempo")
    return JamState(
        running=bool(data.get("running", False)),
        bar=int(bar) if isinstance(bar, int | float) else None,
        chord=data.get("chord") if isinstance(data.get("chord"), str) else None,
        tempo=float(tempo) if isinstance(tempo, int | float) else None,
        clock=data.get("clock") if isinstance(data.get("clock"), str) else None,
        error=data.get("error") if isinstance(data.get("error"), str) else None,
    )


def _jam_ports(args: list[Any]) -> JamPorts:
    data = _json_object(args[0])
    return JamPorts(
        inputs=tuple(str(name) for name in data.get("inputs", [])),
        outputs=tuple(str(name) for name in data.get("outputs", [])),
    )


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


_DECODERS = {
    _PREFIX + "status": _status,
    _PREFIX + "accepted": lambda a: Accepted(request_id=_str(a[0]), position=int(a[1])),
    _PREFIX + "progress": lambda a: Progress(request_id=_str(a[0]), fraction=float(a[1])),
    _PREFIX + "result": _result,
    _PREFIX + "done": lambda a: Done(request_id=_str(a[0]), info=_json_object(a[1])),
    _PREFIX + "error": lambda a: EngineError(
        request_id=_str(a[0]), code=int(a[1]), name=_str(a[2]), message=_str(a[3])
    ),
    _PREFIX + "settings": lambda a: SettingsReply(values=_json_object(a[0])),
    _PREFIX + "jam/state": _jam_state,
    _PREFIX + "jam/ports": _jam_ports,
}


@dataclass
class ResultAssembler:
    """Collects ``/diffjam/result`` chunks per request and variation.

    :meth:`finish` returns the variations in order once ``done`` arrived; a variation
    with missing chunks raises :class:`ProtocolError`.
    """

    _chunks: dict[str, dict[int, dict[int, ResultChunk]]] = field(default_factory=dict)

    def add(self, chunk: ResultChunk) -> None:
        variations = self._chunks.setdefault(chunk.request_id, {})
        chunks = variations.setdefault(chunk.variation, {})
        if chunk.chunk_index in chunks:
            raise ProtocolError(
                f"duplicate result chunk {chunk.chunk_index} of variation {chunk.variation} "
                f"for request {chunk.request_id!r}"
            )
        chunks[chunk.chunk_index] = chunk

    def discard(self, request_id: str) -> None:
        self._chunks.pop(request_id, None)

    def finish(self, request_id: str, *, n_variations: int) -> tuple[tuple[ClipNote, ...], ...]:
        variations = self._chunks.pop(request_id, {})
        result = []
        for variation in range(n_variations):
            chunks = variations.get(variation, {})
            counts = {chunk.chunk_count for chunk in chunks.values()}
            if len(counts) != 1 or len(chunks) != counts.pop():
                raise ProtocolError(
                    f"request {request_id!r}: variation {variation + 1} arrived incomplete "
                    f"({len(chunks)} chunks)"
                )
            notes = [note for index in sorted(chunks) for note in chunks[index].notes]
            result.append(tuple(sorted(notes)))
        return tuple(result)
