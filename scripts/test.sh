#!/usr/bin/env bash
# Install diffjam with its dev extras (torch pinned first, never upgraded) and run the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
"$PY" -m pip install "torch==2.13.0"
"$PY" -m pip install -e ".[dev]"

if command -v apt-get >/dev/null 2>&1; then
    missing=()
    for pkg in liblo-tools jackd2; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        SUDO=""
        [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo"
        $SUDO apt-get update
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends \
            "${missing[@]}"
    fi
fi

if [ -f max_for_live/package-lock.json ]; then
    (cd max_for_live && npm ci)
fi
if [ -f tests/bridge/node/package-lock.json ]; then
    (cd tests/bridge/node && npm ci --omit=optional)
fi

export QT_QPA_PLATFORM=offscreen
set +e
"$PY" -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests" >&2
    exit 0
fi
exit "$status"
