"""``diffjam infill``, ``diffjam accompany`` and ``diffjam generate``: the pipeline on
MIDI files from the command line.

``infill`` and ``accompany --melody`` write the input file back with only the new notes
changed (:mod:`engine.clipfile`, :mod:`smf.splice`); ``generate`` and ``accompany``
without a melody write a new file. No command writes over an existing file or an input
without ``--force``, nor creates folders.

Every bad input (unknown chord, bars outside the clip, empty clip, a meter diffjam cannot
read in 4/4 bars, an output that exists, a missing model file) ends in one
``diffjam CMD: error: ...`` line and exit code 2 (raised as
:class:`~engine.errors.InputError`, printed by ``diffjam.cli.main``).
"""

from __future__ import annotations

import argparse
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from engine.clipfile import (
    ACCOMPANIMENT_TRACK,
    ClipFile,
    accompaniment_file,
    check_outputs,
    infill_file,
    output_paths,
    pick_tracks,
    read_clip_file,
    save_midi,
    write_atomically,
)
from engine.devices import add_device_argument, add_threads_argument, resolve_device
from engine.errors import InputError
from engine.harmony import ChordSpan, parse_key, parse_progression
from engine.midifile import DEFAULT_TEMPO_BPM, MAX_TEMPO_BPM, MIN_TEMPO_BPM, write_midi
from engine.pianoroll import STEPS_PER_BAR, Note
from engine.register import crossings
from engine.sampling import (
    CANDIDATES,
    DEFAULT_ACCOMPANY_DENSITY,
    DEFAULT_GUIDANCE,
    DEFAULT_REPEAT,
    DEFAULT_STEPS,
    GUIDANCE_BELOW,
    PITCH_SETS,
    QUALITIES,
    BarRange,
    Result,
    SamplingOptions,
)
from wire.limits import DEFAULT_CANDIDATES, DENSITY, FULL_MODEL_CANDIDATES, REPEAT, Range

if TYPE_CHECKING:
    from engine.pipeline import Pipeline

logger = logging.getLogger(__name__)


