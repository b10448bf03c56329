"""Choosing among candidates: a request can draw several samples in one batch and keep the
one that best does what was asked (SamplingOptions.candidates, engine.pipeline).

What "best" means depends on the request, and each score reads only the request itself,
never a reference answer:

- an accompaniment (or a generation given chords) should play the chords it was given:
  :func:`chord_fit`, the share of the requested chords that are recognised in the notes
  (the recogniser of :mod:`engine.harmony`, per chord span, then per beat), ties broken by
  the cosine similarity of the notes' pitch-class profile to the chords;
- an infill should carry the melody's register and the texture's density through the
  gap: :func:`line_fit`, how far the mean pitch of the gap's top line lies from that of
  the bars around the gap (a gap that drops the melody has its top line down in the
  chords), plus how far its notes a bar lie from theirs.

Drawing candidates costs a larger batch, not more network passes: the sampler steps are
the same, each over ``variations x candidates`` rolls. The model card measures both the
gain and the cost ("Choosing among candidates").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from engine import metrics
from engine.harmony import ChordSpan
from engine.pianoroll import STEPS_PER_BAR, STEPS_PER_BEAT, Note

Score = Callable[[Sequence[Note]], tuple[float, ...]]

# Semitones of top-line distance that an infill's notes a bar being e times (or 1/e) those
# of the bars around the gap weigh in :func:`line_fit`. Measured with diffjam-v5-fast2 on
# the valid split (87 windows, no chords, the best of 8; docs/model-card.md): 4 took the
# gap from 0.81x to 0.83x the real notes, its top line from 2.82 to 2.75 semitones off and
# beat PC F1 from 0.597 to 0.604; 10 gave the same (0.84x, 2.75, 0.603).
DENSITY_WEIGHT = 4.0


def chord_fit(chords: Sequence[ChordSpan], *, start: int, stop: int) -> Score | None:
    """Score of a candidate's new notes (steps ``[start, stop)``) against the requested
    ``chords``: (chord accuracy per span, per beat, chord similarity), higher is better;
    None when no chord ("N" aside) sounds in the steps, so there is nothing to compare."""
    spans = [s for s in chords if s.start < stop and s.stop > start and not s.chord.is_no_chord]
    if not spans:
        return None

    def score(notes: Sequence[Note]) -> tuple[float, ...]:
        values = (
            metrics.chord_accuracy(notes, spans, start=start, stop=stop),
            metrics.chord_accuracy(notes, spans, start=start, stop=stop, window=STEPS_PER_BEAT),
            metrics.chord_similarity(notes, spans, start=start, stop=stop),
        )
        return tuple(0.0 if math.isnan(v) else v for v in values)

    return score


def line_fit(context: Sequence[Note], *, start_bar: int, stop_bar: int) -> Score | None:
    """Score of a candidate's notes in the gap ``[start_bar, stop_bar)`` of an infill, higher
    is better: minus the distance in semitones between the mean pitch of the gap's top
    line (:func:`engine.metrics.top_line`) and that of the top line of the ``context`` notes
    in the bars around the gap (as many bars on each side as the gap holds), minus
    :data:`DENSITY_WEIGHT` times ``|ln|`` of the gap's notes a bar over theirs (a bar
    around the gap counts when a note starts in it). A silent gap scores lowest. None
    without context notes around the gap."""
    lo, hi = start_bar * STEPS_PER_BAR, stop_bar * STEPS_PER_BAR
    reach = hi - lo
    around = [n for n in context if lo - reach <= n.start < lo or hi <= n.start < hi + reach]
    if not around:
        return None
    reference = metrics.mean_pitch(metrics.top_line(around))
    density = len(around) / len({n.start // STEPS_PER_BAR for n in around})

    def score(notes: Sequence[Note]) -> tuple[float, ...]:
        gap = [n for n in notes if lo <= n.start < hi]
        if not gap:
            return (-math.inf,)
        register = abs(metrics.mean_pitch(metrics.top_line(gap)) - reference)
        texture = abs(math.log(len(gap) / (stop_bar - start_bar) / density))
        return (-register - DENSITY_WEIGHT * texture,)

    return score


def choose(candidates: Sequence[Sequence[Note]], score: Score, *, groups: int
           ) -> tuple[list[int], list[tuple[float, ...]]]:
    """Split ``candidates`` into ``groups`` runs of equal length (one run per variation)
    and return the index of the best-scoring candidate of each run (the first of equal
    ones) and every candidate's score."""
    scores = [score(c) for c in candidates]
    size = len(candidates) // groups
    best = []
    for g in range(groups):
        run = range(g * size, (g + 1) * size)
        best.append(max(run, key=lambda i: (scores[i], -i)))
    return best, scores
