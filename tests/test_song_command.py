"""``diffjam song`` end to end: the real ``Pipeline.song`` with tiny random models, the
written file (tracks, markers, tempo, block chords, kept melody), and its errors."""

from __future__ import annotations

from pathlib import Path

import mido
import pytest

import smf
from diffjam.cli import main
from diffjam.commands import song as song_command
from engine.songfile import BASS_LOW, TONES_LOW
from tests.bridge.conftest import FakePipeline
from tests.song_models import make_tiny_leadsheet_file, make_tiny_model_file

TPB = 480  # engine.midifile's ticks per beat
BAR = 4 * TPB


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    folder = tmp_path_factory.mktemp("models")
    model = make_tiny_model_file(folder / "tiny.safetensors")
    sheet = make_tiny_leadsheet_file(folder / "ls.safetensors")
    return ["--model", str(model), "--leadsheet", str(sheet), "--device", "cpu",
            "--threads", "1"]


def melody_file(path: Path) -> Path:
    """Four bars of a quarter-note line; bars 2-3 are what --melody-bars 2-3 keeps."""
    midi = mido.MidiFile(type=1, ticks_per_beat=TPB)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    for beat in range(16):
        track.append(mido.Message("note_on", note=69 + beat % 5, velocity=80, time=0))
        track.append(mido.Message("note_off", note=69 + beat % 5, velocity=0, time=TPB))
    midi.save(path)
    return path


def test_song_writes_three_tracks_with_phrase_markers(
        tmp_path: Path, models: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "song.mid"
    melody = melody_file(tmp_path / "tune.mid")
    code = main(["song", "--form", "i1A2B1A2", "--key", "A", "--minor", "--tempo", "100",
                 "--seed", "3", "--steps", "2", "--repeat-strength", "0.9", "--melody",
                 str(melody), "--melody-bars", "2-3", "--chords", "Am F", "-o", str(out),
                 *models])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    [line] = captured.out.strip().splitlines()
    assert line.startswith(f"wrote {out}: 6 bars, 4 phrases (i1 A2 B1 A2) in A minor at 100 "
                           "BPM")
    assert "lead sheet" in line and "accompaniment" in line and line.endswith("seed 3")
    midi = mido.MidiFile(out)
    assert midi.type == 1
    conductor = midi.tracks[0]
    tempo = next(m.tempo for m in conductor if m.type == "set_tempo")
    assert round(mido.tempo2bpm(tempo)) == 100
    ticks = zip(smf.absolute_ticks(conductor), conductor, strict=True)
    assert [(tick, m.text) for tick, m in ticks if m.type == "marker"] == [
        (0, "i"), (BAR, "A"), (3 * BAR, "B"), (4 * BAR, "A")]
    assert [track.name for track in midi.tracks[1:]] == ["Melody", "Chords", "Accompaniment"]
    tune = [(n.start, n.pitch) for n in smf.track_notes(mido.MidiFile(melody).tracks[0])
            if BAR <= n.start < 3 * BAR]
    kept = [(n.start, n.pitch) for n in smf.track_notes(midi.tracks[1])
            if BAR <= n.start < 3 * BAR]
    assert kept == tune
    chords = smf.track_notes(midi.tracks[2])
    first = sorted(n.pitch for n in chords if n.start == 0)
    assert first == [BASS_LOW + (9 - BASS_LOW) % 12, TONES_LOW + (0 - TONES_LOW) % 12,
                     TONES_LOW + (4 - TONES_LOW) % 12]  # Am: A2 under C4 E4
    assert all(n.channel == 1 for n in chords) and {n.end for n in chords if n.start == 0} == {
        BAR}
    assert all(n.start < 6 * BAR for track in midi.tracks[1:] for n in smf.track_notes(track))


@pytest.mark.parametrize(("argv", "text"), [
    (["--form", "A8B"], "--form 'A8B': cannot read 'B' at character 3"),
    (["--form", " "], "--form is empty"),
    (["--form", "A200B100"], "at most 256"),
    (["--form", "A4", "--key", "H"], "unknown key"),
    (["--form", "A2", "--chords", "C G Am"], "--chords has 3 bars; the form has 2"),
    (["--form", "A2", "--melody-bars", "1-2"], "--melody-bars needs --melody FILE"),
    (["--form", "A2", "--repeat-strength", "1.5"], "--repeat-strength must be in 0..1"),
    (["--form", "A2", "--seed", str(2**64)], "--seed must be in 0.."),
    (["--form", "A2", "--tempo", "nan"], "--tempo must be 4..1000 BPM"),
])
def test_bad_song_input_is_one_line_and_exit_status_2(
        argv: list[str], text: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["song", *argv, "-o", str(tmp_path / "x.mid")]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err
    assert lines[0].startswith("diffjam song: error: ") and text in lines[0], lines[0]
    assert not (tmp_path / "x.mid").exists()


def test_melody_bars_past_the_song_or_the_file(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    melody = str(melody_file(tmp_path / "tune.mid"))
    out = str(tmp_path / "x.mid")
    assert main(["song", "--form", "A2", "--melody", melody, "--melody-bars", "2-3",
                 "-o", out]) == 2
    assert "--melody-bars 2-3 lie outside the song's 2 bars" in capsys.readouterr().err
    assert main(["song", "--form", "A8", "--melody", melody, "--melody-bars", "3-6",
                 "-o", out]) == 2
    assert "tune.mid has 4 bars" in capsys.readouterr().err


def test_an_engine_without_a_lead_sheet_model_is_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(song_command, "load_pipeline",
                        lambda args: FakePipeline(lead_sheet=False))
    assert main(["song", "--form", "A4", "-o", str(tmp_path / "x.mid")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("diffjam song: error: this engine has no lead-sheet model")
    assert not (tmp_path / "x.mid").exists()


def test_the_options_reach_the_pipeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakePipeline()
    monkeypatch.setattr(song_command, "load_pipeline", lambda args: fake)
    out = tmp_path / "s.mid"
    assert main(["song", "--form", "A2B2", "--key", "Eb", "--no-form", "--guidance", "2",
                 "--no-in-key", "--quality", "high", "--steps", "3", "-o", str(out)]) == 0
    kind, call = fake.calls[0]
    options = call["options"]
    assert call["key"].name() == "Eb major" and call["tempo"] == song_command.DEFAULT_TEMPO
    assert (options.steps, options.use_form, options.repeat_strength) == (3, False, 0.6)
    assert (options.accompaniment.guidance, options.accompaniment.in_key,
            options.accompaniment.quality) == (2.0, False, "high")
    assert "seed 1234" in capsys.readouterr().out
    assert main(["song", "--form", "A2B2", "-o", str(out)]) == 2  # exists: no overwrite
    assert "exists" in capsys.readouterr().err