def _add_sampling_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--out", type=Path, required=True,
                        help="output .mid file (in a folder that exists)")
    parser.add_argument("--force", action="store_true",
                        help="write over an existing file, the input file included")
    parser.add_argument("--model", type=Path, help="model file (default: the bundled model)")
    add_device_argument(parser)
    parser.add_argument("--key", help="key, e.g. 'C', 'Am', 'F# minor' (default: estimated)")
    parser.add_argument("--guidance", type=float, default=DEFAULT_GUIDANCE,
                        help=f"classifier-free guidance scale (default {DEFAULT_GUIDANCE}; "
                             "1 = none)")
    parser.add_argument("--no-in-key", action="store_true",
                        help="turn off the per-step pitch projection (onto the key's scale "
                             "or the chord's tones: --allowed)")
    parser.add_argument("--allowed", choices=PITCH_SETS,
                        help="pitch set of the projection: key (the scale), key+chord (the "
                             "scale and the sounding chord's tones) or chord (the sounding "
                             "chord's tones alone, the scale where none sounds); default: "
                             "chord for accompany, key for infill and generate")
    parser.add_argument("--guidance-below", type=float, metavar="T",
                        help=f"guide only at noise times t <= T, {GUIDANCE_BELOW} (1: every "
                             "step; default: the distilled student's own interval, and for "
                             "the full model 0.6 in accompany, 1 elsewhere)")
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS,
                        help=f"sampler steps (default {DEFAULT_STEPS}: a model with a distilled "
                             "student runs its own few steps then; see --quality)")
    parser.add_argument("--quality", choices=QUALITIES, default="fast",
                        help="fast (default): a distilled model's few-step student at the "
                             "default --steps and --guidance; high: always the full model "
                             "(slower; the student's teacher)")
    parser.add_argument("--density", type=float, metavar="N",
                        help=f"notes a bar wanted, {DENSITY} (0: no hint, the model chooses; "
                             "default: accompany asks for the model file's own default "
                             f"(else {DEFAULT_ACCOMPANY_DENSITY:g}, the data's typical "
                             "density), infill and generate for none); the "
                             "model takes it as sparser or denser more than as a count")
    add_threads_argument(parser)
    parser.add_argument("--sampler", choices=("ddim", "ddpm"), default="ddim")
    parser.add_argument("--seed", type=int, help="random seed (same seed, same output)")
    parser.add_argument("--variations", type=int, default=1,
                        help="number of variations; 2+ writes OUT-1.mid, OUT-2.mid, ...")
    parser.add_argument("--candidates", type=int, metavar="N",
                        help=f"samples drawn for each variation, {CANDIDATES}, keeping the "
                             "one that best plays the chords (accompany, generate with "
                             "--chords) or carries the melody's register through the gap "
                             "(infill); one batch, so slower per pass (default: "
                             f"{DEFAULT_CANDIDATES['accompany']} for accompany and "
                             f"{DEFAULT_CANDIDATES['infill']} for infill without --chords "
                             f"({FULL_MODEL_CANDIDATES['accompany']} and "
                             f"{FULL_MODEL_CANDIDATES['infill']} where the full model runs "
                             "them: --quality high, other steps or guidance), else 1; fewer "
                             "with many --variations, at most 16 samples at once)")
    parser.add_argument("--projection", choices=("auto", "on", "off"), default="auto",
                        help="per-step binarize projection of the roll (default auto: off for "
                             "infill, on for accompany and generate, as measured in "
                             "docs/model-card.md)")


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    infill = subparsers.add_parser(
        "infill", help="regenerate a bar range of a MIDI clip",
        description="Regenerate bars of a MIDI clip so they fit the bars around them.",
        epilog="The written file is CLIP with one change: on the regenerated tracks, the "
               "notes that start in --bars are replaced by the new ones; every other event "
               "(notes, pedal, controllers, programs, tempo map, meters, markers, ticks per "
               "beat) stays as it was. The README's 'What the command line writes' has the "
               "details.")
    infill.add_argument("clip", type=Path, help="input .mid file (4/4; 2/2, 2/4 and 1/4 are "
                                                "read in 4/4 bars)")
    infill.add_argument("--bars", required=True, help="bars to regenerate, 1-based: 5-8")
    infill.add_argument("--track", action="append",
                        help="a track to regenerate, by name or number from 1 (repeat for "
                             "more; default: every track with notes); the other tracks are "
                             "kept and the model accompanies them")
    infill.add_argument("--groove", action="store_true",
                        help="move the new notes off the 16th grid as the context's notes "
                             "are (median offset per 16th of the beat)")
    _add_below_melody(infill, "the other tracks")
    infill.add_argument("--chords", help="chords of the whole clip, e.g. 'C G Am F' (default: "
                                          "recognised around the gap and carried into it "
                                          "along the clip's repeat period)")
    infill.add_argument("--no-context-chords", action="store_true",
                        help="without --chords, infill with no chords at all")
    infill.add_argument("--repeat", type=float, metavar="F",
                        help=f"how strongly the gap starts from the bars the clip repeats "
                             f"around it, {REPEAT}, times how much the clip repeats (where "
                             "nothing repeats: the bars next to the gap, at 0.4 of it; 0: "
                             f"from noise; default {DEFAULT_REPEAT:g}; with --chords only "
                             "bars that repeat with the gap's own chords are drafted)")
    infill.add_argument("--register", choices=("auto", "on", "off"), default="auto",
                        help="keep new notes within 5 semitones of the range of the bars "
                             "around the gap (auto: on with --chords, off without)")
    _add_sampling_arguments(infill)
    infill.set_defaults(handler=run_infill)

    accompany = subparsers.add_parser(
        "accompany", help="write a piano accompaniment for chords (and a melody)",
        description="Write a piano accompaniment that follows chords, under a melody.")
    accompany.add_argument("--chords", required=True, help="e.g. 'C G Am F' or 'C G | Am F'")
    accompany.add_argument("--melody", type=Path,
                           help="melody .mid file; the output is this file plus an "
                                "accompaniment track")
    accompany.add_argument("--bars", type=int,
                           help="length in bars (default: the melody's, else 8)")
    accompany.add_argument("--tempo", type=float,
                           help="tempo of the written file without --melody (BPM, default 120)")
    _add_below_melody(accompany, "the melody")
    accompany.add_argument("--free-register", action="store_true",
                           help="let new notes go anywhere (default: between C2 and the "
                                "melody's highest note, or G5 without --melody, where real "
                                "piano parts play, with only the chord's bass under G2)")
    accompany.add_argument("--bass-anchor", action="store_true",
                           help="put each chord's bass at the bottom: below the lowest note "
                                "the sample plays on the chord's bass, nothing else sounds "
                                "in that chord (off by default: 96 %% of bars with the bass "
                                "at the bottom instead of 88 %%, for about 0.01 less chord "
                                "agreement a beat; docs/model-card.md)")
    _add_sampling_arguments(accompany)
    accompany.set_defaults(handler=run_accompany)

    generate = subparsers.add_parser(
        "generate", help="generate a new piano clip",
        description="Generate a new piano clip, optionally following chords.")
    generate.add_argument("--bars", type=int, default=8, help="length in bars (default 8)")
    generate.add_argument("--chords", help="chords to follow, e.g. 'C G Am F'")
    generate.add_argument("--tempo", type=float,
                          help="tempo of the written file (BPM, default 120)")
    _add_sampling_arguments(generate)
    generate.set_defaults(handler=run_generate)


