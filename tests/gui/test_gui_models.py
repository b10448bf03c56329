"""The panel's Model menu: filled from /diffjam/status, sent as the request's "model"."""

from __future__ import annotations

import json

from pythonosc.osc_message_builder import OscMessageBuilder

from gui.panel import PanelWindow
from wire.protocol import Status, decode


def _status(models: tuple[str, ...]) -> Status:
    return Status(1, "0.1", "base", "cpu", 0, 8, False, None, models)


def test_status_lists_the_models() -> None:
    builder = OscMessageBuilder(address="/diffjam/status")
    builder.add_arg(json.dumps({"protocol": 1, "model": "base", "models": ["base", "mine"]}), "s")
    (status,) = decode(builder.build().dgram)
    assert status.models == ("base", "mine")


def test_the_model_menu_picks_a_model_by_name(panel: PanelWindow) -> None:
    panel._on_status(_status(("base", "mine", "other")))
    combo = panel.model_combo
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "base (default)", "mine", "other"]
    panel.task_combo.setCurrentIndex(panel.task_combo.findData("generate"))
    assert "model" not in panel.request_params()[0].to_json()  # the default: no name sent
    combo.setCurrentIndex(combo.findData("mine"))
    assert panel.request_params()[0].to_json()["model"] == "mine"
    panel._on_status(_status(("base", "mine")))  # still served: the choice stays
    assert combo.currentData() == "mine"
    panel._on_status(_status(("base",)))  # gone: back to the default
    assert combo.currentData() is None and combo.count() == 1
