"""Notes of a MIDI track as pairs of events, in ticks.

Pairing rule (the only one in diffjam): a note-on with velocity 0 is a note-off. When one
pitch is struck again on the same channel before it is released, the note-offs close the
open notes first in, first out. A note-off with no open note belongs to no note. A note
still open at the end of its track ends on the track's last tick and has no note-off.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass

import mido

__all__ = ["DRUM_CHANNEL", "TickNote", "absolute_ticks", "free_channel", "main_channel",
           "track_notes"]

# General MIDI's percussion channel (channel 10, 0-based 9): its note numbers are drum
# sounds, not pitches, so diffjam never shows them to the model nor replaces them.
DRUM_CHANNEL = 9


@dataclass(frozen=True, order=True)
class TickNote:
    """One note of a track: ``start`` and ``end`` in ticks (end >= start), the channel
    0..15, and the indices of its note-on and note-off messages in the track (``off`` is
    None for a note left open at the end of the track)."""

    start: int
    end: int
    pitch: int
    velocity: int
    channel: int
    on: int
    off: int | None


def absolute_ticks(track: Sequence[mido.Message]) -> list[int]:
    """The absolute tick of every message of a track (delta times summed)."""
    ticks = []
    tick = 0
    for msg in track:
        tick += msg.time
        ticks.append(tick)
    return ticks


def _is_off(msg: mido.Message) -> bool:
    return msg.type == "note_off" or (msg.type == "note_on" and msg.velocity == 0)


def track_notes(track: Sequence[mido.Message]) -> list[TickNote]:
    """Every note of a track, sorted by start, end, pitch, velocity and channel."""
    open_notes: dict[tuple[int, int], deque[tuple[int, int, int]]] = defaultdict(deque)
    notes: list[TickNote] = []
    tick = 0
    for index, msg in enumerate(track):
        tick += msg.time
        if msg.type == "note_on" and msg.velocity > 0:
            open_notes[(msg.channel, msg.note)].append((tick, msg.velocity, index))
        elif _is_off(msg):
            queue = open_notes.get((msg.channel, msg.note))
            if queue:
                start, velocity, on = queue.popleft()
                notes.append(TickNote(start, tick, msg.note, velocity, msg.channel, on, index))
    for (channel, pitch), queue in open_notes.items():
        for start, velocity, on in queue:
            notes.append(TickNote(start, max(tick, start), pitch, velocity, channel, on, None))
    notes.sort(key=lambda n: (n.start, n.end, n.pitch, n.velocity, n.channel))
    return notes


def main_channel(notes: Sequence[TickNote]) -> int | None:
    """The channel most of ``notes`` are on that is not the drums' (the lowest on a tie);
    None when there is none."""
    counts: dict[int, int] = {}
    for note in notes:
        if note.channel != DRUM_CHANNEL:
            counts[note.channel] = counts.get(note.channel, 0) + 1
    return min(counts, key=lambda c: (-counts[c], c)) if counts else None


def free_channel(midi: mido.MidiFile) -> int | None:
    """The lowest channel, not the drums', that no message of ``midi`` uses; None when
    every one is in use."""
    used = {msg.channel for track in midi.tracks for msg in track if hasattr(msg, "channel")}
    return next((c for c in range(16) if c != DRUM_CHANNEL and c not in used), None)
