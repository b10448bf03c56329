#!/usr/bin/env bash
# One short lease of a GPU machine: check the engine's CUDA paths and measure them.
#
#   1. the CUDA-graph tests (tests/engine/test_graphs.py, the GPU one included);
#   2. scripts/gpu_probe.py: loading and Pipeline.warm_up timed, then per default request
#      the whole request, the graph's replay alone and the kernels of one window: probe.json;
#   3. `diffjam bench` on CUDA with the graphs on and off in the same run: bench-cuda.json;
#   4. `diffjam train --device cuda` for a minute's worth of steps and resumed once.
#
# Run from the repository root with the ignored cache/ (cache/pop909.npz) and .whl/
# (mido and python-osc wheels, which the lent machine lacks) carried:
#
#   OUT=/somewhere bash scripts/gpu_check.sh
set -uo pipefail

cd "$(dirname "$0")/.."
source scripts/gpu_lease.sh
CACHE=${CACHE:-cache/pop909.npz}
REPEATS=${REPEATS:-20}
lease_begin check.log
stage "machine"
lease_machine

stage "1. CUDA-graph tests"
timeout 60 python3 -m pytest -q -p no:cacheprovider tests/engine/test_graphs.py 2>&1 | tail -5 \
    || status=1

stage "2. probe: start-up, request vs replay, kernels"
timeout 120 python3 scripts/gpu_probe.py --device cuda --repeats "$REPEATS" \
    --json "$OUT/probe.json" 2>&1 || status=1

stage "3. bench on CUDA, graphs on and off"
timeout 130 "${DIFFJAM[@]}" bench --devices cuda --cuda-graphs on,off --bars 8 --steps 10 \
    --variations 8 --repeats "$REPEATS" --no-reference --json "$OUT/bench-cuda.json" 2>&1 \
    || status=1

stage "4. train on CUDA, then resumed"
rm -rf .gl/train-check
timeout 50 "${DIFFJAM[@]}" train --cache "$CACHE" --run .gl/train-check --steps 150 \
    --minutes 0.4 --device cuda --workers 4 --batch-size 256 2>&1 | tail -8 || status=1
timeout 35 "${DIFFJAM[@]}" train --run .gl/train-check --steps 200 --minutes 0.25 \
    --device cuda --workers 4 --batch-size 256 2>&1 | tail -5 || status=1

stage "done, status $status"
exit $status
