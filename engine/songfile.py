"""A generated song (:class:`engine.song.Song`) as notes and as a MIDI file.

The song's chords become notes once, here: :func:`chord_notes` voices each chord span as
a block chord, its bass note in E2..D#3 (MIDI 40..51) and its other pitch classes in the
octave G3..F#4 (55..66) above it, held for the whole span; ``N`` (no chord) sounds
nothing. ``diffjam song`` writes them to the "Chords" track and the OSC server sends them
as the song's ``chords`` part, so every front end hears the same chords.

:func:`write_song` makes the song's file: format 1, the song's tempo and 4/4, a marker
meta event with the phrase's letter at the start of every phrase, and three named tracks
on their own channels: "Melody" (1), "Chords" (2) and "Accompaniment" (3).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, BinaryIO

from engine.harmony import ChordSpan
from engine.midifile import write_midi
from engine.pianoroll import STEPS_PER_BAR, Note
from wire.form import Phrase

if TYPE_CHECKING:  # engine.song holds the cascade (torch); a song's file needs none of it
    from engine.song import Song

__all__ = [
    "BASS_LOW",
    "CHORD_VELOCITY",
    "TONES_LOW",
    "TRACK_NAMES",
    "chord_notes",
    "phrase_markers",
    "write_song",
]

BASS_LOW = 40  # E2: the bass note of a block chord lies in BASS_LOW..BASS_LOW + 11
TONES_LOW = 55  # G3: the chord's other tones lie in TONES_LOW..TONES_LOW + 11
CHORD_VELOCITY = 72
TRACK_NAMES = ("Melody", "Chords", "Accompaniment")


def chord_notes(spans: Sequence[ChordSpan], *, velocity: int = CHORD_VELOCITY
                ) -> tuple[Note, ...]:
    """Each span as one block chord (see the module docstring), sorted."""
    notes: list[Note] = []
    for span in spans:
        chord = span.chord
        if chord.root is None:
            continue
        bass = chord.root if chord.bass is None else chord.bass
        pitches = {BASS_LOW + (bass - BASS_LOW) % 12}
        pitches |= {TONES_LOW + (pc - TONES_LOW) % 12
                    for pc in range(12) if chord.chroma[pc] and pc != bass}
        notes += [Note(start=span.start, pitch=pitch, duration=span.duration,
                       velocity=velocity) for pitch in pitches]
    return tuple(sorted(notes))


def phrase_markers(phrases: Sequence[Phrase]) -> list[tuple[int, str]]:
    """``(step, letter)`` at the start of every phrase (the phrases follow each other)."""
    markers, bar = [], 0
    for phrase in phrases:
        markers.append((bar * STEPS_PER_BAR, phrase.letter))
        bar += phrase.bars
    return markers


def write_song(path: str | os.PathLike[str] | BinaryIO, song: Song) -> None:
    """Write ``song`` as the module docstring says (raises MidiFileError)."""
    parts = (song.melody, chord_notes(song.chords), song.accompaniment)
    write_midi(path, list(zip(TRACK_NAMES, parts, strict=True)), bpm=song.tempo,
               channels=(0, 1, 2), markers=phrase_markers(song.phrases))
