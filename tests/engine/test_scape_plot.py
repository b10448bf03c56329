"""Segment fitness (Müller et al. 2011) on small matrices worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from engine import scape_plot


def alternating(n: int) -> np.ndarray:
    """Frames A B A B ...: 1 where both frames are the same letter, the penalty -2 else."""
    return np.array([[1.0 if (i - j) % 2 == 0 else -2.0 for j in range(n)] for i in range(n)])


def test_fitness_of_a_segment_that_occurs_twice() -> None:
    # segment [0, 2) = "A B" of A B A B: paths (0,0)-(1,1) and (2,0)-(3,1), score 4 over
    # 4 cells, covering 4 rows. score_n = (4 - 2) / 4, coverage_n = (4 - 2) / 4,
    # fitness = their harmonic mean = 0.5
    fit = scape_plot.segment_fitness(alternating(4), 0, 2)
    assert (fit.score, fit.length, fit.coverage) == (4.0, 4, 4)
    assert fit.score_n == pytest.approx(0.5) and fit.coverage_n == pytest.approx(0.5)
    assert fit.fitness == pytest.approx(0.5)


def test_fitness_of_one_frame_and_of_a_segment_that_never_recurs() -> None:
    # [0, 1) = "A": one-cell paths at rows 0 and 2 (rows 1, 3 would add -2): score 2,
    # length 2, coverage 2; score_n = 1 / 2, coverage_n = 1 / 4, fitness = 1 / 3
    one = scape_plot.segment_fitness(alternating(4), 0, 1)
    assert (one.score, one.length, one.coverage) == (2.0, 2, 2)
    assert one.fitness == pytest.approx(1 / 3)
    # [1, 3) = "B A": only its own diagonal fits (row 3 alone is too short for a path)
    alone = scape_plot.segment_fitness(alternating(4), 1, 2)
    assert (alone.score, alone.coverage, alone.fitness) == (2.0, 2, 0.0)


def test_fitness_by_start_agrees_with_single_segments() -> None:
    rng = np.random.default_rng(3)
    x = rng.random((9, 4))
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    ssm = scape_plot.threshold_ssm(unit @ unit.T, keep=0.3)
    together = scape_plot.fitness_by_start(ssm, 3)
    assert len(together) == 7
    assert together == [scape_plot.segment_fitness(ssm, s, 3) for s in range(7)]
    with pytest.raises(ValueError, match="length"):
        scape_plot.fitness_by_start(ssm, 10)


def test_threshold_keeps_the_top_share_scaled() -> None:
    sim = np.array([[1.0, 0.9, 0.1], [0.9, 1.0, 0.5], [0.1, 0.5, 1.0]])
    # sorted: 0.1 0.1 0.5 0.5 0.9 0.9 1 1 1; keep 0.5 -> rank int(9 * 0.5) = 4: t = 0.9;
    # 0.9 -> 0, 1 -> 1, the rest -2, diagonal 1
    out = scape_plot.threshold_ssm(sim, keep=0.5)
    assert out.tolist() == [[1.0, 0.0, -2.0], [0.0, 1.0, -2.0], [-2.0, -2.0, 1.0]]
    # all equal: everything kept as 1
    assert (scape_plot.threshold_ssm(np.ones((3, 3))) == 1.0).all()
    with pytest.raises(ValueError, match="square"):
        scape_plot.threshold_ssm(np.ones((2, 3)))
