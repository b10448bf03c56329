"""The results page, ``docs/results.md``: what ``diffjam results``
(:mod:`diffjam.commands.evaluate`) writes after running ``eval`` for every task (or
reading its JSON).

The page holds, per task, the tables of the model and every baseline with song-level
bootstrap 95 % intervals, the machine (CPU model, cores, torch version), the commit
(``git rev-parse HEAD``, read only), the date, the exact settings, optionally the
benchmark JSON of ``diffjam bench``, and a commentary section. Each baseline cell whose
difference from the headline model row (``model_no_chords`` for infill, ``model``
otherwise) has a paired bootstrap interval that excludes 0 is marked ``†``, and a table
lists those differences for the figures that decide the model issue. Regenerating the
page keeps the commentary already written under its ``## Commentary`` heading.
``--from-json`` renders the page from ``diffjam eval`` reports (:func:`load_reports`)
instead of running them.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine import eval_report as er
from engine import evaluate as ev
from engine.baselines import TASKS, WINDOW_BARS, Protocol
from engine.bootstrap import DEFAULT_RESAMPLES
from engine.errors import InputError

__all__ = ["COMMENTARY_HEADING", "existing_commentary", "git_commit", "load_reports",
           "paired_section", "render_results"]

logger = logging.getLogger(__name__)

COMMENTARY_HEADING = "## Commentary"
COMMENTARY_PLACEHOLDER = (
    "_To be written by whoever runs this: what the numbers say, where the model loses to a\n"
    "baseline and why, what the metrics cannot see (listen to the samples)._\n"
)

# Figures compared with the headline model in the differences table, per task.
KEY_FIGURES = {
    "infill": ("note_f1", "beat_pc_f1", "density_ratio", "topline_abs_diff", "chord_acc",
               "chord_acc_accomp", "consistency_pitch", "variance_pitch", "ook_step", "si"),
    "accompany": ("chord_acc", "chord_acc_beat", "density_ratio", "polyphony_ratio",
                  "beat_pc_f1", "consistency_pitch", "variance_pitch", "ook_step", "si"),
    "generate": ("consistency_pitch", "variance_pitch", "consistency_duration",
                 "variance_duration", "ook_step", "si"),
}


def task_text(task: str, config: dict[str, Any]) -> str:
    """One paragraph on what a task gives and asks, for the report's protocol."""
    window = int(config.get("window_bars", WINDOW_BARS))
    protocol = Protocol(window, config.get("gap_bars"))
    start, stop = protocol.gap
    if task == "infill":
        return (f"Infilling: the whole arrangement of each {window}-bar window is given "
                f"except bars {start + 1}-{stop} ({stop - start} bars), which systems "
                "regenerate. `model_no_chords` (the headline row) gets no chord labels; the "
                "other model rows, `label_pad`, the rule baselines and `retrieval` use them. "
                "POP909 songs repeat whole phrases, so the copy baselines are strong on "
                "fidelity to the real bars.")
    if task == "accompany":
        return (f"Accompaniment: chords and melody given, systems write the PIANO part of "
                f"the {window} bars.")
    return (f"Unconditional generation of {window} bars (no chords, no key): chord "
            "metrics do not apply; out-of-key is measured against the best-fitting key.")


