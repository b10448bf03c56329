"""The report of ``diffjam eval``: figures, intervals, comparisons and tables.

An :class:`EvalReport` holds, for one task, every system's per-window metric values and
OA lists (``engine.evaluate`` fills it); this module turns them into the figures of the
tables (means over windows, pooled OA moments, Consistency/Variance against the OA
reference), their song-level bootstrap intervals (``engine.bootstrap``), paired
differences between two systems, and text or Markdown tables. A report round-trips
through JSON (:meth:`EvalReport.to_json`, :meth:`EvalReport.from_json`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine import metrics
from engine.baselines import WINDOW_BARS, Protocol
from engine.bootstrap import DEFAULT_RESAMPLES, SongBootstrap, excludes_zero, percentile_interval
from engine.errors import InputError

__all__ = [
    "COLUMN_GROUPS",
    "HEADLINE",
    "MIN_SONGS",
    "OA_KEYS",
    "Column",
    "Difference",
    "EvalReport",
    "describe_report",
    "figure_samples",
    "format_cell",
    "format_table",
    "headline_system",
    "nanmean",
    "paired_differences",
    "pooled_moments",
    "render_rows",
    "report_intervals",
    "summarize",
    "table_columns",
]

# The model row other systems are compared with, per task, first one present: infill is
# judged without chords (the model issue's target), the other tasks as shipped.
HEADLINE = {"infill": ("model_no_chords", "model"), "accompany": ("model",),
            "generate": ("model",)}
# Fewest songs a bootstrap interval is given for.
MIN_SONGS = 2
# OA lists per clip: pitch and duration of all notes, and of the clip's top line.
OA_KEYS = ("pitch", "duration", "melody_pitch", "melody_duration")


def nanmean(values: Iterable[float]) -> float:
    """Mean of the finite values (NaN without any)."""
    array = np.asarray(list(values), dtype=np.float64)
    array = array[np.isfinite(array)]
    return float(array.mean()) if array.size else math.nan


def pooled_moments(pools: Iterable[Sequence[float]]) -> tuple[float, float]:
    """Mean and population variance of the values of all ``pools`` together (NaN, NaN
    when there are none)."""
    values = np.array([v for pool in pools for v in pool], dtype=np.float64)
    if values.size == 0:
        return math.nan, math.nan
    return float(values.mean()), float(values.var())


@dataclass(frozen=True)
class EvalReport:
    """Results of one task.

    ``systems``: per system the mean of every per-window value over the windows (NaN
    where undefined) and, per OA key, the pooled OA mean and variance (``oa_mean_<key>``,
    ``oa_var_<key>``) and the Consistency/Variance against the reference
    (``consistency_<key>``, ``variance_<key>``). ``per_segment``: the per-window values;
    ``oa``: the per-window OA lists; ``truth_oa``: those of the evaluated ground truth;
    ``reference``: where the reference OA moments come from and what they are;
    ``intervals``: song-level bootstrap 95 % intervals of every figure of ``systems``.
    """

    task: str
    segments: tuple[tuple[str, int], ...]  # (song id, start bar)
    systems: dict[str, dict[str, float]]
    per_segment: dict[str, list[dict[str, float]]] = field(repr=False)
    config: dict[str, Any] = field(default_factory=dict)
    oa: dict[str, list[dict[str, list[float]]]] = field(default_factory=dict, repr=False)
    truth_oa: list[dict[str, list[float]]] = field(default_factory=list, repr=False)
    reference: dict[str, Any] = field(default_factory=dict)
    intervals: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)

    def reference_moments(self, key: str) -> tuple[float, float]:
        """(mean, variance) of the reference's OA values of ``key``."""
        if self.reference.get("independent"):
            mean, var = self.reference.get("moments", {}).get(key, (math.nan, math.nan))
            return (math.nan if mean is None else float(mean),
                    math.nan if var is None else float(var))
        return pooled_moments(seg.get(key, ()) for seg in self.truth_oa)

    def to_json(self) -> dict[str, Any]:
        def clean(value: Any) -> Any:
            if isinstance(value, float):
                return round(value, 6) if math.isfinite(value) else None
            if isinstance(value, dict):
                return {k: clean(v) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return [clean(v) for v in value]
            return value

        return {
            "format": 2,
            "task": self.task,
            "config": self.config,
            "segments": [{"song_id": s, "start_bar": b} for s, b in self.segments],
            "reference": clean(self.reference),
            "systems": clean(self.systems),
            "intervals": clean(self.intervals),
            "per_segment": clean(self.per_segment),
            "oa": clean(self.oa),
            "truth_oa": clean(self.truth_oa),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EvalReport:
        """A report from :meth:`to_json` output; reports written before intervals and OA
        lists existed load with those left empty."""
        def floats(row: dict[str, Any]) -> dict[str, float]:
            return {k: math.nan if v is None else float(v) for k, v in row.items()}

        try:
            return cls(
                task=data["task"],
                segments=tuple((s["song_id"], int(s["start_bar"])) for s in data["segments"]),
                systems={name: floats(row) for name, row in data["systems"].items()},
                per_segment={name: [floats(r) for r in rows]
                             for name, rows in data.get("per_segment", {}).items()},
                config=dict(data.get("config", {})),
                oa={name: [{k: [float(x) for x in v] for k, v in seg.items()} for seg in rows]
                    for name, rows in data.get("oa", {}).items()},
                truth_oa=[{k: [float(x) for x in v] for k, v in seg.items()}
                          for seg in data.get("truth_oa", [])],
                reference=dict(data.get("reference", {})),
                intervals={name: {k: (math.nan if v[0] is None else float(v[0]),
                                      math.nan if v[1] is None else float(v[1]))
                                  for k, v in row.items()}
                           for name, row in data.get("intervals", {}).items()},
            )
        except (KeyError, TypeError, ValueError, IndexError) as err:
            raise InputError(f"not an eval report: {err!r}") from err


def summarize(rows: Sequence[Mapping[str, float]], oa: Sequence[Mapping[str, Sequence[float]]],
             report_reference: Callable[[str], tuple[float, float]]) -> dict[str, float]:
    summary = {key: nanmean(row.get(key, math.nan) for row in rows) for key in rows[0]}
    for key in OA_KEYS:
        pools = [seg[key] for seg in oa if key in seg]
        if not pools:
            continue
        mean, var = pooled_moments(pools)
        ref_mean, ref_var = report_reference(key)
        score = metrics.consistency_variance_from_moments(mean, var, ref_mean, ref_var)
        summary.update({f"oa_mean_{key}": mean, f"oa_var_{key}": var,
                        f"consistency_{key}": score.consistency,
                        f"variance_{key}": score.variance})
    return summary


def figure_samples(report: EvalReport, system: str, boot: SongBootstrap
                   ) -> dict[str, np.ndarray]:
    """Bootstrap samples (each ``(boot.n_resamples,)``) of every figure of ``system``
    that the report's per-window data can give; ``boot`` must be built on the report's
    window songs (``[s for s, _ in report.segments]``) so that systems pair up."""
    rows = report.per_segment.get(system, [])
    if not rows:
        return {}
    samples = {key: boot.means([row.get(key, math.nan) for row in rows]) for key in rows[0]}
    oa = report.oa.get(system, [])
    for key in OA_KEYS:
        pools = [seg.get(key, []) for seg in oa]
        if not pools or not any(key in seg for seg in oa):
            continue
        mean, var = boot.pooled_moments(pools)
        if report.reference.get("independent"):
            ref_mean = np.full(boot.n_resamples, report.reference_moments(key)[0])
            ref_var = np.full(boot.n_resamples, report.reference_moments(key)[1])
        else:
            ref_mean, ref_var = boot.pooled_moments([seg.get(key, [])
                                                     for seg in report.truth_oa])
        scores = [metrics.consistency_variance_from_moments(float(m), float(v), float(rm),
                                                            float(rv))
                  for m, v, rm, rv in zip(mean, var, ref_mean, ref_var, strict=True)]
        samples[f"oa_mean_{key}"] = mean
        samples[f"oa_var_{key}"] = var
        samples[f"consistency_{key}"] = np.array([s.consistency for s in scores])
        samples[f"variance_{key}"] = np.array([s.variance for s in scores])
    return samples


def _bootstrap(report: EvalReport, n_resamples: int, seed: int) -> SongBootstrap:
    return SongBootstrap([s for s, _ in report.segments], n_resamples=n_resamples, seed=seed)


def report_intervals(report: EvalReport, *, n_resamples: int = DEFAULT_RESAMPLES,
                     seed: int = 0) -> dict[str, dict[str, tuple[float, float]]]:
    """Song-level bootstrap 95 % intervals of every figure of every system; none when the
    report has fewer than :data:`MIN_SONGS` songs (a resample of one song is that song)."""
    if len({s for s, _ in report.segments}) < MIN_SONGS:
        return {}
    boot = _bootstrap(report, n_resamples, seed)
    return {name: {key: percentile_interval(values)
                   for key, values in figure_samples(report, name, boot).items()}
            for name in report.systems}


@dataclass(frozen=True)
class Difference:
    """``value`` = figure of system A minus that of system B on the same windows, with the
    paired song-level bootstrap 95 % interval ``(lo, hi)``; ``outside``: 0 lies outside
    that interval."""

    value: float
    lo: float
    hi: float

    @property
    def outside(self) -> bool:
        return excludes_zero((self.lo, self.hi))


def paired_differences(report: EvalReport, a: str, b: str, *,
                       n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0
                       ) -> dict[str, Difference]:
    """Every figure of ``a`` minus that of ``b``, with paired bootstrap intervals (both
    figures from the same song resamples; NaN with fewer than :data:`MIN_SONGS` songs, so
    nothing is ever marked from one song)."""
    boot = _bootstrap(report, n_resamples, seed)
    first, second = figure_samples(report, a, boot), figure_samples(report, b, boot)
    enough = len({s for s, _ in report.segments}) >= MIN_SONGS
    out = {}
    for key in first.keys() & second.keys():
        value = report.systems[a].get(key, math.nan) - report.systems[b].get(key, math.nan)
        lo, hi = (percentile_interval(first[key] - second[key]) if enough
                  else (math.nan, math.nan))
        out[key] = Difference(value, lo, hi)
    return out


def headline_system(report: EvalReport) -> str | None:
    """The model row the baselines are compared with (:data:`HEADLINE`), if evaluated."""
    return next((name for name in HEADLINE[report.task] if name in report.systems), None)


# -------------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class Column:
    """A table column: metric key, header, format (a format spec, or ``pct`` for a share
    shown in per cent)."""

    key: str
    title: str
    fmt: str


COLUMN_GROUPS: dict[str, tuple[str, tuple[Column, ...]]] = {
    # group: (title, columns)
    "oa": ("Self-similarity (Mittal et al.): Consistency / Variance of framewise OA "
           "against the reference, 1 = like real music", (
               Column("consistency_pitch", "C pitch", ".3f"),
               Column("variance_pitch", "V pitch", ".3f"),
               Column("consistency_duration", "C dur", ".3f"),
               Column("variance_duration", "V dur", ".3f"),
               Column("oa_mean_pitch", "OA mean pitch", ".3f"),
               Column("oa_var_pitch", "OA var pitch", ".4f"))),
    "oa_melody": ("Self-similarity of the top line (melody-only variant)", (
        Column("consistency_melody_pitch", "C pitch", ".3f"),
        Column("variance_melody_pitch", "V pitch", ".3f"),
        Column("consistency_melody_duration", "C dur", ".3f"),
        Column("variance_melody_duration", "V dur", ".3f"))),
    "fidelity": ("Fidelity to the real bars (generated vs real, same bars)", (
        Column("note_f1", "note F1", ".3f"),
        Column("beat_pc_f1", "beat PC F1", ".3f"),
        Column("density_ratio", "notes gen/real", ".2f"),
        Column("polyphony_ratio", "poly gen/real", ".2f"),
        Column("topline_diff", "top line Δ st", ".2f"),
        Column("topline_abs_diff", "top line abs Δ st", ".2f"))),
    "harmony": ("Harmony (labels: POP909 chords and keys)", (
        Column("ook_step", "OOK steps %", "pct"),
        Column("ook_note", "OOK notes %", "pct"),
        Column("ook_chord_step", "OOK+chord steps %", "pct"),
        Column("chord_acc", "chord acc/span", ".3f"),
        Column("chord_acc_beat", "chord acc/beat", ".3f"),
        Column("chord_acc_accomp", "chord acc accomp", ".3f"),
        Column("chord_sim", "chord sim", ".3f"))),
    "texture": ("Texture and structure (compare with ground_truth)", (
        Column("pcu", "PCU", ".2f"), Column("tup", "TUP", ".1f"), Column("pr", "PR", ".1f"),
        Column("si", "SI", ".3f"), Column("density", "notes/bar", ".1f"),
        Column("polyphony", "poly", ".2f"),
        Column("seam_pitch_err", "seam pitch err", ".2f"),
        Column("seam_onsets_err", "seam onset err", ".2f"),
        Column("seconds", "s/seg", ".3f"))),
}

TASK_GROUPS = {
    "infill": ("oa", "oa_melody", "fidelity", "harmony", "texture"),
    "accompany": ("oa", "fidelity", "harmony", "texture"),
    "generate": ("oa", "oa_melody", "harmony", "texture"),
}


def table_columns(task: str) -> list[tuple[str, list[Column]]]:
    """(title, columns) of each table of a task; columns a task has no values for (seam
    errors outside infill, the accompaniment-part chord accuracy outside infill, key-
    and chord-based columns for generate) are left out."""
    skip = set()
    if task != "infill":
        skip |= {"seam_pitch_err", "seam_onsets_err", "chord_acc_accomp"}
    if task == "generate":
        skip |= {"ook_note", "ook_chord_step", "chord_acc", "chord_acc_beat", "chord_sim"}
    return [(COLUMN_GROUPS[g][0], [c for c in COLUMN_GROUPS[g][1] if c.key not in skip])
            for g in TASK_GROUPS[task]]


def _format_number(value: float | None, fmt: str) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    if fmt == "pct":
        return f"{100 * value:.2f}"
    return format(value, fmt)


def format_cell(value: float | None, interval: tuple[float, float] | None, fmt: str,
                mark: bool) -> str:
    """A table cell: ``value`` in ``fmt`` (a format spec, or ``pct``), its interval in
    brackets when finite, ``†`` when ``mark``; ``-`` for a missing value."""
    text = _format_number(value, fmt)
    if interval is not None and text != "-" and all(math.isfinite(x) for x in interval):
        text += f" ({_format_number(interval[0], fmt)}–{_format_number(interval[1], fmt)})"
    return text + (" †" if mark else "")


def render_rows(header: list[str], rows: list[list[str]], *, markdown: bool) -> list[str]:
    """The lines of a table: Markdown, or text columns aligned (the first to the left)."""
    if markdown:
        lines = ["| " + " | ".join(header) + " |",
                 "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
        return lines + ["| " + " | ".join(row) + " |" for row in rows]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def fmt_row(r: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(r, widths, strict=True)))

    return [fmt_row(header), fmt_row(["-" * w for w in widths])] + [fmt_row(r) for r in rows]


def format_table(report: EvalReport, *, markdown: bool = False,
                 marks: dict[str, set[str]] | None = None) -> str:
    """The report as text (or Markdown) tables, one per group of metrics, one row per
    system; cells hold the figure and, when computed, its 95 % interval in brackets.
    ``marks[system]``: metric keys whose cell gets a ``†``."""
    blocks = []
    for title, columns in table_columns(report.task):
        header = ["system"] + [c.title for c in columns]
        rows = [[name] + [format_cell(values.get(c.key),
                                      report.intervals.get(name, {}).get(c.key), c.fmt,
                                      c.key in (marks or {}).get(name, set()))
                          for c in columns]
                for name, values in report.systems.items()]
        lines = render_rows(header, rows, markdown=markdown)
        blocks.append("\n".join([f"**{title}**" if markdown else title, "", *lines]))
    return "\n\n".join(blocks)


def describe_report(report: EvalReport) -> str:
    """A line on the windows, the protocol and the OA reference of a report."""
    config = report.config
    protocol = Protocol(int(config.get("window_bars", WINDOW_BARS)), config.get("gap_bars"))
    songs = len({s for s, _ in report.segments})
    reference = report.reference or {"source": "the evaluated ground truth"}
    text = (f"task {report.task}: {len(report.segments)} windows from {songs} songs, "
            f"{protocol.describe(report.task)}; OA reference: {reference.get('source')}")
    if reference.get("independent"):
        text += f" ({reference.get('windows')} windows of {reference.get('songs')} songs)"
    if report.intervals:
        text += "; (lo–hi): song-level bootstrap 95 % intervals"
    return text
