import contextlib
import dataclasses
import threading

import numpy as np
import pytest

import engine.pipeline
from engine.errors import BarRangeError, ClipTooLargeError, InputError, ModelFileError
from engine.harmony import estimate_key, parse_key, parse_progression
from engine.pianoroll import Note
from engine.pipeline import (
    BarRange,
    Cancelled,
    ModelThread,
    Pipeline,
    SamplingOptions,
)
from engine.register import BASS_LINE, PIANO_CEILING
from tests.engine.live_bar import WAIT_S, LiveBar, ask_live_bar, wait_until


@pytest.fixture(scope="module")
def pipeline(tiny_model_file):
    return Pipeline.load(tiny_model_file, device="cpu")


def clip(n_bars=8):
    """A C-major clip: a triad on every beat, plus one note outside the model's range."""
    notes = []
    for bar in range(n_bars):
        for beat in range(4):
            start = bar * 16 + beat * 4
            notes += [Note(start, p, 4, 90) for p in (48, 52, 55)]
    notes.append(Note(0, 110, 16, 70))  # above G7: the model cannot see it
    return notes


FAST = SamplingOptions(steps=3, seed=1, key=parse_key("C"))


def test_bar_range_parses_user_ranges():
    assert BarRange.parse("5-8") == BarRange(4, 8)
    assert BarRange.parse("3") == BarRange(2, 3)
    assert str(BarRange(4, 8)) == "5-8"
    for bad in ("0-2", "8-5", "a-b", ""):
        with pytest.raises(BarRangeError):
            BarRange.parse(bad)


def test_infill_returns_every_note_outside_the_range_unchanged(pipeline):
    notes = clip()
    result = pipeline.infill(notes, n_bars=8, bars=BarRange(4, 8), options=FAST)
    outside = sorted(n for n in notes if not 64 <= n.start < 128)
    for variation in result.variations:
        kept = sorted(n for n in variation if not 64 <= n.start < 128)
        assert kept == outside  # including the out-of-range pitch 110
        assert all(n.start + n.duration <= 128 for n in variation if n.start >= 64)
    assert result.generated == BarRange(4, 8)


def test_in_key_projection_leaves_no_out_of_key_note(pipeline):
    options = SamplingOptions(steps=3, seed=2, key=parse_key("Eb"), variations=3)
    result = pipeline.infill(clip(), n_bars=8, bars=BarRange(0, 8), options=options)
    scale = parse_key("Eb").scale_mask()
    generated = [n for v in result.variations for n in v if n.pitch != 110]
    assert generated, "the tiny model should produce notes"
    assert all(scale[n.pitch % 12] for n in generated)


def test_without_projection_the_tiny_model_does_play_out_of_key(pipeline):
    options = SamplingOptions(steps=3, seed=2, key=parse_key("Eb"), in_key=False,
                              variations=3)
    result = pipeline.infill(clip(), n_bars=8, bars=BarRange(0, 8), options=options)
    scale = parse_key("Eb").scale_mask()
    assert any(not scale[n.pitch % 12] for v in result.variations for n in v)


def test_same_seed_same_output_and_variations_differ(pipeline):
    options = SamplingOptions(steps=3, seed=5, variations=2)
    chords = parse_progression("C G Am F")
    a = pipeline.accompany(chords, n_bars=8, options=options)
    b = pipeline.accompany(chords, n_bars=8, options=options)
    assert a.variations == b.variations
    assert a.variations[0] != a.variations[1]


def test_guidance_costs_two_evaluations_per_step_only_when_it_applies(pipeline):
    chords = parse_progression("C G Am F")
    guided = pipeline.generate(n_bars=8, chords=chords, options=SamplingOptions(steps=4))
    plain = pipeline.generate(n_bars=8, chords=chords,
                              options=SamplingOptions(steps=4, guidance=1.0))
    unconditional = pipeline.generate(n_bars=8, options=SamplingOptions(steps=4))
    assert (guided.nfe, plain.nfe, unconditional.nfe) == (8, 4, 4)


def test_long_clips_are_covered_by_overlapping_windows(pipeline):
    progress = []
    result = pipeline.infill(clip(20), n_bars=20, bars=BarRange(2, 18), options=FAST,
                             progress=progress.append)
    assert progress == sorted(progress) and progress[-1] == pytest.approx(1.0)
    assert pipeline._windows(BarRange(2, 18), 20, 8, overlap=4) == [0, 4, 8, 12]
    assert pipeline._windows(BarRange(0, 32), 32, 8, overlap=2) == [0, 6, 12, 18, 24]
    assert pipeline._window_for(3, 8) == 4 and pipeline._window_for(6, 8) == 6
    new = [n for n in result.variations[0] if 32 <= n.start < 288]
    assert max(n.start for n in new) >= 16 * 14  # the last window did generate


