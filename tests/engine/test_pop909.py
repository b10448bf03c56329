from __future__ import annotations

from pathlib import Path

import mido
import numpy as np
import pytest

from engine.errors import UnsupportedMeterError
from engine.pianoroll import Note
from engine.pop909 import (
    BeatGrid,
    ChordLabel,
    KeyChange,
    Pop909Error,
    align_phrases,
    load_song,
    parse_phrase_label,
    read_beat_grid,
    read_split_file,
)

# Beats stretch from 0.5 s to 0.6 s after beat 2; bar 0 (column 3) starts at beat 2 (1.0 s).
BEAT_TIMES = [0.0, 0.5, 1.0, 1.6, 2.2, 2.8, 3.4, 4.0, 4.6, 5.2]


def write_beats(path: Path, times: list[float], *, unit: int = 2, bar0: int = 2) -> None:
    rows = []
    for i, t in enumerate(times):
        col2 = 1.0 if i % unit == 0 else 0.0
        col3 = 1.0 if i >= bar0 and (i - bar0) % (2 * unit) == 0 else 0.0
        rows.append(f"{t} {col2} {col3}")
    path.write_text("\n".join(rows) + "\n")


def seconds_note(start: float, end: float, pitch: int, velocity: int = 90) -> list[mido.Message]:
    """Messages (absolute ticks in .time) of a note; the file runs at 120 BPM, 480 tpb."""
    return [
        mido.Message("note_on", note=pitch, velocity=velocity, time=round(start * 960)),
        mido.Message("note_off", note=pitch, time=round(end * 960)),
    ]


@pytest.fixture
def song_dir(tmp_path: Path) -> Path:
    """A tiny synthetic POP909 layout: data/pop909/777."""
    folder = tmp_path / "data" / "pop909" / "777"
    folder.mkdir(parents=True)
    write_beats(folder / "beat_midi.txt", BEAT_TIMES)
    (folder / "chord_midi.txt").write_text("1.0\t2.2\tC:maj\n2.2\t6.3\tA:min\n")
    (folder / "key_audio.txt").write_text("0.9\t3.0\tC:maj\n3.0\t6.0\tA:min")
    messages = (
        seconds_note(0.5, 0.9, 60)  # before bar 0: dropped
        + seconds_note(1.3, 2.2, 64)  # beat 2.5 .. 4 -> steps 2 .. 8
        + seconds_note(6.0, 6.3, 67)  # after the last beat: extrapolated
    )
    messages.sort(key=lambda m: m.time)
    midi = mido.MidiFile(type=1, ticks_per_beat=480)
    midi.tracks.append(mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500_000)]))
    track = mido.MidiTrack([mido.MetaMessage("track_name", name="MELODY")])
    now = 0
    for msg in messages:
        track.append(msg.copy(time=msg.time - now))
        now = msg.time
    midi.tracks.append(track)
    midi.tracks.append(mido.MidiTrack([mido.MetaMessage("track_name", name="BRIDGE")]))
    midi.save(folder / "777.mid")
    return tmp_path / "data"


def test_grid_interpolates_and_extrapolates() -> None:
    grid = BeatGrid(times=np.array(BEAT_TIMES), bar0_beat=2)
    np.testing.assert_allclose(
        grid.beat_index(np.array([-0.25, 0.0, 1.3, 3.1, 5.2, 6.0])),
        [-0.5, 0.0, 2.5, 5.5, 9.0, 9 + 0.8 / 0.6],
    )
    np.testing.assert_allclose(grid.steps(np.array([1.0, 1.3])), [0.0, 2.0])


def test_read_beat_grid_starts_bar_0_at_first_column_3_downbeat(tmp_path: Path) -> None:
    path = tmp_path / "beat_midi.txt"
    write_beats(path, BEAT_TIMES, bar0=2)
    grid = read_beat_grid(path)
    assert grid.bar0_beat == 2
    np.testing.assert_allclose(grid.times, BEAT_TIMES)


