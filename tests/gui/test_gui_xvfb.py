"""A real window, not offscreen: the panel starts under Xvfb with Qt's xcb plugin.

Runs ``python -m gui.screenshots`` against the fake engine on a private Xvfb display, so
the panel is created, shown, driven through its workflows and grabbed through the same
platform plugin a desktop uses (the one that needs ``libxcb-cursor0`` and friends).
Skipped, with the reason, where Xvfb is not installed (``apt-get install xvfb``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_engine import FakeEngine

from gui.qt import QImage
from gui.screenshots import SHOTS, SIZES

XVFB = shutil.which("Xvfb")
REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    XVFB is None, reason="Xvfb is not installed (apt-get install xvfb): no real X display"
)


@pytest.fixture
def display() -> Iterator[str]:
    """A private Xvfb server; its display name (``":N"``, N picked by Xvfb itself)."""
    assert XVFB is not None
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        [XVFB, "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as pipe:
            number = pipe.readline().strip()  # written once the server accepts clients
        if not number:
            pytest.fail("Xvfb exited without opening a display")
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_panel_starts_in_a_real_x_window(display: str, fake_engine: FakeEngine, tmp_path) -> None:
    env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb")
    run = subprocess.run(
        [sys.executable, "-m", "gui.screenshots", "--port", str(fake_engine.port),
         "--out", str(tmp_path)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Qt platform: xcb" in run.stderr
    for name in SHOTS:
        image = QImage(str(tmp_path / name))
        assert (image.width(), image.height()) == SIZES.get(name, (1280, 800)), name
