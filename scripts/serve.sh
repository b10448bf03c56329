#!/usr/bin/env bash
# The README's start command on Linux and macOS: make (once) or update the project's Python
# environment .venv, then start `diffjam serve` through that environment's interpreter.
# Nothing needs to be activated. scripts/project_env.py does the setup and says what
# it does; after the first run it installs nothing unless pyproject.toml changed, so the
# engine starts offline.
#   PYTHON=/path/to/python   use that interpreter (your own venv or conda) instead of .venv
#   DIFFJAM_EXTRAS=panel     also install the control panel's PyQt6
# Arguments go to `diffjam serve`, e.g.: bash scripts/serve.sh --port 9100 --device cpu
set -euo pipefail
cd "$(dirname "$0")/.."
boot=${PYTHON:-$(command -v python3 || command -v python || true)}
if [ -z "$boot" ]; then
    echo "serve.sh: no python3 found: install Python 3.11 or later (python.org;" \
         "macOS: brew install python@3.12; Debian/Ubuntu: sudo apt install python3 python3-venv)" >&2
    exit 1
fi
py=$("$boot" scripts/project_env.py)
exec "$py" -m diffjam serve "$@"
