#!/usr/bin/env bash
# The architecture bake-off of issue 10 in one run on a lent GPU: the same data, steps and
# batch for every candidate, the reference recipe (scripts/gpu_train.sh), one after the
# other, so their valid losses and then their `diffjam eval` figures compare at equal
# compute.
#
#   cp cache/pop909.npz .gl/pop909.npz                       # here, before sending the tree
#   OUT=$OUT STEPS=2500 MINUTES=3 scripts/gpu_bakeoff.sh      # there
#
# Candidates (name: ModelConfig overrides of the 10 M defaults):
#   plain8:  the current 1-D U-Net, 8-bar windows (the shipped network)
#   stem8:   + the pitch stem (engine/model.py: 2-D convs, per-pitch time attention)
#   plain16: the 1-D U-Net on 16-bar windows (a 4-bar gap sees 6 bars on each side)
#   stem16:  both
# Each lands in $OUT/<name>/ (fp16 EMA weights, in 16 MiB shards when larger, state.json
# with the loss history, train.log). CANDIDATES limits the list, e.g. "plain8 stem16".
# Then, here: `diffjam eval --model $OUT/<name>/model.safetensors ...` for each.
set -euo pipefail

cd "$(dirname "$0")/.."
: "${OUT:?set OUT to the folder whose files come back}"
STEPS=${STEPS:-2500}
MINUTES=${MINUTES:-3}
CANDIDATES=${CANDIDATES:-plain8 stem8 plain16 stem16}

declare -A CONFIG=(
    [plain8]='{}'
    [stem8]='{"stem": "pitch2d"}'
    [plain16]='{"window_bars": 16}'
    [stem16]='{"stem": "pitch2d", "window_bars": 16}'
)

status=0
for name in $CANDIDATES; do
    if [[ -z "${CONFIG[$name]+x}" ]]; then
        echo "gpu_bakeoff.sh: unknown candidate $name (one of ${!CONFIG[*]})" >&2
        exit 2
    fi
    echo "=== $name: ${CONFIG[$name]}, $STEPS steps or $MINUTES min"
    rm -rf ".gl/bakeoff-$name"
    OUT="$OUT/$name" RUN=".gl/bakeoff-$name" STEPS="$STEPS" MINUTES="$MINUTES" \
        MODEL_CONFIG="${CONFIG[$name]}" bash scripts/gpu_train.sh "$@" || status=$?
done
exit "$status"
