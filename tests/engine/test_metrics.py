"""Metrics on hand-made clips whose answers are worked out in the comments."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine import metrics
from engine.harmony import ChordSpan, Key, parse_symbol
from engine.pianoroll import Note

PHI_MINUS_1 = 0.15865525393145707  # Φ(-1)
PHI_MINUS_2 = 0.022750131948179195  # Φ(-2)


def n(start: int, pitch: int, duration: int = 4) -> Note:
    return Note(start=start, pitch=pitch, duration=duration)


def span(start: int, duration: int, symbol: str) -> ChordSpan:
    return ChordSpan(start=start, duration=duration, chord=parse_symbol(symbol))


# ------------------------------------------------------------------- gaussian overlap


def test_identical_gaussians_overlap_fully() -> None:
    assert metrics.gaussian_overlap(60.0, 2.0, 60.0, 2.0) == pytest.approx(1.0)


def test_equal_sigmas_two_sigma_apart() -> None:
    # crossing at the midpoint, 1 sigma from each mean: OA = 2 Φ(-1)
    assert metrics.gaussian_overlap(0.0, 1.0, 2.0, 1.0) == pytest.approx(2 * PHI_MINUS_1)


def test_different_sigmas_matches_numerical_integration() -> None:
    # N(0, 1) vs N(0, 4): roots ±sqrt(8 ln 2 / 3); the value was also checked by
    # integrating min(f1, f2) on a 2-million-point grid (0.67732543115)
    root = math.sqrt(8 * math.log(2) / 3)
    phi = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731
    expected = (phi(root / 2) - phi(-root / 2)) + 1 - (phi(root) - phi(-root))
    assert metrics.gaussian_overlap(0.0, 1.0, 0.0, 2.0) == pytest.approx(expected)
    assert expected == pytest.approx(0.6773254311652315)


def test_overlap_is_symmetric() -> None:
    a = metrics.gaussian_overlap(60.0, 3.0, 64.0, 1.5)
    b = metrics.gaussian_overlap(64.0, 1.5, 60.0, 3.0)
    assert a == pytest.approx(b)
    assert a == pytest.approx(0.34266812907, abs=1e-9)


def test_point_masses() -> None:
    assert metrics.gaussian_overlap(60.0, 0.0, 60.0, 0.0) == pytest.approx(1.0)
    assert metrics.gaussian_overlap(60.0, 0.0, 61.0, 0.0) == pytest.approx(0.0)


# --------------------------------------------------------------- framewise overlap


def _two_pitch_bars(pitches_per_bar: list[tuple[int, int]]) -> list[Note]:
    return [n(16 * bar + 8 * i, p) for bar, pair in enumerate(pitches_per_bar)
            for i, p in enumerate(pair)]


def test_framewise_overlap_of_constant_material_is_one() -> None:
    notes = _two_pitch_bars([(60, 62)] * 8)
    oa = metrics.framewise_overlap(notes, n_bars=8, feature="pitch")
    assert oa == pytest.approx([1.0, 1.0])  # frames at bars 0, 2, 4 -> two pairs


def test_framewise_overlap_with_a_shift() -> None:
    # 2-bar frames, 2-bar hop: frames 0, 1 hold {60, 62} (mean 61, sd 1), frames 2, 3 hold
    # {64, 66} (mean 65, sd 1): the middle pair is 4 sd apart, OA = 2 Φ(-2)
    notes = _two_pitch_bars([(60, 62)] * 4 + [(64, 66)] * 4)
    oa = metrics.framewise_overlap(notes, n_bars=8, feature="pitch", frame_bars=2, hop_bars=2)
    assert oa == pytest.approx([1.0, 2 * PHI_MINUS_2, 1.0])


def test_framewise_overlap_duration_and_empty_frames() -> None:
    notes = [n(0, 60, 2), n(8, 60, 4), n(16, 60, 2), n(24, 60, 4)]  # bars 0, 1 only
    oa = metrics.framewise_overlap(notes, n_bars=8, feature="duration", frame_bars=1,
                                   hop_bars=1)
    assert oa == pytest.approx([1.0])  # bars 2..7 are empty: no further pairs
    with pytest.raises(ValueError, match="feature"):
        metrics.framewise_overlap(notes, n_bars=8, feature="velocity")


def test_consistency_and_variance() -> None:
    # gen: mean 0.6, var 0.01; gt: mean 0.6, var 0.04 -> C = 1, V = 1 - 0.03 / 0.04
    score = metrics.consistency_variance([0.5, 0.7], [0.4, 0.8])
    assert score.consistency == pytest.approx(1.0)
    assert score.variance == pytest.approx(0.25)
    # gen mean 0.9 vs gt mean 0.6: C = 1 - 0.3 / 0.6; var 0 vs 0.04: V = 0
    score = metrics.consistency_variance([0.9, 0.9], [0.4, 0.8])
    assert score.consistency == pytest.approx(0.5)
    assert score.variance == pytest.approx(0.0)
    assert math.isnan(metrics.consistency_variance([], [0.5]).consistency)


# --------------------------------------------------------------------------- keys


def test_out_of_key_step_rate_counts_sounding_steps() -> None:
    c_major = Key(0, "major").scale_mask()
    notes = [n(0, 60, 4), n(2, 61, 4)]  # C# sounds on steps 2..5
    assert metrics.out_of_key_step_rate(notes, c_major, n_steps=16) == pytest.approx(4 / 16)
    assert metrics.out_of_key_step_rate([], c_major, n_steps=16) == 0.0


def test_out_of_key_step_rate_follows_key_changes() -> None:
    mask = metrics.key_mask_per_step([(0, Key(0, "major")), (8, Key(2, "major"))], 16)
    assert mask.shape == (16, 12)
    assert not mask[7, 1] and mask[8, 1]  # C# enters with D major
    notes = [n(0, 61, 16)]
    assert metrics.out_of_key_step_rate(notes, mask, n_steps=16) == pytest.approx(0.5)


def test_out_of_key_note_rate() -> None:
    c_major = Key(0, "major").scale_mask()
    notes = [n(0, 60), n(4, 61), n(8, 62), n(12, 63)]
    assert metrics.out_of_key_note_rate(notes, c_major, n_steps=16) == pytest.approx(0.5)
    assert math.isnan(metrics.out_of_key_note_rate([], c_major, n_steps=16))


def test_best_key_rate_finds_a_fitting_key() -> None:
    notes = [n(0, 55, 16), n(0, 59, 16), n(0, 62, 16), n(0, 66, 16)]  # G B D F#
    assert metrics.best_key_out_of_key_step_rate(notes, n_steps=16) == 0.0
    chromatic = [n(0, 60 + i, 16) for i in range(12)]
    assert metrics.best_key_out_of_key_step_rate(chromatic, n_steps=16) == 1.0


# ------------------------------------------------------------------------- chords


def test_chord_accuracy_half_right() -> None:
    chords = [span(0, 16, "C"), span(16, 16, "G")]
    notes = [n(0, p, 16) for p in (60, 64, 67)] + [n(16, p, 16) for p in (57, 60, 64)]  # Am
    assert metrics.chord_accuracy(notes, chords, start=0, stop=32) == pytest.approx(0.5)


def test_chord_accuracy_skips_no_chord_and_clips_to_window() -> None:
    chords = [span(0, 16, "N"), span(16, 16, "Cmaj7")]
    notes = [n(16, p, 16) for p in (60, 64, 67, 71)]
    assert metrics.chord_accuracy(notes, chords, start=0, stop=32) == pytest.approx(1.0)
    assert math.isnan(metrics.chord_accuracy(notes, chords, start=0, stop=16))


def test_chord_similarity() -> None:
    c = [span(0, 16, "C")]
    triad = [n(0, p, 16) for p in (60, 64, 67)]
    assert metrics.chord_similarity(triad, c, start=0, stop=16) == pytest.approx(1.0)
    root_only = [n(0, 48, 16)]
    assert metrics.chord_similarity(root_only, c, start=0, stop=16) == pytest.approx(
        1 / math.sqrt(3))
    # duration weighted: a perfect bar and a silent bar
    two = [span(0, 16, "C"), span(16, 16, "G")]
    assert metrics.chord_similarity(triad, two, start=0, stop=32) == pytest.approx(0.5)


# ----------------------------------------------------------------------- pitch stats


def test_pitch_statistics() -> None:
    notes = [n(0, 60), n(4, 72), n(8, 64), n(12, 60)]
    assert metrics.pitch_class_count(notes) == 2
    assert metrics.unique_pitches(notes) == 3
    assert metrics.pitch_range(notes) == 12
    assert metrics.pitch_range([]) == 0


# ---------------------------------------------------------------------- structure


def test_structureness_of_a_repeated_two_bar_pattern_is_one() -> None:
    pattern = [n(0, 60), n(4, 64), n(8, 67), n(16, 65, 8), n(24, 62, 8)]
    notes = [Note(start=x.start + 32 * k, pitch=x.pitch, duration=x.duration)
             for k in range(4) for x in pattern]
    assert metrics.structureness(notes, n_bars=8) == pytest.approx(1.0)


def test_structureness_without_repetition_is_zero() -> None:
    notes = [n(16 * bar, 48 + 5 * bar, 16) for bar in range(8)]  # 8 different pitches
    assert metrics.structureness(notes, n_bars=8) == pytest.approx(0.0)


def test_structureness_partial_repetition() -> None:
    # bars 0-3 repeat in bars 4-7 at lag 4 bars except bar 7 (silent):
    # diagonal at lag 16 beats has 16 entries, 12 of them 1 -> 0.75
    bars = [60, 62, 64, 65]
    notes = [n(16 * b, bars[b % 4], 16) for b in range(7)]
    assert metrics.structureness(notes, n_bars=8) == pytest.approx(0.75)


# ------------------------------------------------------------------------ texture


def test_note_density_and_polyphony() -> None:
    notes = [n(0, 60, 4), n(2, 64, 4)]
    assert metrics.note_density(notes, start_bar=0, stop_bar=2) == pytest.approx(1.0)
    # counts 1, 1, 2, 2, 1, 1 on steps 0..5, silence afterwards is not counted
    assert metrics.polyphony(notes, start=0, stop=16) == pytest.approx(8 / 6)
    assert math.isnan(metrics.polyphony([], start=0, stop=16))


def test_seam_jump() -> None:
    notes = [n(16, 60), n(20, 64), n(32, 72)]  # bar 1: 60, 64; bar 2: 72
    jump = metrics.seam_jump(notes, border_bar=2)
    assert jump.pitch_centroid == pytest.approx(10.0)
    assert jump.onset_density == pytest.approx(1.0)
    empty_side = metrics.seam_jump(notes, border_bar=1)
    assert math.isnan(empty_side.pitch_centroid)
    assert empty_side.onset_density == pytest.approx(2.0)
    assert metrics.seam_jump(iter(notes), border_bar=2) == jump  # one pass over iterators


def test_key_mask_needs_a_key() -> None:
    with pytest.raises(ValueError, match="key"):
        metrics.key_mask_per_step([], 16)
    mask = metrics.key_mask_per_step([(0, Key(9, "minor"))], 4)
    assert np.array_equal(mask[0], Key(0, "major").scale_mask())  # A minor = C major set
