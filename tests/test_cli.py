from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import engine
from bridge.cli import build_parser, main

REPO = Path(__file__).resolve().parent.parent


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "usage: diffjam" in out
    assert "cache" in out and "panel" in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"diffjam {engine.__version__}"


def test_building_the_parser_imports_neither_qt_nor_torch() -> None:
    code = (
        "import sys; from bridge.cli import build_parser; build_parser(); "
        "print(any(m == 'gui' or m.startswith(('gui.', 'PyQt6')) for m in sys.modules), "
        "'torch' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False False"


def test_the_command_line_starts_without_posix_only_modules() -> None:
    """Windows has no resource, fcntl, termios, pwd or grp: building the parser (which
    imports every command's module) must not need them."""
    code = (
        "import sys\n"
        "for name in ('resource', 'fcntl', 'termios', 'pwd', 'grp'):\n"
        "    sys.modules[name] = None  # import raises ImportError\n"
        "from bridge.cli import build_parser; build_parser()\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=120)


def test_panel_without_pyqt6_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "PyQt6" else find_spec(name, *a))
    assert main(["panel"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("diffjam panel: error: the panel needs PyQt6") and "[panel]" in err


def test_cache_without_data_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DIFFJAM_DATA", raising=False)
    assert main(["cache"]) == 2
    assert "pass --data DIR or set DIFFJAM_DATA" in capsys.readouterr().err


def test_unknown_arguments_are_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["cache", "--bogus"])
    assert exit_info.value.code == 2


def test_cache_command_on_two_songs(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "small.npz"
    code = main(
        ["cache", "--data", str(data_dir), "--songs", "3,34", "--out", str(out),
         "--workers", "1"]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "songs kept: 1 of 2" in printed
    assert "034: UnsupportedMeterError" in printed and "3/4" in printed
    assert "phrases:" in printed and "quantisation:" in printed
    assert out.exists()


def test_cache_rejects_songs_outside_the_split(data_dir: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cache", "--data", str(data_dir), "--songs", "999",
                 "--out", str(tmp_path / "x.npz")]) == 2
    assert "songs not in" in capsys.readouterr().err


def test_parser_prog_is_diffjam() -> None:
    assert build_parser().prog == "diffjam"
