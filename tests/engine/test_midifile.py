from __future__ import annotations

from pathlib import Path

import mido
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.midifile import (
    MidiFileError,
    TempoMap,
    quantize,
    quantize_beat,
    read_midi,
    write_midi,
)
from engine.pianoroll import Note, TimeSignature


@st.composite
def parts(draw: st.DrawFn) -> list[Note]:
    """Notes on the grid, never overlapping at one pitch."""
    notes = []
    for pitch in draw(st.sets(st.integers(0, 127), max_size=5)):
        cuts = sorted(draw(st.sets(st.integers(0, 200), min_size=2, max_size=8)))
        for start, stop in zip(cuts[::2], cuts[1::2], strict=False):
            notes.append(Note(start, pitch, stop - start, draw(st.integers(1, 127))))
    return sorted(notes)


def to_steps(contents, name: str) -> list[Note]:
    out = []
    for n in contents.track(name).notes:
        start, duration = quantize(n.start_beat, n.end_beat)
        out.append(Note(start, n.pitch, duration, n.velocity))
    return sorted(out)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    melody=parts(),
    piano=parts(),
    ticks_per_beat=st.sampled_from([96, 120, 384, 480, 960, 1000]),
    bpm=st.sampled_from([60.0, 87.5, 120.0, 174.0]),
)
def test_notes_file_notes_round_trip(
    tmp_path: Path, melody: list[Note], piano: list[Note], ticks_per_beat: int, bpm: float
) -> None:
    path = tmp_path / "clip.mid"
    write_midi(path, [("MELODY", melody), ("PIANO", piano)], bpm=bpm,
               ticks_per_beat=ticks_per_beat)
    contents = read_midi(path)
    assert contents.ticks_per_beat == ticks_per_beat
    assert [t.name for t in contents.tracks][1:] == ["MELODY", "PIANO"]
    assert to_steps(contents, "MELODY") == melody
    assert to_steps(contents, "piano") == piano
    seconds_per_beat = mido.bpm2tempo(bpm) / 1e6  # the file stores whole microseconds
    assert seconds_per_beat == pytest.approx(60.0 / bpm, rel=1e-5)
    for note in contents.track("MELODY").notes:
        assert note.start_seconds == pytest.approx(note.start_beat * seconds_per_beat)


def test_written_file_is_format_1_with_tempo_and_meter(tmp_path: Path) -> None:
    path = tmp_path / "clip.mid"
    write_midi(path, [("PIANO", [Note(0, 60, 4)])], bpm=90.0, time_signature=TimeSignature())
    midi = mido.MidiFile(path)
    assert midi.type == 1 and midi.ticks_per_beat == 480
    contents = read_midi(path)
    assert contents.meters[0].numerator == 4 and contents.meters[0].denominator == 4
    assert contents.tempo_map.changes == [(0, mido.bpm2tempo(90.0))]


def write_raw(path: Path, events: list[mido.Message], *, tpb: int = 480,
              conductor: list[mido.MetaMessage] = ()) -> None:
    midi = mido.MidiFile(type=1, ticks_per_beat=tpb)
    midi.tracks.append(mido.MidiTrack(list(conductor)))
    track = mido.MidiTrack([mido.MetaMessage("track_name", name="LEAD", time=0), *events])
    midi.tracks.append(track)
    midi.save(path)


def test_tempo_changes_map_ticks_to_seconds(tmp_path: Path) -> None:
    path = tmp_path / "tempo.mid"
    conductor = [
        mido.MetaMessage("set_tempo", tempo=500_000, time=0),  # 120 BPM
        mido.MetaMessage("set_tempo", tempo=1_000_000, time=960),  # 60 BPM from beat 2
    ]
    events = [
        mido.Message("note_on", note=60, velocity=100, time=480),
        mido.Message("note_off", note=60, time=960),  # beat 1 .. beat 3
    ]
    write_raw(path, events, conductor=conductor)
    (note,) = read_midi(path).track("LEAD").notes
    assert (note.start_beat, note.end_beat) == (1.0, 3.0)
    assert note.start_seconds == pytest.approx(0.5)
    assert note.end_seconds == pytest.approx(1.0 + 1.0)


def test_velocity_zero_note_on_is_note_off_and_overlaps_close_fifo(tmp_path: Path) -> None:
    path = tmp_path / "fifo.mid"
    events = [
        mido.Message("note_on", note=60, velocity=90, time=0),
        mido.Message("note_on", note=60, velocity=50, time=240),  # re-struck while held
        mido.Message("note_on", note=60, velocity=0, time=240),  # closes the first
        mido.Message("note_off", note=60, time=480),  # closes the second
        mido.Message("note_on", note=62, velocity=70, time=0),  # never closed
        mido.Message("note_on", note=64, velocity=0, time=120),  # stray off: ignored
    ]
    write_raw(path, events)
    notes = read_midi(path).track("LEAD").notes
    spans = [(n.pitch, n.velocity, n.start_beat, n.end_beat) for n in notes]
    assert spans == [(60, 90, 0.0, 1.0), (60, 50, 0.5, 2.0), (62, 70, 2.0, 2.25)]


@pytest.mark.parametrize(
    ("beat", "step"),
    [(0.0, 0), (0.12, 0), (0.124, 0), (0.125, 1), (0.2, 1), (0.37, 1), (0.375, 2), (-0.2, -1)],
)
def test_quantize_beat_rounds_to_nearest_16th_ties_up(beat: float, step: int) -> None:
    assert quantize_beat(beat) == step


def test_quantize_keeps_notes_at_least_one_step() -> None:
    assert quantize(1.0, 1.05) == (4, 1)
    assert quantize(0.9, 2.1) == (4, 4)
    assert quantize(0.13, 0.37) == (1, 1)


def test_tempo_map_defaults_to_120_bpm() -> None:
    assert TempoMap([], ticks_per_beat=480).seconds(960) == pytest.approx(1.0)


def test_unreadable_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "bad.mid"
    path.write_bytes(b"not a midi file")
    with pytest.raises(MidiFileError, match="bad.mid"):
        read_midi(path)


def test_write_validates_options(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="bpm"):
        write_midi(tmp_path / "x.mid", [], bpm=0.0)
    with pytest.raises(ValueError, match="ticks_per_beat"):
        write_midi(tmp_path / "x.mid", [], ticks_per_beat=0)


def test_reads_pop909_file_tracks(data_dir: Path) -> None:
    contents = read_midi(data_dir / "pop909" / "001" / "001.mid")
    assert contents.ticks_per_beat == 480
    assert [t.name for t in contents.tracks[1:]] == ["MELODY", "BRIDGE", "PIANO"]
    assert len(contents.track("MELODY").notes) == 264
    assert contents.meters[0].numerator == 2  # written as 2/4: not to be trusted
