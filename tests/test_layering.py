"""The import arrows of docs/architecture.md, held by a test.

Every ``import`` in a package's modules (at module level or inside a function: a lazy
import is still a dependency) must point to a package the contract allows; only a
module's ``if __name__ == "__main__":`` block, a script, is exempt. The pure modules are
also imported in a fresh interpreter to show they load without torch, mido or Qt.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PROJECT = ("engine", "bridge", "gui", "smf", "wire", "diffjam")

# package -> the project packages its modules may import (itself always)
ALLOWED: dict[str, set[str]] = {
    "wire": set(),
    "smf": set(),
    "engine": {"smf", "wire"},
    "bridge": {"engine", "smf", "wire"},
    "gui": {"smf", "wire"},
    "diffjam": {"engine", "bridge", "gui", "smf", "wire"},
}
# modules the engine may use from wire (not the OSC protocol: the engine knows no wire)
ENGINE_WIRE = {"wire", "wire.chords", "wire.errors", "wire.form", "wire.limits"}
HEAVY = ("torch", "mido", "rtmidi", "PyQt6", "PySide6")  # what wire may never import
PURE_MODULES = ("wire", "wire.limits", "wire.errors", "wire.chords", "wire.form", "wire.protocol")
TORCH_FREE = ("engine.sampling", "engine.harmony", "bridge.server", "diffjam.cli")


def _is_main_block(node: ast.AST) -> bool:
    return (isinstance(node, ast.If) and isinstance(node.test, ast.Compare)
            and isinstance(node.test.left, ast.Name) and node.test.left.id == "__name__")


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every absolute import in a file, ``__main__`` blocks left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        if _is_main_block(node):
            return
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            # "from wire import chords" imports wire.chords
            found.extend((node.lineno, name if node.module in PROJECT else node.module)
                         for name in names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def modules_of(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


def violations(package: str) -> list[str]:
    bad = []
    for path in modules_of(package):
        for line, name in imports(path):
            top = name.split(".")[0]
            where = f"{path.relative_to(REPO)}:{line} imports {name}"
            if top in PROJECT and top != package and top not in ALLOWED[package]:
                bad.append(where)
            elif package == "engine" and top == "wire" and not any(
                    name == ok or name.startswith(ok + ".") for ok in ENGINE_WIRE - {"wire"}):
                bad.append(where + " (the engine uses wire.chords, .errors, .form, .limits only)")
            elif package == "wire" and top in HEAVY:
                bad.append(where + " (wire is pure)")
    return bad


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_follow_the_contract(package: str) -> None:
    assert modules_of(package), package
    assert violations(package) == []


def test_a_wrong_arrow_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "engine"
    fake.mkdir()
    (fake / "bad.py").write_text(
        "import os\nfrom wire import protocol\n\ndef f():\n    from bridge.server import X\n\n"
        "if __name__ == '__main__':\n    import gui.app\n")
    (tmp_path / "wire").mkdir()
    (tmp_path / "wire" / "bad.py").write_text("import torch\nfrom mido import Message\n")
    monkeypatch.setattr(sys.modules[__name__], "REPO", tmp_path)
    assert [v.split(" imports ")[1] for v in violations("engine")] == [
        "wire.protocol (the engine uses wire.chords, .errors, .form, .limits only)",
        "bridge.server",
    ]
    assert len(violations("wire")) == 2


@pytest.mark.parametrize("module", PURE_MODULES + TORCH_FREE)
def test_loads_without_heavy_packages(module: str) -> None:
    heavy = ("torch",) if module in TORCH_FREE else HEAVY
    code = (f"import sys, {module}; "
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r}))")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                            text=True, check=True, timeout=120)
    assert result.stdout.strip() == "[]", f"{module} loads {result.stdout.strip()}"


def test_the_pipeline_does_not_load_the_training_data_code() -> None:
    # The task ids live in engine.model; serving a request reads no dataset code.
    data = ("engine.dataset", "engine.pop909", "engine.cache", "engine.train")
    code = (f"import sys, engine.pipeline; "
            f"print(sorted(m for m in sys.modules if m in {data!r}))")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                            text=True, check=True, timeout=120)
    assert result.stdout.strip() == "[]", f"engine.pipeline loads {result.stdout.strip()}"


# The modules that are command-line code (argparse): the commands' own modules. A library
# module that grows an option parser belongs in diffjam/commands/ instead.
COMMAND_MODULES = {
    "engine/cli.py", "engine/clip_commands.py", "engine/train.py", "engine/distill.py",
    "engine/leadsheet_train.py",
    "engine/devices.py",  # the --device and --threads options every command shares
    "bridge/cli.py", "bridge/serve.py", "bridge/doctor.py",
    "gui/screenshots.py",  # a script that draws the README's screenshots
}


def test_argparse_only_in_command_modules() -> None:
    found = {str(path.relative_to(REPO))
             for package in ("engine", "bridge", "gui", "smf", "wire")
             for path in modules_of(package)
             if any(name == "argparse" for _line, name in imports(path))}
    assert found <= COMMAND_MODULES, sorted(found - COMMAND_MODULES)
