"""Where the music around an infill gap repeats, and which bars the gap's bars repeat.

Pop music repeats whole figures every 2, 4 or 8 bars, and a producer who selects bars
5-8 of a clip whose bars 1-4 and 9-12 are the same figure expects the figure to go on.
The network sees the bars around the gap, but copying a figure from four bars away is
what it does worst (docs/model-card.md). So, like :mod:`engine.context_chords` does for
chords, this module finds the clip's repeat period from its notes:

1. each bar outside the gap becomes the set of its note onsets as (8th-note position,
   pitch);
2. for each candidate period (:data:`PERIODS`, bars), the similarity of every pair of
   known bars one period apart is the Jaccard index of their sets (bars silent in both
   are left out), averaged over the pairs;
3. the best period wins if its mean similarity reaches :data:`MIN_SIMILARITY` over at
   least :data:`MIN_PAIRS` pairs (ties go to the shorter period); each gap bar then
   takes the bar one period earlier, else one period later, walking through gap bars
   already assigned.

The pipeline starts the gap's sampling from those bars, noised (SDEdit: Meng et al.
2022) by ``SamplingOptions.repeat`` scaled by the found period's similarity
(``engine.pipeline.DRAFT_FLOOR``): the model writes a variation of the repeated figure
that fits its own context, not a copy; with ``repeat = 0`` it starts from noise as
always. Where no period qualifies, :func:`neighbour_guide` gives each gap bar the bar
one gap length away, and the pipeline starts from those at ``repeat`` x DRAFT_FLOOR:
from noise alone, the model dropped the melody of such gaps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.pianoroll import STEPS_PER_BAR, Note

__all__ = ["MIN_PAIRS", "MIN_SIMILARITY", "PERIODS", "RepeatGuide", "find_repeat",
           "neighbour_guide"]

PERIODS = (1, 2, 4, 8)
MIN_SIMILARITY = 0.25
MIN_PAIRS = 2


@dataclass(frozen=True)
class RepeatGuide:
    """A found repeat period and, per gap bar, the bar it repeats (0-based)."""

    period_bars: int
    similarity: float
    pairs: int
    sources: dict[int, int]


def _bar_sets(notes: Sequence[Note], n_bars: int) -> list[frozenset[tuple[int, int]]]:
    bars: list[set[tuple[int, int]]] = [set() for _ in range(n_bars)]
    for note in notes:
        bar = note.start // STEPS_PER_BAR
        if 0 <= bar < n_bars:
            bars[bar].add(((note.start % STEPS_PER_BAR) // 2, note.pitch))
    return [frozenset(b) for b in bars]


def find_repeat(notes: Sequence[Note], *, n_bars: int, gap: tuple[int, int]
                ) -> RepeatGuide | None:
    """The repeat period of a clip of ``n_bars`` bars around the bars ``gap`` =
    (start, stop) (0-based, half-open), or None; ``notes`` are the notes outside it."""
    lo, hi = gap
    sets = _bar_sets([n for n in notes if not lo * STEPS_PER_BAR <= n.start
                      < hi * STEPS_PER_BAR], n_bars)
    known = [not lo <= b < hi for b in range(n_bars)]
    best: tuple[float, int, int] | None = None  # (similarity, -period, pairs)
    for period in PERIODS:
        scores = []
        for b in range(n_bars - period):
            a, c = sets[b], sets[b + period]
            if known[b] and known[b + period] and (a or c):
                scores.append(len(a & c) / len(a | c))
        if len(scores) < MIN_PAIRS:
            continue
        score = (sum(scores) / len(scores), -period, len(scores))
        if best is None or score[:2] > best[:2]:
            best = score
    if best is None or best[0] < MIN_SIMILARITY:
        return None
    guide = _guide(-best[1], gap, known)
    return RepeatGuide(guide.period_bars, best[0], best[2], guide.sources) if guide else None


def neighbour_guide(*, n_bars: int, gap: tuple[int, int]) -> RepeatGuide | None:
    """Where no period qualifies: each gap bar takes the bar one gap length earlier
    (rounded up to a power of two bars, else later), so the gap starts from the music
    next to it (its register, density and melody line) instead of from nothing;
    ``similarity`` 0. None when no period gives every gap bar a source."""
    lo, hi = gap
    known = [not lo <= b < hi for b in range(n_bars)]
    period = 1
    while period < hi - lo:
        period *= 2
    while period >= 1:
        guide = _guide(period, gap, known)
        if guide is not None and len(guide.sources) == hi - lo:  # a bar left out: silence
            return guide
        period //= 2
    return None


def _guide(period: int, gap: tuple[int, int], known: Sequence[bool]) -> RepeatGuide | None:
    """Each gap bar's source at ``period``: one period earlier, walking back through gap
    bars already assigned, else the first known bar a whole number of periods later."""
    n_bars = len(known)
    sources: dict[int, int] = {}
    for bar in range(*gap):
        back = bar - period
        while back >= 0 and not known[back] and back not in sources:
            back -= period
        if back >= 0:
            sources[bar] = sources.get(back, back)
            continue
        ahead = bar + period
        while ahead < n_bars and not known[ahead]:
            ahead += period
        if ahead < n_bars:
            sources[bar] = ahead
    return RepeatGuide(period, 0.0, 0, sources) if sources else None
