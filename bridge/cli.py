"""The bridge's sub-commands of ``diffjam`` (``serve``, ``status``, ``bench-osc``,
``doctor``); :mod:`diffjam.cli` puts them on the one parser (``jam`` and ``bench-jam`` are
in :mod:`diffjam.commands.jam`).

``python -m bridge.cli`` still runs the whole command (older instructions and the Max
device's tests use it); the import of :mod:`diffjam.cli` for that lives only in the
``__main__`` block, so importing this module never reaches the panel.
"""

from __future__ import annotations

import argparse

from bridge import doctor
from bridge import serve as serve_cli

__all__ = ["add_commands"]


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register the bridge's own commands (the server's and the doctor's)."""
    serve_cli.add_commands(subparsers)
    doctor.add_commands(subparsers)


if __name__ == "__main__":  # an alias of `python -m diffjam`
    import sys

    from diffjam.cli import main

    sys.exit(main())