def test_accompaniment_windows_overlap_by_the_pipelines_policy(pipeline, monkeypatch):
    import engine.pipeline as pipeline_module

    chords = parse_progression("C G Am F")

    every_step = dataclasses.replace(FAST, guidance_below=1.0)

    def windows() -> int:  # 3 guided steps a window: 6 network passes each
        return pipeline.accompany(chords, n_bars=32, options=every_step).nfe // 6

    assert windows() == 5  # 8-bar windows overlapping ACCOMPANY_OVERLAP_BARS = 2
    monkeypatch.setattr(pipeline_module, "ACCOMPANY_OVERLAP_BARS", 4)
    assert windows() == 7  # read when the request runs: eval_windows.py can vary it


def test_a_long_infill_gap_gets_windows_that_keep_context_on_both_sides():
    from engine.pipeline import INFILL_CONTEXT_BARS, INFILL_WINDOW_BARS, LONG_GAP_WINDOW_BARS

    assert Pipeline._infill_window(4) == Pipeline._infill_window(12) == INFILL_WINDOW_BARS
    assert Pipeline._infill_window(13) == Pipeline._infill_window(16) == LONG_GAP_WINDOW_BARS
    # bars 9-24 of a 32-bar clip: two 12-bar windows, 2 bars of context before the first
    # and after the last, overlapping by 4 (a single 16-bar window held only the gap)
    windows = Pipeline._windows(None, BarRange(8, 24), 32, 12, overlap=4)
    assert windows == [8 - INFILL_CONTEXT_BARS, 14]
    assert windows[-1] + LONG_GAP_WINDOW_BARS == 24 + INFILL_CONTEXT_BARS


def test_short_clips_and_short_progressions(pipeline):
    result = pipeline.accompany(parse_progression("C G"), n_bars=3, options=FAST)
    assert all(n.start < 48 for n in result.variations[0])


def test_cancel_stops_a_generation(pipeline):
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        pipeline.generate(n_bars=8, options=FAST, cancel=cancel)


def test_bad_input_raises_input_errors(pipeline):
    with pytest.raises(BarRangeError, match="outside the 8-bar clip"):
        pipeline.infill(clip(), n_bars=8, bars=BarRange(6, 10), options=FAST)
    with pytest.raises(InputError, match="no notes"):
        pipeline.infill([], n_bars=8, bars=BarRange(0, 2), options=FAST)
    with pytest.raises(ClipTooLargeError, match="50000 notes"):
        pipeline.infill([Note(i % 128, 60, 1) for i in range(50_000)], n_bars=8,
                        bars=BarRange(0, 2), options=FAST)
    with pytest.raises(ClipTooLargeError):
        pipeline.generate(n_bars=1000, options=FAST)
    with pytest.raises(InputError, match="chords or a melody"):
        pipeline.accompany([], n_bars=4, options=FAST)
    with pytest.raises(InputError, match="steps"):
        SamplingOptions(steps=0)
    with pytest.raises(ModelFileError):
        Pipeline.load("/nonexistent/model.safetensors")


def test_key_estimation_finds_obvious_keys():
    weights = np.zeros(12)
    weights[[0, 4, 7]] = 3.0
    weights[[2, 5, 9, 11]] = 1.0
    assert estimate_key(weights) == parse_key("C")
    a_minor = np.zeros(12)
    a_minor[[9, 0, 4]] = 3.0
    a_minor[[11, 2, 5, 7]] = 1.0
    assert estimate_key(a_minor) == parse_key("Am")
    assert estimate_key(np.zeros(12)) is None


