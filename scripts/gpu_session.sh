#!/usr/bin/env bash
# One lease of a GPU machine, as one command (the lease is short: ~10 minutes of work):
#
#   1. the CUDA-graph tests (tests/engine/test_graphs.py, the GPU one included);
#   2. `diffjam bench` on CUDA with the graphs on and off in the same run (8-bar clips,
#      one variation and 8): $OUT/bench-cuda.json;
#   3. the two distillation rounds of the shipped student, on the GPU at batch 256 and
#      each bound in minutes with its cosine fitted to them (`diffjam distill
#      --fit-minutes`): round 1 from diffjam-v5 (8 guided teacher steps -> 4), round 2
#      the refinement (guidance at the last two steps). Both students come back in $OUT.
#
# Needs python3 with torch (CUDA), numpy, safetensors and pytest there; mido and
# python-osc, which the lent machine lacks, come as wheels in the ignored .whl/ (installed
# when the folder is there). Run from the repository root, carrying the ignored cache/
# (cache/pop909.npz) and .whl/:
#
#   OUT=/somewhere [R1_MIN=3.2 R2_MIN=1.6 DEVICE=cuda] bash scripts/gpu_session.sh
#
# $OUT receives session.log, bench-cuda.json, the two students (fp16) and their
# state.json (round1-state.json, round2-state.json): six files.
#
# DEVICE=cpu with small minutes tries the whole script here.
set -uo pipefail

cd "$(dirname "$0")/.."
source scripts/gpu_lease.sh
CACHE=${CACHE:-cache/pop909.npz}
DEVICE=${DEVICE:-cuda}
R1_MIN=${R1_MIN:-3.2}
R2_MIN=${R2_MIN:-1.6}
BATCH=${BATCH:-256}
WORKERS=${WORKERS:-7}
REPEATS=${REPEATS:-30}
RUNS=${RUNS:-.gl/runs}
lease_begin session.log
mkdir -p "$RUNS"
stage "machine"
lease_machine

if [[ "$DEVICE" == cuda ]]; then
    stage "1. CUDA-graph tests"
    timeout 120 python3 -m pytest -q -p no:cacheprovider tests/engine/test_graphs.py 2>&1 \
        || status=1

    stage "2. bench on CUDA, graphs on and off"
    timeout 300 "${DIFFJAM[@]}" bench --devices cuda --cuda-graphs on,off --bars 8 --steps 10 \
        --variations 8 --repeats "$REPEATS" --json "$OUT/bench-cuda.json" 2>&1 \
        || status=1
fi

stage "3a. distillation round 1: diffjam-v5 -> 4 steps"
rm -rf "$RUNS/r1" "$RUNS/r2"
"${DIFFJAM[@]}" distill --cache "$CACHE" --run "$RUNS/r1" --teacher engine/weights/diffjam-v5.safetensors \
    --steps 20000 --minutes "$R1_MIN" --fit-minutes --lr 2e-4 --batch-size "$BATCH" \
    --guidance-below 0.8 --device "$DEVICE" --workers "$WORKERS" \
    --name diffjam-v5-fast-h200 2>&1 || status=1
cp "$RUNS/r1/model.safetensors" "$OUT/diffjam-v5-fast-h200.safetensors" || status=1
cp "$RUNS/r1/state.json" "$OUT/round1-state.json" || true

stage "3b. distillation round 2: the refinement"
cp "$RUNS/r1/model.safetensors" "$RUNS/diffjam-v5-fast-h200.safetensors"
"${DIFFJAM[@]}" distill --cache "$CACHE" --run "$RUNS/r2" --teacher "$RUNS/diffjam-v5-fast-h200.safetensors" \
    --steps 20000 --minutes "$R2_MIN" --fit-minutes --lr 1e-4 --batch-size "$BATCH" \
    --student-steps 4 --teacher-substeps 1 --guidance 2 --accompaniment-guidance 1.25 \
    --guidance-below 0.55 --device "$DEVICE" --workers "$WORKERS" \
    --name diffjam-v5-fast3 2>&1 || status=1
cp "$RUNS/r2/model.safetensors" "$OUT/diffjam-v5-fast3.safetensors" || status=1
cp "$RUNS/r2/state.json" "$OUT/round2-state.json" || true

stage "done, status $status"
ls -l "$OUT"
exit "$status"
