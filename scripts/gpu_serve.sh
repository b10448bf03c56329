#!/usr/bin/env bash
# A GPU lease for the serving paths: the OSC server against the direct call (as the CLI)
# on CUDA, the live jam on CUDA, and scripts/gpu_probe.py on the code now. Carry .whl/
# (mido, python-osc).
#
#   OUT=/somewhere [DEVICE=cuda] bash scripts/gpu_serve.sh
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/gpu_lease.sh
DEVICE=${DEVICE:-cuda}
JAM_MINUTES=${JAM_MINUTES:-3}
lease_begin serve.log
lease_machine

stage "1. OSC server against the direct call"
timeout 150 "${DIFFJAM[@]}" bench-osc --n 200 --model --model-n 50 --device "$DEVICE" \
    --json "$OUT/bench-osc-$DEVICE.json" 2>&1 | grep -v " INFO " || status=1
stage "2. live jam"
timeout 200 "${DIFFJAM[@]}" bench-jam --device "$DEVICE" --bpm 120 160 --bars 16 \
    --minutes "$JAM_MINUTES" --json "$OUT/bench-jam-$DEVICE.json" 2>&1 | grep -v " INFO " \
    || status=1
stage "3. probe"
timeout 120 python3 scripts/gpu_probe.py --device "$DEVICE" --repeats 30 \
    --json "$OUT/probe-final.json" 2>&1 | grep -v " INFO " || status=1
stage "done, status $status"
exit $status
