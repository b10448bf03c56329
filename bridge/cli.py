"""The ``diffjam`` command line: engine, bridge and panel sub-commands in one parser."""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import sys
from collections.abc import Sequence

import engine
from bridge import doctor
from bridge import serve as serve_cli
from bridge import jam_bench as jam_cli
from engine import cli as engine_cli
from engine.errors import InputError

LOG_LEVELS = ("debug", "info", "warning", "error")

log = logging.getLogger(__name__)


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register the bridge's own commands (server and jam helpers add theirs here)."""
    serve_cli.add_commands(subparsers)
    jam_cli.add_commands(subparsers)
    doctor.add_commands(subparsers)


def _add_gui_commands(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("panel", help="open the diffjam control panel", add_help=False)
    parser.set_defaults(handler=_run_panel)


def _run_panel(args: argparse.Namespace) -> int:
    """Build the real ``panel`` parser from ``gui.cli`` (imports Qt only now) and run it."""
    if importlib.util.find_spec("PyQt6") is None:
        raise InputError("the panel needs PyQt6, which the engine does not install: "
                         "pip install -e '.[panel]' in the project environment (or "
                         "DIFFJAM_EXTRAS=panel bash scripts/serve.sh)")
    from gui import cli as gui_cli

    parser = argparse.ArgumentParser(prog="diffjam")
    gui_cli.add_commands(parser.add_subparsers(dest="command", required=True))
    gui_args = parser.parse_args(["panel", *args.panel_argv])
    gui_args.log_level = args.log_level
    return int(gui_args.handler(gui_args) or 0)


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
    add_commands(subparsers)
    _add_gui_commands(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if args.command == "panel":
        args.panel_argv = rest
    elif rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
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


if __name__ == "__main__":
    sys.exit(main())
