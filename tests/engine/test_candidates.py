import math

import pytest

from engine.candidates import DENSITY_WEIGHT, choose, chord_fit, line_fit
from engine.harmony import parse_progression
from engine.pianoroll import Note


def triads(pitches_by_bar, n_bars=4):
    return [Note(bar * 16 + beat * 4, p, 4, 80)
            for bar in range(n_bars) for beat in range(4) for p in pitches_by_bar[bar]]


def test_chord_fit_prefers_notes_that_play_the_requested_chords():
    chords = parse_progression("C G Am F")
    right = triads([(48, 52, 55), (43, 47, 50), (45, 48, 52), (41, 45, 48)])
    half = triads([(48, 52, 55), (43, 47, 50), (48, 52, 55), (48, 52, 55)])
    wrong = triads([(49, 53, 56)] * 4)
    score = chord_fit(chords, start=0, stop=64)
    assert score(right)[0] == 1.0 and score(half)[0] == 0.5 and score(wrong)[0] == 0.0
    assert score(right) > score(half) > score(wrong)
    assert score([]) == (0.0, 0.0, 0.0)  # a silent candidate scores lowest, no NaN
    assert chord_fit(chords, start=0, stop=64)(half[:12])[0] == pytest.approx(0.25)  # bar 1 only
    # only the requested steps count: bars 3-4 alone, where ``half`` misses both chords
    assert chord_fit(chords, start=32, stop=64)(half)[0] == 0.0
    assert chord_fit(parse_progression("N"), start=0, stop=16) is None
    assert chord_fit(chords, start=64, stop=80) is None  # nothing sounds there


def test_line_fit_prefers_a_gap_that_keeps_the_melody_register_and_the_density():
    context = [Note(bar * 16, 72, 16, 90) for bar in (0, 1, 4, 5)]
    context += [Note(bar * 16, 48, 16, 70) for bar in (0, 1, 4, 5)]  # 2 notes a bar
    score = line_fit(context, start_bar=2, stop_bar=4)
    melody = [Note(32, 74, 16, 90), Note(48, 71, 16, 90), Note(32, 48, 16, 70),
              Note(48, 48, 16, 70)]
    chords_only = [Note(32, 48, 16, 70), Note(32, 52, 16, 70),  # the melody dropped
                   Note(48, 48, 16, 70), Note(48, 52, 16, 70)]
    assert score(melody) == (-0.5,)  # 2 notes a bar, top line 72.5 against 72
    assert score(chords_only) == (-20.0,)
    sparse = [Note(32, 74, 16, 90), Note(48, 71, 16, 90)]  # the same line, 1 note a bar
    assert score(sparse) == pytest.approx((-0.5 - DENSITY_WEIGHT * math.log(2),))
    crowded = melody + [Note(36 + i, 60, 2, 70) for i in range(0, 12, 2)]  # 5 a bar
    assert score(crowded) == pytest.approx((-0.5 - DENSITY_WEIGHT * math.log(2.5),))
    assert score(melody) > score(sparse) > score(crowded)
    assert score([]) == (-math.inf,)
    assert score(melody + [Note(0, 20, 4, 1)]) == score(melody)  # notes outside the gap
    assert line_fit([Note(0, 60, 4, 80)], start_bar=4, stop_bar=6) is None  # nothing near


def test_choose_keeps_the_best_of_each_variation_and_the_first_of_equals():
    candidates = [[1], [3], [3], [2], [0], [5]]
    best, scores = choose(candidates, lambda c: (float(c[0]),), groups=2)
    assert best == [1, 5] and scores[1] == (3.0,)
    assert choose(candidates, lambda c: (0.0,), groups=3)[0] == [0, 2, 4]
