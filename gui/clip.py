"""Clips as the panel holds them: notes in beats, read from and written to MIDI files.

Time is in **beats** (quarter notes) from the clip start, as on the OSC wire. Reading
uses the file's ticks per beat (tempo changes do not move notes measured in beats); the
clip length is rounded up to whole 4/4 bars. Writing makes a format-1 file with one
track at the given tempo.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import mido

__all__ = [
    "BEATS_PER_BAR",
    "Clip",
    "ClipNote",
    "MidiClipError",
    "read_clip",
    "write_clip",
]

BEATS_PER_BAR = 4
_TICKS_PER_BEAT = 480


class MidiClipError(ValueError):
    """A MIDI file cannot be used as a clip (unreadable, empty, or not in 4/4)."""


@dataclass(frozen=True, order=True)
class ClipNote:
    """One note: onset and length in beats, MIDI pitch 0..127, velocity 1..127."""

    start: float
    duration: float
    pitch: int
    velocity: int = 80

    def __post_init__(self) -> None:
        if self.start < 0:
            raise ValueError(f"note start {self.start} beats is negative")
        if self.duration <= 0:
            raise ValueError(f"note duration {self.duration} beats is not positive")
        if not 0 <= self.pitch <= 127:
            raise ValueError(f"pitch {self.pitch} is outside 0..127")
        if not 1 <= self.velocity <= 127:
            raise ValueError(f"velocity {self.velocity} is outside 1..127")

    @property
    def end(self) -> float:
        return self.start + self.duration


@dataclass(frozen=True)
class Clip:
    """Notes plus the clip length in whole bars (4/4)."""

    notes: tuple[ClipNote, ...]
    n_bars: int
    tempo: float = 120.0
    name: str = ""

    @property
    def beats(self) -> float:
        return float(self.n_bars * BEATS_PER_BAR)


def read_clip(path: str | os.PathLike[str]) -> Clip:
    """Read every note of every track of a MIDI file into a :class:`Clip`.

    A note-on with velocity 0 is a note-off; repeated notes on one pitch and channel close
    first in, first out; a note left open ends at its track's last tick. Raises
    :class:`MidiClipError` for unreadable files, files without notes and meters other
    than 4/4.
    """
    try:
        midi = mido.MidiFile(os.fspath(path))
    except (OSError, EOFError, ValueError, KeyError, IndexError) as err:
        raise MidiClipError(f"cannot read {os.fspath(path)!r} as a MIDI file: {err}") from err
    ticks_per_beat = midi.ticks_per_beat
    tempo = 120.0
    notes: list[ClipNote] = []
    for track in midi.tracks:
        open_notes: dict[tuple[int, int], deque[tuple[int, int]]] = defaultdict(deque)
        tick = 0
        for message in track:
            tick += message.time
            if message.type == "set_tempo" and tick == 0:
                tempo = round(mido.tempo2bpm(message.tempo), 3)
            elif message.type == "time_signature":
                if (message.numerator, message.denominator) != (4, 4):
                    raise MidiClipError(
                        f"{os.path.basename(path)} is in "
                        f"{message.numerator}/{message.denominator}; only 4/4 is supported"
                    )
            elif message.type == "note_on" and message.velocity > 0:
                open_notes[(message.channel, message.note)].append((tick, message.velocity))
            elif message.type in ("note_off", "note_on"):
                queue = open_notes.get((message.channel, message.note))
                if queue:
                    onset, velocity = queue.popleft()
                    notes.append(_note(onset, tick, message.note, velocity, ticks_per_beat))
        for (_channel, pitch), queue in open_notes.items():
            for onset, velocity in queue:
                notes.append(_note(onset, tick, pitch, velocity, ticks_per_beat))
    if not notes:
        raise MidiClipError(f"{os.path.basename(path)} holds no notes")
    notes.sort()
    last_beat = max(note.end for note in notes)
    n_bars = max(1, math.ceil(last_beat / BEATS_PER_BAR - 1e-9))
    return Clip(notes=tuple(notes), n_bars=n_bars, tempo=tempo, name=os.path.basename(path))


def _note(onset: int, offset: int, pitch: int, velocity: int, ticks_per_beat: int) -> ClipNote:
    duration = max(offset - onset, 1) / ticks_per_beat
    return ClipNote(start=onset / ticks_per_beat, duration=duration, pitch=pitch, velocity=velocity)


def write_clip(
    path: str | os.PathLike[str],
    notes: Iterable[ClipNote],
    *,
    tempo: float = 120.0,
    track_name: str = "diffjam",
) -> None:
    """Write notes to a format-1 MIDI file (480 ticks per beat, 4/4, one note track)."""
    midi = mido.MidiFile(type=1, ticks_per_beat=_TICKS_PER_BEAT)
    conductor = mido.MidiTrack(
        [
            mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo), time=0),
            mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0),
        ]
    )
    midi.tracks.append(conductor)
    midi.tracks.append(_note_track(list(notes), track_name=track_name))
    midi.save(os.fspath(path))


def _note_track(notes: Sequence[ClipNote], *, track_name: str) -> mido.MidiTrack:
    events: list[tuple[int, int, mido.Message]] = []
    for note in notes:
        on = round(note.start * _TICKS_PER_BEAT)
        off = max(on + 1, round(note.end * _TICKS_PER_BEAT))
        events.append((on, 1, mido.Message("note_on", note=note.pitch, velocity=note.velocity)))
        events.append((off, 0, mido.Message("note_off", note=note.pitch, velocity=0)))
    events.sort(key=lambda event: (event[0], event[1], event[2].note))
    track = mido.MidiTrack([mido.MetaMessage("track_name", name=track_name, time=0)])
    tick = 0
    for at, _order, message in events:
        track.append(message.copy(time=at - tick))
        tick = at
    return track
