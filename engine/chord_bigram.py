"""A bigram model of POP909 chord progressions in key-relative terms: the plausibility
figure of ``diffjam eval-song`` and the "chords as a condition only" side of its ablation
(a progression sampled here is given to the song cascade as fixed chords).

Tokens
    A chord is read relative to the key it sounds in as a *Roman token*: the interval of
    its root above the key's tonic (0..11) and its triad family (:attr:`Chord.family`:
    ``maj`` (maj, 7, maj7, 6, 9, add9 ...), ``min``, ``dim``, ``aug``, ``sus``,
    ``power``, ``other``); inversions and extensions are ignored. In C major ``Am7`` and
    ``Am/C`` are both ``vi``; in A minor ``Am`` is ``i``. Major and minor keys have
    separate tables (a minor key's tokens are relative to its own tonic). "N" is no
    token: it breaks a progression (no change is counted across it).

Changes
    A progression is the song's chord spans in time order with "N" removed and
    consecutive spans of the same token merged; a *change* is one step of it (so a
    change always moves to another token, and ``C`` -> ``Cmaj7`` is none).

Fitting (:func:`fit_bigram`, :func:`fit_cache`)
    1. Per mode, count the first token of every progression (``start``) and every
       change (``counts[mode, a, b]``, zero diagonal), each chord read in the key that
       sounds at its start (POP909's key changes are followed).
    2. The harmonic rhythm on a grid of half bars (:data:`SLOT_STEPS`; POP909's spans
       last 8 steps 51 % of the time, 16 steps 28 %, 4 steps 15 %, and start on the bar
       line 48 %, on the half bar 28 %): each slot gets the token that sounds longest in
       it, and ``change[0]`` / ``change[1]`` are the shares of consecutive slot pairs
       (both with a chord) whose token differs at a bar line / at a half bar.
    3. ``voicing[mode][token]``: the intervals of the chord quality most often seen
       for that token (``V`` in a major key is usually a plain triad, sometimes ``7``);
       a token never seen is voiced as its family's triad.

Scoring (:meth:`ChordBigram.log_prob`)
    ``log P(b | a) = log((counts[a, b] + 1) / (sum_b' counts[a, b'] + T - 1))`` over the
    ``T - 1`` tokens other than ``a`` (add-one / Laplace smoothing; ``T`` =
    :data:`N_TOKENS`), natural logarithm. :func:`progression_log_prob` averages it over
    a song's changes. The first chord of a progression is not scored.

Sampling (:func:`sample_progression`)
    On the half-bar grid: the first slot's token from ``start`` (counts as weights); at
    every later slot the chord changes with probability ``change[0]`` on a bar line and
    ``change[1]`` on a half bar, to a token drawn from the *unsmoothed* counts of the
    current token's row (the start counts, less the current token, when the row is
    empty), so a sampled progression only uses changes POP909 has; equal slots are
    merged into one span, voiced by ``voicing`` with the root as the bass.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from engine.harmony import Chord, ChordSpan, Key, parse_vocab
from engine.pianoroll import STEPS_PER_BAR

if TYPE_CHECKING:
    from engine.cache import SongCache

__all__ = [
    "FAMILIES",
    "MODES",
    "N_TOKENS",
    "SLOT_STEPS",
    "ChordBigram",
    "chord_token",
    "fit_bigram",
    "fit_cache",
    "key_at",
    "progression_log_prob",
    "progression_tokens",
    "sample_progression",
    "token_name",
]

FAMILIES = ("maj", "min", "dim", "aug", "sus", "power", "other")
MODES = ("major", "minor")
N_TOKENS = 12 * len(FAMILIES)
SLOT_STEPS = STEPS_PER_BAR // 2  # the sampling grid: half bars
# a family's triad: how a token never seen in the training songs is voiced
_FAMILY_TRIADS = {"maj": (0, 4, 7), "min": (0, 3, 7), "dim": (0, 3, 6), "aug": (0, 4, 8),
                  "sus": (0, 5, 7), "power": (0, 7), "other": (0, 4, 7)}
_DEGREES = ("I", "bII", "II", "bIII", "III", "IV", "#IV", "V", "bVI", "VI", "bVII", "VII")
_FAMILY_MARKS = {"maj": "", "min": "", "dim": "°", "aug": "+", "sus": "sus", "power": "5",
                 "other": "?"}

Progression = tuple[tuple[int, int], ...]  # (start step, token) of each chord after merging


def chord_token(chord: Chord, key: Key) -> int | None:
    """The Roman token of ``chord`` in ``key`` (``12 * family index + root interval``), or
    None for "N"."""
    if chord.root is None:
        return None
    return FAMILIES.index(chord.family) * 12 + (chord.root - key.tonic) % 12


def token_name(token: int) -> str:
    """A readable Roman numeral for a token: ``I``, ``vi``, ``bVII``, ``vii°``, ``Vsus``."""
    family = FAMILIES[token // 12]
    degree = _DEGREES[token % 12]
    if family in ("min", "dim"):
        degree = degree.lower()
    return degree + _FAMILY_MARKS[family]


def key_at(keys: Sequence[tuple[int, Key]], step: int) -> Key:
    """The key sounding at ``step`` of ``(start step, Key)`` changes sorted by start (the
    first key before the first change)."""
    index = bisect.bisect_right([start for start, _ in keys], step) - 1
    return keys[max(index, 0)][1]


def progression_tokens(chords: Sequence[ChordSpan], keys: Sequence[tuple[int, Key]]
                       ) -> list[tuple[int, Progression]]:
    """The progressions of a song as ``(mode index, ((start, token), ...))``: chords in
    time order, each read in the key at its start, split at every "N" (and at a gap or a
    change of mode), consecutive equal tokens merged."""
    out: list[tuple[int, Progression]] = []
    current: list[tuple[int, int]] = []
    mode = -1
    last_stop = None
    for span in sorted(chords, key=lambda s: s.start):
        key = key_at(keys, span.start)
        token = chord_token(span.chord, key)
        span_mode = MODES.index(key.mode)
        if token is None or span_mode != mode or (last_stop is not None
                                                  and span.start > last_stop):
            if current:
                out.append((mode, tuple(current)))
            current = []
            mode = span_mode
        last_stop = None if token is None else span.stop
        if token is None:
            continue
        if not current or current[-1][1] != token:
            current.append((span.start, token))
    if current:
        out.append((mode, tuple(current)))
    return out


@dataclass(frozen=True)
class ChordBigram:
    """Counts of a bigram model of chord changes (see the module docstring).

    ``start``: float64 (2, T), first tokens per mode (0 major, 1 minor); ``counts``:
    float64 (2, T, T), changes from row token to column token, zero diagonal;
    ``change``: float64 (2,), the probability that the chord changes at a bar line and at
    a half bar; ``voicing[mode][token]``: intervals above the root; ``songs``: songs
    counted.
    """

    start: np.ndarray
    counts: np.ndarray
    change: np.ndarray
    voicing: tuple[tuple[tuple[int, ...], ...], ...]
    songs: int

    def log_prob(self, previous: int, token: int, mode: int) -> float:
        """Natural log of P(``token`` | ``previous``) under add-one smoothing over the
        ``T - 1`` tokens other than ``previous``."""
        row = self.counts[mode, previous]
        return float(np.log((row[token] + 1.0) / (row.sum() + N_TOKENS - 1)))

    def to_json(self) -> dict[str, object]:
        """A summary for reports: songs, changes and starts counted, the harmonic rhythm,
        and the ten most frequent changes per mode as Roman numerals."""
        top: dict[str, list[tuple[str, float]]] = {}
        for m, name in enumerate(MODES):
            flat = np.argsort(self.counts[m], axis=None)[::-1][:10]
            total = self.counts[m].sum()
            top[name] = [(f"{token_name(int(i) // N_TOKENS)} -> {token_name(int(i) % N_TOKENS)}",
                          round(float(self.counts[m].flat[i] / max(total, 1.0)), 4))
                         for i in flat]
        return {"songs": self.songs, "changes": self.counts.sum(axis=(1, 2)).tolist(),
                "starts": self.start.sum(axis=1).tolist(),
                "change_at_bar_line": round(float(self.change[0]), 4),
                "change_at_half_bar": round(float(self.change[1]), 4), "top_changes": top}


def _slot_tokens(chords: Sequence[ChordSpan], keys: Sequence[tuple[int, Key]], n_steps: int
                 ) -> np.ndarray:
    """int (n_slots,): per half bar the token sounding longest in it (-1: no chord)."""
    per_step = np.full(n_steps, -1, dtype=np.int64)
    for span in chords:
        token = chord_token(span.chord, key_at(keys, span.start))
        per_step[max(span.start, 0):min(span.stop, n_steps)] = -1 if token is None else token
    n_slots = n_steps // SLOT_STEPS
    slots = per_step[:n_slots * SLOT_STEPS].reshape(n_slots, SLOT_STEPS)
    out = np.full(n_slots, -1, dtype=np.int64)
    for i, row in enumerate(slots):
        sounding = row[row >= 0]
        if sounding.size:
            out[i] = int(np.bincount(sounding).argmax())
    return out


def fit_bigram(songs: Iterable[tuple[Sequence[ChordSpan], Sequence[tuple[int, Key]], int]]
               ) -> ChordBigram:
    """Fit the model on ``(chords, keys, n_steps)`` of each song (module docstring)."""
    start = np.zeros((2, N_TOKENS))
    counts = np.zeros((2, N_TOKENS, N_TOKENS))
    changed = np.zeros(2)  # [bar line, half bar]
    pairs = np.zeros(2)
    qualities: list[dict[int, dict[tuple[int, ...], int]]] = [{}, {}]
    n_songs = 0
    for chords, keys, n_steps in songs:
        n_songs += 1
        # 1. starts and changes
        for mode, progression in progression_tokens(chords, keys):
            start[mode, progression[0][1]] += 1
            for (_, a), (_, b) in zip(progression, progression[1:], strict=False):
                counts[mode, a, b] += 1
        # 2. harmonic rhythm on the half-bar grid
        slots = _slot_tokens(chords, keys, n_steps)
        for i in range(1, len(slots)):
            if slots[i] >= 0 and slots[i - 1] >= 0:
                where = i % 2  # slot 2k starts on a bar line
                pairs[where] += 1
                changed[where] += slots[i] != slots[i - 1]
        # 3. qualities per token
        for span in chords:
            key = key_at(keys, span.start)
            token = chord_token(span.chord, key)
            if token is not None:
                seen = qualities[MODES.index(key.mode)].setdefault(token, {})
                intervals = span.chord.intervals
                seen[intervals] = seen.get(intervals, 0) + span.duration
    change = np.divide(changed, pairs, out=np.full(2, 0.5), where=pairs > 0)
    voicing = tuple(
        tuple(max(qualities[m][t].items(), key=lambda kv: (kv[1], kv[0]))[0]
              if t in qualities[m] else _FAMILY_TRIADS[FAMILIES[t // 12]]
              for t in range(N_TOKENS))
        for m in range(2))
    return ChordBigram(start=start, counts=counts, change=change, voicing=voicing,
                       songs=n_songs)


def fit_cache(cache: SongCache, *, split: str | None = "train") -> ChordBigram:
    """:func:`fit_bigram` on the songs of ``split`` of a training cache (all with None)."""
    vocab = parse_vocab(cache.chord_vocab)

    def songs() -> Iterable[tuple[list[ChordSpan], list[tuple[int, Key]], int]]:
        for song in cache.songs:
            if split is not None and song.split != split:
                continue
            chords = [ChordSpan(start=int(s), duration=int(e - s), chord=vocab[int(i)])
                      for s, e, i in song.chords.tolist() if e > s and s >= 0]
            keys = sorted((int(s), Key(int(t) % 12, "minor" if int(m) else "major"))
                          for s, t, m in song.keys.tolist()) or [(0, Key(0, "major"))]
            yield chords, keys, int(song.n_bars) * STEPS_PER_BAR

    return fit_bigram(songs())


def progression_log_prob(table: ChordBigram, chords: Sequence[ChordSpan],
                         keys: Sequence[tuple[int, Key]]) -> tuple[float, int]:
    """Mean log-probability per change of a song's chords and the number of changes
    (NaN, 0 without any change)."""
    total, n = 0.0, 0
    for mode, progression in progression_tokens(chords, keys):
        for (_, a), (_, b) in zip(progression, progression[1:], strict=False):
            total += table.log_prob(a, b, mode)
            n += 1
    return (total / n if n else float("nan")), n


def _draw(weights: np.ndarray, rng: np.random.Generator) -> int:
    return int(rng.choice(len(weights), p=weights / weights.sum()))


def sample_progression(table: ChordBigram, n_bars: int, key: Key, rng: np.random.Generator
                       ) -> list[ChordSpan]:
    """A progression of ``n_bars`` bars in ``key`` from the model (module docstring):
    chord spans on the half-bar grid, song time (step 0 = bar 0), root-position."""
    if n_bars < 1:
        raise ValueError(f"n_bars must be >= 1, got {n_bars}")
    mode = MODES.index(key.mode)
    starts = table.start[mode]
    if starts.sum() <= 0:
        starts = np.ones(N_TOKENS)
    slots = [_draw(starts, rng)]
    for i in range(1, 2 * n_bars):
        current = slots[-1]
        if rng.random() >= table.change[i % 2]:
            slots.append(current)
            continue
        row = table.counts[mode, current].copy()
        if row.sum() <= 0:
            row = starts.copy()
            row[current] = 0.0
        if row.sum() <= 0:  # nothing to change to
            row = np.ones(N_TOKENS)
            row[current] = 0.0
        slots.append(_draw(row, rng))
    spans: list[ChordSpan] = []
    for i, token in enumerate(slots):
        if spans and i > 0 and slots[i - 1] == token:
            last = spans[-1]
            spans[-1] = ChordSpan(start=last.start, duration=last.duration + SLOT_STEPS,
                                  chord=last.chord)
            continue
        root = (key.tonic + token % 12) % 12
        spans.append(ChordSpan(start=i * SLOT_STEPS, duration=SLOT_STEPS,
                               chord=Chord.from_intervals(root, table.voicing[mode][token])))
    return spans
