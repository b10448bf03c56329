"""Finding where a clip repeats around an infill gap, and starting the gap from it."""

import pytest

from engine.harmony import parse_progression
from engine.pianoroll import STEPS_PER_BAR, Note
from engine.pipeline import BarRange, Pipeline, SamplingOptions
from engine.repeats import find_repeat, neighbour_guide

FIGURE = [Note(0, 60, 2, 90), Note(4, 64, 2, 90), Note(8, 67, 2, 90), Note(16, 62, 4, 90),
          Note(24, 65, 2, 90)]


def clip(n_bars, period=2, skip=None):
    notes = [Note(n.start + b * STEPS_PER_BAR * period, n.pitch, n.duration, 90)
             for b in range(n_bars // period) for n in FIGURE]
    if skip is not None:
        lo, hi = skip[0] * STEPS_PER_BAR, skip[1] * STEPS_PER_BAR
        notes = [n for n in notes if not lo <= n.start < hi]
    return notes


def test_a_two_bar_figure_is_found_and_the_gap_repeats_it():
    guide = find_repeat(clip(16, skip=(4, 8)), n_bars=16, gap=(4, 8))
    assert guide is not None and guide.period_bars == 2 and guide.similarity == 1.0
    assert guide.sources == {4: 2, 5: 3, 6: 2, 7: 3}


def test_without_a_period_the_gap_starts_from_the_bars_next_to_it():
    # one gap length back (a power of two), else ahead; shorter periods where neither fits
    assert neighbour_guide(n_bars=16, gap=(6, 10)).sources == {6: 2, 7: 3, 8: 4, 9: 5}
    assert neighbour_guide(n_bars=16, gap=(6, 9)).sources == {6: 2, 7: 3, 8: 4}
    assert neighbour_guide(n_bars=8, gap=(0, 2)).sources == {0: 2, 1: 3}
    assert neighbour_guide(n_bars=6, gap=(1, 5)).sources == {1: 5, 2: 0, 3: 5, 4: 0}
    assert neighbour_guide(n_bars=4, gap=(0, 4)) is None


def test_a_gap_at_the_start_repeats_the_bars_after_it():
    guide = find_repeat(clip(16, period=4, skip=(0, 4)), n_bars=16, gap=(0, 4))
    assert guide is not None and guide.period_bars == 4
    assert guide.sources == {0: 4, 1: 5, 2: 6, 3: 7}


def test_music_that_does_not_repeat_gives_no_guide():
    notes = [Note(b * 16 + s, 50 + (b * 7 + s * 5) % 30, 2, 90)
             for b in range(12) for s in (0, 5, 10) if not 4 <= b < 8]
    assert find_repeat(notes, n_bars=12, gap=(4, 8)) is None


def test_too_few_pairs_give_no_guide():
    assert find_repeat(clip(4, skip=(1, 3)), n_bars=4, gap=(1, 3)) is None


@pytest.fixture(scope="module")
def pipeline(tiny_model_file):
    pipe = Pipeline.load(tiny_model_file, device="cpu")
    yield pipe
    pipe.close()


def _gap(result, bars):
    lo, hi = bars.start * STEPS_PER_BAR, bars.stop * STEPS_PER_BAR
    return [(n.start - lo, n.pitch) for n in result.variations[0] if lo <= n.start < hi]


def test_infill_at_full_repeat_strength_continues_the_figure(pipeline):
    bars = BarRange(4, 8)
    notes = clip(16, skip=(4, 8))
    options = SamplingOptions(seed=3, repeat=1.0, in_key=False, guidance=1.0, steps=4)
    result = pipeline.infill(notes, n_bars=16, bars=bars, options=options)
    figure = [(n.start - 2 * STEPS_PER_BAR, n.pitch) for n in notes
              if 2 * STEPS_PER_BAR <= n.start < 4 * STEPS_PER_BAR]  # bars 3-4
    assert sorted(_gap(result, bars)) == sorted(
        (start + k * 2 * STEPS_PER_BAR, pitch) for k in (0, 1) for start, pitch in figure)
    outside = [n for n in result.variations[0] if not 64 <= n.start < 128]
    assert sorted(outside) == sorted(notes)


def test_the_default_repeats_and_given_chords_must_repeat_with_the_figure(pipeline):
    from engine.sampling import DEFAULT_REPEAT

    bars = BarRange(4, 8)
    notes = clip(16, skip=(4, 8))  # a 2-bar figure: bars 5-8 repeat bars 3-4

    def infill(repeat=None, chords=None):
        return pipeline.infill(notes, n_bars=16, bars=bars, chords=chords,
                               options=SamplingOptions(seed=3, repeat=repeat))

    default, noise = infill(), infill(repeat=0.0)
    assert default.variations == infill(repeat=DEFAULT_REPEAT).variations
    assert default.nfe < noise.nfe  # it starts part of the way down the noise schedule
    # chords that repeat with the figure: the gap is drafted from the bars it repeats
    along = parse_progression("C G C G C G C G C G C G C G C G")
    drafted = infill(chords=along)
    assert drafted.variations == infill(repeat=DEFAULT_REPEAT, chords=along).variations
    assert drafted.variations != infill(repeat=0.0, chords=along).variations
    assert drafted.nfe < infill(repeat=0.0, chords=along).nfe
    # chords that do not (bar 5 is C, the bar it repeats Am): from noise, whatever the
    # request's repeat, and not from the bars next to the gap either
    across = parse_progression("C G Am F C G Am F C G Am F C G Am F")
    fresh = infill(repeat=0.0, chords=across)
    assert infill(chords=across).variations == fresh.variations
    assert infill(repeat=1.0, chords=across).variations == fresh.variations
    # a progression shorter than the clip loops before it is compared, as it plays: C G Am
    # looped puts G on bar 11 and Am on bar 9, the bar it repeats (unlooped both are empty)
    late = BarRange(10, 14)
    notes_late = clip(16, skip=(10, 14))
    three = parse_progression("C G Am")

    def infill_late(repeat=None):
        return pipeline.infill(notes_late, n_bars=16, bars=late, chords=three,
                               options=SamplingOptions(seed=3, repeat=repeat))

    assert infill_late().variations == infill_late(repeat=0.0).variations
    assert infill_late().nfe == infill_late(repeat=0.0).nfe


def test_repeat_out_of_range_is_refused():
    from engine.errors import InputError

    with pytest.raises(InputError, match="repeat"):
        SamplingOptions(repeat=1.5)


def test_the_draft_is_as_strong_as_the_clip_repeats(pipeline):
    from engine.pipeline import DRAFT_FLOOR

    bars = BarRange(4, 8)

    def steps(notes, repeat):
        return pipeline.infill(notes, n_bars=12, bars=bars, options=SamplingOptions(
            seed=3, repeat=repeat, in_key=False, guidance=1.0, steps=10)).nfe

    exact = clip(12, skip=(4, 8))  # a figure repeating exactly: similarity 1
    assert steps(exact, 0.8) == round(10 * (1 - 0.8))
    # no period: from the bars next to the gap, at repeat x DRAFT_FLOOR
    loose = [Note(b * 16 + s, 50 + (b * 7 + s * 5) % 30, 2, 90)
             for b in range(12) for s in (0, 5, 10) if not 4 <= b < 8]
    assert find_repeat(loose, n_bars=12, gap=(4, 8)) is None
    assert steps(loose, 0.8) == round(10 * (1 - 0.8 * DRAFT_FLOOR)) < steps(loose, 0.0) == 10
