"""Fitness of repeated segments in a self-similarity matrix (the scape plot's values).

Source: Müller, Grosche & Jiang, "A Segment-Based Fitness Measure for Capturing Repetitive
Structure in Music Recordings", ISMIR 2011, §3-4 (also Müller, *Fundamentals of Music
Processing*, 2nd ed., §4.3 "Audio Thumbnailing" and its scape plot). Wu & Yang's
structureness indicator (``engine.metrics.structure_indicator``) is the largest fitness
over a range of segment lengths.

A self-similarity matrix here is float (N, N) with ``S[n, n] = 1``, values <= 1 and a
negative penalty for dissimilar cells (:func:`threshold_ssm`). A segment ``α = [s, s + M)``
of M frames is scored by its *optimal path family*: non-overlapping paths through the
columns ``α`` of S (each path runs from the first to the last column of α, steps
(1, 1), (2, 1) and (1, 2) in (row, column)) that maximise the summed cell values. The
rows a path covers form one repetition of the segment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["SegmentFitness", "fitness_by_start", "segment_fitness", "threshold_ssm"]

_EPS = 1e-16  # as in Müller's reference code: 0/0 gives 0


@dataclass(frozen=True)
class SegmentFitness:
    """Measures of one segment (Müller et al. 2011, eq. 5-8).

    ``score``: summed SSM values of the optimal path family (the segment's own diagonal
    path included); ``length``: cells on all its paths; ``coverage``: rows covered by its
    induced segments; ``score_n = (score - M) / length``; ``coverage_n = (coverage - M) /
    N``; ``fitness``: harmonic mean of the two normalised values, in [0, 1) for a
    thresholded SSM.
    """

    score: float
    length: int
    coverage: int
    score_n: float
    coverage_n: float
    fitness: float


def threshold_ssm(similarity: np.ndarray, *, keep: float = 0.15, penalty: float = -2.0
                  ) -> np.ndarray:
    """Relative thresholding of a similarity matrix (Müller, FMP §4.2.2.1; the setting the
    FMP scape-plot notebook uses).

    1. The threshold ``t`` is the value at rank ``floor(size * (1 - keep))`` of the sorted
       entries, so about the ``keep`` share of largest entries stays.
    2. Entries ``>= t`` are scaled linearly to [0, 1] by ``(v - t) / (max - t)`` (all 1
       when ``max == t``); the others are set to ``penalty``.
    3. The diagonal is set to 1 (the fitness measure needs ``S[n, n] = 1``).
    """
    sim = np.asarray(similarity, dtype=np.float64)
    if sim.ndim != 2 or sim.shape[0] != sim.shape[1] or sim.shape[0] == 0:
        raise ValueError(f"similarity must be a non-empty square matrix, got {sim.shape}")
    if not 0.0 < keep <= 1.0:
        raise ValueError(f"keep must be in (0, 1], got {keep}")
    values = np.sort(sim, axis=None)
    t = values[min(values.size - 1, int(values.size * (1.0 - keep)))]
    top = values[-1]
    if top > t:
        scaled = (sim - t) / (top - t)
    else:
        scaled = np.ones_like(sim)
    out = np.where(sim >= t, scaled, penalty)
    np.fill_diagonal(out, 1.0)
    return out


def fitness_by_start(ssm: np.ndarray, length: int, starts: Sequence[int] | None = None
                     ) -> list[SegmentFitness]:
    """:class:`SegmentFitness` of the segments ``[s, s + length)`` for every ``s`` in
    ``starts`` (default: all that fit), computed together.

    Accumulated score matrix (Müller et al. 2011, §4, eq. 9-11), rows ``n = 0..N-1``,
    columns ``m = 1..M`` for the segment's frames and ``m = 0`` an "elevator" column where
    the family rests between paths:

    1. ``D[0, 0] = 0``; ``D[n, 0] = max(D[n-1, 0], D[n-1, M])`` (rest, or end a path);
    2. ``D[n, 1] = D[n, 0] + S[n, s]`` (a path starts at the segment's first column);
    3. ``D[n, m] = S[n, s+m-1] + max(D[n-1, m-1], D[n-2, m-1], D[n-1, m-2])`` for m >= 2
       (the (1, 2) step only from m - 2 >= 1, so that every path covers the whole
       segment); cells outside the matrix are -inf;
    4. the family's score is ``max(D[N-1, 0], D[N-1, M])``.

    Ties are broken as Müller's backtracking does (rest rather than end a path in the
    elevator, end a path at the last row, steps in the order listed). Path lengths and
    coverage are carried forward with each cell's best predecessor instead of
    backtracking.
    """
    sim = np.asarray(ssm, dtype=np.float64)
    n_frames = sim.shape[0]
    if not 1 <= length <= n_frames:
        raise ValueError(f"length must be in [1, {n_frames}], got {length}")
    first = np.arange(n_frames - length + 1) if starts is None else np.asarray(starts, int)
    if first.size == 0:
        return []
    if first.min() < 0 or first.max() + length > n_frames:
        raise ValueError("every segment must lie inside the matrix")
    m_cols = length
    batch = first.size
    columns = first[:, None] + np.arange(m_cols)[None, :]  # (B, M) frame of column m + 1
    neg = -np.inf
    # Per row: D (score), L (cells on all paths so far), C (rows covered by finished
    # paths), R (first row of the current path); shape (B, M + 1), column 0 the elevator.
    blank = (np.full((batch, m_cols + 1), neg), np.zeros((batch, m_cols + 1), int),
             np.zeros((batch, m_cols + 1), int), np.zeros((batch, m_cols + 1), int))
    prev2, prev1 = blank, blank
    for n in range(n_frames):
        d = np.full((batch, m_cols + 1), neg)
        cells = np.zeros((batch, m_cols + 1), int)
        cover = np.zeros((batch, m_cols + 1), int)
        begin = np.zeros((batch, m_cols + 1), int)
        # step 1: the elevator column
        if n == 0:
            d[:, 0] = 0.0
        else:
            pd, pl, pc, pr = prev1
            end_path = pd[:, m_cols] > pd[:, 0]
            d[:, 0] = np.where(end_path, pd[:, m_cols], pd[:, 0])
            cells[:, 0] = np.where(end_path, pl[:, m_cols], pl[:, 0])
            cover[:, 0] = np.where(end_path, pc[:, m_cols] + (n - 1) - pr[:, m_cols] + 1,
                                   pc[:, 0])
        row = sim[n, columns]  # (B, M)
        # step 2: a path starts
        d[:, 1] = d[:, 0] + row[:, 0]
        cells[:, 1] = cells[:, 0] + 1
        cover[:, 1] = cover[:, 0]
        begin[:, 1] = n
        # step 3: continue a path
        if m_cols >= 2:
            candidates = [prev1, prev2, prev1]
            offsets = [1, 1, 2]
            stacked_d = np.full((3, batch, m_cols - 1), neg)
            for k, (state, off) in enumerate(zip(candidates, offsets, strict=True)):
                lo = 2 - off  # source column of target column 2
                src = state[0][:, lo : lo + m_cols - 1]
                if off == 2:
                    src = src.copy()
                    src[:, 0] = neg  # no (1, 2) step out of the elevator
                stacked_d[k] = src
            choice = np.argmax(stacked_d, axis=0)  # first maximum: the listed order
            best = np.take_along_axis(stacked_d, choice[None], axis=0)[0]
            d[:, 2:] = row[:, 1:] + best
            for slot, (state, off) in enumerate(zip(candidates, offsets, strict=True)):
                lo = 2 - off
                chosen = choice == slot
                cells[:, 2:] = np.where(chosen, state[1][:, lo : lo + m_cols - 1] + 1,
                                        cells[:, 2:])
                cover[:, 2:] = np.where(chosen, state[2][:, lo : lo + m_cols - 1],
                                        cover[:, 2:])
                begin[:, 2:] = np.where(chosen, state[3][:, lo : lo + m_cols - 1],
                                        begin[:, 2:])
        prev2, prev1 = prev1, (d, cells, cover, begin)
    # step 4: the optimal family ends resting or at the end of a path (ties: a path)
    d, cells, cover, begin = prev1
    end_path = d[:, m_cols] >= d[:, 0]
    score = np.where(end_path, d[:, m_cols], d[:, 0])
    length_all = np.where(end_path, cells[:, m_cols], cells[:, 0])
    coverage = np.where(end_path, cover[:, m_cols] + (n_frames - 1) - begin[:, m_cols] + 1,
                        cover[:, 0])
    out = []
    for b in range(batch):
        score_n = (float(score[b]) - m_cols) / (int(length_all[b]) + _EPS)
        coverage_n = (int(coverage[b]) - m_cols) / (n_frames + _EPS)
        fitness = 2.0 * score_n * coverage_n / (score_n + coverage_n + _EPS)
        out.append(SegmentFitness(score=float(score[b]), length=int(length_all[b]),
                                  coverage=int(coverage[b]), score_n=score_n,
                                  coverage_n=coverage_n, fitness=fitness))
    return out


def segment_fitness(ssm: np.ndarray, start: int, length: int) -> SegmentFitness:
    """:class:`SegmentFitness` of the one segment ``[start, start + length)``."""
    return fitness_by_start(ssm, length, [start])[0]
