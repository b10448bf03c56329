#!/usr/bin/env bash
# Install diffjam (CPU/GPU torch pinned first, never upgraded) and start the engine.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
"$PY" -m pip install "torch==2.13.0"
"$PY" -m pip install -e .
if diffjam serve --help >/dev/null 2>&1; then
    exec diffjam serve "$@"
else
    echo "diffjam serve is not available yet; showing the commands:" >&2
    exec diffjam --help
fi
