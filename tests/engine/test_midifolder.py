"""A folder of ordinary MIDI files becomes a training cache (engine/midifolder.py)."""

from __future__ import annotations

import json
from pathlib import Path

import mido
import numpy as np
import pytest

from engine.cache import load_cache
from engine.dataset import WindowSampler, densify
from engine.errors import InputError
from engine.harmony import parse_vocab
from engine.midifolder import Part, assign_roles, build_midi_cache, read_track_map
from engine.pianoroll import Note

BARS = 9
C_MAJOR = (60, 64, 67)
A_MINOR = (57, 60, 64)


def _events(notes: list[tuple[int, int, int, int]], channel: int) -> list[tuple[int, mido.Message]]:
    """(start tick, end tick, pitch, velocity) -> timed note-on/off messages."""
    out = []
    for start, end, pitch, velocity in notes:
        out.append((start, mido.Message("note_on", note=pitch, velocity=velocity, channel=channel)))
        out.append((end, mido.Message("note_off", note=pitch, velocity=0, channel=channel)))
    return out


def _track(events: list[tuple[int, mido.Message]], name: str | None = None) -> mido.MidiTrack:
    track = mido.MidiTrack()
    if name:
        track.append(mido.MetaMessage("track_name", name=name, time=0))
    tick = 0
    for at, msg in sorted(events, key=lambda e: (e[0], e[1].type == "note_on")):
        track.append(msg.copy(time=at - tick))
        tick = at
    return track


def _song(tpb: int) -> tuple[list, list, list]:
    """A melody line (one note a beat, high), chords a bar (C, Am alternating), drums."""
    melody, chords, drums = [], [], []
    for bar in range(BARS):
        for beat in range(4):
            start = (bar * 4 + beat) * tpb
            melody.append((start, start + tpb, 72 + (0, 4, 7, 12)[beat], 90))
            drums.append((start, start + tpb // 2, 36, 100))
        chord = C_MAJOR if bar % 2 == 0 else A_MINOR
        chords += [(bar * 4 * tpb, (bar + 1) * 4 * tpb, p, 70) for p in chord]
    return melody, chords, drums


def _write_type1(path: Path, *, tpb: int = 96, names: tuple[str, str] = ("Lead", "Keys"),
                 meter: tuple[int, int] = (4, 4)) -> None:
    melody, chords, drums = _song(tpb)
    midi = mido.MidiFile(type=1, ticks_per_beat=tpb)
    conductor = mido.MidiTrack([
        mido.MetaMessage("time_signature", numerator=meter[0], denominator=meter[1], time=0),
        mido.MetaMessage("set_tempo", tempo=500_000, time=0),
        mido.MetaMessage("set_tempo", tempo=400_000, time=8 * tpb),  # a tempo change
    ])
    midi.tracks += [conductor, _track(_events(chords, 0), names[1]),
                    _track(_events(melody, 1), names[0]), _track(_events(drums, 9), "Drums")]
    midi.save(path)


def _write_type0(path: Path, *, tpb: int = 480) -> None:
    """Everything on one track, told apart by channel; no names at all."""
    melody, chords, drums = _song(tpb)
    midi = mido.MidiFile(type=0, ticks_per_beat=tpb)
    midi.tracks.append(_track(_events(chords, 2) + _events(melody, 0) + _events(drums, 9)))
    midi.save(path)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "songs"
    (root / "sub").mkdir(parents=True)
    for i in range(6):
        _write_type1(root / f"named {i}.mid", tpb=96 + 24 * i)
    _write_type0(root / "sub" / "plain.midi")
    _write_type1(root / "waltz.mid", meter=(3, 4))
    short = mido.MidiFile(type=1, ticks_per_beat=96)
    short.tracks.append(_track(_events([(0, 96, 60, 80)], 0), "Lead"))
    short.save(root / "short.mid")
    (root / "broken.mid").write_bytes(b"MThd nonsense")
    return root


def test_folder_becomes_a_cache_training_reads(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "mine.npz"
    report = build_midi_cache(folder, out, valid_share=0.2)
    assert report.files == 10
    assert len(report.kept) == 7
    assert set(report.skipped) == {"waltz", "short", "broken"}
    assert report.reasons() == {"UnsupportedMeterError": 1, "too short": 1, "MidiFileError": 1}
    assert "3/4" in report.skipped["waltz"]
    cache = load_cache(out)
    assert cache.meta["source"] == "MIDI folder songs"
    assert sorted(s.split for s in cache.songs).count("valid") == 1  # round(0.2 x 7)
    for song in cache.songs:
        assert song.n_bars == BARS
        counts = [int(np.sum(song.notes[:, 0] == t)) for t in range(3)]
        assert counts == [4 * BARS, 0, 3 * BARS], song.song_id  # melody, no bridge, chords
        assert not np.any(song.notes[:, 1] == 36)  # drums ignored
        assert np.all(song.notes[song.notes[:, 0] == 0, 1] >= 72)
        labels = [cache.chord_vocab[i] for i in song.chords[:, 2]]
        assert labels[:2] == ["C:maj", "A:min"]
        assert song.chords[0, :2].tolist() == [0, 16]  # two half bars merged
        assert song.keys.tolist() == [[0, 0, 0]]  # C major
        assert len(song.phrases) == 0
    chords = parse_vocab(cache.chord_vocab)
    sampler = WindowSampler([densify(s, chords) for s in cache.split("train")], window_bars=8)
    assert sampler.batch(2).x0.shape[0] == 2


def test_track_map_overrides_names(folder: Path, tmp_path: Path) -> None:
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"tracks": {"lead": "bridge"},
                                   "files": {"named 0.mid": {"2": "ignore"}}}))
    report = build_midi_cache(folder, tmp_path / "m.npz", track_map=read_track_map(mapping))
    cache = load_cache(tmp_path / "m.npz")
    songs = {s.song_id: s for s in cache.songs}
    assert report.no_melody == 6  # the leads are bridges now; the type-0 file has no names
    assert np.sum(songs["named 1"].notes[:, 0] == 1) == 4 * BARS
    assert np.sum(songs["named 0"].notes[:, 0] == 1) == 4 * BARS
    assert np.sum(songs["named 0"].notes[:, 0] == 2) == 0  # track 2 (Keys) ignored there
    assert np.sum(songs["sub/plain"].notes[:, 0] == 0) == 4 * BARS  # heuristic still


