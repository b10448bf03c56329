"""Random humanised multi-track MIDI files, as a producer's played-in clip would be:
notes off the grid with every velocity, notes held across bar lines and re-struck while
held, a drum track, sustain pedal, volume and expression automation, pitch bend,
aftertouch, program changes, sysex, a tempo map, markers, several time signatures that
read as 4/4, either note-off style, notes left open at the end, format 0 or 1.

Every generated message carries a tag in :attr:`Generated.notes_of`: for each track, the
message indices of each note (on, off), so a test can say which events a splice may
touch without using the code under test to pair them.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass

import mido

from smf import absolute_ticks, track_notes

DRUMS = 9


@dataclass(frozen=True)
class PlannedNote:
    track: int
    start: int
    end: int | None  # None: left open at the end of its track
    pitch: int
    velocity: int
    channel: int


@dataclass
class Generated:
    midi: mido.MidiFile
    n_bars: int
    # per track: the notes, each with the indices of its note-on and note-off messages
    notes_of: list[list[tuple[PlannedNote, int, int | None]]]
    channels: list[int | None]  # per track: its channel (None: no notes)


def random_file(seed: int, *, max_tracks: int = 4) -> Generated:
    rng = random.Random(seed)
    tpb = rng.choice([96, 120, 192, 384, 480, 960, 1000])
    bar = 4 * tpb
    n_bars = rng.randint(4, 12)
    fmt = 0 if rng.random() < 0.15 else 1
    n_parts = rng.randint(1, max_tracks)
    channels = rng.sample([c for c in range(16) if c != DRUMS], n_parts)
    if n_parts > 1 and rng.random() < 0.3:
        channels[-1] = DRUMS

    # (tick, order, message, note key) per track; note key = (planned index) or None
    tracks: list[list[tuple[int, float, mido.Message, tuple[int, str] | None]]] = []
    conductor: list = [(0, -2.0, mido.MetaMessage("track_name", name="tempo map"), None)]
    meter = rng.choice([(4, 4), (2, 4), (1, 4), None, (2, 2)])
    if meter:
        conductor.append((0, -1.0, mido.MetaMessage("time_signature", numerator=meter[0],
                                                    denominator=meter[1]), None))
    conductor.append((0, -1.0, mido.MetaMessage("set_tempo",
                                                tempo=rng.randint(300_000, 900_000)), None))
    for _ in range(rng.randint(0, 4)):
        conductor.append((rng.randrange(n_bars * bar), rng.random(),
                          mido.MetaMessage("set_tempo", tempo=rng.randint(300_000, 900_000)),
                          None))
    for i in range(rng.randint(0, 3)):
        conductor.append((rng.randrange(n_bars * bar), rng.random(),
                          mido.MetaMessage("marker", text=f"section {i}"), None))
    if meter in ((4, 4), (2, 2)) and rng.random() < 0.3:
        conductor.append((bar * rng.randint(1, n_bars - 1), rng.random(),
                          mido.MetaMessage("time_signature", numerator=4, denominator=4), None))
    planned: list[list[PlannedNote]] = []
    for part, channel in enumerate(channels):
        events: list = [(0, -2.0, mido.MetaMessage("track_name", name=f"part {part}"), None),
                        (0, -1.0, mido.Message("program_change", channel=channel,
                                               program=rng.randrange(128)), None)]
        notes = _notes(rng, part + 1, channel, n_bars, tpb)
        planned.append(notes)
        off_style = rng.choice(["note_off", "note_on"])
        for k, note in enumerate(notes):
            events.append((note.start, rng.random(), mido.Message(
                "note_on", channel=channel, note=note.pitch, velocity=note.velocity),
                (k, "on")))
            if note.end is not None:
                msg = (mido.Message("note_off", channel=channel, note=note.pitch,
                                    velocity=rng.randrange(128))
                       if off_style == "note_off" else
                       mido.Message("note_on", channel=channel, note=note.pitch, velocity=0))
                events.append((note.end, rng.random(), msg, (k, "off")))
        events += _automation(rng, channel, n_bars * bar, tpb)
        tracks.append(events)

    if fmt == 0:
        merged = conductor + [e for t in tracks for e in t]
        layout = [merged]
        owner = [list(range(len(channels)))]
    else:
        layout = [conductor, *tracks]
        owner = [[], *[[p] for p in range(len(channels))]]
    midi = mido.MidiFile(type=fmt, ticks_per_beat=tpb)
    notes_of: list[list] = []
    track_channels: list[int | None] = []
    for events, parts in zip(layout, owner, strict=True):
        events.sort(key=lambda e: (e[0], e[1]))
        track = mido.MidiTrack()
        now = 0
        index: dict[tuple[int, int, str], int] = {}
        for i, (tick, _order, msg, key) in enumerate(events):
            track.append(msg.copy(time=tick - now))
            now = tick
            if key is not None:
                part = next(p for p in parts if msg.channel == channels[p])
                index[(part, *key)] = i
        track.append(mido.MetaMessage("end_of_track", time=rng.choice([0, 0, tpb])))
        midi.tracks.append(track)
        notes_of.append([(note, index[(p, k, "on")], index.get((p, k, "off")))
                         for p in parts for k, note in enumerate(planned[p])])
        track_channels.append(channels[parts[0]] if parts else None)
    return Generated(midi=midi, n_bars=n_bars, notes_of=notes_of, channels=track_channels)


def _notes(rng: random.Random, track: int, channel: int, n_bars: int, tpb: int
           ) -> list[PlannedNote]:
    """Humanised notes; at one pitch each note starts at or after the previous one and,
    if it starts while that one sounds (a re-strike), ends after it: the order of
    note-offs is the order of note-ons, so first-in first-out pairing finds them."""
    bar = 4 * tpb
    jitter = max(1, tpb // 12)
    last: dict[int, tuple[int, int]] = {}
    notes = []
    pitches = ([36, 38, 42, 46] if channel == DRUMS
               else rng.sample(range(30, 100), rng.randint(3, 12)))
    steps = sorted(rng.randrange(n_bars * 16) for _ in range(rng.randint(5, 12 * n_bars)))
    for step in steps:
        pitch = rng.choice(pitches)
        start = max(0, step * tpb // 4 + rng.randint(-jitter, jitter))
        length = rng.choice([tpb // 8, tpb // 4, tpb // 2, tpb, 2 * tpb, bar + tpb, 3 * bar])
        end = start + max(1, length + rng.randint(-jitter, jitter))
        if pitch in last:
            prev_start, prev_end = last[pitch]
            if start <= prev_start or (start < prev_end and end <= prev_end):
                continue
            if start < prev_end and rng.random() < 0.5:
                continue  # keep most same-key notes apart
        last[pitch] = (start, end)
        notes.append(PlannedNote(track, start, end, pitch, rng.randint(1, 127), channel))
    if notes and rng.random() < 0.2:
        note = max(notes, key=lambda n: n.start)
        notes[notes.index(note)] = PlannedNote(track, note.start, None, note.pitch,
                                               note.velocity, channel)
    notes.sort(key=lambda n: n.start)
    return notes


def _automation(rng: random.Random, channel: int, length: int, tpb: int) -> list:
    events = []
    down = False
    for tick in sorted(rng.sample(range(length), k=min(length, rng.randint(0, 12)))):
        down = not down
        events.append((tick, rng.random(), mido.Message(
            "control_change", channel=channel, control=64, value=127 if down else 0), None))
    for _ in range(rng.randint(0, 10)):
        events.append((rng.randrange(length), rng.random(), mido.Message(
            "control_change", channel=channel, control=rng.choice([1, 7, 11]),
            value=rng.randrange(128)), None))
    for _ in range(rng.randint(0, 8)):
        events.append((rng.randrange(length), rng.random(), mido.Message(
            "pitchwheel", channel=channel, pitch=rng.randint(-8192, 8191)), None))
    for _ in range(rng.randint(0, 3)):
        events.append((rng.randrange(length), rng.random(), mido.Message(
            "aftertouch", channel=channel, value=rng.randrange(128)), None))
    if rng.random() < 0.2:
        events.append((rng.randrange(length), rng.random(),
                       mido.Message("sysex", data=[0x7E, 0x7F, 0x09, 0x01]), None))
    return events


def reread(midi: mido.MidiFile) -> mido.MidiFile:
    """The file as a program reading it back from disk gets it."""
    buffer = io.BytesIO()
    midi.save(file=buffer)
    buffer.seek(0)
    return mido.MidiFile(file=buffer)


def timed(track) -> list[tuple[int, mido.Message]]:
    """(absolute tick, message without its delta) for every message of a track."""
    return [(tick, msg.copy(time=0)) for tick, msg in zip(absolute_ticks(track), track,
                                                         strict=True)]


def assert_only_replaced_notes_changed(gen: Generated, written: mido.MidiFile, *, tracks,
                                       start: int, stop: int, into: int, channel: int
                                       ) -> tuple[list[tuple[int, int, int, int]], int]:
    """Check ``written`` (saved and read back) against the generated file: every event
    that is not part of a pitched note starting in ticks [start, stop) on ``tracks`` is
    there, at its tick and in its order; every other event is a note event on track
    ``into`` and ``channel`` inside the range; no new note sounds together with a kept
    note of its key on that channel. Returns the new notes (start, end, pitch, velocity)
    and how many notes the generated file had that could be replaced."""
    out = reread(written)
    assert (out.type, out.ticks_per_beat, len(out.tracks)) == (
        gen.midi.type, gen.midi.ticks_per_beat, len(gen.midi.tracks))
    kept_keys = []
    removed = 0
    added: list[tuple[int, int, int, int]] = []
    for t, (before, after) in enumerate(zip(gen.midi.tracks, out.tracks, strict=True)):
        replaceable = set()
        for note, on, off in gen.notes_of[t]:
            if t in tracks and start <= note.start < stop and note.channel != DRUMS:
                replaceable |= {on, off} - {None}
                removed += 1
            elif note.channel == channel:
                end = note.end if note.end is not None else absolute_ticks(before)[-1]
                kept_keys.append((note.pitch, note.start, end))
        expected = [e for i, e in enumerate(timed(before))
                    if i not in replaceable and e[1].type != "end_of_track"]
        got = [e for e in timed(after) if e[1].type != "end_of_track"]
        rest, j = [], 0
        for event in got:
            if j < len(expected) and event == expected[j]:
                j += 1
            else:
                rest.append(event)
        assert j == len(expected), f"track {t}: kept event {expected[j]} is missing or moved"
        for tick, msg in rest:
            assert t == into and msg.type in ("note_on", "note_off"), (t, tick, msg)
            assert msg.channel == channel and start <= tick <= stop
        if t == into:
            track = mido.MidiTrack()
            now = 0
            for tick, msg in rest:
                track.append(msg.copy(time=tick - now))
                now = tick
            added += [(n.start, n.end, n.pitch, n.velocity) for n in track_notes(track)]
        assert absolute_ticks(after)[-1] == max(absolute_ticks(before)[-1],
                                                got[-1][0] if got else 0)
    for a, b, pitch, _velocity in added:
        assert not any(p == pitch and max(s, a) < min(e, b) for p, s, e in kept_keys)
    return added, removed
