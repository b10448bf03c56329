"""The panel is an OSC client: no module of gui imports the engine or the bridge."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

GUI = Path(__file__).resolve().parents[2] / "gui"
MODULES = sorted(GUI.glob("*.py"))


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_gui_has_modules() -> None:
    assert {"qt.py", "client.py", "panel.py", "app.py"} <= {path.name for path in MODULES}


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_no_engine_or_bridge_import(path: Path) -> None:
    forbidden = {
        name for name in imported_modules(path) if name.split(".")[0] in ("engine", "bridge")
    }
    assert not forbidden, f"gui/{path.name} imports {sorted(forbidden)}"


@pytest.mark.parametrize(
    "path", [p for p in MODULES if p.name != "qt.py"], ids=lambda path: path.name
)
def test_qt_only_through_gui_qt(path: Path) -> None:
    qt = {name for name in imported_modules(path) if name.split(".")[0] in ("PyQt6", "PySide6")}
    assert not qt, f"gui/{path.name} imports {sorted(qt)} directly instead of gui.qt"


def test_forbidden_import_is_detected(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom engine.pipeline import Pipeline\nimport bridge.server\n")
    assert {"engine.pipeline", "bridge.server"} <= imported_modules(sample)
