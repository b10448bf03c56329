"""``diffjam infill``, ``diffjam accompany`` and ``diffjam generate``: the pipeline on
MIDI files from the command line.

Every bad input (unknown chord, bars outside the clip, empty clip, a meter other than
4/4, a missing model file) ends in one ``diffjam CMD: error: ...`` line and exit code 2
(raised as :class:`~engine.errors.InputError`, printed by ``bridge.cli.main``).
"""

from __future__ import annotations

import argparse
import logging
import math
from dataclasses import dataclass
from pathlib import Path

from engine.devices import add_device_argument, resolve_device
from engine.errors import InputError, UnsupportedMeterError
from engine.harmony import ChordSpan, parse_key, parse_progression
from engine.midifile import read_midi, write_midi, quantize
from engine.pianoroll import STEPS_PER_BAR, Note, TimeSignature
from engine.sampling import DEFAULT_GUIDANCE, SamplingOptions

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Clip:
    notes: tuple[Note, ...]
    n_bars: int
    bpm: float


def load_clip(path: Path, *, track: str | None = None) -> Clip:
    """Read a MIDI file into notes on the 16th grid (all tracks merged, or one by name).

    Raises UnsupportedMeterError when the file declares a meter other than 4/4, and
    InputError for an empty clip or an unknown track.
    """
    if not path.is_file():
        raise InputError(f"no such MIDI file: {path}")
    contents = read_midi(path)
    for meter in contents.meters:
        signature = TimeSignature(meter.numerator, meter.denominator)
        if not signature.is_supported:
            raise UnsupportedMeterError(
                f"{path.name} is in {signature} at beat {meter.beat:g}; only 4/4 is supported")
    if track is not None:
        try:
            tracks = [contents.track(track)]
        except KeyError as err:
            raise InputError(str(err.args[0])) from err
    else:
        tracks = list(contents.tracks)
    notes = []
    for midi_track in tracks:
        for timed in midi_track.notes:
            start, duration = quantize(timed.start_beat, timed.end_beat)
            notes.append(Note(start=start, pitch=timed.pitch, duration=duration,
                              velocity=max(1, timed.velocity)))
    if not notes:
        raise InputError(f"{path.name} has no notes")
    end = max(n.end for n in notes)
    tempos = contents.tempo_map.changes
    bpm = 60e6 / tempos[-1][1] if tempos else 120.0
    return Clip(tuple(sorted(notes)), n_bars=math.ceil(end / STEPS_PER_BAR), bpm=bpm)


def _add_sampling_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--out", type=Path, required=True, help="output .mid file")
    parser.add_argument("--model", type=Path, help="model file (default: the bundled model)")
    add_device_argument(parser)
    parser.add_argument("--key", help="key, e.g. 'C', 'Am', 'F# minor' (default: estimated)")
    parser.add_argument("--guidance", type=float, default=DEFAULT_GUIDANCE,
                        help=f"classifier-free guidance scale (default {DEFAULT_GUIDANCE}; "
                             "1 = none)")
    parser.add_argument("--no-in-key", action="store_true",
                        help="turn off the per-step projection onto in-key pitches")
    parser.add_argument("--allowed", choices=("key", "key+chord"), default="key",
                        help="pitch set of the in-key projection (default: key)")
    parser.add_argument("--steps", type=int, default=10, help="sampler steps (default 10)")
    parser.add_argument("--sampler", choices=("ddim", "ddpm"), default="ddim")
    parser.add_argument("--seed", type=int, help="random seed (same seed, same output)")
    parser.add_argument("--variations", type=int, default=1,
                        help="number of variations; 2+ writes OUT-1.mid, OUT-2.mid, ...")
    parser.add_argument("--tempo", type=float, help="tempo of the written file (BPM)")
    parser.add_argument("--projection", choices=("auto", "on", "off"), default="auto",
                        help="per-step binarize projection of the roll (default auto: off for "
                             "infill, on for accompany and generate, as measured in "
                             "docs/model-card.md)")


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    infill = subparsers.add_parser(
        "infill", help="regenerate a bar range of a MIDI clip",
        description="Regenerate bars of a MIDI clip so they fit the bars around them.")
    infill.add_argument("clip", type=Path, help="input .mid file (4/4)")
    infill.add_argument("--bars", required=True, help="bars to regenerate, 1-based: 5-8")
    infill.add_argument("--track", help="use only this track of the file")
    infill.add_argument("--chords", help="chords of the whole clip, e.g. 'C G Am F' (default: "
                                          "recognised around the gap and carried into it "
                                          "along the clip's repeat period)")
    infill.add_argument("--no-context-chords", action="store_true",
                        help="without --chords, infill with no chords at all")
    _add_sampling_arguments(infill)
    infill.set_defaults(handler=run_infill)

    accompany = subparsers.add_parser(
        "accompany", help="write a piano accompaniment for chords (and a melody)",
        description="Write a piano accompaniment that follows chords, under a melody.")
    accompany.add_argument("--chords", required=True, help="e.g. 'C G Am F' or 'C G | Am F'")
    accompany.add_argument("--melody", type=Path, help="melody .mid file")
    accompany.add_argument("--bars", type=int, default=8, help="length in bars (default 8)")
    _add_sampling_arguments(accompany)
    accompany.set_defaults(handler=run_accompany)

    generate = subparsers.add_parser(
        "generate", help="generate a new piano clip",
        description="Generate a new piano clip, optionally following chords.")
    generate.add_argument("--bars", type=int, default=8, help="length in bars (default 8)")
    generate.add_argument("--chords", help="chords to follow, e.g. 'C G Am F'")
    _add_sampling_arguments(generate)
    generate.set_defaults(handler=run_generate)


