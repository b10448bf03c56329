"""Whole songs through Pipeline.song: lengths, phrases, fixed parts, repeats, errors."""

import threading

import pytest
import torch

from engine.errors import InputError
from engine.harmony import ChordSpan, Key, parse_progression
from engine.leadsheet import LeadSheetConfig, LeadSheetNet, save_leadsheet
from engine.pianoroll import STEPS_PER_BAR, Note
from engine.pipeline import Pipeline
from engine.sampling import Cancelled
from engine.song import STAGES, FixedParts, SongOptions
from tests.engine.live_bar import LiveBar
from wire.form import Phrase, parse_form

TINY = LeadSheetConfig(channels=(16, 32), attention_layers=1, heads=2, emb_dim=32,
                       window_bars=8)


@pytest.fixture(scope="module")
def pipeline(tiny_model_file, tmp_path_factory):
    torch.manual_seed(0)
    sheet = save_leadsheet(tmp_path_factory.mktemp("ls") / "ls.safetensors",
                           LeadSheetNet(TINY), {"steps": 0})
    pipe = Pipeline.load(tiny_model_file, device="cpu", leadsheet=sheet)
    yield pipe
    pipe.close()


def test_a_song_has_the_form_s_length_three_parts_and_reports_its_stages(pipeline):
    stages = []
    song = pipeline.song(parse_form("i2A4B4A4o2"), key=Key(9, "minor"), tempo=100,
                         options=SongOptions(seed=5, steps=3),
                         progress=lambda stage, f: stages.append((stage, f)))
    assert song.n_bars == 16 and [p.letter for p in song.phrases] == list("iABAo")
    end = 16 * STEPS_PER_BAR
    for notes in (song.melody, song.accompaniment):
        assert all(0 <= n.start < end for n in notes)
    assert all(0 <= s.start and s.stop <= end for s in song.chords)
    assert song.seed == 5 and song.tempo == 100 and song.key == Key(9, "minor")
    assert set(song.seconds) == {*STAGES, "total"}
    assert [s for s, _ in stages][0] == STAGES[0] and stages[-1] == (STAGES[1], 1.0)
    again = pipeline.song(parse_form("i2A4B4A4o2"), key=Key(9, "minor"), tempo=100,
                          options=SongOptions(seed=5, steps=3))
    assert (again.melody, again.chords, again.accompaniment) == \
        (song.melody, song.chords, song.accompaniment)


def test_a_repeated_label_at_full_strength_repeats_its_first_phrase(pipeline):
    song = pipeline.song(parse_form("A2B2A2"), key=Key(0, "major"),
                         options=SongOptions(seed=1, steps=4, repeat_strength=1.0))
    first = [(n.start, n.pitch, n.duration) for n in song.melody if n.start < 32]
    second = [(n.start - 64, n.pitch, n.duration) for n in song.melody if n.start >= 64]
    assert first == second


def test_fixed_melody_chords_and_accompaniment_are_kept_exactly(pipeline):
    melody = (Note(0, 72, 4, 101), Note(8, 74, 4, 99), Note(20, 76, 2, 88))
    chords = tuple(parse_progression("F G"))
    accompaniment = (Note(64, 48, 16, 70), Note(64, 55, 16, 70))
    fixed = FixedParts(melody=melody, melody_bars=(0, 1), chords=chords,
                       accompaniment=accompaniment, accompaniment_bars=(4,))
    song = pipeline.song(parse_form("A4B4"), key=Key(0, "major"),
                         options=SongOptions(seed=2, steps=3), fixed=fixed)
    assert tuple(n for n in song.melody if n.start < 32) == melody
    given = [s for s in song.chords if s.start < 32]
    assert [(s.start, s.duration, s.chord) for s in given] == \
        [(s.start, s.duration, s.chord) for s in chords]
    assert tuple(n for n in song.accompaniment if 64 <= n.start < 80) == accompaniment


def test_a_song_can_be_cancelled(pipeline):
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        pipeline.song(parse_form("A4"), key=Key(0, "major"), cancel=cancel,
                      options=SongOptions(steps=3))


@pytest.mark.parametrize("form, message", [((), "empty"),
                                           ((Phrase("A", 200), Phrase("B", 100)), "at most")])
def test_bad_forms_are_one_clear_error(pipeline, form, message):
    with pytest.raises(InputError, match=message):
        pipeline.song(form, key=Key(0, "major"))


def test_bad_settings_are_refused():
    with pytest.raises(InputError, match="repeat_strength"):
        SongOptions(repeat_strength=1.5)
    with pytest.raises(InputError, match="steps"):
        SongOptions(steps=0)


