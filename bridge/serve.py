"""``diffjam serve`` and ``diffjam bench-osc``: thin command handlers over bridge.server.

``serve`` loads the model once and runs the OSC server until Ctrl-C or SIGTERM.
``bench-osc`` measures the OSC round trip (encode, UDP on 127.0.0.1, decode, routing,
queueing, reply) with a zero-time fake pipeline, so the figures are the bridge's own
overhead, not the model's. With ``--model`` it also times an 8-bar infill at the default
settings twice in the same run, called directly as the CLI calls it and through the OSC
server, optionally beside ``--load N`` busy processes: the server's cost over the CLI.
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import json
import logging
import os
import signal
import socket
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bridge.models import DEFAULT_MAX_LOADED
from engine.devices import add_device_argument, add_threads_argument, resolve_device
from engine.errors import InputError

if TYPE_CHECKING:
    from engine.harmony import ChordSpan
    from engine.pianoroll import Note
    from engine.sampling import BarRange, Result, SamplingOptions

__all__ = ["add_commands", "run_bench", "run_serve"]

log = logging.getLogger(__name__)


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``serve`` and ``bench-osc``."""
    serve = subparsers.add_parser(
        "serve",
        help="run the engine's OSC server",
        description="Load the model once and serve OSC requests (docs/osc-protocol.md).",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=9000, help="UDP port (default 9000)")
    serve.add_argument("--model", type=Path, help="model file (default: the bundled model)")
    serve.add_argument("--leadsheet", type=Path, metavar="FILE",
                       help="the lead-sheet model /diffjam/song needs (default: the bundled "
                            "one, when there is one; without, songs are refused and "
                            "/diffjam/status says so)")
    serve.add_argument("--models", type=Path, metavar="DIR",
                       help="also serve every model file in DIR by name (its file stem): a "
                            "request's 'model' param picks one, /diffjam/status lists them; "
                            "each is loaded on its first request")
    serve.add_argument("--max-loaded", type=int, default=DEFAULT_MAX_LOADED,
                       help="models of --models kept loaded at once, least recently used "
                            f"let go first (default {DEFAULT_MAX_LOADED})")
    add_device_argument(serve)
    add_threads_argument(serve)
    serve.add_argument("--queue", type=int, default=8, help="requests that may wait (default 8)")
    serve.add_argument("--timeout", type=float, default=120.0,
                       help="seconds one generation may take (default 120)")
    serve.add_argument("--output-dir", type=Path,
                       help="where .mid results go (default: a folder private to you, "
                            "diffjam-<user id> under the system temp folder)")
    serve.add_argument("--defaults", metavar="JSON",
                       help="engine-wide sampling defaults every client starts from, keys of "
                            "/diffjam/settings, e.g. '{\"steps\": 20}'")
    serve.add_argument("--allow-remote", action="store_true",
                       help="allow a --host other than loopback (anyone on the network "
                            "can then use the engine)")
    serve.set_defaults(handler=run_serve)

    bench = subparsers.add_parser(
        "bench-osc",
        help="measure OSC round-trip overhead with a zero-time fake model",
        description="Round-trip latency of /diffjam/status and a small infill over UDP.",
    )
    bench.add_argument("--n", type=int, default=500, help="round trips per case (default 500)")
    bench.add_argument("--model", nargs="?", const="bundled", metavar="FILE",
                       help="also time a real 8-bar infill, directly (as the CLI) and over "
                            "OSC, with this model file (no FILE: the bundled model)")
    bench.add_argument("--model-n", type=int, default=30,
                       help="infills per path with --model (default 30)")
    bench.add_argument("--load", type=int, default=0,
                       help="busy processes beside the --model figures (default 0)")
    add_device_argument(bench)
    add_threads_argument(bench)
    bench.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    bench.set_defaults(handler=run_bench)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_listening(args: argparse.Namespace) -> None:
    """The port, queue and host options; InputError when they may not be served."""
    if not 0 <= args.port <= 65535:
        raise InputError(f"--port must be 0..65535, got {args.port}")
    if args.queue < 1 or not args.timeout > 0:
        raise InputError("--queue must be >= 1 and --timeout > 0")
    if not _is_loopback(args.host):
        if not args.allow_remote:
            raise InputError(f"refusing to listen on {args.host}: not a loopback address; "
                             "pass --allow-remote to serve the network")
        log.warning("listening on %s: anyone who can reach this port can use the engine",
                    args.host)


def _model_folder(folder: Path) -> dict[str, Path]:
    """The models of ``--models FOLDER`` by name; FileNotFoundError when it has none."""
    from bridge.models import model_files

    if not folder.is_dir():
        raise FileNotFoundError(errno.ENOENT, "--models: no such folder", str(folder))
    files = model_files(folder)
    if not files:
        raise FileNotFoundError(errno.ENOENT, "--models: no model file nor run folder with "
                                "one in the folder", str(folder))
    return files