def _options(args: argparse.Namespace):
    return SamplingOptions(
        guidance=args.guidance, in_key=not args.no_in_key,
        key=parse_key(args.key) if args.key else None, steps=args.steps, seed=args.seed,
        variations=args.variations, sampler=args.sampler, allowed=args.allowed,
        binarize={"auto": None, "on": True, "off": False}[args.projection],
        infer_chords=not getattr(args, "no_context_chords", False))


def _chords(text: str | None) -> list[ChordSpan] | None:
    return parse_progression(text) if text else None


def _pipeline(args: argparse.Namespace):
    from engine.pipeline import Pipeline

    return Pipeline.load(args.model, device=str(resolve_device(args.device)))


def _write(args: argparse.Namespace, result, *, extra: tuple = (), bpm: float = 120.0) -> None:
    bpm = args.tempo or bpm
    paths = [args.out] if len(result.variations) == 1 else [
        args.out.with_name(f"{args.out.stem}-{i + 1}{args.out.suffix}")
        for i in range(len(result.variations))]
    for path, notes in zip(paths, result.variations):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_midi(path, [("diffjam", notes), *extra], bpm=bpm)
        print(f"wrote {path} ({len(notes)} notes)")
    if result.inferred_chords:
        symbols = " ".join(f"{span.chord.symbol()}@{span.start // STEPS_PER_BAR + 1}"
                           for span in result.inferred_chords)
        print(f"chords recognised around the gap and carried into it: {symbols}")
    key = f", key {result.key}" if result.key else ""
    print(f"bars {result.generated}{key}, {result.nfe} network evaluations, "
          f"{result.seconds:.2f} s")


def run_infill(args: argparse.Namespace) -> int:
    from engine.pipeline import BarRange

    clip = load_clip(args.clip, track=args.track)
    bars = BarRange.parse(args.bars)
    if bars.stop > clip.n_bars:
        raise InputError(f"bars {bars} lie outside the clip, which has {clip.n_bars} bars")
    options, chords = _options(args), _chords(args.chords)
    result = _pipeline(args).infill(clip.notes, n_bars=clip.n_bars, bars=bars, chords=chords,
                                    options=options)
    _write(args, result, bpm=clip.bpm)
    return 0


def run_accompany(args: argparse.Namespace) -> int:
    chords = parse_progression(args.chords)
    options = _options(args)
    melody, bpm = None, 120.0
    if args.melody:
        clip = load_clip(args.melody)
        melody, bpm = clip.notes, clip.bpm
    if args.bars < 1:
        raise InputError(f"--bars must be >= 1, got {args.bars}")
    result = _pipeline(args).accompany(chords, n_bars=args.bars, melody=melody, options=options)
    extra = (("melody", melody),) if melody else ()
    _write(args, result, extra=extra, bpm=bpm)
    return 0


def run_generate(args: argparse.Namespace) -> int:
    options, chords = _options(args), _chords(args.chords)
    if args.bars < 1:
        raise InputError(f"--bars must be >= 1, got {args.bars}")
    result = _pipeline(args).generate(n_bars=args.bars, chords=chords, options=options)
    _write(args, result)
    return 0
