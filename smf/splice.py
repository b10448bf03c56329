"""Replacing the notes of some bars of a MIDI file, and nothing else.

:func:`splice_notes` is how diffjam writes an infill back into the user's file:

1. On the chosen tracks, every note that *starts* in the tick range [start, stop) is
   removed: its note-on and its note-off, wherever that lies (a replaced note held past
   the range loses its note-off after the range too). Drum notes (channel 10) stay.
2. Every other event is kept as it was, at its tick and in its order: notes that start
   before the range and are held into it, the notes of every other track, controllers
   (the sustain pedal included, also inside the range: the new notes play under the
   player's pedal), program changes, pitch bend, aftertouch, sysex and every meta event
   (track names, tempo map, time signatures, markers). Ticks per beat and the file's
   type are kept.
3. The new notes (in ticks, inside the range) go to one track on one channel:
   a. at one pitch, a new note ends where the next new one starts;
   b. a new note never sounds together with a kept note of the same key (channel and
      pitch, on any track: a synth plays both as one key): one that would start while
      a kept note sounds is left out, one that would still sound when a kept note
      starts ends there.
4. Ordering at equal ticks: a new note-off comes before the kept events of its tick, a
   new note-on after them; a track's end moves later only if a new note ends after it.
   Note-offs are written as the track writes them (note-on velocity 0 if that is all it
   uses, as POP909 does; else note-off).

Times are in ticks of the file (``midi.ticks_per_beat`` a quarter note).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

import mido

from smf.notes import DRUM_CHANNEL, TickNote, absolute_ticks, track_notes

__all__ = ["NewNote", "Splice", "add_track", "apply_groove", "groove_offsets",
           "splice_notes"]

STEPS_PER_BEAT = 4  # groove positions: the four 16ths of a beat


@dataclass(frozen=True, order=True)
class NewNote:
    """A note to write: ``start`` < ``end`` in ticks, pitch 0..127, velocity 1..127."""

    start: int
    end: int
    pitch: int
    velocity: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError(f"a new note needs 0 <= start < end, got {self.start}..{self.end}")
        if not 0 <= self.pitch <= 127:
            raise ValueError(f"pitch {self.pitch} is outside 0..127")
        if not 1 <= self.velocity <= 127:
            raise ValueError(f"velocity {self.velocity} is outside 1..127")


@dataclass(frozen=True)
class Splice:
    """The edited file and what changed: notes removed and added, new notes left out or
    shortened by rule 3b."""

    midi: mido.MidiFile
    removed: int
    added: int
    left_out: int
    shortened: int


def _apart(notes: Iterable[NewNote]) -> list[NewNote]:
    """Rule 3a: at one pitch each new note ends by the next one's start."""
    by_pitch: dict[int, list[NewNote]] = defaultdict(list)
    for note in sorted(notes):
        by_pitch[note.pitch].append(note)
    out = []
    for row in by_pitch.values():
        for note, following in zip(row, [*row[1:], None], strict=True):
            if following is not None and following.start <= note.start:
                continue  # two new notes on one tick and key: the later in order wins
            if following is not None and note.end > following.start:
                note = NewNote(note.start, following.start, note.pitch, note.velocity)
            out.append(note)
    return sorted(out)


def _off_style(track: Sequence[mido.Message]) -> str:
    offs = [m for m in track if m.type == "note_off" or (m.type == "note_on" and m.velocity == 0)]
    return "note_on" if offs and all(m.type == "note_on" for m in offs) else "note_off"


def _merge(track: Sequence[mido.Message], drop: set[int], notes: Sequence[NewNote],
           channel: int) -> mido.MidiTrack:
    """Rule 4: the kept messages of ``track`` with the new notes' messages merged in."""
    off_type = _off_style(track)
    kept = [(tick, msg) for index, (tick, msg) in enumerate(zip(absolute_ticks(track), track,
                                                                   strict=True))
            if index not in drop]
    end_of_track = None
    if kept and kept[-1][1].type == "end_of_track":
        end_of_track = kept.pop()
    # (tick, rank, pitch, message): rank 0 = new off (before kept), 2 = new on (after kept)
    new = []
    for note in notes:
        new.append((note.start, 2, note.pitch, mido.Message(
            "note_on", channel=channel, note=note.pitch, velocity=note.velocity)))
        new.append((note.end, 0, note.pitch, mido.Message(
            off_type, channel=channel, note=note.pitch, velocity=0)))
    new.sort(key=lambda e: e[:3])
    merged: list[tuple[int, mido.Message]] = []
    i = 0
    for tick, msg in kept:
        while i < len(new) and (new[i][0] < tick or (new[i][0] == tick and new[i][1] == 0)):
            merged.append((new[i][0], new[i][3]))
            i += 1
        merged.append((tick, msg))
    merged.extend((tick, msg) for tick, _rank, _pitch, msg in new[i:])
    if end_of_track is not None:
        last = merged[-1][0] if merged else 0
        merged.append((max(end_of_track[0], last), end_of_track[1]))
    out = mido.MidiTrack()
    now = 0
    for tick, msg in merged:
        out.append(msg.copy(time=tick - now))
        now = tick
    return out


def _copy(midi: mido.MidiFile, tracks: list[mido.MidiTrack], *, type_: int | None = None
          ) -> mido.MidiFile:
    out = mido.MidiFile(type=midi.type if type_ is None else type_,
                        ticks_per_beat=midi.ticks_per_beat, charset=midi.charset)
    out.tracks.extend(tracks)
    return out


