"""``diffjam jam`` and ``diffjam bench-jam``: thin command handlers over :mod:`bridge.jam`
and :mod:`bridge.jam_bench`.

``jam`` opens the MIDI ports, loads the model and jams until Ctrl-C, SIGTERM or an error
(exit status 1 for a missing or dead port, with the ports that exist in the message).
``bench-jam`` prints :func:`bridge.jam_bench.bench_report`'s figures (``--json`` also
writes them); exit status 1 when the long jam left a note stuck or the requests beside
the real-time jam failed (`bridge.jam_bench.report_failed`).
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import signal
import threading
import time
from pathlib import Path
from typing import Any

from bridge import midiports
from bridge.jam import JamConfig, JamSession, freeze_start_up_objects
from bridge.jam_bench import (
    DEFAULT_BPMS,
    PatternPipeline,
    bench_report,
    format_report,
    report_failed,
)
from engine.devices import add_device_argument, add_threads_argument, resolve_device
from engine.errors import InputError
from wire.limits import GUIDANCE, JAM_TEMPO

__all__ = ["add_commands", "run_bench_jam", "run_jam"]

log = logging.getLogger(__name__)

_DEFAULTS = JamConfig()


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``jam`` and ``bench-jam``."""
    jam = subparsers.add_parser(
        "jam",
        help="jam live: follow a MIDI player and play an accompaniment bar by bar",
        description="Listen on a MIDI input, recognise the player's chords and play the "
                    "model's accompaniment for the coming bar on a MIDI output.",
    )
    jam.add_argument("--input", help="MIDI input port (default: a virtual port 'diffjam in')")
    jam.add_argument("--output",
                     help="MIDI output port (default: a virtual port 'diffjam out')")
    jam.add_argument("--clock", choices=("midi", "internal"), default="internal",
                     help="follow the DAW's MIDI clock on the input, or tick at --tempo "
                          "(default internal)")
    jam.add_argument("--tempo", type=float, default=_DEFAULTS.tempo,
                     help=f"BPM of the internal clock (default {_DEFAULTS.tempo:g})")
    jam.add_argument("--model", type=Path, help="model file (default: the bundled model)")
    add_device_argument(jam)
    add_threads_argument(jam)
    jam.add_argument("--steps", type=int, default=_DEFAULTS.steps,
                     help=f"sampler steps a bar (default {_DEFAULTS.steps})")
    jam.add_argument("--guidance", type=float, default=_DEFAULTS.guidance,
                     help=f"classifier-free guidance scale (default {_DEFAULTS.guidance:g})")
    jam.add_argument("--key", help="key, e.g. 'Am' (default: estimated)")
    jam.add_argument("--seed", type=int, help="random seed (bar n uses seed + n)")
    jam.add_argument("--context-bars", type=int, default=_DEFAULTS.context_bars,
                     help="bars of the player's notes the model sees "
                          f"(default {_DEFAULTS.context_bars})")
    jam.add_argument("--backend",
                     help="mido backend, e.g. 'mido.backends.rtmidi/UNIX_JACK' "
                          "(default: $MIDO_BACKEND or python-rtmidi)")
    jam.add_argument("--list-ports", action="store_true",
                     help="print the MIDI ports and exit")
    jam.set_defaults(handler=run_jam)

    bench = subparsers.add_parser(
        "bench-jam",
        help="measure the jam: model latency per bar, output jitter, a long jam",
        description="Latency of the next bar as a fraction of the bar, note-on jitter against "
                    "the grid, and ten minutes of simulated jam (stuck notes, memory).",
    )
    bench.add_argument("--bpm", type=float, nargs="+", default=list(DEFAULT_BPMS),
                       help="tempi for the latency figures (default 90 120 160)")
    bench.add_argument("--bars", type=int, default=16,
                       help="bars generated at each tempo (default 16)")
    bench.add_argument("--model", type=Path, help="model file (default: the bundled model)")
    add_device_argument(bench)
    add_threads_argument(bench)
    bench.add_argument("--steps", type=int, default=_DEFAULTS.steps,
                       help=f"sampler steps a bar (default {_DEFAULTS.steps})")
    bench.add_argument("--guidance", type=float, default=_DEFAULTS.guidance,
                       help=f"classifier-free guidance scale (default {_DEFAULTS.guidance:g}; "
                            "1.0 halves the "
                            "network evaluations)")
    bench.add_argument("--fake-model", action="store_true",
                       help="use the fast fake model everywhere (measures the bridge only)")
    bench.add_argument("--jitter-bars", type=int, default=8,
                       help="bars of real-time jam for the jitter figure (default 8)")
    bench.add_argument("--minutes", type=float, default=10.0,
                       help="minutes of music in the long simulated jam (default 10)")
    bench.add_argument("--load", type=int, default=0,
                       help="busy processes spinning beside the latency and real-time figures "
                            "(a DAW keeps the CPU busy; default 0)")
    bench.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    bench.set_defaults(handler=run_bench_jam)