def _add_below_melody(parser: argparse.ArgumentParser, melody: str) -> None:
    parser.add_argument("--below-melody", action="store_true",
                        help=f"keep every new note below the lowest note of {melody} in "
                             "its bar")


def _options(args: argparse.Namespace) -> SamplingOptions:
    repeat = getattr(args, "repeat", None)  # infill only
    _check_range("--density", args.density, DENSITY)
    _check_range("--repeat", repeat, REPEAT)
    _check_range("--guidance-below", args.guidance_below, GUIDANCE_BELOW)
    _check_range("--candidates", args.candidates, CANDIDATES)
    return SamplingOptions(
        guidance=args.guidance, in_key=not args.no_in_key,
        key=parse_key(args.key) if args.key else None, steps=args.steps, seed=args.seed,
        variations=args.variations, sampler=args.sampler, allowed=args.allowed,
        binarize={"auto": None, "on": True, "off": False}[args.projection],
        infer_chords=not getattr(args, "no_context_chords", False),
        below_melody=getattr(args, "below_melody", False), quality=args.quality,
        register=False if getattr(args, "free_register", False) else
        {"auto": None, "on": True, "off": False}[getattr(args, "register", "auto")],
        density=args.density, repeat=repeat, guidance_below=args.guidance_below,
        candidates=args.candidates, bass_anchor=getattr(args, "bass_anchor", False))


def _check_range(flag: str, value: float | None, bounds: Range) -> None:
    """An optional number flag inside ``bounds`` (NaN is outside), or one error line."""
    if value is not None and value not in bounds:
        raise InputError(f"{flag} must be {bounds}, got {value:g}")


def _chords(text: str | None) -> list[ChordSpan] | None:
    return parse_progression(text) if text else None


def _pipeline(args: argparse.Namespace) -> Pipeline:
    from engine.pipeline import Pipeline

    return Pipeline.load(args.model, device=str(resolve_device(args.device)),
                         threads=args.threads)


def _print_result(result: Result) -> None:
    if result.inferred_chords:
        symbols = " ".join(f"{span.chord.symbol()}@{span.start // STEPS_PER_BAR + 1}"
                           for span in result.inferred_chords)
        print(f"chords recognised around the gap and carried into it: {symbols}")
    key = f", key {result.key}" if result.key else ""
    drawn = f" (the best of {result.candidates} candidates a variation)" \
        if result.candidates > 1 else ""
    print(f"bars {result.generated}{key}, {result.nfe} network evaluations{drawn}, "
          f"{result.seconds:.2f} s")


def _print_meter(clip: ClipFile) -> None:
    if clip.grid.regrouped:
        meters = " and ".join(clip.grid.regrouped)
        print(f"{clip.name} is written in {meters}: read in 4/4 bars of 4 beats from its "
              "start")


def _print_crossings(crossed: int, count: int, below: bool, melody: str) -> None:
    hint = "" if below else " (--below-melody keeps them under it)"
    print(f"  {crossed} of {count} new notes reach the lowest note of {melody} in their "
          f"bar{hint}")


