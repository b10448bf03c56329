"""Keeping an accompaniment under its melody, and in the piano's register.

The *floor* of a bar is the lowest melody note sounding in it (any part of the note
inside the bar). An accompaniment note *crosses* the melody when its pitch is at or
above the floor of the bar it starts in; bars without melody have no floor.
:func:`below_melody_mask` gives the pitches a sampler may use so that no new note can
cross (the pipeline applies it with the in-key projection,
:class:`engine.guidance.InKeyProjection`); :func:`crossings` counts the notes that do.
:func:`piano_register_mask` is the looser default of an accompaniment: between C2 and the
melody's highest note, or G5 without a melody.

Units: 16th steps from the clip start, bars of 16 steps (4/4).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from engine.pianoroll import N_PITCHES, PITCH_LOW, STEPS_PER_BAR, Note

__all__ = ["BASS_LINE", "CONTEXT_REGISTER_BARS", "CONTEXT_REGISTER_MARGIN", "PIANO_CEILING",
           "PIANO_FLOOR", "bar_floors", "bass_line_mask", "bass_rows", "below_melody_mask",
           "chord_spans", "context_register_mask", "crossings", "piano_register_mask"]

# The lowest pitch of an accompaniment kept to the piano's register (C2). The real piano
# parts of the 88 valid accompaniment windows put 0.1 % of their notes below it, and none
# above the highest note of their melody (the 99th percentile of a note's height over it
# is 0 semitones); the shipped student put 2.9 % below it and 1.7 % more than an octave
# above the melody (docs/model-card.md).
PIANO_FLOOR = 36
# The highest pitch of an accompaniment without a melody (G5), which has no melody's top
# note to stay under: 99.6 % of the real piano parts' notes of the train split lie at or
# under it (0.18 % above C6), and it is about where a melody would put the ceiling (the
# median of an 8-bar window's highest melody note there: F#5). Measured in
# docs/model-card.md ("An accompaniment without a melody").
PIANO_CEILING = 79
MIDDLE_C = 60
# Under this pitch (G2) an accompaniment kept to the piano's register sounds only the bass
# of the chord sounding (its root, or the slash chord's bass): 95.2 % of the real piano
# parts' notes under G2 in the train split are (90.7 % under A2, 82.0 % under C3), where
# the student's accompaniments, held only to the chord's tones, put 66.9 % of theirs
# (docs/model-card.md, "The bass under G2").
BASS_LINE = 43
# An infill's new notes stay within CONTEXT_REGISTER_MARGIN semitones of the pitch range
# of the notes starting within CONTEXT_REGISTER_BARS bars of the gap: the real gaps of
# the valid split (4 bars inside 16) put 0.06 % of their notes outside it, 0.4 % at a
# margin of 3, 1.0 % at 0 (engine.pipeline.REGISTER_BY_TASK).
CONTEXT_REGISTER_BARS = 6
CONTEXT_REGISTER_MARGIN = 5


def bar_floors(melody: Iterable[Note], n_bars: int) -> np.ndarray:
    """int64 (n_bars,): the lowest melody pitch sounding in each bar, 128 where none."""
    floors = np.full(n_bars, 128, dtype=np.int64)
    for note in melody:
        first = note.start // STEPS_PER_BAR
        last = min((note.end - 1) // STEPS_PER_BAR, n_bars - 1)
        if first < n_bars:
            floors[first:last + 1] = np.minimum(floors[first:last + 1], note.pitch)
    return floors


def below_melody_mask(melody: Sequence[Note], n_steps: int) -> np.ndarray:
    """bool (n_steps, N_PITCHES): True where the roll's pitch lies below the floor of the
    step's bar."""
    n_bars = -(-n_steps // STEPS_PER_BAR)
    floors = np.repeat(bar_floors(melody, n_bars), STEPS_PER_BAR)[:n_steps]
    pitches = np.arange(N_PITCHES) + PITCH_LOW
    return pitches[None, :] < floors[:, None]


def crossings(notes: Iterable[Note], melody: Sequence[Note]) -> int:
    """How many of ``notes`` cross the melody (start at or above their bar's floor)."""
    notes = list(notes)
    if not notes or not melody:
        return 0
    n_bars = max(n.start for n in notes) // STEPS_PER_BAR + 1
    floors = bar_floors(melody, n_bars)
    return sum(note.pitch >= floors[note.start // STEPS_PER_BAR] for note in notes)


def piano_register_mask(melody: Sequence[Note], n_steps: int) -> np.ndarray:
    """bool (n_steps, N_PITCHES): the pitches of the piano's register under ``melody``:
    from :data:`PIANO_FLOOR` up to the melody's highest note, and at least up to middle C
    (a low "melody" leaves two octaves); without a melody up to :data:`PIANO_CEILING`.
    Unlike :func:`below_melody_mask` the accompaniment may still sound among the melody's
    notes, as real piano parts do."""
    pitches = np.arange(N_PITCHES) + PITCH_LOW
    top = max((note.pitch for note in melody), default=PIANO_CEILING)
    row = (pitches >= PIANO_FLOOR) & (pitches <= max(top, MIDDLE_C))
    return np.repeat(row[None, :], n_steps, axis=0)


def bass_rows(bass: np.ndarray) -> np.ndarray:
    """bool (n_steps, N_PITCHES): the pitches on the bass of the chord sounding at each
    step (``bass``: one-hot (n_steps, 12), all zero where no chord sounds), every pitch
    where none sounds."""
    pitches = np.arange(N_PITCHES) + PITCH_LOW
    return (bass[:, pitches % 12] > 0) | ~bass.any(axis=1, keepdims=True)


def bass_line_mask(bass: np.ndarray) -> np.ndarray:
    """bool (n_steps, N_PITCHES): the pitches an accompaniment may sound under the chords
    whose bass is ``bass`` (as :func:`bass_rows`): at and above :data:`BASS_LINE` any, under
    it only the step's bass pitch class (any where no chord sounds)."""
    pitches = np.arange(N_PITCHES) + PITCH_LOW
    return (pitches >= BASS_LINE)[None, :] | bass_rows(bass)


def chord_spans(chroma: np.ndarray, bass: np.ndarray) -> np.ndarray:
    """int64 (n_steps,): each step's chord span, numbered from 0: a new span starts where
    the chord (``chroma`` and ``bass``, each (n_steps, 12)) changes, "no chord" included."""
    chord = np.concatenate([chroma, bass], axis=1)
    changes = np.any(chord[1:] != chord[:-1], axis=1)
    return np.concatenate([[0], np.cumsum(changes)]).astype(np.int64)


def context_register_mask(context: Sequence[Note], gap: tuple[int, int], n_steps: int, *,
                          bars: int = CONTEXT_REGISTER_BARS,
                          margin: int = CONTEXT_REGISTER_MARGIN) -> np.ndarray | None:
    """bool (n_steps, N_PITCHES): the pitches of the register around an infill gap
    (``gap`` = (first, stop) steps): from ``margin`` semitones under the lowest to
    ``margin`` over the highest note of ``context`` starting within ``bars`` bars of it;
    None when no note does (nothing to keep to)."""
    lo, hi = gap[0] - bars * STEPS_PER_BAR, gap[1] + bars * STEPS_PER_BAR
    near = [note.pitch for note in context if lo <= note.start < hi]
    if not near:
        return None
    pitches = np.arange(N_PITCHES) + PITCH_LOW
    row = (pitches >= min(near) - margin) & (pitches <= max(near) + margin)
    return np.repeat(row[None, :], n_steps, axis=0)
