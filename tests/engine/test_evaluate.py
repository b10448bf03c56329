"""``diffjam eval``: song lists, windows, scoring and the report, on synthetic songs."""

from __future__ import annotations

import argparse
import json
import math
import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from diffjam.commands import evaluate as eval_cli
from engine import eval_report as er
from engine import evaluate as ev
from engine.baselines import (
    RetrievalLibrary,
    Segment,
    System,
    TaskInput,
    ground_truth_system,
    rule_accompaniment,
)
from engine.errors import InputError
from engine.harmony import ChordSpan, Key, parse_symbol
from engine.pianoroll import Note

DATA = Path(os.environ.get("DIFFJAM_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))


def n(start: int, pitch: int, duration: int = 4) -> Note:
    return Note(start=start, pitch=pitch, duration=duration)


def synthetic_song(song_id: str = "001", n_bars: int = 16) -> ev.Song:
    symbols = ["C", "G", "Am", "F"]
    chords = tuple(ChordSpan(start=16 * b, duration=16, chord=parse_symbol(symbols[b % 4]))
                   for b in range(n_bars))
    piano = rule_accompaniment(chords, lo=0, hi=16 * n_bars, style="block")
    melody = tuple(n(16 * b + 4 * i, (72, 74, 76, 77, 79)[(b + i) % 5], 4) for b in range(n_bars)
                   for i in range(4))
    return ev.Song(song_id=song_id, n_bars=n_bars, tracks=(melody, (), piano), chords=chords,
                   keys=((0, Key(0, "major")), (128, Key(7, "major"))), phrase_starts=(0, 4, 8))


# ----------------------------------------------------------------------------- song ids


def test_song_ids_from_a_comma_list() -> None:
    assert ev.parse_song_ids("1, 002,3,2") == ["001", "002", "003"]
    with pytest.raises(InputError, match="not a song id"):
        ev.parse_song_ids("001,abc")


def test_song_ids_from_files(tmp_path: Path) -> None:
    plain = tmp_path / "ids.txt"
    plain.write_text("001 002\n003,004\n")
    assert ev.parse_song_ids(os.fspath(plain)) == ["001", "002", "003", "004"]
    one_line = tmp_path / "valid.txt"
    one_line.write_text("valid 010 011\n")
    assert ev.parse_song_ids(os.fspath(one_line)) == ["010", "011"]
    split = tmp_path / "split.txt"
    split.write_text("train 001 002\nvalid 003\n")
    assert ev.parse_song_ids(os.fspath(split), subset="valid") == ["003"]
    with pytest.raises(InputError, match="--subset"):
        ev.parse_song_ids(os.fspath(split))
    with pytest.raises(InputError, match="no line named 'test'"):
        ev.parse_song_ids(os.fspath(split), subset="test")


# ------------------------------------------------------------------------------ windows


def test_cut_segment_makes_times_relative() -> None:
    song = synthetic_song()
    long_note = n(16 * 11, 40, 40)  # from bar 11 to bar 13.5: cut at the window end (bar 12)
    song = ev.Song(song.song_id, song.n_bars, (song.tracks[0], (long_note,), song.tracks[2]),
                   song.chords, song.keys, song.phrase_starts)
    seg = ev.cut_segment(song, 4)
    assert seg.n_steps == 128 and seg.start_bar == 4
    assert seg.bridge == (n(16 * 7, 40, 16),)
    assert seg.chords[0].start == 0 and seg.chords[0].chord == parse_symbol("C")
    assert len(seg.chords) == 8
    assert seg.keys == ((0, Key(0, "major")), (64, Key(7, "major")))  # change at song bar 8
    later = ev.cut_segment(song, 8)
    assert later.keys == ((0, Key(7, "major")),)


def test_choose_segments_is_deterministic_and_uses_phrases() -> None:
    songs = [synthetic_song("001"), synthetic_song("002", n_bars=24)]
    a = ev.choose_segments(songs, n_per_song=2, seed=3)
    b = ev.choose_segments(songs, n_per_song=2, seed=3)
    assert [(s.song_id, s.start_bar) for s in a] == [(s.song_id, s.start_bar) for s in b]
    assert {s.start_bar for s in a} <= {0, 4, 8}
    assert len(a) == 4
    assert len(ev.choose_segments(songs, n_per_song=2, seed=3, total=3)) == 3
    with pytest.raises(InputError, match="--n"):
        ev.choose_segments(songs, n_per_song=0, seed=0)


def test_windows_without_piano_are_not_used() -> None:
    song = synthetic_song()
    bare = ev.Song(song.song_id, song.n_bars, (song.tracks[0], (), ()), song.chords, song.keys)
    assert ev.choose_segments([bare], n_per_song=1, seed=0) == []
    assert len(ev.library_segments([song], hop_bars=2)) == 5  # starts 0, 2, 4, 6, 8


# ------------------------------------------------------------------------------ scoring


def test_ground_truth_scores_against_itself() -> None:
    seg = ev.cut_segment(synthetic_song(), 0)
    task = TaskInput(task="infill", segment=seg, seed=0)
    score = ev.segment_metrics(task, task.target())
    assert score.values["seam_pitch_err"] == 0.0 and score.values["seam_onsets_err"] == 0.0
    assert score.values["chord_acc"] == pytest.approx(1.0)  # block chords: every span right
    assert score.values["ook_step"] == 0.0
    assert score.values["density"] == pytest.approx(len(task.target()) / 4)
    assert set(score.oa) == set(er.OA_KEYS)
    assert len(score.oa["pitch"]) == 2 and len(score.oa["melody_duration"]) == 2
    # fidelity of the real bars to themselves
    assert score.values["note_f1"] == 1.0 and score.values["beat_pc_f1"] == 1.0
    assert score.values["density_ratio"] == 1.0 and score.values["topline_diff"] == 0.0


def test_fidelity_figures_of_a_silent_and_a_shifted_infill() -> None:
    # 16 bars: piano C4 held through each bar, melody C5 on the second half of each bar
    chords = tuple(ChordSpan(start=16 * b, duration=16, chord=parse_symbol("C"))
                   for b in range(16))
    seg = Segment(song_id="001", start_bar=0, n_bars=16,
                  melody=tuple(n(16 * b + 8, 72, 8) for b in range(16)), bridge=(),
                  piano=tuple(n(16 * b, 60, 16) for b in range(16)), chords=chords,
                  keys=((0, Key(0, "major")),))
    task = TaskInput(task="infill", segment=seg, seed=0, gap=(6, 10))
    assert len(task.target()) == 8
    silent = ev.segment_metrics(task, ()).values
    assert silent["note_f1"] == 0.0 and silent["beat_pc_f1"] == 0.0
    assert silent["density_ratio"] == 0.0 and math.isnan(silent["topline_diff"])
    # the real gap an octave down (C3 held, C4 on the second half): no (onset, pitch)
    # matches, every beat still sounds only C, the top line (C4 then C5, mean 66) drops
    # to C3 then C4 (mean 54)
    down = tuple(Note(start=x.start, pitch=x.pitch - 12, duration=x.duration)
                 for x in task.target())
    values = ev.segment_metrics(task, down).values
    assert values["note_f1"] == 0.0 and values["beat_pc_f1"] == pytest.approx(1.0)
    assert values["density_ratio"] == 1.0
    assert values["topline_diff"] == pytest.approx(-12.0)
    assert values["topline_abs_diff"] == pytest.approx(12.0)


def test_generate_has_no_chord_metrics() -> None:
    seg = ev.cut_segment(synthetic_song(), 0)
    task = TaskInput(task="generate", segment=seg, seed=0)
    score = ev.segment_metrics(task, task.target())
    assert math.isnan(score.values["chord_acc"]) and math.isnan(score.values["ook_note"])
    assert score.values["ook_step"] == 0.0


def silent_system() -> System:
    return System("silent", frozenset({"infill", "accompany", "generate"}), lambda task: ())


def test_evaluate_report_and_json() -> None:
    segments = ev.choose_segments([synthetic_song("001"), synthetic_song("002")], n_per_song=2,
                                  seed=0)
    report = ev.evaluate(segments, [ground_truth_system(), silent_system()], task="accompany",
                         seed=0, config={"note": "test"}, n_resamples=50)
    gt, silent = report.systems["ground_truth"], report.systems["silent"]
    assert not report.reference["independent"]  # no reference set: its own ground truth
    assert gt["consistency_pitch"] == pytest.approx(1.0)
    assert gt["consistency_duration"] == pytest.approx(1.0)
    assert gt["chord_acc"] == pytest.approx(1.0)
    assert silent["n_notes"] == 0.0 and silent["chord_sim"] == 0.0
    assert math.isnan(silent["polyphony"])
    # a silent clip has only empty frames: OA 0, so Consistency 0 (it used to be NaN)
    assert silent["oa_mean_pitch"] == 0.0 and silent["consistency_pitch"] == 0.0
    assert report.intervals["ground_truth"]["chord_acc"] == pytest.approx((1.0, 1.0))
    data = json.loads(json.dumps(report.to_json()))
    assert data["systems"]["silent"]["polyphony"] is None
    assert data["config"] == {"note": "test"}
    assert len(data["segments"]) == 4 and len(data["per_segment"]["silent"]) == 4
    assert len(data["oa"]["silent"]) == 4 and data["intervals"]["silent"]["n_notes"] == [0, 0]
    again = er.EvalReport.from_json(data)
    assert again.segments == report.segments and again.oa["silent"][0]["pitch"] == [0.0, 0.0]
    assert again.systems["ground_truth"]["chord_acc"] == pytest.approx(1.0)
    table = er.format_table(report)
    assert "Fidelity to the real bars" in table and "silent" in table
    assert "1.000 (1.000–1.000)" in table  # the ground truth's chord accuracy and interval
    markdown = er.format_table(report, markdown=True)
    assert "|---|" in markdown
    assert "seam" not in markdown and "chord acc" in markdown


def test_reference_of_other_songs_gives_a_test_data_row() -> None:
    segments = ev.choose_segments([synthetic_song("001")], n_per_song=1, seed=0)
    same = [ev.cut_segment(synthetic_song("005"), segments[0].start_bar)]
    report = ev.evaluate(segments, [ground_truth_system(), silent_system()], task="infill",
                         seed=0, reference=same, reference_source="song 005", n_resamples=20)
    assert report.reference["independent"] and report.reference["songs"] == 1
    # the reference plays the same material as the evaluated song: its OA moments equal
    # the ground truth's, so the ground-truth row is 1 because the music agrees, not by
    # construction
    assert report.systems["ground_truth"]["consistency_pitch"] == pytest.approx(1.0)
    mean, var = report.reference_moments("pitch")
    assert mean == pytest.approx(report.systems["ground_truth"]["oa_mean_pitch"])
    # 8 bars, gap [2, 6): the middle frame (bars 2-5) of a silent infill is empty and
    # both OA pairs touch it, so every OA is 0
    assert report.systems["silent"]["oa_mean_pitch"] == 0.0
    # 16 bars, gap [6, 10): frames at 0, 2, ..., 12; only frame 6 (bars 6-9) is empty,
    # so 2 of the 6 pairs are 0
    seg16 = ev.cut_segment(synthetic_song("001"), 0, n_bars=16)
    silent16 = ev.segment_metrics(TaskInput(task="infill", segment=seg16, seed=0,
                                            gap=(6, 10)), ())
    pitch_oa = silent16.oa["pitch"]
    assert len(pitch_oa) == 6 and [x == 0.0 for x in pitch_oa].count(True) == 2
    with pytest.raises(InputError, match="reference"):
        ev.evaluate(segments, [ground_truth_system()], task="infill", seed=0,
                    reference=segments)


def test_evaluate_skips_systems_without_the_task() -> None:
    segments = ev.choose_segments([synthetic_song()], n_per_song=1, seed=0)
    only_infill = System("only_infill", frozenset({"infill"}), lambda task: ())
    report = ev.evaluate(segments, [only_infill, ground_truth_system()], task="generate", seed=0)
    assert list(report.systems) == ["ground_truth"]
    with pytest.raises(InputError, match="no evaluation segments"):
        ev.evaluate([], [ground_truth_system()], task="infill", seed=0)


def test_build_systems_by_name() -> None:
    lib = RetrievalLibrary.from_segments(ev.library_segments([synthetic_song("009")]))
    systems = ev.build_systems(list(ev.BASELINES), library=lib, pipeline_loader=None, steps=10,
                               guidance=2.0, in_key=True)
    assert [s.name for s in systems] == list(ev.BASELINES)
    with pytest.raises(InputError, match="unknown system"):
        ev.build_systems(["oracle"], library=None, pipeline_loader=None, steps=10,
                         guidance=2.0, in_key=True)
    with pytest.raises(InputError, match="retrieval"):
        ev.build_systems(["retrieval"], library=None, pipeline_loader=None, steps=10,
                         guidance=2.0, in_key=True)


# ---------------------------------------------------------------------------- the model


class FakePipeline:
    """Records calls; answers with the context plus one C4 per generated bar."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []

    def _result(self, notes: list[Note], lo_bar: int, hi_bar: int) -> SimpleNamespace:
        added = [n(16 * b, 60, 16) for b in range(lo_bar, hi_bar)]
        return SimpleNamespace(variations=(tuple(sorted(notes + added)),))

    def infill(self, notes, *, n_bars, bars, chords=None, options):
        self.calls.append(("infill", {"bars": bars, "options": options, "chords": chords}))
        return self._result(list(notes), bars.start, bars.stop)

    def accompany(self, chords, *, n_bars, melody=None, options):
        self.calls.append(("accompany", {"options": options, "melody": melody}))
        return self._result([], 0, n_bars)  # the accompaniment alone, as Pipeline does

    def generate(self, *, n_bars, chords=None, options):
        self.calls.append(("generate", {"options": options, "chords": chords}))
        return self._result([], 0, n_bars)


def test_model_system_keeps_only_generated_notes() -> None:
    pytest.importorskip("engine.pipeline", reason="engine.pipeline is not written yet")
    fake = FakePipeline()
    system = ev.model_system(fake, steps=7, guidance=1.5)
    seg = ev.cut_segment(synthetic_song(), 0)
    infill = system.produce(TaskInput(task="infill", segment=seg, seed=0))
    assert infill == tuple(n(16 * b, 60, 16) for b in range(2, 6))
    name, call = fake.calls[-1]
    assert (call["bars"].start, call["bars"].stop) == (2, 6)
    assert call["options"].steps == 7 and call["options"].guidance == 1.5
    assert call["options"].key == Key(0, "major")
    accompany = system.produce(TaskInput(task="accompany", segment=seg, seed=0))
    assert accompany == tuple(n(16 * b, 60, 16) for b in range(8))
    assert fake.calls[-1][1]["melody"] == list(seg.melody)
    generate = system.produce(TaskInput(task="generate", segment=seg, seed=0))
    assert len(generate) == 8 and fake.calls[-1][1]["options"].key is None
    seeds = {c[1]["options"].seed for c in fake.calls}
    assert len(seeds) == 1  # same seed, song and window -> same sampling seed


def test_model_without_chords_on_a_16_bar_window() -> None:
    pytest.importorskip("engine.pipeline", reason="engine.pipeline is not written yet")
    fake = FakePipeline()
    systems = ev.build_systems(["model_no_chords"], library=None, pipeline_loader=lambda: fake,
                               steps=5, guidance=3.0, in_key=True)
    seg = ev.cut_segment(synthetic_song(), 0, n_bars=16)
    out = systems[0].produce(TaskInput(task="infill", segment=seg, seed=0, gap=(6, 10)))
    assert out == tuple(n(16 * b, 60, 16) for b in range(6, 10))
    call = fake.calls[-1][1]
    assert (call["bars"].start, call["bars"].stop) == (6, 10) and call["chords"] is None


# ------------------------------------------------------------------------------- cache


def test_songs_from_a_cache_file(tmp_path: Path) -> None:
    pytest.importorskip("engine.cache")
    path = tmp_path / "tiny.npz"
    meta = json.dumps({"format_version": 1})
    np.savez(
        path, meta=np.array(meta), song_ids=np.array(["005"]), splits=np.array(["train"]),
        n_bars=np.array([2], dtype=np.int32), note_offsets=np.array([0, 2]),
        notes=np.array([[2, 48, 0, 8, 70], [0, 72, 16, 4, 90]], dtype=np.int16),
        chord_offsets=np.array([0, 2]), chords=np.array([[0, 16, 0], [16, 32, 1]],
                                                        dtype=np.int32),
        chord_vocab=np.array(["C:maj", "A:min7"]), key_offsets=np.array([0, 1]),
        keys=np.array([[0, 9, 1]], dtype=np.int16), phrase_offsets=np.array([0, 1]),
        phrases=np.array([[0, 2, ord("A")]], dtype=np.int32),
    )
    (song,) = ev.songs_from_cache(path)
    assert song.song_id == "005" and song.n_bars == 2
    assert song.tracks[2] == (Note(start=0, pitch=48, duration=8, velocity=70),)
    assert song.tracks[0] == (Note(start=16, pitch=72, duration=4, velocity=90),)
    assert song.chords[1].chord == parse_symbol("Am7") and song.chords[1].start == 16
    assert song.keys == ((0, Key(9, "minor")),)
    assert song.phrase_starts == (0,)
    assert ev.songs_from_cache(path, ["006"]) == []


def _write_cache(path: Path, songs: list[ev.Song], splits: list[str]) -> None:
    vocab = sorted({c.chord.harte() for song in songs for c in song.chords})
    notes, chords, keys, phrases = [], [], [], []
    for song in songs:
        notes.append(np.array([[t, x.pitch, x.start, x.duration, x.velocity]
                               for t, track in enumerate(song.tracks) for x in track],
                              dtype=np.int16))
        chords.append(np.array([[c.start, c.stop, vocab.index(c.chord.harte())]
                                for c in song.chords], dtype=np.int32))
        keys.append(np.array([[s, k.tonic, int(k.mode == "minor")] for s, k in song.keys],
                             dtype=np.int16))
        phrases.append(np.array([[b, 4, ord("A")] for b in song.phrase_starts],
                                dtype=np.int32).reshape(-1, 3))

    def offsets(parts: list[np.ndarray]) -> np.ndarray:
        return np.cumsum([0] + [len(p) for p in parts])

    np.savez(
        path, meta=np.array(json.dumps({"format_version": 1})),
        song_ids=np.array([s.song_id for s in songs]), splits=np.array(splits),
        n_bars=np.array([s.n_bars for s in songs], dtype=np.int32),
        note_offsets=offsets(notes), notes=np.concatenate(notes),
        chord_offsets=offsets(chords), chords=np.concatenate(chords),
        chord_vocab=np.array(vocab), key_offsets=offsets(keys), keys=np.concatenate(keys),
        phrase_offsets=offsets(phrases), phrases=np.concatenate(phrases),
    )


def test_cache_library_matches_the_segments(tmp_path: Path) -> None:
    pytest.importorskip("engine.cache")
    path = tmp_path / "lib.npz"
    songs = [synthetic_song("007"), synthetic_song("008", n_bars=12), synthetic_song("009")]
    _write_cache(path, songs, ["train", "train", "valid"])
    library = ev.cache_library(path, split="train", exclude=["008"])
    assert library.song_ids == ("007",) * 5  # 16 bars, hop 2: starts 0, 2, 4, 6, 8
    assert library.fetch(2) == ev.cut_segment(songs[0], 4)
    expected = RetrievalLibrary.from_segments(ev.library_segments(songs[:1]))
    assert np.allclose(library.features, expected.features)
    assert len(ev.cache_library(path, split=None)) == 5 + 3 + 5
    assert len(ev.cache_library(path, split="test")) == 0


# --------------------------------------------------------------------------- real data


def test_eval_command_on_real_songs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not (DATA / "pop909" / "001").is_dir():
        pytest.skip(f"POP909 not found at {DATA} (set DIFFJAM_DATA)")
    parser = argparse.ArgumentParser()
    eval_cli.add_eval_command(parser.add_subparsers())
    out = tmp_path / "report.json"
    args = parser.parse_args([
        "eval", "--data", os.fspath(DATA), "--songs", "001,002", "--task", "infill",
        "--window-bars", "16", "--gap-bars", "4", "--bootstrap", "100",
        "--systems", "ground_truth,copy_previous,copy_next,copy_neighbours,retrieval",
        "--retrieval-songs", "003", "--reference-songs", "003,005", "--out", os.fspath(out),
    ])
    assert args.handler(args) == 0
    report = json.loads(out.read_text())
    assert set(report["systems"]) == {"ground_truth", "copy_previous", "copy_next",
                                      "copy_neighbours", "retrieval"}
    assert len(report["segments"]) == 2
    assert report["config"]["infill_bars_0based"] == [6, 10]
    assert report["reference"]["independent"] and report["reference"]["songs"] == 2
    assert report["intervals"]["copy_previous"]["note_f1"] is not None
    printed = capsys.readouterr().out
    assert "bars 7-10 (4 bars) regenerated" in printed
    assert "note F1" in printed and "beat PC F1" in printed and "copy_previous" in printed
    assert "bootstrap 95 % intervals" in printed


def test_segment_key_defaults() -> None:
    seg = Segment(song_id="001", start_bar=0, n_bars=8, melody=(), bridge=(), piano=(),
                  chords=(), keys=((0, Key(2, "minor")),))
    assert seg.key == Key(2, "minor") and seg.arrangement() == ()


# ------------------------------------------------------------- results page and bench table


def test_bench_grid_and_table() -> None:
    from engine import bench

    cases = bench.bench_cases(bars=(4, 8), steps=(10, 20), variations=4)
    grid = [c for c in cases if c.label == "diffjam"]
    assert len(grid) == 2 * 2 * 2 * 2  # tasks x bars x steps x (1, 4 variations)
    refs = [c for c in cases if c.label in ("mittal-ddpm-1000", "fgg-10")]
    assert {(c.label, c.steps, c.sampler) for c in refs} == {
        ("mittal-ddpm-1000", 1000, "ddpm"), ("fgg-10", 10, "ddim")}
    full = {(c.label, c.task, c.quality, c.steps, c.guidance) for c in cases
            if c.label in ("teacher", "turn-1")}
    assert full == {(label, task, "high", 10, guidance)
                    for task in ("infill", "accompany")
                    for label, guidance in (("teacher", bench.DEFAULT_GUIDANCE),
                                            ("turn-1", 4.0))}
    # the first release guided every step; the teacher takes its own default interval
    assert {c.label: c.guidance_below for c in cases if c.label in ("teacher", "turn-1")} == {
        "teacher": None, "turn-1": 1.0}
    free = [(c.task, c.bars, c.chords) for c in cases if c.label == "no-chords"]
    assert free == [("infill", 4, False), ("infill", 8, False)]
    assert all(c.chords for c in cases if not c.label.startswith("no-chords"))
    # the old default of infill without chords, the full model, beside the student's
    assert [(c.task, c.quality, c.candidates) for c in cases
            if c.label == "no-chords teacher"] == [("infill", "high", None)]
    # the defaults draw candidates; beside them one sample, and the papers' settings draw one
    single = {(c.label, c.task, c.chords) for c in cases if c.candidates == 1}
    assert single == {("single", "accompany", True), ("no-chords single", "infill", False),
                      *{(label, task, True) for task in ("infill", "accompany")
                        for label in ("turn-1", "mittal-ddpm-1000", "fgg-10")}}
    # and the accompaniment's best of 4 (the live jam's) and 8 (its default before, and the
    # full model's) beside its default best of 12
    assert [(c.task, c.bars, c.candidates) for c in cases
            if c.label in ("best of 4", "best of 8")] == [("accompany", 8, 4), ("accompany", 8, 8)]
    # and the best of 4 of infill without chords beside its default best of 2
    assert [(c.task, c.chords, c.candidates) for c in cases
            if c.label == "no-chords best of 4"] == [("infill", False, 4)]
    base = next(c for c in grid if c.task == "infill" and c.bars == 8 and c.steps == 10
                and c.variations == 1)
    ddpm = next(c for c in refs if c.task == "infill" and c.label == "mittal-ddpm-1000")
    rows = [bench.BenchRow("cpu", base, 0.2, 0.19, 3, 20, drawn=4),
            bench.BenchRow("cpu", ddpm, 10.0, 10.0, 1, 1000)]
    table = bench.format_rows(rows)
    ddpm_line = table.splitlines()[-1]
    assert "mittal-ddpm-1000" in ddpm_line and ddpm_line.rstrip().endswith("50.0")
    assert "10.0" in table.splitlines()[2]  # 200 ms / 20 nfe
    assert table.splitlines()[0].split()[6:9] == ["var", "cand", "p50"]
    assert table.splitlines()[2].split()[6:9] == ["1", "4", "200"]
    assert bench.percentile([5.0, 1.0, 3.0], 99) == 5.0
    assert bench.percentile(list(range(1, 201)), 99) == 198
    assert bench.percentile([2.0, 4.0], 50) == 2.0
    chords, melody, arrangement = bench.synthetic_clip(4)
    assert len(chords) == 4 and len(melody) == 16
    assert set(melody) <= set(arrangement)
