"""The diffjam OSC protocol, version 1, both directions: the one definition the server
(``bridge/``) and the panel (``gui/``) use; the Max device's JavaScript is checked
against it by ``tests/test_max_for_live.py``.

``docs/osc-protocol.md`` is the specification; this module is its executable form and a
test checks every address and type tag of the doc's tables against :data:`CLIENT_SPECS`
and :data:`ENGINE_SPECS`. Limits and defaults come from :mod:`wire.limits`.

Everything here is pure: no sockets, no threads, no engine, no torch, mido or Qt.

- Engine side: :func:`parse_message` turns an incoming message into a typed, validated
  client message (or a :class:`ProtocolError` carrying the error code and a message for
  the user); replies are :class:`Reply` objects whose type tags are fixed by the spec,
  never guessed from Python types.
- Client side: :func:`encode_request` and :func:`encode_message` write typed client
  messages as datagrams (tags again from the spec); :func:`decode` reads the engine's
  datagrams into typed events; :class:`ResultAssembler` puts result chunks together.

Units: notes on the wire are in beats (quarter notes, float32) from the clip start; bars
are 1-based and inclusive, as everywhere at the user edge.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from enum import IntEnum
from typing import Any, Protocol, TypeVar, cast

from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket, ParseError

from wire.form import FormError, Phrase, parse_form
from wire.limits import (
    CANDIDATES,
    CONTEXT_BARS,
    DEFAULT_GUIDANCE,
    DEFAULT_N_BARS,
    DEFAULT_STEPS,
    DEFAULT_TEMPO,
    DENSITY,
    FILE_TEMPO,
    GUIDANCE,
    GUIDANCE_BELOW,
    JAM_TEMPO,
    LIMITS,
    MAX_BARS,
    MAX_NOTES,
    PITCH_SETS,
    QUALITIES,
    REPEAT,
    REPEAT_STRENGTH,
    SAMPLERS,
    SEED,
    SONG_STEPS,
    SONG_TEMPO,
    STEPS,
    VARIATIONS,
    Limits,
    Range,
)
from wire.osc import pack_message, unpack_message

__all__ = [
    "CLIENT_SPECS",
    "CLIP_TASKS",
    "ENGINE_SPECS",
    "MAX_BARS",
    "MAX_CHUNKS",
    "MAX_ERROR_TEXT",
    "MAX_MODEL_NAME",
    "MAX_NOTES",
    "MAX_NOTES_PER_CHUNK",
    "MAX_REQUEST_ID",
    "MIDI_SYSTEMS",
    "NOTE_TAGS",
    "PORTS",
    "PROTOCOL_VERSION",
    "REQUEST_PARAM_KEYS",
    "SONG_PARAM_KEYS",
    "SONG_PARTS",
    "TASKS",
    "Accepted",
    "BeatNote",
    "Cancel",
    "ChordLabel",
    "ClientMessage",
    "Done",
    "EngineError",
    "EngineSettings",
    "ErrorCode",
    "Event",
    "Hello",
    "JamPortList",
    "JamPorts",
    "JamStart",
    "JamState",
    "JamStop",
    "MessageSpec",
    "NoteLike",
    "NotesChunk",
    "Progress",
    "ProtocolError",
    "Reply",
    "ReplyError",
    "RequestKind",
    "RequestMessage",
    "RequestParams",
    "ResultAssembler",
    "ResultChunk",
    "SettingsGet",
    "SettingsReply",
    "SettingsUpdate",
    "SongInfo",
    "Status",
    "StatusQuery",
    "clip_text",
    "decode",
    "encode_message",
    "encode_request",
    "error_reply",
    "json_reply",
    "parse_defaults",
    "parse_message",
    "parse_params",
    "result_replies",
    "split_chunks",
]

PROTOCOL_VERSION = 1
MAX_NOTES_PER_CHUNK = 128
MAX_CHUNKS = math.ceil(MAX_NOTES / MAX_NOTES_PER_CHUNK)  # chunks of one request
MAX_REQUEST_ID = 64
MAX_MODEL_NAME = 100  # characters of a model name (a file stem)
MAX_ERROR_TEXT = 1000  # characters of an error reply's message (it must fit a datagram)
_SHOWN = 60  # characters of a client's value quoted in an error message
NOTE_TAGS = "ffii"
PORTS = Range(1, 65535)
# The request addresses' last parts: the clip tasks (the pipeline's infill, accompany and
# generate) and a whole song from a form (engine.song).
CLIP_TASKS = ("infill", "accompany", "generate")
TASKS = (*CLIP_TASKS, "song")
# A song's result streams, in the order of the result's ``variation`` argument.
SONG_PARTS = ("melody", "chords", "accompaniment")
# The MIDI systems a jam can use: "default" (the engine's: ALSA on Linux, CoreMIDI on
# macOS, Windows MM) or "jack" (a running JACK server; for Linux without an ALSA sequencer).
MIDI_SYSTEMS = ("default", "jack")


class ErrorCode(IntEnum):
    """Error codes of ``/diffjam/error`` (the doc's "Error codes" table)."""

    MALFORMED = 1
    UNKNOWN_ADDRESS = 2
    BAD_TYPES = 3
    BAD_JSON = 4
    BAD_PARAMS = 5
    BAD_CHORD = 6
    BAD_BARS = 7
    UNSUPPORTED_METER = 8
    TOO_LARGE = 9
    CHUNK = 10
    BUSY = 11
    DUPLICATE_ID = 12
    TIMEOUT = 13
    CANCELLED = 14
    UNKNOWN_REQUEST = 15
    JAM = 16
    INTERNAL = 17


class ProtocolError(Exception):
    """A message the engine refuses; becomes one ``/diffjam/error`` reply."""

    def __init__(self, code: ErrorCode, message: str, *, request_id: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.request_id = request_id


@dataclass(frozen=True)
class MessageSpec:
    """Allowed type tags of one address: one of ``fixed``, then ``repeat`` any number of times.

    ``fixed`` holds the alternatives for the leading tags (``("", "i")`` for hello); with a
    non-empty ``repeat`` the message is ``fixed[0]`` followed by k >= 0 copies of it.
    """

    address: str
    fixed: tuple[str, ...]
    repeat: str = ""

    def matches(self, tags: str) -> bool:
        """Whether ``tags`` fit; an ``i`` is accepted where ``f`` is expected (Max sends
        whole-valued floats as ints), never the other way round."""
        for head in self.fixed:
            if not _tags_fit(tags[: len(head)], head):
                continue
            rest = tags[len(head) :]
            if not self.repeat:
                if not rest:
                    return True
            elif len(rest) % len(self.repeat) == 0 and (
                rest == self.repeat * (len(rest) // len(self.repeat))  # the usual case
                or all(_tags_fit(rest[k : k + len(self.repeat)], self.repeat)
                       for k in range(0, len(rest), len(self.repeat)))
            ):
                return True
        return False

    def describe(self) -> str:
        shown = " or ".join(repr(tag) for tag in self.fixed)
        return f"{shown} then {self.repeat!r} x k" if self.repeat else shown


def _tags_fit(got: str, want: str) -> bool:
    """``got`` has ``want``'s length and tags, with ``i`` allowed for ``f``."""
    return len(got) == len(want) and all(
        g == w or (w == "f" and g == "i") for g, w in zip(got, want, strict=True)
    )


def _specs(*specs: MessageSpec) -> dict[str, MessageSpec]:
    return {spec.address: spec for spec in specs}


CLIENT_SPECS: dict[str, MessageSpec] = _specs(
    MessageSpec("/diffjam/hello", ("", "i")),
    MessageSpec("/diffjam/status", ("",)),
    MessageSpec("/diffjam/notes", ("sii",), NOTE_TAGS),
    MessageSpec("/diffjam/infill", ("ss",)),
    MessageSpec("/diffjam/accompany", ("ss",)),
    MessageSpec("/diffjam/generate", ("ss",)),
    MessageSpec("/diffjam/song", ("ss",)),
    MessageSpec("/diffjam/cancel", ("s",)),
    MessageSpec("/diffjam/settings", ("s",)),
    MessageSpec("/diffjam/settings/get", ("",)),
    MessageSpec("/diffjam/jam/start", ("s",)),
    MessageSpec("/diffjam/jam/stop", ("",)),
    MessageSpec("/diffjam/jam/ports", ("", "s")),
)

ENGINE_SPECS: dict[str, MessageSpec] = _specs(
    MessageSpec("/diffjam/status", ("s",)),
    MessageSpec("/diffjam/accepted", ("si",)),
    MessageSpec("/diffjam/progress", ("sf", "sfs")),
    MessageSpec("/diffjam/result", ("siii",), NOTE_TAGS),
    MessageSpec("/diffjam/done", ("ss",)),
    MessageSpec("/diffjam/error", ("siss",)),
    MessageSpec("/diffjam/settings", ("s",)),
    MessageSpec("/diffjam/jam/state", ("s",)),
    MessageSpec("/diffjam/jam/ports", ("s",)),
)


# ---------------------------------------------------------------------------------------
# Typed client messages


@dataclass(frozen=True, order=True)
class BeatNote:
    """A note at the OSC edge: ``start`` and ``duration`` in beats, MIDI pitch and velocity."""

    start: float
    duration: float
    pitch: int
    velocity: int


@dataclass(frozen=True)
class Hello:
    reply_port: int | None


@dataclass(frozen=True)
class StatusQuery:
    pass


@dataclass(frozen=True)
class NotesChunk:
    request_id: str
    index: int
    count: int
    notes: tuple[BeatNote, ...]


class RequestKind:
    """The request addresses' kinds (plain strings, as the pipeline methods are named)."""

    INFILL, ACCOMPANY, GENERATE, SONG = TASKS
    ALL = TASKS


@dataclass(frozen=True)
class RequestParams:
    """The validated JSON params of a request (doc: "Request params").

    ``None`` means "not given": the engine-wide default (or the documented fallback)
    applies. ``bars`` is 1-based inclusive, as sent.
    """

    notes_chunks: int = 0
    notes: tuple[BeatNote, ...] = ()
    clip_beats: float | None = None
    bars: tuple[int, int] | None = None
    n_bars: int = DEFAULT_N_BARS
    tempo: float = DEFAULT_TEMPO
    chords: str | None = None
    key: str | None = None
    guidance: float | None = None
    in_key: bool | None = None
    steps: int | None = None
    seed: int | None = None
    variations: int | None = None
    write_midi: bool = True
    reply_port: int | None = None
    model: str | None = None
    quality: str | None = None  # None: the engine's default (wire.limits.DEFAULT_QUALITY)
    sampler: str | None = None  # None: the engine's default (wire.limits.DEFAULT_SAMPLER)
    below_melody: bool = False  # accompany: new notes stay under the melody's lowest note
    # accompany: new notes stay between C2 and the melody's top note (G5 without one), the
    # chord's bass alone under G2; None: on, False: off
    register: bool | None = None
    # accompany: below the lowest note the sample puts on each chord's bass nothing else
    # sounds in that chord (engine.guidance.BassProjection); False: the default, off
    bass_anchor: bool = False
    # the projection's pitch set (wire.limits.PITCH_SETS); None: the task's default
    allowed: str | None = None
    # guidance only at noise times t <= this (wire.limits.GUIDANCE_BELOW); None: the default
    guidance_below: float | None = None
    # samples drawn a variation, the best kept (wire.limits.CANDIDATES); None: the task's
    candidates: int | None = None
    # notes a bar wanted (wire.limits.DENSITY), the model's rhythm condition: a direction
    # more than a count; 0: no hint; None: the task's default (accompany asks for the
    # model file's own, else DEFAULT_ACCOMPANY_DENSITY; the others for none)
    density: float | None = None
    # infill only: how strongly the gap starts from the bars the clip repeats around it
    # (wire.limits.REPEAT); None: the engine's default (DEFAULT_REPEAT without chords, 0 with)
    repeat: float | None = None
    # song only (SONG_PARAM_KEYS): the form ("i4A8B8A8o4", wire.form), how closely a
    # phrase follows the earlier one with its label (None: the engine's default), and
    # whether the phrase labels condition the lead sheet at all
    form: str | None = None
    repeat_strength: float | None = None
    use_form: bool = True

    def to_json(self) -> dict[str, Any]:
        """The params as a client sends them: the fields that differ from their defaults,
        and always ``notes_chunks``; :func:`parse_params` reads them back to ``self``."""
        out: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if value == item.default and item.name != "notes_chunks":
                continue
            if item.name == "notes":
                value = [[n.start, n.duration, n.pitch, n.velocity] for n in value]
            elif item.name == "bars":
                value = list(value)
            out[item.name] = value
        return out


@dataclass(frozen=True)
class RequestMessage:
    """``/diffjam/infill``, ``/diffjam/accompany``, ``/diffjam/generate`` or
    ``/diffjam/song``."""

    kind: str
    request_id: str
    params: RequestParams


@dataclass(frozen=True)
class Cancel:
    request_id: str


@dataclass(frozen=True)
class SettingsUpdate:
    """Validated subset of the engine-wide defaults to change."""

    values: tuple[tuple[str, Any], ...]

    @classmethod
    def of(cls, **values: Any) -> SettingsUpdate:
        """A client's update, checked like the engine checks it (raises ProtocolError)."""
        _check_keys(values, _SETTINGS_KEYS, "")
        return cls(tuple(sorted(_sampling_fields(values, "").items())))

    def apply(self, current: EngineSettings) -> EngineSettings:
        return replace(current, **dict(self.values))

    def to_json(self) -> dict[str, Any]:
        return dict(self.values)


@dataclass(frozen=True)
class SettingsGet:
    pass


@dataclass(frozen=True)
class JamStart:
    """``/diffjam/jam/start`` params; sampling fields left ``None`` take the engine defaults,
    ``context_bars`` left ``None`` the jam's own default."""

    input: str | None = None
    output: str | None = None
    clock: str = "internal"
    tempo: float = DEFAULT_TEMPO
    guidance: float | None = None
    in_key: bool | None = None
    key: str | None = None
    steps: int | None = None
    seed: int | None = None
    context_bars: int | None = None
    midi_system: str = "default"  # one of MIDI_SYSTEMS

    def to_json(self) -> dict[str, Any]:
        """As a client sends it: ports, clock and tempo always, the rest when given (the
        MIDI system when it is not the default)."""
        always = ("input", "output", "clock", "tempo")
        return {item.name: getattr(self, item.name) for item in fields(self)
                if item.name in always or (getattr(self, item.name) is not None
                                           and getattr(self, item.name) != item.default)}


@dataclass(frozen=True)
class JamStop:
    pass


@dataclass(frozen=True)
class JamPorts:
    """``/diffjam/jam/ports``: list the ports of one MIDI system (one of MIDI_SYSTEMS)."""

    midi_system: str = "default"


ClientMessage = (
    Hello
    | StatusQuery
    | NotesChunk
    | RequestMessage
    | Cancel
    | SettingsUpdate
    | SettingsGet
    | JamStart
    | JamStop
    | JamPorts
)


@dataclass(frozen=True)
class EngineSettings:
    """Engine-wide sampling defaults, changed by ``/diffjam/settings``."""

    guidance: float = DEFAULT_GUIDANCE
    in_key: bool = True
    key: str | None = None
    steps: int = DEFAULT_STEPS
    variations: int = 1
    seed: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "guidance": self.guidance,
            "in_key": self.in_key,
            "key": self.key,
            "steps": self.steps,
            "variations": self.variations,
            "seed": self.seed,
        }


# ---------------------------------------------------------------------------------------
# Value checks (each raises ProtocolError with the offending key named)


def _bad(
    message: str, request_id: str = "", code: ErrorCode = ErrorCode.BAD_PARAMS
) -> ProtocolError:
    return ProtocolError(code, message, request_id=request_id)


def clip_text(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _show(value: Any) -> str:
    """A client's value as compact JSON for an error message, cut to a few dozen characters
    (the value may be a 60 KB string or a 4,000-digit number)."""
    try:
        text = json.dumps(value, separators=(",", ":"))
    except (ValueError, RecursionError):
        text = f"<{type(value).__name__}>"
    return clip_text(text, _SHOWN)


def _int(key: str, value: Any, bounds: Range, rid: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(f"'{key}' must be an integer, got {_show(value)}", rid)
    if value not in bounds:
        raise _bad(f"'{key}' must be in {bounds}, got {_show(value)}", rid)
    return value


def _float(key: str, value: Any, bounds: Range, rid: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _bad(f"'{key}' must be a number, got {_show(value)}", rid)
    try:
        number = float(value)
    except OverflowError:  # an integer beyond float range
        number = math.inf
    if not math.isfinite(number) or number not in bounds:
        raise _bad(f"'{key}' must be in {bounds}, got {_show(value)}", rid)
    return number


def _bool(key: str, value: Any, rid: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise _bad(f"'{key}' must be true/false or 0/1, got {_show(value)}", rid)


def _text(key: str, value: Any, rid: str, *, max_len: int = 1000) -> str:
    if not isinstance(value, str):
        raise _bad(f"'{key}' must be a string, got {_show(value)}", rid)
    if len(value) > max_len:
        raise _bad(f"'{key}' is longer than {max_len} characters", rid)
    return value


def _optional_text(key: str, value: Any, rid: str) -> str | None:
    return None if value is None else _text(key, value, rid)


def _json_object(text: str, rid: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as err:  # also numbers of more than 4,300 digits
        raise _bad(f"params are not valid JSON: {clip_text(str(err), 200)}", rid,
                   ErrorCode.BAD_JSON) from err
    if not isinstance(value, dict):
        raise _bad("params must be a JSON object", rid, ErrorCode.BAD_JSON)
    return value


def _check_keys(values: dict[str, Any], allowed: tuple[str, ...], rid: str) -> None:
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        shown = clip_text(", ".join(clip_text(repr(key), _SHOWN) for key in unknown), 200)
        raise _bad(f"unknown key(s) {shown}; allowed: {', '.join(allowed)}", rid)


def _sampling_fields(values: dict[str, Any], rid: str) -> dict[str, Any]:
    """The sampling keys shared by request params, settings and jam start."""
    out: dict[str, Any] = {}
    if "guidance" in values:
        out["guidance"] = _float("guidance", values["guidance"], GUIDANCE, rid)
    if "in_key" in values:
        out["in_key"] = _bool("in_key", values["in_key"], rid)
    if "key" in values:
        out["key"] = _optional_text("key", values["key"], rid)
    if "steps" in values:
        out["steps"] = _int("steps", values["steps"], STEPS, rid)
    if "seed" in values:
        seed = values["seed"]
        out["seed"] = None if seed is None else _int("seed", seed, SEED, rid)
    if "variations" in values:
        out["variations"] = _int("variations", values["variations"], VARIATIONS, rid)
    return out


# The params of the clip tasks (CLIP_TASKS) and of a song: a key another task takes is
# refused, not ignored.
REQUEST_PARAM_KEYS = (
    "notes_chunks", "notes", "clip_beats", "bars", "n_bars", "tempo", "time_signature", "chords",
    "key", "guidance", "in_key", "steps", "seed", "variations", "write_midi", "reply_port",
    "model", "quality", "sampler", "below_melody", "density", "repeat", "allowed",
    "guidance_below", "register", "candidates", "bass_anchor",
)
SONG_PARAM_KEYS = (
    "notes_chunks", "form", "key", "tempo", "chords", "seed", "steps", "repeat_strength",
    "use_form", "guidance", "in_key", "quality", "write_midi", "reply_port", "model",
)
_SETTINGS_KEYS = ("guidance", "in_key", "key", "steps", "variations", "seed")
_JAM_KEYS = (
    "input", "output", "clock", "tempo", "guidance", "in_key", "key", "steps", "seed",
    "context_bars", "midi_system",
)


def parse_params(kind: str, text: str, *, request_id: str) -> RequestParams:
    """Validate a request's JSON params (doc: "Request params")."""
    rid = request_id
    values = _json_object(text, rid)
    song = kind == RequestKind.SONG
    _check_keys(values, SONG_PARAM_KEYS if song else REQUEST_PARAM_KEYS, rid)
    fields: dict[str, Any] = _sampling_fields(values, rid)
    if "time_signature" in values:
        _check_meter(values["time_signature"], rid)
    if "notes_chunks" in values:
        chunks = _int("notes_chunks", values["notes_chunks"], Range(0, 2**63), rid)
        if chunks > MAX_CHUNKS:
            raise _too_many_chunks(chunks, rid)
        fields["notes_chunks"] = chunks
    if "notes" in values:
        if fields.get("notes_chunks"):
            raise _bad("give the notes either in 'notes' or in /diffjam/notes chunks "
                       "('notes_chunks'), not both", rid)
        fields["notes"] = _json_notes(values["notes"], rid)
    for key, read in _PARAM_READERS:
        if key in values:
            fields[key] = read(values[key], rid)
    if "repeat" in values and kind != RequestKind.INFILL:
        raise _bad(f"'repeat' is for infill only (the bars a clip repeats around the gap); "
                   f"{kind} does not take it", rid)
    if kind == RequestKind.INFILL and "bars" not in fields:
        raise _bad("infill needs 'bars': [first, last] (1-based, inclusive)", rid)
    if kind == RequestKind.ACCOMPANY and not (
            fields.get("chords") or fields.get("notes_chunks") or fields.get("notes")):
        raise _bad("accompany needs 'chords' or melody notes", rid)
    if song:
        _check_song(fields, rid)
    return RequestParams(**fields)


def _check_song(fields: dict[str, Any], rid: str) -> None:
    """What a song needs besides each key's own check: a form, and no notes."""
    if not fields.get("form"):
        raise _bad("song needs 'form', the phrases and their bars, e.g. \"i4A8B8A8o4\"", rid)
    if fields.get("notes_chunks"):
        raise _bad("a song takes no notes ('notes_chunks' must be 0)", rid)
    if "steps" in fields and fields["steps"] not in SONG_STEPS:
        raise _bad(f"'steps' of a song must be in {SONG_STEPS}, got {fields['steps']}", rid)
    if "tempo" in fields and fields["tempo"] not in SONG_TEMPO:
        raise _bad(f"'tempo' of a song must be in {SONG_TEMPO} BPM, got {fields['tempo']}",
                   rid)


def _form(value: Any, rid: str) -> str:
    """A form string (wire.form) with at least one phrase, as sent."""
    text = _text("form", value, rid)
    try:
        phrases = parse_form(text)
    except FormError as err:
        raise _bad(f"'form': {clip_text(str(err), 300)}", rid) from err
    if not phrases:
        raise _bad("'form' has no phrases; write them with their bars, e.g. \"A8B8\"", rid)
    return text


def _check_meter(meter: Any, rid: str) -> None:
    if (
        not isinstance(meter, list)
        or len(meter) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in meter)
    ):
        raise _bad(f"'time_signature' must be [numerator, denominator], got "
                   f"{_show(meter)}", rid)
    if meter != [4, 4]:
        raise _bad(f"time signature {_show(meter[0])}/{_show(meter[1])} is not supported; "
                   "only 4/4 is", rid, ErrorCode.UNSUPPORTED_METER)


def _clip_beats(value: Any, rid: str) -> float:
    clip = _float("clip_beats", value, Range(0.0, 1e9), rid)
    if clip > MAX_BARS * 4:
        raise _bad(f"clip of {clip:g} beats is longer than {MAX_BARS} bars", rid,
                   ErrorCode.TOO_LARGE)
    if clip <= 0:
        raise _bad("'clip_beats' must be > 0", rid)
    return clip


def _n_bars(value: Any, rid: str) -> int:
    n_bars = _int("n_bars", value, Range(1, 2**31 - 1), rid)
    if n_bars > MAX_BARS:
        raise _bad(f"{n_bars} bars is more than the limit of {MAX_BARS}", rid,
                   ErrorCode.TOO_LARGE)
    return n_bars


def _bars(bars: Any, rid: str) -> tuple[int, int]:
    if (
        not isinstance(bars, list)
        or len(bars) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in bars)
    ):
        raise _bad(f"'bars' must be [first, last] (1-based), got {_show(bars)}", rid)
    first, last = bars
    if first < 1 or last < first:
        raise _bad(f"bar range {_show(first)}-{_show(last)} is empty or starts before "
                   "bar 1", rid, ErrorCode.BAD_BARS)
    if last > MAX_BARS:
        raise _bad(f"bar {_show(last)} is past the limit of {MAX_BARS} bars", rid,
                   ErrorCode.TOO_LARGE)
    return (first, last)


def _quality(value: Any, rid: str) -> str:
    if value not in QUALITIES:
        raise _bad(f"'quality' must be one of {', '.join(QUALITIES)}, got "
                   f"{_show(value)}", rid)
    return cast(str, value)


def _allowed(value: Any, rid: str) -> str | None:
    if value is not None and value not in PITCH_SETS:
        raise _bad(f"'allowed' must be one of {', '.join(PITCH_SETS)} or null, got "
                   f"{_show(value)}", rid)
    return cast("str | None", value)


def _sampler(value: Any, rid: str) -> str:
    if value not in SAMPLERS:
        raise _bad(f"'sampler' must be one of {', '.join(SAMPLERS)}, got {_show(value)}", rid)
    return cast(str, value)


# The request params read one key at a time, in this order (the first bad one is reported).
_PARAM_READERS: tuple[tuple[str, Callable[[Any, str], Any]], ...] = (
    ("clip_beats", _clip_beats),
    ("n_bars", _n_bars),
    ("bars", _bars),
    # the range a .mid file can hold (engine.midifile)
    ("tempo", lambda v, rid: _float("tempo", v, FILE_TEMPO, rid)),
    ("chords", lambda v, rid: _optional_text("chords", v, rid)),
    ("write_midi", lambda v, rid: _bool("write_midi", v, rid)),
    ("reply_port", lambda v, rid: _int("reply_port", v, PORTS, rid)),
    ("model", lambda v, rid: _text("model", v, rid, max_len=MAX_MODEL_NAME)),
    ("quality", _quality),
    ("sampler", _sampler),
    ("below_melody", lambda v, rid: _bool("below_melody", v, rid)),
    ("density", lambda v, rid: None if v is None else _float("density", v, DENSITY, rid)),
    ("repeat", lambda v, rid: None if v is None else _float("repeat", v, REPEAT, rid)),
    ("allowed", _allowed),
    ("register", lambda v, rid: None if v is None else _bool("register", v, rid)),
    ("bass_anchor", lambda v, rid: _bool("bass_anchor", v, rid)),
    ("guidance_below", lambda v, rid: None if v is None
     else _float("guidance_below", v, GUIDANCE_BELOW, rid)),
    ("candidates", lambda v, rid: None if v is None
     else _int("candidates", v, CANDIDATES, rid)),
    ("form", _form),
    ("repeat_strength", lambda v, rid: _float("repeat_strength", v, REPEAT_STRENGTH, rid)),
    ("use_form", lambda v, rid: _bool("use_form", v, rid)),
)


def _too_many_chunks(count: int, rid: str) -> ProtocolError:
    return _bad(f"{count} chunks is more than a request may hold: at most {MAX_NOTES} notes, "
                f"{MAX_NOTES_PER_CHUNK} a chunk ({MAX_CHUNKS} chunks)", rid, ErrorCode.TOO_LARGE)


def _parse_settings(text: str) -> SettingsUpdate:
    values = _json_object(text, "")
    _check_keys(values, _SETTINGS_KEYS, "")
    return SettingsUpdate(tuple(sorted(_sampling_fields(values, "").items())))


def parse_defaults(text: str) -> EngineSettings:
    """The engine-wide defaults from ``diffjam serve --defaults JSON``: the keys and ranges
    of ``/diffjam/settings``; raises ProtocolError (its message names the key)."""
    return _parse_settings(text).apply(EngineSettings())


def _parse_jam_start(text: str) -> JamStart:
    values = _json_object(text, "")
    _check_keys(values, _JAM_KEYS, "")
    fields: dict[str, Any] = _sampling_fields(values, "")
    for key in ("input", "output"):
        if key in values:
            fields[key] = _optional_text(key, values[key], "")
    if "clock" in values:
        clock = values["clock"]
        if clock not in ("midi", "internal"):
            raise _bad(f"'clock' must be \"midi\" or \"internal\", got {_show(clock)}")
        fields["clock"] = clock
    if "tempo" in values:
        fields["tempo"] = _float("tempo", values["tempo"], JAM_TEMPO, "")
    if "context_bars" in values:
        fields["context_bars"] = _int("context_bars", values["context_bars"], CONTEXT_BARS, "")
    if "midi_system" in values:
        fields["midi_system"] = _midi_system(values["midi_system"])
    return JamStart(**fields)


def _midi_system(value: Any) -> str:
    if value not in MIDI_SYSTEMS:
        raise _bad(f"'midi_system' must be one of {', '.join(MIDI_SYSTEMS)}, got "
                   f"{_show(value)}")
    return cast(str, value)


def _parse_jam_ports(args: list[Any]) -> JamPorts:
    """``/diffjam/jam/ports`` with no argument (the default MIDI system) or a JSON object
    ``{"midi_system": ...}``."""
    if not args:
        return JamPorts()
    values = _json_object(args[0], "")
    _check_keys(values, ("midi_system",), "")
    return JamPorts(_midi_system(values.get("midi_system", "default")))


def _request_id(value: str) -> str:
    if not 1 <= len(value) <= MAX_REQUEST_ID:
        raise _bad(f"request id must be 1-{MAX_REQUEST_ID} characters, got {len(value)}")
    if not value.isprintable():
        raise _bad(f"request id {_show(value)} contains control characters")
    return value


def _beat_notes(args: list[Any], rid: str) -> tuple[BeatNote, ...]:
    """The notes of a ``/diffjam/notes`` chunk (``ffii`` x k, already type-checked)."""
    return tuple(_beat_note(*args[k : k + 4], where=f"note {k // 4} of the chunk", rid=rid)
                 for k in range(0, len(args), 4))


def _json_notes(value: Any, rid: str) -> tuple[BeatNote, ...]:
    """The ``notes`` param: ``[[start_beats, duration_beats, pitch, velocity], ...]``."""
    if not isinstance(value, list):
        raise _bad(f"'notes' must be a list of [start, duration, pitch, velocity], got "
                   f"{_show(value)}", rid)
    if len(value) > MAX_NOTES:
        raise _bad(f"{len(value)} notes is more than a request may hold ({MAX_NOTES})", rid,
                   ErrorCode.TOO_LARGE)
    notes = []
    for k, item in enumerate(value):
        where = f"'notes' item {k}"
        if not (isinstance(item, list) and len(item) == 4
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in item)
                and all(isinstance(v, int) for v in item[2:])):
            raise _bad(f"{where} must be [start, duration, pitch, velocity] (numbers; pitch "
                       f"and velocity integers), got {_show(item)}", rid)
        start, duration = (_finite(v) for v in item[:2])
        notes.append(_beat_note(start, duration, item[2], item[3], where=where, rid=rid))
    return tuple(notes)


def _finite(value: int | float) -> float:
    try:
        return float(value)
    except OverflowError:  # an integer beyond float range
        return math.inf


def _beat_note(start: float, duration: float, pitch: int, velocity: int, *, where: str,
               rid: str) -> BeatNote:
    if not (math.isfinite(start) and math.isfinite(duration)):
        raise _bad(f"{where}: start and duration must be finite numbers", rid)
    if start < 0:
        raise _bad(f"{where}: start {start:g} beats is before the clip start", rid)
    if duration <= 0:
        raise _bad(f"{where}: duration {duration:g} beats must be > 0", rid)
    if start + duration > MAX_BARS * 4:
        raise _bad(f"{where}: ends at beat {start + duration:g}, past the limit of "
                   f"{MAX_BARS} bars", rid, ErrorCode.TOO_LARGE)
    if not 0 <= pitch <= 127:
        raise _bad(f"{where}: pitch {_show(pitch)} is not a MIDI pitch 0..127", rid)
    if not 1 <= velocity <= 127:
        raise _bad(f"{where}: velocity {_show(velocity)} must be 1..127", rid)
    return BeatNote(float(start), float(duration), int(pitch), int(velocity))


_REQUEST_ADDRESSES = frozenset(f"/diffjam/{kind}" for kind in TASKS)


def parse_message(address: str, tags: str, args: list[Any]) -> ClientMessage:
    """Turn one decoded OSC message into a typed client message, or raise ProtocolError."""
    spec = CLIENT_SPECS.get(address)
    if spec is None:
        raise _bad(f"no such address {_show(address)}", code=ErrorCode.UNKNOWN_ADDRESS)
    if not spec.matches(tags):
        raise _bad(f"{address} takes type tags {spec.describe()}, got "
                   f"{clip_text(repr(tags), _SHOWN)}", code=ErrorCode.BAD_TYPES)
    if address == "/diffjam/hello":
        port = args[0] if args else None
        if port is not None and port not in PORTS:
            raise _bad(f"reply port {port} is not in {PORTS}")
        return Hello(port)
    if address == "/diffjam/status":
        return StatusQuery()
    if address == "/diffjam/notes":
        return _notes_chunk(args)
    if address in _REQUEST_ADDRESSES:
        rid = _request_id(args[0])
        kind = address.rsplit("/", 1)[1]
        return RequestMessage(kind, rid, parse_params(kind, args[1], request_id=rid))
    if address == "/diffjam/cancel":
        return Cancel(_request_id(args[0]))
    if address == "/diffjam/settings":
        return _parse_settings(args[0])
    if address == "/diffjam/settings/get":
        return SettingsGet()
    if address == "/diffjam/jam/start":
        return _parse_jam_start(args[0])
    if address == "/diffjam/jam/stop":
        return JamStop()
    return _parse_jam_ports(args)


def _notes_chunk(args: list[Any]) -> NotesChunk:
    rid = _request_id(args[0])
    index, count = args[1], args[2]
    n_notes = (len(args) - 3) // 4
    if count > MAX_CHUNKS:
        raise _too_many_chunks(count, rid)
    if count < 1:
        raise _bad(f"chunk_count {count} must be >= 1", rid, ErrorCode.CHUNK)
    if not 0 <= index < count:
        raise _bad(f"chunk_index {index} is outside 0..{count - 1}", rid, ErrorCode.CHUNK)
    if n_notes > MAX_NOTES_PER_CHUNK:
        raise _bad(f"{n_notes} notes in one chunk; at most {MAX_NOTES_PER_CHUNK}", rid,
                   ErrorCode.CHUNK)
    return NotesChunk(rid, index, count, _beat_notes(args[3:], rid))


# ---------------------------------------------------------------------------------------
# Replies


@dataclass(frozen=True)
class Reply:
    """One engine -> client message; ``args`` are encoded with the spec's type tags."""

    address: str
    args: tuple[Any, ...] = field(default=())

    def tags(self) -> str:
        spec = ENGINE_SPECS[self.address]
        if not spec.repeat:  # the alternative with as many args (progress: a stage or not)
            return next((tags for tags in spec.fixed if len(tags) == len(self.args)),
                        spec.fixed[0])
        head = spec.fixed[0]
        return head + spec.repeat * ((len(self.args) - len(head)) // len(spec.repeat))

    def encode(self) -> bytes:
        return _build(self.address, self.tags(), self.args)


def _build(address: str, tags: str, args: Sequence[Any]) -> bytes:
    """One OSC message with the spec's ``tags`` (never guessed from Python types)."""
    if len(tags) != len(args):
        raise ValueError(f"{address}: {len(args)} args for tags {tags!r}")
    if any(isinstance(value, bool) for value in args):
        raise TypeError("the protocol sends booleans inside JSON, never as OSC args")
    values = [float(value) if tag == "f" else value for tag, value in zip(tags, args, strict=True)]
    packed = pack_message(address, tags, values)
    if packed is not None:
        return packed
    builder = OscMessageBuilder(address)
    for tag, value in zip(tags, values, strict=True):
        builder.add_arg(value, tag)
    return builder.build().dgram


def json_reply(address: str, value: dict[str, Any]) -> Reply:
    """A one-string reply holding ``value`` as compact JSON (unknown types as strings)."""
    return Reply(address, (json.dumps(value, separators=(",", ":"), default=str),))


def error_reply(request_id: str, code: ErrorCode, message: str) -> Reply:
    """``/diffjam/error``; the message is cut to :data:`MAX_ERROR_TEXT` characters so that
    the reply always fits a datagram, whatever input it quotes."""
    return Reply("/diffjam/error", (clip_text(request_id, MAX_REQUEST_ID), int(code), code.name,
                                    clip_text(message, MAX_ERROR_TEXT)))



# ---------------------------------------------------------------------------------------
# Chunking (requests' notes one way, results the other)


class NoteLike(Protocol):
    """Any note in beats: :class:`BeatNote`, the panel's ``ClipNote``."""

    @property
    def start(self) -> float: ...
    @property
    def duration(self) -> float: ...
    @property
    def pitch(self) -> int: ...
    @property
    def velocity(self) -> int: ...


_Note = TypeVar("_Note", bound=NoteLike)


def split_chunks(notes: Sequence[_Note], *, size: int = MAX_NOTES_PER_CHUNK
                 ) -> list[tuple[_Note, ...]]:
    """Split notes into chunks of at most ``size``; no notes is one empty chunk."""
    if not notes:
        return [()]
    return [tuple(notes[k : k + size]) for k in range(0, len(notes), size)]


def _note_args(notes: Sequence[NoteLike]) -> list[Any]:
    args: list[Any] = []
    for note in notes:
        args += [float(note.start), float(note.duration), int(note.pitch), int(note.velocity)]
    return args


def result_replies(request_id: str, variation: int, notes: Sequence[NoteLike]) -> list[Reply]:
    """The ``/diffjam/result`` chunks of one variation, in order (at least one)."""
    chunks = split_chunks(notes)
    return [Reply("/diffjam/result", (request_id, variation, index, len(chunks),
                                      *_note_args(chunk)))
            for index, chunk in enumerate(chunks)]


# ---------------------------------------------------------------------------------------
# Client side: typed messages to datagrams


def encode_message(message: ClientMessage) -> bytes:
    """One client message as a datagram, its tags from :data:`CLIENT_SPECS`.

    Requests go through :func:`encode_request` (they take several datagrams)."""
    address, args = _client_args(message)
    spec = CLIENT_SPECS[address]
    tags = next((tags for tags in spec.fixed if len(tags) == len(args)), spec.fixed[0])
    if spec.repeat:
        tags += spec.repeat * ((len(args) - len(tags)) // len(spec.repeat))
    return _build(address, tags, args)


def _client_args(message: ClientMessage) -> tuple[str, tuple[Any, ...]]:
    if isinstance(message, Hello):
        return "/diffjam/hello", () if message.reply_port is None else (message.reply_port,)
    if isinstance(message, StatusQuery):
        return "/diffjam/status", ()
    if isinstance(message, NotesChunk):
        return "/diffjam/notes", (message.request_id, message.index, message.count,
                                  *_note_args(message.notes))
    if isinstance(message, RequestMessage):
        return f"/diffjam/{message.kind}", (message.request_id,
                                            json.dumps(message.params.to_json()))
    if isinstance(message, Cancel):
        return "/diffjam/cancel", (message.request_id,)
    if isinstance(message, SettingsUpdate):
        return "/diffjam/settings", (json.dumps(message.to_json()),)
    if isinstance(message, SettingsGet):
        return "/diffjam/settings/get", ()
    if isinstance(message, JamStart):
        return "/diffjam/jam/start", (json.dumps(message.to_json()),)
    if isinstance(message, JamStop):
        return "/diffjam/jam/stop", ()
    if isinstance(message, JamPorts):
        if message.midi_system == "default":
            return "/diffjam/jam/ports", ()
        return "/diffjam/jam/ports", (json.dumps({"midi_system": message.midi_system}),)
    raise TypeError(f"not a client message: {message!r}")


def encode_request(kind: str, request_id: str, params: RequestParams,
                   notes: Sequence[NoteLike] = ()) -> list[bytes]:
    """The datagrams of one request: its ``/diffjam/notes`` chunks, then the params.

    ``notes_chunks`` is set in the params from the notes (none: no chunk). Raises
    ValueError for an unknown kind or an id the engine would refuse."""
    if kind not in TASKS:
        raise ValueError(f"unknown task {kind!r}; expected one of {', '.join(TASKS)}")
    if not 1 <= len(request_id) <= MAX_REQUEST_ID or not request_id.isprintable():
        raise ValueError(f"request id {request_id!r} must have 1 to {MAX_REQUEST_ID} "
                         "printable characters")
    beats = [BeatNote(float(n.start), float(n.duration), int(n.pitch), int(n.velocity))
             for n in notes]
    chunks = split_chunks(beats) if beats else []
    datagrams = [encode_message(NotesChunk(request_id, index, len(chunks), chunk))
                 for index, chunk in enumerate(chunks)]
    message = RequestMessage(kind, request_id, replace(params, notes_chunks=len(chunks)))
    return [*datagrams, encode_message(message)]


# ---------------------------------------------------------------------------------------
# Client side: the engine's datagrams to typed events


class ReplyError(ValueError):
    """A datagram from the engine does not follow the protocol (client side)."""


@dataclass(frozen=True)
class Status:
    """``/diffjam/status``: what the engine says about itself, its limits and what it
    reads (``params``: the request params keys its clip tasks accept, ``song_params``
    those of a song; empty from an engine that does not say). ``tasks`` lists the request
    addresses it answers (an engine that does not say answers the clip tasks);
    ``lead_sheet``: whether it has the lead-sheet model a song needs."""

    protocol: int
    version: str
    model: str
    device: str
    queue: int
    queue_capacity: int
    busy: bool
    last_latency_ms: float | None
    models: tuple[str, ...] = ()  # names a request's "model" may give, the default's first
    limits: Limits = LIMITS
    tasks: tuple[str, ...] = CLIP_TASKS
    params: tuple[str, ...] = ()
    song_params: tuple[str, ...] = ()
    lead_sheet: bool = False

    @property
    def writes_songs(self) -> bool:
        """Whether a song request can succeed here: the address and a lead-sheet model."""
        return RequestKind.SONG in self.tasks and self.lead_sheet

    def to_json(self) -> dict[str, Any]:
        return {
            "protocol": self.protocol, "version": self.version, "model": self.model,
            "models": list(self.models), "device": self.device, "queue": self.queue,
            "queue_capacity": self.queue_capacity, "busy": self.busy,
            "last_latency_ms": self.last_latency_ms, "limits": self.limits.to_json(),
            "capabilities": {"tasks": list(self.tasks), "params": list(self.params),
                             "song_params": list(self.song_params),
                             "lead_sheet": self.lead_sheet},
        }  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Status:
        latency = data.get("last_latency_ms")
        models = data.get("models")
        capabilities = data.get("capabilities") or {}
        return cls(
            protocol=int(data["protocol"]),
            version=str(data.get("version") or ""),
            model=str(data.get("model") or ""),
            device=str(data.get("device") or ""),
            queue=int(data.get("queue", 0)),
            queue_capacity=int(data.get("queue_capacity", 0)),
            busy=bool(data.get("busy", False)),
            last_latency_ms=float(latency) if isinstance(latency, int | float) else None,
            models=tuple(str(m) for m in models if m) if isinstance(models, list) else (),
            limits=Limits.from_json(data.get("limits") or {}),
            tasks=tuple(str(t) for t in capabilities.get("tasks", CLIP_TASKS)),
            params=tuple(str(p) for p in capabilities.get("params", ())),
            song_params=tuple(str(p) for p in capabilities.get("song_params", ())),
            lead_sheet=capabilities.get("lead_sheet") is True,
        )


@dataclass(frozen=True)
class Accepted:
    request_id: str
    position: int


@dataclass(frozen=True)
class Progress:
    """``/diffjam/progress``; a song's name its stage (``"lead sheet"``,
    ``"accompaniment"``), and ``fraction`` then runs 0..1 within that stage."""

    request_id: str
    fraction: float
    stage: str | None = None


@dataclass(frozen=True)
class ResultChunk:
    request_id: str
    variation: int
    chunk_index: int
    chunk_count: int
    notes: tuple[BeatNote, ...]


@dataclass(frozen=True)
class ChordLabel:
    """One chord of a song's lead sheet: where it lies in beats, and its symbol
    (:func:`wire.chords.parse_symbol` reads it; ``"N"``: no chord)."""

    start: float
    duration: float
    symbol: str


@dataclass(frozen=True)
class SongInfo:
    """What ``done`` adds for a song: the names of its result streams (:data:`SONG_PARTS`,
    sent in the place of variations), its phrases, its chords as symbols, the seconds
    each stage took (``"total"`` too) and the seed it used (a seedless request's too)."""

    phrases: tuple[Phrase, ...]
    chords: tuple[ChordLabel, ...]
    seconds: dict[str, float]
    seed: int
    parts: tuple[str, ...] = SONG_PARTS

    def to_json(self) -> dict[str, Any]:
        return {
            "parts": list(self.parts),
            "phrases": [[phrase.letter, phrase.bars] for phrase in self.phrases],
            "chords": [[chord.start, chord.duration, chord.symbol] for chord in self.chords],
            "seconds": {stage: round(value, 3) for stage, value in self.seconds.items()},
            "seed": self.seed,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SongInfo:
        """Read a song's ``done``; raises ValueError/TypeError/KeyError when malformed."""
        return cls(
            phrases=tuple(Phrase(str(letter), int(bars)) for letter, bars in data["phrases"]),
            chords=tuple(ChordLabel(float(start), float(duration), str(symbol))
                         for start, duration, symbol in data["chords"]),
            seconds={str(stage): float(value) for stage, value in data["seconds"].items()},
            seed=int(data["seed"]),
            parts=tuple(str(part) for part in data["parts"]),
        )


@dataclass(frozen=True)
class Done:
    """``/diffjam/done``: the request finished; ``info`` is the engine's JSON as sent."""

    request_id: str
    info: dict[str, Any]

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

    @property
    def candidates(self) -> int | None:
        """Samples the engine drew for each variation, the best kept; ``None`` when it did
        not say (an older engine, a song)."""
        drawn = self.info.get("candidates")
        return drawn if isinstance(drawn, int) and not isinstance(drawn, bool) else None

    @property
    def key(self) -> str | None:
        """The key the engine used (``"A minor"``: the one asked for, else the one it
        estimated); ``None`` when it had none or did not say."""
        key = self.info.get("key")
        return key if isinstance(key, str) and key else None

    @property
    def song(self) -> SongInfo | None:
        """A song's phrases, chords and parts (None for the clip tasks); raises
        :class:`ReplyError` when the engine sent them malformed."""
        if "parts" not in self.info:
            return None
        try:
            return SongInfo.from_json(self.info)
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise ReplyError(f"request {self.request_id!r}: the song in done is malformed: "
                             f"{err!r}") from err


@dataclass(frozen=True)
class EngineError:
    """``/diffjam/error``: ``request_id`` is ``""`` when the bad message had none."""

    request_id: str
    code: ErrorCode
    message: str

    @property
    def name(self) -> str:
        return self.code.name


@dataclass(frozen=True)
class SettingsReply:
    values: dict[str, Any]


@dataclass(frozen=True)
class JamState:
    running: bool
    bar: int | None
    chord: str | None
    tempo: float | None
    clock: str | None
    error: str | None


@dataclass(frozen=True)
class JamPortList:
    """``/diffjam/jam/ports`` from the engine: the MIDI port names it can open on one
    MIDI system (one of :data:`MIDI_SYSTEMS`)."""

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    midi_system: str = "default"


Event = (
    Status | Accepted | Progress | ResultChunk | Done | EngineError | SettingsReply
    | JamState | JamPortList
)  # fmt: skip


def decode(datagram: bytes) -> list[Event]:
    """Decode one datagram (message or bundle) from the engine into events.

    Raises :class:`ReplyError` naming the address and what was wrong: an unknown address,
    tags other than :data:`ENGINE_SPECS`' (an ``i`` stands for an ``f``), a bad value."""
    message = unpack_message(datagram)
    if message is not None:
        return [_event(message[0], message[2], message[1])]
    try:
        packet = OscPacket(datagram)
    except ParseError as err:
        raise ReplyError(f"unreadable OSC datagram: {err}") from err
    return [_event(timed.message.address, list(timed.message.params))
            for timed in packet.messages]


def _event(address: str, args: list[Any], tags: str | None = None) -> Event:
    """``tags``: the datagram's own, where it was read with them (else from ``args``)."""
    decoder = _DECODERS.get(address)
    if decoder is None:
        raise ReplyError(f"unexpected address {address}")
    if tags is None:
        tags = "".join("s" if isinstance(a, str) else "i" if isinstance(a, int) else "f"
                       for a in args)
    if not ENGINE_SPECS[address].matches(tags):
        raise ReplyError(f"{address} takes type tags {ENGINE_SPECS[address].describe()}, got "
                         f"{tags!r}")
    try:
        return decoder(args)
    except KeyError as err:
        raise ReplyError(f"{address}: missing key {err}") from err
    except (TypeError, ValueError, IndexError) as err:
        raise ReplyError(f"{address} with arguments {clip_text(repr(args), 200)}: {err}"
                         ) from err


def _reply_object(text: str) -> dict[str, Any]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("expected a JSON object")
    return value


def _reply_notes(args: list[Any]) -> tuple[BeatNote, ...]:
    return tuple(BeatNote(float(args[i]), float(args[i + 1]), int(args[i + 2]), int(args[i + 3]))
                 for i in range(0, len(args), 4))


def _result(args: list[Any]) -> ResultChunk:
    request_id, variation, index, count = args[:4]
    if not 0 <= index < count:
        raise ValueError(f"chunk {index} of {count}")
    return ResultChunk(request_id, variation, index, count, _reply_notes(args[4:]))


def _jam_state(args: list[Any]) -> JamState:
    data = _reply_object(args[0])
    bar, tempo = data.get("bar"), data.get("tempo")

    def text(key: str) -> str | None:
        return data.get(key) if isinstance(data.get(key), str) else None

    return JamState(
        running=bool(data.get("running", False)),
        bar=int(bar) if isinstance(bar, int | float) else None,
        chord=text("chord"), tempo=float(tempo) if isinstance(tempo, int | float) else None,
        clock=text("clock"), error=text("error"),
    )  # fmt: skip


def _jam_ports(args: list[Any]) -> JamPortList:
    data = _reply_object(args[0])
    system = data.get("midi_system")
    return JamPortList(inputs=tuple(str(name) for name in data.get("inputs", [])),
                       outputs=tuple(str(name) for name in data.get("outputs", [])),
                       midi_system=system if isinstance(system, str) else "default")


_DECODERS: dict[str, Any] = {
    "/diffjam/status": lambda a: Status.from_json(_reply_object(a[0])),
    "/diffjam/accepted": lambda a: Accepted(a[0], a[1]),
    "/diffjam/progress": lambda a: Progress(a[0], float(a[1]), a[2] if len(a) > 2 else None),
    "/diffjam/result": _result,
    "/diffjam/done": lambda a: Done(a[0], _reply_object(a[1])),
    "/diffjam/error": lambda a: EngineError(a[0], ErrorCode(a[1]), a[3]),
    "/diffjam/settings": lambda a: SettingsReply(_reply_object(a[0])),
    "/diffjam/jam/state": _jam_state,
    "/diffjam/jam/ports": _jam_ports,
}
assert set(_DECODERS) == set(ENGINE_SPECS), "every engine message has a decoder"


@dataclass
class ResultAssembler:
    """Collects ``/diffjam/result`` chunks per request and variation (client side).

    :meth:`finish` returns the variations in order once ``done`` arrived; a variation
    with missing chunks raises :class:`ReplyError`.
    """

    _chunks: dict[str, dict[int, dict[int, ResultChunk]]] = field(default_factory=dict)

    def add(self, chunk: ResultChunk) -> None:
        variations = self._chunks.setdefault(chunk.request_id, {})
        chunks = variations.setdefault(chunk.variation, {})
        if chunk.chunk_index in chunks:
            raise ReplyError(
                f"duplicate result chunk {chunk.chunk_index} of variation {chunk.variation} "
                f"for request {chunk.request_id!r}"
            )
        chunks[chunk.chunk_index] = chunk

    def discard(self, request_id: str) -> None:
        self._chunks.pop(request_id, None)

    def finish(self, request_id: str, *, n_variations: int) -> tuple[tuple[BeatNote, ...], ...]:
        variations = self._chunks.pop(request_id, {})
        result = []
        for variation in range(n_variations):
            chunks = variations.get(variation, {})
            counts = {chunk.chunk_count for chunk in chunks.values()}
            if len(counts) != 1 or len(chunks) != counts.pop():
                raise ReplyError(
                    f"request {request_id!r}: variation {variation + 1} arrived incomplete "
                    f"({len(chunks)} chunks)"
                )
            notes = [note for index in sorted(chunks) for note in chunks[index].notes]
            result.append(tuple(sorted(notes)))
        return tuple(result)
