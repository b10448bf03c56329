"""Standard MIDI Files: tempo-aware reading, quantisation to steps, writing.

Reading turns every note of every track into a :class:`TimedNote` with its onset and
offset in beats (quarter notes, from the file's ticks per beat) and in seconds
(through the file's tempo map). Notes are paired by :func:`smf.track_notes` (a note-on
with velocity 0 is a note-off; re-struck notes close first in, first out; a note still
open at the end of its track ends on the track's last tick).

Quantisation (:func:`quantize`) rounds onset and offset, in steps, to the nearest
16th (ties go up, to the later step); a note shorter than one step after rounding
lasts one step.

Writing (:func:`write_midi`) makes a format-1 file: a conductor track with the tempo,
the time signature and any markers, then one named track per part.
"""

from __future__ import annotations

import bisect
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import BinaryIO

import mido

import smf
from engine.errors import InputError
from engine.pianoroll import STEPS_PER_BEAT, Note, TimeSignature
from wire.limits import DEFAULT_TEMPO, FILE_TEMPO

__all__ = [
    "DEFAULT_TEMPO_BPM",
    "DEFAULT_TICKS_PER_BEAT",
    "MAX_TEMPO_BPM",
    "MIN_TEMPO_BPM",
    "MeterEvent",
    "MidiContents",
    "MidiFileError",
    "MidiTrack",
    "TempoMap",
    "TimedNote",
    "quantize",
    "quantize_beat",
    "read_midi",
    "write_midi",
]

DEFAULT_TICKS_PER_BEAT = 480
DEFAULT_TEMPO_BPM = DEFAULT_TEMPO
MIN_TEMPO_BPM = FILE_TEMPO.low  # the tempi a written file may have (wire.limits)
MAX_TEMPO_BPM = FILE_TEMPO.high
_DEFAULT_TEMPO_US = 500_000  # MIDI's default: 120 BPM


class MidiFileError(InputError):
    """A MIDI file could not be read or written."""


@dataclass(frozen=True)
class TimedNote:
    """A note read from a file: times in beats (quarter notes) and in seconds."""

    pitch: int
    velocity: int
    start_beat: float
    end_beat: float
    start_seconds: float
    end_seconds: float
    channel: int = 0


@dataclass(frozen=True)
class MidiTrack:
    name: str
    notes: tuple[TimedNote, ...]


@dataclass(frozen=True)
class MeterEvent:
    """A time-signature meta event, at a position in beats (as written: may be wrong)."""

    beat: float
    numerator: int
    denominator: int


class TempoMap:
    """Converts ticks to seconds through the tempo changes of a file."""

    def __init__(self, changes: Sequence[tuple[int, int]], *, ticks_per_beat: int) -> None:
        """``changes``: (tick, microseconds per beat) pairs; the default tempo applies before
        the first one."""
        if ticks_per_beat <= 0:
            raise ValueError(f"ticks_per_beat must be > 0, got {ticks_per_beat}")
        self.ticks_per_beat = ticks_per_beat
        merged: dict[int, int] = {0: _DEFAULT_TEMPO_US}
        for tick, tempo in sorted(changes):
            merged[tick] = tempo
        self._ticks = sorted(merged)
        self._tempos = [merged[t] for t in self._ticks]
        self._seconds = [0.0]
        for i in range(1, len(self._ticks)):
            span = self._ticks[i] - self._ticks[i - 1]
            self._seconds.append(
                self._seconds[-1] + span * self._tempos[i - 1] / 1e6 / ticks_per_beat
            )

    @property
    def changes(self) -> list[tuple[int, int]]:
        return list(zip(self._ticks, self._tempos, strict=True))

    def seconds(self, tick: int) -> float:
        i = bisect.bisect_right(self._ticks, tick) - 1
        return self._seconds[i] + (tick - self._ticks[i]) * self._tempos[i] / 1e6 / (
            self.ticks_per_beat
        )


@dataclass(frozen=True)
class MidiContents:
    ticks_per_beat: int
    tracks: tuple[MidiTrack, ...]
    tempo_map: TempoMap
    meters: tuple[MeterEvent, ...]

    def track(self, name: str) -> MidiTrack:
        """The first track with this name (case-insensitive)."""
        for track in self.tracks:
            if track.name.strip().lower() == name.lower():
                return track
        names = ", ".join(repr(t.name) for t in self.tracks)
        raise KeyError(f"no track named {name!r} (tracks: {names})")


def open_midi(path: str | os.PathLike[str]) -> mido.MidiFile:
    """A Standard MIDI File of format 0 or 1 opened with mido; mido's errors become
    MidiFileError (the one place the project opens a MIDI file)."""
    try:
        midi = mido.MidiFile(path)
    except (OSError, EOFError, ValueError, KeyError, IndexError) as err:
        raise MidiFileError(f"Cannot read MIDI file {os.fspath(path)!r}: {err}") from err
    if midi.type == 2:
        raise MidiFileError(f"{os.fspath(path)!r} is a type-2 MIDI file, which is not supported")
    return midi


