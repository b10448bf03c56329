"""``diffjam doctor`` and ``diffjam status``: what this machine has for diffjam, each gap
with its fix; and whether an engine answers on a port.

Each check is a function that returns :class:`Finding` s and takes what it looks at as
arguments (the defaults read the real machine), so the tests play other machines with
fakes. A finding is ``ok``, ``warn`` (one feature is missing: the live jam, the panel, the
device's tests) or ``fail`` (the engine cannot start); the command exits with 1 when any
check failed. Nothing here imports Qt or starts a MIDI client that it does not close:
the panel's platform plugin is tried in a child process, because Qt aborts the process
whose plugin does not load.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

import engine
from bridge import midiports
from engine.errors import InputError

__all__ = [
    "Finding",
    "add_commands",
    "check_midi",
    "check_model",
    "check_node",
    "check_port",
    "check_python",
    "check_qt",
    "check_torch",
    "query_status",
    "run_doctor",
]

REPO = Path(__file__).resolve().parent.parent
MIN_PYTHON = (3, 11)
MIN_NODE = 18
DEFAULT_ENGINE_PORT = 9000
DEFAULT_REPLY_PORT = 9001  # the Max for Live device listens here
SERVE_SCRIPT = "scripts/serve.sh (Windows: scripts\\serve.ps1)"

# The libraries Qt's xcb platform plugin needs beyond a plain X11 desktop, and the Debian
# and Ubuntu packages that hold them.
QT_XCB_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
}

# python-rtmidi's API names as mido spells them, and how the doctor names them.
MIDI_APIS = {
    "LINUX_ALSA": "ALSA",
    "UNIX_JACK": "JACK",
    "MACOSX_CORE": "CoreMIDI",
    "WINDOWS_MM": "WinMM",
}

QT_PROBE = (
    "import sys\n"
    "from PyQt6.QtGui import QGuiApplication\n"
    "app = QGuiApplication(sys.argv[:1])\n"
    "print(app.platformName())\n"
)


@dataclass(frozen=True)
class Finding:
    """One line of the report: ``level`` is ``ok``, ``warn`` or ``fail``; ``fix`` says
    what to do (empty when nothing is to be done)."""

    check: str
    level: str
    detail: str
    fix: str = ""


Runner = Callable[..., "subprocess.CompletedProcess[str]"]  # like _run


def _run(command: Sequence[str], *, timeout: float = 60.0,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a short command, capturing its output; a missing or hanging program is
    returned as a failed process, not raised."""
    try:
        return subprocess.run(list(command), capture_output=True, text=True, timeout=timeout,
                              env=env, stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        return subprocess.CompletedProcess(list(command), 127, "", str(err))


# --------------------------------------------------------------------------- checks


def check_python(*, version: Sequence[int] = sys.version_info[:3],
                 executable: str = sys.executable, prefix: str = sys.prefix,
                 base_prefix: str = sys.base_prefix) -> list[Finding]:
    """The interpreter: new enough, and whether it is a virtual environment."""
    shown = ".".join(str(v) for v in version[:3])
    if tuple(version[:2]) < MIN_PYTHON:
        return [Finding("python", "fail", f"Python {shown} at {executable} is too old",
                        "install Python 3.11 or later (python.org; macOS: brew install "
                        "python@3.12; Windows: winget install Python.Python.3.12), then run "
                        f"{SERVE_SCRIPT} again")]
    where = "a virtual environment" if prefix != base_prefix else "not a virtual environment"
    return [Finding("python", "ok", f"Python {shown} at {executable} ({where})")]


def check_torch(*, import_module: Callable[[str], ModuleType] = importlib.import_module,
                which: Callable[[str], str | None] = shutil.which) -> list[Finding]:
    """torch: its version, what it can run on (CPU, CUDA, MPS) and what ``--device auto``
    picks; a CPU-only build on a machine with an NVIDIA GPU is pointed out."""
    try:
        torch = import_module("torch")
    except ImportError as err:
        return [Finding("torch", "fail", f"torch is not installed ({err})",
                        f"run {SERVE_SCRIPT}: it installs torch==2.13.0 first; or "
                        "pip install torch==2.13.0")]
    from engine.devices import resolve_device

    parts = [f"torch {torch.__version__}", "CPU"]
    cuda_build = torch.version.cuda
    if cuda_build is None:
        parts.append("CUDA: not in this build")
    elif torch.cuda.is_available():
        names = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
        parts.append(f"CUDA {cuda_build}: {names}")
    else:
        parts.append(f"CUDA {cuda_build}: no GPU visible")
    mps = getattr(torch.backends, "mps", None)
    if mps is None or not mps.is_built():
        parts.append("MPS: not in this build")
    else:
        parts.append("MPS: available" if mps.is_available() else "MPS: built, not available")
    parts.append(f"--device auto runs on {resolve_device('auto', torch_module=torch)}")
    findings = [Finding("torch", "ok", "; ".join(parts))]
    if cuda_build is None and which("nvidia-smi") is not None:
        findings.append(Finding(
            "torch", "warn", "this machine has an NVIDIA driver (nvidia-smi) but torch is a "
            "CPU-only build",
            "install a CUDA build of torch 2.13.0 (PyTorch's install page gives the pip "
            "command and index), then restart the engine; the CPU works meanwhile"))
    return findings


def check_model(path: Path | None = None) -> list[Finding]:
    """The model file (the bundled one by default): present, and its metadata readable."""
    try:
        from engine.checkpoint import BUNDLED_MODEL, read_metadata
    except ImportError as err:
        return [Finding("model", "warn", f"not checked: {err}", "install torch first (above)")]
    from engine.errors import ModelFileError

    target = Path(path) if path is not None else BUNDLED_MODEL
    try:
        _config, info = read_metadata(target)
    except (ModelFileError, OSError) as err:
        return [Finding("model", "fail", str(err),
                        "the bundled model ships in engine/weights/: restore it with `git "
                        "checkout -- engine/weights`, or pass --model FILE")]
    name = info.get("name", target.stem)
    size = info.get("parameters")
    shown = f", {size / 1e6:.1f}M parameters" if isinstance(size, int | float) else ""
    return [Finding("model", "ok", f"{name} ({target}{shown})")]


def check_port(port: int, *, role: str, host: str = "127.0.0.1",
               probe: Callable[[str, int], dict[str, Any] | None] | None = None,
               ) -> list[Finding]:
    """Whether UDP ``host:port`` is free. ``role`` is ``engine`` (where ``diffjam serve``
    listens; taken by another program it fails) or ``reply`` (where the Max for Live
    device listens; Live holds it while the device is loaded). A taken port is asked for
    ``/diffjam/status``, to tell a running engine from another program."""
    probe = probe or (lambda h, p: query_status(h, p, timeout=1.0))
    name = f"port {port}"
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    taken: OSError | None = None
    try:
        sock.bind((host, port))
    except OSError as err:
        taken = err
    finally:
        sock.close()
    if taken is None:
        what = ("free: diffjam serve will listen here" if role == "engine" else
                "free: the Max for Live device's reply port")
        return [Finding(name, "ok", f"UDP {host}:{port} {what}")]
    status = probe(host, port)
    if status is not None:
        return [Finding(name, "ok", f"a diffjam engine answers on UDP {host}:{port} (model "
                        f"{status.get('model')} on {status.get('device')})")]
    if role == "engine":
        return [Finding(name, "fail", f"UDP {host}:{port} is taken by another program ({taken})",
                        f"start the engine on another port (diffjam serve --port {port + 100}) "
                        "and set the device's Engine port to the same number")]
    return [Finding(name, "warn", f"UDP {host}:{port} is in use ({taken}); the Max for Live "
                    "device holds it while Live has it loaded",
                    "if Live is closed, another program holds it: set the device's Reply "
                    "port to a free one")]


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """Silence what C libraries (ALSA, libjack) print on file descriptor 2 meanwhile."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            sys.stderr.flush()
            os.dup2(devnull.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
    finally:
        os.close(saved)


def check_midi(*, import_module: Callable[[str], ModuleType] = importlib.import_module,
               list_ports: Callable[[str], dict[str, list[str]]] = midiports.list_ports,
               system: str = platform.system()) -> list[Finding]:
    """The MIDI systems python-rtmidi was built with (ALSA, JACK, CoreMIDI, WinMM) and
    whether each can be reached now: the live jam needs one."""
    try:
        rtmidi = import_module("rtmidi")
    except ImportError as err:
        return [Finding("midi", "warn", f"python-rtmidi is not installed ({err}): no live jam",
                        "pip install python-rtmidi (it comes with diffjam; where no wheel fits "
                        "this Python it is built, which needs a compiler and the ALSA/JACK "
                        "headers)")]
    compiled = set(rtmidi.get_compiled_api())
    findings = []
    reachable = 0
    for api, shown in MIDI_APIS.items():
        if getattr(rtmidi, f"API_{api}", None) not in compiled:
            continue
        backend = f"mido.backends.rtmidi/{api}"
        try:
            with _quiet_native_stderr():
                ports = list_ports(backend)
        except midiports.PortError as err:
            cause = err.__cause__ or err  # python-rtmidi's own words, without our advice
            findings.append(Finding("midi", "warn", f"{shown}: not reachable ({cause})",
                                    midiports.system_hint(cause)))
            continue
        reachable += 1
        detail = f"{shown}: {len(ports['inputs'])} inputs, {len(ports['outputs'])} outputs"
        if api == "WINDOWS_MM":
            findings.append(Finding("midi", "ok", detail + " (no virtual ports on Windows: "
                                    "the live jam needs loopMIDI or another loopback driver)"))
        elif api == "MACOSX_CORE":
            findings.append(Finding("midi", "ok", detail + " (the README's IAC Bus examples "
                                    "need the IAC Driver on in Audio MIDI Setup)"))
        else:
            findings.append(Finding("midi", "ok", detail))
    if not findings:
        findings.append(Finding("midi", "warn", "python-rtmidi has none of ALSA, JACK, "
                                "CoreMIDI, WinMM", "reinstall python-rtmidi from its wheel"))
    elif reachable == 0 and system == "Linux":
        findings.append(Finding("midi", "warn", "no MIDI system can be reached: the live jam "
                                "cannot open ports until one of the above is fixed (the rest "
                                "of diffjam works)"))
    return findings


def _missing_libraries(plugin: Path, run: Runner) -> list[str]:
    """The libraries ``ldd`` reports as not found for ``plugin`` (Linux only)."""
    result = run(["ldd", str(plugin)])
    if result.returncode != 0:
        return []
    missing = re.findall(r"^\s*(\S+) => not found", result.stdout, flags=re.MULTILINE)
    return sorted(set(missing))


def check_qt(*, find_spec: Callable[[str], Any] = importlib.util.find_spec,
             run: Runner = _run, system: str = platform.system(),
             environ: dict[str, str] | None = None,
             executable: str = sys.executable) -> list[Finding]:
    """The panel: PyQt6 installed (the ``panel`` extra), its platform plugin's libraries
    present (Linux: ldd on the xcb plugin), and a QGuiApplication started in a child
    process where there is a display."""
    env = dict(os.environ if environ is None else environ)
    spec = find_spec("PyQt6")
    if spec is None:
        return [Finding("qt", "warn", "PyQt6 is not installed: no `diffjam panel` (the engine, "
                        "the device and the command line do not need it)",
                        "pip install -e '.[panel]' in the project environment, or "
                        "DIFFJAM_EXTRAS=panel bash scripts/serve.sh")]
    findings = []
    has_display = system != "Linux" or bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))
    if system == "Linux" and spec.submodule_search_locations:
        plugin = (Path(next(iter(spec.submodule_search_locations))) / "Qt6" / "plugins"
                  / "platforms" / "libqxcb.so")
        missing = _missing_libraries(plugin, run) if plugin.is_file() else []
        if missing:
            packages = sorted({QT_XCB_PACKAGES.get(lib, "") for lib in missing} - {""})
            unknown = [lib for lib in missing if lib not in QT_XCB_PACKAGES]
            fix = f"sudo apt install {' '.join(packages)}" if packages else ""
            if unknown:
                fix += ("; " if fix else "") + ("install the packages that provide "
                                                f"{', '.join(unknown)}")
            findings.append(Finding("qt", "warn", "Qt's xcb platform plugin (X11 desktops) "
                                    f"lacks {', '.join(missing)}", fix))
    if not has_display:
        findings.append(Finding("qt", "ok" if not findings else "warn",
                                "no display here (headless): the panel needs a desktop "
                                "session; QT_QPA_PLATFORM=offscreen runs it without one"))
        return findings
    env.pop("QT_QPA_PLATFORM", None)
    result = run([executable, "-c", QT_PROBE], env=env)
    if result.returncode == 0:
        findings.append(Finding("qt", "ok", f"the panel can start (Qt platform "
                                f"{result.stdout.strip() or '?'})"))
        return findings
    lines = [line for line in (result.stderr or "").splitlines() if line.strip()]
    reason = lines[-1].strip() if lines else f"exit status {result.returncode}"
    fix = ("see the missing libraries above; QT_DEBUG_PLUGINS=1 diffjam panel shows what "
           "fails" if findings else
           "reinstall PyQt6 (pip install --force-reinstall 'PyQt6>=6.6'); QT_DEBUG_PLUGINS=1 "
           "diffjam panel shows what fails")
    findings.append(Finding("qt", "warn", f"Qt's platform plugin does not load: {reason}", fix))
    return findings


def check_node(*, which: Callable[[str], str | None] = shutil.which, run: Runner = _run,
               repo: Path = REPO) -> list[Finding]:
    """Node.js for the Max for Live device's tests (the device itself runs in Live's own
    Max and needs no node)."""
    fix_node = ("install Node.js 18 or later (nodejs.org; macOS: brew install node; Debian/"
                "Ubuntu: sudo apt install nodejs npm); only the device's tests need it")
    node = which("node")
    if node is None:
        return [Finding("node", "warn", "node is not installed: the Max for Live device's "
                        "tests are skipped", fix_node)]
    result = run([node, "--version"])
    match = re.match(r"v(\d+)\.", result.stdout.strip())
    if match is None or int(match.group(1)) < MIN_NODE:
        return [Finding("node", "warn", f"node {result.stdout.strip() or '?'} is older than "
                        f"{MIN_NODE}", fix_node)]
    findings = [Finding("node", "ok", f"node {result.stdout.strip()} at {node}")]
    if which("npm") is None:
        findings.append(Finding("node", "warn", "npm is not installed", fix_node))
    for folder in (repo / "max_for_live", repo / "tests" / "bridge" / "node"):
        if (folder / "package.json").is_file() and not (folder / "node_modules").is_dir():
            findings.append(Finding("node", "warn", f"{folder.relative_to(repo)}/node_modules "
                                    "is missing", f"cd {folder.relative_to(repo)} && npm ci "
                                    "(bash scripts/test.sh does it)"))
    return findings


# ----------------------------------------------------------------------- status probe


def query_status(host: str = "127.0.0.1", port: int = DEFAULT_ENGINE_PORT, *,
                 timeout: float = 2.0) -> dict[str, Any] | None:
    """Ask the engine at ``host:port`` for ``/diffjam/status``: its JSON as a dict, or
    None when no engine answers within ``timeout`` seconds."""
    request = OscMessageBuilder("/diffjam/status").build().dgram
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.sendto(request, (host, port))
        except OSError:
            return None
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                datagram = sock.recv(65535)
            except (TimeoutError, OSError):
                return None
            try:
                message = OscMessage(datagram)
            except Exception:  # noqa: BLE001 - not OSC: not our engine, keep listening
                continue
            if message.address == "/diffjam/status" and message.params:
                try:
                    return json.loads(message.params[0])
                except (TypeError, ValueError):
                    return None
    return None


# ---------------------------------------------------------------------------- command


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``doctor`` and ``status``."""
    doctor = subparsers.add_parser(
        "doctor", help="check this machine for diffjam and say how to fix what is missing",
        description="Check Python, torch (CPU/CUDA/MPS), the model file, the OSC ports, the "
                    "MIDI systems, the panel's Qt and node for the device tests; each gap "
                    "comes with its fix. Exit status 1 when the engine cannot run.")
    doctor.add_argument("--host", default="127.0.0.1", help="address the engine listens on")
    doctor.add_argument("--port", type=int, default=DEFAULT_ENGINE_PORT,
                        help=f"the engine's UDP port (default {DEFAULT_ENGINE_PORT})")
    doctor.add_argument("--reply-port", type=int, default=DEFAULT_REPLY_PORT,
                        help="the Max for Live device's reply port "
                             f"(default {DEFAULT_REPLY_PORT})")
    doctor.add_argument("--model", type=Path, help="model file (default: the bundled model)")
    doctor.add_argument("--json", action="store_true", help="print the findings as JSON")
    doctor.set_defaults(handler=run_doctor)

    status = subparsers.add_parser(
        "status", help="ask a running engine for its status",
        description="Send /diffjam/status to the engine and print its answer (JSON). Exit "
                    "status 1 when no engine answers.")
    status.add_argument("--host", default="127.0.0.1", help="the engine's address")
    status.add_argument("--port", type=int, default=DEFAULT_ENGINE_PORT,
                        help=f"the engine's UDP port (default {DEFAULT_ENGINE_PORT})")
    status.add_argument("--timeout", type=float, default=2.0,
                        help="seconds to wait for the answer (default 2)")
    status.set_defaults(handler=run_status)


