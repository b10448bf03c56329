from __future__ import annotations

import random
from pathlib import Path

import mido
import pytest

import smf
from engine.clipfile import (
    accompaniment_file,
    check_outputs,
    infill_file,
    pick_tracks,
    read_clip_file,
    save_midi,
)
from engine.errors import InputError, UnsupportedMeterError
from engine.pianoroll import STEPS_PER_BAR, Note
from engine.sampling import BarRange, Result, SamplingOptions
from tests.smf.humanised import (
    assert_only_replaced_notes_changed,
    random_file,
    reread,
    timed,
)


class FakePipeline:
    """Stands in for engine.pipeline.Pipeline: random notes in the target bars, and a
    record of what the model was shown."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.calls: list[tuple[str, dict]] = []

    def _new(self, bars: BarRange) -> tuple[Note, ...]:
        lo, hi = bars.start * STEPS_PER_BAR, bars.stop * STEPS_PER_BAR
        notes = []
        for _ in range(self.rng.randint(0, 20)):
            start = self.rng.randrange(lo, hi)
            notes.append(Note(start, self.rng.randint(24, 103),
                              self.rng.randint(1, hi - start), self.rng.randint(1, 127)))
        return tuple(notes)

    def infill(self, notes, *, n_bars, bars, chords=None, options=SamplingOptions()):
        self.calls.append(("infill", dict(notes=notes, n_bars=n_bars, bars=bars)))
        return Result(variations=((*notes, *self._new(bars)),), n_bars=n_bars, generated=bars,
                      key=None, nfe=0, seconds=0.0)

    def accompany(self, chords, *, n_bars, melody=None, options=SamplingOptions(),
                  context=(), bars=None):
        self.calls.append(("accompany", dict(melody=melody, context=context, n_bars=n_bars,
                                             bars=bars)))
        return Result(variations=(self._new(bars),), n_bars=n_bars, generated=bars,
                      key=None, nfe=0, seconds=0.0)


def write(tmp_path: Path, midi: mido.MidiFile, name: str = "clip.mid") -> Path:
    path = tmp_path / name
    midi.save(path)
    return path


@pytest.mark.parametrize("first_seed", range(1000, 1100, 25))
def test_infill_changes_no_event_outside_the_target_bars_on_100_humanised_files(
        tmp_path: Path, first_seed: int) -> None:
    """The issue's acceptance test at the level of the written file: 100 random humanised
    multi-track files, random bars and tracks, the whole infill path but the network."""
    for seed in range(first_seed, first_seed + 25):
        gen = random_file(seed)
        clip = read_clip_file(write(tmp_path, gen.midi, f"{seed}.mid"))
        rng = random.Random(seed)
        note_tracks = clip.note_tracks()
        if not note_tracks:
            continue
        tracks = tuple(sorted(rng.sample(note_tracks, rng.randint(1, len(note_tracks)))))
        first = rng.randrange(clip.n_bars)
        bars = BarRange(first, rng.randint(first + 1, clip.n_bars))
        pipeline = FakePipeline(seed)
        try:
            done = infill_file(clip, pipeline, bars=bars, tracks=tracks,
                               groove=rng.random() < 0.5)
        except InputError as err:
            assert "no notes outside" in str(err)
            continue
        start, stop = clip.grid.bar_start(bars.start), clip.grid.bar_start(bars.stop)
        (written,) = done.files
        added, removed = assert_only_replaced_notes_changed(
            gen, written, tracks=set(tracks), start=start, stop=stop, into=done.into,
            channel=done.channel)
        assert done.splices[0].removed == removed and done.splices[0].added == len(added)
        assert done.into in tracks
        task, shown = pipeline.calls[0]
        assert task == ("accompany" if done.under else "infill")


def test_a_pop909_file_comes_back_untouched_outside_the_piano_bars(
        data_dir: Path, tmp_path: Path) -> None:
    source = data_dir / "pop909" / "001" / "001.mid"
    clip = read_clip_file(source)
    assert clip.grid.regrouped == ("2/4",)
    (piano,) = pick_tracks(clip, ["piano"])
    pipeline = FakePipeline(1)
    done = infill_file(clip, pipeline, bars=BarRange(4, 8), tracks=[piano])
    task, shown = pipeline.calls[0]
    assert task == "accompany" and shown["bars"] == BarRange(4, 8)
    assert len(shown["melody"]) == sum(len(clip.pitched([t])) for t in (1, 2))
    out = tmp_path / "out.mid"
    save_midi(done.files[0], out)
    before, after = mido.MidiFile(source), mido.MidiFile(out)
    assert after.ticks_per_beat == 480 and len(after.tracks) == len(before.tracks)
    for t in (0, 1, 2):  # tempo map, MELODY and BRIDGE: byte for byte the same events
        assert list(after.tracks[t]) == list(before.tracks[t])
    lo, hi = 4 * 1920, 8 * 1920
    assert ([e for e in timed(after.tracks[3]) if not e[1].type.startswith("note")]
            == [e for e in timed(before.tracks[3]) if not e[1].type.startswith("note")])
    def kept(track: mido.MidiTrack) -> list[tuple[int, int, int, int, int]]:
        return [(n.start, n.end, n.pitch, n.velocity, n.channel) for n in smf.track_notes(track)
                if not lo <= n.start < hi]

    kept_before, kept_after = kept(before.tracks[3]), kept(after.tracks[3])
    assert kept_after == kept_before
    assert all(n.channel == 2 for n in smf.track_notes(after.tracks[3]))


def test_tracks_are_picked_by_name_or_number(tmp_path: Path) -> None:
    midi = mido.MidiFile(type=1)
    midi.tracks.append(mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500000)]))
    for name, channel in (("Keys", 0), ("Bass", 1), ("Drums", 9)):
        midi.tracks.append(mido.MidiTrack([
            mido.MetaMessage("track_name", name=name),
            mido.Message("note_on", note=40, velocity=80, channel=channel),
            mido.Message("note_off", note=40, channel=channel, time=480)]))
    clip = read_clip_file(write(tmp_path, midi))
    assert pick_tracks(clip, None) == (1, 2)  # drums are never regenerated
    assert pick_tracks(clip, ["bass", "2"]) == (1, 2)
    with pytest.raises(InputError, match=r"no track 'Lead' \(tracks: 1 'track 1' \(0 notes\), "
                                         r"2 'Keys' \(1 notes\)"):
        pick_tracks(clip, ["Lead"])
    with pytest.raises(InputError, match="drums"):
        pick_tracks(clip, ["drums"])
    with pytest.raises(InputError, match="tempo track"):
        pick_tracks(clip, ["1"])


def test_a_file_in_3_4_is_refused_by_name(tmp_path: Path) -> None:
    midi = mido.MidiFile(type=1)
    midi.tracks.append(mido.MidiTrack([
        mido.MetaMessage("time_signature", numerator=3, denominator=4),
        mido.Message("note_on", note=60, velocity=80), mido.Message("note_off", note=60,
                                                                    time=480)]))
    with pytest.raises(UnsupportedMeterError, match="waltz.mid is in 3/4 from the start"):
        read_clip_file(write(tmp_path, midi, "waltz.mid"))


def test_outputs_are_never_overwritten_or_folders_made_without_asking(tmp_path: Path) -> None:
    source = tmp_path / "in.mid"
    source.write_bytes(b"x")
    with pytest.raises(InputError, match="is the input file"):
        check_outputs([tmp_path / "." / "in.mid"], inputs=[source])
    other = tmp_path / "old.mid"
    other.write_bytes(b"x")
    with pytest.raises(InputError, match="exists; pick another name, or pass --force"):
        check_outputs([other])
    with pytest.raises(InputError, match="does not exist; create it first"):
        check_outputs([tmp_path / "new" / "out.mid"])
    assert not (tmp_path / "new").exists()
    check_outputs([source, other], inputs=[source], force=True)
    check_outputs([tmp_path / "fresh.mid"], inputs=[source])


def test_accompaniment_file_is_the_melody_file_plus_one_track(tmp_path: Path) -> None:
    gen = random_file(7)
    clip = read_clip_file(write(tmp_path, gen.midi))
    midi, channel = accompaniment_file(clip, [Note(0, 48, 4, 70), Note(4, 52, 4, 71)])
    out = reread(midi)
    assert [list(t) for t in out.tracks[:len(gen.midi.tracks)]] == [
        list(t) for t in reread(gen.midi).tracks]
    assert out.tracks[-1].name == "diffjam accompaniment"
    used = {m.channel for t in gen.midi.tracks for m in t if hasattr(m, "channel")}
    assert channel not in used and channel != smf.DRUM_CHANNEL
    tpb = gen.midi.ticks_per_beat
    assert [(n.start, n.end, n.pitch, n.velocity) for n in smf.track_notes(out.tracks[-1])] == [
        (0, tpb, 48, 70), (tpb, 2 * tpb, 52, 71)]


def test_below_melody_without_other_tracks_is_an_error(tmp_path: Path) -> None:
    midi = mido.MidiFile(type=1)
    midi.tracks.append(mido.MidiTrack([
        mido.MetaMessage("track_name", name="Keys"),
        mido.Message("note_on", note=60, velocity=80), mido.Message("note_off", note=60,
                                                                    time=480)]))
    clip = read_clip_file(write(tmp_path, midi))
    with pytest.raises(InputError, match="--below-melody keeps new notes under the tracks"):
        infill_file(clip, FakePipeline(0), bars=BarRange(0, 1), tracks=(0,),
                    options=SamplingOptions(below_melody=True))
