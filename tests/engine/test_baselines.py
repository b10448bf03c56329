"""Baseline systems on hand-made segments."""

from __future__ import annotations

import numpy as np
import pytest

from engine import baselines, metrics
from engine.baselines import Segment, TaskInput
from engine.errors import InputError
from engine.harmony import ChordSpan, Key, parse_harte, parse_symbol
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


def segment16() -> Segment:
    """16 bars: bar b holds pitches 48 + b and 72 + b % 5 on its first two beats."""
    piano = tuple(n(16 * bar + 4 * i, 48 + bar) for bar in range(16) for i in range(2))
    melody = tuple(n(16 * bar, 72 + bar % 5, 8) for bar in range(16))
    return Segment(song_id="001", start_bar=0, n_bars=16, melody=melody, bridge=(),
                   piano=piano, chords=progression(["C", "G", "Am", "F"] * 4),
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


# -------------------------------------------------------------------- copy one side


def test_copy_previous_and_next_bars_of_an_8_bar_window() -> None:
    # gap [2, 6): two bars on each side, repeated: previous 0 1 0 1, next 6 7 6 7
    context = [n(0, 60), n(16, 62), n(96, 70), n(112, 72, 30)]
    prev = baselines.copy_bars(context, n_bars=8, start_bar=2, stop_bar=6, side="previous")
    assert [(x.start, x.pitch) for x in prev] == [(32, 60), (48, 62), (64, 60), (80, 62)]
    nxt = baselines.copy_bars(context, n_bars=8, start_bar=2, stop_bar=6, side="next")
    assert [(x.start, x.pitch, x.duration) for x in nxt] == [
        (32, 70, 4), (48, 72, 16), (64, 70, 4), (80, 72, 16)]  # cut at each block's end


def test_copy_previous_four_bars_of_a_16_bar_window() -> None:
    # gap [6, 10): bars 2-5 move to 6-9 as one block (a note held over a bar line stays)
    context = [n(32, 60, 24), n(80, 64)]  # bar 2 (held into bar 3) and bar 5
    out = baselines.copy_bars(context, n_bars=16, start_bar=6, stop_bar=10, side="previous")
    assert [(x.start, x.pitch, x.duration) for x in out] == [(96, 60, 24), (144, 64, 4)]
    assert baselines.copy_bars(context, n_bars=8, start_bar=0, stop_bar=2,
                               side="previous") == ()
    with pytest.raises(ValueError, match="side"):
        baselines.copy_bars(context, n_bars=8, start_bar=2, stop_bar=4, side="both")


def test_copy_systems_on_a_16_bar_window_with_a_4_bar_gap() -> None:
    seg = segment16()
    task = TaskInput(task="infill", segment=seg, seed=0, gap=(6, 10))
    assert task.bars == (6, 10) and task.steps == (96, 160)
    prev = baselines.copy_bars_system("previous").produce(task)
    assert prev and all(96 <= x.start < 160 for x in prev)
    source = sorted((x.start + 64, x.pitch) for x in seg.arrangement() if 32 <= x.start < 96)
    assert sorted((x.start, x.pitch) for x in prev) == source
    assert baselines.copy_bars_system("next").name == "copy_next"


def test_protocols() -> None:
    assert baselines.Protocol().gap == (2, 6)
    assert baselines.Protocol(16, 4).gap == (6, 10)
    assert baselines.Protocol(32, 16).gap == (8, 24)
    assert baselines.Protocol(16, 4).describe("infill") == (
        "16-bar windows, bars 7-10 (4 bars) regenerated")
    assert baselines.Protocol(32).describe("accompany") == "32-bar windows"
    with pytest.raises(InputError, match="--gap-bars"):
        baselines.Protocol(8, 8)
    with pytest.raises(InputError, match="--window-bars"):
        baselines.Protocol(1)


def test_default_gap_is_the_middle_half() -> None:
    assert baselines.centered_gap(8, 4) == (2, 6)
    assert baselines.centered_gap(16, 4) == (6, 10)
    assert baselines.centered_gap(32, 16) == (8, 24)
    assert TaskInput(task="infill", segment=segment16(), seed=0).bars == (4, 12)
    with pytest.raises(ValueError, match="gap"):
        TaskInput(task="infill", segment=segment(), seed=0, gap=(6, 10))


# --------------------------------------------------------------------------- label pad


def test_label_pad_holds_each_labels_tones_and_is_the_chord_ceiling() -> None:
    chords = tuple(ChordSpan(start=16 * i, duration=16, chord=parse_harte(label))
                   for i, label in enumerate(["C:sus4", "C:maj6", "A:min7/b3", "N", "G:7/b7"]))
    pad = baselines.label_pad(chords, lo=0, hi=80)
    first = sorted(x.pitch for x in pad if x.start == 0)
    assert first == [36, 55, 65]  # C2 bass, then G3 and F4 (the tones in G3..F#4)
    assert all(x.duration == 16 for x in pad)
    assert not [x for x in pad if 48 <= x.start < 64]  # "N" is silent
    inversion = sorted(x.pitch for x in pad if x.start == 32)
    assert inversion == [36, 55, 57, 64]  # A:min7/C: C2 bass, G3 A3 E4
    # the label's own tones over its bass: every span and every beat counts right
    assert metrics.chord_accuracy(pad, chords, start=0, stop=80) == 1.0
    assert metrics.chord_accuracy(pad, chords, start=0, stop=80, window=4) == 1.0
    system = baselines.label_pad_system()
    assert system.supports("infill") and not system.supports("generate")


# ---------------------------------------------------------------------- context shuffle


def test_context_shuffle_deals_the_contexts_notes_into_the_gap() -> None:
    # four context bars with one note each (pitch 60 + bar, on step 2 of its bar): a
    # 4-bar gap gets round(4 * 4 / 4) = 4 of them, each a context note in a gap bar
    context = [n(16 * bar + 2, 60 + bar, 3) for bar in (0, 1, 6, 7)]
    out = baselines.context_shuffle(context, context_bars=4, start_bar=2, stop_bar=6,
                                    rng=np.random.default_rng(0))
    assert len(out) == 4
    assert sorted(x.pitch for x in out) == [60, 61, 66, 67]  # each note once
    assert all(32 <= x.start < 96 and x.start % 16 == 2 and x.duration == 3 for x in out)
    # a longer gap repeats the shuffled order
    twice = baselines.context_shuffle(context, context_bars=4, start_bar=2, stop_bar=10,
                                      rng=np.random.default_rng(0))
    assert sorted(x.pitch for x in twice) == [60, 60, 61, 61, 66, 66, 67, 67]
    assert baselines.context_shuffle([], context_bars=4, start_bar=2, stop_bar=6,
                                     rng=np.random.default_rng(0)) == ()


def test_context_shuffle_keeps_statistics_and_loses_harmony() -> None:
    task = TaskInput(task="infill", segment=segment(), seed=0)
    out = baselines.context_shuffle_system().produce(task)
    context = task.given()
    assert len(out) == len(context)  # 4 context bars, 4 gap bars
    assert sorted(x.pitch for x in out) == sorted(x.pitch for x in context)
    assert out == baselines.context_shuffle_system().produce(task)  # seeded


# ------------------------------------------------------------------------ random in key


def test_random_in_key_draws_count_range_and_key_from_statistics() -> None:
    stats = baselines.NoteStatistics(notes_per_bar=5.0, low=60, high=67)
    key = Key(2, "major")
    rng = np.random.default_rng(0)
    out = baselines.random_in_key(stats, key=key, lo=32, hi=96, rng=rng)
    assert len(out) == 20  # 5 a bar over 4 bars
    assert all(60 <= x.pitch <= 67 and key.scale_mask()[x.pitch % 12] for x in out)
    assert all(32 <= x.start < 96 and x.end <= 96 for x in out)
    again = baselines.random_in_key(stats, key=key, lo=32, hi=96,
                                    rng=np.random.default_rng(0))
    assert again == out


def test_random_in_key_reads_the_context_not_the_target() -> None:
    system = baselines.random_in_key_system()
    task = TaskInput(task="infill", segment=segment(), seed=1)
    out = system.produce(task)
    context = task.given()
    # context: 4 bars -> its density times the 4 gap bars; pitches within its range
    assert len(out) == round(len(context) / 4 * 4)
    low, high = min(x.pitch for x in context), max(x.pitch for x in context)
    assert all(low <= x.pitch <= high for x in out)
    # a target of another size and range changes nothing
    other = segment(piano=tuple(n(16 * bar, 30, 2) for bar in range(8)))
    other_task = TaskInput(task="infill", segment=other, seed=1)
    assert len(system.produce(other_task)) == round(len(other_task.given()))
    # accompany: the piano prior, whatever the real piano holds
    accompany = system.produce(TaskInput(task="accompany", segment=segment(), seed=1))
    assert len(accompany) == round(baselines.PIANO_PRIOR.notes_per_bar * 8)
    assert all(baselines.PIANO_PRIOR.low <= x.pitch <= baselines.PIANO_PRIOR.high
               for x in accompany)


def test_random_in_key_system_is_seeded() -> None:
    system = baselines.random_in_key_system()
    a = system.produce(TaskInput(task="accompany", segment=segment(), seed=1))
    b = system.produce(TaskInput(task="accompany", segment=segment(), seed=1))
    c = system.produce(TaskInput(task="accompany", segment=segment(), seed=2))
    assert a == b and a != c


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
