"""``diffjam eval-song``: the command-line side of :mod:`engine.song_eval` (songs and
forms from the options, the chord bigram from the cache's train split, systems, tables
printed, JSON written)."""

from __future__ import annotations

import argparse
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.bootstrap import DEFAULT_RESAMPLES
from engine.chord_bigram import ChordBigram, fit_cache
from engine.devices import add_threads_argument
from engine.errors import InputError
from engine.evaluate import load_songs, parse_song_ids
from engine.song_eval import (
    DEFAULT_SYSTEMS,
    MAX_FORM_BARS,
    MIN_FORM_BARS,
    build_systems,
    choose_forms,
    describe,
    evaluate_songs,
    format_tables,
)

__all__ = ["add_command"]

logger = logging.getLogger(__name__)


def add_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``diffjam eval-song``."""
    parser = subparsers.add_parser(
        "eval-song", help="evaluate whole-song generation on forms of real songs",
        description="Take each given song's form (its first 32-40 bars of phrases) and "
                    "key, let every system write a song for it, and score inter-phrase "
                    "similarity and the lead sheet; prints tables with bootstrap "
                    "intervals and writes JSON.")
    parser.add_argument("--data", type=Path, default=os.environ.get("DIFFJAM_DATA"),
                        help="folder with the POP909 layout and pop909_phrase/ "
                             "(default: $DIFFJAM_DATA)")
    parser.add_argument("--songs", required=True,
                        help="song ids (001,002,...) or a file of ids / split-style lines")
    parser.add_argument("--subset", help="line name to read when --songs is a split file")
    parser.add_argument("--cache", type=Path,
                        help="training cache (.npz) whose --cache-split songs fit the chord "
                             "bigram model (needed by the bigram systems and the chord "
                             "plausibility figure)")
    parser.add_argument("--cache-split", default="train",
                        help="split of --cache the bigram model is fitted on (default train)")
    parser.add_argument("--systems", default=DEFAULT_SYSTEMS,
                        help=f"comma-separated systems (default: {DEFAULT_SYSTEMS})")
    parser.add_argument("--limit", type=int, help="evaluate at most this many songs")
    parser.add_argument("--seed", type=int, default=0,
                        help="sampling, bigram chords and bootstrap seed (default 0)")
    parser.add_argument("--min-bars", type=int, default=MIN_FORM_BARS,
                        help=f"shortest form kept (default {MIN_FORM_BARS})")
    parser.add_argument("--max-bars", type=int, default=MAX_FORM_BARS,
                        help=f"longest form kept (default {MAX_FORM_BARS})")
    parser.add_argument("--model", type=Path,
                        help="accompaniment model file (default: the bundled model)")
    parser.add_argument("--leadsheet", type=Path,
                        help="lead-sheet model file (default: the bundled one)")
    parser.add_argument("--steps", type=int,
                        help="lead-sheet sampler steps (default: SongOptions')")
    parser.add_argument("--device", help="torch device for the model (default: auto)")
    add_threads_argument(parser)
    parser.add_argument("--bootstrap", type=int, default=DEFAULT_RESAMPLES,
                        help=f"bootstrap resamples for the intervals (default "
                             f"{DEFAULT_RESAMPLES}; 0: none)")
    parser.add_argument("--out", type=Path, default=Path("eval-song.json"),
                        help="JSON report path (default eval-song.json)")
    parser.set_defaults(handler=run_eval_song)


def _bigram(args: argparse.Namespace) -> ChordBigram | None:
    if args.cache is None:
        logger.warning("no --cache: no chord bigram model (chord plausibility left empty)")
        return None
    from engine.cache import load_cache

    split = None if args.cache_split == "all" else args.cache_split
    table = fit_cache(load_cache(args.cache), split=split)
    if table.songs == 0:
        raise InputError(f"{args.cache} has no songs in split {args.cache_split!r}")
    logger.info("chord bigram: %d songs of %s", table.songs, args.cache)
    return table


def _pipeline_loader(args: argparse.Namespace, info: dict[str, Any]) -> Callable[[], Any]:
    """Loads the pipeline when a model system is built and puts its ``info()`` in
    ``info`` (for the report)."""
    def load() -> Any:
        from engine.pipeline import Pipeline

        pipeline = Pipeline.load(args.model, device=args.device, threads=args.threads,
                                 leadsheet=args.leadsheet)
        info.update(pipeline.info())
        return pipeline

    return load


def _config(args: argparse.Namespace, names: list[str]) -> dict[str, Any]:
    from engine.bench import machine_info

    return {"data": os.fspath(args.data), "songs": args.songs, "subset": args.subset,
            "cache": None if args.cache is None else os.fspath(args.cache),
            "cache_split": args.cache_split, "systems": names, "limit": args.limit,
            "seed": args.seed, "min_bars": args.min_bars, "max_bars": args.max_bars,
            "model": None if args.model is None else os.fspath(args.model),
            "leadsheet": None if args.leadsheet is None else os.fspath(args.leadsheet),
            "steps": args.steps, "bootstrap": args.bootstrap, "machine": machine_info()}


def run_eval_song(args: argparse.Namespace) -> int:
    """``diffjam eval-song``."""
    if args.data is None:
        raise InputError("no data folder: pass --data DIR or set DIFFJAM_DATA")
    if not (Path(args.data) / "pop909").is_dir():
        raise InputError(f"{args.data} has no pop909/ folder")
    if args.limit is not None and args.limit < 1:
        raise InputError(f"--limit must be >= 1, got {args.limit}")
    names = [n.strip() for n in args.systems.split(",") if n.strip()]
    ids = parse_song_ids(args.songs, subset=args.subset)
    bigram = _bigram(args)
    pipeline_info: dict[str, Any] = {}
    systems = build_systems(names, bigram=bigram,
                            pipeline_loader=_pipeline_loader(args, pipeline_info),
                            steps=args.steps)
    tasks, skipped = choose_forms(load_songs(args.data, ids), seed=args.seed,
                                  min_bars=args.min_bars, max_bars=args.max_bars,
                                  limit=args.limit)

    def progress(system: str, done: int, total: int) -> None:
        if done % 10 == 0 or done == total:
            logger.info("%s: %d/%d songs", system, done, total)

    report = evaluate_songs(tasks, systems, bigram=bigram, seed=args.seed,
                            n_resamples=args.bootstrap, skipped=skipped,
                            config={**_config(args, names), "pipeline": pipeline_info or None},
                            progress=progress)
    print(describe(report))
    print(format_tables(report))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report.to_json()), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0
