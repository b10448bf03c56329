from __future__ import annotations

import random
from collections import Counter

import mido
import pytest

from smf import (
    DRUM_CHANNEL,
    NewNote,
    absolute_ticks,
    add_track,
    apply_groove,
    groove_offsets,
    splice_notes,
    track_notes,
)
from tests.smf.humanised import (
    Generated,
    assert_only_replaced_notes_changed,
    random_file,
    reread,
    timed,
)


def check_splice(gen: Generated, tracks, start, stop, into, channel, notes) -> None:
    done = splice_notes(gen.midi, tracks=tracks, start=start, stop=stop, notes=notes,
                        into=into, channel=channel)
    added, removed = assert_only_replaced_notes_changed(
        gen, done.midi, tracks=tracks, start=start, stop=stop, into=into, channel=channel)
    assert done.removed == removed and done.added == len(added)
    asked = Counter((n.start, n.pitch, n.velocity) for n in notes)
    assert all(asked[(a, pitch, velocity)] > 0 for a, _b, pitch, velocity in added)
    assert done.left_out + len(added) <= len(notes)


def random_request(gen: Generated, rng: random.Random):
    """Bars, tracks to replace, the track and channel to write, and new notes in ticks:
    some on keys the kept notes hold, so rule 3b is exercised."""
    bar = 4 * gen.midi.ticks_per_beat
    first = rng.randrange(gen.n_bars)
    last = rng.randrange(first, gen.n_bars)
    start, stop = first * bar, (last + 1) * bar
    candidates = [t for t, c in enumerate(gen.channels) if c is not None]
    tracks = set(rng.sample(candidates, rng.randint(1, len(candidates))))
    into = rng.choice(sorted(tracks))
    channel = gen.channels[into] if gen.channels[into] != DRUM_CHANNEL else 0
    held = [n.pitch for t in range(len(gen.notes_of)) for n, _, _ in gen.notes_of[t]]
    notes = []
    for _ in range(rng.randint(0, 30)):
        a = rng.randrange(start, stop)
        b = rng.randint(a + 1, stop)
        pitch = rng.choice(held) if held and rng.random() < 0.5 else rng.randrange(128)
        notes.append(NewNote(a, b, pitch, rng.randint(1, 127)))
    return tracks, start, stop, into, channel, notes


@pytest.mark.parametrize("first_seed", range(0, 100, 25))
def test_no_event_outside_the_replaced_notes_changes_on_100_humanised_files(
        first_seed: int) -> None:
    """The issue's acceptance test: 100 random humanised multi-track files (in four
    batches of 25 seeds), a random bar range, random tracks and random new notes."""
    for seed in range(first_seed, first_seed + 25):
        gen = random_file(seed)
        tracks, start, stop, into, channel, notes = random_request(gen, random.Random(seed))
        check_splice(gen, tracks, start, stop, into, channel, notes)


