"""Make (once) and keep up to date the Python environment that runs diffjam; print its
interpreter.

``scripts/serve.sh``, ``scripts/test.sh`` and ``scripts/serve.ps1`` run this first, with
whatever Python the machine has, then run diffjam through the interpreter it prints (the
only line on stdout; progress and pip's output go to stderr):

1. The environment is ``$PYTHON`` when that is set (an interpreter of your own, e.g. a
   venv or a conda environment, used as it is), else the project's virtual environment
   ``.venv`` (``$DIFFJAM_VENV`` puts it elsewhere), made on the first run with a Python
   3.11 or later found on this machine. Nothing needs to be activated.
2. It installs torch (``torch==2.13.0``; ``$DIFFJAM_TORCH`` replaces the requirement)
   before the project, so that pip never replaces it, then the project in editable mode
   with the extras asked for (``--extras dev``, ``$DIFFJAM_EXTRAS=panel``).
3. It writes what it installed to ``<environment>/diffjam-install.json`` and installs
   nothing while that record still matches (same checkout, Python, torch requirement and
   ``pyproject.toml``; the extras asked for already in): no network after the first run.
   When an install fails (say, offline after a ``git pull`` changed ``pyproject.toml``)
   and an earlier one worked, it says so and goes on with what is installed.

Standard library only, and syntax that Python 3.8 reads, so that an old ``python3``
(macOS's own) can still say what to install instead of failing on a syntax error.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

REPO = Path(__file__).resolve().parent.parent
MIN_PYTHON = (3, 11)
TORCH_REQUIREMENT = "torch==2.13.0"
RECORD_NAME = "diffjam-install.json"
# Tried in this order when the Python running this script is too old.
POSIX_CANDIDATES = (["python3.12"], ["python3.11"], ["python3.13"], ["python3.14"],
                    ["python3"])
WINDOWS_CANDIDATES = (["py", "-3.12"], ["py", "-3.11"], ["py", "-3.13"], ["py", "-3"],
                      ["python"])
INSTALL_PYTHON_HELP = ("install Python 3.11 or later (python.org; macOS: brew install "
                       "python@3.12; Windows: winget install Python.Python.3.12; Debian/Ubuntu: "
                       "sudo apt install python3 python3-venv) and run this again")
PROBE = "import sys; print('%d.%d.%d' % sys.version_info[:3]); print(sys.prefix)"

Runner = Callable[..., "subprocess.CompletedProcess[str]"]


class SetupError(RuntimeError):
    """The environment cannot be made or used; the message says what to do."""


def log(message: str) -> None:
    print(f"diffjam setup: {message}", file=sys.stderr, flush=True)


def run_quiet(command: Sequence[str]) -> "subprocess.CompletedProcess[str]":
    """Run ``command`` capturing its output; a program that cannot start is exit 127."""
    try:
        return subprocess.run(list(command), capture_output=True, text=True, check=False,
                              stdin=subprocess.DEVNULL, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as err:
        return subprocess.CompletedProcess(list(command), 127, "", str(err))


def run_loud(command: Sequence[str]) -> int:
    """Run ``command`` with its output on stderr (stdout is kept for the result)."""
    log("running " + " ".join(command))
    try:
        return subprocess.run(list(command), stdout=sys.stderr, check=False).returncode
    except OSError as err:
        log(f"cannot run {command[0]}: {err}")
        return 127


def probe(command: Sequence[str], run: Runner = run_quiet) -> Optional[Tuple[Tuple[int, ...], str]]:
    """The version and ``sys.prefix`` of the Python that ``command`` starts, or None."""
    result = run([*command, "-c", PROBE])
    lines = result.stdout.split("\n") if result.returncode == 0 else []
    if len(lines) < 2 or not re.match(r"^\d+\.\d+\.\d+$", lines[0].strip()):
        return None
    return tuple(int(v) for v in lines[0].strip().split(".")), lines[1].strip()


def find_base_python(*, current: Sequence[str], current_version: Tuple[int, ...],
                     windows: bool, which: Callable[[str], Optional[str]] = shutil.which,
                     run: Runner = run_quiet) -> List[str]:
    """The command of a Python >= 3.11 to make the environment with: the one running
    this script when it is new enough, else the first candidate on PATH that is."""
    if tuple(current_version[:2]) >= MIN_PYTHON:
        return list(current)
    tried = []
    for candidate in WINDOWS_CANDIDATES if windows else POSIX_CANDIDATES:
        if which(candidate[0]) is None:
            continue
        found = probe(candidate, run)
        tried.append(f"{' '.join(candidate)} ({'.'.join(map(str, found[0])) if found else '?'})")
        if found is not None and found[0][:2] >= MIN_PYTHON:
            return list(candidate)
    shown = ".".join(str(v) for v in current_version[:3])
    raise SetupError(f"diffjam needs Python 3.11 or later; this is {shown}"
                     + (f", and so are {', '.join(tried)}" if tried else "")
                     + f": {INSTALL_PYTHON_HELP}")


def venv_python(venv: Path, *, windows: bool) -> Path:
    return venv / "Scripts" / "python.exe" if windows else venv / "bin" / "python"


def make_venv(base: Sequence[str], venv: Path, *, run: Runner = run_quiet) -> None:
    """``base -m venv venv``; a half-made folder is removed when it fails."""
    log(f"making the project environment {venv} with {' '.join(base)}")
    existed = venv.exists()
    result = run([*base, "-m", "venv", str(venv)])
    if result.returncode == 0:
        return
    if not existed and venv.exists():
        shutil.rmtree(venv, ignore_errors=True)
    output = (result.stdout + result.stderr).strip()
    if "ensurepip" in output or "No module named venv" in output:
        raise SetupError("this Python cannot make virtual environments (Debian/Ubuntu leave "
                         "that out: sudo apt install python3-venv, or python3.X-venv for your "
                         "version X), then run this again")
    raise SetupError(f"`{' '.join(base)} -m venv {venv}` failed: {output[-800:]}")


def wanted_record(*, python_version: Sequence[int], extras: Sequence[str], torch: str,
                  pyproject: bytes, checkout: Path) -> Dict[str, object]:
    """What an install with these inputs writes to the record."""
    return {
        "checkout": str(checkout),
        "python": ".".join(str(v) for v in python_version[:3]),
        "torch": torch,
        "pyproject_sha256": hashlib.sha256(pyproject).hexdigest(),
        "extras": sorted(set(extras)),
    }


def is_current(recorded: Optional[Dict[str, object]], wanted: Dict[str, object]) -> bool:
    """True when ``recorded`` (None: no record) installed what ``wanted`` asks for: the
    same inputs, and at least the extras asked for."""
    if not recorded:
        return False
    same = all(recorded.get(key) == wanted[key] for key in wanted if key != "extras")
    have = recorded.get("extras")
    return same and isinstance(have, list) and set(wanted["extras"]) <= set(have)


def read_record(path: Path) -> Optional[Dict[str, object]]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def write_record(path: Path, record: Dict[str, object]) -> None:
    """Write the record atomically; an unwritable place (a system Python) only logs."""
    try:
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps({**record, "installed_at": time.strftime(
            "%Y-%m-%dT%H:%M:%S%z")}, indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, path)
    except OSError as err:
        log(f"cannot write {path} ({err}): the next start installs again")


def install_commands(python: str, *, torch: str, extras: Sequence[str],
                     checkout: Path) -> List[List[str]]:
    """torch first, then the project in editable mode with its extras."""
    target = str(checkout) + (f"[{','.join(sorted(set(extras)))}]" if extras else "")
    return [[python, "-m", "pip", "install", torch],
            [python, "-m", "pip", "install", "-e", target]]


def parse_extras(*texts: Optional[str]) -> List[str]:
    """Extras from comma- or space-separated lists: ``"dev, panel"`` -> ["dev", "panel"]."""
    names = set()
    for text in texts:
        for name in re.split(r"[,\s]+", text or ""):
            if not name:
                continue
            if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*$", name):
                raise SetupError(f"not an extra's name: {name!r}")
            names.add(name.lower())
    return sorted(names)


def prepare(*, extras: Sequence[str], environ: Dict[str, str], checkout: Path = REPO,
            windows: bool = os.name == "nt", current: Sequence[str] = (sys.executable,),
            current_version: Tuple[int, ...] = tuple(sys.version_info[:3]),
            run: Runner = run_quiet, run_install: Callable[[Sequence[str]], int] = run_loud,
            which: Callable[[str], Optional[str]] = shutil.which) -> str:
    """Make or reuse the environment, install what is missing, return its interpreter."""
    torch = environ.get("DIFFJAM_TORCH") or TORCH_REQUIREMENT
    if environ.get("PYTHON"):
        python = environ["PYTHON"]
        found = probe([python], run)
        if found is None:
            raise SetupError(f"PYTHON={python} does not run; unset PYTHON to use the project "
                             "environment .venv")
        too_old = f"PYTHON={python} is Python {{}}; diffjam needs 3.11 or later: " + (
            INSTALL_PYTHON_HELP)
    else:
        venv = Path(environ.get("DIFFJAM_VENV") or checkout / ".venv")
        python = str(venv_python(venv, windows=windows))
        if not Path(python).exists():
            base = find_base_python(current=current, current_version=current_version,
                                    windows=windows, which=which, run=run)
            make_venv(base, venv, run=run)
        found = probe([python], run)
        if found is None:
            raise SetupError(f"the project environment {venv} does not run (was its Python "
                             f"removed?): delete {venv} and run this again")
        too_old = f"the project environment {venv} has Python {{}}: delete it and run again"
    version, prefix = found
    if version[:2] < MIN_PYTHON:
        raise SetupError(too_old.format(".".join(str(v) for v in version)))
    record_path = Path(prefix) / RECORD_NAME
    recorded = read_record(record_path)
    wanted = wanted_record(python_version=version, extras=extras, torch=torch,
                           pyproject=(checkout / "pyproject.toml").read_bytes(),
                           checkout=checkout)
    if is_current(recorded, wanted):
        return python
    if recorded and recorded.get("checkout") == wanted["checkout"]:
        extras = sorted(set(extras) | set(recorded.get("extras") or []))  # keep what was there
    for command in install_commands(python, torch=torch, extras=extras, checkout=checkout):
        if run_install(command) != 0:
            if recorded is not None:
                log("the install failed (offline?); starting with what an earlier run "
                    "installed. Run again when the network is back.")
                return python
            raise SetupError("the install failed (see pip's output above); it needs the "
                             "network the first time")
    write_record(record_path, {**wanted, "extras": sorted(set(extras))})
    return python


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="project_env.py",
        description="Make or update diffjam's Python environment and print its interpreter.")
    parser.add_argument("--extras", default="", help="extras to install, e.g. dev or panel")
    args = parser.parse_args(argv)
    try:
        extras = parse_extras(args.extras, os.environ.get("DIFFJAM_EXTRAS"))
        python = prepare(extras=extras, environ=dict(os.environ))
    except SetupError as err:
        print(f"diffjam setup: error: {err}", file=sys.stderr)
        return 1
    print(python)
    return 0


if __name__ == "__main__":
    sys.exit(main())
