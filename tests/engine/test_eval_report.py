"""The eval report: figures, paired differences, tables and JSON, on synthetic songs."""

from __future__ import annotations

import math

import pytest

from engine import eval_report as er
from engine import evaluate as ev
from engine.baselines import ground_truth_system
from engine.errors import InputError
from tests.engine.test_evaluate import silent_system, synthetic_song


def test_paired_differences_and_marks() -> None:
    segments = ev.choose_segments([synthetic_song(f"00{i}") for i in range(1, 6)],
                                  n_per_song=1, seed=0)
    report = ev.evaluate(segments, [ground_truth_system(), silent_system()], task="infill",
                         seed=0, n_resamples=200)
    same = er.paired_differences(report, "ground_truth", "ground_truth", n_resamples=200)
    assert same["note_f1"].value == 0.0 and not same["note_f1"].outside
    diff = er.paired_differences(report, "ground_truth", "silent", n_resamples=200)
    # the real bars match themselves (F1 1), silence matches nothing (F1 0) in every song
    assert diff["note_f1"].value == pytest.approx(1.0)
    assert (diff["note_f1"].lo, diff["note_f1"].hi) == pytest.approx((1.0, 1.0))
    assert diff["note_f1"].outside
    assert "consistency_pitch" in diff
    marked = er.format_table(report, marks={"silent": {"note_f1"}})
    assert "0.000 (0.000–0.000) †" in marked


def test_headline_system() -> None:
    def report(task: str, names: list[str]) -> er.EvalReport:
        return er.EvalReport(task=task, segments=(), systems={n: {} for n in names},
                             per_segment={})

    assert er.headline_system(report("infill", ["model", "model_no_chords", "x"])) == \
        "model_no_chords"
    assert er.headline_system(report("infill", ["model", "x"])) == "model"
    assert er.headline_system(report("accompany", ["model_no_chords", "model"])) == "model"
    assert er.headline_system(report("generate", ["ground_truth"])) is None


def test_reports_written_before_intervals_still_load() -> None:
    old = {"task": "infill", "config": {"songs": "001"},
           "segments": [{"song_id": "001", "start_bar": 0}],
           "systems": {"model": {"chord_acc": 0.5, "polyphony": None}},
           "per_segment": {"model": [{"chord_acc": 0.5, "polyphony": None}]}}
    report = er.EvalReport.from_json(old)
    assert report.intervals == {} and report.oa == {}
    assert math.isnan(report.systems["model"]["polyphony"])
    assert "0.500" in er.format_table(report)
    with pytest.raises(InputError, match="eval report"):
        er.EvalReport.from_json({"systems": {}})


def test_one_song_gets_no_interval_and_no_mark() -> None:
    # every resample of one song is that song: its "interval" would be a point, and any
    # difference would look certain
    segments = ev.choose_segments([synthetic_song("001")], n_per_song=1, seed=0)
    report = ev.evaluate(segments, [ground_truth_system(), silent_system()], task="infill",
                         seed=0, n_resamples=50)
    assert report.intervals == {}
    diff = er.paired_differences(report, "ground_truth", "silent", n_resamples=50)
    assert diff["note_f1"].value == 1.0 and not diff["note_f1"].outside
    assert "–" not in er.format_table(report)  # no "(lo–hi)" in any cell
