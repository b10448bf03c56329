"""``diffjam infill / accompany / generate`` end to end with the tiny model."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import mido
import pytest

import smf
from engine import clip_commands
from engine.errors import InputError
from engine.sampling import SamplingOptions
from tests.smf.humanised import timed

FAST = ["--steps", "2", "--seed", "1", "--device", "cpu"]


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="diffjam")
    clip_commands.add_commands(parser.add_subparsers())
    args = parser.parse_args(argv)
    return args.handler(args)


@pytest.fixture
def song(data_dir: Path, tmp_path: Path) -> Path:
    """POP909 song 001 (2/4, MELODY, BRIDGE and PIANO with pedal), copied."""
    path = tmp_path / "001.mid"
    path.write_bytes((data_dir / "pop909" / "001" / "001.mid").read_bytes())
    return path


def test_infill_of_one_track_writes_back_the_whole_file(
        song: Path, tmp_path: Path, tiny_model_file: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.mid"
    assert run(["infill", str(song), "--bars", "5-6", "--track", "piano", "-o", str(out),
                "--model", str(tiny_model_file), *FAST]) == 0
    printed = capsys.readouterr().out
    assert "001.mid is written in 2/4: read in 4/4 bars" in printed
    assert "regenerated 'PIANO' under 'MELODY', 'BRIDGE' (kept as they are)" in printed
    assert re.search(r"new ones on 'PIANO' \(channel 3\)", printed)
    before, after = mido.MidiFile(song), mido.MidiFile(out)
    for t in (0, 1, 2):
        assert list(after.tracks[t]) == list(before.tracks[t])
    lo, hi = 4 * 1920, 6 * 1920
    assert ([e for e in timed(after.tracks[3]) if not e[1].type.startswith("note")]
            == [e for e in timed(before.tracks[3]) if not e[1].type.startswith("note")])
    new = [n for n in smf.track_notes(after.tracks[3]) if lo <= n.start < hi]
    assert new and all(n.end <= hi and n.channel == 2 for n in new)
    assert len({n.velocity for n in new}) > 1  # the context's dynamics, not one value


def test_infill_never_writes_over_the_input_without_force(
        song: Path, tiny_model_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    original = song.read_bytes()
    argv = ["infill", str(song), "--bars", "5", "--track", "PIANO", "-o", str(song),
            "--model", str(tiny_model_file), *FAST]
    with pytest.raises(InputError, match="is the input file"):
        run(argv)
    assert song.read_bytes() == original
    assert run([*argv, "--force"]) == 0
    assert song.read_bytes() != original and len(mido.MidiFile(song).tracks) == 4


def test_below_melody_keeps_new_notes_under_the_other_tracks(
        song: Path, tmp_path: Path, tiny_model_file: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "low.mid"
    run(["infill", str(song), "--bars", "9-12", "--track", "PIANO", "--below-melody",
         "--no-in-key", "-o", str(out), "--model", str(tiny_model_file), *FAST])
    printed = capsys.readouterr().out
    count = int(re.search(r"(\d+) new ones", printed).group(1))
    assert count > 0 and f"  0 of {count} new notes reach the lowest note" in printed


def test_accompany_with_a_melody_file_adds_one_track(
        song: Path, tmp_path: Path, tiny_model_file: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "acc.mid"
    assert run(["accompany", "--chords", "C G Am F", "--melody", str(song), "--bars", "4",
                "-o", str(out), "--model", str(tiny_model_file), *FAST]) == 0
    before, after = mido.MidiFile(song), mido.MidiFile(out)
    assert [list(t) for t in after.tracks[:4]] == [list(t) for t in before.tracks]
    assert after.tracks[4].name == "diffjam accompaniment"
    assert "plus the track 'diffjam accompaniment' (channel 4" in capsys.readouterr().out
    with pytest.raises(InputError, match="--tempo is for accompaniments without --melody"):
        run(["accompany", "--chords", "C", "--melody", str(song), "--tempo", "90", "-o",
             str(tmp_path / "x.mid"), "--model", str(tiny_model_file), *FAST])


def test_generate_writes_a_new_file_into_an_existing_folder_only(
        tmp_path: Path, tiny_model_file: Path) -> None:
    out = tmp_path / "new.mid"
    argv = ["generate", "--bars", "4", "--tempo", "90", "--model", str(tiny_model_file), *FAST]
    assert run([*argv, "-o", str(out)]) == 0
    assert mido.MidiFile(out).tracks[0][0].tempo == mido.bpm2tempo(90)
    with pytest.raises(InputError, match="exists"):
        run([*argv, "-o", str(out)])
    with pytest.raises(InputError, match="does not exist"):
        run([*argv, "-o", str(tmp_path / "missing" / "new.mid")])
    assert not (tmp_path / "missing").exists()


def options_of(argv: list[str]) -> SamplingOptions:
    parser = argparse.ArgumentParser(prog="diffjam")
    clip_commands.add_commands(parser.add_subparsers())
    return clip_commands._options(parser.parse_args(argv))


def test_density_and_repeat_reach_the_sampling_options(tmp_path: Path) -> None:
    out = ["-o", str(tmp_path / "x.mid")]
    assert options_of(["generate", "--density", "16", *out]).density == 16.0
    assert options_of(["accompany", "--chords", "C", "--density", "4", *out]).density == 4.0
    infill = options_of(["infill", "c.mid", "--bars", "2", "--density", "24", "--repeat", "0.3",
                         *out])
    assert (infill.density, infill.repeat) == (24.0, 0.3)
    plain = options_of(["infill", "c.mid", "--bars", "2", *out])
    assert (plain.density, plain.repeat) == (None, None)  # the task's defaults
    assert options_of(["generate", "--density", "0", *out]).density == 0.0  # no hint
    for argv, text in ((["generate", "--density", "-1"], "--density must be 0..32, got -1"),
                       (["generate", "--density", "40"], "--density must be 0..32, got 40"),
                       (["generate", "--density", "nan"], "--density must be 0..32"),
                       (["infill", "c.mid", "--bars", "2", "--repeat", "1.5"],
                        "--repeat must be 0..1, got 1.5")):
        with pytest.raises(InputError, match=re.escape(text)):
            options_of([*argv, *out])
    with pytest.raises(SystemExit):  # an infill's option only
        options_of(["generate", "--repeat", "0.5", *out])


def test_the_pitch_set_and_guidance_interval_reach_the_sampling_options(tmp_path: Path) -> None:
    out = ["-o", str(tmp_path / "x.mid")]
    plain = options_of(["accompany", "--chords", "C", *out])
    assert (plain.allowed, plain.guidance_below) == (None, None)  # the task's defaults
    chosen = options_of(["accompany", "--chords", "C", "--allowed", "key",
                         "--guidance-below", "0.7", *out])
    assert (chosen.allowed, chosen.guidance_below) == ("key", 0.7)
    assert options_of(["infill", "c.mid", "--bars", "2", "--allowed", "chord", *out]
                      ).allowed == "chord"
    with pytest.raises(InputError, match=re.escape("--guidance-below must be 0.05..1, got 0")):
        options_of(["generate", "--guidance-below", "0", *out])
    assert options_of(["accompany", "--chords", "C", "--free-register", *out]).register is False
    assert plain.register is None
    assert plain.bass_anchor is False
    assert options_of(["accompany", "--chords", "C", "--bass-anchor", *out]).bass_anchor is True
    assert plain.candidates is None  # the task's default
    assert options_of(["infill", "c.mid", "--bars", "2", "--candidates", "8", *out]
                      ).candidates == 8
    with pytest.raises(InputError, match=re.escape("--candidates must be 1..16, got 0")):
        options_of(["accompany", "--chords", "C", "--candidates", "0", *out])
    with pytest.raises(SystemExit):  # argparse: not a pitch set
        options_of(["generate", "--allowed", "scale", *out])
