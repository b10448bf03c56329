"""The engine's sub-commands of ``diffjam`` (``cache``)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from engine.errors import InputError

DEFAULT_CACHE = Path("cache/pop909.npz")


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register the engine's commands on the ``diffjam`` parser."""
    cache = subparsers.add_parser(
        "cache",
        help="build a training cache (.npz) from POP909 or from a folder of MIDI files",
        description="Read POP909 songs (--data) or any folder of MIDI files (--midi) onto "
                    "the 16th grid and write the training cache.",
        epilog=MIDI_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cache.add_argument(
        "--data",
        type=Path,
        default=os.environ.get("DIFFJAM_DATA"),
        help="data folder holding pop909/ and pop909_phrase/ (default: $DIFFJAM_DATA)",
    )
    cache.add_argument(
        "--split-file", type=Path, help="split file (default: DATA/splits/split.txt)"
    )
    cache.add_argument("--out", type=Path,
                       help=f"output .npz file (default {DEFAULT_CACHE}; required with --midi)")
    cache.add_argument(
        "--songs", help="only these song ids, comma-separated (e.g. 001,002,003)"
    )
    cache.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    midi = cache.add_argument_group("your own MIDI files")
    midi.add_argument("--midi", type=Path, metavar="DIR",
                      help="read every .mid/.midi file under DIR instead of POP909")
    midi.add_argument("--track-map", type=Path, metavar="JSON",
                      help="which track is the melody, bridge, accompaniment or ignored "
                           "(see below)")
    midi.add_argument("--valid-share", type=float, default=0.1,
                      help="share of the files held out as the valid split (default 0.1)")
    cache.set_defaults(handler=run_cache)

    from engine import clip_commands

    clip_commands.add_commands(subparsers)
    _add_train_command(subparsers)
    _add_distill_command(subparsers)
    _add_train_leadsheet_command(subparsers)


def _add_train_command(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train (or continue training) a model from a cache file",
        description=TRAIN_DESCRIPTION,
        epilog=TRAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_train_arguments(parser)
    parser.set_defaults(handler=_run_train)


TRAIN_DESCRIPTION = """\
Train a diffjam model, on the CPU or a CUDA GPU, in one process or data-parallel under
torchrun. Continues from RUN/state.json when it exists (with the stored config)."""
TRAIN_EPILOG = """\
defaults: a new run takes TrainConfig's (engine/train.py) for what no flag sets; the
  log's first lines show the values in use.
schedule: linear warm-up to --lr over --warmup-steps, then a cosine down to a floor
  (TrainConfig.min_lr_ratio of --lr) at --steps. Stopping early (--minutes, Ctrl-C)
  and continuing keeps that plan; continuing with a larger --steps starts a new leg at
  the current step (warm-up again, to --lr, then a cosine to the new end). Without
  --steps the rate stays at --lr after the warm-up.
resume: the windows and noise of each step come from seeds made of (--seed, rank,
  step), so a continued run is the same run whatever --workers is.
data-parallel: torchrun --standalone --nproc-per-node N $(which diffjam) train
  --run-dir R ... (or torchrun ... -m engine.train --run-dir R ...): --batch-size
  windows per process; gradients averaged (gloo on the CPU, NCCL on CUDA); rank 0
  validates, logs and saves.
output: RUN/model.safetensors holds the fp16 EMA weights, or shards
  RUN/model-0000i-of-0000N.safetensors of at most 16 MiB each when larger, which the
  model loader joins when given RUN/model.safetensors.
fine-tuning: --init-from a model file (without --model-config) defaults to --lr 1e-4,
  --warmup-steps 50 and --ema-decay 0.99 (FINE_TUNE_* in engine/train.py) instead of
  TrainConfig's. --steps counts from the file's step count (the bundled model is at step
  10500: --steps 11500 trains 1000 more). E.g.
  diffjam train --cache mine.npz --run runs/mine --init-from bundled --steps 11500
    --valid-every 100 --early-stop 4 --mix-cache cache/pop909.npz --mix-share 0.25
  then serve RUN/best.safetensors (the README's guide).
"""


MIDI_EPILOG = """\
--midi DIR: each file (type 0 or 1, any resolution and tempo) is read in 4/4 bars from
  its first tick (2/4 and 1/4 regrouped; other meters skipped and counted); drums are
  ignored; files shorter than the 8-bar training window are skipped. Roles: a track named
  melody/lead/vocal/voice is the melody, bridge/counter the bridge, the rest
  accompaniment; with no such name the melody is the highest mostly monophonic part.
  Chords are recognised every half bar, one key is estimated per file. A share of the
  files (--valid-share) is held out as the valid split. Override the roles with
  --track-map FILE.json, by track name or 1-based number, for all files or per file:
    {"tracks": {"vocal": "melody", "strings": "ignore"},
     "files": {"song 3.mid": {"2": "melody", "4": "bridge"}}}
  (roles: melody, bridge, piano, ignore). engine/midifolder.py has the details.
"""


def add_run_device_arguments(parser: argparse.ArgumentParser, *, precision: str) -> None:
    """``--device`` and ``--workers`` of the commands that run a training loop (train,
    distill): where it runs, and the processes that make its batches ahead
    (engine.train.choose_device, engine.train.default_workers)."""
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                        help="where to run; auto = cuda when torch sees a GPU (default auto); "
                             + precision)
    parser.add_argument("--workers", type=int, help="processes that make the batches (0: "
                        "this process, between steps; the same batches either way; default: "
                        "none on the CPU, most of this process's share of the cores on CUDA)")


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``diffjam train`` (also ``python -m engine.train``); no torch here."""
    parser.add_argument("--cache", help="cache file from `diffjam cache` (new runs; may "
                        "move a continued run to another copy of it)")
    parser.add_argument("--run", "--run-dir", dest="run", required=True,
                        help="run directory (created or resumed); under torchrun spell it "
                        "--run-dir (torchrun's parser takes --run for its own --run-path)")
    parser.add_argument("--steps", type=int, help="stop at this total step count; also where "
                        "the cosine decay ends (see below)")
    parser.add_argument("--minutes", type=float, help="stop after this many minutes")
    add_run_device_arguments(parser, precision="CUDA trains under bf16 autocast, the CPU in "
                                                "float32")
    parser.add_argument("--threads", type=int, help="torch CPU threads")
    new = parser.add_argument_group(
        "new runs", "a continued run keeps its stored values: these must then agree with them")
    new.add_argument("--model-config", metavar="JSON|FILE",
                     help='the network, as JSON or a JSON file, e.g. \'{"widths": [128, 192, '
                          '256], "attention_layers": 3}\'; keys left out take ModelConfig\'s '
                          "defaults (default: TrainConfig's network)")
    new.add_argument("--init-from", metavar="PATH|bundled",
                     help="start from this model file's weights and step count (bundled: the "
                          "shipped model), e.g. to keep improving it in a later session; the "
                          "optimizer starts fresh, warm-up included; with --model-config "
                          "'{\"stem\": \"pitch2d\"}' (or window_bars) the network grows the "
                          "pitch stem, starting from what the file computes")
    new.add_argument("--batch-size", type=int, help="windows per step and process")
    new.add_argument("--ema-decay", type=float, help="decay of the EMA of the weights")
    new.add_argument("--train-only", metavar="PREFIXES",
                     help="train only the parameters whose names start with one of these "
                          "comma-separated prefixes, e.g. 'stem_' to grow the pitch stem on "
                          "a trained network left as it is (default: all)")
    new.add_argument("--known-loss-weight", type=float,
                     help="weight in the loss of the steps the conditioning already gives "
                          "(default 0: the loss is that of the steps to generate)")
    new.add_argument("--seed", type=int, help="seed of the weights, windows and noise")
    new.add_argument("--mix-cache", metavar="NPZ",
                     help="a second cache (e.g. cache/pop909.npz) whose train windows are "
                          "mixed into every batch, so that a fine-tune on your songs does "
                          "not forget it; needs --mix-share")
    new.add_argument("--mix-share", type=float,
                     help="share of each batch taken from --mix-cache, in (0, 1), e.g. 0.25")
    schedule = parser.add_argument_group(
        "schedule and reports", "set for a new run; given to a continued run, they apply "
        "from its current step on")
    schedule.add_argument("--lr", type=float, help="peak learning rate of AdamW")
    schedule.add_argument("--warmup-steps", type=int, help="steps of linear warm-up")
    schedule.add_argument("--log-every", type=int, help="steps between progress lines")
    schedule.add_argument("--valid-every", type=int, help="steps between validations of "
                          "the EMA weights")
    schedule.add_argument("--save-every", type=int, help="steps between saves")
    schedule.add_argument("--early-stop", type=int, metavar="N",
                          help="stop when the valid loss (on the cells to generate) has not "
                               "improved for N validations (the first is the starting "
                               "model's); the best EMA weights are kept in "
                               "RUN/best.safetensors (default 0: never)")


def _add_distill_command(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "distill", help="distil a model into a few-step student (guidance folded in)",
        description="Progressive distillation in one round (engine/distill.py): the "
                    "student's S DDIM steps learn the teacher's S x K guided steps. A run "
                    "that exists is continued with its stored settings.")
    parser.add_argument("--cache", required=True, help="training cache (diffjam cache)")
    parser.add_argument("--run", required=True, type=Path, help="run directory")
    parser.add_argument("--teacher", default="bundled",
                        help="teacher model file, or 'bundled' (default)")
    parser.add_argument("--steps", type=int, required=True,
                        help="distillation steps in all (the total, as for train)")
    parser.add_argument("--minutes", type=float, help="stop after this many minutes")
    parser.add_argument("--student-steps", type=int, default=4,
                        help="S, the student's sampler steps (default 4)")
    parser.add_argument("--teacher-substeps", type=int, default=2,
                        help="K, teacher steps per student step (default 2)")
    parser.add_argument("--guidance", type=float,
                        help="the teacher's guidance, folded into the student (default: the "
                             "engine's default guidance)")
    parser.add_argument("--guidance-below", type=float, default=1.0,
                        help="the teacher guides only at noise times t <= this, the "
                             "conditional prediction alone above (guidance in a limited "
                             "interval); the student learns that (default 1: every step)")
    parser.add_argument("--guidance-above", type=float, default=0.0,
                        help="and only at noise times t > this (default 0): with a student "
                             "as the teacher (--teacher-substeps 1) and 0.8, a round that "
                             "adds guidance at the student's first step alone")
    parser.add_argument("--chord-tones", action="store_true",
                        help="the teacher's steps keep accompaniment windows to the sounding "
                             "chord's tones, as the sampler does by default (the chord "
                             "projection, SamplingOptions.allowed 'chord'); the student learns "
                             "those steps")
    parser.add_argument("--accompaniment-guidance", type=float,
                        help="the teacher's guidance in accompaniment windows (default: "
                             "--guidance; 1: unguided). With a student as the teacher "
                             "(--teacher-substeps 1), a round that adds guidance to infill "
                             "and generation and less or none to the accompaniment")
    parser.add_argument("--batch-size", type=int, default=16, help="windows a step (16)")
    parser.add_argument("--lr", type=float, default=1e-4, help="peak learning rate (1e-4)")
    parser.add_argument("--init-student", type=Path,
                        help="start the student from this model file (a student of the same "
                             "teacher, for a second round) instead of from the teacher")
    parser.add_argument("--accompaniment-rate", type=float, default=0.5,
                        help="share of windows that are the accompaniment task (0.5)")
    parser.add_argument("--rhythm-rate", type=float, default=0.25,
                        help="share of windows with the rhythm condition (0.25)")
    parser.add_argument("--density-hints", type=float, default=0.0,
                        help="share of those whose rhythm condition is the density hint a "
                             "request sends (notes a bar spread on the metre) instead of the "
                             "target's own onsets (0)")
    parser.add_argument("--chords-rate", type=float, default=0.8,
                        help="share of windows given their chords (0.8)")
    parser.add_argument("--known-rate", type=float, default=0.6,
                        help="share of windows given a known part, the bars around a gap or "
                             "before a continuation (0.6). With --accompaniment-rate 0 and 1 "
                             "and 1: every window an infill given chords, for a student that "
                             "runs that request kind alone")
    parser.add_argument("--threads", type=int, help="torch CPU threads")
    add_run_device_arguments(parser, precision="on CUDA the student runs under bf16 autocast "
                                                "and the teacher in float32 (TF32 matrix "
                                                "products)")
    parser.add_argument("--fit-minutes", action="store_true",
                        help="with --minutes: time the first steps and plan the learning-rate "
                             "cosine to reach its floor when the minutes end (--steps bounds "
                             "it), for a machine whose speed is not known ahead")
    parser.add_argument("--name", help="the student's model name in its file (default: the "
                                       "teacher's name + '-fast', or the next number)")
    parser.set_defaults(handler=_run_distill)


def add_train_leadsheet_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``diffjam train-leadsheet`` (engine/leadsheet_train.py)."""
    parser.add_argument("--cache", required=True, help="training cache (diffjam cache)")
    parser.add_argument("--run", required=True, type=Path,
                        help="run directory (an existing run is resumed)")
    parser.add_argument("--steps", type=int, default=20000, help="steps in all (20000)")
    parser.add_argument("--minutes", type=float, help="stop after this many minutes")
    parser.add_argument("--batch-size", type=int, default=16, help="windows a step (16)")
    parser.add_argument("--lr", type=float, default=5e-4, help="peak learning rate (5e-4)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default cpu)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--channels", default="64,128,192,256",
                        help="U-Net widths per level (default 64,128,192,256)")
    parser.add_argument("--stem-channels", type=int, default=0,
                        help="channels of the melody's pitch stem (0: none; default 0)")
    parser.add_argument("--window-bars", type=int, default=32, help="bars a window (32)")
    parser.add_argument("--save-every", type=int, default=500, help="steps between saves")
    parser.add_argument("--threads", type=int, help="torch CPU threads")


def _add_train_leadsheet_command(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train-leadsheet", help="train the song cascade's lead-sheet model (melody + chords)",
        description="Train (or resume) the lead-sheet model of `diffjam song` on the "
                    "phrase-labelled songs of a cache (engine/leadsheet_train.py). The EMA "
                    "weights go to RUN/leadsheet.safetensors.")
    add_train_leadsheet_arguments(parser)
    parser.set_defaults(handler=_run_train_leadsheet)


def _run_train_leadsheet(args: argparse.Namespace) -> int:
    from engine import leadsheet_train  # torch: imported only when training

    return leadsheet_train.run_command(args)


def _run_distill(args: argparse.Namespace) -> int:
    from engine import distill  # torch: imported only when distilling

    return distill.run_command(args)


def _run_train(args: argparse.Namespace) -> int:
    from engine import train  # torch: imported only when training

    return train.run_command(args)


def run_midi_cache(args: argparse.Namespace) -> int:
    """``diffjam cache --midi DIR --out FILE``."""
    from engine.midifolder import build_midi_cache, read_track_map

    if args.out is None:
        raise InputError("--midi needs --out FILE.npz (the POP909 cache is left alone)")
    track_map = read_track_map(args.track_map) if args.track_map else None

    def progress(done: int, total: int) -> None:
        if done % 50 == 0 or done == total:
            print(f"  {done}/{total} files read", file=sys.stderr, flush=True)

    report = build_midi_cache(args.midi, args.out, track_map=track_map,
                              valid_share=args.valid_share, progress=progress)
    n_valid = sum(split == "valid" for split in report.kept.values())
    print(f"wrote {args.out}")
    print(f"files kept: {len(report.kept)} of {report.files} ({len(report.kept) - n_valid} "
          f"train, {n_valid} valid), bars: {report.bars}, notes: {report.notes}")
    if report.no_melody:
        print(f"no melody line found in {report.no_melody} kept file(s): all accompaniment "
              "(name it with --track-map)")
    if report.skipped:
        counts = ", ".join(f"{n} {why}" for why, n in sorted(report.reasons().items()))
        print(f"files skipped: {len(report.skipped)} ({counts})")
        for song_id, reason in sorted(report.skipped.items()):
            print(f"  {song_id}: {reason}")
    else:
        print("files skipped: none")
    return 0


def run_cache(args: argparse.Namespace) -> int:
    if args.midi is not None:
        return run_midi_cache(args)
    from engine.cache import build_cache
    from engine.pop909 import read_split_file

    if args.data is None:
        raise InputError("no data folder: pass --data DIR or set DIFFJAM_DATA")
    data = Path(args.data)
    if not (data / "pop909").is_dir():
        raise InputError(f"{data} has no pop909/ folder")
    split_file = args.split_file or data / "splits" / "split.txt"
    splits = read_split_file(split_file)
    if args.songs:
        wanted = [s.strip().zfill(3) for s in args.songs.split(",") if s.strip()]
        unknown = [s for s in wanted if s not in splits]
        if unknown:
            raise InputError(f"songs not in {split_file}: {', '.join(unknown)}")
        splits = {s: splits[s] for s in wanted}
    if args.workers < 1:
        raise InputError(f"--workers must be >= 1, got {args.workers}")

    def progress(done: int, total: int) -> None:
        if done % 100 == 0 or done == total:
            print(f"  {done}/{total} songs read", file=sys.stderr, flush=True)

    out = args.out or DEFAULT_CACHE
    report = build_cache(data, splits, out, workers=args.workers, progress=progress)
    print(f"wrote {out}")
    print(f"songs kept: {report.songs_kept} of {report.songs_requested}, bars: {report.bars_kept},"
          f" notes: {report.notes_kept}")
    if report.dropped_songs:
        print(f"songs dropped: {len(report.dropped_songs)}")
        for sid, reason in sorted(report.dropped_songs.items()):
            print(f"  {sid}: {reason}")
    else:
        print("songs dropped: none")
    print(f"notes dropped (onset before bar 0): {report.notes_dropped_before_bar0}")
    print(f"notes outside the roll's pitch range (kept in the cache): "
          f"{report.notes_outside_pitch_range}")
    print(f"quantisation: {100 * report.onset_moved_over_64th:.2f}% of onsets moved more than "
          f"a 64th note (none can move more than a 32nd with nearest rounding); "
          f"mean move {report.onset_shift_mean_steps:.4f} steps")
    print(f"phrases: {report.phrase_aligned} of {report.phrase_songs} songs aligned, mean root "
          f"match {100 * report.phrase_match_rate_mean:.1f}% over their first 32 bars, "
          f"{100 * report.phrase_whole_match_rate_mean:.1f}% over whole songs; "
          f"{report.phrase_off_bar_line} aligned songs start between bar lines "
          f"(labels moved to the nearest bar)")
    print(f"time: {report.seconds:.1f} s, size: {report.file_bytes / 1e6:.2f} MB")
    return 0