def test_infill_without_chords_carries_the_context_chords_into_the_gap(pipeline):
    notes = []
    for bar in range(12):  # C | F repeating: a 2-bar period
        tones = (48, 52, 55) if bar % 2 == 0 else (53, 57, 60)
        notes += [Note(bar * 16, p, 16, 90) for p in tones]
    gap = BarRange(4, 8)
    context = [n for n in notes if not 64 <= n.start < 128]
    result = pipeline.infill(context, n_bars=12, bars=gap, options=FAST)
    assert result.inferred_chords
    at_gap = [s for s in result.inferred_chords if s.start == 5 * 16]
    assert at_gap and at_gap[0].chord.root == 5  # bar 6 carries bar 4's F
    off = SamplingOptions(steps=3, seed=1, key=parse_key("C"), infer_chords=False)
    assert pipeline.infill(context, n_bars=12, bars=gap, options=off).inferred_chords == ()
    given = pipeline.infill(context, n_bars=12, bars=gap, options=FAST,
                            chords=parse_progression("C F"))
    assert given.inferred_chords == ()


def test_new_notes_take_the_contexts_accents_not_one_velocity(pipeline):
    """Loud downbeats and soft off-beats around the gap: the new notes follow them."""
    notes = [Note(step, 60 + step % 3, 1, 110 if step % 16 == 0 else 50)
             for step in range(8 * 16) if not 64 <= step < 96]
    result = pipeline.infill(notes, n_bars=8, bars=BarRange(4, 6), options=FAST)
    new = [n for n in result.variations[0] if 64 <= n.start < 96]
    assert new
    down = [n.velocity for n in new if n.start % 16 == 0]
    off = [n.velocity for n in new if n.start % 16 != 0]
    assert down and off and max(off) < 60
    # 6 downbeats' accent, shrunk towards POP909's shape, plus register offsets
    assert np.mean(down) > np.mean(off) + 20


def test_below_melody_keeps_the_accompaniment_under_the_melody(pipeline):
    from engine.register import crossings

    melody = [Note(bar * 16 + beat * 4, 64 + beat, 4, 90) for bar in range(8)
              for beat in range(4)]
    chords = parse_progression("C G Am F")
    options = SamplingOptions(steps=3, seed=3, variations=2, in_key=False)
    free = pipeline.accompany(chords, n_bars=8, melody=melody, options=options)
    assert any(crossings(v, melody) for v in free.variations)  # the tiny model goes anywhere
    below = pipeline.accompany(chords, n_bars=8, melody=melody,
                               options=dataclasses.replace(options, below_melody=True))
    assert all(v and crossings(v, melody) == 0 for v in below.variations)


