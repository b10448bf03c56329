"""``diffjam results``: the page, its marks and its differences table, from reports."""

from __future__ import annotations

import json
from pathlib import Path

from engine import eval_report as er
from engine import evaluate as ev
from engine.baselines import System, ground_truth_system
from tests.engine.test_evaluate import FakePipeline, silent_system, synthetic_song


def _small_report(task: str = "accompany", systems: list[System] | None = None
                  ) -> er.EvalReport:
    segments = ev.choose_segments([synthetic_song(f"00{i}") for i in (1, 2, 3)],
                                  n_per_song=1, seed=0)
    return ev.evaluate(segments, systems or [ground_truth_system()], task=task, seed=0,
                       config={"songs": "001", "n": 1, "seed": 0, "steps": 10,
                               "guidance": 2.0, "in_key": True, "window_bars": 8,
                               "bootstrap": 50},
                       n_resamples=50)


def test_results_page_keeps_the_commentary(tmp_path: Path) -> None:
    from engine import results

    page = results.render_results(
        [_small_report("accompany"), _small_report("generate")],
        machine={"cpu": "Test CPU", "logical_cores": 2, "torch": "2.13.0", "python": "3.11"},
        commit="abc123", date="2026-01-01 00:00 UTC", command="diffjam results ...")
    assert "commit: `abc123`" in page and "Test CPU, 2 logical cores, torch 2.13.0" in page
    assert "## accompany" in page and "## generate" in page
    # one row per table: accompany has 4 tables, generate 4
    assert page.count("| ground_truth |") == 8
    assert "window(s) of 8 bars per song" in page
    assert results.COMMENTARY_HEADING in page and "_To be written" in page
    out = tmp_path / "results.md"
    out.write_text(page.replace("_To be written by whoever runs this", "Our notes"))
    kept = results.existing_commentary(out)
    assert kept is not None and kept.startswith("Our notes")
    again = results.render_results([_small_report()], machine={}, commit="def", date="d",
                                   command="c", commentary=kept)
    assert "Our notes" in again and "_To be written" not in again


def test_results_page_marks_differences_from_the_model(tmp_path: Path) -> None:
    from engine import results

    fake = FakePipeline()
    model = ev.build_systems(["model_no_chords"], library=None, pipeline_loader=lambda: fake,
                             steps=5, guidance=3.0, in_key=True)[0]
    report = _small_report("infill", [model, ground_truth_system(), silent_system()])
    page = results.render_results([report], machine={}, commit="c", date="d", command="c")
    assert "### model_no_chords against each system" in page
    # the fake model plays one C4 a bar; the real bars hold many notes: the model's note
    # count differs from the ground truth's in every song, so the cell is marked
    line = next(x for x in page.splitlines() if x.startswith("| ground_truth |")
                and "+" in x)
    assert "†" in line
    assert "bars 3-6 (4 bars) regenerated" in page
    # the same page from the report's JSON
    path = tmp_path / "eval-infill.json"
    path.write_text(json.dumps(report.to_json()))
    (loaded,) = results.load_reports([path])
    again = results.render_results([loaded], machine={}, commit="c", date="d", command="c")
    assert again == page


def test_the_page_s_command_remakes_it_with_its_bench(tmp_path: Path) -> None:
    # the command the page states, run again, gives the same page: the eval reports and
    # the bench JSON its speed section reads both go on it
    from diffjam.cli import main

    report = tmp_path / "eval-accompany.json"
    report.write_text(json.dumps(_small_report().to_json()))
    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps({"threads": 1, "repeats": 3, "reference_repeats": 1,
                                 "load_seconds": {"cpu": 1.0}, "peak_rss_mib": 500.0,
                                 "rows": []}))
    out = tmp_path / "results.md"
    assert main(["results", "--from-json", str(report), "--bench", str(bench),
                 "--out", str(out)]) == 0
    page = out.read_text()
    assert f"- command: `diffjam results --from-json {report} --bench {bench}`" in page
    assert "## Speed" in page and "Peak RSS 500 MiB" in page
    # the stated command, run as written, makes the same page (its date aside)
    stated = next(line for line in page.splitlines() if line.startswith("- command: "))
    again = tmp_path / "again.md"
    assert main([*stated.removeprefix("- command: `diffjam ").rstrip("`").split(),
                 "--out", str(again)]) == 0

    def undated(text: str) -> list[str]:
        return [line for line in text.splitlines() if not line.startswith("- date: ")]

    assert undated(again.read_text()) == undated(page)
