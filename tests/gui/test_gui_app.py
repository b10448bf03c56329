"""``gui.app.main``: the application around the panel window."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import CONNECT_TIMEOUT_MS
from fake_engine import FakeEngine

from gui import app
from gui.qt import QApplication, QSettings


def panels() -> list:
    return [w for w in QApplication.topLevelWidgets() if w.windowTitle() == "diffjam panel"]


def test_main_opens_a_connected_panel_and_remembers_the_engine(
    qtbot, qapp, fake_engine: FakeEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = QSettings(str(tmp_path / "app.ini"), QSettings.Format.IniFormat)
    seen: list[str] = []

    def run_until_connected() -> int:
        # stands in for QApplication.exec(): quitting the real loop would leave the
        # test process's QApplication unable to run event loops for the next tests
        qtbot.waitUntil(lambda: bool(panels()) and panels()[-1].client.connected,
                        timeout=CONNECT_TIMEOUT_MS)  # fmt: skip
        seen.append(panels()[-1].protocol_label.text())
        return 0

    monkeypatch.setattr(qapp, "exec", run_until_connected)
    before = set(panels())
    code = app.main(host="127.0.0.1", port=fake_engine.port, start_engine=False, settings=settings)
    (window,) = set(panels()) - before
    window.close()
    window.deleteLater()
    assert code == 0
    assert seen == ["protocol 1"]
    assert int(settings.value("engine/port")) == fake_engine.port
    assert settings.value("request/task") == "infill"  # saved when the window closed


def test_main_refuses_a_bad_port(qtbot, tmp_path: Path, capsys) -> None:
    settings = QSettings(str(tmp_path / "app.ini"), QSettings.Format.IniFormat)
    assert app.main(host=None, port=70000, start_engine=False, settings=settings) == 2
    assert "port 70000 is outside 1..65535" in capsys.readouterr().err
