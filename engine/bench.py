"""Load time, sampling latency and peak memory of the model: the cases, their timing and
the table of ``diffjam bench`` (its command is :mod:`diffjam.commands.bench`).

What is measured (every latency is the median of ``--repeats`` runs after one warm-up
run of the same configuration, wall clock around the :class:`engine.pipeline.Pipeline`
call, notes decoded included):

- model load time (``Pipeline.load``), on each device;
- ``infill`` (the middle half of the clip regenerated) and ``accompany`` (piano under a
  melody and chords) for clips of 4, 8 and 16 bars at 10, 20 and 50 sampler steps, with
  one variation and with a batch of ``--variations`` variations;
- the sampling cost of the seed papers' settings on the same 8-bar input, in the same
  run: 1000 DDPM steps without guidance or key projection (Mittal et al. 2021 sample
  with the full 1000-step chain) and the 10-step setting with fine-grained guidance (Zhu
  et al. 2024/25: 10 DDIM steps with the in-key projection, one network pass a step);
  the ratio to diffjam's default (10 DDIM steps, default guidance, in key) is printed beside
  them;
- the shipped default (a distilled model runs its few-step student: ``engine.distill``)
  beside the full model at the same settings (``teacher``, ``quality="high"``) and the
  settings of the first release (``turn-1``: the full model, 10 DDIM steps, guidance 4);
- every row's median (p50) and 99th percentile (nearest rank: with fewer than 100 runs it
  is the slowest run), with ``--load N`` busy processes beside it (a DAW keeps the CPU
  busy): ``--load 0,2`` measures idle and loaded in the same run, so compare ratios;
- peak resident memory of the process (``ru_maxrss``) and, on CUDA, the peak allocated
  by torch (``torch.cuda.max_memory_allocated``).

The CPU runs use ``--threads`` torch threads (default :func:`engine.devices.inference_threads`,
stated in the output); CUDA runs happen
only when a GPU is present. The input clip is synthetic (a C G Am F progression with a
block-chord piano and a stepwise melody), so the benchmark needs no data folder.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from engine.baselines import rule_accompaniment
from engine.errors import InputError
from engine.harmony import ChordSpan, Key, parse_symbol
from engine.pianoroll import STEPS_PER_BAR, Note
from engine.sampling import DEFAULT_GUIDANCE, DEFAULT_STEPS, BarRange, Result, SamplingOptions

if TYPE_CHECKING:
    from engine.pipeline import Pipeline

__all__ = [
    "BenchCase",
    "BenchRow",
    "bench_cases",
    "default_requests",
    "format_rows",
    "machine_info",
    "peak_rss_mb",
    "run_case",
    "synthetic_clip",
    "synthetic_infill",
]

logger = logging.getLogger(__name__)

DEFAULT_BARS = (4, 8, 16)
GRID_STEPS = (10, 20, 50)
DEFAULT_VARIATIONS = 4
REFERENCE_BARS = 8


def machine_info() -> dict[str, Any]:
    """CPU model, logical cores, OS, Python and torch versions (and the GPU if any)."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info: dict[str, Any] = {
        "cpu": cpu,
        "logical_cores": os.cpu_count(),
        "os": platform.platform(),
        "python": platform.python_version(),
    }
    try:
        import torch

        info["torch"] = torch.__version__
        info["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except ImportError:
        info["torch"] = None
    return info


def synthetic_clip(n_bars: int) -> tuple[list[ChordSpan], list[Note], list[Note]]:
    """(chords, melody, full arrangement) of ``n_bars`` bars of C G Am F in C major."""
    symbols = ("C", "G", "Am", "F")
    chords = [ChordSpan(start=STEPS_PER_BAR * b, duration=STEPS_PER_BAR,
                        chord=parse_symbol(symbols[b % 4])) for b in range(n_bars)]
    scale = (72, 74, 76, 77, 79, 81, 83, 84)
    melody = [Note(start=STEPS_PER_BAR * b + 4 * i, pitch=scale[(2 * b + i) % 8], duration=4,
                   velocity=90) for b in range(n_bars) for i in range(4)]
    piano = list(rule_accompaniment(chords, lo=0, hi=n_bars * STEPS_PER_BAR, style="block"))
    return chords, melody, sorted(melody + piano)


def synthetic_infill(n_bars: int) -> tuple[list[ChordSpan], list[Note], BarRange]:
    """The benches' infill request on :func:`synthetic_clip`: (its chords, the arrangement
    outside the gap, the gap: the middle half of the clip, bars n/4 to n - n/4)."""
    chords, _, arrangement = synthetic_clip(n_bars)
    gap = BarRange(n_bars // 4, n_bars - n_bars // 4)
    lo, hi = gap.start * STEPS_PER_BAR, gap.stop * STEPS_PER_BAR
    return chords, [n for n in arrangement if not lo <= n.start < hi], gap


def default_requests(pipeline: Pipeline, *, variations: bool = True
                     ) -> dict[str, Callable[[int], Result]]:
    """The default requests on the benches' 8-bar clip, by name, each a call taking its
    seed: infill given chords, the same as 8 variations (left out with ``variations``
    False), infill without chords and accompaniment under the melody, each at its
    default candidates. What :meth:`engine.pipeline.Pipeline.warm_up` captures (the
    one-sample ones) and ``scripts/host_bench.py`` and ``scripts/gpu_probe.py`` time."""
    chords, context, gap = synthetic_infill(8)
    _, melody, _ = synthetic_clip(8)

    def infill(seed: int, *, given: bool = True, count: int = 1) -> Result:
        return pipeline.infill(context, n_bars=8, bars=gap, chords=chords if given else None,
                               options=SamplingOptions(seed=seed, variations=count))

    requests: dict[str, Callable[[int], Result]] = {"8-bar infill given chords": infill}
    if variations:
        requests["... 8 variations"] = lambda seed: infill(seed, count=8)
    # each label says what its request draws on this pipeline's model
    infill_label = f"best of {pipeline.default_candidates('infill')}"
    requests[f"8-bar infill without chords ({infill_label})"] = \
        lambda seed: infill(seed, given=False)
    accompany_label = f"best of {pipeline.default_candidates('accompany')}"
    requests[f"8-bar accompaniment ({accompany_label})"] = \
        lambda seed: pipeline.accompany(chords, n_bars=8, melody=melody,
                                        options=SamplingOptions(seed=seed))
    return requests


@dataclass(frozen=True)
class BenchCase:
    """One configuration to time."""

    label: str  # "diffjam", "teacher", "turn-1", "mittal-ddpm-1000", "fgg-10"
    task: str  # "infill" | "accompany"
    bars: int
    steps: int
    variations: int
    sampler: str = "ddim"
    guidance: float = DEFAULT_GUIDANCE
    in_key: bool = True
    quality: str = "fast"
    chords: bool = True  # infill: the clip's chords given (False: the usual producer case)
    # SamplingOptions.guidance_below; None: the default (the first release guided every step)
    guidance_below: float | None = None
    # SamplingOptions.candidates; None: the task's default (engine.pipeline.CANDIDATES_BY_TASK)
    candidates: int | None = None


@dataclass(frozen=True)
class BenchRow:
    """Timing of one case on one device (seconds; ``error`` set when the call failed)."""

    device: str
    case: BenchCase
    median_s: float | None
    min_s: float | None
    runs: int
    nfe: int | None
    error: str | None = None
    p99_s: float | None = None
    load: int = 0  # busy processes running beside it
    drawn: int | None = None  # candidates each variation was chosen from (Result.candidates)
    # the warm-up run: the first call of its shape (on CUDA it captures the graph)
    first_s: float | None = None

    def to_json(self) -> dict[str, Any]:
        out = {"device": self.device, **asdict(self.case), "median_s": self.median_s,
               "p99_s": self.p99_s, "min_s": self.min_s, "runs": self.runs, "nfe": self.nfe,
               "load": self.load, "drawn": self.drawn, "first_s": self.first_s}
        if self.error:
            out["error"] = self.error
        return out


def bench_cases(*, bars: Sequence[int] = DEFAULT_BARS, steps: Sequence[int] = GRID_STEPS,
                variations: int = DEFAULT_VARIATIONS, reference: bool = True
                ) -> list[BenchCase]:
    """The grid of cases (tasks x bars x steps x batch); for 8-bar clips the full model at
    the default settings (``teacher``) and the first release's (``turn-1``); then the
    seed-paper references."""
    cases = [BenchCase("diffjam", task, b, s, v)
             for task in ("infill", "accompany") for b in bars for s in steps
             for v in dict.fromkeys((1, variations))]
    # infill of a clip given without chords (chords recognised around the gap; the gap
    # starts from the bars the clip repeats: engine.repeats), at each size
    cases += [BenchCase("no-chords", "infill", b, DEFAULT_STEPS, 1, chords=False)
              for b in bars]
    # one sample where the default draws several (engine.candidates): what choosing costs;
    # and the accompaniment's best of 4, the jam's (bridge.jam.JAM_CANDIDATES), and its best
    # of 8, the default before the student's best of 12 (and the full model's)
    cases.append(BenchCase("single", "accompany", REFERENCE_BARS, DEFAULT_STEPS, 1,
                           candidates=1))
    cases.append(BenchCase("best of 4", "accompany", REFERENCE_BARS, DEFAULT_STEPS, 1,
                           candidates=4))
    cases.append(BenchCase("best of 8", "accompany", REFERENCE_BARS, DEFAULT_STEPS, 1,
                           candidates=8))
    cases.append(BenchCase("no-chords single", "infill", REFERENCE_BARS, DEFAULT_STEPS, 1,
                           chords=False, candidates=1))
    # and without chords the best of 4, its default before the best of 2 (and the full
    # model's)
    cases.append(BenchCase("no-chords best of 4", "infill", REFERENCE_BARS, DEFAULT_STEPS, 1,
                           chords=False, candidates=4))
    # the same without chords on the full model (quality high): what the student saves
    cases.append(BenchCase("no-chords teacher", "infill", REFERENCE_BARS, DEFAULT_STEPS, 1,
                           chords=False, quality="high"))
    for task in ("infill", "accompany"):
        cases.append(BenchCase("teacher", task, REFERENCE_BARS, DEFAULT_STEPS, 1,
                               quality="high"))
        cases.append(BenchCase("turn-1", task, REFERENCE_BARS, 10, 1, guidance=4.0,
                               quality="high", guidance_below=1.0, candidates=1))
    if reference:
        for task in ("infill", "accompany"):
            cases.append(BenchCase("mittal-ddpm-1000", task, REFERENCE_BARS, 1000, 1,
                                   sampler="ddpm", guidance=1.0, in_key=False, candidates=1))
            cases.append(BenchCase("fgg-10", task, REFERENCE_BARS, 10, 1, guidance=1.0,
                                   in_key=True, candidates=1))
    return cases


def _call(pipeline: Any, case: BenchCase, seed: int) -> Any:
    from engine.pipeline import SamplingOptions

    options = SamplingOptions(guidance=case.guidance, in_key=case.in_key, key=Key(0, "major"),
                              steps=case.steps, seed=seed, variations=case.variations,
                              sampler=case.sampler, quality=case.quality,
                              guidance_below=case.guidance_below, candidates=case.candidates)
    if case.task == "infill":
        chords, context, gap = synthetic_infill(case.bars)
        return pipeline.infill(context, n_bars=case.bars, bars=gap,
                               chords=chords if case.chords else None, options=options)
    chords, melody, _ = synthetic_clip(case.bars)
    return pipeline.accompany(chords, n_bars=case.bars, melody=melody, options=options)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile ``q`` (0..100) of ``values``: a value that was measured
    (NaN when there is none). The one percentile of every benchmark (bench, bench-osc,
    bench-jam)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[rank - 1]


def run_case(pipeline: Any, case: BenchCase, *, device: str, repeats: int,
             warmup: bool = True, clock: Callable[[], float] = time.perf_counter,
             load: int = 0) -> BenchRow:
    """Median and p99 wall time of ``repeats`` runs of ``case`` (after one warm-up run)."""
    times: list[float] = []
    nfe = drawn = None
    first = None
    try:
        if warmup:
            began = clock()
            _call(pipeline, case, seed=0)
            first = clock() - began
        for i in range(repeats):
            began = clock()
            result = _call(pipeline, case, seed=i + 1)
            times.append(clock() - began)
            nfe, drawn = int(result.nfe), int(result.candidates)
    except InputError as err:  # e.g. a clip longer than the model accepts: reported, go on
        logger.warning("bench case %s failed on %s: %s", case, device, err)
        return BenchRow(device, case, None, None, len(times), nfe, error=f"{type(err).__name__}: "
                        f"{err}", load=load)
    return BenchRow(device, case, statistics.median(times), min(times), len(times), nfe,
                    p99_s=percentile(times, 99), load=load, drawn=drawn, first_s=first)


def _spin() -> None:
    """A busy process: what a DAW's audio and UI threads do to the cores (the bench's
    ``--load``)."""
    x = 0
    while True:
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF


class BusyProcesses:
    """``n`` processes spinning on the CPU while the ``with`` block runs."""

    def __init__(self, n: int) -> None:
        self.n = n
        self._procs: list[multiprocessing.process.BaseProcess] = []

    def __enter__(self) -> BusyProcesses:
        context = multiprocessing.get_context("spawn")
        for _ in range(self.n):
            proc = context.Process(target=_spin, daemon=True)
            proc.start()
            self._procs.append(proc)
        if self.n:
            time.sleep(0.5)  # let them start spinning
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self._procs:
            proc.terminate()
        for proc in self._procs:
            proc.join(5.0)


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (ru_maxrss is in KiB on Linux, in
    bytes on macOS); NaN on Windows, which has no ``getrusage``."""
    try:
        import resource  # POSIX only: imported here so that `diffjam` starts on Windows
    except ImportError:
        return float("nan")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0 if sys.platform == "darwin" else 1024.0)


def format_rows(rows: Sequence[BenchRow], *, default_steps: int = 10) -> str:
    """Text table; reference rows carry ``x default``: their median over the median of the
    diffjam row with the same device, task, bars, one variation and ``default_steps``."""
    base = {(r.device, r.load, r.case.task, r.case.bars): r.median_s for r in rows
            if r.case.label == "diffjam" and r.case.variations == 1
            and r.case.steps == default_steps and r.median_s}
    header = ["device", "load", "setting", "task", "bars", "steps", "var", "cand", "p50 ms",
              "p99 ms", "min ms", "nfe", "ms/nfe", "x default"]
    table = [header]
    for r in rows:
        ref = base.get((r.device, r.load, r.case.task, r.case.bars))
        ratio = f"{r.median_s / ref:.1f}" if (r.median_s and ref and r.case.label != "diffjam") \
            else ""
        per_nfe = f"{1000 * r.median_s / r.nfe:.1f}" if r.median_s and r.nfe else ""
        table.append([
            r.device, str(r.load),
            r.case.label + (f" ({r.case.sampler})" if r.case.label == "diffjam" and
                            r.case.sampler != "ddim" else ""),
            r.case.task, str(r.case.bars), str(r.case.steps), str(r.case.variations),
            "" if r.drawn is None else str(r.drawn),
            f"{1000 * r.median_s:.0f}" if r.median_s is not None else (r.error or "failed"),
            f"{1000 * r.p99_s:.0f}" if r.p99_s is not None else "",
            f"{1000 * r.min_s:.0f}" if r.min_s is not None else "",
            "" if r.nfe is None else str(r.nfe), per_nfe, ratio,
        ])
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = ["  ".join(c.rjust(w) if i >= 4 or i == 1 else c.ljust(w) for i, (c, w) in
                       enumerate(zip(row, widths, strict=True))) for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
