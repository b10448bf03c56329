"""``diffjam doctor`` and ``diffjam status``: each check against fakes of other machines
(no GPU, Mac, display or MIDI system needed), the report, and the status probe against
an in-process server."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bridge import doctor, midiports
from bridge.doctor import Finding
from diffjam.cli import main


def levels(findings: list[Finding]) -> list[str]:
    return [f.level for f in findings]


def completed(returncode: int = 0, stdout: str = "", stderr: str = "") -> Any:
    return subprocess.CompletedProcess([], returncode, stdout, stderr)


# ----------------------------------------------------------------------------- python


def test_python_too_old_fails_with_what_to_install() -> None:
    [finding] = doctor.check_python(version=(3, 9, 6), executable="/usr/bin/python3",
                                    prefix="/usr", base_prefix="/usr")
    assert finding.level == "fail" and "3.9.6" in finding.detail
    assert "Python 3.11 or later" in finding.fix and "serve.sh" in finding.fix


def test_python_in_a_virtual_environment_is_ok() -> None:
    [finding] = doctor.check_python(version=(3, 12, 1), executable="/p/.venv/bin/python",
                                    prefix="/p/.venv", base_prefix="/usr")
    assert finding.level == "ok" and "(a virtual environment)" in finding.detail


# ------------------------------------------------------------------------------ torch


def fake_torch(*, cuda: str | None = None, gpus: tuple[str, ...] = (), mps_built: bool = False,
               mps_available: bool = False) -> Any:
    import torch

    return SimpleNamespace(
        __version__="2.13.0",
        device=torch.device,
        version=SimpleNamespace(cuda=cuda),
        cuda=SimpleNamespace(is_available=lambda: bool(gpus), device_count=lambda: len(gpus),
                             get_device_name=lambda i: gpus[i]),
        backends=SimpleNamespace(mps=SimpleNamespace(is_built=lambda: mps_built,
                                                     is_available=lambda: mps_available)),
    )


def test_torch_missing_fails_with_the_install_command() -> None:
    def no_torch(name: str) -> Any:
        raise ImportError("No module named 'torch'")

    [finding] = doctor.check_torch(import_module=no_torch, which=lambda name: None)
    assert finding.level == "fail" and "torch==2.13.0" in finding.fix


def test_torch_reports_cuda_and_what_auto_picks() -> None:
    torch = fake_torch(cuda="12.8", gpus=("NVIDIA H200",))
    [finding] = doctor.check_torch(import_module=lambda name: torch, which=lambda name: None)
    assert finding.level == "ok"
    assert "CUDA 12.8: NVIDIA H200" in finding.detail
    assert "MPS: not in this build" in finding.detail
    assert finding.detail.endswith("--device auto runs on cuda")


def test_torch_on_a_mac_reports_mps() -> None:
    torch = fake_torch(mps_built=True, mps_available=True)
    [finding] = doctor.check_torch(import_module=lambda name: torch, which=lambda name: None)
    assert "CUDA: not in this build" in finding.detail and "MPS: available" in finding.detail
    assert finding.detail.endswith("--device auto runs on cpu")


def test_cpu_only_torch_beside_an_nvidia_driver_is_pointed_out() -> None:
    torch = fake_torch()
    findings = doctor.check_torch(import_module=lambda name: torch,
                                  which=lambda name: "/usr/bin/nvidia-smi")
    assert levels(findings) == ["ok", "warn"]
    assert "CUDA build" in findings[1].fix


# ------------------------------------------------------------------------------ model


def test_bundled_model_is_found() -> None:
    [finding] = doctor.check_model()
    assert finding.level == "ok" and "parameters" in finding.detail


def test_missing_model_fails_with_a_fix(tmp_path: Path) -> None:
    [finding] = doctor.check_model(tmp_path / "none.safetensors")
    assert finding.level == "fail" and "--model" in finding.fix


# ------------------------------------------------------------------------------ ports


def taken_port() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    return sock


def test_a_free_port_is_ok() -> None:
    with taken_port() as sock:
        port = sock.getsockname()[1]
    [finding] = doctor.check_port(port, role="engine", probe=lambda h, p: None)
    assert finding.level == "ok" and "free" in finding.detail


def test_engine_port_held_by_another_program_fails_and_names_another_port() -> None:
    with taken_port() as sock:
        port = sock.getsockname()[1]
        [finding] = doctor.check_port(port, role="engine", probe=lambda h, p: None)
    assert finding.level == "fail" and "another program" in finding.detail
    assert f"--port {port + 100}" in finding.fix and "Engine port" in finding.fix


def test_engine_port_held_by_a_diffjam_engine_is_ok() -> None:
    with taken_port() as sock:
        port = sock.getsockname()[1]
        [finding] = doctor.check_port(
            port, role="engine", probe=lambda h, p: {"model": "diffjam-v2", "device": "cpu"})
    assert finding.level == "ok" and "diffjam-v2 on cpu" in finding.detail


def test_reply_port_in_use_only_warns() -> None:
    with taken_port() as sock:
        [finding] = doctor.check_port(sock.getsockname()[1], role="reply",
                                      probe=lambda h, p: None)
    assert finding.level == "warn" and "Reply port" in finding.fix


# ------------------------------------------------------------------------------- midi


class FakeRtmidi:
    API_LINUX_ALSA, API_UNIX_JACK, API_MACOSX_CORE, API_WINDOWS_MM = 2, 3, 1, 4

    def __init__(self, *apis: int) -> None:
        self.apis = list(apis)

    def get_compiled_api(self) -> list[int]:
        return self.apis


def lister(reachable: dict[str, dict[str, list[str]]], errors: dict[str, str]):
    def list_ports(backend: str) -> dict[str, list[str]]:
        api = backend.rsplit("/", 1)[1]
        if api in errors:
            try:
                raise SystemError(errors[api])
            except SystemError as err:
                raise midiports.PortError(f"cannot list MIDI ports: {err}") from err
        return reachable[api]

    return list_ports


def test_linux_without_alsa_sequencer_suggests_jack() -> None:
    findings = doctor.check_midi(
        import_module=lambda name: FakeRtmidi(2, 3),
        list_ports=lister({}, {
            "LINUX_ALSA": "MidiInAlsa::initialize: error creating ALSA sequencer client object.",
            "UNIX_JACK": "MidiInJack::initialize: JACK server not running?"}),
        system="Linux")
    assert levels(findings) == ["warn", "warn", "warn"]
    assert findings[0].detail.startswith("ALSA: not reachable (MidiInAlsa")
    assert "snd-seq" in findings[0].fix and midiports.JACK_BACKEND in findings[0].fix
    assert findings[1].detail.startswith("JACK: not reachable")
    assert "start one" in findings[1].fix
    assert "no MIDI system can be reached" in findings[2].detail


def test_one_reachable_system_is_enough() -> None:
    findings = doctor.check_midi(
        import_module=lambda name: FakeRtmidi(2, 3),
        list_ports=lister({"UNIX_JACK": {"inputs": ["a"], "outputs": ["b", "c"]}},
                          {"LINUX_ALSA": "MidiInAlsa::initialize: error"}),
        system="Linux")
    assert levels(findings) == ["warn", "ok"]
    assert findings[1].detail == "JACK: 1 inputs, 2 outputs"


def test_windows_midi_names_the_loopback_driver() -> None:
    [finding] = doctor.check_midi(
        import_module=lambda name: FakeRtmidi(4),
        list_ports=lister({"WINDOWS_MM": {"inputs": [], "outputs": ["Microsoft GS"]}}, {}),
        system="Windows")
    assert finding.level == "ok" and "WinMM" in finding.detail and "loopMIDI" in finding.detail


def test_missing_python_rtmidi_warns() -> None:
    def no_rtmidi(name: str) -> Any:
        raise ImportError("No module named 'rtmidi'")

    [finding] = doctor.check_midi(import_module=no_rtmidi, system="Darwin")
    assert finding.level == "warn" and "python-rtmidi" in finding.fix


# --------------------------------------------------------------------------------- qt


def qt_spec(tmp_path: Path, *, with_plugin: bool = True) -> Any:
    package = tmp_path / "PyQt6"
    plugin = package / "Qt6" / "plugins" / "platforms" / "libqxcb.so"
    plugin.parent.mkdir(parents=True)
    if with_plugin:
        plugin.write_bytes(b"")
    return SimpleNamespace(submodule_search_locations=[str(package)])


def test_qt_not_installed_points_to_the_panel_extra() -> None:
    [finding] = doctor.check_qt(find_spec=lambda name: None, system="Linux", environ={})
    assert finding.level == "warn" and "[panel]" in finding.fix


def test_qt_missing_xcb_libraries_name_the_apt_packages(tmp_path: Path) -> None:
    ldd = ("\tlibxcb-icccm.so.4 => not found\n\tlibc.so.6 => /lib/libc.so.6\n"
           "\tlibxcb-cursor.so.0 => not found\n\tlibweird.so.9 => not found\n")

    def run(command: list[str], **kwargs: Any) -> Any:
        assert command[0] == "ldd", "no display: the plugin must not be started"
        return completed(stdout=ldd)

    findings = doctor.check_qt(find_spec=lambda name: qt_spec(tmp_path), run=run,
                               system="Linux", environ={})
    assert levels(findings) == ["warn", "warn"]
    assert "lacks libweird.so.9, libxcb-cursor.so.0, libxcb-icccm.so.4" in findings[0].detail
    assert findings[0].fix.startswith("sudo apt install libxcb-cursor0 libxcb-icccm4")
    assert "libweird.so.9" in findings[0].fix
    assert "no display" in findings[1].detail


def test_qt_probe_runs_in_a_child_where_there_is_a_display(tmp_path: Path) -> None:
    calls = []

    def run(command: list[str], **kwargs: Any) -> Any:
        calls.append((command, kwargs))
        if command[0] == "ldd":
            return completed(stdout="\tlibc.so.6 => /lib/libc.so.6\n")
        return completed(stdout="xcb\n")

    findings = doctor.check_qt(find_spec=lambda name: qt_spec(tmp_path), run=run,
                               system="Linux",
                               environ={"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"})
    assert levels(findings) == ["ok"] and "Qt platform xcb" in findings[0].detail
    command, kwargs = calls[-1]
    assert command[:2] == [sys.executable, "-c"] and "QT_QPA_PLATFORM" not in kwargs["env"]


def test_qt_probe_failure_on_a_mac_says_to_reinstall() -> None:
    def run(command: list[str], **kwargs: Any) -> Any:
        return completed(134, stderr="qt.qpa.plugin: Could not load the Qt platform plugin "
                                     "\"cocoa\"\n")

    [finding] = doctor.check_qt(find_spec=lambda name: SimpleNamespace(
        submodule_search_locations=None), run=run, system="Darwin", environ={})
    assert finding.level == "warn" and '"cocoa"' in finding.detail
    assert "--force-reinstall" in finding.fix


# ------------------------------------------------------------------------------- node


def test_node_missing_says_only_the_device_tests_need_it(tmp_path: Path) -> None:
    [finding] = doctor.check_node(which=lambda name: None, repo=tmp_path)
    assert finding.level == "warn" and "only the device's tests need it" in finding.fix


def test_old_node_warns(tmp_path: Path) -> None:
    [finding] = doctor.check_node(which=lambda name: f"/usr/bin/{name}",
                                  run=lambda command: completed(stdout="v16.20.0\n"),
                                  repo=tmp_path)
    assert finding.level == "warn" and "older than 18" in finding.detail


def test_node_without_node_modules_says_npm_ci(tmp_path: Path) -> None:
    (tmp_path / "max_for_live").mkdir()
    (tmp_path / "max_for_live" / "package.json").write_text("{}")
    findings = doctor.check_node(which=lambda name: f"/usr/bin/{name}",
                                 run=lambda command: completed(stdout="v20.20.2\n"),
                                 repo=tmp_path)
    assert levels(findings) == ["ok", "warn"]
    assert findings[1].fix.startswith("cd max_for_live && npm ci")


# ----------------------------------------------------------------------------- report


def test_report_prints_fixes_and_says_whether_the_engine_can_run() -> None:
    findings = [Finding("python", "ok", "Python 3.11.7"),
                Finding("midi", "warn", "ALSA: not reachable", "load snd-seq")]
    report = doctor.format_report(findings)
    assert "warn  midi       ALSA: not reachable\n" in report
    assert "fix: load snd-seq" in report
    assert report.endswith("the engine can run here; missing for some features: midi")
    failing = doctor.format_report([Finding("torch", "fail", "missing", "install it")])
    assert failing.endswith("the engine cannot run here yet: fix torch")


def test_doctor_command_reports_this_machine(capsys: pytest.CaptureFixture) -> None:
    with taken_port() as sock:
        port = sock.getsockname()[1]
    code = main(["doctor", "--port", str(port), "--reply-port", str(port), "--json"])
    out = capsys.readouterr().out
    assert '"check": "python"' in out and '"check": "torch"' in out and '"check": "qt"' in out
    assert code == (1 if '"level": "fail"' in out else 0)


# ----------------------------------------------------------------------------- status


def test_status_answers_from_a_running_engine(running: Any,
                                              capsys: pytest.CaptureFixture) -> None:
    port = running.server.address[1]
    status = doctor.query_status("127.0.0.1", port, timeout=10.0)
    assert status is not None and status["protocol"] == 1
    assert main(["status", "--port", str(port), "--timeout", "10"]) == 0
    assert '"protocol": 1' in capsys.readouterr().out


def test_status_without_an_engine_says_how_to_start_one(
        capsys: pytest.CaptureFixture) -> None:
    with taken_port() as sock:  # a port that nothing answers on
        port = sock.getsockname()[1]
        assert main(["status", "--port", str(port), "--timeout", "0.2"]) == 1
    assert "no diffjam engine answered" in capsys.readouterr().err
