"""Song-level bootstrap intervals on cases with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.bootstrap import SongBootstrap, excludes_zero, percentile_interval


def test_windows_of_one_song_are_drawn_together() -> None:
    boot = SongBootstrap(["001", "001", "002"], n_resamples=50, seed=1)
    assert boot.weights.shape == (50, 3) and boot.n_songs == 2
    assert np.array_equal(boot.weights[:, 0], boot.weights[:, 1])
    assert np.allclose(boot.weights[:, [0, 2]].sum(axis=1), 2.0)  # two songs per draw


def test_interval_of_two_songs() -> None:
    # song a scores 1, song b scores 3: a resample is {a, a} (mean 1, p 1/4), {a, b}
    # (2, p 1/2) or {b, b} (3, p 1/4), so the 95 % interval is (1, 3)
    boot = SongBootstrap(["a", "b"], n_resamples=2000, seed=0)
    means = boot.means([1.0, 3.0])
    assert set(np.unique(means)) == {1.0, 2.0, 3.0}
    assert np.mean(means == 2.0) == pytest.approx(0.5, abs=0.05)
    assert percentile_interval(means) == (1.0, 3.0)
    # NaN values do not count; a resample without any value is NaN
    nan_means = boot.means([math.nan, 3.0])
    assert set(np.unique(nan_means[np.isfinite(nan_means)])) == {3.0}
    assert np.isnan(nan_means).any()


def test_pooled_moments() -> None:
    boot = SongBootstrap(["a", "b"], n_resamples=2, seed=0)
    boot.weights = np.array([[1.0, 1.0], [2.0, 0.0]])
    # resample 1: values 0, 1, 1 -> mean 2/3, variance 2/3 - 4/9 = 2/9;
    # resample 2: 0, 1 twice -> mean 1/2, variance 1/4
    mean, var = boot.pooled_moments([[0.0, 1.0], [1.0]])
    assert mean == pytest.approx([2 / 3, 0.5]) and var == pytest.approx([2 / 9, 0.25])


def test_paired_difference_of_a_system_with_itself_is_zero() -> None:
    boot = SongBootstrap(["a", "b", "c"], n_resamples=200, seed=0)
    values = [0.2, 0.5, 0.9]
    diff = boot.means(values) - boot.means(values)
    assert percentile_interval(diff) == (0.0, 0.0)
    assert not excludes_zero(percentile_interval(diff))
    assert excludes_zero((0.1, 0.3)) and excludes_zero((-0.3, -0.1))
    assert not excludes_zero((-0.1, 0.3))
    assert all(math.isnan(x) for x in percentile_interval(np.array([math.nan])))
