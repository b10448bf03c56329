"""`diffjam serve` as a subprocess, driven by liblo's oscsend/oscdump and node's `osc`.

The server loads a tiny random-weight model written by the test (``--model``), so the
whole real path runs: OSC -> worker -> engine.pipeline -> .mid file -> OSC. Needs
liblo-tools on PATH, and for the node part ``npm ci --omit=optional`` in
tests/bridge/node; each missing piece skips its tests with a message.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ,
       "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
NODE_DIR = Path(__file__).resolve().parent / "node"
START_S = 120.0  # model loading on a busy 2-core box; an upper bound, not a timing assert



def write_tiny_model(path: Path) -> Path:
    """A random-weight model small enough to run a 2-step infill in about a second."""
    import torch

    from engine.checkpoint import save_model
    from engine.model import DenoiserNet, ModelConfig

    config = ModelConfig(widths=(16, 32), blocks_per_level=1, attention_layers=1,
                         attention_heads=2, window_bars=4)
    torch.manual_seed(0)
    save_model(path, DenoiserNet(config).state_dict(), config, info={"name": "tiny-e2e"})
    return path


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Serve:
    """A `diffjam serve` subprocess whose log lines are collected on a thread."""

    def __init__(self, *args: str, cwd: Path) -> None:
        env = {**ENV, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "diffjam", "serve", *args],
            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.lines: list[str] = []
        self._eof = False
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._eof = True
            self._changed.notify_all()

    def wait_for(self, text: str, timeout: float = START_S) -> str:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines:
                    if text in line:
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or self._eof:
                    raise AssertionError(f"no log line with {text!r}; log:\n"
                                         + "\n".join(self.lines))
                self._changed.wait(min(left, 0.5))

    def interrupt(self) -> int:
        """Ctrl-C (SIGINT; SIGTERM takes the same handler); the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(30)


@pytest.fixture(scope="module")
def serve(tmp_path_factory) -> Iterator[tuple[Serve, int, Path]]:
    port = free_udp_port()
    out = tmp_path_factory.mktemp("serve-out")
    model = write_tiny_model(tmp_path_factory.mktemp("model") / "tiny.safetensors")
    server = Serve("--port", str(port), "--device", "cpu", "--model", str(model),
                   "--output-dir", str(out), cwd=REPO)
    try:
        server.wait_for("listening on")
        yield server, port, out
    finally:
        code = server.interrupt()
        # a clean shutdown: exit status 0, the closing log line, no traceback
        assert code == 0, "\n".join(server.lines)
        server.wait_for("server stopped", timeout=5)
        assert not any("Traceback" in line for line in server.lines)


def test_serve_keeps_its_start_up_objects_out_of_full_collections(serve) -> None:
    server, _, _ = serve  # bridge.jam.freeze_start_up_objects, once the model is loaded
    server.wait_for("objects of the start-up kept out of the garbage collector's full passes")


needs_liblo = pytest.mark.skipif(
    shutil.which("oscsend") is None or shutil.which("oscdump") is None,
    reason="liblo-tools (oscsend/oscdump) not installed",
)