def collect(args: argparse.Namespace) -> list[Finding]:
    """Every check, in the order the report prints them."""
    return [
        *check_python(),
        *check_torch(),
        *check_model(args.model),
        *check_port(args.port, role="engine", host=args.host),
        *check_port(args.reply_port, role="reply", host=args.host),
        *check_midi(),
        *check_qt(),
        *check_node(),
    ]


def format_report(findings: Sequence[Finding]) -> str:
    """The findings as aligned lines, a ``fix:`` line under each that has one, and a
    summary line."""
    lines = [f"diffjam doctor: diffjam {engine.__version__} on {platform.system()} "
             f"{platform.release()} ({platform.machine()})"]
    for finding in findings:
        lines.append(f"{finding.level:<5} {finding.check:<10} {finding.detail}")
        if finding.fix:
            lines.append(f"{'':<16} fix: {finding.fix}")
    failed = sorted({f.check for f in findings if f.level == "fail"})
    warned = sorted({f.check for f in findings if f.level == "warn"} - set(failed))
    if failed:
        lines.append(f"the engine cannot run here yet: fix {', '.join(failed)}")
    else:
        lines.append("the engine can run here"
                     + (f"; missing for some features: {', '.join(warned)}" if warned else ""))
    return "\n".join(lines)


def run_doctor(args: argparse.Namespace) -> int:
    for port in (args.port, args.reply_port):
        if not 0 < port <= 65535:
            raise InputError(f"ports must be 1..65535, got {port}")
    findings = collect(args)
    if args.json:
        print(json.dumps([asdict(f) for f in findings], indent=2))
    else:
        print(format_report(findings))
    return 1 if any(f.level == "fail" for f in findings) else 0


def run_status(args: argparse.Namespace) -> int:
    status = query_status(args.host, args.port, timeout=args.timeout)
    if status is None:
        print(f"diffjam status: no diffjam engine answered on {args.host}:{args.port} within "
              f"{args.timeout:g} s; start one with {SERVE_SCRIPT}", file=sys.stderr)
        return 1
    print(json.dumps(status))
    return 0