def git_commit(repo: str | os.PathLike[str] | None = None) -> str:
    """``git rev-parse HEAD`` of ``repo``, with ``" + uncommitted changes"`` when ``git
    status --porcelain`` lists tracked changes (both read only), or ``"unknown"``."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                                cwd=repo, capture_output=True, text=True, timeout=30,
                                check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if not head:
        return "unknown"
    return head + (" + uncommitted changes" if status else "")


def existing_commentary(path: Path) -> str | None:
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    if COMMENTARY_HEADING not in text:
        return None
    return text.split(COMMENTARY_HEADING, 1)[1].lstrip("\n")


def _bench_section(bench: dict[str, Any]) -> list[str]:
    lines = ["## Speed", "",
             f"`diffjam bench`: {bench.get('threads')} CPU threads, p50 and p99 of "
             f"{bench.get('repeats')} runs after a warm-up (reference rows: "
             f"{bench.get('reference_repeats')} run), beside the number of busy processes "
             "in the load column. Model load: "
             + ", ".join(f"{d} {1000 * s:.0f} ms" for d, s in bench.get("load_seconds",
                                                                         {}).items())
             + f". Peak RSS {bench.get('peak_rss_mib', 0):.0f} MiB"
             + (f", CUDA max allocated {bench['cuda_max_allocated_mib']:.0f} MiB"
                if bench.get("cuda_max_allocated_mib") is not None else "") + ".", "",
             "| device | load | setting | task | bars | steps | batch | p50 ms | p99 ms | nfe |",
             "|---|---:|---|---|---:|---:|---:|---:|---:|---:|"]

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{1000 * value:.0f}"

    for row in bench.get("rows", []):
        lines.append(
            f"| {row['device']} | {row.get('load', 0)} | {row['label']} ({row['sampler']}, "
            f"guidance {row['guidance']}) | {row['task']} | {row['bars']} | {row['steps']} | "
            f"{row['variations']} | {ms(row.get('median_s'))} | {ms(row.get('p99_s'))} | "
            f"{row.get('nfe') or '-'} |")
    return [*lines, ""]


def _format_difference(diff: er.Difference, fmt: str) -> str:
    scale = 100.0 if fmt == "pct" else 1.0
    digits = 2 if fmt in ("pct", ".2f", ".1f") else 3
    text = (f"{scale * diff.value:+.{digits}f} ({scale * diff.lo:+.{digits}f}, "
            f"{scale * diff.hi:+.{digits}f})")
    return text + (" †" if diff.outside else "")


def paired_section(report: er.EvalReport, *, n_resamples: int = DEFAULT_RESAMPLES,
                   seed: int = 0) -> tuple[list[str], dict[str, set[str]]]:
    """Markdown lines of the "headline model minus each baseline" table and the marks
    (per system, the figures whose paired difference from the headline excludes 0).
    Empty when the report has no model row or no per-window data."""
    headline = er.headline_system(report)
    if headline is None or not report.per_segment.get(headline):
        return [], {}
    columns = {c.key: c for _, cols in er.table_columns(report.task) for c in cols}
    figures = [k for k in KEY_FIGURES[report.task] if k in columns]
    marks: dict[str, set[str]] = {}
    rows = []
    for name in report.systems:
        if name == headline or not report.per_segment.get(name):
            continue
        diffs = er.paired_differences(report, headline, name, n_resamples=n_resamples,
                                      seed=seed)
        marks[name] = {k for k, d in diffs.items() if d.outside}
        rows.append(f"| {name} | " + " | ".join(
            _format_difference(diffs[k], columns[k].fmt) if k in diffs else "-"
            for k in figures) + " |")
    lines = [f"`{headline}` minus each system, paired song-level bootstrap 95 % interval "
             "in brackets; † where the interval excludes 0 (percentage points for the "
             "% columns).", "",
             "| system | " + " | ".join(columns[k].title for k in figures) + " |",
             "|" + "|".join(["---"] + ["---:"] * len(figures)) + "|", *rows, ""]
    return lines, marks


def render_results(reports: Sequence[er.EvalReport], *, machine: dict[str, Any], commit: str,
                   date: str, command: str, bench: dict[str, Any] | None = None,
                   commentary: str | None = None) -> str:
    """The Markdown page (see the module docstring)."""
    first = reports[0] if reports else None
    config = first.config if first else {}
    window = config.get("window_bars", WINDOW_BARS)
    lines = [
        "# Results", "",
        "Generated by `diffjam results`; metric definitions in [metrics.md](metrics.md).", "",
        f"- date: {date}",
        f"- commit: `{commit}`",
        f"- machine: {machine.get('cpu')}, {machine.get('logical_cores')} logical cores, "
        f"torch {machine.get('torch')}, Python {machine.get('python')}"
        + (f", GPU {machine['cuda']}" if machine.get("cuda") else ""),
        f"- command: `{command}`",
        f"- songs: `{config.get('songs')}`"
        + (f" (line `{config['subset']}`)" if config.get("subset") else "")
        + f", {config.get('n')} window(s) of {window} bars per song, seed {config.get('seed')}",
        f"- model: `{config.get('model') or 'bundled'}`, {config.get('steps')} steps, "
        f"guidance {config.get('guidance')}, in-key projection "
        f"{'on' if config.get('in_key') else 'off'}"
        if any(n in ev.MODEL_VARIANTS for n in config.get("systems", ["model"]))
        else "- model: not evaluated in this run",
        "",
        "Cells: the mean over windows and, in brackets, its song-level bootstrap 95 % "
        "interval; † marks a baseline figure whose paired difference from the headline "
        "model row excludes 0. C/V = Consistency/Variance of the framewise overlapping "
        "areas against the OA reference (1 is best; V is 0 for any system whose OA "
        "variance is twice the reference's, so read the OA mean/var columns too); the "
        "top-line tables are the melody-only variant. Fidelity: generated notes against "
        "the real ones of the same bars (F1 and gen/real ratios, 1 is best; top line Δ "
        "in semitones, 0 is best). OOK steps/notes % = share of 16th steps / of notes out "
        "of the annotated key; OOK+chord also allows the sounding chord's tones. Chord "
        "accuracy per span and per beat (and, for infill, on the notes below the top "
        "line); `label_pad` is its ceiling. PCU, TUP, PR, SI, notes/bar, poly: compare "
        "with `ground_truth`; seam errors: |jump - ground-truth jump| at the gap borders "
        "(0 is best); s/seg: seconds per window.",
        "",
    ]
    for report in reports:
        n_resamples = int(report.config.get("bootstrap") or DEFAULT_RESAMPLES)
        seed = int(report.config.get("seed") or 0)
        paired, marks = paired_section(report, n_resamples=n_resamples, seed=seed)
        lines += [f"## {report.task}", "", task_text(report.task, report.config), "",
                  er.describe_report(report) + ".", "",
                  er.format_table(report, markdown=True, marks=marks), ""]
        if paired:
            lines += [f"### {er.headline_system(report)} against each system", "", *paired]
    if bench is not None:
        lines += _bench_section(bench)
    lines += [COMMENTARY_HEADING, "", (commentary or COMMENTARY_PLACEHOLDER).rstrip("\n"), ""]
    return "\n".join(lines)


def load_reports(paths: Sequence[Path]) -> list[er.EvalReport]:
    """Eval reports from JSON files, in task order."""
    reports = []
    for path in paths:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise InputError(f"cannot read the eval report {path}: {err}") from err
        reports.append(er.EvalReport.from_json(data))
    return sorted(reports, key=lambda r: TASKS.index(r.task) if r.task in TASKS else 99)