def test_fixed_bars_outside_the_song_are_refused(pipeline):
    fixed = FixedParts(melody=(Note(0, 60, 4, 90),), melody_bars=(9,))
    with pytest.raises(InputError, match="outside"):
        pipeline.song(parse_form("A4"), key=Key(0, "major"), fixed=fixed,
                      options=SongOptions(steps=2))


def test_an_engine_without_a_lead_sheet_model_says_so(tiny_model_file, monkeypatch):
    monkeypatch.setattr("engine.pipeline.BUNDLED_LEADSHEET",
                        tiny_model_file.parent / "no-such-leadsheet.safetensors")
    pipe = Pipeline.load(tiny_model_file, device="cpu")
    try:
        assert pipe.leadsheet is None and "leadsheet" not in pipe.info()
        with pytest.raises(InputError, match="no lead-sheet model"):
            pipe.song(parse_form("A4"), key=Key(0, "major"))
    finally:
        pipe.close()


def test_given_chords_spans_stay_whole_where_decoded_ones_are_cut():
    from engine.song import _merge_chords

    given = [ChordSpan(16, 16, parse_progression("F")[0].chord)]
    decoded = [ChordSpan(0, 48, parse_progression("C")[0].chord)]
    import numpy as np
    steps = np.zeros(48)
    steps[16:32] = 1
    merged = _merge_chords(given, decoded, steps)
    assert [(s.start, s.duration) for s in merged] == [(0, 16), (16, 16), (32, 16)]
    assert merged[1].chord == given[0].chord


def test_with_the_projection_on_no_part_leaves_the_key(pipeline):
    for key in (Key(2, "major"), Key(9, "minor")):
        song = pipeline.song(parse_form("A4B4"), key=key, options=SongOptions(seed=4, steps=3))
        scale = key.scale_mask()
        assert all(scale[n.pitch % 12] for n in (*song.melody, *song.accompaniment))
        assert all(scale[pc] for s in song.chords for pc in range(12) if s.chord.chroma[pc])


def test_a_repeated_phrase_s_accompaniment_starts_from_its_first_phrase(pipeline):
    song = pipeline.song(parse_form("A2B2A2"), key=Key(0, "major"),
                         options=SongOptions(seed=3, steps=3, repeat_strength=1.0))
    first = sorted((n.start, n.pitch) for n in song.accompaniment if n.start < 32)
    second = sorted((n.start - 64, n.pitch) for n in song.accompaniment if n.start >= 64)
    assert first and first == second
    free = pipeline.song(parse_form("A2B2A2"), key=Key(0, "major"),
                         options=SongOptions(seed=3, steps=3, repeat_strength=1.0,
                                             use_form=False))
    assert sorted((n.start, n.pitch) for n in free.accompaniment if n.start < 32) != \
        sorted((n.start - 64, n.pitch) for n in free.accompaniment if n.start >= 64)


def test_accompaniment_pieces_cut_at_repeated_phrases():
    from engine.sampling import BarRange
    from engine.song import _accompaniment_pieces

    phrases = [(0, 4, "i"), (4, 8, "A"), (12, 8, "B"), (20, 8, "A"), (28, 4, "o")]
    pieces = _accompaniment_pieces([BarRange(0, 32)], phrases)
    assert [(p.start, p.stop) for p, _ in pieces] == [(0, 20), (20, 28), (28, 32)]
    assert pieces[1][1] == {20 + i: 4 + i for i in range(8)}
    assert pieces[0][1] == pieces[2][1] == {}
    # a fixed bar splits the runs; a source not yet written is not used
    split = _accompaniment_pieces([BarRange(0, 22), BarRange(23, 32)], phrases)
    assert [(p.start, p.stop) for p, _ in split] == [(0, 20), (20, 22), (23, 28), (28, 32)]


def test_bar_harmony_tells_which_bars_repeat_their_chords():
    from engine.song import _bar_harmony

    harmony = _bar_harmony(parse_progression("C G | C G | Am F | C G"), 4)
    assert harmony[0] == harmony[1] == harmony[3] != harmony[2]



def test_a_live_bar_runs_between_the_lead_sheet_s_steps_and_the_song_comes_out_the_same(
        pipeline):
    form, key, options = parse_form("A4B4"), Key(0, "major"), SongOptions(seed=4, steps=3)
    alone = pipeline.song(form, key=key, options=options)
    bar = LiveBar(pipeline)
    song = pipeline.song(form, key=key, options=options, progress=bar)
    # the live bar ran whole after the lead sheet's first step, before its second
    assert bar.nested()[0] == STAGES[0] and bar.events[1 + bar.nested()[1]] == STAGES[0]
    bar.join()
    assert (song.melody, song.chords, song.accompaniment) == \
        (alone.melody, alone.chords, alone.accompaniment)
