#!/usr/bin/env bash
# A GPU lease for the serving paths: the OSC server against the direct call (as the CLI)
# on CUDA, the live jam on CUDA, and scripts/gpu_probe.py on the code now. Carry .whl/
# (mido, python-osc).
#
#   OUT=/somewhere [DEVICE=cuda] bash scripts/gpu_serve.sh
set -uo pipefail
cd "$(dirname "$0")/.."
: "${OUT:?set OUT to the folder whose files come back}"
DEVICE=${DEVICE:-cuda}
JAM_MINUTES=${JAM_MINUTES:-3}
export PYTHONUNBUFFERED=1 PYTHONPATH=".${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$OUT"
exec > >(tee "$OUT/serve.log") 2>&1
status=0
began=$SECONDS
stage() { echo "=== $1 ($((SECONDS - began)) s)"; }
if ls .whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl && export PYTHONPATH="$PYTHONPATH:/tmp/site"
fi
DIFFJAM=(python3 -c 'import sys; from diffjam.cli import main; sys.exit(main(sys.argv[1:]))')
git log -1 --format='commit %h %s' 2>/dev/null || true

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
