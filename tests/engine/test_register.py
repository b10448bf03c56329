from __future__ import annotations

import numpy as np

from engine.pianoroll import PITCH_LOW, Note
from engine.register import (
    BASS_LINE,
    PIANO_CEILING,
    PIANO_FLOOR,
    bar_floors,
    bass_line_mask,
    bass_rows,
    below_melody_mask,
    chord_spans,
    context_register_mask,
    crossings,
    piano_register_mask,
)

MELODY = [Note(0, 67, 8), Note(8, 64, 12), Note(40, 72, 4)]  # 64 rings into bar 2


def test_each_bar_floor_is_its_lowest_sounding_melody_note() -> None:
    assert bar_floors(MELODY, 4).tolist() == [64, 64, 72, 128]


def test_the_mask_allows_only_pitches_under_the_floor() -> None:
    mask = below_melody_mask(MELODY, 64)
    assert mask.shape == (64, 80)
    assert mask[0, 63 - PITCH_LOW] and not mask[0, 64 - PITCH_LOW]
    assert mask[33, 71 - PITCH_LOW] and not mask[33, 72 - PITCH_LOW]
    assert np.all(mask[48:])  # no melody in bar 4: no floor


def test_crossings_count_new_notes_at_or_over_the_floor() -> None:
    notes = [Note(2, 60, 1), Note(3, 64, 1), Note(20, 70, 1), Note(34, 71, 1), Note(50, 100, 1)]
    assert crossings(notes, MELODY) == 2
    assert crossings(notes, []) == 0


def test_the_piano_register_runs_from_c2_to_the_melodys_top_note() -> None:
    melody = [Note(0, 72, 4, 90), Note(20, 79, 4, 90)]
    mask = piano_register_mask(melody, 32)
    allowed = {PITCH_LOW + int(p) for p in np.flatnonzero(mask[0])}
    assert allowed == set(range(PIANO_FLOOR, 80)) and (mask == mask[0]).all()
    low = {PITCH_LOW + int(p) for p in np.flatnonzero(piano_register_mask([Note(0, 50, 4, 90)],
                                                                             4)[0])}
    assert max(low) == 60  # a low "melody" still leaves up to middle C
    alone = {PITCH_LOW + int(p) for p in np.flatnonzero(piano_register_mask([], 4)[0])}
    assert alone == set(range(PIANO_FLOOR, PIANO_CEILING + 1))  # no melody: C2 to G5
    high = {PITCH_LOW + int(p) for p in np.flatnonzero(piano_register_mask([Note(0, 88, 4, 90)],
                                                                              4)[0])}
    assert max(high) == 88  # a melody above G5 still sets the ceiling


def test_the_context_register_spans_the_bars_near_the_gap_and_a_margin() -> None:
    far = Note(0, 30, 4)  # 7 bars before the gap: outside the 6 bars looked at
    near = [Note(7 * 16, 60, 4), Note(14 * 16, 72, 4)]
    mask = context_register_mask([far, *near], (8 * 16, 12 * 16), 4, margin=5)
    assert mask is not None and mask.shape[0] == 4
    allowed = np.flatnonzero(mask[0]) + PITCH_LOW
    assert allowed.min() == 55 and allowed.max() == 77 and (mask == mask[0]).all()
    assert context_register_mask([far], (8 * 16, 12 * 16), 4) is None  # nothing near


def test_under_the_bass_line_only_the_chords_bass_may_sound() -> None:
    bass = np.zeros((3, 12), dtype=np.float32)
    bass[0, 0] = 1.0  # C (or Am/C) sounds at step 0, A at step 1, no chord at step 2
    bass[1, 9] = 1.0
    mask = bass_line_mask(bass)
    allowed = [{PITCH_LOW + int(p) for p in np.flatnonzero(row)} for row in mask]
    low = set(range(PITCH_LOW, BASS_LINE))
    assert allowed[0] & low == {p for p in low if p % 12 == 0}       # C1, C2
    assert allowed[1] & low == {p for p in low if p % 12 == 9}       # A1
    assert allowed[2] >= low                                         # no chord: any
    assert all(row >= set(range(BASS_LINE, PITCH_LOW + len(mask[0]))) for row in allowed)


def test_chord_spans_number_each_change_of_chord_and_bass_rows_free_chordless_steps() -> None:
    chroma, bass = np.zeros((6, 12)), np.zeros((6, 12))
    chroma[:2, [0, 4, 7]] = 1.0   # C, C, C/E (the same tones, another bass), none, none, C
    chroma[2, [0, 4, 7]] = 1.0
    chroma[5, [0, 4, 7]] = 1.0
    bass[:2, 0] = bass[5, 0] = 1.0
    bass[2, 4] = 1.0
    assert chord_spans(chroma, bass).tolist() == [0, 0, 1, 2, 2, 3]
    rows = bass_rows(bass)
    assert {PITCH_LOW + int(p) for p in np.flatnonzero(rows[0])} == {
        p for p in range(PITCH_LOW, PITCH_LOW + rows.shape[1]) if p % 12 == 0}
    assert {(PITCH_LOW + int(p)) % 12 for p in np.flatnonzero(rows[2])} == {4}
    assert rows[3].all() and rows[4].all()  # no chord: every pitch

