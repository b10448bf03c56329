from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import engine
from diffjam.cli import build_parser, main

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
        "import sys; from diffjam.cli import build_parser; build_parser(); "
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
        "from diffjam.cli import build_parser; build_parser()\n"
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


def _midi_file(path: Path, *, numerator: int = 4, denominator: int = 4) -> Path:
    import mido

    midi = mido.MidiFile(type=1)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    track.append(mido.MetaMessage("time_signature", numerator=numerator,
                                  denominator=denominator))
    track.append(mido.Message("note_on", note=60, velocity=90, time=0))
    track.append(mido.Message("note_off", note=60, velocity=0, time=1920))
    midi.save(path)
    return path


def _bad_inputs(tmp: Path) -> list[tuple[list[str], str]]:
    """(argv, text the one error line must hold) for every bad input of issue 14."""
    ok = _midi_file(tmp / "ok.mid")
    empty = tmp / "empty.mid"
    empty.write_bytes(b"")
    cut = tmp / "cut.mid"
    cut.write_bytes(ok.read_bytes()[:30])
    blocker = tmp / "a-file"
    blocker.write_text("x")
    data = tmp / "data"
    (data / "pop909").mkdir(parents=True)
    fresh_run = tmp / "fresh-run"
    fresh_run.mkdir()
    quiet_run = tmp / "quiet-run"
    quiet_run.mkdir()
    (quiet_run / "state.json").write_text('{"step": 0, "history": {"train": []}}')
    many = ",".join(f"{k:03d}" for k in range(1, 80))
    from tests.engine.conftest import make_tiny_model_file

    model = make_tiny_model_file(tmp / "tiny.safetensors")
    out = str(tmp / "out.mid")
    return [
        (["infill", str(_midi_file(tmp / "m0.mid", numerator=0)), "--bars", "1", "-o", out],
         "0/4"),
        (["infill", str(_midi_file(tmp / "m128.mid", denominator=128)), "--bars", "1",
          "-o", out], "4/128"),
        (["infill", str(empty), "--bars", "1", "-o", out], "empty or cut short"),
        (["infill", str(cut), "--bars", "1", "-o", out], "empty or cut short"),
        *[(["generate", "--tempo", tempo, "-o", out], "--tempo must be 4..1000")
          for tempo in ("-5", "2", "100000", "nan", "0")],
        (["accompany", "--chords", "C", "--tempo", "inf", "-o", out], "--tempo"),
        (["generate", "--seed", str(2**64), "-o", out], "seed must be in 0.."),
        (["generate", "-o", str(blocker / "out.mid")], "a-file"),
        (["accompany", "--chords", "C" * 5000, "-o", out], "unknown chord quality"),
        (["eval", "--songs", many, "--task", "infill", "--out", str(tmp / "e.json"),
          "--data", str(data)], "no POP909 song folder"),  # the ids are read as ids
        (["results", "--songs", many, "--data", str(data)], "no POP909 song folder"),
        (["loss-curve", "--run", str(fresh_run), "--out", str(tmp / "c.svg")],
         "no state.json"),
        (["loss-curve", "--run", str(quiet_run), "--out", str(tmp / "c.svg")],
         "no loss history yet"),
        (["jam", "--backend", "tests.bridge.dead_midi", "--input", "Dead Keys",
          "--output", "Dead Synth", "--device", "cpu", "--model", str(model)], "is gone"),
        (["jam", "--backend", "tests.bridge.dead_midi", "--tempo", "0"], "jam tempo must be"),
        (["jam", "--backend", "tests.bridge.dead_midi", "--model", str(tmp / "none.safetensors")],
         "model file not found"),
        (["bench-jam", "--fake-model", "--guidance", "30"], "--guidance must be 0..20"),
        (["bench-jam", "--fake-model", "--bpm", "400"], "--bpm must be 20..300"),
    ]


def test_every_bad_input_is_one_line_and_a_nonzero_exit(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    monkeypatch.chdir(REPO)  # the dead backend module is imported by name
    for argv, text in _bad_inputs(tmp_path):
        code = main(argv)
        captured = capsys.readouterr()
        lines = [line for line in captured.err.splitlines() if line.strip()]
        assert code != 0, argv
        assert "Traceback" not in captured.err + captured.out, argv
        assert len(lines) == 1, (argv, lines)
        assert text in lines[0], (argv, lines[0])
        assert len(lines[0]) < 400, argv


def test_the_installed_command_prints_one_line_too(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "diffjam", "generate", "--tempo", "nan", "-o",
         str(tmp_path / "x.mid")], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "diffjam generate: error: --tempo must be 4..1000 BPM, got nan"]
