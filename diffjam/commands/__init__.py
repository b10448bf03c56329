"""Commands that are only command-line code over library functions: the benchmarks, the
evaluation and the pages it writes, the model card's figures, the live jam, a whole song
from a form. Each module holds its parser and handler; the work is done by
:mod:`engine.bench`, :mod:`engine.evaluate`, :mod:`engine.song_eval`,
:mod:`engine.results`, :mod:`engine.loss_curve`, :mod:`engine.roll_image`,
:mod:`engine.pipeline` and :mod:`engine.songfile`, :mod:`bridge.jam` and
:mod:`bridge.jam_bench`, which know nothing of argparse.

The modules are imported when the parser is built, not when :mod:`diffjam.cli` is.
"""

from __future__ import annotations

import argparse

__all__ = ["add_commands"]


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``roll-image``, ``loss-curve``, ``eval``, ``eval-song``, ``bench``,
    ``results``, ``jam``, ``bench-jam`` and ``song``."""
    from diffjam.commands import bench, evaluate, jam, loss_curve, roll_image, song, song_eval

    roll_image.add_command(subparsers)
    loss_curve.add_command(subparsers)
    evaluate.add_eval_command(subparsers)
    song_eval.add_command(subparsers)
    bench.add_command(subparsers)
    evaluate.add_results_command(subparsers)
    jam.add_commands(subparsers)
    song.add_command(subparsers)