def _place(notes: Iterable[NewNote], kept_on_key: Mapping[int, Sequence[tuple[int, int]]]
           ) -> tuple[list[NewNote], int, int]:
    """Rule 3: the new notes that fit beside the kept notes of their key (``kept_on_key``:
    pitch -> (start, end) ticks), with how many were left out and how many shortened."""
    placed: list[NewNote] = []
    left_out = shortened = 0
    for note in notes:
        spans = kept_on_key.get(note.pitch, ())
        if any(s <= note.start < e for s, e in spans):
            left_out += 1
            continue
        end = min([note.end, *(s for s, _ in spans if note.start < s < note.end)])
        if end < note.end:
            shortened += 1
            note = NewNote(note.start, end, note.pitch, note.velocity)
        placed.append(note)
    return placed, left_out, shortened


def splice_notes(midi: mido.MidiFile, *, tracks: Collection[int], start: int, stop: int,
                 notes: Sequence[NewNote], into: int, channel: int) -> Splice:
    """A copy of ``midi`` whose notes starting in ticks [start, stop) on ``tracks`` are
    replaced by ``notes``, written on track ``into`` and ``channel`` (0..15), following
    the module docstring's rules. ``midi`` itself is not changed."""
    if not 0 <= start < stop:
        raise ValueError(f"the tick range needs 0 <= start < stop, got {start}..{stop}")
    if not 0 <= into < len(midi.tracks):
        raise ValueError(f"track {into} is not one of the file's {len(midi.tracks)} tracks")
    if not 0 <= channel <= 15:
        raise ValueError(f"channel must be 0..15, got {channel}")
    for new in notes:
        if new.start < start or new.end > stop:
            raise ValueError(f"new note {new} lies outside the ticks {start}..{stop}")
    # 1.
    drop: dict[int, set[int]] = defaultdict(set)
    kept_on_key: dict[int, list[tuple[int, int]]] = defaultdict(list)  # pitch -> spans
    removed = 0
    for index, track in enumerate(midi.tracks):
        for note in track_notes(track):
            if (index in tracks and start <= note.start < stop
                    and note.channel != DRUM_CHANNEL):
                drop[index].update(i for i in (note.on, note.off) if i is not None)
                removed += 1
            elif note.channel == channel:
                kept_on_key[note.pitch].append((note.start, note.end))
    # 3.
    placed, left_out, shortened = _place(_apart(notes), kept_on_key)
    # 2. + 4.
    out_tracks = []
    for index, track in enumerate(midi.tracks):
        if index == into:
            out_tracks.append(_merge(track, drop[index], placed, channel))
        elif drop.get(index):
            out_tracks.append(_merge(track, drop[index], (), channel))
        else:
            out_tracks.append(mido.MidiTrack(track))
    return Splice(midi=_copy(midi, out_tracks), removed=removed, added=len(placed),
                  left_out=left_out, shortened=shortened)


def add_track(midi: mido.MidiFile, *, name: str, notes: Sequence[NewNote], channel: int,
              program: int = 0) -> mido.MidiFile:
    """A copy of ``midi`` with one more track: ``name``, a program change to ``program``
    at tick 0 on ``channel``, and ``notes`` (rule 3a applies). A format-0 file becomes
    format 1 (its one track unchanged). ``midi`` itself is not changed."""
    if not 0 <= channel <= 15:
        raise ValueError(f"channel must be 0..15, got {channel}")
    head = mido.MidiTrack([
        mido.MetaMessage("track_name", name=name, time=0),
        mido.Message("program_change", channel=channel, program=program, time=0),
        mido.MetaMessage("end_of_track", time=0),
    ])
    track = _merge(head, set(), _apart(notes), channel)
    return _copy(midi, [*(mido.MidiTrack(t) for t in midi.tracks), track],
                 type_=max(midi.type, 1))


def groove_offsets(notes: Iterable[TickNote], *, ticks_per_beat: int, min_count: int = 4
                   ) -> tuple[int, ...]:
    """The context's timing feel: for each of the four 16th positions of a beat, the
    median offset in ticks of the note-ons from the nearest 16th (positive = late), from
    the notes given; a position with fewer than ``min_count`` notes gets 0."""
    offsets: dict[int, list[int]] = defaultdict(list)
    for note in notes:
        step = round(note.start * STEPS_PER_BEAT / ticks_per_beat)
        grid = round(step * ticks_per_beat / STEPS_PER_BEAT)
        offsets[step % STEPS_PER_BEAT].append(note.start - grid)
    return tuple(
        round(statistics.median(offsets[p])) if len(offsets[p]) >= min_count else 0
        for p in range(STEPS_PER_BEAT))


def apply_groove(notes: Iterable[NewNote], offsets: Sequence[int], *, ticks_per_beat: int,
                 start: int, stop: int) -> list[NewNote]:
    """Notes on the 16th grid moved by ``offsets`` (from :func:`groove_offsets`) by the
    position of their onset, their length kept; then held inside [start, stop)."""
    out = []
    for note in notes:
        step = round(note.start * STEPS_PER_BEAT / ticks_per_beat)
        shift = offsets[step % STEPS_PER_BEAT]
        begin = min(max(note.start + shift, start), stop - 1)
        end = min(max(note.end + shift, begin + 1), stop)
        out.append(NewNote(begin, end, note.pitch, note.velocity))
    return out
