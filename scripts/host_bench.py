"""The host's work around a request, with the network's part taken out: what a request
costs besides the network (the key, the chord and note grids, decoding each roll's notes,
scoring the candidates, the velocities). On a GPU the network's part of an 8-bar window
is a few milliseconds (docs/model-card.md, "Speed on a GPU"), so this is most of a
request there.

The pipeline runs on the CPU through the graph sampler's loop (engine.graphs) with the
window's sampling replaced by a fixed stand-in: the known part where it is known, else a
roll with 3 % of its cells on (more notes than the model writes, so the per-note work
weighs more than in use). Everything else is the shipped code. The key is left to the
engine, as a producer leaves it.

    python3 scripts/host_bench.py [--repeats 30] [--json docs/bench/bench-host.json]
"""

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch

from engine.bench import default_requests, machine_info, percentile
from engine.graphs import GraphSampler, WindowRequest
from engine.pipeline import Pipeline


class StandIn(GraphSampler):
    """A graph sampler whose window is the known part plus a fixed 3 % of notes."""

    def sample(self, request: WindowRequest, generator: torch.Generator,
               on_step: Callable[[int, int], None] | None = None) -> torch.Tensor:
        shape = (request.batch, *request.known.shape[1:])
        known = request.known.expand(shape)
        mask = request.mask.expand(request.batch, -1)[:, None, :, None] > 0.5
        drawn = torch.rand(shape, generator=generator) > 0.97
        return torch.where(mask, known, drawn.float() * 2.0 - 1.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    args = parser.parse_args()
    pipeline = Pipeline.load(device="cpu", threads=1)
    pipeline._graphs = StandIn(torch.device("cpu"))  # the window's network part taken out
    rows = []
    try:
        for name, request in default_requests(pipeline).items():
            request(1)  # warm-up
            times = []
            for _ in range(args.repeats):
                began = time.perf_counter()
                request(1)
                times.append(time.perf_counter() - began)
            rows.append({"case": name, "p50_ms": 1000 * statistics.median(times),
                         "p99_ms": 1000 * percentile(times, 99), "runs": len(times)})
    finally:
        pipeline.close()
    machine = machine_info()
    print(f"host work per request, the network taken out: {machine['cpu']}, 1 torch thread")
    width = max(len(r["case"]) for r in rows)
    print(f"{'case':{width}s}  p50 ms  p99 ms")
    for r in rows:
        print(f"{r['case']:{width}s}  {r['p50_ms']:6.2f}  {r['p99_ms']:6.2f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"machine": machine, "rows": rows}, indent=1))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
