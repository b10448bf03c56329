"""``diffjam eval`` and ``diffjam results``: the command-line side of
:mod:`engine.evaluate` (windows, systems and reference from the options; tables printed;
JSON and the results page written by :mod:`engine.results`)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from engine.baselines import TASKS, WINDOW_BARS, Protocol, RetrievalLibrary, Segment, System
from engine.bootstrap import DEFAULT_RESAMPLES
from engine.devices import add_threads_argument
from engine.errors import InputError
from engine.eval_report import EvalReport, describe_report, format_table
from engine.evaluate import (
    DEFAULT_SYSTEMS,
    build_systems,
    cache_library,
    choose_segments,
    evaluate,
    library_segments,
    load_songs,
    parse_song_ids,
    songs_from_cache,
)
from engine.results import existing_commentary, git_commit, load_reports, render_results
from engine.sampling import DEFAULT_GUIDANCE, DEFAULT_STEPS

logger = logging.getLogger(__name__)


def add_eval_arguments(parser: argparse.ArgumentParser, *, songs_required: bool = True) -> None:
    """Arguments shared by ``eval`` and ``results``."""
    parser.add_argument("--data", type=Path, default=os.environ.get("DIFFJAM_DATA"),
                        help="folder with the POP909 layout (default: $DIFFJAM_DATA)")
    parser.add_argument("--songs", required=songs_required,
                        help="song ids (001,002,...) or a file of ids / split-style lines")
    parser.add_argument("--subset", help="line name to read when --songs is a split file "
                                          "(with --songs-cache: the cache's split)")
    parser.add_argument("--songs-cache", type=Path,
                        help="evaluate the songs of this training cache instead of --data "
                             "(e.g. your own folder: diffjam cache --midi DIR), those of "
                             "--subset (default valid), or of --songs ids when given")
    parser.add_argument("--n", type=int, default=1, help="windows per song (default 1)")
    parser.add_argument("--total", type=int, help="keep at most this many windows in all")
    parser.add_argument("--seed", type=int, default=0,
                        help="window choice, sampling and bootstrap seed")
    parser.add_argument("--window-bars", type=int, default=WINDOW_BARS,
                        help=f"window length in bars (default {WINDOW_BARS}; 16 with "
                             "--gap-bars 4, or 32 with --gap-bars 16 as Mittal et al.)")
    parser.add_argument("--gap-bars", type=int,
                        help="infill gap in the middle of the window (default: half of it)")
    parser.add_argument("--model", type=Path, help="model file (default: the bundled model)")
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS,
                        help=f"sampler steps (default {DEFAULT_STEPS})")
    parser.add_argument("--guidance", type=float, default=DEFAULT_GUIDANCE,
                        help=f"CFG scale (default {DEFAULT_GUIDANCE})")
    parser.add_argument("--no-in-key", dest="in_key", action="store_false",
                        help="sample without the in-key projection")
    parser.add_argument("--device", help="torch device for the model (default: auto)")
    add_threads_argument(parser)
    parser.add_argument("--retrieval-data", type=Path,
                        help="data folder of the retrieval library (default: --data)")
    parser.add_argument("--retrieval-songs",
                        help="song ids of the retrieval library (ids or a file)")
    parser.add_argument("--retrieval-subset", help="line name in the --retrieval-songs file")
    parser.add_argument("--cache", type=Path,
                        help="training cache (.npz): the retrieval library and the OA "
                             "reference songs")
    parser.add_argument("--cache-split", default="train",
                        help="split of --cache to retrieve from and to take the OA "
                             "reference from ('all' for every song; default train); "
                             "evaluated songs are always left out")
    parser.add_argument("--reference-songs",
                        help="OA reference song ids in --data (ids or a file; default: "
                             "the --cache split); evaluated songs are left out")
    parser.add_argument("--reference-subset", help="line name in the --reference-songs file")
    parser.add_argument("--reference-n", type=int, default=1,
                        help="reference windows per song (default 1)")
    parser.add_argument("--bootstrap", type=int, default=DEFAULT_RESAMPLES,
                        help=f"bootstrap resamples for the intervals (default "
                             f"{DEFAULT_RESAMPLES}; 0: none)")


def add_eval_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``diffjam eval``."""
    parser = subparsers.add_parser(
        "eval", help="evaluate the model and baselines on song windows",
        description="Score systems on windows of the given songs; prints tables with "
                    "bootstrap intervals and writes JSON.")
    add_eval_arguments(parser, songs_required=False)  # --songs or --songs-cache
    parser.add_argument("--task", choices=TASKS, required=True)
    parser.add_argument("--systems", default=DEFAULT_SYSTEMS,
                        help="comma-separated systems (default: model, model_no_chords and "
                             "every baseline)")
    parser.add_argument("--out", type=Path, required=True, help="JSON report path")
    parser.set_defaults(handler=run_eval)


def protocol_from_args(args: argparse.Namespace) -> Protocol:
    return Protocol(args.window_bars, args.gap_bars)


