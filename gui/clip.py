"""Clips as the panel holds them: notes in beats, read from MIDI files, and results
written back into them.

Time is in **beats** (quarter notes) from the clip start, as on the OSC wire. Reading
uses the file's ticks per beat (tempo changes do not move notes measured in beats) and
:mod:`smf` (the one note pairing and meter rule diffjam has): 2/4 and 1/4 files are read
in 4/4 bars, other meters are refused; drum notes (channel 10) are left out of the
clip. The clip length is rounded up to whole 4/4 bars, and the file itself is kept.

Writing a result (:func:`result_file`): an infill goes back into the opened file, where
only the notes that start in the infilled bars on the picked track (or every track with
notes) are replaced, and every other event stays as it was (:func:`smf.splice_notes`);
an accompaniment of an opened file is that file plus one track. Otherwise
:func:`write_clip` makes a new format-1 file with one track at the given tempo, and
:func:`write_tracks` one with several (a song's parts, each on its own channel, with its
phrases as markers).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import mido

import smf

__all__ = [
    "ACCOMPANIMENT_TRACK",
    "BEATS_PER_BAR",
    "Clip",
    "ClipNote",
    "ClipTrack",
    "MidiClipError",
    "read_clip",
    "result_file",
    "write_clip",
    "write_tracks",
]

BEATS_PER_BAR = 4
ACCOMPANIMENT_TRACK = "diffjam accompaniment"
_TICKS_PER_BEAT = 480


class MidiClipError(ValueError):
    """A MIDI file cannot be used as a clip (unreadable, empty, or in a meter diffjam
    cannot read in 4/4 bars)."""


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
class ClipTrack:
    """One track of the opened file: its name and pitched notes."""

    name: str
    notes: tuple[ClipNote, ...]


@dataclass(frozen=True)
class Clip:
    """Notes plus the clip length in whole bars (4/4); for a clip read from a file, its
    tracks (one per track of the file, in order) and the file as read."""

    notes: tuple[ClipNote, ...]
    n_bars: int
    tempo: float = 120.0
    name: str = ""
    tracks: tuple[ClipTrack, ...] = ()
    source: mido.MidiFile | None = field(default=None, compare=False, repr=False)

    @property
    def beats(self) -> float:
        return float(self.n_bars * BEATS_PER_BAR)

    def notes_of(self, track: int | None) -> tuple[ClipNote, ...]:
        """The notes of track ``track`` (an index into :attr:`tracks`), or all of them."""
        return self.notes if track is None else self.tracks[track].notes


def read_clip(path: str | os.PathLike[str]) -> Clip:
    """Read the pitched notes of every track of a MIDI file into a :class:`Clip`.

    Notes are paired by :func:`smf.track_notes`. Raises :class:`MidiClipError` for
    unreadable files, files without pitched notes and meters other than 4/4, 2/2, 2/4
    and 1/4.
    """
    name = os.path.basename(path)
    try:
        midi = mido.MidiFile(os.fspath(path))
    except (OSError, EOFError, ValueError, KeyError, IndexError) as err:
        raise MidiClipError(f"cannot read {os.fspath(path)!r} as a MIDI file: {err}") from err
    try:
        smf.bar_grid(midi, name=name)
    except smf.MeterError as err:
        raise MidiClipError(str(err)) from err
    ticks_per_beat = midi.ticks_per_beat
    tempo = 120.0
    tracks = []
    for index, track in enumerate(midi.tracks):
        for tick, message in zip(smf.absolute_ticks(track), track, strict=True):
            if tick > 0:
                break
            if message.type == "set_tempo":
                tempo = round(mido.tempo2bpm(message.tempo), 3)
        notes = tuple(sorted(_note(n.start, n.end, n.pitch, n.velocity, ticks_per_beat)
                             for n in smf.track_notes(track)
                             if n.channel != smf.DRUM_CHANNEL))
        tracks.append(ClipTrack(name=track.name.strip() or f"track {index + 1}", notes=notes))
    every_note = tuple(sorted(note for track in tracks for note in track.notes))
    if not every_note:
        raise MidiClipError(f"{name} holds no notes")
    last_beat = max(note.end for note in every_note)
    n_bars = max(1, math.ceil(last_beat / BEATS_PER_BAR - 1e-9))
    return Clip(notes=every_note, n_bars=n_bars, tempo=tempo, name=name,
                tracks=tuple(tracks), source=midi)


def _note(onset: int, offset: int, pitch: int, velocity: int, ticks_per_beat: int) -> ClipNote:
    duration = max(offset - onset, 1) / ticks_per_beat
    return ClipNote(start=onset / ticks_per_beat, duration=duration, pitch=pitch,
                    velocity=max(1, velocity))


def _ticks(notes: Iterable[ClipNote], ticks_per_beat: int, *, start: int = 0,
           stop: int | None = None) -> list[smf.NewNote]:
    """Notes starting in ticks [start, stop), in ticks, ending by ``stop``."""
    out = []
    for note in notes:
        on = round(note.start * ticks_per_beat)
        if on < start or (stop is not None and on >= stop):
            continue
        off = max(on + 1, round(note.end * ticks_per_beat))
        out.append(smf.NewNote(on, off if stop is None else min(off, stop), note.pitch,
                               note.velocity))
    return out


def result_file(clip: Clip, task: str, notes: Sequence[ClipNote], *,
                bars: tuple[int, int] | None = None, track: int | None = None
                ) -> mido.MidiFile | None:
    """A result written into the file ``clip`` was read from (see the module docstring):
    for ``infill``, the notes of ``notes`` that start in ``bars`` (1-based, inclusive)
    replace those of track ``track`` (every track with notes when None; the new notes go
    to the one with the most, on its main channel); for ``accompany``, ``notes`` become
    a new track. None when the clip has no file or the task is another."""
    midi = clip.source
    if midi is None or task not in ("infill", "accompany"):
        return None
    tpb = midi.ticks_per_beat
    if task == "accompany":
        channel = smf.free_channel(midi)
        return smf.add_track(midi, name=ACCOMPANIMENT_TRACK, notes=_ticks(notes, tpb),
                             channel=0 if channel is None else channel)
    if bars is None:
        raise ValueError("an infill result needs its bars")
    start, stop = (bars[0] - 1) * BEATS_PER_BAR * tpb, bars[1] * BEATS_PER_BAR * tpb
    tracks = ([track] if track is not None
              else [i for i, t in enumerate(clip.tracks) if t.notes])
    into = max(tracks, key=lambda i: (len(clip.tracks[i].notes), -i))
    channel = smf.main_channel(smf.track_notes(midi.tracks[into]))
    if channel is None:
        free = smf.free_channel(midi)
        channel = 0 if free is None else free
    return smf.splice_notes(midi, tracks=set(tracks), start=start, stop=stop,
                            notes=_ticks(notes, tpb, start=start, stop=stop), into=into,
                            channel=channel).midi


def write_clip(
    path: str | os.PathLike[str],
    notes: Iterable[ClipNote],
    *,
    tempo: float = 120.0,
    track_name: str = "diffjam",
) -> None:
    """Write notes to a format-1 MIDI file (480 ticks per beat, 4/4, one note track)."""
    write_tracks(path, [(track_name, notes)], tempo=tempo)


def write_tracks(
    path: str | os.PathLike[str],
    tracks: Sequence[tuple[str, Iterable[ClipNote]]],
    *,
    tempo: float = 120.0,
    markers: Sequence[tuple[float, str]] = (),
) -> None:
    """Write ``(name, notes)`` tracks to a format-1 MIDI file (480 ticks per beat, 4/4),
    track k on channel k + 1 when there are several, with ``(beat, text)`` marker meta
    events in the conductor track."""
    midi = mido.MidiFile(type=1, ticks_per_beat=_TICKS_PER_BEAT)
    conductor = mido.MidiTrack(
        [
            mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo), time=0),
            mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0),
        ]
    )
    tick = 0
    for beat, text in sorted(markers):
        at = round(beat * _TICKS_PER_BEAT)
        conductor.append(mido.MetaMessage("marker", text=text, time=at - tick))
        tick = at
    midi.tracks.append(conductor)
    for channel, (name, notes) in enumerate(tracks):
        midi.tracks.append(_note_track(list(notes), track_name=name,
                                       channel=channel if len(tracks) > 1 else 0))
    midi.save(os.fspath(path))


def _note_track(notes: Sequence[ClipNote], *, track_name: str, channel: int = 0
                ) -> mido.MidiTrack:
    events: list[tuple[int, int, mido.Message]] = []
    for note in notes:
        on = round(note.start * _TICKS_PER_BEAT)
        off = max(on + 1, round(note.end * _TICKS_PER_BEAT))
        events.append((on, 1, mido.Message("note_on", note=note.pitch, velocity=note.velocity,
                                           channel=channel)))
        events.append((off, 0, mido.Message("note_off", note=note.pitch, velocity=0,
                                            channel=channel)))
    events.sort(key=lambda event: (event[0], event[1], event[2].note))
    track = mido.MidiTrack([mido.MetaMessage("track_name", name=track_name, time=0)])
    tick = 0
    for at, _order, message in events:
        track.append(message.copy(time=at - tick))
        tick = at
    return track
