"""Whole-song evaluation: forms from phrase labels, ILS, lead-sheet figures, systems,
the report and ``diffjam eval-song``, on synthetic songs and fake pipelines (no model)."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from diffjam.cli import main
from engine import chord_bigram as cb
from engine import evaluate as ev
from engine import song_eval as se
from engine.harmony import ChordSpan, Key, parse_symbol
from engine.pianoroll import Note
from wire.form import Phrase, parse_form

DATA = Path(os.environ.get("DIFFJAM_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))
CACHE = Path(__file__).resolve().parents[2] / "cache" / "pop909.npz"
C_MAJOR = Key(0, "major")


def n(start: int, pitch: int, duration: int = 4) -> Note:
    return Note(start=start, pitch=pitch, duration=duration)


# melody motifs, one bar each: A's and B's differ in pitch and rhythm
MOTIFS = {
    "A": [(0, 72, 4), (4, 74, 4), (8, 76, 8)],
    "B": [(0, 79, 2), (2, 77, 2), (4, 76, 2), (6, 74, 2), (8, 72, 2), (12, 71, 4)],
    "C": [(0, 81, 16)],
    "i": [(0, 60, 16)],
    "o": [(0, 64, 8), (8, 67, 8)],
}
CHORDS = {"A": "C G", "B": "Am F", "C": "Dm G", "i": "C C", "o": "F C"}


def synthetic_song(form: str = "i2A4B4A4B4C4A4B4o2", *, song_id: str = "001",
                   offset: int = 0, vary: int = 0) -> ev.Song:
    """A song whose phrases repeat their letter's motif bar after bar (``vary``: shift the
    pitch of every ``vary``-th bar by a tone, so repeats are not exact); phrase labels
    start at bar ``offset`` (bars before hold one note)."""
    melody: list[Note] = [n(0, 60, 16 * offset)] if offset else []
    piano: list[Note] = []
    chords: list[ChordSpan] = []
    rows = []
    bar = offset
    for phrase in parse_form(form):
        rows.append((bar, phrase.bars, phrase.letter))
        for i in range(phrase.bars):
            shift = 2 if vary and (bar + i) % vary == 0 else 0
            melody += [n(16 * (bar + i) + s, p + shift, d) for s, p, d in MOTIFS[phrase.letter]]
            for h, symbol in enumerate(CHORDS[phrase.letter].split()):
                chord = parse_symbol(symbol)
                start = 16 * (bar + i) + 8 * h
                chords.append(ChordSpan(start=start, duration=8, chord=chord))
                piano += [n(start + 4 * k, 48 + pc, 4) for k in range(2)
                          for pc in range(12) if chord.chroma[pc]]
        bar += phrase.bars
    return ev.Song(song_id=song_id, n_bars=bar, tracks=(tuple(melody), (), tuple(sorted(piano))),
                   chords=tuple(chords), keys=((0, C_MAJOR),),
                   phrase_starts=tuple(r[0] for r in rows), phrases=tuple(rows))


def task_of(song: ev.Song, **kwargs: Any) -> se.SongTask:
    tasks, _ = se.choose_forms([song], seed=0, **kwargs)
    assert len(tasks) == 1
    return tasks[0]


def a_table() -> cb.ChordBigram:
    def one(symbols: str) -> tuple[list[ChordSpan], list[tuple[int, Key]], int]:
        chords = [ChordSpan(start=8 * i, duration=8, chord=parse_symbol(s))
                  for i, s in enumerate(symbols.split())]
        return chords, [(0, C_MAJOR)], 8 * len(chords)

    return cb.fit_bigram([one("C G Am F " * 8) for _ in range(3)] + [one("Dm G C Am " * 4)])


# ----------------------------------------------------------------------------- forms


def test_phrases_are_tiled_from_the_first_label() -> None:
    assert se.tile_phrases([(2, 4, "i"), (6, 8, "A"), (14, 8, "B")]) == (
        2, (Phrase("i", 4), Phrase("A", 8), Phrase("B", 8)))
    # a gap lengthens the phrase before it; an overlap is cut off the front
    assert se.tile_phrases([(0, 4, "A"), (6, 4, "B"), (8, 4, "A")]) == (
        0, (Phrase("A", 6), Phrase("B", 4), Phrase("A", 2)))
    # a phrase inside the previous one is dropped
    assert se.tile_phrases([(0, 8, "A"), (2, 4, "B"), (8, 4, "C")]) == (
        0, (Phrase("A", 8), Phrase("C", 4)))
    assert se.tile_phrases([]) == (0, ())
    assert se.form_string(parse_form("i4A8B8A8o4")) == "i4A8B8A8o4"


def test_forms_are_cut_at_a_phrase_boundary_between_32_and_40_bars() -> None:
    def cut(form: str) -> str:
        return se.form_string(se.truncate_form(parse_form(form)))

    assert cut("i4A8B8A8B8o4") == "i4A8B8A8B8o4"  # 40 bars: all of it
    assert cut("A8A8A8A8A8A8") == "A8A8A8A8A8"  # the longest run within 40
    assert cut("A16B16C16") == "A16B16"
    assert cut("A30B20") == ""  # no boundary between 32 and 40
    assert cut("A8B8") == ""


def test_choose_forms_counts_what_it_skips() -> None:
    songs = [synthetic_song("i2A8B8A8B8C8", song_id="001", offset=3),
             synthetic_song("A8B8", song_id="002"),
             synthetic_song("A30B20", song_id="003"),
             ev.Song(song_id="004", n_bars=40, tracks=((), (), ()), chords=(),
                     keys=((0, C_MAJOR),))]
    tasks, skipped = se.choose_forms(songs, seed=5)
    assert skipped == {"no phrase labels": 1, "too short": 1, "no boundary": 1}
    (task,) = tasks
    assert task.form == "i2A8B8A8B8" and task.n_bars == 34 and task.start_bar == 3
    assert task.key == C_MAJOR and task.seed == se.task_seed(5, "001")
    # the ground truth is cut from the first labelled bar: the intro, not the pickup
    assert task.truth.melody[:3] == (n(0, 60, 16), n(16, 60, 16), n(32, 72, 4))
    assert task.truth.n_bars == 34 and task.truth.phrases == task.phrases
    assert se.choose_forms(songs, seed=5, limit=1)[0] == tasks
    with pytest.raises(ValueError, match="min-bars"):
        se.choose_forms(songs, seed=0, min_bars=40, max_bars=32)


# ------------------------------------------------------------------------------ ILS


def test_bar_features_weigh_duration_and_split_at_bar_lines() -> None:
    piece = se.Piece(n_bars=2, melody=(n(8, 60, 16), n(16, 64, 4)),
                     chords=(ChordSpan(0, 24, parse_symbol("C")),),
                     accompaniment=(), phrases=(Phrase("A", 2),), keys=((0, C_MAJOR),))
    f = se.bar_features(piece)
    assert f["melody_pc"][0, 0] == 1.0  # C for 8 steps of bar 0
    assert f["melody_pc"][1, 0] == pytest.approx(8 / 12) and f["melody_pc"][1, 4] == (
        pytest.approx(4 / 12))
    assert f["melody_onset"][0, 8] == 1.0 and f["melody_onset"][1, 0] == 1.0
    assert f["chords_pc"][0, [0, 4, 7]].tolist() == pytest.approx([1 / 3] * 3)
    assert f["chords_onset"][0, 0] == 1.0 and not f["chords_onset"][1].any()
    assert not f["accompaniment_pc"].any()


def test_phrase_similarity_skips_silent_pairs_and_aligns_the_shorter() -> None:
    features = np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 0.0], [0.0, 0.0], [0.0, 1.0]])
    assert se.phrase_similarity(features, (0, 2), (2, 2)) == 1.0  # silent pair skipped
    assert se.phrase_similarity(features, (0, 1), (3, 2)) == 0.0  # silent vs sounding
    assert se.phrase_similarity(features, (0, 2), (4, 1)) == 0.0  # over one bar
    assert math.isnan(se.phrase_similarity(features, (1, 1), (3, 1)))


def test_identical_repeats_give_a_melody_ils_above_one_and_shuffling_removes_it() -> None:
    task = task_of(synthetic_song(vary=3))
    truth = se.piece_metrics(task.truth, None)
    assert truth["ils_melody_pc"] > 1.2 and truth["ils_melody_onset"] > 1.2
    assert truth["same_melody_onset"] == pytest.approx(1.0)  # rhythm repeats exactly
    assert truth["ils_chords_pc"] > 1.2 and truth["ils_accompaniment_pc"] > 1.2
    shuffled = [se.piece_metrics(se.shuffled_form(se.SongTask(
        song_id=task.song_id, start_bar=0, phrases=task.phrases, key=task.key, seed=seed,
        truth=task.truth)), None)["ils_melody_pc"] for seed in range(40)]
    assert np.nanmean(shuffled) < truth["ils_melody_pc"] - 0.2
    assert abs(np.nanmean(shuffled) - 1.0) < 0.15


def test_shuffled_forms_keep_the_letters_and_which_phrases_are_melodic() -> None:
    task = task_of(synthetic_song())
    for seed in range(5):
        piece = se.shuffled_form(se.SongTask(song_id="001", start_bar=0, phrases=task.phrases,
                                             key=C_MAJOR, seed=seed, truth=task.truth))
        assert sorted(p.letter for p in piece.phrases) == sorted(p.letter for p in task.phrases)
        assert [p.melodic for p in piece.phrases] == [p.melodic for p in task.phrases]
        assert [p.bars for p in piece.phrases] == [p.bars for p in task.phrases]
        assert piece.melody == task.truth.melody


def test_ils_counts_only_melodic_phrases_for_the_melody() -> None:
    features = np.eye(4)[[0, 0, 1, 2]]  # bars: i, A, b, A... one bar each
    phrases = (Phrase("x", 1), Phrase("A", 1), Phrase("x", 1), Phrase("A", 1))
    every = se.ils(features, phrases)
    melodic = se.ils(features, phrases, melodic_only=True)
    assert melodic.same == 0.0 and math.isnan(melodic.ratio)  # A vs A: bars 0 vs 2 differ
    assert every.same == 0.0 and every.all == pytest.approx(1 / 6)
    assert math.isnan(se.ils(features, (Phrase("A", 2), Phrase("B", 2))).ratio)


# ------------------------------------------------------------------------ lead sheet


def test_lead_sheet_figures_on_a_small_piece() -> None:
    chords = (ChordSpan(0, 16, parse_symbol("C")), ChordSpan(16, 8, parse_symbol("Cmaj7")),
              ChordSpan(24, 8, parse_symbol("G")), ChordSpan(32, 16, parse_symbol("N")))
    melody = (n(0, 60, 4), n(4, 62, 4), n(8, 64, 8), n(16, 71, 8), n(24, 66, 8), n(40, 72, 4))
    piece = se.Piece(n_bars=4, melody=melody, chords=chords,
                     accompaniment=(n(0, 48, 16), n(16, 49, 16)),
                     phrases=(Phrase("A", 4),), keys=((0, C_MAJOR),))
    table = a_table()
    values = se.lead_sheet_metrics(piece, table)
    assert values["pcu"] == pytest.approx((3 + 2 + 1) / 3)  # bars with notes only
    assert values["tup"] == pytest.approx((3 + 2 + 1) / 3)
    assert values["pr"] == 12 and values["notes_per_bar"] == pytest.approx(6 / 4)
    # on chord tones: C, E (12 of 16 steps), B over Cmaj7 (8), not F# over G (8)
    assert values["chord_tone"] == pytest.approx((4 + 8 + 8) / (4 + 4 + 8 + 8 + 8))
    assert values["changes_per_bar"] == pytest.approx(1 / 4)  # I -> V; C -> Cmaj7 is none
    expected = table.log_prob(cb.chord_token(parse_symbol("C"), C_MAJOR) or 0,
                              cb.chord_token(parse_symbol("G"), C_MAJOR) or 0, 0)
    assert values["chord_logp"] == pytest.approx(expected)
    assert values["chord_types"] == 2 and values["chord_cover"] == pytest.approx(0.5)
    assert values["ook_melody"] == pytest.approx(1 / 6)  # F#
    assert values["ook_accomp"] == pytest.approx(1 / 2)  # C#
    assert math.isnan(se.lead_sheet_metrics(piece, None)["chord_logp"])
    silent = se.lead_sheet_metrics(se.Piece(n_bars=2, melody=(), chords=(), accompaniment=(),
                                            phrases=(), keys=((0, C_MAJOR),)), None)
    assert math.isnan(silent["pcu"]) and math.isnan(silent["chord_tone"])
    assert silent["notes_per_bar"] == 0 and silent["chord_cover"] == 0


# --------------------------------------------------------------------------- systems


class FakePipeline:
    """``Pipeline.song`` that plays each letter's motif: the form followed exactly, or
    with ``use_form=False`` the A motif throughout; records its calls."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def song(self, form: Any, *, key: Key, options: Any = None, fixed: Any = None
             ) -> SimpleNamespace:
        self.calls.append({"form": tuple(form), "key": key, "options": options,
                           "fixed": fixed})
        letters = "".join(p.letter * p.bars for p in form)
        if not options.use_form:
            letters = "A" * len(letters)
        melody = tuple(n(16 * b + s, p, d) for b, letter in enumerate(letters)
                       for s, p, d in MOTIFS.get(letter, MOTIFS["A"]))
        chords = tuple(fixed.chords) or tuple(
            ChordSpan(16 * b, 16, parse_symbol("F" if letter == "B" else "C"))
            for b, letter in enumerate(letters))
        return SimpleNamespace(n_bars=len(letters), melody=melody, chords=chords,
                               accompaniment=(n(0, 48, 16),))