def test_accompaniment_keeps_to_the_sounding_chords_tones_by_default(pipeline):
    from engine.pianoroll import STEPS_PER_BAR

    # E major in C: its G# is a chord tone outside the key
    chords = parse_progression("C E Am F")
    tones = [{0, 4, 7}, {4, 8, 11}, {9, 0, 4}, {5, 9, 0}]

    def off_chord(options: SamplingOptions) -> int:
        result = pipeline.accompany(chords, n_bars=4, options=options)
        return sum(note.pitch % 12 not in tones[step // STEPS_PER_BAR]
                   for variation in result.variations for note in variation
                   for step in range(note.start, note.end))

    options = SamplingOptions(steps=3, seed=5, variations=2, key=parse_key("C"))
    assert off_chord(dataclasses.replace(options, allowed="key")) > 0  # the tiny model strays
    assert off_chord(options) == 0  # the task's default: the chord's tones
    assert off_chord(dataclasses.replace(options, allowed="chord")) == 0
    chord_e = pipeline.accompany(chords, n_bars=4, options=options).variations
    assert any(note.pitch % 12 == 8 for v in chord_e for note in v)  # G#: the chord, not the key
    in_key = pipeline.accompany(chords, n_bars=4, options=dataclasses.replace(
        options, allowed="key")).variations
    assert not any(note.pitch % 12 == 8 for v in in_key for note in v)
    # infill and generate keep the key's scale: a melody needs its passing tones
    made = pipeline.generate(n_bars=4, chords=chords, options=options).variations
    assert any(note.pitch % 12 not in tones[note.start // STEPS_PER_BAR]
               for v in made for note in v)
    with pytest.raises(InputError, match="allowed"):
        SamplingOptions(allowed="scale")


def test_an_accompaniment_stays_in_the_piano_register_unless_freed(pipeline):
    melody = [Note(bar * 16, 67, 16, 90) for bar in range(4)]
    chords = parse_progression("C G Am F")
    options = SamplingOptions(steps=3, seed=2, variations=2, in_key=False)

    def kept_notes(**changes) -> list[Note]:
        result = pipeline.accompany(chords, n_bars=4, melody=melody,
                                    options=dataclasses.replace(options, **changes))
        return [note for v in result.variations for note in v]

    def pitches(**changes) -> list[int]:
        return [note.pitch for note in kept_notes(**changes)]

    kept = pitches()
    assert kept and all(36 <= p <= 67 for p in kept)
    free = pitches(register=False)
    assert any(not 36 <= p <= 67 for p in free)  # the tiny model goes anywhere
    made = pipeline.generate(n_bars=4, chords=chords, options=options).variations
    assert any(not 36 <= note.pitch <= 67 for v in made for note in v)  # accompaniment only
    # under G2 (engine.register.BASS_LINE) only the chord's bass: C G Am F, a bar each
    roots = [0, 7, 9, 5]
    low = [(note.start // 16, note.pitch) for note in kept_notes() if note.pitch < BASS_LINE]
    assert low and all(pitch % 12 == roots[bar] for bar, pitch in low)
    assert any(note.pitch < BASS_LINE and note.pitch % 12 != roots[note.start // 16]
               for note in kept_notes(register=False))
    # without a melody: up to G5 (engine.register.PIANO_CEILING), not to the roll's top
    alone = [note.pitch for v in pipeline.accompany(chords, n_bars=4, options=options
                                                      ).variations for note in v]
    assert alone and all(36 <= p <= PIANO_CEILING for p in alone)
    unbounded = [note.pitch for v in pipeline.accompany(
        chords, n_bars=4, options=dataclasses.replace(options, register=False)).variations
        for note in v]
    assert any(p > PIANO_CEILING for p in unbounded)


def test_an_accompaniment_with_its_bass_anchored_has_nothing_under_the_bass_it_places(pipeline):
    chords = parse_progression("C G Am F")  # a bar each, bass = root
    roots = [0, 7, 9, 5]
    options = SamplingOptions(steps=3, seed=4, variations=4, candidates=1, in_key=False)

    def under_the_bass(notes: list[Note]) -> tuple[int, int]:
        """(notes sounding in a bar below its lowest note on the bar's bass, bars with a
        bass note)."""
        under = anchored = 0
        for bar in range(4):
            lo, hi = bar * 16, bar * 16 + 16
            sounding = [n for n in notes if n.start < hi and n.end > lo]
            on_bass = [n.pitch for n in sounding if n.pitch % 12 == roots[bar]]
            if on_bass:
                anchored += 1
                under += sum(n.pitch < min(on_bass) for n in sounding)
        return under, anchored

    def counts(anchor: bool) -> list[tuple[int, int]]:
        result = pipeline.accompany(chords, n_bars=4, options=dataclasses.replace(
            options, bass_anchor=anchor))
        return [under_the_bass(list(v)) for v in result.variations]

    anchored = counts(True)
    assert sum(bars for _, bars in anchored) > 0
    assert all(under == 0 for under, _ in anchored)
    assert sum(under for under, _ in counts(False)) > 0  # the tiny model does not by itself


def test_an_infill_given_chords_keeps_to_the_register_around_the_gap(pipeline):
    # the context spans 60-64, so new notes stay within 55-69 (5 semitones either side)
    context = [Note(bar * 16 + 4 * i, 60 + 2 * i, 4, 90)
               for bar in (0, 1, 6, 7) for i in range(3)]
    chords = parse_progression("C G Am F C G Am F")
    options = SamplingOptions(steps=3, seed=2, variations=3, in_key=False)

    def gap(given=chords, **changes) -> list[int]:
        result = pipeline.infill(context, n_bars=8, bars=BarRange(2, 6), chords=given,
                                 options=dataclasses.replace(options, **changes))
        return [n.pitch for v in result.variations for n in v if 32 <= n.start < 96]

    kept = gap()
    assert kept and all(55 <= p <= 69 for p in kept)
    assert any(not 55 <= p <= 69 for p in gap(register=False))  # the tiny model goes anywhere
    # without chords it is off unless asked for (measured worse there: the draft keeps it)
    assert any(not 55 <= p <= 69 for p in gap(None))
    asked = gap(None, register=True)
    assert asked and all(55 <= p <= 69 for p in asked)


def test_the_projection_default_comes_from_the_request_the_model_file_or_the_task(pipeline):
    assert pipeline._binarize(SamplingOptions(binarize=True), "infill") is True
    assert pipeline._binarize(SamplingOptions(), "infill") is False
    assert pipeline._binarize(SamplingOptions(), "accompany") is True
    measured = Pipeline(pipeline.net, {"binarize": {"accompany": False}},
                        device=pipeline.device, path=pipeline.path)
    assert measured._binarize(SamplingOptions(), "accompany") is False
    assert measured._binarize(SamplingOptions(), "generate") is True  # not in its table


def test_a_density_hint_asks_for_its_notes_a_bar_on_the_metre():
    from engine.pianoroll import density_hint

    hint = density_hint(12, 40)
    assert hint.shape == (40,) and np.array_equal(hint[:16], hint[16:32])
    assert hint[:16].sum() * 4 == pytest.approx(12, rel=1e-5)  # onsets a bar
    assert hint[0] > hint[4] > hint[2] > hint[1]  # downbeat, beat, 8th, 16th
    assert (density_hint(4, 16) < density_hint(24, 16)).all()


def test_density_reaches_the_model_as_its_rhythm_condition(pipeline):
    chords = parse_progression("C G Am F")
    from engine.sampling import DEFAULT_ACCOMPANY_DENSITY

    def accompany(density):  # the key's scale and any register: the chord's tones, or
        # the piano's register without a melody (C2-G5), leave a tiny untrained model too
        # few pitches for the hint to show
        options = SamplingOptions(seed=1, density=density, allowed="key", register=False)
        return pipeline.accompany(chords, n_bars=4, options=options).variations

    free, hinted = accompany(0.0), accompany(24.0)
    assert free != hinted
    assert accompany(None) == accompany(DEFAULT_ACCOMPANY_DENSITY) != free
    with pytest.raises(InputError, match="density"):
        SamplingOptions(density=-1.0)
    with pytest.raises(InputError, match="density"):
        SamplingOptions(density=40.0)


def test_close_waits_for_the_model_thread_to_finish_its_queued_calls(tiny_model_file):
    pipe = Pipeline.load(tiny_model_file, device="cpu")
    done = []
    thread = threading.Thread(target=lambda: done.append(pipe.accompany(
        parse_progression("C G Am F"), n_bars=4, options=FAST)))
    thread.start()
    thread.join()
    pipe.close()
    # the thread has stopped: nothing of torch is left running into interpreter exit
    assert not pipe._runner._thread.is_alive()
    assert done and done[0].nfe > 0


@pytest.mark.parametrize(("variations", "candidates", "seed"), [(1, 4, 5), (2, 3, 7)])
def test_each_variation_keeps_the_best_chord_fit_of_its_own_candidates(
        pipeline, variations, candidates, seed):
    from engine.candidates import chord_fit

    chords = parse_progression("C G Am F")
    options = SamplingOptions(steps=3, seed=seed, allowed="key")
    # the same batch as that many variations: one noise draw, one network pass a step
    drawn = pipeline.accompany(chords, n_bars=4, options=dataclasses.replace(
        options, variations=variations * candidates, candidates=1))
    result = pipeline.accompany(chords, n_bars=4, options=dataclasses.replace(
        options, variations=variations, candidates=candidates))
    score = chord_fit(chords, start=0, stop=64)
    runs = [drawn.variations[i:i + candidates]
            for i in range(0, variations * candidates, candidates)]
    assert result.candidates == candidates
    assert list(result.variations) == [max(run, key=score) for run in runs]
    assert len({score(v) for v in drawn.variations}) > 1  # the choice is not a tie
    assert result.nfe == drawn.nfe


def test_candidates_default_by_task_and_keep_the_user_s_notes(pipeline):
    from engine.candidates import line_fit

    chords = parse_progression("C G Am F")
    options = SamplingOptions(steps=3, seed=5, allowed="key")
    # by default an accompaniment on a model without a student draws eight (a student
    # draws 12: test_distill); one given no chords has nothing to choose by
    assert pipeline.accompany(chords, n_bars=4, options=options).candidates == 8
    melody = [Note(bar * 16, 67, 16, 90) for bar in range(4)]
    assert pipeline.accompany([], n_bars=4, melody=melody, options=options).candidates == 1

    # an infill keeps the candidate whose top line stays nearest the bars around the gap;
    # the notes outside the gap are the user's, whichever is kept
    notes, gap = clip(), BarRange(2, 4)
    drawn = pipeline.infill(notes, n_bars=8, bars=gap, options=dataclasses.replace(
        options, variations=4, candidates=1)).variations
    result = pipeline.infill(notes, n_bars=8, bars=gap, options=options)  # default: 4
    score = line_fit([n for n in notes if not 32 <= n.start < 64], start_bar=2, stop_bar=4)
    assert result.candidates == 4 and result.variations[0] == max(drawn, key=score)
    given = pipeline.infill(notes, n_bars=8, bars=gap, chords=chords, options=options)
    assert given.candidates == 1  # an infill given chords draws one unless asked
    # many variations: the default draws fewer candidates each (at most 16 rolls at once)
    many = pipeline.infill(notes, n_bars=8, bars=gap, options=dataclasses.replace(
        options, variations=8))
    assert (many.candidates, len(many.variations)) == (2, 8)
    asked = pipeline.accompany(chords, n_bars=4, options=dataclasses.replace(
        options, variations=8, candidates=3))
    assert (asked.candidates, len(asked.variations)) == (3, 8)  # named: as asked
    with pytest.raises(InputError, match="candidates"):
        SamplingOptions(candidates=17)
    # at most 64 samples at once (8 x 8, the most before 16 candidates could be asked for)
    assert SamplingOptions(variations=4, candidates=16).candidates == 16
    with pytest.raises(InputError, match=r"at most 64 samples at once, got 8 x 16"):
        SamplingOptions(variations=8, candidates=16)



def test_an_urgent_call_goes_ahead_of_the_queued_ones_and_into_the_running_one():
    runner = ModelThread(1)
    order = []

    def running():
        order.append("running")
        wait_until(lambda: runner._urgent)  # the urgent call is waiting
        for _ in range(3):  # its "sampler steps"
            runner.serve_urgent()
        order.append("running ends")

    def failing():
        raise ValueError("the urgent call's own error")

    threads = [threading.Thread(target=runner.call, args=(running,))]
    threads[0].start()
    wait_until(lambda: order)
    threads.append(threading.Thread(target=runner.call, args=(lambda: order.append("queued"),)))
    threads[1].start()
    wait_until(lambda: runner._jobs.qsize() == 1)  # queued behind the running call
    errors = []

    def urgent():
        runner.call(lambda: order.append("urgent"), urgent=True)
        try:
            runner.call(failing, urgent=True)
        except ValueError as err:
            errors.append(str(err))

    threads.append(threading.Thread(target=urgent))
    threads[2].start()
    for thread in threads:
        thread.join(WAIT_S)
    # the second urgent call came after the running one ended: it went ahead of "queued"
    assert order == ["running", "urgent", "running ends", "queued"]
    assert errors == ["the urgent call's own error"]
    assert runner.call(lambda: 7, urgent=True) == 7  # on an idle thread at once
    runner.serve_urgent()  # on any other thread it does nothing
    runner.close()


def test_a_live_bar_runs_between_the_steps_of_a_running_request_which_comes_out_the_same(
        pipeline, monkeypatch):
    # passes that run whole, as on a GPU (on a CPU the pass's own pauses would serve the
    # bar first: the next test)
    monkeypatch.setattr(engine.pipeline, "pausing", lambda serve: contextlib.nullcontext())
    chords = parse_progression("C G Am F")
    options = SamplingOptions(steps=3, seed=3, variations=2)
    alone = pipeline.accompany(chords, n_bars=16, options=options)
    live_alone = ask_live_bar(pipeline)
    bar = LiveBar(pipeline)
    result = pipeline.accompany(chords, n_bars=16, options=options, progress=bar)
    # the live bar ran whole after the request's first step, before its second
    assert bar.nested()[0] == "request"
    assert result.variations == alone.variations
    assert bar.join().variations == live_alone.variations


def test_a_live_bar_runs_inside_a_network_pass_of_a_running_request_which_comes_out_the_same(
        pipeline):
    """On a CPU a pass at 16 rolls takes a few hundred ms: the live bar does not wait for
    the step to end but runs at the network's next pause point (engine.model.pausing)."""
    chords = parse_progression("C G Am F")
    options = SamplingOptions(steps=3, seed=3, variations=2)
    alone = pipeline.accompany(chords, n_bars=16, options=options)
    live_alone = ask_live_bar(pipeline)
    bar = LiveBar(pipeline)
    first_block = pipeline.net.down[0][0]
    handle = first_block.register_forward_hook(  # asks at the first block of the first pass
        lambda *_: None if bar.events else bar("pass"))
    try:
        result = pipeline.accompany(chords, n_bars=16, options=options,
                                    progress=lambda fraction: bar.events.append("request"))
    finally:
        handle.remove()
    # the live bar ran whole inside that pass, before the request's first step ended
    assert bar.nested()[0] == "pass"
    assert result.variations == alone.variations
    assert bar.join().variations == live_alone.variations