def test_triple_meter_grid_is_rejected_without_index(tmp_path: Path) -> None:
    path = tmp_path / "beat_midi.txt"
    write_beats(path, [0.5 * i for i in range(24)], unit=3, bar0=0)
    with pytest.raises(UnsupportedMeterError, match="3/4"):
        read_beat_grid(path)


def test_triple_meter_song_034_is_rejected(data_dir: Path) -> None:
    with pytest.raises(UnsupportedMeterError, match=r"Song 034.*3/4"):
        load_song(data_dir, "034", beats_per_measure=3)
    with pytest.raises(UnsupportedMeterError, match="3/4"):  # from the beat file alone
        load_song(data_dir, "034")


def test_synthetic_song_on_the_grid(song_dir: Path) -> None:
    song = load_song(song_dir, "777")
    melody, bridge, piano = song.tracks
    assert melody == (Note(2, 64, 6, 90), Note(33, 67, 2, 90))
    assert bridge == () and piano == ()
    assert song.n_bars == 3
    assert song.chords == (ChordLabel(0, 8, "C:maj"), ChordLabel(8, 35, "A:min"))
    assert song.keys == (KeyChange(0, 0, 0), KeyChange(16, 9, 1))
    assert song.phrases == ()
    report = song.report
    assert report.n_notes == 2
    assert report.dropped_before_bar0 == 1
    assert report.onset_shift_over_64th == 1  # 33.33 -> 33 moved a third of a step
    assert report.onset_shift_mean == pytest.approx((0.0 + 1 / 3) / 2)
    assert report.phrase is None


def test_missing_song_folder_is_named(song_dir: Path) -> None:
    with pytest.raises(Pop909Error, match="778"):
        load_song(song_dir, "778")


def test_real_song_001(data_dir: Path) -> None:
    song = load_song(data_dir, "001", beats_per_measure=2)
    assert song.n_bars == 73
    assert [len(t) for t in song.tracks] == [264, 307, 985]
    assert song.chords[:5] == (
        *(ChordLabel(4 * i, 4 * i + 4, "N") for i in range(4)),
        ChordLabel(16, 24, "B:maj"),
    )
    assert song.keys == (KeyChange(0, 6, 0),)  # Gb major
    assert song.report.phrase is not None
    assert song.report.phrase.aligned
    assert song.report.phrase.beat_offset == 4  # the 4 "N" beats the trimmed files drop
    assert [(p.start_bar, p.n_bars, p.letter) for p in song.phrases[:3]] == [
        (1, 4, "i"), (5, 4, "A"), (9, 8, "B"),
    ]
    ends = [p.start_bar + p.n_bars for p in song.phrases]
    assert ends == sorted(ends) and ends[-1] <= song.n_bars


def test_align_phrases_finds_bar_and_beat_offsets() -> None:
    rng = np.random.default_rng(0)
    midi = rng.integers(0, 12, size=200)
    fin = midi[10:150].copy()
    fin[:4] = -1  # N beats do not count
    found = align_phrases(fin, midi, bar0_beat=2)
    assert (found.beat_offset, found.bar_offset, found.match_rate) == (8, 2, 1.0)
    assert found.aligned
    off_bar = align_phrases(midi[4:150], midi, bar0_beat=2)  # starts 2 beats into bar 0
    assert (off_bar.beat_offset, off_bar.bar_offset) == (2, 0)
    unrelated = align_phrases(rng.integers(0, 12, size=140), midi, bar0_beat=0)
    assert not unrelated.aligned and unrelated.match_rate < 0.3


def test_parse_phrase_label() -> None:
    assert parse_phrase_label("i4A4B8o3\n") == [("i", 4), ("A", 4), ("B", 8), ("o", 3)]
    with pytest.raises(Pop909Error, match="malformed"):
        parse_phrase_label("i4A?")


def test_read_split_file(tmp_path: Path) -> None:
    path = tmp_path / "split.txt"
    path.write_text("train 001 2 003\nvalid 004\n")
    assert read_split_file(path) == {"001": "train", "002": "train", "003": "train",
                                     "004": "valid"}
    path.write_text("train 001\nvalid 001\n")
    with pytest.raises(Pop909Error, match="already in split 'train'"):
        read_split_file(path)