def _tempo(args: argparse.Namespace) -> float:
    """``--tempo`` (default 120), checked before any work: a tempo a .mid file can hold."""
    if args.tempo is None:
        return DEFAULT_TEMPO_BPM
    if not (math.isfinite(args.tempo) and MIN_TEMPO_BPM <= args.tempo <= MAX_TEMPO_BPM):
        raise InputError(f"--tempo must be {MIN_TEMPO_BPM:g}..{MAX_TEMPO_BPM:g} BPM, got "
                         f"{args.tempo:g}")
    return args.tempo


def _write_new(path: Path, notes: Sequence[Note], *, bpm: float) -> None:
    write_atomically(path, lambda temp: write_midi(temp, [("diffjam", notes)], bpm=bpm))
    print(f"wrote {path} ({len(notes)} notes)")


def run_infill(args: argparse.Namespace) -> int:
    clip = read_clip_file(args.clip)
    bars = BarRange.parse(args.bars)
    if bars.stop > clip.n_bars:
        raise InputError(f"bars {bars} lie outside the clip, which has {clip.n_bars} bars")
    tracks = pick_tracks(clip, args.track)
    options, chords = _options(args), _chords(args.chords)
    paths = output_paths(args.out, options.variations)
    check_outputs(paths, inputs=[args.clip], force=args.force)
    _print_meter(clip)
    done = infill_file(clip, _pipeline(args), bars=bars, tracks=tracks, chords=chords,
                       options=options, groove=args.groove)
    names = ", ".join(repr(clip.names[t]) for t in done.tracks)
    if done.under:
        kept = ", ".join(repr(clip.names[t]) for t in done.under)
        print(f"regenerated {names} under {kept} (kept as they are)")
    for path, midi, splice, crossed, count in zip(paths, done.files, done.splices,
                                                  done.crossings, done.new_notes, strict=True):
        save_midi(midi, path)
        clash = (f"; {splice.left_out} left out and {splice.shortened} shortened where the "
                 "same key still sounded" if splice.left_out or splice.shortened else "")
        print(f"wrote {path}: bars {bars} of {names}: {splice.removed} notes replaced by "
              f"{splice.added} new ones on {clip.names[done.into]!r} (channel "
              f"{done.channel + 1}){clash}; every other event as in {clip.name}")
        if done.under:
            _print_crossings(crossed, count, options.below_melody, "the other tracks")
    _print_result(done.result)
    return 0


def run_accompany(args: argparse.Namespace) -> int:
    chords = parse_progression(args.chords)
    options = _options(args)
    if args.melody and args.tempo is not None:
        raise InputError("--tempo is for accompaniments without --melody: the written file "
                         "keeps the melody file's tempo map")
    tempo = _tempo(args)
    clip = read_clip_file(args.melody) if args.melody else None
    n_bars = args.bars if args.bars is not None else (clip.n_bars if clip else 8)
    if n_bars < 1:
        raise InputError(f"--bars must be >= 1, got {n_bars}")
    paths = output_paths(args.out, options.variations)
    check_outputs(paths, inputs=[args.melody] if args.melody else [], force=args.force)
    melody = list(clip.steps(clip.note_tracks())) if clip else None
    if clip:
        _print_meter(clip)
    result = _pipeline(args).accompany(chords, n_bars=n_bars, melody=melody, options=options)
    for path, notes in zip(paths, result.variations, strict=True):
        if clip is None:
            _write_new(path, notes, bpm=tempo)
            continue
        midi, channel = accompaniment_file(clip, notes)
        save_midi(midi, path)
        print(f"wrote {path}: {clip.name} as it was plus the track {ACCOMPANIMENT_TRACK!r} "
              f"(channel {channel + 1}, {len(notes)} notes)")
        _print_crossings(crossings(notes, melody or ()), len(notes), options.below_melody,
                         "the melody")
    _print_result(result)
    return 0


def run_generate(args: argparse.Namespace) -> int:
    options, chords = _options(args), _chords(args.chords)
    tempo = _tempo(args)
    if args.bars < 1:
        raise InputError(f"--bars must be >= 1, got {args.bars}")
    paths = output_paths(args.out, options.variations)
    check_outputs(paths, force=args.force)
    result = _pipeline(args).generate(n_bars=args.bars, chords=chords, options=options)
    for path, notes in zip(paths, result.variations, strict=True):
        _write_new(path, notes, bpm=tempo)
    _print_result(result)
    return 0