def evaluated_songs(args: argparse.Namespace) -> tuple[list[Any], list[str]]:
    """The songs to evaluate and their ids: ``--songs`` in ``--data``, or the songs of
    ``--songs-cache`` (its ``--subset`` split, or its ``--songs`` ids)."""
    if getattr(args, "songs_cache", None) is not None:
        wanted = None if args.songs is None else parse_song_ids(args.songs)
        songs = songs_from_cache(args.songs_cache, wanted,
                                 split=None if wanted else args.subset or "valid")
        if not songs:
            raise InputError(f"{args.songs_cache} has no such songs to evaluate")
        return songs, [s.song_id for s in songs]
    if args.data is None:
        raise InputError("no data folder: pass --data DIR or set DIFFJAM_DATA")
    if not (Path(args.data) / "pop909").is_dir():
        raise InputError(f"{args.data} has no pop909/ folder")
    if args.songs is None:
        raise InputError("--songs is required (or --songs-cache)")
    ids = parse_song_ids(args.songs, subset=args.subset)
    return load_songs(args.data, ids), ids


def segments_and_library(args: argparse.Namespace, *, need_library: bool
                         ) -> tuple[list[Segment], RetrievalLibrary | None]:
    """The evaluation windows and, when asked for, the retrieval library (never holding
    an evaluated song), both of the protocol's window length."""
    n_bars = protocol_from_args(args).window_bars
    hop = max(2, n_bars // 4)
    songs, ids = evaluated_songs(args)
    segments = choose_segments(songs, n_per_song=args.n, seed=args.seed, total=args.total,
                               n_bars=n_bars)
    library = None
    if need_library:
        if args.cache is not None:
            split = None if args.cache_split == "all" else args.cache_split
            library = cache_library(args.cache, split=split, exclude=ids, n_bars=n_bars,
                                    hop_bars=hop)
        elif args.retrieval_songs is not None:
            lib_ids = parse_song_ids(args.retrieval_songs, subset=args.retrieval_subset)
            lib_songs = load_songs(args.retrieval_data or args.data,
                                   [i for i in lib_ids if i not in ids])
            library = RetrievalLibrary.from_segments(
                library_segments(lib_songs, n_bars=n_bars, hop_bars=hop))
        if library is not None:
            logger.info("retrieval library: %d windows", len(library))
    return segments, library


def reference_segments(args: argparse.Namespace, evaluated: Iterable[str]
                       ) -> tuple[list[Segment], str]:
    """The OA reference windows (``--reference-songs`` in ``--data``, else the
    ``--cache-split`` songs of ``--cache``; evaluated songs left out) and a description;
    ``([], "")`` when neither is given."""
    n_bars = protocol_from_args(args).window_bars
    excluded = set(evaluated)
    if args.reference_songs is not None:
        ids = [i for i in parse_song_ids(args.reference_songs, subset=args.reference_subset)
               if i not in excluded]
        songs = load_songs(args.data, ids)
        source = f"songs {args.reference_songs}" + (
            f" (line {args.reference_subset})" if args.reference_subset else "")
    elif args.cache is not None:
        split = None if args.cache_split == "all" else args.cache_split
        songs = songs_from_cache(args.cache, split=split, exclude=excluded)
        source = f"{args.cache} split {args.cache_split}"
    else:
        return [], ""
    windows = choose_segments(songs, n_per_song=args.reference_n, seed=args.seed,
                              n_bars=n_bars, warn=False)
    logger.info("OA reference: %d windows of %d songs", len(windows), len(songs))
    return windows, source + ", less the evaluated songs"


def pipeline_loader(args: argparse.Namespace) -> Callable[[], Any]:
    def load() -> Any:
        from engine.pipeline import Pipeline

        return Pipeline.load(args.model, device=args.device, threads=args.threads)

    return load


def eval_config(args: argparse.Namespace) -> dict[str, Any]:
    protocol = protocol_from_args(args)
    return {
        "data": None if args.data is None else os.fspath(args.data), "songs": args.songs,
        "songs_cache": None if getattr(args, "songs_cache", None) is None
        else os.fspath(args.songs_cache), "subset": args.subset, "n": args.n,
        "total": args.total, "seed": args.seed,
        "model": None if args.model is None else os.fspath(args.model),
        "steps": args.steps, "guidance": args.guidance, "in_key": args.in_key,
        "window_bars": protocol.window_bars, "gap_bars": protocol.gap[1] - protocol.gap[0],
        "infill_bars_0based": list(protocol.gap),
        "reference_songs": args.reference_songs, "reference_n": args.reference_n,
        "cache": None if args.cache is None else os.fspath(args.cache),
        "cache_split": args.cache_split, "bootstrap": args.bootstrap,
    }


def run_task(args: argparse.Namespace, task: str, names: list[str], *,
             segments: Sequence[Segment], systems: Sequence[System],
             reference: tuple[list[Segment], str]) -> EvalReport:
    """One task of ``eval`` / ``results``, printed."""
    protocol = protocol_from_args(args)
    from engine.bench import machine_info

    report = evaluate(segments, systems, task=task, seed=args.seed, gap=protocol.gap,
                      reference=reference[0] or None, reference_source=reference[1],
                      config={**eval_config(args), "systems": names,
                              "machine": machine_info()},
                      n_resamples=args.bootstrap)
    print(describe_report(report))
    print(format_table(report))
    return report


def prepare(args: argparse.Namespace, names: list[str]
            ) -> tuple[list[Segment], list[System], tuple[list[Segment], str]]:
    """Windows, systems and OA reference for ``eval`` / ``results``."""
    protocol_from_args(args)  # validate before loading anything
    wants_library = "retrieval" in names
    segments, library = segments_and_library(args, need_library=wants_library)
    if wants_library and (library is None or len(library) == 0):
        logger.warning("no retrieval library (--cache or --retrieval-songs): retrieval skipped")
        names.remove("retrieval")
    reference = reference_segments(args, {s.song_id for s in segments})
    if not reference[0]:
        logger.warning("no OA reference songs (--cache or --reference-songs): Consistency "
                       "and Variance are taken against the evaluated ground truth")
    systems = build_systems(names, library=library, pipeline_loader=pipeline_loader(args),
                            steps=args.steps, guidance=args.guidance, in_key=args.in_key)
    return segments, systems, reference


def run_eval(args: argparse.Namespace) -> int:
    names = [n.strip() for n in args.systems.split(",") if n.strip()]
    segments, systems, reference = prepare(args, names)
    report = run_task(args, args.task, names, segments=segments, systems=systems,
                      reference=reference)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report.to_json()), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