@needs_liblo
def test_liblo_hello_gets_status_on_reply_port(serve) -> None:
    server, port, _ = serve
    listen = free_udp_port()
    dump = subprocess.Popen(["oscdump", "-L", str(listen)], stdout=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        line = ""
        assert dump.stdout is not None
        os.set_blocking(dump.stdout.fileno(), False)

        def read_more() -> str:  # a text-mode read of an empty non-blocking pipe raises
            try:
                return os.read(dump.stdout.fileno(), 1 << 16).decode(errors="replace")
            except BlockingIOError:
                return ""

        while "/diffjam/status" not in line and time.monotonic() < deadline:
            # oscdump may not be bound yet when the first hello arrives: say hello again
            subprocess.run(["oscsend", "localhost", str(port), "/diffjam/hello", "i",
                            str(listen)], check=True)
            time.sleep(0.3)
            line += read_more()
        assert "/diffjam/status s" in line
        status = json.loads(line[line.index("{"):line.rindex("}") + 1])
        assert status["protocol"] == 1
        assert status["queue_capacity"] == 8
        assert status["model"] == "tiny-e2e"
    finally:
        dump.terminate()
        dump.wait(5)


@needs_liblo
def test_liblo_bad_message_is_logged(serve) -> None:
    server, port, _ = serve
    subprocess.run(["oscsend", "localhost", str(port), "/diffjam/bogus", "i", "3"], check=True)
    line = server.wait_for("UNKNOWN_ADDRESS", timeout=30)
    assert "/diffjam/bogus" in line
    subprocess.run(["oscsend", "localhost", str(port), "/diffjam/status", "f", "1.5"],
                   check=True)
    assert "takes type tags" in server.wait_for("BAD_TYPES", timeout=30)


def test_node_osc_client_runs_an_infill(serve) -> None:
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    if not (NODE_DIR / "node_modules" / "osc").is_dir():
        pytest.skip(f"node_modules missing: run `npm ci --omit=optional` in {NODE_DIR}")
    server, port, out = serve
    run = subprocess.run(["node", "client.js", str(port)], cwd=NODE_DIR, capture_output=True,
                         text=True, timeout=180)
    assert run.returncode == 0, run.stdout + run.stderr + "\n".join(server.lines)
    replies = [json.loads(line) for line in run.stdout.splitlines()]
    addresses = [reply["address"] for reply in replies]
    assert addresses[0] == "/diffjam/status"
    assert addresses[1] == "/diffjam/accepted"
    assert addresses[-1] == "/diffjam/done"
    assert set(addresses[2:-1]) <= {"/diffjam/progress", "/diffjam/result"}
    results = [r["args"] for r in replies if r["address"] == "/diffjam/result"]
    assert [args[:2] for args in results][0] == ["node-1", 0]
    notes = [tuple(args[k:k + 4]) for args in results for k in range(4, len(args), 4)]
    # bar 1 is kept as sent; everything generated lies in bar 2 (beats 4..8)
    assert (0.0, 1.0, 60, 100) in notes
    assert (2.5, 0.5, 67, 80) in notes
    generated = [n for n in notes if n not in ((0.0, 1.0, 60, 100), (2.5, 0.5, 67, 80))]
    assert all(4.0 <= n[0] < 8.0 for n in generated)
    done = json.loads(replies[-1]["args"][1])
    assert done["bars"] == [2, 2]
    assert done["n_bars"] == 2
    assert done["notes"] == [len(notes)]
    [midi_path] = done["midi_paths"]
    assert Path(midi_path).parent == out
    assert Path(midi_path).stat().st_size > 0
    server.wait_for("request node-1 infill done in")


def test_missing_model_is_one_clear_error(tmp_path: Path, capsys) -> None:
    from diffjam.cli import main

    code = main(["serve", "--model", str(tmp_path / "none.st"), "--port", "0"])
    assert code == 1
    assert capsys.readouterr().err == (
        f"diffjam serve: error: model file not found: {str(tmp_path / 'none.st')!r}\n")


def test_remote_host_needs_allow_remote(capsys) -> None:
    from diffjam.cli import main

    assert main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 2
    [error] = capsys.readouterr().err.splitlines()
    assert error.startswith("diffjam serve: error: refusing to listen on 0.0.0.0")
    assert "--allow-remote" in error



def test_sigint_during_a_generation_stops_the_server(tmp_path: Path) -> None:
    # Ctrl-C while a long generation runs: it is cancelled and answered, the process
    # exits 0 (it once logged "server stopped" and kept running)
    from pythonosc.osc_message import OscMessage
    from pythonosc.osc_message_builder import OscMessageBuilder

    port = free_udp_port()
    model = write_tiny_model(tmp_path / "tiny.safetensors")
    server = Serve("--port", str(port), "--device", "cpu", "--model", str(model),
                   "--output-dir", str(tmp_path / "out"), "--timeout", "600", cwd=REPO)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        server.wait_for("listening on")
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(START_S)
        builder = OscMessageBuilder("/diffjam/generate")
        builder.add_arg("long", "s")
        builder.add_arg(json.dumps({"n_bars": 4, "steps": 1000, "variations": 8,
                                    "write_midi": False}), "s")
        sock.sendto(builder.build().dgram, ("127.0.0.1", port))
        replies = []
        while not replies or replies[-1][0] != "/diffjam/progress":  # it is running
            message = OscMessage(sock.recvfrom(65535)[0])
            replies.append((message.address, list(message.params)))
        assert replies[0] == ("/diffjam/accepted", ["long", 0])
        server.proc.send_signal(signal.SIGINT)
        while replies[-1][0] == "/diffjam/progress":
            message = OscMessage(sock.recvfrom(65535)[0])
            replies.append((message.address, list(message.params)))
        assert replies[-1][1][:3] == ["long", 14, "CANCELLED"], replies[-1]
        assert server.proc.wait(60) == 0, "\n".join(server.lines)
    finally:
        sock.close()
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait(10)
    server.wait_for("server stopped", timeout=5)
    server.wait_for("request long generate CANCELLED in", timeout=5)
    assert not any("Traceback" in line or "did not" in line for line in server.lines), (
        "\n".join(server.lines))


@needs_liblo
def test_liblo_infill_round_trip_as_in_the_readme(serve) -> None:
    """The README's DAW-less example: oscsend an infill request holding its clip and a
    reply_port, and oscdump receives the result notes and the done message."""
    server, port, out = serve
    listen = free_udp_port()
    dump = subprocess.Popen(["oscdump", "-L", str(listen)], stdout=subprocess.PIPE)
    try:
        assert dump.stdout is not None
        os.set_blocking(dump.stdout.fileno(), False)

        def read_more() -> str:
            try:
                return os.read(dump.stdout.fileno(), 1 << 16).decode(errors="replace")
            except BlockingIOError:
                return ""

        text = ""
        deadline = time.monotonic() + 120
        attempt = 0

        def complete(text: str) -> bool:
            # oscdump may bind after the first replies of an attempt: then try again
            return "/diffjam/done" in text and "/diffjam/accepted" in text

        while not complete(text) and time.monotonic() < deadline:
            attempt += 1
            rid = f"clip{attempt}"
            text = ""
            # every oscsend is a new port: the notes travel in the params
            params = {"notes": [[0, 4, 60, 90], [4, 4, 64, 90], [8, 4, 67, 90],
                                [12, 4, 65, 90]],
                      "clip_beats": 16, "bars": [2, 3], "seed": 1, "steps": 2,
                      "reply_port": listen}
            subprocess.run(["oscsend", "localhost", str(port), "/diffjam/infill", "ss", rid,
                            json.dumps(params)], check=True)
            waited = time.monotonic() + 30
            while "/diffjam/done" not in text and time.monotonic() < waited:
                time.sleep(0.2)
                text += read_more()
        assert "/diffjam/accepted" in text and "/diffjam/result" in text
        done = text[text.index("/diffjam/done"):]
        summary = json.loads(done[done.index("{"):done.index("}", done.index("{")) + 1])
        assert summary["bars"] == [2, 3]
        assert all(Path(p).is_file() for p in summary["midi_paths"])
    finally:
        dump.terminate()
        dump.wait(5)