def file_with(*events: tuple[int, mido.Message], tpb: int = 480,
              name: str = "piano") -> mido.MidiFile:
    midi = mido.MidiFile(type=1, ticks_per_beat=tpb)
    track = mido.MidiTrack([mido.MetaMessage("track_name", name=name, time=0)])
    now = 0
    for tick, msg in sorted(events, key=lambda e: e[0]):
        track.append(msg.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    midi.tracks.append(track)
    return midi


def on(pitch: int, velocity: int = 90, channel: int = 0) -> mido.Message:
    return mido.Message("note_on", note=pitch, velocity=velocity, channel=channel)


def off(pitch: int, channel: int = 0) -> mido.Message:
    return mido.Message("note_off", note=pitch, velocity=0, channel=channel)


def spans(midi: mido.MidiFile, track: int = 0) -> list[tuple[int, int, int, int]]:
    return [(n.start, n.end, n.pitch, n.velocity) for n in track_notes(midi.tracks[track])]


BAR = 1920


def test_only_notes_starting_in_the_range_are_replaced() -> None:
    midi = file_with(
        (0, on(60)), (BAR + 100, off(60)),  # held into bar 2: kept
        (BAR + 10, on(62)), (2 * BAR + 50, off(62)),  # starts in bar 2, ends after: removed
        (BAR + 20, on(36, channel=DRUM_CHANNEL)), (BAR + 40, off(36, channel=DRUM_CHANNEL)),
        (BAR, mido.Message("control_change", control=64, value=127)),
        (2 * BAR - 1, mido.Message("control_change", control=64, value=0)),
        (2 * BAR, on(64)), (2 * BAR + 10, off(64)),  # bar 3: kept
    )
    done = splice_notes(midi, tracks={0}, start=BAR, stop=2 * BAR, into=0, channel=0,
                        notes=[NewNote(BAR + 480, BAR + 960, 67, 70)])
    assert spans(done.midi) == [(0, BAR + 100, 60, 90), (BAR + 20, BAR + 40, 36, 90),
                                (BAR + 480, BAR + 960, 67, 70), (2 * BAR, 2 * BAR + 10, 64, 90)]
    pedal = [(tick, m.value) for tick, m in timed(done.midi.tracks[0]) if m.type ==
             "control_change"]
    assert pedal == [(BAR, 127), (2 * BAR - 1, 0)]
    assert (done.removed, done.added, done.left_out, done.shortened) == (1, 1, 0, 0)
    assert spans(midi)[1] == (BAR + 10, 2 * BAR + 50, 62, 90)  # the input is unchanged


def test_new_notes_never_sound_with_a_kept_note_of_the_same_key() -> None:
    midi = file_with((0, on(60)), (BAR + 480, off(60)), (2 * BAR, on(62)),
                     (2 * BAR + 100, off(62)))
    done = splice_notes(midi, tracks={0}, start=BAR, stop=2 * BAR, into=0, channel=0, notes=[
        NewNote(BAR, BAR + 240, 60, 80),  # while the kept 60 sounds: left out
        NewNote(BAR + 480, BAR + 960, 60, 80),  # starts as it ends: fine
        NewNote(BAR + 960, 2 * BAR, 62, 80),  # touches the next bar's 62: fine
        NewNote(BAR + 100, BAR + 300, 61, 80), NewNote(BAR + 200, BAR + 400, 61, 81),  # 3a
    ])
    assert (done.left_out, done.shortened) == (1, 0)
    assert spans(done.midi) == [(0, BAR + 480, 60, 90), (BAR + 100, BAR + 200, 61, 80),
                                (BAR + 200, BAR + 400, 61, 81), (BAR + 480, BAR + 960, 60, 80),
                                (BAR + 960, 2 * BAR, 62, 80), (2 * BAR, 2 * BAR + 100, 62, 90)]


def test_a_kept_note_of_another_track_on_the_same_channel_cuts_a_new_one() -> None:
    midi = file_with((0, on(50)), (100, off(50)))
    other = mido.MidiTrack([mido.MetaMessage("track_name", name="pad"),
                            on(70).copy(time=BAR + 500), off(70).copy(time=100)])
    midi.tracks.append(other)
    done = splice_notes(midi, tracks={0}, start=BAR, stop=2 * BAR, into=0, channel=0,
                        notes=[NewNote(BAR, BAR + 900, 70, 64)])
    assert done.shortened == 1
    assert spans(done.midi)[-1] == (BAR, BAR + 500, 70, 64)


def test_equal_ticks_new_offs_before_kept_events_new_ons_after() -> None:
    midi = file_with((0, on(60)), (BAR, off(60)), (2 * BAR, on(62)), (2 * BAR + 5, off(62)))
    done = splice_notes(midi, tracks={0}, start=BAR, stop=2 * BAR, into=0, channel=0,
                        notes=[NewNote(BAR, 2 * BAR, 60, 80), NewNote(BAR, 2 * BAR, 62, 80)])
    events = [(tick, m.type, m.note) for tick, m in timed(done.midi.tracks[0])
              if m.type.startswith("note")]
    assert events == [(0, "note_on", 60), (BAR, "note_off", 60), (BAR, "note_on", 60),
                      (BAR, "note_on", 62), (2 * BAR, "note_off", 60),
                      (2 * BAR, "note_off", 62), (2 * BAR, "note_on", 62),
                      (2 * BAR + 5, "note_off", 62)]


def test_note_offs_follow_the_track_style_and_the_end_of_track_moves_if_needed() -> None:
    midi = file_with((0, on(60)), (100, on(60, velocity=0)))
    done = splice_notes(midi, tracks={0}, start=BAR, stop=2 * BAR, into=0, channel=0,
                        notes=[NewNote(BAR, BAR + 50, 64, 80)])
    track = done.midi.tracks[0]
    assert [m.type for m in track if m.type.startswith("note")] == ["note_on"] * 4
    assert track[-1].type == "end_of_track" and absolute_ticks(track)[-1] == BAR + 50


def test_new_notes_outside_the_range_and_bad_arguments_are_errors() -> None:
    midi = file_with((0, on(60)), (100, off(60)))
    with pytest.raises(ValueError, match="outside"):
        splice_notes(midi, tracks={0}, start=BAR, stop=2 * BAR, into=0, channel=0,
                     notes=[NewNote(BAR - 1, BAR + 10, 60, 80)])
    with pytest.raises(ValueError, match="track 3"):
        splice_notes(midi, tracks={0}, start=0, stop=BAR, into=3, channel=0, notes=[])
    with pytest.raises(ValueError, match="start < end"):
        NewNote(10, 10, 60, 80)
    with pytest.raises(ValueError, match="velocity"):
        NewNote(10, 20, 60, 0)


def test_add_track_keeps_the_file_and_makes_format_0_format_1() -> None:
    midi = mido.MidiFile(type=0, ticks_per_beat=96)
    midi.tracks.append(mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=600000),
                                       on(72).copy(time=10), off(72).copy(time=20)]))
    out = reread(add_track(midi, name="acc", notes=[NewNote(0, 48, 48, 70)], channel=3))
    assert out.type == 1 and out.ticks_per_beat == 96 and len(out.tracks) == 2
    assert timed(out.tracks[0]) == timed(midi.tracks[0]) + [
        (30, mido.MetaMessage("end_of_track"))]
    assert out.tracks[1].name == "acc"
    assert [(n.start, n.end, n.pitch, n.channel) for n in track_notes(out.tracks[1])] == [
        (0, 48, 48, 3)]


def test_groove_takes_the_median_offset_per_sixteenth_of_the_beat() -> None:
    tpb = 480
    notes = track_notes(file_with(*[e for beat in range(8) for e in (
        (beat * tpb + 10, on(60)), (beat * tpb + 100, off(60)),  # on the beat, 10 late
        (beat * tpb + 240 + 30, on(62)), (beat * tpb + 300, off(62)),  # 8th off-beat, 30 late
    )]).tracks[0])
    offsets = groove_offsets(notes, ticks_per_beat=tpb)
    assert offsets == (10, 0, 30, 0)
    moved = apply_groove([NewNote(0, 120, 60, 80), NewNote(240, 360, 62, 80),
                          NewNote(1800, 1920, 64, 80)], offsets, ticks_per_beat=tpb,
                         start=0, stop=1920)
    assert [(n.start, n.end) for n in moved] == [(10, 130), (270, 390), (1800, 1920)]
