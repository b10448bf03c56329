"""Reading a MIDI file into a clip in beats, and writing results."""

from __future__ import annotations

from pathlib import Path

import mido
import pytest

from gui.clip import ClipNote, MidiClipError, read_clip, write_clip


def test_round_trip(tmp_path: Path) -> None:
    notes = [ClipNote(0.0, 1.0, 60, 100), ClipNote(0.5, 0.25, 64, 70),
             ClipNote(9.0, 3.0, 48, 1)]  # fmt: skip
    path = tmp_path / "out.mid"
    write_clip(path, notes, tempo=96.0)
    clip = read_clip(path)
    assert clip.notes == tuple(sorted(notes))
    assert clip.n_bars == 3  # the last note ends on beat 12
    assert clip.tempo == 96.0
    assert clip.name == "out.mid"


def test_reads_any_ticks_per_beat_and_running_notes(tmp_path: Path) -> None:
    midi = mido.MidiFile(ticks_per_beat=96)
    track = mido.MidiTrack()
    track += [
        mido.Message("note_on", note=60, velocity=90, time=0),
        mido.Message("note_on", note=60, velocity=80, time=48),  # same pitch again
        mido.Message("note_on", note=60, velocity=0, time=48),  # velocity 0 = note off
        mido.Message("note_off", note=60, time=96),
        mido.Message("note_on", note=67, velocity=50, time=0),  # never released
        mido.Message("note_on", note=40, velocity=50, time=96),
        mido.Message("note_off", note=40, time=24),
    ]
    midi.tracks.append(track)
    path = tmp_path / "in.mid"
    midi.save(path)
    clip = read_clip(path)
    assert clip.notes == (
        ClipNote(0.0, 1.0, 60, 90),  # first in, first out
        ClipNote(0.5, 1.5, 60, 80),
        ClipNote(2.0, 1.25, 67, 50),  # ends on the track's last tick
        ClipNote(3.0, 0.25, 40, 50),
    )
    assert clip.n_bars == 1


def test_rejects_other_meters(tmp_path: Path) -> None:
    midi = mido.MidiFile()
    midi.tracks.append(mido.MidiTrack([
        mido.MetaMessage("time_signature", numerator=3, denominator=4),
        mido.Message("note_on", note=60, velocity=90), mido.Message("note_off", note=60, time=480),
    ]))  # fmt: skip
    midi.save(tmp_path / "waltz.mid")
    with pytest.raises(MidiClipError, match="waltz.mid is in 3/4; only 4/4 is supported"):
        read_clip(tmp_path / "waltz.mid")


def test_rejects_empty_and_unreadable_files(tmp_path: Path) -> None:
    midi = mido.MidiFile()
    midi.tracks.append(mido.MidiTrack())
    midi.save(tmp_path / "empty.mid")
    with pytest.raises(MidiClipError, match="empty.mid holds no notes"):
        read_clip(tmp_path / "empty.mid")
    (tmp_path / "junk.mid").write_bytes(b"not midi at all")
    with pytest.raises(MidiClipError, match="cannot read .*junk.mid"):
        read_clip(tmp_path / "junk.mid")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"start": -1.0}, "negative"),
        ({"duration": 0.0}, "not positive"),
        ({"pitch": 128}, "outside 0..127"),
        ({"velocity": 0}, "outside 1..127"),
    ],
)
def test_note_validation(kwargs: dict, match: str) -> None:
    values = {"start": 0.0, "duration": 1.0, "pitch": 60, "velocity": 80} | kwargs
    with pytest.raises(ValueError, match=match):
        ClipNote(**values)
