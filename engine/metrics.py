"""Objective metrics for generated clips (see ``docs/metrics.md`` for the definitions).

Every metric is a plain function over notes on the 16th grid (:class:`engine.pianoroll.Note`,
time in steps, 16 steps a bar) and returns a float (or a small frozen dataclass). Empty
input gives the documented neutral value or NaN, never an exception: an evaluation run
aggregates with ``nanmean``. What each one cannot tell is written in ``docs/metrics.md``.

Sources
    - Framewise self-similarity (overlapping area, Consistency, Variance): Mittal, Engel,
      Hawthorne & Simon, "Symbolic Music Generation with Diffusion Models", ISMIR 2021, §4.
    - Out-of-key rate: Zhu, Liu, Wang, Jiang & Zheng, "Efficient Fine-Grained Guidance for
      Diffusion-Based Symbolic Music Generation", ICML 2025 (arXiv:2410.08435), §5.
    - Chord accuracy / chord similarity: after the same paper; our recogniser and our
      chroma-cosine similarity are documented substitutions (``docs/metrics.md``).
    - PCU, TUP, PR: Dong et al. 2018 (MuseGAN) / Yang & Lerch 2020 / MusPy.
    - Structureness indicator: Wu & Yang, "The Jazz Transformer on the Front Line",
      ISMIR 2020, §5, on the fitness of Müller, Grosche & Jiang, ISMIR 2011
      (``engine.scape_plot``), computed on beat-level chroma of MIDI notes.
    - Infill fidelity (note F1, beat pitch-class F1, count ratio, top-line register) and
      the top line: our definitions against the real bars; the top line is a skyline
      (Uitdenbogerd & Zobel, "Melodic matching techniques for large music databases",
      ACM Multimedia 1999).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections import Counter
from collections.abc import Iterable, Sequence, Sized
from dataclasses import dataclass

import numpy as np

from engine.harmony import (
    Chord,
    ChordSpan,
    Key,
    StepGrid,
    recognize_chord,
)
from engine.pianoroll import STEPS_PER_BAR, STEPS_PER_BEAT, Note
from engine.scape_plot import fitness_by_start, threshold_ssm

__all__ = [
    "OAScore",
    "SeamJump",
    "beat_chroma",
    "beat_pitch_class_f1",
    "beat_pitch_classes",
    "below_top_line",
    "best_key_out_of_key_step_rate",
    "chord_accuracy",
    "chord_mask_per_step",
    "chord_similarity",
    "consistency_variance",
    "consistency_variance_from_moments",
    "count_ratio",
    "framewise_overlap",
    "gaussian_overlap",
    "key_mask_per_step",
    "label_as_recognised",
    "mean_pitch",
    "note_density",
    "note_f1",
    "out_of_key_note_rate",
    "out_of_key_step_rate",
    "pitch_class_count",
    "pitch_range",
    "polyphony",
    "seam_jump",
    "structure_indicator",
    "top_line",
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

    1. The clip of ``n_bars`` bars is cut into frames of ``frame_bars`` bars every
       ``hop_bars`` bars (8 bars -> frames at bars 0, 2, 4).
    2. In each frame a normal distribution is fitted (mean, population standard
       deviation) to the ``feature`` of the notes whose onset lies in the frame:
       ``"pitch"`` (MIDI number) or ``"duration"`` (steps).
    3. Every pair of adjacent frames gives its OA (:func:`gaussian_overlap`); a pair in
       which either frame has no onset gives OA 0, so silence counts as the least
       self-similar material (the paper's melodies always have notes; ours may not).
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
        if left is None or right is None:
            overlaps.append(0.0)
        else:
            overlaps.append(gaussian_overlap(left[0], left[1], right[0], right[1]))
    return overlaps


@dataclass(frozen=True)
class OAScore:
    """Consistency and Variance of generated OA values against ground-truth ones, in [0, 1]."""

    consistency: float
    variance: float


def consistency_variance_from_moments(mean: float, var: float, ref_mean: float,
                                      ref_var: float) -> OAScore:
    """Mittal et al. 2021, §4: with ``μ, σ²`` the mean and (population) variance of the OA
    values pooled over a set of clips,

        Consistency = max(0, 1 - |μ_gen - μ_gt| / μ_gt)
        Variance    = max(0, 1 - |σ²_gen - σ²_gt| / σ²_gt)

    Variance is 0 as soon as ``σ²_gen >= 2 σ²_gt``, so it cannot rank systems that all
    vary twice as much as the reference; the raw moments are reported beside it. NaN when
    a moment is NaN or the reference's is 0.
    """
    values = (mean, var, ref_mean, ref_var)
    if not all(math.isfinite(v) for v in values):
        return OAScore(math.nan, math.nan)
    consistency = max(0.0, 1.0 - abs(mean - ref_mean) / ref_mean) if ref_mean > 0 else math.nan
    variance = max(0.0, 1.0 - abs(var - ref_var) / ref_var) if ref_var > 0 else math.nan
    return OAScore(consistency, variance)


def consistency_variance(generated: Sequence[float], ground_truth: Sequence[float]) -> OAScore:
    """:func:`consistency_variance_from_moments` of two pools of OA values (NaN when
    either is empty)."""
    gen = np.asarray(generated, dtype=np.float64)
    gt = np.asarray(ground_truth, dtype=np.float64)
    if gen.size == 0 or gt.size == 0:
        return OAScore(math.nan, math.nan)
    return consistency_variance_from_moments(float(gen.mean()), float(gen.var()),
                                             float(gt.mean()), float(gt.var()))


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


def chord_mask_per_step(chords: Iterable[ChordSpan], n_steps: int) -> np.ndarray:
    """Bool (n_steps, 12): the pitch classes of the chord label sounding at each step (all
    False where no label or "N" sounds)."""
    mask = np.zeros((n_steps, 12), dtype=bool)
    for span in chords:
        lo, hi = max(0, span.start), min(n_steps, span.stop)
        if hi > lo and not span.chord.is_no_chord:
            mask[lo:hi] |= span.chord.pitch_classes()
    return mask


def _chord_units(chords: Iterable[ChordSpan], lo: int, hi: int, *, window: int | None = None
                 ) -> list[tuple[int, int, ChordSpan]]:
    """Chord spans clipped to ``[lo, hi)``, without "N" spans; with ``window``, each is
    also cut at the multiples of ``window`` steps (a span over two beats gives two units
    with ``window=STEPS_PER_BEAT``)."""
    units: list[tuple[int, int, ChordSpan]] = []
    for span in chords:
        a, b = max(lo, span.start), min(hi, span.stop)
        if b <= a or span.chord.is_no_chord:
            continue
        cuts = [a, b] if window is None else sorted(
            {a, b, *range((a // window + 1) * window, b, window)})
        units.extend((x, y, span) for x, y in itertools.pairwise(cuts))
    return units


@functools.lru_cache(maxsize=4096)
def label_as_recognised(chord: Chord) -> Chord:
    """The chord a label is scored as: :func:`engine.harmony.recognize_chord` of the
    label's own pitch classes with the label's bass as the bass weight.

    The notes are read by the same recogniser with their lowest sounding pitch class as
    the bass, so notes that play exactly the label's pitch classes over the label's bass
    are recognised as this chord: ``C:sus4`` (the set of ``F:sus2``) stays ``C:sus4``,
    ``C:maj6`` over C is read ``A:min7/C`` on both sides.
    """
    if chord.is_no_chord or chord.bass is None:
        return chord
    bass = np.zeros(12)
    bass[chord.bass] = 1.0
    return recognize_chord(np.asarray(chord.chroma, dtype=np.float64), bass_weights=bass)


def chord_accuracy(
    notes: Iterable[Note], chords: Iterable[ChordSpan], *, start: int, stop: int,
    window: int | None = None,
) -> float:
    """Duration-weighted share of the conditioning chords that are recognised in the notes.

    1. Units: the conditioning spans clipped to steps ``[start, stop)``, "N" spans
       skipped; with ``window`` (e.g. ``STEPS_PER_BEAT``) each span is cut at every
       multiple of ``window`` steps, so a unit is one beat of one chord (per-beat scoring:
       a chord must be audible in each of its beats, not only somewhere in its span).
    2. The notes sounding in the unit are recognised with
       :func:`engine.harmony.recognize_chord_from_notes` (sounding-duration weights, the
       lowest sounding pitch class as the bass).
    3. The label is recognised the same way from its own pitch classes and its bass
       (:func:`label_as_recognised`), so both sides use a bass and the same templates.
    4. A unit is correct when root and pitch-class set agree (the recognised bass is not
       compared). Result: correct steps / unit steps; NaN without units.
    """
    units = _chord_units(chords, start, stop, window=window)
    if not units:
        return math.nan
    found = StepGrid(notes, lo=start, hi=stop).chords([a for a, _, _ in units],
                                                      [b for _, b, _ in units])
    total = correct = 0
    for (a, b, span), chord in zip(units, found, strict=True):
        target = label_as_recognised(span.chord)
        total += b - a
        if chord.root == target.root and chord.chroma == target.chroma:
            correct += b - a
    return correct / total


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
        norm = float(np.linalg.norm(profile) * np.linalg.norm(target))
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


def beat_chroma(notes: Iterable[Note], n_beats: int) -> np.ndarray:
    """(n_beats, 12) sounding steps of each pitch class in each beat (a MIDI chromagram at
    one frame per beat)."""
    chroma = np.zeros((n_beats, 12))
    n_steps = n_beats * STEPS_PER_BEAT
    for note in notes:
        for step in range(max(0, note.start), min(n_steps, note.end)):
            chroma[step // STEPS_PER_BEAT, note.pitch % 12] += 1.0
    return chroma


def structure_indicator(
    notes: Iterable[Note], *, n_bars: int, min_bars: int = 2, max_bars: int = 8,
    keep: float = 0.15,
) -> float:
    """Structureness indicator (Wu & Yang 2020, §5), a MIDI version, in [0, 1).

    1. Beat-level chroma (:func:`beat_chroma`) in place of the audio chromagram.
    2. Self-similarity ``S[i, j]`` = cosine similarity of beats i and j (0 when either is
       silent), thresholded as in Müller's scape plots: the largest ``keep`` share kept
       and scaled to [0, 1], the rest -2, diagonal 1 (:func:`engine.scape_plot.threshold_ssm`).
    3. Fitness (Müller, Grosche & Jiang 2011: harmonic mean of how much of the clip the
       segment's repetitions cover and how similar they are) of every segment that starts
       on a beat and lasts ``min_bars`` to ``max_bars`` whole bars (at most the clip less
       a bar); SI = the largest fitness, the peak of the fitness scape plot in that range
       of segment lengths (Wu & Yang take 3-8 s, 8-15 s and 15 s and more of audio).

    A pattern played k times scores at most ``(k - 1) / k``. A held chord or a drone is
    "repetitive" too (it scores as high as a loop), and a silent clip scores 0.
    """
    beats_per_bar = STEPS_PER_BAR // STEPS_PER_BEAT
    n_beats = n_bars * beats_per_bar
    chroma = beat_chroma(notes, n_beats)
    norms = np.linalg.norm(chroma, axis=1)
    if not norms.any():
        return 0.0
    unit = np.divide(chroma, norms[:, None], out=np.zeros_like(chroma),
                     where=norms[:, None] > 0)
    ssm = threshold_ssm(unit @ unit.T, keep=keep)
    best = 0.0
    for bars in range(min_bars, min(max_bars, n_bars - 1) + 1):
        for fit in fitness_by_start(ssm, bars * beats_per_bar):
            best = max(best, fit.fitness)
    return best


# ----------------------------------------------------------------- fidelity to real bars


def top_line(notes: Iterable[Note]) -> tuple[Note, ...]:
    """The top line (skyline, after Uitdenbogerd & Zobel 1999), sorted by onset.

    1. At each onset step the highest note starting there is a candidate (one of equal
       pitches).
    2. It is dropped when a higher note that started earlier still sounds at that step
       (a held melody note hides the chords struck under it).
    3. Each kept note is cut at the next kept onset, so the line is monophonic.
    """
    ordered = sorted(notes, key=lambda x: (x.start, -x.pitch))
    kept: list[Note] = []
    ringing: list[Note] = []  # notes started earlier, possibly still sounding
    i = 0
    while i < len(ordered):
        step = ordered[i].start
        top = ordered[i]
        j = i
        while j < len(ordered) and ordered[j].start == step:
            j += 1
        ringing = [x for x in ringing if x.end > step]
        if not any(x.pitch > top.pitch for x in ringing):
            kept.append(top)
        ringing.extend(ordered[i:j])
        i = j
    line = []
    for note, nxt in itertools.zip_longest(kept, kept[1:]):
        end = note.end if nxt is None else min(note.end, nxt.start)
        line.append(Note(start=note.start, pitch=note.pitch, duration=end - note.start,
                         velocity=note.velocity))
    return tuple(line)


def below_top_line(notes: Iterable[Note]) -> tuple[Note, ...]:
    """The notes that are not the top note of their onset in :func:`top_line` (the
    accompaniment part of an arrangement, as far as pitch height tells)."""
    note_list = sorted(notes)
    line = {(x.start, x.pitch) for x in top_line(note_list)}
    out = []
    for note in note_list:
        if (note.start, note.pitch) in line:
            line.discard((note.start, note.pitch))  # one of equal notes is the line's
            continue
        out.append(note)
    return tuple(out)


def mean_pitch(notes: Iterable[Note]) -> float:
    """Mean MIDI pitch of the notes, NaN without notes."""
    pitches = [n.pitch for n in notes]
    return float(np.mean(pitches)) if pitches else math.nan


def _f1(hits: float, n_generated: float, n_real: float) -> float:
    """``2 hits / (n_generated + n_real)`` (= harmonic mean of precision and recall); NaN
    when both are 0."""
    total = n_generated + n_real
    return 2.0 * hits / total if total > 0 else math.nan


def note_f1(generated: Iterable[Note], real: Iterable[Note]) -> float:
    """F1 of notes matched by (onset step, MIDI pitch), durations ignored; each real note
    matches at most one generated note. 0 when one side is empty, NaN when both are."""
    gen = Counter((n.start, n.pitch) for n in generated)
    ref = Counter((n.start, n.pitch) for n in real)
    hits = sum((gen & ref).values())
    return _f1(hits, sum(gen.values()), sum(ref.values()))


def beat_pitch_classes(notes: Iterable[Note], *, start: int, stop: int) -> np.ndarray:
    """Bool (beats, 12): the pitch classes sounding at any step of each beat of ``[start,
    stop)`` (``start`` on a beat)."""
    n_beats = -(-(stop - start) // STEPS_PER_BEAT)
    active = np.zeros((n_beats, 12), dtype=bool)
    for note in notes:
        lo, hi = max(start, note.start), min(stop, note.end)
        if hi > lo:
            first, last = (lo - start) // STEPS_PER_BEAT, (hi - 1 - start) // STEPS_PER_BEAT
            active[first : last + 1, note.pitch % 12] = True
    return active


def beat_pitch_class_f1(generated: Iterable[Note], real: Iterable[Note], *, start: int,
                        stop: int) -> float:
    """F1 of the (beat, pitch class) pairs sounding in ``[start, stop)``
    (:func:`beat_pitch_classes`) of the generated and the real notes: the right harmony
    and register-free pitch content at the right beat, whatever the voicing and rhythm.
    NaN when neither sounds."""
    gen = beat_pitch_classes(generated, start=start, stop=stop)
    ref = beat_pitch_classes(real, start=start, stop=stop)
    return _f1(float((gen & ref).sum()), float(gen.sum()), float(ref.sum()))


def count_ratio(generated: Sized, real: Sized) -> float:
    """``len(generated) / len(real)``: the density ratio of two note sets over the same
    bars (NaN when ``real`` is empty)."""
    return len(generated) / len(real) if len(real) else math.nan


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