def test_model_systems_call_the_pipeline_with_the_form_key_and_seed() -> None:
    tasks, _ = se.choose_forms([synthetic_song(song_id="001"), synthetic_song(song_id="002")],
                               seed=1)
    table = a_table()
    fake = FakePipeline()
    systems = se.build_systems(list(se.SYSTEMS), bigram=table, pipeline_loader=lambda: fake,
                               steps=3)
    report = se.evaluate_songs(tasks, systems, bigram=table, seed=1, n_resamples=50,
                               skipped={"too short": 2}, config={"x": 1})
    assert len(fake.calls) == 6  # three model systems, two songs
    first = fake.calls[0]
    assert first["form"] == tasks[0].phrases and first["key"] == C_MAJOR
    assert first["options"].seed == tasks[0].seed and first["options"].steps == 3
    assert [c["options"].use_form for c in fake.calls] == [True, True, False, False, True,
                                                             True]
    assert fake.calls[4]["fixed"].chords == se.bigram_chords(table, tasks[0])
    assert not fake.calls[0]["fixed"].chords
    rows = report.systems
    assert set(rows) == set(se.SYSTEMS)
    assert rows["song"]["ils_melody_pc"] > 1.5  # motifs follow the form
    assert rows["song_no_form"]["ils_melody_pc"] == pytest.approx(1.0)  # all bars alike
    assert rows["bigram_chords"]["ils_melody_pc"] == rows["ground_truth"]["ils_melody_pc"]
    assert rows["song_bigram_chords"]["chord_logp"] == pytest.approx(
        rows["bigram_chords"]["chord_logp"])
    assert report.intervals["ground_truth"]["ils_melody_pc"][0] <= rows["ground_truth"][
        "ils_melody_pc"]
    assert "song" not in report.differences and "ground_truth" in report.differences
    assert all(r["seconds"] >= 0 for r in report.per_song["song"])
    text = se.format_tables(report)
    assert "song_bigram_chords" in text and "melody pc" in text and "bigram logp" in text
    assert "2 too short" in se.describe(report)
    data = json.loads(json.dumps(report.to_json()))
    assert data["skipped"] == {"too short": 2} and data["config"] == {"x": 1}
    assert len(data["per_song"]["song"]) == 2 and data["songs"][0]["form"] == tasks[0].form
    assert data["bigram"]["songs"] == 4
    markdown = se.format_tables(report, markdown=True)
    assert markdown.count("| system |") == len(se.TABLES)