def _load_pipeline(model: Path | None, device: str, threads: int | None = None) -> Any:
    from engine.pipeline import Pipeline

    started = time.perf_counter()
    pipeline = Pipeline.load(model, device=str(resolve_device(device)), threads=threads)
    info = pipeline.info()
    log.info("model %s on %s loaded in %.1f s", info.get("model"), info.get("device"),
             time.perf_counter() - started)
    pipeline.warm_up()  # on CUDA: CUDA's own start and the first captures, before bar 1
    freeze_start_up_objects()  # no long garbage collection under the jam's clock
    return pipeline


def run_jam(args: argparse.Namespace) -> int:
    """``diffjam jam``: a bad option is an InputError, a MIDI port problem a PortError
    (an OSError), both reported by the command line layer."""
    if args.list_ports:
        ports = midiports.list_ports(args.backend)
        print("inputs:")
        for name in ports["inputs"]:
            print(f"  {name}")
        print("outputs:")
        for name in ports["outputs"]:
            print(f"  {name}")
        return 0
    config = JamConfig(input=args.input, output=args.output, clock=args.clock,
                       tempo=args.tempo, guidance=args.guidance, key=args.key,
                       steps=args.steps, seed=args.seed, context_bars=args.context_bars)
    # a missing port fails now, before the model takes its seconds to load
    for port, direction in ((config.input, "input"), (config.output, "output")):
        if port is not None:
            midiports.find_port(port, direction=direction, backend=args.backend)
    _check_model_file(args.model)
    pipeline = _load_pipeline(args.model, args.device, args.threads)

    ended = threading.Event()
    last_bar = [0]

    def on_state(state: dict[str, Any]) -> None:
        if state["bar"] != last_bar[0]:
            last_bar[0] = state["bar"]
            log.info("bar %d  chord %s  tempo %s", state["bar"], state["chord"] or "-",
                     state["tempo"])
        if not state["running"]:
            ended.set()

    session = JamSession(pipeline, config, backend=args.backend, on_state=on_state)
    session.start()  # a PortError is the command's error (an OSError: exit status 1)
    if config.clock == "midi":
        log.info("waiting for the DAW's MIDI clock (start / continue) on the input")
    previous = signal.signal(signal.SIGTERM, lambda _signum, _frame: ended.set())
    try:
        while not ended.wait(0.5):
            pass
    except KeyboardInterrupt:
        log.info("interrupted: all notes off")
    finally:
        signal.signal(signal.SIGTERM, previous)
        session.stop()
    error = session.state()["error"]
    if error:
        raise OSError(f"the jam stopped: {error}")
    return 0


def _check_model_file(path: Path | None) -> None:
    """A missing ``--model`` fails before anything else starts (exit status 1)."""
    if path is not None and not path.is_file():
        raise FileNotFoundError(errno.ENOENT, "model file not found", str(path))


def run_bench_jam(args: argparse.Namespace) -> int:
    """``diffjam bench-jam``: exit status 1 when :func:`bridge.jam_bench.report_failed`."""
    if args.bars < 1 or args.jitter_bars < 1 or args.minutes <= 0 or args.steps < 1:
        raise InputError("--bars, --jitter-bars, --steps and --minutes must be > 0")
    if args.load < 0:
        raise InputError("--load must be >= 0")
    if args.guidance not in GUIDANCE:
        raise InputError(f"--guidance must be {GUIDANCE}")
    if any(bpm not in JAM_TEMPO for bpm in args.bpm):
        raise InputError(f"--bpm must be {JAM_TEMPO}")
    if args.fake_model:
        pipeline: Any = PatternPipeline()
    else:
        _check_model_file(args.model)
        pipeline = _load_pipeline(args.model, args.device, args.threads)
    report = bench_report(pipeline, bpms=args.bpm, bars=args.bars, steps=args.steps,
                          guidance=args.guidance, jitter_bars=args.jitter_bars,
                          minutes=args.minutes, load=args.load, fake_model=args.fake_model)
    print(format_report(report))
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 1 if report_failed(report) else 0
