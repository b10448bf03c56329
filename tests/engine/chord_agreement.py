"""How often :func:`engine.harmony.recognize_chord` agrees with annotated chords: the
tests' measure of the recogniser (tests/engine/test_harmony.py), not part of the engine.

The measurement
    The timeline is cut into windows of equal length (a beat, half a bar, a bar) from an
    origin (bar 0). For each window:

    1. the reference chord is the annotated label covering the largest part of the
       window (earliest label on ties); windows no label covers are skipped, and so are
       windows whose reference is "N" unless ``include_no_chord`` is set;
    2. the notes' overlaps with the window give pitch-class and bass weights
       (:func:`engine.harmony.pitch_class_weights`), and :func:`recognize_chord` names
       a chord;
    3. **root match**: both roots equal (both "N" counts as a match); **full match**:
       root match and the same triad family (:func:`engine.harmony.quality_family`:
       maj / min / dim / aug / sus / power), e.g. ``C:maj7`` vs recognised ``C`` matches.

Times may be in any unit (seconds mapped to beats, 16th steps) as long as notes,
labels and windows share it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from engine.harmony import Chord, parse_harte, pitch_class_weights, recognize_chord

__all__ = ["AgreementCounts", "cache_agreement", "measure_agreement"]


@dataclass(frozen=True)
class AgreementCounts:
    """Numbers of windows compared and of windows that match (see the module doc)."""

    windows: int = 0
    root_matches: int = 0
    full_matches: int = 0

    def __add__(self, other: AgreementCounts) -> AgreementCounts:
        return AgreementCounts(self.windows + other.windows,
                               self.root_matches + other.root_matches,
                               self.full_matches + other.full_matches)

    @property
    def root_rate(self) -> float:
        """Share of windows whose root matches; 0.0 when no window was compared."""
        return self.root_matches / self.windows if self.windows else 0.0

    @property
    def full_rate(self) -> float:
        """Share of windows whose root and triad family match."""
        return self.full_matches / self.windows if self.windows else 0.0


@lru_cache(maxsize=4096)
def _parse_label(label: str) -> Chord:
    return parse_harte(label)


def _reference_label(chord_starts: np.ndarray, chord_stops: np.ndarray,
                     labels: Sequence[str], lo: float, hi: float) -> str | None:
    overlap = np.minimum(chord_stops, hi) - np.maximum(chord_starts, lo)
    if overlap.size == 0 or overlap.max() <= 0:
        return None
    return labels[int(np.argmax(overlap))]


def measure_agreement(note_starts: Sequence[float] | np.ndarray,
                      note_stops: Sequence[float] | np.ndarray,
                      pitches: Sequence[int] | np.ndarray,
                      chord_starts: Sequence[float] | np.ndarray,
                      chord_stops: Sequence[float] | np.ndarray,
                      chord_labels: Sequence[str], *, window: float, origin: float = 0.0,
                      end: float | None = None, include_no_chord: bool = False
                      ) -> AgreementCounts:
    """Compare recognised chords with Harte labels window by window.

    Notes: onset, end and MIDI pitch arrays; labels: start, end and Harte label (POP909
    ``chord_midi.txt`` syntax). Windows ``[origin + k * window, origin + (k+1) * window)``
    run until ``end`` (default: the last label's end). Returns the counts.
    """
    if window <= 0:
        raise ValueError(f"window must be > 0, got {window}")
    c_on = np.asarray(chord_starts, dtype=np.float64)
    c_off = np.asarray(chord_stops, dtype=np.float64)
    labels = list(chord_labels)
    if not labels:
        return AgreementCounts()
    stop_at = float(c_off.max()) if end is None else end
    n_windows = max(0, int(np.floor((stop_at - origin) / window + 1e-9)))
    n_on = np.asarray(note_starts, dtype=np.float64)
    n_off = np.asarray(note_stops, dtype=np.float64)
    pit = np.asarray(pitches, dtype=np.int64)
    windows = root_ok = full_ok = 0
    for k in range(n_windows):
        lo = origin + k * window
        hi = lo + window
        label = _reference_label(c_on, c_off, labels, lo, hi)
        if label is None:
            continue
        reference = _parse_label(label)
        if reference.is_no_chord and not include_no_chord:
            continue
        weights, bass = pitch_class_weights(n_on, n_off, pit, start=lo, stop=hi)
        recognised = recognize_chord(weights, bass_weights=bass)
        windows += 1
        if recognised.root == reference.root:
            root_ok += 1
            if recognised.family == reference.family:
                full_ok += 1
    return AgreementCounts(windows, root_ok, full_ok)


def cache_agreement(songs: Iterable, chord_vocab: Sequence[str], *, window_steps: int,
                    tracks: Sequence[int] = (2,), include_no_chord: bool = False
                    ) -> AgreementCounts:
    """Agreement over songs of the training cache (:class:`engine.cache.CachedSong`:
    ``notes`` (n, 5) track/pitch/start/duration/velocity in steps, ``chords`` (c, 3)
    start/end step and index into ``chord_vocab``, ``n_bars``). Notes of ``tracks``
    (default 2 = piano) are used; windows of ``window_steps`` start at step 0."""
    total = AgreementCounts()
    for song in songs:
        notes = np.asarray(song.notes)
        chosen = notes[np.isin(notes[:, 0], list(tracks))]
        chords = np.asarray(song.chords)
        total = total + measure_agreement(
            chosen[:, 2], chosen[:, 2] + chosen[:, 3], chosen[:, 1],
            chords[:, 0], chords[:, 1], [chord_vocab[int(i)] for i in chords[:, 2]],
            window=window_steps, end=int(song.n_bars) * 16,
            include_no_chord=include_no_chord)
    return total