def test_unknown_systems_and_missing_parts_are_input_errors() -> None:
    with pytest.raises(ValueError, match="unknown system"):
        se.build_systems(["ground_truth", "nope"], bigram=None)
    with pytest.raises(ValueError, match="--cache"):
        se.build_systems(["bigram_chords"], bigram=None)
    with pytest.raises(ValueError, match="needs a model"):
        se.build_systems(["song"], bigram=None)
    with pytest.raises(ValueError, match="no songs"):
        se.evaluate_songs([], [], bigram=None)


# ------------------------------------------------------------------------- the command


def test_eval_song_command_writes_tables_and_json(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pop909").mkdir()
    songs = [synthetic_song(song_id=f"00{i}", vary=i + 1) for i in range(1, 4)]
    seen: list[list[str]] = []

    def fake_load(data: Any, ids: list[str]) -> list[ev.Song]:
        seen.append(ids)
        return [s for s in songs if s.song_id in ids]

    monkeypatch.setattr("diffjam.commands.song_eval.load_songs", fake_load)
    out = tmp_path / "r" / "eval-song.json"
    code = main(["eval-song", "--data", str(tmp_path), "--songs", "1,2,3", "--systems",
                 "ground_truth,shuffled_form", "--bootstrap", "20", "--limit", "2",
                 "--out", str(out)])
    assert code == 0 and seen == [["001", "002", "003"]]
    printed = capsys.readouterr().out
    assert "2 songs, forms of 32-32 bars" in printed and "shuffled_form" in printed
    data = json.loads(out.read_text())
    assert [s["song_id"] for s in data["songs"]] == ["001", "002"]
    assert data["config"]["systems"] == ["ground_truth", "shuffled_form"]
    assert data["systems"]["ground_truth"]["ils_melody_pc"] > 1


def test_eval_song_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    (tmp_path / "pop909").mkdir()
    for argv, text in [
        (["--data", str(tmp_path / "none")], "has no pop909/ folder"),
        (["--data", str(tmp_path), "--systems", "ground_truth,nope"], "unknown system"),
        (["--data", str(tmp_path), "--systems", "bigram_chords"], "pass --cache"),
        (["--data", str(tmp_path), "--limit", "0"], "--limit must be >= 1"),
    ]:
        code = main(["eval-song", "--songs", "001", *argv])
        err = [line for line in capsys.readouterr().err.splitlines()
               if line.strip() and "WARNING" not in line]
        assert code == 2, argv
        assert len(err) == 1 and text in err[0], (argv, err)


def test_eval_song_on_pop909(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not (DATA / "pop909" / "001").is_dir() or not CACHE.is_file():
        pytest.skip(f"POP909 at {DATA} or the cache {CACHE} not found")
    out = tmp_path / "e.json"
    code = main(["eval-song", "--data", os.fspath(DATA), "--songs", "001,002,003,005",
                 "--cache", os.fspath(CACHE), "--systems",
                 "ground_truth,shuffled_form,bigram_chords", "--bootstrap", "0",
                 "--out", str(out)])
    assert code == 0
    data = json.loads(out.read_text())
    truth = data["systems"]["ground_truth"]
    assert all(32 <= s["n_bars"] <= 40 for s in data["songs"])
    assert truth["ils_melody_pc"] > 1.0
    assert -3.5 < truth["chord_logp"] < -1.0
    assert data["systems"]["bigram_chords"]["chord_cover"] == 1.0
