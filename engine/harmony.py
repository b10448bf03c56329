"""Chords and keys in the engine: chord spans in steps, progressions, pitch-class masks
and chord recognition.

The grammar of chord symbols, keys and Harte labels, :class:`Chord`, :class:`Key` and the
one table of chord qualities are :mod:`wire.chords`' (the panel reads chords with it too);
they are re-exported here so the engine imports its chords from one place.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from wire.chords import (
    HARTE_QUALITIES,
    PITCH_NAMES,
    QUALITIES,
    Chord,
    ChordSymbolError,
    Key,
    parse_harte,
    parse_key,
    parse_symbol,
    quality_family,
    split_progression,
)

__all__ = [
    "HARTE_QUALITIES",
    "PITCH_NAMES",
    "RECOGNITION_VOCABULARY",
    "Chord",
    "ChordSpan",
    "ChordSymbolError",
    "Key",
    "allowed_pitch_classes",
    "chord_grid",
    "estimate_key",
    "parse_harte",
    "parse_key",
    "parse_progression",
    "parse_vocab",
    "parse_symbol",
    "pitch_class_weights",
    "quality_family",
    "recognize_chord",
    "recognize_chord_from_notes",
    "recognize_chords",
    "StepGrid",
]


@dataclass(frozen=True)
class ChordSpan:
    """A chord held from ``start`` for ``duration`` 16th steps (both >= 0 / >= 1)."""

    start: int
    duration: int
    chord: Chord

    def __post_init__(self) -> None:
        if self.start < 0 or self.duration < 1:
            raise ValueError(
                f"ChordSpan needs start >= 0 and duration >= 1, got {self.start}, {self.duration}"
            )

    @property
    def stop(self) -> int:
        return self.start + self.duration


def parse_vocab(labels: Iterable[str]) -> list[Chord]:
    """A training cache's chord vocabulary (Harte labels, engine.cache) parsed once: the
    chords its songs' chord indices point at."""
    return [parse_harte(label) for label in labels]