def test_a_named_melody_wins_over_the_heuristic() -> None:
    low_line = Part(0, 0, "Vocal", tuple(Note(4 * i, 50, 4) for i in range(20)))
    high_line = Part(1, 1, "Flute", tuple(Note(4 * i, 90, 4) for i in range(20)))
    chords = Part(2, 2, "Piano", tuple(Note(16 * i, p, 16) for i in range(5) for p in C_MAJOR))
    assert assign_roles([low_line, high_line, chords]) == [0, 2, 2]
    assert assign_roles([high_line, chords]) == [0, 2]  # no name says: the highest line
    assert assign_roles([chords]) == [2]  # nothing monophonic: no melody


def test_track_map_errors_are_precise(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"tracks": {"lead": "drums"}}))
    with pytest.raises(InputError, match="'drums' is not one of"):
        read_track_map(bad)
    bad.write_text(json.dumps({"track": {}}))
    with pytest.raises(InputError, match="expected an object"):
        read_track_map(bad)


def test_no_usable_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no usable MIDI file"):
        build_midi_cache(tmp_path, tmp_path / "x.npz")


def test_the_command_prints_what_it_kept_and_skipped(folder: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from diffjam.cli import main

    assert main(["cache", "--midi", str(folder)]) == 2  # never over the POP909 cache
    assert "--midi needs --out" in capsys.readouterr().err
    assert main(["cache", "--midi", str(folder), "--out", str(tmp_path / "c.npz")]) == 0
    out = capsys.readouterr().out
    assert "files kept: 7 of 10 (6 train, 1 valid)" in out
    assert "files skipped: 3 (1 MidiFileError, 1 UnsupportedMeterError, 1 too short)" in out
    assert "waltz: UnsupportedMeterError: waltz.mid is in 3/4" in out


def test_eval_scores_the_held_out_songs_of_an_own_folder(folder: Path, tmp_path: Path) -> None:
    import json

    from diffjam.cli import main

    cache = tmp_path / "mine.npz"
    build_midi_cache(folder, cache, valid_share=0.5)
    out = tmp_path / "eval.json"
    code = main(["eval", "--songs-cache", str(cache), "--subset", "valid", "--task", "infill",
                 "--window-bars", "8", "--gap-bars", "2", "--systems",
                 "ground_truth,copy_previous", "--bootstrap", "0", "--out", str(out)])
    assert code == 0
    report = json.loads(out.read_text())
    assert set(report["systems"]) == {"ground_truth", "copy_previous"}
    assert report["systems"]["ground_truth"]["note_f1"] == 1.0
    assert report["config"]["songs_cache"] == str(cache)
