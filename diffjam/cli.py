"""The ``diffjam`` command line: one parser, one error convention, every sub-command.

Each package contributes its sub-commands through ``add_commands(subparsers)`` in its own
``cli.py`` (``engine/cli.py``, ``bridge/cli.py``); the commands that are only
command-line code over library functions (benchmarks, evaluation, results page, loss
curve, jam) are in :mod:`diffjam.commands`; ``panel`` is registered here and imports
:mod:`gui` (and Qt) only when it runs, so the engine and the server run without Qt
installed and ``bridge`` never imports ``gui``.

One error convention for every command: an :class:`~engine.errors.InputError` is one line
``diffjam COMMAND: error: MESSAGE`` on stderr and exit status 2; an ``OSError`` (a file, a
MIDI port) the same with status 1.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import sys
from collections.abc import Sequence

import engine
from bridge import cli as bridge_cli
from diffjam import commands
from engine import cli as engine_cli
from engine.errors import InputError

__all__ = ["build_parser", "main"]

LOG_LEVELS = ("debug", "info", "warning", "error")

log = logging.getLogger(__name__)


def _add_panel_command(subparsers: argparse._SubParsersAction) -> None:
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
    """``diffjam panel``: imports the panel (and Qt) only now."""
    if importlib.util.find_spec("PyQt6") is None:
        raise InputError("the panel needs PyQt6, which the engine does not install: "
                         "pip install -e '.[panel]' in the project environment (or "
                         "DIFFJAM_EXTRAS=panel bash scripts/serve.sh)")
    from gui import app

    return app.main(host=args.host, port=args.port, start_engine=args.start_engine)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="diffjam",
        description="diffjam: piano-roll diffusion models for your DAW, served over OSC/MIDI.",
    )
    parser.add_argument("--version", action="version", version=f"diffjam {engine.__version__}")
    parser.add_argument(
        "-v",
        "--log-level",
        choices=LOG_LEVELS,
        default="info",
        help="logging level (default info)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    engine_cli.add_commands(subparsers)
    commands.add_commands(subparsers)
    bridge_cli.add_commands(subparsers)
    _add_panel_command(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.handler(args) or 0)
    except InputError as err:
        return _fail(args.command, _describe(err), 2)
    except OSError as err:  # the file system or a MIDI port (bridge.midiports.PortError)
        log.debug("diffjam %s failed", args.command, exc_info=True)
        text = err.strerror if err.strerror and err.filename is not None else str(err)
        if err.filename is not None:
            text = f"{text}: {os.fsdecode(err.filename)!r}"
        return _fail(args.command, text or type(err).__name__, 1)


MAX_ERROR_LINE = 300  # characters of an error's message shown (it may quote a long input)
# What an exception that carries no message of its own means at the command line.
_BLANK_REASONS: dict[type[BaseException], str] = {
    EOFError: "the file ends too early (empty or cut short)",
}


def _describe(err: BaseException) -> str:
    """An error's message, with the reason of its cause when its own ends blank ("...: ")."""
    text = str(err).strip()
    cause = err.__cause__
    if cause is not None and (not text or text.endswith(":")):
        reason = str(cause).strip() or next(
            (why for kind, why in _BLANK_REASONS.items() if isinstance(cause, kind)),
            type(cause).__name__)
        text = f"{text} {reason}".strip()
    return text


def _fail(command: str, message: str, code: int) -> int:
    """One line on stderr, ``diffjam COMMAND: error: MESSAGE``, cut to one screen line or so;
    the exit status ``code``."""
    message = " ".join(message.split())
    if len(message) > MAX_ERROR_LINE:
        message = message[: MAX_ERROR_LINE - 1] + "\u2026"
    print(f"diffjam {command}: error: {message}", file=sys.stderr)
    return code
