"""Fixtures for the panel tests: offscreen Qt, a fake engine, a temp settings file."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fake_audio import FakeSink
from fake_engine import FakeEngine

from gui.client import EngineClient
from gui.panel import PanelWindow
from gui.qt import QColor, QImage, QSettings

CONNECT_TIMEOUT_MS = 5000


def count_pixels(image: QImage, color: QColor, *, tolerance: int = 40) -> int:
    """Pixels of ``image`` within ``tolerance`` of ``color`` on each of R, G and B."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB32)
    width, height = rgb.width(), rgb.height()
    data = np.frombuffer(rgb.constBits().asstring(rgb.sizeInBytes()), dtype=np.uint8)
    pixels = data.reshape(height, rgb.bytesPerLine() // 4, 4)[:, :width, :3].astype(int)
    target = np.array([color.blue(), color.green(), color.red()])  # RGB32 is BGRA in memory
    return int(np.all(np.abs(pixels - target) <= tolerance, axis=-1).sum())


@pytest.fixture
def fake_engine() -> Iterator[FakeEngine]:
    engine = FakeEngine().start()
    yield engine
    engine.stop()


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    """Panel settings in a temp ini file, never the user's own."""
    return QSettings(str(tmp_path / "panel.ini"), QSettings.Format.IniFormat)


def make_client(port: int) -> EngineClient:
    return EngineClient(host="127.0.0.1", port=port, hello_interval_ms=100, timeout_ms=600)


@pytest.fixture
def client(qtbot, fake_engine: FakeEngine) -> Iterator[EngineClient]:
    client = make_client(fake_engine.port)
    client.start()
    qtbot.waitUntil(lambda: client.connected, timeout=CONNECT_TIMEOUT_MS)
    yield client
    client.close()


@pytest.fixture
def panel(qtbot, fake_engine: FakeEngine, settings: QSettings) -> Iterator[PanelWindow]:
    """A shown 1280x800 panel connected to the fake engine."""
    client = make_client(fake_engine.port)
    window = PanelWindow(client=client, settings=settings, audio_sink=FakeSink())
    qtbot.addWidget(window)
    client.start()
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: client.connected, timeout=CONNECT_TIMEOUT_MS)
    yield window
    client.close()
