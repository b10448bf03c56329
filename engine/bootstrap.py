"""Song-level bootstrap: 95 % intervals for evaluation figures and for differences.

Windows of one song are not independent (a song repeats itself), so the unit of
resampling is the song (a cluster bootstrap; Efron & Tibshirani, *An Introduction to the
Bootstrap*, 1993, §13 for the percentile interval; Field & Welsh, "Bootstrapping
clustered data", JRSS B 2007, for resampling clusters):

1. Draw ``n_songs`` songs with replacement, ``n_resamples`` times (seeded).
2. Recompute the figure on each resample: every window of a drawn song counts as many
   times as its song was drawn.
3. The interval is the 2.5th and 97.5th percentile of the resampled figures.

Two systems scored on the same windows are compared with a *paired* bootstrap: the same
draws give both figures, and the interval of their difference says whether it could be 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["DEFAULT_RESAMPLES", "SongBootstrap", "excludes_zero", "percentile_interval"]

DEFAULT_RESAMPLES = 1000


class SongBootstrap:
    """Resampling weights of windows, by song.

    ``song_ids[i]`` is the song of window ``i``. :attr:`weights` is float (n_resamples,
    n_windows): how often window ``i`` counts in resample ``b``.
    """

    def __init__(self, song_ids: Sequence[str], *, n_resamples: int = DEFAULT_RESAMPLES,
                 seed: int = 0) -> None:
        if n_resamples < 1:
            raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")
        songs = sorted(set(song_ids))
        index = {song: i for i, song in enumerate(songs)}
        groups = np.array([index[s] for s in song_ids], dtype=np.int64)
        rng = np.random.default_rng(seed)
        draws = rng.integers(0, len(songs), size=(n_resamples, len(songs)))
        counts = np.zeros((n_resamples, len(songs)))
        np.add.at(counts, (np.arange(n_resamples)[:, None], draws), 1.0)
        self.n_songs = len(songs)
        self.weights = counts[:, groups]

    @property
    def n_resamples(self) -> int:
        return int(self.weights.shape[0])

    def means(self, values: Sequence[float]) -> np.ndarray:
        """(n_resamples,) weighted mean of the finite per-window ``values`` (NaN where a
        resample holds none), as ``nanmean`` over the resampled windows."""
        array = np.asarray(values, dtype=np.float64)
        finite = np.isfinite(array)
        total = self.weights @ np.where(finite, array, 0.0)
        count = self.weights @ finite.astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / np.where(count > 0, count, 1.0), np.nan)

    def pooled_moments(self, pools: Sequence[Sequence[float]]) -> tuple[np.ndarray, np.ndarray]:
        """(n_resamples,) mean and population variance of the values of all windows'
        ``pools`` (one list per window) pooled together, per resample."""
        sums = np.array([float(np.sum(p)) for p in pools])
        squares = np.array([float(np.sum(np.square(p))) for p in pools])
        sizes = np.array([float(len(p)) for p in pools])
        count = self.weights @ sizes
        safe = np.where(count > 0, count, 1.0)
        mean = np.where(count > 0, (self.weights @ sums) / safe, np.nan)
        var = np.where(count > 0, (self.weights @ squares) / safe - mean**2, np.nan)
        return mean, np.maximum(var, 0.0)


def percentile_interval(samples: np.ndarray, *, level: float = 0.95
                        ) -> tuple[float, float]:
    """Percentile interval of the finite ``samples`` at ``level`` (NaN, NaN without any)."""
    array = np.asarray(samples, dtype=np.float64)
    array = array[np.isfinite(array)]
    if array.size == 0:
        return float("nan"), float("nan")
    tail = 100.0 * (1.0 - level) / 2.0
    lo, hi = np.percentile(array, [tail, 100.0 - tail])
    return float(lo), float(hi)


def excludes_zero(interval: tuple[float, float]) -> bool:
    """Whether an interval of a difference lies wholly above or wholly below 0."""
    lo, hi = interval
    return bool(lo > 0.0 or hi < 0.0)
