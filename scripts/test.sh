#!/usr/bin/env bash
# The README's test command (Linux; on macOS the apt step is left out). What it needs:
#  1. Python 3.11+: the project environment .venv (as scripts/serve.sh makes it; PYTHON=...
#     to use your own interpreter) with diffjam[dev]: pytest, pytest-qt, pytest-timeout,
#     hypothesis, ruff (run first: `ruff check .`), mypy (tests/test_typing.py) and PyQt6
#     for the panel's tests (run offscreen).
#  2. liblo-tools (oscsend/oscdump) and jackd2 for the OSC and JACK end-to-end tests,
#     installed with apt when this user is root or has sudo without a password.
#  3. Node.js 18+ with npm for the Max for Live device's tests and the node OSC client
#     (`npm ci` in max_for_live/ and tests/bridge/node/); apt installs nodejs and npm
#     when it can.
#  4. Xvfb and the X libraries of Qt's xcb plugin and Qt Multimedia (xvfb, libxcb-cursor0,
#     libxcb-icccm4, libxcb-keysyms1, libpulse0) for the panel's real-window test.
# What cannot be installed is said here, and pytest skips those tests with the reason.
# Arguments go to pytest, e.g.: bash scripts/test.sh tests/bridge -k jam
set -euo pipefail
cd "$(dirname "$0")/.."
note() { echo "test.sh: $*" >&2; }

boot=${PYTHON:-$(command -v python3 || command -v python || true)}
if [ -z "$boot" ]; then
    note "no python3 found: install Python 3.11 or later"
    exit 1
fi
py=$("$boot" scripts/project_env.py --extras dev)

# The system tools, with apt where this user may use it.
apt_install() {
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo="sudo"
        else
            note "cannot install $* (apt needs root or password-less sudo)"
            return 1
        fi
    fi
    note "installing $* with apt"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
        --no-install-recommends "$@" >&2
}
wanted=()
command -v oscsend >/dev/null 2>&1 || wanted+=(liblo-tools)
command -v jackd >/dev/null 2>&1 || wanted+=(jackd2)
command -v node >/dev/null 2>&1 || wanted+=(nodejs)
command -v npm >/dev/null 2>&1 || wanted+=(npm)
# The panel's real-window test: an X server and the libraries Qt's xcb plugin and Qt
# Multimedia load (a stock desktop has an X server but may lack the libraries).
command -v Xvfb >/dev/null 2>&1 || wanted+=(xvfb)
if command -v dpkg >/dev/null 2>&1; then
    for lib in libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libpulse0; do
        dpkg -s "$lib" >/dev/null 2>&1 || wanted+=("$lib")
    done
fi
if [ ${#wanted[@]} -gt 0 ]; then
    if command -v apt-get >/dev/null 2>&1; then
        apt_install "${wanted[@]}" || note "apt failed for ${wanted[*]}"
    else
        note "no apt here to install ${wanted[*]} (macOS: brew install liblo node; jackd is" \
             "optional)"
    fi
fi
command -v oscsend >/dev/null 2>&1 ||
    note "SKIPPING the liblo end-to-end tests: oscsend/oscdump (liblo-tools) are not installed"
command -v jackd >/dev/null 2>&1 ||
    note "SKIPPING the JACK jam tests: jackd (jackd2) is not installed"
command -v Xvfb >/dev/null 2>&1 ||
    note "SKIPPING the panel's real-window test: Xvfb (xvfb) is not installed"

if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    for dir in max_for_live tests/bridge/node; do
        [ -f "$dir/package-lock.json" ] || continue
        omit=""
        [ "$dir" = tests/bridge/node ] && omit="--omit=optional"
        (cd "$dir" && npm ci --no-audit --no-fund $omit >&2) ||
            note "SKIPPING the node tests in $dir: npm ci failed (offline?)"
    done
else
    note "SKIPPING the Max for Live device's tests and the node OSC client: Node.js 18+" \
         "with npm is not installed (nodejs.org, brew install node, or apt install nodejs npm)"
fi

# The linter first (pyproject.toml's [tool.ruff]); its findings fail the run, after the tests.
set +e
"$py" -m ruff check .
lint=$?
[ "$lint" -eq 0 ] || note "ruff check . found problems (above); the tests run all the same"

export QT_QPA_PLATFORM=offscreen
"$py" -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
    note "pytest collected no tests"
    status=0
fi
if [ "$status" -eq 0 ] && [ "$lint" -ne 0 ]; then
    note "FAILED: ruff check ."
    exit 1
fi
exit "$status"
