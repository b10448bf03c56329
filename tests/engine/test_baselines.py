"""Baseline systems on hand-made segments."""

from __future__ import annotations

import numpy as np
import pytest

from engine import baselines
from engine.baselines import Segment, TaskInput
from engine.harmony import ChordSpan, Key, parse_symbol
from engine.pianoroll import Note


def n(start: int, pitch: int, duration: int = 4) -> Note:
    return Note(start=start, pitch=pitch, duration=duration)


def progression(symbols: list[str]) -> tuple[ChordSpan, ...]:
    return tuple(ChordSpan(start=16 * i, duration=16, chord=parse_symbol(s))
                 for i, s in enumerate(symbols))


def segment(*, song_id: str = "001", chords: tuple[ChordSpan, ...] | None = None,
            piano: tuple[Note, ...] | None = None, start_bar: int = 0) -> Segment:
    melody = tuple(n(16 * bar, 72 + bar % 3, 8) for bar in range(8))
    piano = piano if piano is not None else tuple(n(16 * bar + 4 * b, 48 + b) for bar in range(8)
                                                  for b in range(4))
    return Segment(song_id=song_id, start_bar=start_bar, n_bars=8, melody=melody,
                   bridge=(n(40, 80),), piano=piano,
                   chords=chords if chords is not None else progression(["C", "G", "Am", "F"] * 2),
                   keys=((0, Key(0, "major")),))


# ------------------------------------------------------------------------- task input


def test_infill_input_splits_the_arrangement() -> None:
    task = TaskInput(task="infill", segment=segment(), seed=0)
    assert task.bars == (2, 6) and task.steps == (32, 96)
    assert all(32 <= x.start < 96 for x in task.target())
    assert not any(32 <= x.start < 96 for x in task.given())
    assert sorted(task.given() + task.target()) == list(task.segment.arrangement())
    assert task.chords() == task.segment.chords


def test_accompany_and_generate_inputs() -> None:
    seg = segment()
    accompany = TaskInput(task="accompany", segment=seg, seed=0)
    assert accompany.given() == seg.melody and accompany.target() == seg.piano
    generate = TaskInput(task="generate", segment=seg, seed=0)
    assert generate.given() == () and generate.chords() == ()
    assert generate.target() == seg.arrangement() and generate.steps == (0, 128)
    with pytest.raises(ValueError, match="task"):
        TaskInput(task="remix", segment=seg, seed=0)


def test_ground_truth_returns_the_target() -> None:
    task = TaskInput(task="infill", segment=segment(), seed=0)
    assert baselines.ground_truth_system().produce(task) == task.target()


# ------------------------------------------------------------------------- rule-based


def test_block_accompaniment_of_one_bar_of_c() -> None:
    notes = baselines.rule_accompaniment(progression(["C"]), lo=0, hi=16, style="block")
    bass = [x for x in notes if x.pitch < 48]
    assert [(x.start, x.pitch, x.duration) for x in bass] == [(0, 36, 8), (8, 36, 8)]
    upper = [x for x in notes if x.pitch >= 48]
    assert len(upper) == 12  # G3 C4 E4 on each of the 4 beats
    assert {x.pitch for x in upper} == {55, 60, 64}
    assert sorted({x.start for x in upper}) == [0, 4, 8, 12]
    assert all(x.duration == 4 for x in upper)


def test_arpeggio_uses_the_chord_bass_and_eighths() -> None:
    chords = (ChordSpan(start=0, duration=16, chord=parse_symbol("Am/C")),)
    notes = baselines.rule_accompaniment(chords, lo=0, hi=16, style="arpeggio")
    bass = [x for x in notes if x.pitch < 48]
    assert {x.pitch for x in bass} == {36}  # C2, the slash bass
    upper = sorted(x for x in notes if x.pitch >= 48)
    assert [x.pitch for x in upper] == [57, 60, 64, 60, 57, 60, 64, 60]  # A3 C4 E4 C4 ...
    assert [x.start for x in upper] == list(range(0, 16, 2))


def test_rule_accompaniment_is_silent_on_no_chord_and_clipped() -> None:
    chords = progression(["N", "F"])
    notes = baselines.rule_accompaniment(chords, lo=0, hi=24, style="block")
    assert min(x.start for x in notes) == 16
    assert max(x.end for x in notes) <= 24
    with pytest.raises(ValueError, match="style"):
        baselines.rule_accompaniment(chords, lo=0, hi=32, style="stride")


def test_rule_based_system_tasks() -> None:
    system = baselines.rule_based_system(style="block")
    assert system.supports("accompany") and system.supports("infill")
    assert not system.supports("generate")
    task = TaskInput(task="infill", segment=segment(), seed=0)
    assert all(32 <= x.start < 96 for x in system.produce(task))


