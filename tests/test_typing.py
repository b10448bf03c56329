"""The type checker over the packages pyproject.toml's [tool.mypy] names (wire, smf,
engine, bridge, gui, diffjam): run in the suite so CI keeps them clean. Skipped where mypy is
not installed (pip install -e '.[dev]' installs it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.timeout(600)
def test_mypy_is_clean() -> None:
    pytest.importorskip("mypy", reason="mypy is not installed (pip install -e '.[dev]')")
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=REPO, capture_output=True,
                            text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_every_package_is_checked() -> None:
    """No package of the project is left out of [tool.mypy] (the panel was, once)."""
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    packages = {name.split(".")[0] for name in config["tool"]["setuptools"]["packages"]}
    assert packages <= set(config["tool"]["mypy"]["files"])
    for package in packages:
        assert (REPO / package / "py.typed").exists(), package