def parse_progression(text: str, *, steps_per_bar: int = 16) -> list[ChordSpan]:
    """Read a progression into chord spans (steps of 16th notes).

    The bars are :func:`wire.chords.split_progression`'s: without ``|`` one chord a bar,
    ``"C G Am F"``; with ``|`` bar lines (``"| C | G Am | F |"``) the chords inside a bar
    split it evenly: with ``n`` chords the ``i``-th starts at
    ``floor(i * steps_per_bar / n)``. Raises ChordSymbolError for an unknown symbol, an
    empty progression or an empty bar, or more chords in one bar than it has steps.
    """
    if steps_per_bar < 1:
        raise ValueError(f"steps_per_bar must be >= 1, got {steps_per_bar}")
    bars = split_progression(text)
    if not bars:
        raise ChordSymbolError(f"empty chord progression {text!r}")
    spans: list[ChordSpan] = []
    for bar_index, tokens in enumerate(bars):
        if len(tokens) > steps_per_bar:
            raise ChordSymbolError(f"chord progression {text!r}: bar {bar_index + 1} has "
                                   f"{len(tokens)} chords, more than its {steps_per_bar} steps",
                                   bar=bar_index + 1)
        bar_start = bar_index * steps_per_bar
        bounds = [i * steps_per_bar // len(tokens) for i in range(len(tokens) + 1)]
        for i, token in enumerate(tokens):
            spans.append(ChordSpan(start=bar_start + bounds[i],
                                   duration=bounds[i + 1] - bounds[i],
                                   chord=parse_symbol(token)))
    return spans


def chord_grid(spans: Iterable[ChordSpan], n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """The chords on the step grid, as the model is conditioned on them (the one place
    chords become per-step arrays: the pipeline's requests and the training data both
    use it): ``chroma``, uint8 (n_steps, 12), 1 on the chord tones sounding at each step,
    and ``bass``, int8 (n_steps,), the bass pitch class or -1. A step no span covers, or
    an "N" span covers, has no chord (all 0, bass -1). Where spans overlap the later one
    in the sequence wins; spans past the end are cut."""
    chroma = np.zeros((n_steps, 12), dtype=np.uint8)
    bass = np.full(n_steps, -1, dtype=np.int8)
    for span in spans:
        steps = slice(max(span.start, 0), min(span.stop, n_steps))
        if span.chord.root is None or span.chord.bass is None:
            chroma[steps], bass[steps] = 0, -1
        else:
            chroma[steps], bass[steps] = span.chord.chroma, span.chord.bass
    return chroma, bass


# Krumhansl-Kessler key profiles (Krumhansl 1990), index 0 = tonic.
_MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


_KEYS = [Key(tonic=tonic, mode=mode) for mode in ("major", "minor") for tonic in range(12)]
_KEY_SCALES = np.array([key.scale_mask() for key in _KEYS], dtype=np.float64)
# each key's profile, centred and of unit length: a dot product with centred weights over
# their length is the Pearson correlation
_KEY_PROFILES = np.array([np.roll(_MAJOR_PROFILE if key.mode == "major" else _MINOR_PROFILE,
                                  key.tonic) for key in _KEYS])
_KEY_PROFILES -= _KEY_PROFILES.mean(axis=1, keepdims=True)
_KEY_PROFILES /= np.linalg.norm(_KEY_PROFILES, axis=1, keepdims=True)


def estimate_key(weights: np.ndarray) -> Key | None:
    """The key for the in-key projection, from pitch-class weights (12,); None when the
    weights are all zero.

    Score = share of the weight inside the key's scale + 0.05 x the Krumhansl-Schmuckler
    profile correlation (Krumhansl 1990). The scale fit comes first because the projection
    silences everything outside the scale: with the chords Fm Gm Ab Bb Cm the profile
    correlation alone picks G minor, whose scale has no Ab; the fit picks C minor or Eb
    major, and the correlation then decides between relative keys.
    """
    if not np.any(weights > 0):
        return None
    # 1. each key's share of the weight inside its scale
    fit = (_KEY_SCALES @ weights) / float(weights.sum())
    # 2. the Pearson correlation of the weights with each key's profile (np.corrcoef's)
    centred = weights - weights.mean()
    spread = float(np.sqrt(centred @ centred))
    corr = _KEY_PROFILES @ centred / spread if spread > 0 else np.zeros(len(_KEYS))
    # 3. the first best score, in the order major C..B, then minor C..B
    return _KEYS[int(np.argmax(fit + 0.05 * corr))]


def allowed_pitch_classes(chord: Chord | None, key: Key | None) -> np.ndarray:
    """Bool (12,) mask of the pitch classes allowed under ``chord`` in ``key``: the
    chord's tones together with the key's scale (:meth:`Key.scale_mask`), so chromatic
    chord tones (a V7's leading tone in minor, a borrowed chord) stay allowed. With no key
    the chord tones alone; with no chord (None or "N") the scale alone; with neither,
    every pitch class."""
    if key is None and (chord is None or chord.is_no_chord):
        return np.ones(12, dtype=bool)
    mask = np.zeros(12, dtype=bool) if key is None else key.scale_mask()
    if chord is not None:
        mask = mask | chord.pitch_classes()
    return mask


# ------------------------------------------------------------------------ recognition

# Recognition vocabulary: (quality name, intervals), the qualities of wire.chords.QUALITIES
# marked recognised, in their order (which breaks exact score ties).
RECOGNITION_VOCABULARY: tuple[tuple[str, tuple[int, ...]], ...] = tuple(
    (q.name, q.intervals)
    for q in sorted((q for q in QUALITIES if q.recognized is not None),
                    key=lambda q: q.recognized or 0)
)


def _templates() -> tuple[np.ndarray, list[tuple[int, tuple[int, ...]]]]:
    rows, labels = [], []
    for _name, intervals in RECOGNITION_VOCABULARY:
        for root in range(12):
            row = np.zeros(12)
            row[[(root + iv) % 12 for iv in intervals]] = 1.0
            rows.append(row / np.linalg.norm(row))
            labels.append((root, intervals))
    return np.stack(rows), labels


_TEMPLATES, _TEMPLATE_LABELS = _templates()
_TEMPLATE_ROOTS = np.array([root for root, _ in _TEMPLATE_LABELS])
_TEMPLATE_TONES = (_TEMPLATES > 0).astype(np.float64)  # (templates, 12) of 0 / 1
_TEMPLATE_SIZES = np.sqrt(_TEMPLATE_TONES.sum(axis=1))


@functools.lru_cache(maxsize=len(_TEMPLATE_LABELS))
def _template_chord(index: int) -> Chord:
    root, intervals = _TEMPLATE_LABELS[index]
    return Chord.from_intervals(root, intervals)


def recognize_chord(pitch_weights: np.ndarray, *, bass_weights: np.ndarray | None = None,
                    bass_bonus: float = 0.1, silence: float = 1e-9,
                    allowed: np.ndarray | None = None) -> Chord:
    """Best-matching chord of ``RECOGNITION_VOCABULARY`` for pitch-class weights.

    ``pitch_weights``: (12,) non-negative, index 0 = C (e.g. sounding duration of each
    pitch class). ``bass_weights``: optional (12,) non-negative weights of the lowest
    sounding pitch class. Score of a template ``T`` (binary, 12 roots x 9 qualities:
    maj, min, 7, min7, maj7, sus2, sus4, dim, aug):

        score = cos(w, T) + bass_bonus * b[root] / sum(b)

    (cosine similarity, as in Fujishima's pitch-class-profile matching, plus a small
    bonus when the template's root is the bass; it settles the ties of symmetric sets,
    Csus2 = Gsus4, Caug = Eaug = Abaug). Exact ties go to the earlier quality, then the
    lower root. The chord's bass is the strongest bass pitch class if it is a chord tone,
    else the root. Total weight <= ``silence`` gives "N". ``allowed``: bool (12,) pitch
    classes a chord may use (e.g. a key's scale); templates with another tone are left
    out ("N" if none is left). :func:`recognize_chords` reads many windows at once, to
    the same chords.
    """
    weights = _weight_array(pitch_weights, "pitch_weights", rows=False)
    bass = None if bass_weights is None else \
        _weight_array(bass_weights, "bass_weights", rows=False)[None]
    return _recognize(weights[None], bass, bass_bonus=bass_bonus, silence=silence,
                      allowed=allowed)[0]


def recognize_chords(pitch_weights: np.ndarray, bass_weights: np.ndarray, *,
                     bass_bonus: float = 0.1) -> list[Chord]:
    """:func:`recognize_chord` of each row of ``pitch_weights`` and ``bass_weights`` (both
    (n, 12), non-negative, as :class:`StepGrid` makes them), in one pass over the
    templates: the same chords, bit for bit, as one call a row."""
    weights = _weight_array(pitch_weights, "pitch_weights", rows=True)
    bass = _weight_array(bass_weights, "bass_weights", rows=True)
    if bass.shape != weights.shape:
        raise ValueError(f"pitch_weights and bass_weights must have the same shape (n, 12), "
                         f"got {weights.shape} and {bass.shape}")
    return _recognize(weights, bass, bass_bonus=bass_bonus)


def _weight_array(values: np.ndarray, name: str, *, rows: bool) -> np.ndarray:
    """``values`` as float64 of shape (12,), or (n, 12) with ``rows``; a ValueError naming
    ``name`` when the shape differs or a weight is negative or not finite."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != (2 if rows else 1) or array.shape[-1] != 12:
        raise ValueError(f"{name} must have shape {'(n, 12)' if rows else '(12,)'}, "
                         f"got {array.shape}")
    if not np.all(np.isfinite(array)) or array.min(initial=0.0) < 0:
        raise ValueError(f"{name} must be finite and non-negative")
    return array


def _recognize(weights: np.ndarray, bass: np.ndarray | None, *, bass_bonus: float,
               silence: float = 1e-9, allowed: np.ndarray | None = None) -> list[Chord]:
    """The recogniser of :func:`recognize_chord` on rows of weights (n, 12). The cosine is
    the weight on the template's tones over (sqrt(tones) x |w|), the weight summed over
    the 12 pitch classes in a fixed order with elementwise operations: a row's chord never
    depends on the other rows (a matrix product's summation order may change with their
    number), and for whole-step weights (:class:`StepGrid`'s) the sums are exact, so
    templates that tie tie exactly and go to the earlier one."""
    norm = np.sqrt(sum(weights[:, j] * weights[:, j] for j in range(12)))
    on_tones = sum(weights[:, j, None] * _TEMPLATE_TONES[None, :, j] for j in range(12))
    scores = on_tones / (np.where(norm > 0, norm, 1.0)[:, None] * _TEMPLATE_SIZES[None, :])
    if allowed is not None:
        outside = ~np.asarray(allowed, dtype=bool)
        scores = np.where((_TEMPLATES[:, outside] > 0).any(axis=1), -np.inf, scores)
    share = None
    if bass is not None:
        total_bass = bass.sum(axis=1)
        share = bass / np.where(total_bass > 0, total_bass, 1.0)[:, None]
        scores = scores + bass_bonus * share[:, _TEMPLATE_ROOTS]  # + 0 without a bass
    best = np.argmax(scores, axis=1).tolist()  # first maximum: vocabulary order, then root
    silent = ((weights.sum(axis=1) <= silence) | ~np.isfinite(scores).any(axis=1)).tolist()
    # the strongest bass pitch class of each row; -1 without a bass
    bass_pcs = ([-1] * len(best) if share is None else
                np.where(share.any(axis=1), np.argmax(share, axis=1), -1).tolist())
    chords = []
    for index, quiet, bass_pc in zip(best, silent, bass_pcs, strict=True):
        if quiet:
            chords.append(Chord.no_chord())
            continue
        chord = _template_chord(index)
        if bass_pc >= 0 and chord.chroma[bass_pc]:
            chord = Chord(root=chord.root, chroma=chord.chroma, bass=bass_pc)
        chords.append(chord)
    return chords


def pitch_class_weights(starts: Sequence[float] | np.ndarray, stops: Sequence[float] | np.ndarray,
                        pitches: Sequence[int] | np.ndarray, *, start: float, stop: float
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Pitch-class and bass weights of notes inside the window ``[start, stop)``.

    Notes are given as arrays of onset, end (same time unit as the window) and MIDI
    pitch. Returns ``(pitch_weights, bass_weights)``, both float64 (12,): each note adds
    the length of its overlap with the window to its pitch class; the bass weights add,
    for every stretch of the window, its length to the pitch class of the lowest note
    sounding then.
    """
    on = np.asarray(starts, dtype=np.float64)
    off = np.asarray(stops, dtype=np.float64)
    pit = np.asarray(pitches, dtype=np.int64)
    lo = np.maximum(on, start)
    hi = np.minimum(off, stop)
    inside = hi > lo
    lo, hi, pit = lo[inside], hi[inside], pit[inside]
    weights = np.zeros(12)
    np.add.at(weights, pit % 12, hi - lo)
    bass = np.zeros(12)
    if pit.size:
        edges = np.unique(np.concatenate([lo, hi]))
        for a, b in itertools.pairwise(edges):
            sounding = (lo <= a) & (hi >= b)
            if np.any(sounding):
                bass[int(pit[sounding].min()) % 12] += b - a
    return weights, bass


class StepGrid:
    """The pitch-class and bass weights of notes on the 16th grid (whole-step onsets and
    durations, such as :class:`engine.pianoroll.Note`) over steps ``[lo, hi)``, kept as
    running sums, so the weights of any window inside cost a subtraction. For such notes
    they equal :func:`pitch_class_weights`' exactly (sums of whole steps): what scoring a
    clip's many windows (per beat, per chord) reads."""

    def __init__(self, notes: Iterable, *, lo: int, hi: int) -> None:
        self.lo = lo
        steps = max(0, hi - lo)
        note_list = list(notes)
        onsets = np.array([n.start for n in note_list], dtype=np.int64)
        ends = onsets + np.array([n.duration for n in note_list], dtype=np.int64)
        pitches = np.array([n.pitch for n in note_list], dtype=np.int64)
        a = np.clip(onsets, lo, hi) - lo
        b = np.clip(ends, lo, hi) - lo
        inside = b > a
        # 1. the notes sounding at each step and pitch: +1 where one starts, -1 where it ends
        change = np.zeros((steps + 1, 128))
        np.add.at(change, (a[inside], pitches[inside]), 1.0)
        np.add.at(change, (b[inside], pitches[inside]), -1.0)
        count = np.cumsum(change[:-1], axis=0)
        sounding = np.stack([count[:, pc::12].sum(axis=1) for pc in range(12)], axis=1)
        # 2. the pitch class of the lowest sounding note at each step
        bass = np.zeros((steps, 12))
        heard = np.flatnonzero((count > 0).any(axis=1))
        bass[heard, np.argmax(count[heard] > 0, axis=1) % 12] = 1.0
        zero = np.zeros((1, 12))
        self._pitch = np.concatenate([zero, np.cumsum(sounding, axis=0)])
        self._bass = np.concatenate([zero, np.cumsum(bass, axis=0)])

    def weights(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """(pitch_weights, bass_weights) of the window ``[start, stop)``, inside the grid."""
        a, b = start - self.lo, stop - self.lo
        return self._pitch[b] - self._pitch[a], self._bass[b] - self._bass[a]

    def chord(self, start: int, stop: int, *, bass_bonus: float = 0.1) -> Chord:
        """:func:`recognize_chord` of the window ``[start, stop)``'s weights."""
        return self.chords([start], [stop], bass_bonus=bass_bonus)[0]

    def chords(self, starts: Sequence[int], stops: Sequence[int], *,
               bass_bonus: float = 0.1) -> list[Chord]:
        """:meth:`chord` of each window ``[starts[i], stops[i])``, in one pass
        (:func:`recognize_chords`): what scoring a clip's beats and chord spans reads."""
        a = np.asarray(starts, dtype=np.int64) - self.lo
        b = np.asarray(stops, dtype=np.int64) - self.lo
        if np.any(b <= a):
            first = int(np.flatnonzero(b <= a)[0])
            raise ValueError(f"empty window [{starts[first]}, {stops[first]})")
        return recognize_chords(self._pitch[b] - self._pitch[a], self._bass[b] - self._bass[a],
                                bass_bonus=bass_bonus)


def recognize_chord_from_notes(notes: Iterable, *, start: int, stop: int,
                               bass_bonus: float = 0.1) -> Chord:
    """Recognise the chord of the notes sounding in steps ``[start, stop)``.

    ``notes``: objects with ``start``, ``duration`` (16th steps) and ``pitch`` such as
    :class:`engine.pianoroll.Note`. Each note weighs its sounding steps inside the window
    (velocity is ignored); the bass weights come from the lowest sounding note
    (:class:`StepGrid`, which gives :func:`pitch_class_weights`' weights), then
    :func:`recognize_chord`. To read many windows of the same notes, build the grid once.
    """
    return StepGrid(notes, lo=start, hi=stop).chord(start, stop, bass_bonus=bass_bonus)