# ---------------------------------------------------------------------------- results


def add_results_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``diffjam results``."""
    parser = subparsers.add_parser(
        "results", help="evaluate every task and write docs/results.md",
        description="Run eval for each task with the model and every baseline (or read "
                    "eval JSON reports) and write the results page.")
    add_eval_arguments(parser, songs_required=False)
    parser.add_argument("--tasks", default=",".join(TASKS),
                        help="comma-separated tasks (default: all three)")
    parser.add_argument("--systems", default=DEFAULT_SYSTEMS,
                        help="comma-separated systems (default: model, model_no_chords and "
                             "every baseline)")
    parser.add_argument("--from-json", type=Path, nargs="+", metavar="JSON",
                        help="render the page from these `diffjam eval` reports instead of "
                             "running eval (the other eval options are then ignored)")
    parser.add_argument("--bench", type=Path, help="JSON written by `diffjam bench --json`")
    parser.add_argument("--json-dir", type=Path,
                        help="also write each task's eval JSON into this folder")
    parser.add_argument("--out", type=Path, default=Path("docs/results.md"),
                        help="page to write (default docs/results.md)")
    parser.set_defaults(handler=run_results)


def _run_reports(args: argparse.Namespace) -> list[EvalReport]:
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    bad = [t for t in tasks if t not in TASKS]
    if bad or not tasks:
        raise InputError(f"--tasks must name tasks among {', '.join(TASKS)}, got {args.tasks!r}")
    names = [n.strip() for n in args.systems.split(",") if n.strip()]
    segments, systems, reference = prepare(args, names)
    reports = []
    for task in tasks:
        print(f"== {task}: {len(segments)} windows")
        report = run_task(args, task, names, segments=segments, systems=systems,
                             reference=reference)
        if args.json_dir is not None:
            args.json_dir.mkdir(parents=True, exist_ok=True)
            (args.json_dir / f"eval-{task}.json").write_text(
                json.dumps(report.to_json()), encoding="utf-8")
        reports.append(report)
    return reports


def run_results(args: argparse.Namespace) -> int:
    """``diffjam results``: the reports (run, or read with ``--from-json``), then the page."""
    from engine.bench import machine_info

    reports = load_reports(args.from_json) if args.from_json else _run_reports(args)
    bench = None
    if args.bench is not None:
        try:
            bench = json.loads(args.bench.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise InputError(f"cannot read the bench JSON {args.bench}: {err}") from err
    if args.from_json:
        command = "diffjam results --from-json " + " ".join(os.fspath(p)
                                                            for p in args.from_json)
    else:
        command = "diffjam results " + " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in (
                ("data", args.data), ("songs", args.songs), ("subset", args.subset),
                ("n", args.n), ("total", args.total), ("seed", args.seed),
                ("window_bars", args.window_bars), ("gap_bars", args.gap_bars),
                ("model", args.model), ("steps", args.steps), ("guidance", args.guidance),
                ("cache", args.cache), ("cache_split", args.cache_split),
                ("reference_songs", args.reference_songs),
                ("reference_n", args.reference_n), ("bootstrap", args.bootstrap),
                ("retrieval_data", args.retrieval_data),
                ("retrieval_songs", args.retrieval_songs), ("tasks", args.tasks),
                ("systems", args.systems),
            ) if v is not None) + ("" if args.in_key else " --no-in-key")
    if args.bench is not None:  # the page's speed section: the command remakes it too
        command += f" --bench {os.fspath(args.bench)}"
    # the machine that ran eval when the reports say (--from-json), else this one
    machine = reports[0].config.get("machine") if args.from_json and reports else None
    page = render_results(
        reports, machine=machine or machine_info(),
        commit=git_commit(Path(__file__).resolve().parent),
        date=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), command=command,
        bench=bench, commentary=existing_commentary(args.out))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(page, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0
