"""``diffjam bench``: the command over :mod:`engine.bench` (what it measures is said
there): options, devices and loads, the printed table and the JSON."""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path
from typing import Any

from engine.bench import (
    DEFAULT_VARIATIONS,
    BenchRow,
    BusyProcesses,
    bench_cases,
    format_rows,
    machine_info,
    peak_rss_mb,
    run_case,
)
from engine.devices import THREADS_HELP, inference_threads, resolve_device
from engine.errors import InputError

__all__ = ["add_command", "run_bench"]

logger = logging.getLogger(__name__)


def add_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``diffjam bench``."""
    parser = subparsers.add_parser(
        "bench", help="time model loading and sampling (CPU, and CUDA when present)",
        description="Latency of infill/accompany for several clip lengths and step counts, "
                    "load time, peak memory, and the seed papers' sampling cost.")
    parser.add_argument("--model", type=Path, help="model file (default: the bundled model)")
    parser.add_argument("--threads", type=int, help=THREADS_HELP)
    parser.add_argument("--load", default="0",
                        help="busy processes beside the model, comma-separated: '0,2' runs "
                             "every case idle, then beside two spinning processes (default 0)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per case (3)")
    parser.add_argument("--bars", default="4,8,16", help="clip lengths (default 4,8,16)")
    parser.add_argument("--steps", default="10,20,50", help="sampler steps (default 10,20,50)")
    parser.add_argument("--variations", type=int, default=DEFAULT_VARIATIONS,
                        help="batch size of the variation rows (default 4)")
    parser.add_argument("--reference-repeats", type=int, default=1,
                        help="timed runs of the 1000-step reference rows (default 1)")
    parser.add_argument("--no-reference", dest="reference", action="store_false",
                        help="skip the seed papers' 1000-step / 10-step rows")
    parser.add_argument("--devices", default="auto",
                        help="comma-separated cpu, cuda, mps, or auto (cpu, plus cuda when "
                             "present)")
    parser.add_argument("--cuda-graphs", default="on",
                        help="on CUDA, sample through captured CUDA graphs (on, the engine's "
                             "default), eagerly (off), or both in the same run (on,off: rows "
                             "of the eager one read 'cuda-eager')")
    parser.set_defaults(handler=run_bench)


def _int_list(text: str, name: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError as err:
        raise InputError(f"{name} must be comma-separated integers, got {text!r}") from err
    if not values or min(values) < 1:
        raise InputError(f"{name} must list positive integers, got {text!r}")
    return values


def run_bench(args: argparse.Namespace) -> int:
    """``diffjam bench``: every case on every device at every load, the table, the JSON."""
    import torch

    from engine.pipeline import Pipeline

    threads = inference_threads(args.threads)
    loads_wanted = [int(v) for v in args.load.split(",") if v.strip()] if args.load else [0]
    if not loads_wanted or min(loads_wanted) < 0:
        raise InputError(f"--load must list counts >= 0, got {args.load!r}")
    if args.repeats < 1 or args.reference_repeats < 1:
        raise InputError("--repeats and --reference-repeats must be >= 1")
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    if args.devices != "auto":
        devices = [d.strip() for d in args.devices.split(",") if d.strip()]
        for device in devices:
            resolve_device(device, option="--devices")  # unknown or absent: InputError
    cases = bench_cases(bars=_int_list(args.bars, "--bars"),
                        steps=_int_list(args.steps, "--steps"),
                        variations=args.variations, reference=args.reference)
    machine = machine_info()
    print(f"machine: {machine['cpu']}, {machine['logical_cores']} logical cores, "
          f"torch {machine['torch']}, {threads} CPU threads"
          + (f", GPU {machine['cuda']}" if machine.get("cuda") else ""))
    rows: list[BenchRow] = []
    loads: dict[str, float] = {}
    info: dict[str, Any] = {}
    cuda_peak = None
    graph_modes = [v.strip() for v in args.cuda_graphs.split(",") if v.strip()]
    if not graph_modes or set(graph_modes) - {"on", "off"}:
        raise InputError(f"--cuda-graphs must be on, off or on,off, got {args.cuda_graphs!r}")
    runs = [(d, mode == "on") for d in devices
            for mode in (graph_modes if d.startswith("cuda") else ["off"])]
    for device_name, graphs in runs:
        device = device_name + ("-eager" if device_name.startswith("cuda") and not graphs
                                else "")
        began = time.perf_counter()
        pipeline = Pipeline.load(args.model, device=device_name, threads=threads,
                                 graphs=graphs)
        loads[device] = time.perf_counter() - began
        info = pipeline.info()
        print(f"{device}: model {info.get('model')} loaded in {1000 * loads[device]:.0f} ms")
        if device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats()
        for load in loads_wanted:
            with BusyProcesses(load):
                for case in cases:
                    reference = case.label in ("mittal-ddpm-1000", "fgg-10")
                    repeats = args.reference_repeats if reference else args.repeats
                    row = run_case(pipeline, case, device=device, repeats=repeats,
                                   warmup=not reference, load=load)
                    rows.append(row)
                    logger.info("%s load %d %s: %s", device, load, case, row.median_s)
        if device.startswith("cuda"):
            cuda_peak = max(cuda_peak or 0.0, torch.cuda.max_memory_allocated() / 2**20)
        pipeline.close()
        del pipeline
    print(format_rows(rows))
    print("model load: " + ", ".join(f"{d} {1000 * s:.0f} ms" for d, s in loads.items()))
    print(f"peak RSS: {peak_rss_mb():.0f} MiB"
          + (f", CUDA max allocated: {cuda_peak:.0f} MiB" if cuda_peak is not None else ""))
    if args.json is not None:
        report = {
            "machine": machine, "threads": threads, "model": info, "loads": loads_wanted,
            "load_seconds": loads, "peak_rss_mib": peak_rss_mb(),
            "cuda_max_allocated_mib": cuda_peak, "repeats": args.repeats,
            "reference_repeats": args.reference_repeats,
            "rows": [r.to_json() for r in rows],
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
        print(f"wrote {args.json}")
    return 0

