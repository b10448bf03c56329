"""Metrics on hand-made clips whose answers are worked out in the comments."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine import metrics
from engine.harmony import ChordSpan, Key, parse_harte, parse_symbol
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
    # bars 0 and 1 hold durations {2, 4} (equal fits): OA 1; every later pair has an
    # empty frame and counts 0 instead of dropping out
    assert oa == pytest.approx([1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="feature"):
        metrics.framewise_overlap(notes, n_bars=8, feature="velocity")


def test_an_empty_frame_counts_as_zero_overlap() -> None:
    # 4-bar frames at bars 0, 2, 4: only frame 0 has onsets (bars 0-1), so both pairs
    # touch an empty frame; a silent clip gives OA 0 everywhere
    notes = _two_pitch_bars([(60, 62)] * 2)
    assert metrics.framewise_overlap(notes, n_bars=8, feature="pitch") == [0.0, 0.0]
    assert metrics.framewise_overlap([], n_bars=8, feature="pitch") == [0.0, 0.0]
    # so silence is penalised: OA mean 0 against a reference of mean 0.6 gives C = 0
    silent = metrics.consistency_variance([0.0, 0.0], [0.4, 0.8])
    assert silent.consistency == pytest.approx(0.0)


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


def test_variance_saturates_at_twice_the_reference() -> None:
    # V = max(0, 1 - |var - 0.04| / 0.04): 0.06 -> 0.5, 0.08 -> 0, 0.2 -> 0 (saturated)
    for var, expected in ((0.06, 0.5), (0.08, 0.0), (0.2, 0.0), (0.02, 0.5)):
        score = metrics.consistency_variance_from_moments(0.6, var, 0.6, 0.04)
        assert score.variance == pytest.approx(expected)
    assert math.isnan(metrics.consistency_variance_from_moments(
        math.nan, 0.1, 0.6, 0.04).consistency)


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


def test_sus4_label_is_right_when_its_own_notes_are_played() -> None:
    # C:sus4 = {C, F, G}, the set of F:sus2. Templates Csus4 and Fsus2 both match the
    # chroma with cosine 1; the bass C adds the 0.1 bonus to Csus4 on both sides (the
    # label's bass, the notes' lowest pitch), so C3 F3 G3 is right. Before the label was
    # read without its bass (-> F:sus2, root F) and this unit counted wrong.
    chords = [ChordSpan(start=0, duration=16, chord=parse_harte("C:sus4"))]
    notes = [n(0, p, 16) for p in (48, 53, 55)]
    assert metrics.chord_accuracy(notes, chords, start=0, stop=16) == pytest.approx(1.0)
    assert metrics.label_as_recognised(parse_harte("C:sus4")).harte() == "C:sus4"
    # the same pitch classes over F (F3 G3 C4) are F:sus2: root F, counted wrong
    over_f = [n(0, p, 16) for p in (53, 55, 60)]
    assert metrics.chord_accuracy(over_f, chords, start=0, stop=16) == pytest.approx(0.0)


def test_labels_with_a_bass_are_read_with_it() -> None:
    # C:maj6 over C = {C, E, G, A}: A:min7 matches with cosine 1, C major with
    # 3 / sqrt(12) + 0.1 bonus = 0.966: both sides read A:min7/C, so the notes count right
    for label, pitches in (("C:maj6", (48, 52, 55, 57)), ("C:sus4(b7)", (48, 53, 55, 58)),
                           ("C:maj/3", (52, 55, 60)), ("A:min7/b3", (48, 52, 55, 57))):
        chords = [ChordSpan(start=0, duration=16, chord=parse_harte(label))]
        notes = [n(0, p, 16) for p in pitches]
        assert metrics.chord_accuracy(notes, chords, start=0, stop=16) == 1.0, label
    assert metrics.label_as_recognised(parse_harte("C:maj6")).harte() == "A:min7/b3"


def test_chord_accuracy_per_beat() -> None:
    # one bar of C; C E G sound on beat 1 only. Per span the bar's notes are C E G:
    # right (1.0). Per beat, beats 2-4 are silent ("N"): 1 of 4 beats right.
    chords = [span(0, 16, "C")]
    notes = [n(0, p, 4) for p in (60, 64, 67)]
    assert metrics.chord_accuracy(notes, chords, start=0, stop=16) == pytest.approx(1.0)
    assert metrics.chord_accuracy(notes, chords, start=0, stop=16,
                                  window=4) == pytest.approx(0.25)
    # a span of 6 steps from step 2 cuts into units [2, 4) and [4, 8)
    late = [span(2, 6, "C")]
    held = [n(4, p, 4) for p in (60, 64, 67)]  # sounds in [4, 8) only
    assert metrics.chord_accuracy(held, late, start=0, stop=16,
                                  window=4) == pytest.approx(4 / 6)


def test_key_and_chord_tones_variant_of_out_of_key() -> None:
    # C major, E7 for the bar (E G# B D): G# is out of key but a chord tone; F# is neither
    key = np.broadcast_to(Key(0, "major").scale_mask(), (16, 12))
    chord_tones = metrics.chord_mask_per_step([span(0, 16, "E7")], 16)
    assert chord_tones[0, 8] and not chord_tones[0, 6]
    notes = [n(0, 68, 4), n(8, 66, 2)]  # G#4 on steps 0-3, F#4 on steps 8-9
    assert metrics.out_of_key_step_rate(notes, key, n_steps=16) == pytest.approx(6 / 16)
    assert metrics.out_of_key_step_rate(notes, key | chord_tones,
                                        n_steps=16) == pytest.approx(2 / 16)
    assert not metrics.chord_mask_per_step([span(0, 16, "N")], 16).any()


# ----------------------------------------------------------------------- pitch stats


def test_pitch_statistics() -> None:
    notes = [n(0, 60), n(4, 72), n(8, 64), n(12, 60)]
    assert metrics.pitch_class_count(notes) == 2
    assert metrics.unique_pitches(notes) == 3
    assert metrics.pitch_range(notes) == 12
    assert metrics.pitch_range([]) == 0


# ---------------------------------------------------------------------- structure


def test_structure_indicator_ranks_repetition_above_none() -> None:
    pattern = [n(0, 60), n(4, 64), n(8, 67), n(16, 65, 8), n(24, 62, 8)]
    repeated = [Note(start=x.start + 32 * k, pitch=x.pitch, duration=x.duration)
                for k in range(4) for x in pattern]
    different = [n(16 * bar, 48 + bar, 16) for bar in range(8)]  # 8 pitch classes
    si_repeated = metrics.structure_indicator(repeated, n_bars=8)
    # a pattern played k = 4 times scores at most (k - 1) / k
    assert 0.3 < si_repeated <= 0.75
    # nothing recurs: only each segment's own diagonal survives the threshold -> 0
    assert metrics.structure_indicator(different, n_bars=8) == pytest.approx(0.0)
    assert metrics.structure_indicator([], n_bars=8) == 0.0


def test_structure_indicator_of_a_held_note() -> None:
    # every beat is the same chroma: every cell is 1, and the best 2-bar segment's family
    # covers the 32 beats with 4 diagonal paths: score_n = coverage_n = (32 - 8) / 32
    assert metrics.structure_indicator([n(0, 60, 128)], n_bars=8) == pytest.approx(0.75)


def test_beat_chroma() -> None:
    chroma = metrics.beat_chroma([n(2, 61, 4), n(0, 72, 1)], 2)
    assert chroma[0, 1] == 2 and chroma[1, 1] == 2 and chroma[0, 0] == 1
    assert chroma.sum() == 5


# ----------------------------------------------------------------------- fidelity


def test_top_line_skips_notes_under_a_held_higher_note() -> None:
    notes = [n(0, 76, 8),  # E5 held over steps 0-7
             n(4, 60, 4), n(4, 64, 4), n(4, 67, 4),  # a chord under it: hidden
             n(8, 60, 4), n(8, 64, 4), n(8, 67, 8),  # the melody rests: G4 is the top
             n(12, 74, 4)]  # D5 cuts G4 at step 12
    line = metrics.top_line(notes)
    assert [(x.start, x.pitch, x.duration) for x in line] == [(0, 76, 8), (8, 67, 4),
                                                              (12, 74, 4)]
    assert metrics.mean_pitch(line) == pytest.approx((76 + 67 + 74) / 3)
    below = metrics.below_top_line(notes)
    assert sorted((x.start, x.pitch) for x in below) == [(4, 60), (4, 64), (4, 67),
                                                         (8, 60), (8, 64)]
    assert metrics.top_line([]) == () and math.isnan(metrics.mean_pitch([]))


def test_note_f1() -> None:
    generated = [n(0, 60), n(4, 62), n(8, 64)]
    real = [n(0, 60, 8), n(4, 63)]  # duration is ignored; one match
    # precision 1/3, recall 1/2: F1 = 2 * 1 / (3 + 2)
    assert metrics.note_f1(generated, real) == pytest.approx(0.4)
    assert metrics.note_f1([], real) == 0.0
    assert math.isnan(metrics.note_f1([], []))
    # one real note matches one generated note only
    assert metrics.note_f1([n(0, 60), n(0, 60)], [n(0, 60)]) == pytest.approx(2 / 3)


def test_beat_pitch_class_f1() -> None:
    generated = [n(0, 48, 8)]  # C on beats 0 and 1
    real = [n(0, 72, 4), n(4, 64, 4)]  # C on beat 0, E on beat 1
    # pairs: generated {(0, C), (1, C)}, real {(0, C), (1, E)}: one hit, F1 = 2 / 4
    assert metrics.beat_pitch_class_f1(generated, real, start=0, stop=16) == pytest.approx(0.5)
    # steps 18-20 touch the first two beats of [16, 32)
    active = metrics.beat_pitch_classes([n(18, 61, 3)], start=16, stop=32)
    assert active.shape == (4, 12) and active[0, 1] and active[1, 1] and active.sum() == 2
    assert math.isnan(metrics.beat_pitch_class_f1([], [], start=0, stop=16))


def test_count_ratio() -> None:
    assert metrics.count_ratio([n(0, 60)] * 3, [n(0, 60)] * 2) == pytest.approx(1.5)
    assert math.isnan(metrics.count_ratio([n(0, 60)], []))


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
