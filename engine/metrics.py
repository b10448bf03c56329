"""Objective metrics for generated clips (see ``docs/metrics.md`` for the definitions).

Every metric is a plain function over notes on the 16th grid (:class:`engine.pianoroll.Note`,
time in steps, 16 steps a bar) and returns a float (or a small frozen dataclass). Empty
input gives the documented neutral value or NaN, never an exception: an evaluation run
aggregates with ``nanmean``.

Sources
    - Framewise self-similarity (overlapping area, Consistency, Variance): Mittal, Engel,
      Hawthorne & Simon, "Symbolic Music Generation with Diffusion Models", ISMIR 2021, §4.
    - Out-of-key rate: Zhu, Liu, Wang, Jiang & Zheng, "Efficient Fine-Grained Guidance for
      Diffusion-Based Symbolic Music Generation", ICML 2025 (arXiv:2410.08435), §5.
    - Chord accuracy / chord similarity: after the same paper; our recogniser and our
      chroma-cosine similarity are documented substitutions (``docs/metrics.md``).
    - PCU, TUP, PR: Dong et al. 2018 (MuseGAN) / Yang & Lerch 2020 / MusPy.
    - Structureness indicator: after Wu & Yang, "The Jazz Transformer on the Front Line",
      ISMIR 2020, §5 (a lag-diagonal simplification of their fitness scape plot).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from engine.harmony import ChordSpan, Key, recognize_chord, recognize_chord_from_notes
from engine.pianoroll import STEPS_PER_BAR, STEPS_PER_BEAT, Note

__all__ = [
    "OAScore",
    "SeamJump",
    "best_key_out_of_key_step_rate",
    "chord_accuracy",
    "chord_similarity",
    "consistency_variance",
    "framewise_overlap",
    "gaussian_overlap",
    "key_mask_per_step",
    "note_density",
    "out_of_key_note_rate",
    "out_of_key_step_rate",
    "pitch_class_count",
    "pitch_range",
    "polyphony",
    "seam_jump",
    "structureness",
    "unique_pitches",
]

_MIN_SIGMA = 1e-3  # floor of a fitted standard deviation (pitch in semitones, duration in steps)


# ----------------------------------------------------------- framewise self-similarity


def _phi(x: float) -> float:
    """Standard normal CDF."""
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _normal_mass(mu: float, sigma: float, lo: float, hi: float) -> float:
    """Probability mass of N(mu, sigma^2) in [lo, hi]."""
    return _phi((hi - mu) / sigma) - _phi((lo - mu) / sigma)


def gaussian_overlap(mu1: float, sigma1: float, mu2: float, sigma2: float) -> float:
    """Overlapping area ``OA = ∫ min(f1(x), f2(x)) dx`` of two normal densities, in [0, 1].

    Closed form (Mittal et al. 2021 use this quantity between adjacent frames):

    1. Equal sigmas: the densities cross once at the midpoint, so
       ``OA = 2 Φ(-|mu1 - mu2| / (2 sigma))``.
    2. Otherwise ``f1 = f2`` is the quadratic ``a x² + b x + c = 0`` with
       ``a = 1/s1² - 1/s2²``, ``b = 2 (mu2/s2² - mu1/s1²)``,
       ``c = mu1²/s1² - mu2²/s2² - 2 ln(s2/s1)``; its two roots ``r1 < r2`` bound the
       interval where the narrower density lies above the wider one, so
       ``OA = P_wide(r1 < X < r2) + 1 - P_narrow(r1 < X < r2)``.

    Sigmas are floored at 1e-3 so that a frame of identical values stays defined (two equal
    point masses overlap fully, two different ones not at all).
    """
    s1 = max(float(sigma1), _MIN_SIGMA)
    s2 = max(float(sigma2), _MIN_SIGMA)
    m1, m2 = float(mu1), float(mu2)
    if math.isclose(s1, s2, rel_tol=1e-9):
        return 2.0 * _phi(-abs(m1 - m2) / (2.0 * s1))
    a = 1.0 / s1**2 - 1.0 / s2**2
    b = 2.0 * (m2 / s2**2 - m1 / s1**2)
    c = m1**2 / s1**2 - m2**2 / s2**2 - 2.0 * math.log(s2 / s1)
    disc = max(b * b - 4.0 * a * c, 0.0)  # > 0 whenever the sigmas differ
    root = math.sqrt(disc)
    r1, r2 = sorted(((-b - root) / (2.0 * a), (-b + root) / (2.0 * a)))
    (m_n, s_n), (m_w, s_w) = sorted(((m1, s1), (m2, s2)), key=lambda p: p[1])
    overlap = _normal_mass(m_w, s_w, r1, r2) + 1.0 - _normal_mass(m_n, s_n, r1, r2)
    return min(1.0, max(0.0, overlap))


def framewise_overlap(
    notes: Iterable[Note],
    *,
    n_bars: int,
    feature: str,
    frame_bars: int = 4,
    hop_bars: int = 2,
) -> list[float]:
    """Overlapping areas between Gaussians fitted to adjacent frames (Mittal et al. 2021).

    The clip of ``n_bars`` bars is cut into frames of ``frame_bars`` bars every
    ``hop_bars`` bars (8 bars -> frames at bars 0, 2, 4). In each frame a normal
    distribution is fitted (mean, population standard deviation) to the ``feature`` of the
    notes whose onset lies in the frame: ``"pitch"`` (MIDI number) or ``"duration"``
    (steps). Returns the OA (:func:`gaussian_overlap`) of every pair of adjacent frames
    where both frames have notes; frames without notes break the chain.
    """
    if feature not in ("pitch", "duration"):
        raise ValueError(f"feature must be 'pitch' or 'duration', got {feature!r}")
    if frame_bars < 1 or hop_bars < 1:
        raise ValueError("frame_bars and hop_bars must be >= 1")
    note_list = list(notes)
    fits: list[tuple[float, float] | None] = []
    for first in range(0, n_bars - frame_bars + 1, hop_bars):
        lo, hi = first * STEPS_PER_BAR, (first + frame_bars) * STEPS_PER_BAR
        values = [float(getattr(n, feature)) for n in note_list if lo <= n.start < hi]
        fits.append((float(np.mean(values)), float(np.std(values))) if values else None)
    overlaps = []
    for left, right in itertools.pairwise(fits):
        if left is not None and right is not None:
            overlaps.append(gaussian_overlap(left[0], left[1], right[0], right[1]))
    return overlaps


@dataclass(frozen=True)
class OAScore:
    """Consistency and Variance of generated OA values against ground-truth ones, in [0, 1]."""

    consistency: float
    variance: float


def consistency_variance(generated: Sequence[float], ground_truth: Sequence[float]) -> OAScore:
    """Mittal et al. 2021, §4: with ``μ, σ²`` the mean and (population) variance of the OA
    values pooled over a set of clips,

        Consistency = max(0, 1 - |μ_gen - μ_gt| / μ_gt)
        Variance    = max(0, 1 - |σ²_gen - σ²_gt| / σ²_gt)

    NaN when either set is empty or the ground-truth statistic is 0.
    """
    gen = np.asarray(generated, dtype=np.float64)
    gt = np.asarray(ground_truth, dtype=np.float64)
    if gen.size == 0 or gt.size == 0:
        return OAScore(math.nan, math.nan)
    mu_gen, mu_gt = float(gen.mean()), float(gt.mean())
    var_gen, var_gt = float(gen.var()), float(gt.var())
    consistency = max(0.0, 1.0 - abs(mu_gen - mu_gt) / mu_gt) if mu_gt > 0 else math.nan
    variance = max(0.0, 1.0 - abs(var_gen - var_gt) / var_gt) if var_gt > 0 else math.nan
    return OAScore(consistency, variance)


# ------------------------------------------------------------------------------ harmony


def key_mask_per_step(keys: Sequence[tuple[int, Key]], n_steps: int) -> np.ndarray:
    """Bool (n_steps, 12) scale mask from ``(start step, Key)`` changes sorted by start; steps
    before the first change use the first key."""
    if not keys:
        raise ValueError("at least one key is needed")
    mask = np.zeros((n_steps, 12), dtype=bool)
    for i, (start, key) in enumerate(keys):
        lo = 0 if i == 0 else max(0, start)
        hi = n_steps if i + 1 == len(keys) else max(lo, min(n_steps, keys[i + 1][0]))
        mask[lo:hi] = key.scale_mask()
    return mask


def _as_step_mask(scale: np.ndarray, n_steps: int) -> np.ndarray:
    scale = np.asarray(scale, dtype=bool)
    if scale.shape == (12,):
        return np.broadcast_to(scale, (n_steps, 12))
    if scale.shape != (n_steps, 12):
        raise ValueError(f"scale mask must have shape (12,) or ({n_steps}, 12), got {scale.shape}")
    return scale


def out_of_key_step_rate(notes: Iterable[Note], scale: np.ndarray, *, n_steps: int) -> float:
    """Share of the ``n_steps`` 16th steps during which at least one out-of-key note sounds
    (Zhu et al. 2024/25, §5: "the percentage of steps ... containing at least one out-of-key
    note, where each step corresponds to a 16th note"). ``scale``: bool (12,) or
    (n_steps, 12) mask of the in-key pitch classes. A note sounds on ``[start, end)``."""
    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    mask = _as_step_mask(scale, n_steps)
    flagged = np.zeros(n_steps, dtype=bool)
    for note in notes:
        lo, hi = max(0, note.start), min(n_steps, note.end)
        if hi <= lo:
            continue
        outside = ~mask[lo:hi, note.pitch % 12]
        flagged[lo:hi] |= outside
    return float(flagged.mean())


def out_of_key_note_rate(notes: Iterable[Note], scale: np.ndarray, *, n_steps: int) -> float:
    """Share of notes whose pitch class is outside the key at their onset step (NaN when
    there are no notes inside ``[0, n_steps)``)."""
    mask = _as_step_mask(scale, n_steps)
    inside = [n for n in notes if 0 <= n.start < n_steps]
    if not inside:
        return math.nan
    return sum(not mask[n.start, n.pitch % 12] for n in inside) / len(inside)


def best_key_out_of_key_step_rate(notes: Iterable[Note], *, n_steps: int) -> float:
    """:func:`out_of_key_step_rate` against the major or natural-minor key (24 candidates)
    that gives the lowest rate: used where no key is given (unconditional generation)."""
    note_list = list(notes)
    rates = [
        out_of_key_step_rate(note_list, Key(tonic, mode).scale_mask(), n_steps=n_steps)
        for tonic in range(12)
        for mode in ("major", "minor")
    ]
    return min(rates)


def _chord_units(chords: Iterable[ChordSpan], lo: int, hi: int) -> list[tuple[int, int, ChordSpan]]:
    """Chord spans clipped to ``[lo, hi)``, without "N" spans."""
    units = []
    for span in chords:
        a, b = max(lo, span.start), min(hi, span.stop)
        if b > a and not span.chord.is_no_chord:
            units.append((a, b, span))
    return units


def chord_accuracy(
    notes: Iterable[Note], chords: Iterable[ChordSpan], *, start: int, stop: int
) -> float:
    """Duration-weighted share of the conditioning chords that are recognised in the notes.

    For every conditioning span (clipped to steps ``[start, stop)``, "N" spans skipped) the
    chord of the notes sounding in it is recognised with
    :func:`engine.harmony.recognize_chord_from_notes`; the target is the conditioning chord
    mapped into the same recognition vocabulary (``recognize_chord`` of its own chroma),
    so a ``G:sus4(b7)`` label is not counted wrong for want of a template. A span counts as
    correct when root and pitch-class set agree (the bass is ignored). NaN without spans.
    """
    note_list = list(notes)
    total = correct = 0
    for a, b, span in _chord_units(chords, start, stop):
        target = recognize_chord(np.asarray(span.chord.chroma, dtype=np.float64))
        found = recognize_chord_from_notes(note_list, start=a, stop=b)
        total += b - a
        if found.root == target.root and found.chroma == target.chroma:
            correct += b - a
    return correct / total if total else math.nan


def chord_similarity(
    notes: Iterable[Note], chords: Iterable[ChordSpan], *, start: int, stop: int
) -> float:
    """Duration-weighted mean cosine similarity, over the conditioning spans clipped to
    ``[start, stop)`` ("N" skipped), between the chord's binary chroma and the notes'
    sounding-duration pitch-class profile in the span (0 for a silent span), in [0, 1].
    NaN without spans. (Zhu et al. use a learned chord embedding here; see docs/metrics.md.)
    """
    note_list = list(notes)
    starts = np.array([n.start for n in note_list], dtype=np.int64)
    ends = np.array([n.end for n in note_list], dtype=np.int64)
    pcs = np.array([n.pitch % 12 for n in note_list], dtype=np.int64)
    total = 0
    acc = 0.0
    for a, b, span in _chord_units(chords, start, stop):
        overlap = np.clip(np.minimum(ends, b) - np.maximum(starts, a), 0, None)
        profile = np.bincount(pcs, weights=overlap, minlength=12) if note_list else np.zeros(12)
        target = np.asarray(span.chord.chroma, dtype=np.float64)
        norm = np.linalg.norm(profile) * np.linalg.norm(target)
        acc += (b - a) * (float(profile @ target) / norm if norm > 0 else 0.0)
        total += b - a
    return acc / total if total else math.nan


# -------------------------------------------------------------------------- pitch stats


def pitch_class_count(notes: Iterable[Note]) -> int:
    """PCU: number of distinct pitch classes used (0..12)."""
    return len({n.pitch % 12 for n in notes})


def unique_pitches(notes: Iterable[Note]) -> int:
    """TUP: number of distinct MIDI pitches used."""
    return len({n.pitch for n in notes})


def pitch_range(notes: Iterable[Note]) -> int:
    """PR: highest minus lowest MIDI pitch, in semitones (0 without notes)."""
    pitches = [n.pitch for n in notes]
    return max(pitches) - min(pitches) if pitches else 0


# ----------------------------------------------------------------------------- structure


def _beat_features(notes: Iterable[Note], n_beats: int) -> np.ndarray:
    """(n_beats, 128) sounding steps of each MIDI pitch in each beat."""
    features = np.zeros((n_beats, 128))
    n_steps = n_beats * STEPS_PER_BEAT
    for note in notes:
        for step in range(max(0, note.start), min(n_steps, note.end)):
            features[step // STEPS_PER_BEAT, note.pitch] += 1.0
    return features


def structureness(
    notes: Iterable[Note], *, n_bars: int, min_lag_bars: int = 1, max_lag_bars: int = 4
) -> float:
    """Structureness indicator: the strongest repetition at a lag of ``min_lag_bars`` to
    ``max_lag_bars`` bars, in [0, 1].

    1. Per beat, a 128-d vector of the steps each MIDI pitch sounds.
    2. Self-similarity matrix ``S[i, j]`` = cosine similarity of beats i and j (0 when
       either beat is silent).
    3. For each lag ``L`` (in beats, whole bars only) the mean of the L-th diagonal,
       ``mean_i S[i, i + L]`` over the pairs where at least one of the two beats sounds
       (two silent beats are neither evidence for nor against repetition); SI is the
       largest of these means, 0 for a silent clip.

    Wu & Yang (2020) take the maximum of a fitness scape plot over segment lengths; for an
    8-bar window this lag-diagonal maximum measures the same thing (how strongly a bar
    block recurs) without the scape plot. A 2-bar pattern played four times scores 1.
    """
    n_beats = n_bars * STEPS_PER_BAR // STEPS_PER_BEAT
    features = _beat_features(notes, n_beats)
    norms = np.linalg.norm(features, axis=1)
    unit = np.divide(features, norms[:, None], out=np.zeros_like(features),
                     where=norms[:, None] > 0)
    ssm = unit @ unit.T
    beats_per_bar = STEPS_PER_BAR // STEPS_PER_BEAT
    best = 0.0
    for lag_bars in range(min_lag_bars, min(max_lag_bars, n_bars - 1) + 1):
        lag = lag_bars * beats_per_bar
        sounding = (norms[:-lag] > 0) | (norms[lag:] > 0)
        if sounding.any():
            best = max(best, float(np.diagonal(ssm, offset=lag)[sounding].mean()))
    return best


# ------------------------------------------------------------------------------ texture


def note_density(notes: Iterable[Note], *, start_bar: int, stop_bar: int) -> float:
    """Notes per bar: onsets in bars ``[start_bar, stop_bar)`` divided by the bar count."""
    if stop_bar <= start_bar:
        raise ValueError(f"empty bar range [{start_bar}, {stop_bar})")
    lo, hi = start_bar * STEPS_PER_BAR, stop_bar * STEPS_PER_BAR
    return sum(lo <= n.start < hi for n in notes) / (stop_bar - start_bar)


def polyphony(notes: Iterable[Note], *, start: int, stop: int) -> float:
    """Mean number of sounding notes over the steps of ``[start, stop)`` where at least one
    note sounds (NaN when none does)."""
    counts = np.zeros(max(0, stop - start), dtype=np.int64)
    for note in notes:
        lo, hi = max(start, note.start), min(stop, note.end)
        if hi > lo:
            counts[lo - start : hi - start] += 1
    busy = counts[counts > 0]
    return float(busy.mean()) if busy.size else math.nan


@dataclass(frozen=True)
class SeamJump:
    """Change across a bar line between the bar before and the bar after it.

    ``pitch_centroid``: |difference of the mean MIDI pitch of the notes starting in each bar|
    in semitones (NaN when either bar has no onset). ``onset_density``: |difference of the
    onset counts| in notes per bar.
    """

    pitch_centroid: float
    onset_density: float


def seam_jump(notes: Iterable[Note], *, border_bar: int) -> SeamJump:
    """:class:`SeamJump` between bar ``border_bar - 1`` and bar ``border_bar`` (an infill
    border); compare it with the same quantity on the ground truth."""
    if border_bar < 1:
        raise ValueError(f"border_bar must be >= 1, got {border_bar}")
    note_list = list(notes)
    lo, mid, hi = ((border_bar + k) * STEPS_PER_BAR for k in (-1, 0, 1))
    before = [n.pitch for n in note_list if lo <= n.start < mid]
    after = [n.pitch for n in note_list if mid <= n.start < hi]
    if before and after:
        centroid = abs(float(np.mean(before)) - float(np.mean(after)))
    else:
        centroid = math.nan
    return SeamJump(pitch_centroid=centroid, onset_density=float(abs(len(before) - len(after))))
