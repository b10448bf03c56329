#!/usr/bin/env bash
# A GPU lease comparing the engine now with an earlier commit's, in the same run:
# scripts/gpu_probe.py on the earlier code (its engine/ etc. unpacked, without weights,
# in $BASE, e.g. `git archive <commit> engine diffjam smf wire bridge | tar -x -C .gl/base
# --exclude=engine/weights`), on the code now, and on the code now with cuDNN's TF32 off;
# then the CUDA-graph tests and `diffjam bench` on the code now. Carry cache/ .whl/ $BASE.
#
#   OUT=/somewhere BASE=.gl/base bash scripts/gpu_ab.sh
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/gpu_lease.sh
BASE=${BASE:-.gl/base}
REPEATS=${REPEATS:-30}
lease_begin ab.log
MODEL=engine/weights/diffjam-v5-fast2.safetensors
probe() {  # probe <label> <pythonpath> [args]
    local label=$1 path=$2; shift 2
    stage "probe $label"
    PYTHONPATH="$path$WHEELS" timeout 150 python3 scripts/gpu_probe.py --model "$MODEL" \
        --repeats "$REPEATS" --json "$OUT/probe-$label.json" "$@" 2>&1 \
        | grep -v "INFO engine" || status=1
}
probe now .
probe base "$BASE"
probe now-fp32conv . --no-tf32
probe now-cudnn-benchmark . --cudnn-benchmark
probe now-again .
stage "CUDA-graph tests"
timeout 60 python3 -m pytest -q -p no:cacheprovider tests/engine/test_graphs.py 2>&1 | tail -3 \
    || status=1
stage "bench on CUDA, graphs on and off"
timeout 150 "${DIFFJAM[@]}" bench --devices cuda --cuda-graphs on,off --bars 8 --steps 10 \
    --variations 8 --repeats 20 --no-reference --json "$OUT/bench-cuda.json" 2>&1 | grep -v "INFO" || status=1
stage "done, status $status"
exit $status
