"""``diffjam roll-image``: draw a MIDI clip with :func:`engine.roll_image.render_svg`."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.roll_image import render_svg

__all__ = ["add_command", "run_roll_image"]


def add_command(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "roll-image", help="draw a MIDI clip as a piano-roll SVG",
        description="Draw a MIDI clip as a piano-roll SVG, one colour per track, with the "
                    "regenerated bars shaded.")
    parser.add_argument("clip", type=Path, help="a .mid file (4/4)")
    parser.add_argument("--bars", help="bars to shade, 1-based: 5-8")
    parser.add_argument("--title", default="", help="text at the top right")
    parser.add_argument("--out", type=Path, required=True, help="the .svg to write")
    parser.set_defaults(handler=run_roll_image)


def run_roll_image(args: argparse.Namespace) -> int:
    from engine.clipfile import read_clip_file  # the reader infill uses (meters, drums)
    from engine.sampling import BarRange

    clip = read_clip_file(args.clip)
    tracks = [(clip.names[t], clip.steps([t])) for t in clip.note_tracks()]
    n_bars = clip.n_bars
    shade = None
    if args.bars:
        bars = BarRange.parse(args.bars)
        shade = (bars.start, bars.stop)
    args.out.write_text(render_svg(tracks, n_bars=n_bars, shade=shade, title=args.title))
    print(f"wrote {args.out}")
    return 0
