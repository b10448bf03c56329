#!/usr/bin/env bash
# Train a model on a lent GPU machine and leave the result in $OUT.
#
# Needs only python with torch (CUDA), numpy and safetensors there: diffjam is not
# installed, the engine runs from this checkout with PYTHONPATH=. (python -m engine.train).
# Run it from a copy of the repository whose ignored .gl/ folder holds the cache:
#
#   cp cache/pop909.npz .gl/pop909.npz            # here, before sending the tree
#   OUT=/somewhere scripts/gpu_train.sh [train flags...]
#
# Defaults: the reference CUDA recipe (shared/checkpoints/README.md): the 10 M network
# (ModelConfig's defaults), batch 256, AdamW 8e-4 with 200 warm-up steps and a cosine to
# the floor at --steps, EMA 0.9995, bf16 autocast, 7 loader processes; STEPS steps or
# MINUTES minutes, whichever ends first (when the time ends first the cosine has not
# reached its floor). Flags given to the script come after these and win, e.g.
# `--init-from bundled` (the model then comes from that file) or `--model-config
# '{"widths": [160, 256, 320]}'`.
#
# Environment: OUT (required), CACHE (.gl/pop909.npz), RUN (.gl/run), STEPS (8000),
# MINUTES (8), MODEL_CONFIG ('{}': ModelConfig's defaults; empty: train's), DEVICE (cuda;
# cpu to try the script here), WORKERS (7).
#
# $OUT receives the EMA weights in fp16 (model.safetensors, or shards
# model-0000i-of-0000N.safetensors of at most 16 MiB that the loader joins: copy them
# all), state.json (config, schedule, loss history) and train.log.
set -euo pipefail

cd "$(dirname "$0")/.."
: "${OUT:?set OUT to the folder whose files come back}"
CACHE=${CACHE:-.gl/pop909.npz}
RUN=${RUN:-.gl/run}
STEPS=${STEPS:-8000}
MINUTES=${MINUTES:-8}
MODEL_CONFIG=${MODEL_CONFIG-'{}'}
DEVICE=${DEVICE:-cuda}
WORKERS=${WORKERS:-7}
export PYTHONPATH=".${PYTHONPATH:+:$PYTHONPATH}"

if [[ ! -f "$CACHE" ]]; then
    echo "gpu_train.sh: no cache at $CACHE (copy cache/pop909.npz there first)" >&2
    exit 2
fi
python - <<'EOF'
import sys

import torch

print(f"python {sys.version.split()[0]}, torch {torch.__version__}, "
      f"cuda {torch.version.cuda}, GPUs: "
      f"{[torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]}")
try:
    import engine.train  # noqa: F401
except ImportError as err:
    sys.exit(f"gpu_train.sh: the training code does not import here: {err}")
EOF

model_flags=()
if [[ -n "$MODEL_CONFIG" && " $* " != *" --init-from "* ]]; then
    model_flags=(--model-config "$MODEL_CONFIG")  # --init-from brings its own model
fi
mkdir -p "$OUT"
status=0
python -m engine.train \
    --cache "$CACHE" --run "$RUN" --device "$DEVICE" --workers "$WORKERS" \
    --steps "$STEPS" --minutes "$MINUTES" \
    --batch-size 256 --lr 8e-4 --warmup-steps 200 --ema-decay 0.9995 \
    --log-every 100 --valid-every 1000 --save-every 1000 \
    ${model_flags[@]+"${model_flags[@]}"} "$@" 2>&1 | tee "$OUT/train.log" || status=$?

cp "$RUN"/model*.safetensors "$RUN"/state.json "$OUT"/ || status=1
ls -l "$OUT"
exit "$status"
