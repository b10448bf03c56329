"""The ``diffjam panel`` command (``bridge.cli`` imports this module only for ``panel``)."""

from __future__ import annotations

import argparse

__all__ = ["add_commands"]


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``panel`` on the ``diffjam`` parser."""
    parser = subparsers.add_parser(
        "panel",
        help="open the diffjam control panel",
        description=(
            "Open the control panel, an OSC client of a running engine. Host and port "
            "default to the last ones used (127.0.0.1:9000 the first time)."
        ),
    )
    parser.add_argument("--host", help="engine host (default: last used, else 127.0.0.1)")
    parser.add_argument("--port", type=int, help="engine OSC port (default: last used, else 9000)")
    parser.add_argument(
        "--start-engine",
        action="store_true",
        help="start `diffjam serve` on that host and port, and stop it with the panel",
    )
    parser.set_defaults(handler=run_panel)


def run_panel(args: argparse.Namespace) -> int:
    from gui import app

    return app.main(host=args.host, port=args.port, start_engine=args.start_engine)
