"""``diffjam loss-curve``: draw a training run's loss history (its ``state.json``) with
:func:`engine.loss_curve.render_svg`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from engine.errors import InputError
from engine.loss_curve import render_svg

__all__ = ["add_command", "run_command"]


def add_command(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("loss-curve", help="draw a training run's loss curves (SVG)")
    parser.add_argument("--run", type=Path, required=True, help="run directory of `diffjam train`")
    parser.add_argument("--out", type=Path, required=True, help="output .svg file")
    parser.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> int:
    state_file = args.run / "state.json"
    if not state_file.is_file():
        raise InputError(f"{args.run} is not a training run yet: it has no state.json (a run "
                         "writes it at its first save)")
    try:
        state = json.loads(state_file.read_text())
        history, step = state["history"], int(state["step"])
        if not isinstance(history, dict):
            raise TypeError("history is not an object")
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise InputError(f"cannot read {state_file}: {err}") from err
    svg = render_svg(history, title=f"{args.run.name}: {step} steps")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(svg)
    print(f"wrote {args.out}")
    return 0
