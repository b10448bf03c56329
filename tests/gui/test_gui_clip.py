"""Reading a MIDI file into a clip in beats, and writing results."""

from __future__ import annotations

import math
import random
from pathlib import Path

import mido
import pytest

import smf
from gui.clip import Clip, ClipNote, MidiClipError, read_clip, result_file, write_clip
from tests.smf.humanised import assert_only_replaced_notes_changed, random_file


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
    with pytest.raises(MidiClipError, match="waltz.mid is in 3/4 from the start: diffjam "
                                            "reads 4/4"):
        read_clip(tmp_path / "waltz.mid")


def test_pop909_files_in_2_4_open_in_4_4_bars_with_their_tracks(data_dir: Path) -> None:
    clip = read_clip(data_dir / "pop909" / "001" / "001.mid")
    assert [t.name for t in clip.tracks] == ["track 1", "MELODY", "BRIDGE", "PIANO"]
    assert len(clip.notes) == sum(len(t.notes) for t in clip.tracks)
    assert clip.notes_of(1) == clip.tracks[1].notes and len(clip.notes_of(1)) == 264
    assert clip.n_bars == math.ceil(max(n.end for n in clip.notes) / 4)


@pytest.mark.parametrize("first_seed", [2000, 2025])
def test_an_infill_saved_from_the_panel_keeps_every_other_event(
        tmp_path: Path, first_seed: int) -> None:
    """50 humanised multi-track files: a result in beats (as the engine sends it, the
    whole clip) written back into the opened file for a picked track or all tracks."""
    for seed in range(first_seed, first_seed + 25):
        gen = random_file(seed)
        path = tmp_path / f"{seed}.mid"
        gen.midi.save(path)
        clip = read_clip(path)
        rng = random.Random(seed)
        first = rng.randint(1, clip.n_bars)
        bars = (first, rng.randint(first, clip.n_bars))
        with_notes = [i for i, t in enumerate(clip.tracks) if t.notes]
        track = rng.choice([None, *with_notes])
        result = [ClipNote(rng.randrange(clip.n_bars * 16) / 4, rng.randint(1, 16) / 4,
                           rng.randrange(128), rng.randint(1, 127)) for _ in range(40)]
        written = result_file(clip, "infill", result, bars=bars, track=track)
        tpb = gen.midi.ticks_per_beat
        tracks = set(with_notes) if track is None else {track}
        into = track if track is not None else max(
            with_notes, key=lambda i: (len(clip.tracks[i].notes), -i))
        channel = smf.main_channel(smf.track_notes(gen.midi.tracks[into]))
        assert_only_replaced_notes_changed(
            gen, written, tracks=tracks, start=(bars[0] - 1) * 4 * tpb,
            stop=bars[1] * 4 * tpb, into=into, channel=channel)


def test_an_accompaniment_saved_from_the_panel_is_the_file_plus_a_track(
        tmp_path: Path) -> None:
    gen = random_file(5)
    gen.midi.save(tmp_path / "in.mid")
    written = result_file(read_clip(tmp_path / "in.mid"), "accompany",
                          [ClipNote(0.0, 1.0, 48, 70)])
    assert len(written.tracks) == len(gen.midi.tracks) + 1
    assert written.tracks[-1].name == "diffjam accompaniment"
    assert result_file(read_clip(tmp_path / "in.mid"), "generate", []) is None
    assert result_file(Clip(notes=(), n_bars=1), "infill", [], bars=(1, 1)) is None


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
