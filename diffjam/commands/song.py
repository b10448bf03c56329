"""``diffjam song``: a whole song from a form (:meth:`engine.pipeline.Pipeline.song`),
written as one MIDI file by :func:`engine.songfile.write_song`.

Bad input ends, like every command's, in one ``diffjam song: error: ...`` line (an
:class:`~engine.errors.InputError`, exit status 2): a form that cannot be read, a key,
chords or bars outside the song, an output that exists, an engine without a lead-sheet
model.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from engine.clipfile import check_outputs, read_clip_file, write_atomically
from engine.devices import add_device_argument, add_threads_argument, resolve_device
from engine.errors import BarRangeError, InputError
from engine.harmony import ChordSpan, Key, parse_key, parse_progression
from engine.pianoroll import STEPS_PER_BAR, Note
from engine.sampling import DEFAULT_GUIDANCE, QUALITIES, BarRange, SamplingOptions
from wire.form import FormError, Phrase, parse_form
from wire.limits import DEFAULT_REPEAT_STRENGTH, DEFAULT_SONG_KEY, FILE_TEMPO, REPEAT_STRENGTH, SEED

if TYPE_CHECKING:
    from engine.pipeline import Pipeline
    from engine.song import FixedParts, Song, SongOptions

__all__ = ["add_command", "run_song"]

DEFAULT_TEMPO = 96.0  # BPM of a song that names none (Pipeline.song's default)


def add_command(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "song", help="write a whole song (melody, chords, accompaniment) from a form",
        description="Write a whole song from a form: the lead sheet (melody and chords) "
                    "phrase by phrase, a phrase whose letter came before starting from "
                    "that phrase, then the accompaniment under it.",
        epilog="The file: format 1 at the song's tempo, a marker with the phrase's letter "
               "at the start of every phrase, and the tracks 'Melody', 'Chords' (each "
               "chord as a block chord, its bass in E2-D#3) and 'Accompaniment'.")
    parser.add_argument("--form", required=True,
                        help="the phrases and their bars, e.g. i4A8B8A8o4 (upper case: "
                             "melodic phrases; i intro, o outro, x/b fills and bridges)")
    parser.add_argument("--key", default=DEFAULT_SONG_KEY,
                        help=f"the song's key, e.g. 'C', 'Am', 'F# minor' (default "
                             f"{DEFAULT_SONG_KEY})")
    parser.add_argument("--minor", action="store_true",
                        help="the minor key on --key's tonic ('--key A --minor' is A minor)")
    parser.add_argument("--tempo", type=float, default=DEFAULT_TEMPO,
                        help=f"BPM (default {DEFAULT_TEMPO:g})")
    parser.add_argument("--seed", type=int, help="random seed (same seed, same song)")
    parser.add_argument("--steps", type=int,
                        help="sampler steps of the lead sheet (default: the engine's, 20)")
    parser.add_argument("--repeat-strength", type=float,
                        help="0..1: how closely a phrase follows the earlier phrase with "
                             "its letter (0: not at all, 1: a copy; default "
                             f"{DEFAULT_REPEAT_STRENGTH:g})")
    parser.add_argument("--no-form", action="store_true",
                        help="write the lead sheet without the phrase labels (the no-form "
                             "baseline)")
    accompaniment = parser.add_argument_group("the accompaniment")
    accompaniment.add_argument("--guidance", type=float, default=DEFAULT_GUIDANCE,
                               help=f"classifier-free guidance scale (default "
                                    f"{DEFAULT_GUIDANCE}; 1 = none)")
    accompaniment.add_argument("--no-in-key", action="store_true",
                               help="turn off the per-step projection onto in-key pitches")
    accompaniment.add_argument("--quality", choices=QUALITIES, default="fast",
                               help="fast (default): a distilled model's few-step student; "
                                    "high: always the full model")
    fixed = parser.add_argument_group("parts you give (the song is written around them)")
    fixed.add_argument("--melody", type=Path, metavar="FILE",
                       help="a .mid file whose notes are the melody of --melody-bars")
    fixed.add_argument("--melody-bars", metavar="FIRST-LAST",
                       help="the bars of --melody kept, 1-based: 1-8 (default: all of the "
                            "file's bars)")
    fixed.add_argument("--chords",
                       help="chords from bar 1, one a bar ('C G Am F') or with bar lines "
                            "('C G | Am F'); the lead sheet writes the rest")
    parser.add_argument("-o", "--out", type=Path, required=True,
                        help="output .mid file (in a folder that exists)")
    parser.add_argument("--force", action="store_true", help="write over an existing file")
    parser.add_argument("--model", type=Path,
                        help="accompaniment model file (default: the bundled model)")
    parser.add_argument("--leadsheet", type=Path,
                        help="lead-sheet model file (default: the bundled one)")
    add_device_argument(parser)
    add_threads_argument(parser)
    parser.set_defaults(handler=run_song)


def run_song(args: argparse.Namespace) -> int:
    """``diffjam song``: checks every input before loading the models."""
    phrases = _form(args.form)
    n_bars = sum(phrase.bars for phrase in phrases)
    key = _key(args.key, minor=args.minor)
    if not (math.isfinite(args.tempo) and args.tempo in FILE_TEMPO):
        raise InputError(f"--tempo must be {FILE_TEMPO} BPM, got {args.tempo:g}")
    options = _options(args)
    fixed = _fixed(args, n_bars)
    check_outputs([args.out], inputs=[args.melody] if args.melody else [], force=args.force)
    song = load_pipeline(args).song(phrases, key=key, tempo=args.tempo, options=options,
                                    fixed=fixed)
    write_atomically(args.out, partial(_write, song=song))
    print(summary(args.out, song))
    return 0


def load_pipeline(args: argparse.Namespace) -> Pipeline:
    """The accompaniment model and the lead-sheet model (tests replace this)."""
    from engine.pipeline import Pipeline

    return Pipeline.load(args.model, device=str(resolve_device(args.device)),
                         threads=args.threads, leadsheet=args.leadsheet)


def summary(path: Path, song: Song) -> str:
    """One line: the file, bars, phrases, key, parts, seconds per stage, seed."""
    form = " ".join(f"{phrase.letter}{phrase.bars}" for phrase in song.phrases)
    stages = ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in song.seconds.items())
    return (f"wrote {path}: {song.n_bars} bars, {len(song.phrases)} phrases ({form}) in "
            f"{song.key.name()} at {song.tempo:g} BPM; melody {len(song.melody)} notes, "
            f"{len(song.chords)} chords, accompaniment {len(song.accompaniment)} notes; "
            f"{stages}; seed {song.seed}")


def _write(path: Path, *, song: Song) -> None:
    from engine.songfile import write_song

    write_song(path, song)


def _form(text: str) -> tuple[Phrase, ...]:
    try:
        phrases = parse_form(text)
    except FormError as err:
        raise InputError(f"--form {text!r}: {err}") from err
    if not phrases:
        raise InputError("--form is empty: give the phrases and their bars, e.g. i4A8B8A8o4")
    return phrases


def _key(text: str, *, minor: bool) -> Key:
    key = parse_key(text)
    return Key(key.tonic, "minor") if minor else key


def _options(args: argparse.Namespace) -> SongOptions:
    """The lead sheet's and the accompaniment's settings, each checked against its range."""
    from engine.song import SongOptions

    if args.seed is not None and args.seed not in SEED:
        raise InputError(f"--seed must be in {SEED}, got {args.seed}")
    if args.repeat_strength is not None and not (
            math.isfinite(args.repeat_strength) and args.repeat_strength in REPEAT_STRENGTH):
        raise InputError(f"--repeat-strength must be in {REPEAT_STRENGTH}, got "
                         f"{args.repeat_strength:g}")
    # the accompaniment's seed and key are the song's (engine.song)
    accompaniment = SamplingOptions(guidance=args.guidance, in_key=not args.no_in_key,
                                    quality=args.quality)
    options = SongOptions(seed=args.seed, use_form=not args.no_form, accompaniment=accompaniment)
    if args.steps is not None:
        options = replace(options, steps=args.steps)
    if args.repeat_strength is not None:
        options = replace(options, repeat_strength=args.repeat_strength)
    return options


def _fixed(args: argparse.Namespace, n_bars: int) -> FixedParts:
    """The chords and melody bars the user gives, checked against the song's length."""
    from engine.song import FixedParts

    chords: tuple[ChordSpan, ...] = tuple(parse_progression(args.chords)) if args.chords else ()
    if chords and chords[-1].stop > n_bars * STEPS_PER_BAR:
        raise InputError(f"--chords has {math.ceil(chords[-1].stop / STEPS_PER_BAR)} bars; the "
                         f"form has {n_bars}")
    if args.melody is None:
        if args.melody_bars is not None:
            raise InputError("--melody-bars needs --melody FILE")
        return FixedParts(chords=chords)
    clip = read_clip_file(args.melody)
    bars = (BarRange.parse(args.melody_bars) if args.melody_bars is not None
            else BarRange(0, min(clip.n_bars, n_bars)))
    if bars.stop > n_bars:
        raise BarRangeError(f"--melody-bars {bars} lie outside the song's {n_bars} bars")
    if bars.stop > clip.n_bars:
        raise BarRangeError(f"--melody-bars {bars}: {clip.name} has {clip.n_bars} bars")
    low, high = bars.start * STEPS_PER_BAR, bars.stop * STEPS_PER_BAR
    melody: tuple[Note, ...] = tuple(note for note in clip.steps(clip.note_tracks())
                                     if low <= note.start < high)
    return FixedParts(melody=melody, melody_bars=tuple(range(bars.start, bars.stop)),
                      chords=chords)
