"""The panel against a REAL engine process (``python -m diffjam serve``).

One engine is started for the module on a free port, loading a tiny random-weight model
written by the test (``--model``), so the whole real path runs fast on a CPU: panel ->
OSC -> worker -> engine.pipeline -> OSC -> roll. When the server cannot start in this
checkout, every test here is skipped with the server's last log line as the reason; an
engine that starts but never answers is a failure. Reconnecting after a restart is
tested against the fake engine (test_gui_client.py): a second model load here would
double this module's time on a 2-core machine.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import CONNECT_TIMEOUT_MS, count_pixels
from pythonosc.osc_message import OscMessage

from gui.client import EngineClient
from gui.clip import ClipNote, read_clip, write_clip
from gui.panel import PanelWindow, song_support
from gui.qt import QSettings
from gui.rollview import GENERATED_COLOR
from wire.protocol import Hello, RequestParams, encode_message

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 120.0
RESULT_TIMEOUT_MS = 120_000


def write_tiny_model(path: Path) -> Path:
    """A random-weight model small enough for a 2-step request in about a second."""
    try:
        import torch

        from engine.checkpoint import save_model
        from engine.model import DenoiserNet, ModelConfig
    except ImportError as err:
        pytest.skip(f"cannot build a test model for `diffjam serve`: {err}")
    config = ModelConfig(
        widths=(16, 32), blocks_per_level=1, attention_layers=1, attention_heads=2,
        window_bars=4,
    )  # fmt: skip
    torch.manual_seed(0)
    save_model(path, DenoiserNet(config).state_dict(), config, info={"name": "tiny-panel-e2e"})
    return path


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return write_tiny_model(tmp_path_factory.mktemp("model") / "tiny.safetensors")


def serve_args(port: int, model: Path) -> list[str]:
    return [sys.executable, "-m", "diffjam", "serve", "--port", str(port), "--model",
            str(model), "--device", "cpu"]  # fmt: skip


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers_hello(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.5)
        sock.sendto(encode_message(Hello(None)), ("127.0.0.1", port))
        try:
            return OscMessage(sock.recv(65536)).address == "/diffjam/status"
        except (TimeoutError, ConnectionRefusedError):
            return False


def wait_for_engine(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not answers_hello(port):
        if process.poll() is not None:
            lines = log.read_text(errors="replace").strip().splitlines() or ["(no output)"]
            pytest.skip(f"`diffjam serve` is not available here (exit {process.returncode}): "
                        f"{lines[-1]}")  # fmt: skip
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"`diffjam serve` started but did not answer within {START_TIMEOUT_S} s")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def engine_port(tmp_path_factory, tiny_model: Path) -> Iterator[int]:
    port = free_udp_port()
    scratch = tmp_path_factory.mktemp("engine")
    log = scratch / "serve.log"
    with open(log, "wb") as handle:
        process = subprocess.Popen(
            [*serve_args(port, tiny_model), "--output-dir", str(scratch / "midi")],
            cwd=REPO, stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_for_engine(process, port, log)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def real_panel(qtbot, engine_port: int, settings: QSettings) -> Iterator[PanelWindow]:
    client = EngineClient(port=engine_port, hello_interval_ms=200, timeout_ms=5000)
    window = PanelWindow(client=client, settings=settings)
    qtbot.addWidget(window)
    client.start()
    window.resize(1280, 800)
    window.show()
    qtbot.waitUntil(lambda: client.connected, timeout=CONNECT_TIMEOUT_MS)
    window.steps_spin.setValue(2)  # keep the CPU work small
    window.seed_spin.setValue(11)
    yield window
    client.close()


def run(qtbot, panel: PanelWindow) -> None:
    with qtbot.waitSignal(panel.client.result_ready, timeout=RESULT_TIMEOUT_MS):
        assert panel.generate() is not None, panel.status_area.text()


def test_connects_and_shows_the_engine(real_panel: PanelWindow) -> None:
    assert real_panel.protocol_label.text() == "protocol 1"
    assert real_panel.device_label.text().startswith(("device CPU", "device GPU"))
    assert real_panel.model_label.text() != "model –"


def test_settings_change_reaches_the_engine(qtbot, real_panel: PanelWindow) -> None:
    real_panel.set_guidance(3.0)
    real_panel.steps_spin.setValue(3)
    qtbot.waitUntil(
        lambda: (
            "guidance 3" in real_panel.defaults_label.text()
            and "steps 3" in real_panel.defaults_label.text()
        ),
        timeout=CONNECT_TIMEOUT_MS,
    )


def test_generate_draws_the_roll_and_exports(
    qtbot, real_panel: PanelWindow, tmp_path: Path
) -> None:
    real_panel.set_task("generate")
    real_panel.bars_spin.setValue(4)
    real_panel.chords_editor.set_text("C G Am F")
    real_panel.variations_spin.setValue(2)
    run(qtbot, real_panel)
    assert real_panel.roll.generated == (1, 4)
    assert real_panel.variation_label.text() == "1 / 2"
    notes = real_panel.roll.notes
    assert notes, "the model generated no notes"
    assert all(real_panel.roll.is_generated(note) for note in notes)
    image = real_panel.roll.grab().toImage()
    assert count_pixels(image, GENERATED_COLOR) > 0
    path = tmp_path / "exported.mid"
    real_panel.save_result(str(path))
    assert len(read_clip(path).notes) == len(notes)
    (url,) = real_panel.drag_mime().urls()
    assert Path(url.toLocalFile()).stat().st_size > 0


def test_infill_keeps_the_context(qtbot, real_panel: PanelWindow, tmp_path: Path) -> None:
    clip = [ClipNote(start=bar * 4.0 + beat, duration=1.0, pitch=60 + 2 * beat, velocity=80)
            for bar in range(4) for beat in range(4)]  # fmt: skip
    write_clip(tmp_path / "in.mid", clip, tempo=110.0)
    assert real_panel.open_clip(str(tmp_path / "in.mid"))
    real_panel.set_task("infill")
    real_panel.last_bar_spin.setValue(3)
    real_panel.first_bar_spin.setValue(2)
    run(qtbot, real_panel)
    assert real_panel.roll.generated == (2, 3)
    context = [n for n in real_panel.roll.notes if not real_panel.roll.is_generated(n)]
    assert sorted((n.start, n.pitch) for n in context) == sorted(
        (n.start, n.pitch) for n in clip if not 4 <= n.start < 12
    )


def test_engine_errors_are_shown_in_place(qtbot, real_panel: PanelWindow) -> None:
    with qtbot.waitSignal(real_panel.client.request_failed, timeout=CONNECT_TIMEOUT_MS):
        real_panel.submit_request("infill", RequestParams(bars=(9, 12), clip_beats=16.0), ())
    assert real_panel.status_area.text().startswith("Those bars are outside the clip: ")
    assert real_panel.progress_bar.format() == "failed"


def test_the_panel_offers_songs_as_the_engine_says(real_panel: PanelWindow) -> None:
    """The engine's status says whether it writes songs; the panel's form box says so in
    plain words (this engine has the test's tiny model and no lead-sheet model)."""
    status = real_panel.client.status
    assert status is not None and "song" in status.tasks
    assert real_panel.form_editor.engine_note.text() == song_support(status)
    assert real_panel.song_button.isEnabled() == status.writes_songs
    if not status.writes_songs:
        assert "no lead-sheet model" in real_panel.form_editor.engine_note.text()