def run_serve(args: argparse.Namespace) -> int:
    """``diffjam serve``: a bad option is an InputError (exit status 2), a file, folder or
    port problem an OSError (1), both reported by the command line layer; every check
    runs before the model takes its seconds to load."""
    _check_listening(args)
    from bridge.outputs import default_output_dir, prepare_output_dir
    from wire.protocol import EngineSettings, ProtocolError, parse_defaults

    defaults = EngineSettings()
    if args.defaults is not None:
        try:
            defaults = parse_defaults(args.defaults)
        except ProtocolError as err:
            raise InputError(f"--defaults: {err.message}") from err
    output_dir = args.output_dir or default_output_dir()
    prepare_output_dir(output_dir, private=args.output_dir is None)  # OutputDirError: OSError
    for given in (args.model, args.leadsheet):
        if given is not None and not given.is_file():
            raise FileNotFoundError(errno.ENOENT, "model file not found", str(given))
    from bridge.models import ModelShelf

    files = _model_folder(args.models) if args.models is not None else {}
    if args.max_loaded < 1:
        raise InputError("--max-loaded must be >= 1")
    from bridge import jam, midiports
    from bridge.server import JamControl, OscServer
    from bridge.worker import PipelineRunner
    from engine.pipeline import Pipeline

    device = resolve_device(args.device)
    started = time.perf_counter()
    load = partial(Pipeline.load, device=str(device), threads=args.threads,
                   leadsheet=args.leadsheet)
    pipeline = load(args.model)
    info = pipeline.info()
    log.info("model %s on %s loaded in %.1f s", info.get("model"), info.get("device"),
             time.perf_counter() - started)
    pipeline.warm_up()  # on CUDA: the default requests' graphs, before the first one
    shelf = ModelShelf(pipeline, default_name=Path(info["path"]).stem, files=files,
                       load=load, max_loaded=args.max_loaded)
    info["models"] = shelf.names
    if files:
        log.info("models by name: %s (the default first)", ", ".join(shelf.names))
    control = JamControl(pipeline, session_factory=jam.JamSession, config_factory=jam.JamConfig,
                         list_ports=midiports.list_ports, port_error=midiports.PortError,
                         backends=midiports.MIDI_SYSTEM_BACKENDS)
    # an OSError here (the port is taken) is the command's error (exit status 1)
    server = OscServer(PipelineRunner(pipeline, output_dir=args.output_dir, models=shelf),
                       info=info, jam=control, host=args.host, port=args.port,
                       queue=args.queue, timeout_s=args.timeout, settings=defaults)
    log.info("writing .mid results to %s", output_dir)
    jam.freeze_start_up_objects()  # no long garbage collection under a jam's clock
    if args.defaults is not None:
        log.info("engine-wide defaults: %s", json.dumps(defaults.to_json()))

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("%s: shutting down", signal.Signals(signum).name)
        threading.Thread(target=server.shutdown, daemon=True).start()

    previous = {signum: signal.signal(signum, on_signal)
                for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.serve_forever()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    # every bridge thread is a daemon; anything else would keep the process alive
    lingering = [thread.name for thread in threading.enumerate()
                 if thread.is_alive() and not thread.daemon
                 and thread is not threading.current_thread()]
    if lingering:
        log.warning("threads still running at exit (the process waits for them): %s",
                    ", ".join(lingering))
    return 0


# ---------------------------------------------------------------------------------------
# bench-osc


class _ZeroTimePipeline:
    """Returns the request's notes unchanged at once: the bench measures only the bridge."""

    def info(self) -> dict[str, Any]:
        return {"model": "zero-time", "device": "none"}

    def infill(self, notes: Sequence[Note], *, n_bars: int, bars: BarRange,
               chords: Sequence[ChordSpan] | None = None, options: SamplingOptions,
               progress: Callable[[float], None] | None = None,
               cancel: threading.Event | None = None) -> Result:
        from engine.sampling import Result

        return Result(variations=(tuple(notes),), n_bars=n_bars, generated=bars, key=None,
                      nfe=0, seconds=0.0)


class _LocalEngine:
    """An OSC server for ``pipeline`` on a free loopback port of this process, and a UDP
    client of it that speaks :mod:`wire.protocol` (what the bench measures is the same
    encode, UDP, decode and routing a real client goes through)."""

    def __init__(self, pipeline: Any, *, timeout_s: float) -> None:
        from bridge.server import OscServer
        from bridge.worker import PipelineRunner

        self.server = OscServer(PipelineRunner(pipeline), info=pipeline.info(), port=0,
                                queue=8)  # the bench writes no files: write_midi False
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(timeout_s)
        self.target = ("127.0.0.1", self.server.address[1])

    def status(self) -> None:
        """Ask for ``/diffjam/status`` and wait for it."""
        from wire.protocol import Status, StatusQuery, encode_message

        self.sock.sendto(encode_message(StatusQuery()), self.target)
        self._until(lambda event: isinstance(event, Status))

    def infill(self, request_id: str, notes: Sequence[Any], params: Any) -> None:
        """Send an infill request (notes in beats, :class:`wire.protocol.RequestParams`)
        and wait for its ``done``; an engine error raises RuntimeError."""
        from wire.protocol import Done, encode_request

        for datagram in encode_request("infill", request_id, params, notes):
            self.sock.sendto(datagram, self.target)
        self._until(lambda event: isinstance(event, Done) and event.request_id == request_id)

    def _until(self, wanted: Callable[[Any], bool]) -> None:
        from wire.protocol import EngineError, decode

        while True:
            for event in decode(self.sock.recvfrom(65535)[0]):
                if isinstance(event, EngineError):
                    raise RuntimeError(f"bench request failed: {event.message}")
                if wanted(event):
                    return

    def close(self) -> None:
        self.sock.close()
        self.server.shutdown()
        self.thread.join(10.0)


def _summary(values: list[float], digits: int) -> dict[str, float]:
    from engine.bench import percentile

    return {"n": len(values), "p50_ms": round(percentile(values, 50), digits),
            "p99_ms": round(percentile(values, 99), digits),
            "mean_ms": round(statistics.fmean(values), digits)}


def _timed(call: Callable[[], None]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000.0


def measure_round_trips(n: int) -> dict[str, dict[str, float]]:
    """p50/p99/mean round-trip ms for ``status`` and a 16-note infill (until ``done``)."""
    from wire.protocol import BeatNote, RequestParams

    notes = [BeatNote(k * 0.5, 0.5, 60 + k % 12, 90) for k in range(16)]
    params = RequestParams(bars=(1, 2), clip_beats=8, steps=1, write_midi=False)
    engine = _LocalEngine(_ZeroTimePipeline(), timeout_s=10.0)
    try:
        status = [_timed(engine.status) for _ in range(n)]
        infill = [_timed(partial(engine.infill, f"b{i}", notes, params)) for i in range(n)]
    finally:
        engine.close()
    return {"status": _summary(status, 3), "infill_16_notes": _summary(infill, 3)}


def measure_model_paths(model: str, n: int, *, load: int = 0, threads: int | None = None,
                        device: str = "cpu") -> dict[str, dict[str, float]]:
    """p50/p99/mean ms of an 8-bar infill (bars 3-6, the bench's synthetic clip, default
    settings, a new seed each time) called directly on the pipeline, as ``diffjam infill``
    does, and as a request to the OSC server in this process (until ``done``), the two
    paths interleaved so that a change in the machine's load hits both."""
    from bridge.worker import note_to_beats
    from engine.bench import BusyProcesses, synthetic_infill
    from engine.pipeline import Pipeline, SamplingOptions
    from wire.protocol import RequestParams

    pipeline = Pipeline.load(None if model == "bundled" else Path(model), device=device,
                             threads=threads)
    _, context, gap = synthetic_infill(8)
    beats = [note_to_beats(note) for note in context]
    engine = _LocalEngine(pipeline, timeout_s=60.0)

    def osc(seed: int) -> None:
        engine.infill(f"m{seed}", beats, RequestParams(bars=(gap.start + 1, gap.stop),
                                                       clip_beats=32, seed=seed,
                                                       write_midi=False))

    def direct(seed: int) -> None:
        pipeline.infill(context, n_bars=8, bars=gap, options=SamplingOptions(seed=seed))

    times: dict[str, list[float]] = {"direct": [], "osc": []}
    try:
        with BusyProcesses(load):
            for seed in range(3):  # warm both paths (the first calls set up kernels)
                direct(seed)
                osc(seed)
            for i in range(1, n + 1):
                times["direct"].append(_timed(partial(direct, i)))
                times["osc"].append(_timed(partial(osc, i)))
    finally:
        engine.close()
        pipeline.close()
    return {name: _summary(values, 2) for name, values in times.items()}


def run_bench(args: argparse.Namespace) -> int:
    if args.n < 1 or args.model_n < 1 or args.load < 0:
        raise InputError("--n and --model-n must be >= 1, --load >= 0")
    logging.getLogger("bridge").setLevel(logging.WARNING)  # one log line per request is noise
    figures = measure_round_trips(args.n)
    device = str(resolve_device(args.device)) if args.model is not None else None
    if device is not None:
        model = measure_model_paths(args.model, args.model_n, load=args.load,
                                    threads=args.threads, device=device)
        figures.update({f"infill_8_bars_{name}": row for name, row in model.items()})
    print(f"{'case':<22} {'n':>6} {'p50 ms':>9} {'p99 ms':>9} {'mean ms':>9}")
    for name, row in figures.items():
        print(f"{name:<22} {row['n']:>6} {row['p50_ms']:>9.3f} {row['p99_ms']:>9.3f} "
              f"{row['mean_ms']:>9.3f}")
    if args.model is not None:
        ratio = figures["infill_8_bars_osc"]["p50_ms"] / figures["infill_8_bars_direct"]["p50_ms"]
        print(f"server over CLI (p50, 8-bar infill, {args.load} busy processes): {ratio:.2f}x")
        figures["server_over_cli_p50"] = {"ratio": round(ratio, 3), "load": args.load}
    if args.json is not None:
        report = {"machine": {"cpus": os.cpu_count()}, "device": device, "cases": figures}
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0

