"""Where a request's time goes on a GPU: the whole request, the captured graph's replay
alone, and the kernels one window's loop launches (counted from an eager run under the
profiler), for the default requests on the benches' 8-bar clip. Also times loading and
``Pipeline.warm_up``, the start-up a producer waits for on ``diffjam serve``.

    python3 scripts/gpu_probe.py [--device cuda] [--repeats 30] [--json probe.json]

Off CUDA it runs too (no replay, no kernels), which is how it is tried before a GPU is lent.
"""

import argparse
import collections
import json
import statistics
import time
from pathlib import Path

import torch

import engine
from engine.bench import default_requests, machine_info, percentile
from engine.graphs import GraphSampler
from engine.pipeline import Pipeline


def timed(fn, repeats: int, sync) -> list[float]:
    out = []
    for _ in range(repeats):
        sync()
        began = time.perf_counter()
        fn()
        sync()
        out.append((time.perf_counter() - began) * 1000.0)
    return out


def summary(ms: list[float]) -> dict:
    return {"p50_ms": round(statistics.median(ms), 3), "p99_ms": round(percentile(ms, 99), 3),
            "n": len(ms)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--model", default=None)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--no-tf32", action="store_true",
                        help="cuDNN convolutions in plain float32 (torch's default lets them "
                             "use TF32, which on the H200 picks NHWC kernels and a layout "
                             "change around each convolution)")
    parser.add_argument("--cudnn-benchmark", action="store_true",
                        help="let cuDNN time its algorithms for each shape first")
    args = parser.parse_args()
    torch.backends.cudnn.benchmark = args.cudnn_benchmark
    if args.no_tf32:
        torch.backends.cudnn.allow_tf32 = False
    device = torch.device(args.device)
    cuda = device.type == "cuda"

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize(device)

    report: dict = {"machine": machine_info(), "device": str(device),
                    "cudnn_tf32": torch.backends.cudnn.allow_tf32,
                    "cudnn_benchmark": torch.backends.cudnn.benchmark,
                    "engine": str(Path(engine.__file__).parent)}
    print("engine from", report["engine"], "| cuDNN TF32", report["cudnn_tf32"], flush=True)
    began = time.perf_counter()
    pipe = Pipeline.load(args.model, device=args.device)
    report["load_ms"] = round((time.perf_counter() - began) * 1000.0, 1)
    began = time.perf_counter()
    report["warm_up_plans"] = pipe.warm_up()
    report["warm_up_ms"] = round((time.perf_counter() - began) * 1000.0, 1)

    cases = default_requests(pipe)
    rows = {}
    for label, call in cases.items():
        row: dict = {}
        first = time.perf_counter()
        pipe._runner.call(lambda call=call: call(1))
        row["first_ms"] = round((time.perf_counter() - first) * 1000.0, 1)
        seeds = iter(range(2, 10_000))
        row["request"] = summary(timed(
            lambda call=call, seeds=seeds: pipe._runner.call(
                lambda: call(next(seeds))),
            args.repeats, sync))
        graphs = pipe._graphs
        if graphs is not None and len(graphs):
            # the plans this request used: the most recently used ones
            plans = list(graphs._plans.values())
            row["windows"] = []
            for plan in plans[-4:]:
                if plan.graph is None:
                    continue
                ms = pipe._runner.call(
                    lambda plan=plan: timed(plan.run, args.repeats * 2, sync))
                row["windows"].append({"batch": plan.request.batch,
                                       "steps": len(plan.guided),
                                       "guided": sum(plan.guided),
                                       "replay": summary(ms)})
        if cuda:
            try:
                row["kernels"] = pipe._runner.call(lambda call=call: count_kernels(pipe, call))
            except Exception as err:  # noqa: BLE001 (a diagnostic: keep the timings)
                row["kernels"] = {"error": repr(err)}
        rows[label] = row
        print(label, json.dumps(row), flush=True)
    report["cases"] = rows
    if cuda:
        report["max_allocated_mib"] = round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print("wrote", args.json)


def count_kernels(pipe: Pipeline, call) -> dict:
    """The CUDA kernels of one request run eagerly (the graphs hold the same kernels)."""
    from torch.profiler import ProfilerActivity, profile

    saved = pipe._graphs
    pipe._graphs = GraphSampler(saved.device, capture=False) if saved is not None else None
    try:
        call(1)
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            call(1)
            torch.cuda.synchronize()
    finally:
        pipe._graphs = saved
    names: collections.Counter = collections.Counter()
    for event in prof.events():
        if event.device_type == torch.autograd.DeviceType.CUDA:
            names[event.name[:80]] += 1
    return {"total": sum(names.values()), "top": names.most_common(25)}


if __name__ == "__main__":
    main()