# ---------------------------------------------------------------------- copy neighbours


def test_copy_neighbours_fills_from_both_sides() -> None:
    context = [n(0, 60), n(16, 62), n(96, 70), n(112, 72, 30)]  # bars 0, 1, 6, 7
    out = baselines.copy_neighbours(context, n_bars=8, start_bar=2, stop_bar=6)
    assert [(x.start, x.pitch) for x in out] == [(32, 60), (48, 62), (64, 70), (80, 72)]
    assert out[-1].duration == 16  # cut at the end of its destination bar


def test_copy_neighbours_falls_back_to_the_other_side() -> None:
    context = [n(32, 65), n(48, 67)]  # bars 2, 3; gap at the very start
    out = baselines.copy_neighbours(context, n_bars=4, start_bar=0, stop_bar=2)
    assert [(x.start, x.pitch) for x in out] == [(0, 65), (16, 67)]


def test_copy_neighbours_system_on_a_segment() -> None:
    task = TaskInput(task="infill", segment=segment(), seed=0)
    out = baselines.copy_neighbours_system().produce(task)
    bar0 = [x.pitch for x in task.segment.arrangement() if x.start < 16]
    assert sorted(x.pitch for x in out if 32 <= x.start < 48) == sorted(bar0)


# ------------------------------------------------------------------------ random in key


def test_random_in_key_matches_count_range_and_key() -> None:
    target = [n(4 * i, 60 + (i % 8), 2) for i in range(20)]
    key = Key(2, "major")
    rng = np.random.default_rng(0)
    out = baselines.random_in_key(target, key=key, lo=32, hi=96, rng=rng)
    assert len(out) == 20
    assert all(60 <= x.pitch <= 67 and key.scale_mask()[x.pitch % 12] for x in out)
    assert all(32 <= x.start < 96 and x.end <= 96 for x in out)
    again = baselines.random_in_key(target, key=key, lo=32, hi=96,
                                    rng=np.random.default_rng(0))
    assert again == out
    assert baselines.random_in_key([], key=key, lo=0, hi=16, rng=rng) == ()


def test_random_in_key_system_is_seeded() -> None:
    system = baselines.random_in_key_system()
    a = system.produce(TaskInput(task="accompany", segment=segment(), seed=1))
    b = system.produce(TaskInput(task="accompany", segment=segment(), seed=1))
    c = system.produce(TaskInput(task="accompany", segment=segment(), seed=2))
    assert a == b and a != c
    assert len(a) == len(segment().piano)


# -------------------------------------------------------------------------- retrieval


def test_retrieval_finds_the_transposed_progression() -> None:
    # library: one song in D (the query's progression up 2 semitones), one unrelated
    in_d = segment(song_id="010", chords=progression(["D", "A", "Bm", "G"] * 2),
                   piano=(n(0, 50), n(16, 57)))
    other = segment(song_id="011", chords=progression(["Ebm"] * 8), piano=(n(0, 51),))
    system = baselines.retrieval_system([other, in_d])
    query = TaskInput(task="accompany", segment=segment(song_id="001"), seed=0)
    out = system.produce(query)
    assert [(x.start, x.pitch) for x in out] == [(0, 48), (16, 55)]  # moved down a tone


def test_retrieval_infill_returns_the_gap_and_skips_the_same_song() -> None:
    same = segment(song_id="001", piano=(n(32, 60),))
    other = segment(song_id="002", chords=progression(["C", "G", "Am", "F"] * 2),
                    piano=(n(0, 40), n(36, 62)))
    system = baselines.retrieval_system([same, other])
    out = system.produce(TaskInput(task="infill", segment=segment(song_id="001"), seed=0))
    assert n(36, 62) in out
    assert all(32 <= x.start < 96 for x in out)


def test_retrieval_generate_draws_a_library_segment() -> None:
    lib = [segment(song_id="002"), segment(song_id="003", piano=(n(0, 40),))]
    system = baselines.retrieval_system(lib)
    out = system.produce(TaskInput(task="generate", segment=segment(), seed=0))
    assert out in (lib[0].arrangement(), lib[1].arrangement())
    with pytest.raises(ValueError, match="empty"):
        baselines.retrieval_system([])


def test_chord_features_are_unit_chroma_per_beat() -> None:
    feats = baselines.chord_features(progression(["C", "N"]), n_beats=8)
    assert feats.shape == (8, 12)
    assert np.allclose(np.linalg.norm(feats[:4], axis=1), 1.0)
    assert np.allclose(feats[4:], 0.0)
    assert feats[0, 0] > 0 and feats[0, 1] == 0