def read_midi(path: str | os.PathLike[str]) -> MidiContents:
    """Read a Standard MIDI File of format 0 or 1 with any ticks per beat."""
    midi = open_midi(path)
    tpb = midi.ticks_per_beat
    if not tpb or tpb <= 0:
        raise MidiFileError(f"{os.fspath(path)!r} uses SMPTE time division, which is not supported")

    tempo_changes: list[tuple[int, int]] = []
    meters: list[MeterEvent] = []
    for track in midi.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "set_tempo":
                tempo_changes.append((tick, msg.tempo))
            elif msg.type == "time_signature":
                meters.append(MeterEvent(tick / tpb, msg.numerator, msg.denominator))
    tempo_map = TempoMap(tempo_changes, ticks_per_beat=tpb)

    tracks = []
    for index, track in enumerate(midi.tracks):
        name = track.name or ""
        notes = _track_notes(track, tempo_map, tpb)
        tracks.append(MidiTrack(name=name if name else f"track {index}", notes=notes))
    meters.sort(key=lambda m: m.beat)
    return MidiContents(
        ticks_per_beat=tpb, tracks=tuple(tracks), tempo_map=tempo_map, meters=tuple(meters)
    )


def _track_notes(track: mido.MidiTrack, tempo_map: TempoMap, tpb: int) -> tuple[TimedNote, ...]:
    return tuple(
        TimedNote(
            pitch=note.pitch,
            velocity=note.velocity,
            start_beat=note.start / tpb,
            end_beat=note.end / tpb,
            start_seconds=tempo_map.seconds(note.start),
            end_seconds=tempo_map.seconds(note.end),
            channel=note.channel,
        )
        for note in smf.track_notes(track)
    )


def quantize_beat(beat: float) -> int:
    """A position in beats to the nearest 16th step (ties go to the later step)."""
    return math.floor(beat * STEPS_PER_BEAT + 0.5)


def quantize(start_beat: float, end_beat: float) -> tuple[int, int]:
    """(start step, duration in steps) of a note given in beats.

    Onset and offset are rounded to the nearest step independently; the duration is
    at least one step.
    """
    start = quantize_beat(start_beat)
    end = quantize_beat(end_beat)
    return start, max(1, end - start)


def write_midi(
    path: str | os.PathLike[str] | BinaryIO,
    tracks: Sequence[tuple[str, Iterable[Note]]],
    *,
    bpm: float = DEFAULT_TEMPO_BPM,
    time_signature: TimeSignature = TimeSignature(),
    ticks_per_beat: int = DEFAULT_TICKS_PER_BEAT,
    channel: int = 0,
    channels: Sequence[int] | None = None,
    markers: Sequence[tuple[int, str]] = (),
) -> None:
    """Write ``(name, notes)`` parts (notes in steps) as a format-1 file to ``path`` (a
    file name, or a binary file open for writing, e.g. one created exclusively).

    Every part is on ``channel``, or on its own of ``channels`` (one per part).
    ``markers`` are ``(step, text)`` marker meta events of the conductor track (a song's
    phrases). Steps are converted to ticks as ``step * ticks_per_beat / 4`` rounded to
    the nearest tick, so ``ticks_per_beat`` need not be a multiple of 4.
    """
    if not MIN_TEMPO_BPM <= bpm <= MAX_TEMPO_BPM:
        raise ValueError(f"bpm must be in {MIN_TEMPO_BPM:g}..{MAX_TEMPO_BPM:g}, got {bpm}")
    if not 1 <= ticks_per_beat <= 32767:
        raise ValueError(f"ticks_per_beat must be in 1..32767, got {ticks_per_beat}")
    track_channels = [channel] * len(tracks) if channels is None else list(channels)
    if len(track_channels) != len(tracks):
        raise ValueError(f"{len(track_channels)} channels for {len(tracks)} parts")
    if not all(0 <= c <= 15 for c in track_channels):
        raise ValueError(f"channels must be 0..15, got {track_channels}")
    midi = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)

    def to_tick(step: int) -> int:
        return math.floor(step * ticks_per_beat / STEPS_PER_BEAT + 0.5)

    conductor = mido.MidiTrack()
    conductor.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0))
    conductor.append(
        mido.MetaMessage(
            "time_signature",
            numerator=time_signature.numerator,
            denominator=time_signature.denominator,
            time=0,
        )
    )
    now = 0
    for step, text in sorted(markers):
        conductor.append(mido.MetaMessage("marker", text=text, time=to_tick(step) - now))
        now = to_tick(step)
    conductor.append(mido.MetaMessage("end_of_track", time=0))
    midi.tracks.append(conductor)

    for (name, notes), part_channel in zip(tracks, track_channels, strict=True):
        track = mido.MidiTrack()
        track.append(mido.MetaMessage("track_name", name=name, time=0))
        events: list[tuple[int, int, int, int]] = []  # tick, order (offs first), pitch, velocity
        for note in notes:
            events.append((to_tick(note.start), 1, note.pitch, note.velocity))
            events.append((to_tick(note.end), 0, note.pitch, 0))
        events.sort()
        now = 0
        for tick, order, pitch, velocity in events:
            kind = "note_on" if order == 1 else "note_off"
            track.append(
                mido.Message(
                    kind, note=pitch, velocity=velocity, channel=part_channel, time=tick - now
                )
            )
            now = tick
        track.append(mido.MetaMessage("end_of_track", time=0))
        midi.tracks.append(track)
    try:
        if isinstance(path, (str, os.PathLike)):
            midi.save(path)
        else:
            midi.save(file=path)
    except OSError as err:
        name = os.fspath(path) if isinstance(path, (str, os.PathLike)) else getattr(
            path, "name", "<file>")
        raise MidiFileError(f"Cannot write MIDI file {name!r}: {err}") from err
