"""Start the engine with the README's command and check that it answers over OSC.

CI's proof that a fresh clone starts the engine with a stock ``python3``:
``python3 scripts/check_serve.py`` runs ``bash scripts/serve.sh --port P --output-dir D``
(making ``.venv`` on the first run), waits until ``diffjam status --port P``, run by the
project environment's interpreter, prints the engine's ``/diffjam/status``, then stops
the engine with SIGINT and expects exit status 0. With ``--offline`` pip gets no index
and no configuration, so any install fails: that run proves a second start installs
nothing and needs no network. POSIX only (CI runs on Linux); standard library only.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import project_env  # beside this file

REPO = project_env.REPO


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def offline_environment(environ: dict[str, str]) -> dict[str, str]:
    """``environ`` with pip cut off from every index and configuration file."""
    env = {k: v for k, v in environ.items()
           if not k.startswith("PIP_") or k == "PIP_DISABLE_PIP_VERSION_CHECK"}
    env.update({"PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": ""})
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--offline", action="store_true",
                        help="forbid pip any index: the start must install nothing")
    parser.add_argument("--timeout", type=float, default=900.0,
                        help="seconds for setup and model load together (default 900)")
    args = parser.parse_args(argv)

    env = offline_environment(dict(os.environ)) if args.offline else dict(os.environ)
    venv = Path(env.get("DIFFJAM_VENV") or REPO / ".venv")
    python = env.get("PYTHON") or str(project_env.venv_python(venv, windows=False))
    port = free_udp_port()
    output_dir = tempfile.mkdtemp(prefix="diffjam-check-serve-")
    command = ["bash", str(REPO / "scripts" / "serve.sh"), "--port", str(port),
               "--output-dir", output_dir]
    print(f"check_serve: {' '.join(command)}" + (" (pip offline)" if args.offline else ""),
          flush=True)
    engine = subprocess.Popen(command, cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                              start_new_session=True)
    deadline = time.monotonic() + args.timeout
    answered = None
    try:
        while time.monotonic() < deadline and engine.poll() is None:
            if Path(python).exists():
                probe = subprocess.run(
                    [python, "-m", "diffjam", "status", "--port", str(port), "--timeout", "1"],
                    cwd=REPO, capture_output=True, text=True, check=False)
                if probe.returncode == 0:
                    answered = probe.stdout.strip()
                    break
            time.sleep(1.0)
        if answered is None:
            code = engine.poll()
            print(f"check_serve: FAILED: the engine did not answer /diffjam/status on port "
                  f"{port}" + (f" (serve.sh exited with {code})" if code is not None else
                               f" within {args.timeout:g} s"), file=sys.stderr)
            return 1
        print(f"check_serve: the engine answered: {answered}", flush=True)
        engine.send_signal(signal.SIGINT)
        code = engine.wait(timeout=60)
        if code != 0:
            print(f"check_serve: FAILED: the engine exited with {code} after SIGINT",
                  file=sys.stderr)
            return 1
        print("check_serve: the engine stopped cleanly (exit status 0)", flush=True)
        return 0
    finally:
        if engine.poll() is None:
            os.killpg(engine.pid, signal.SIGKILL)
            engine.wait()


if __name__ == "__main__":
    sys.exit(main())
