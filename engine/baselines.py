"""Evaluation inputs and the systems ``diffjam eval`` compares (model and baselines).

Tasks (on a window of ``n_bars`` bars, 8 by default; time in 16th steps from the window
start):

- ``infill``: the whole arrangement (MELODY + BRIDGE + PIANO merged) is given except the
  notes that start in the gap (by default the middle half of the window: bars ``[2, 6)``
  of 8, ``[8, 24)`` of 32; any gap with :attr:`TaskInput.gap`, e.g. ``[6, 10)`` of 16);
  a system returns the notes that start inside the gap. The window's chords are given
  too (a system may ignore them).
- ``accompany``: the chords and the MELODY track are given; a system returns the PIANO
  part of the whole window (BRIDGE is neither given nor expected).
- ``generate``: nothing is given; a system returns the whole arrangement of the window.

Every system has one interface, :class:`System`: a name, the tasks it can do, and a
function from a :class:`TaskInput` to the notes it produces (only the generated part,
never the given context). No baseline reads the notes it is scored against
(:meth:`TaskInput.target`), except ``ground_truth``, which *is* them.
"""

from __future__ import annotations

import itertools
import math
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from engine.errors import InputError
from engine.harmony import Chord, ChordSpan, Key
from engine.pianoroll import STEPS_PER_BAR, STEPS_PER_BEAT, Note

__all__ = [
    "beat_chord_features",
    "song_number",
    "ARRANGEMENT_PRIOR",
    "INFILL_BARS",
    "NoteStatistics",
    "PIANO_PRIOR",
    "Protocol",
    "RetrievalLibrary",
    "Segment",
    "System",
    "TASKS",
    "TaskInput",
    "WINDOW_BARS",
    "centered_gap",
    "context_shuffle",
    "context_shuffle_system",
    "context_statistics",
    "copy_bars",
    "copy_bars_system",
    "copy_neighbours",
    "copy_neighbours_system",
    "ground_truth_system",
    "label_pad",
    "label_pad_system",
    "random_in_key",
    "random_in_key_system",
    "retrieval_system",
    "rule_based_system",
]


def song_number(song_id: str) -> int:
    """A song id as a number for seeding: POP909's ids are numbers; another id (a file
    name of an own folder: diffjam cache --midi) its CRC-32."""
    return int(song_id) if song_id.isdigit() else zlib.crc32(song_id.encode())


TASKS = ("infill", "accompany", "generate")
WINDOW_BARS = 8
INFILL_BARS = (2, 6)  # 0-based, half-open: the default gap of an 8-bar window (bars 3-6)


def centered_gap(n_bars: int, gap_bars: int) -> tuple[int, int]:
    """Bars ``[start, stop)`` of a gap of ``gap_bars`` bars in the middle of ``n_bars``
    (the extra bar of an odd difference goes after the gap): ``(8, 4) -> (2, 6)``,
    ``(16, 4) -> (6, 10)``, ``(32, 16) -> (8, 24)``."""
    if not 1 <= gap_bars < n_bars:
        raise ValueError(f"a gap needs 1 <= gap_bars < n_bars, got {gap_bars} of {n_bars}")
    start = (n_bars - gap_bars) // 2
    return start, start + gap_bars


@dataclass(frozen=True)
class Protocol:
    """Window length and infill gap, in bars (the gap sits in the middle of the window)."""

    window_bars: int = WINDOW_BARS
    gap_bars: int | None = None  # None: half the window

    def __post_init__(self) -> None:
        if self.window_bars < 2:
            raise InputError(f"--window-bars must be >= 2, got {self.window_bars}")
        if self.gap_bars is not None and not 1 <= self.gap_bars < self.window_bars:
            raise InputError(f"--gap-bars must be in [1, {self.window_bars - 1}] for "
                             f"{self.window_bars}-bar windows, got {self.gap_bars}")

    @property
    def gap(self) -> tuple[int, int]:
        """Infill bars ``[start, stop)``, 0-based."""
        gap_bars = self.window_bars // 2 if self.gap_bars is None else self.gap_bars
        return centered_gap(self.window_bars, gap_bars)

    def describe(self, task: str) -> str:
        start, stop = self.gap
        if task == "infill":
            return (f"{self.window_bars}-bar windows, bars {start + 1}-{stop} "
                    f"({stop - start} bars) regenerated")
        return f"{self.window_bars}-bar windows"


@dataclass(frozen=True)
class Segment:
    """An evaluation window cut from a song; every time is relative to the window start.

    ``melody``, ``bridge``, ``piano``: notes starting inside the window, cut at its end.
    ``chords``: spans clipped to the window. ``keys``: ``(start step, Key)`` changes, the
    first at step 0.
    """

    song_id: str
    start_bar: int  # bar of the song where the window starts
    n_bars: int
    melody: tuple[Note, ...]
    bridge: tuple[Note, ...]
    piano: tuple[Note, ...]
    chords: tuple[ChordSpan, ...]
    keys: tuple[tuple[int, Key], ...]

    @property
    def n_steps(self) -> int:
        return self.n_bars * STEPS_PER_BAR

    @property
    def key(self) -> Key:
        """The key at the window start."""
        return self.keys[0][1]

    def arrangement(self) -> tuple[Note, ...]:
        """All three tracks merged, sorted."""
        return tuple(sorted(self.melody + self.bridge + self.piano))


@dataclass(frozen=True)
class TaskInput:
    """One task on one segment; ``seed`` makes every stochastic system reproducible.

    ``gap``: the infill bars ``[start, stop)``; None means the middle half of the window
    (:func:`centered_gap`). Ignored by the other tasks.
    """

    task: str
    segment: Segment
    seed: int
    gap: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {', '.join(TASKS)}, got {self.task!r}")
        if self.gap is not None and not 0 <= self.gap[0] < self.gap[1] <= self.segment.n_bars:
            raise ValueError(f"gap {self.gap} does not lie in the {self.segment.n_bars}-bar "
                             "window")

    @property
    def bars(self) -> tuple[int, int]:
        """Bars ``[start, stop)`` a system generates."""
        if self.task != "infill":
            return 0, self.segment.n_bars
        if self.gap is not None:
            return self.gap
        return centered_gap(self.segment.n_bars, max(1, self.segment.n_bars // 2))

    @property
    def steps(self) -> tuple[int, int]:
        start, stop = self.bars
        return start * STEPS_PER_BAR, stop * STEPS_PER_BAR

    def given(self) -> tuple[Note, ...]:
        """The notes a system is given: the context outside the infill bars (notes that
        start before them and ring into them included), the melody, or nothing."""
        if self.task == "infill":
            lo, hi = self.steps
            return tuple(n for n in self.segment.arrangement() if not lo <= n.start < hi)
        if self.task == "accompany":
            return self.segment.melody
        return ()

    def target(self) -> tuple[Note, ...]:
        """The ground truth of what a system must produce."""
        if self.task == "infill":
            lo, hi = self.steps
            return tuple(n for n in self.segment.arrangement() if lo <= n.start < hi)
        if self.task == "accompany":
            return self.segment.piano
        return self.segment.arrangement()

    def chords(self) -> tuple[ChordSpan, ...]:
        """The conditioning chords (none for unconditional generation)."""
        return () if self.task == "generate" else self.segment.chords

    def rng(self) -> np.random.Generator:
        """The generator of a stochastic baseline on this input (seed, song, window)."""
        return np.random.default_rng([self.seed, song_number(self.segment.song_id),
                                      self.segment.start_bar])


@dataclass(frozen=True)
class System:
    """A named way of producing notes for a task (model or baseline)."""

    name: str
    tasks: frozenset[str]
    produce: Callable[[TaskInput], tuple[Note, ...]] = field(repr=False)

    def supports(self, task: str) -> bool:
        return task in self.tasks


# ------------------------------------------------------------------------ ground truth


def ground_truth_system() -> System:
    """The ground truth itself: the upper reference of every metric."""
    return System("ground_truth", frozenset(TASKS), lambda task: task.target())


# --------------------------------------------------------------------------- label pad

_PAD_LOW = 55  # G3: the pad's upper chord tones lie in G3..F#4


def label_pad(chords: Sequence[ChordSpan], *, lo: int, hi: int) -> tuple[Note, ...]:
    """Each label's pitch classes held for its whole span (clipped to ``[lo, hi)``): the
    bass pitch class in C2..B2 and every other chord tone once in G3..F#4. "N" is silent.

    The notes' pitch-class weights are the label's own, over its bass, so the chord
    metrics read the label back: the ceiling of chord accuracy, not a musical baseline.
    """
    notes: list[Note] = []
    for span in chords:
        chord = span.chord
        a, b = max(lo, span.start), min(hi, span.stop)
        if b <= a or chord.is_no_chord:
            continue
        notes.append(Note(start=a, pitch=_bass(chord), duration=b - a, velocity=60))
        for pc in range(12):
            if chord.chroma[pc] and pc != chord.bass:
                pitch = _PAD_LOW + (pc - _PAD_LOW) % 12
                notes.append(Note(start=a, pitch=pitch, duration=b - a, velocity=60))
    return tuple(sorted(notes))


def label_pad_system() -> System:
    """:func:`label_pad` over the generated bars (a ceiling row for the chord metrics)."""

    def produce(task: TaskInput) -> tuple[Note, ...]:
        lo, hi = task.steps
        return label_pad(task.chords(), lo=lo, hi=hi)

    return System("label_pad", frozenset({"infill", "accompany"}), produce)


# -------------------------------------------------------------------------- rule-based

_BASS_LOW = 36  # C2: bass notes lie in C2..B2
_VOICING_LOW = 55  # G3: chord voicings start at the first chord tone >= G3


def _voicing(chord: Chord, *, low: int = _VOICING_LOW, size: int = 3) -> list[int]:
    """Close-position voicing: the ``size`` lowest chord tones at or above ``low``."""
    pcs = [pc for pc in range(12) if chord.chroma[pc]]
    pitches = sorted(p for p in range(low, low + 12) if p % 12 in pcs)
    while len(pitches) < size:
        pitches.append(pitches[len(pitches) - len(pcs)] + 12)
    return pitches[:size]


def _bass(chord: Chord) -> int:
    assert chord.bass is not None
    return _BASS_LOW + chord.bass


def rule_accompaniment(chords: Sequence[ChordSpan], *, lo: int, hi: int,
                       style: str = "block") -> tuple[Note, ...]:
    """Accompaniment from chord symbols in steps ``[lo, hi)``.

    Each chord segment, cut at every half bar: the bass (chord bass in C2..B2) held for the
    half bar, and above it the close voicing of the three lowest chord tones from G3:
    ``"block"`` strikes it on every beat (quarter notes); ``"arpeggio"`` plays its notes
    up and down in 8th notes (low, mid, high, mid). "N" spans stay silent.
    """
    if style not in ("block", "arpeggio"):
        raise ValueError(f"style must be 'block' or 'arpeggio', got {style!r}")
    notes: list[Note] = []
    half = STEPS_PER_BAR // 2
    for span in chords:
        if span.chord.is_no_chord:
            continue
        a, b = max(lo, span.start), min(hi, span.stop)
        if b <= a:
            continue
        cuts = sorted({a, b, *range((a // half + 1) * half, b, half)})
        voicing = _voicing(span.chord)
        for seg_lo, seg_hi in itertools.pairwise(cuts):
            notes.append(Note(start=seg_lo, pitch=_bass(span.chord), duration=seg_hi - seg_lo,
                              velocity=70))
            if style == "block":
                for beat_lo in range(seg_lo, seg_hi, STEPS_PER_BEAT):
                    length = min(STEPS_PER_BEAT, seg_hi - beat_lo)
                    notes.extend(Note(start=beat_lo, pitch=p, duration=length, velocity=60)
                                 for p in voicing)
            else:
                pattern = [voicing[0], voicing[1], voicing[2], voicing[1]]
                for i, step in enumerate(range(seg_lo, seg_hi, 2)):
                    notes.append(Note(start=step, pitch=pattern[i % 4],
                                      duration=min(2, seg_hi - step), velocity=60))
    return tuple(sorted(notes))


def rule_based_system(*, style: str = "block") -> System:
    """Rule-based accompanist (:func:`rule_accompaniment`) for ``accompany`` and for the
    infill bars (it fills them with an accompaniment of their chords, without a melody)."""

    def produce(task: TaskInput) -> tuple[Note, ...]:
        lo, hi = task.steps
        return rule_accompaniment(task.chords(), lo=lo, hi=hi, style=style)

    return System(f"rule_{style}", frozenset({"infill", "accompany"}), produce)


# ------------------------------------------------------------------ copy the neighbours


def copy_neighbours(notes: Sequence[Note], *, n_bars: int, start_bar: int, stop_bar: int
                    ) -> tuple[Note, ...]:
    """Fill bars ``[start_bar, stop_bar)`` by copying the bars next to them.

    The gap is split in two halves (the left one gets the extra bar when the gap is odd):
    the left half repeats the ``h`` bars just before the gap, the right half the bars just
    after it (so for the gap [2, 6) of 8 bars, bars 0-1 are copied to 2-3 and bars 6-7 to
    4-5). When one side lacks those bars, the whole gap is copied from the other side,
    shifted by the gap length; bars with no source at all stay empty. Copied notes are cut
    at the end of their destination bar.
    """
    gap = stop_bar - start_bar
    if gap < 1:
        raise ValueError(f"empty gap [{start_bar}, {stop_bar})")
    left_len = math.ceil(gap / 2)
    left_ok = start_bar - left_len >= 0
    right_ok = stop_bar + gap - left_len <= n_bars
    out: list[Note] = []
    for dest in range(start_bar, stop_bar):
        if left_ok and right_ok:
            primary = dest - left_len if dest - start_bar < left_len else dest + gap - left_len
        else:
            primary = dest - gap if left_ok else dest + gap
        candidates = (primary, dest - gap, dest + gap)
        source = next((s for s in candidates if 0 <= s < n_bars and not start_bar <= s < stop_bar),
                      None)
        if source is None:
            continue
        lo, hi = source * STEPS_PER_BAR, (source + 1) * STEPS_PER_BAR
        offset = (dest - source) * STEPS_PER_BAR
        for note in notes:
            if lo <= note.start < hi:
                end = min(note.end + offset, (dest + 1) * STEPS_PER_BAR)
                out.append(Note(start=note.start + offset, pitch=note.pitch,
                                duration=end - (note.start + offset), velocity=note.velocity))
    return tuple(sorted(out))


def copy_neighbours_system() -> System:
    """Infilling by copying the neighbouring bars (:func:`copy_neighbours`)."""

    def produce(task: TaskInput) -> tuple[Note, ...]:
        start, stop = task.bars
        return copy_neighbours(task.given(), n_bars=task.segment.n_bars, start_bar=start,
                               stop_bar=stop)

    return System("copy_neighbours", frozenset({"infill"}), produce)


def copy_bars(notes: Sequence[Note], *, n_bars: int, start_bar: int, stop_bar: int,
              side: str) -> tuple[Note, ...]:
    """Fill bars ``[start_bar, stop_bar)`` by repeating the context on one ``side``.

    ``"previous"``: the ``L = min(gap, start_bar)`` bars just before the gap are repeated
    from the gap's start, as often as needed (gap [6, 10) of 16 bars: bars 2-5 go to 6-9;
    gap [2, 6) of 8: bars 0-1 go to 2-3 and again to 4-5). ``"next"``: the ``L = min(gap,
    n_bars - stop_bar)`` bars just after the gap, repeated the same way from the gap's
    start. Each copied block keeps its notes' onsets, pitches and velocities; a note is
    cut at the end of its block. Empty when that side has no bars.
    """
    if side not in ("previous", "next"):
        raise ValueError(f"side must be 'previous' or 'next', got {side!r}")
    gap = stop_bar - start_bar
    if gap < 1:
        raise ValueError(f"empty gap [{start_bar}, {stop_bar})")
    length = min(gap, start_bar) if side == "previous" else min(gap, n_bars - stop_bar)
    if length < 1:
        return ()
    source = start_bar - length if side == "previous" else stop_bar
    lo, hi = source * STEPS_PER_BAR, (source + length) * STEPS_PER_BAR
    block = [n for n in notes if lo <= n.start < hi]
    out: list[Note] = []
    for dest in range(start_bar, stop_bar, length):
        offset = (dest - source) * STEPS_PER_BAR
        block_end = min(dest + length, stop_bar) * STEPS_PER_BAR
        for note in block:
            begin = note.start + offset
            if begin < block_end:
                out.append(Note(start=begin, pitch=note.pitch,
                                duration=min(note.end + offset, block_end) - begin,
                                velocity=note.velocity))
    return tuple(sorted(out))


def copy_bars_system(side: str) -> System:
    """``copy_previous`` / ``copy_next``: infilling by :func:`copy_bars`. POP909 songs
    repeat whole phrases, so these are strong baselines for fidelity to the real bars."""

    def produce(task: TaskInput) -> tuple[Note, ...]:
        start, stop = task.bars
        return copy_bars(task.given(), n_bars=task.segment.n_bars, start_bar=start,
                         stop_bar=stop, side=side)

    return System(f"copy_{side}", frozenset({"infill"}), produce)


# ---------------------------------------------------------------------- context shuffle


def context_shuffle(context: Sequence[Note], *, context_bars: int, start_bar: int,
                    stop_bar: int, rng: np.random.Generator) -> tuple[Note, ...]:
    """The context's own notes dealt at random into the gap ``[start_bar, stop_bar)``.

    1. Count: ``round(len(context) * gap_bars / context_bars)``, the context's density.
    2. Notes: the context's notes in a random order (the order repeated when more are
       needed), each keeping its pitch, duration, velocity and position inside its bar.
    3. Each goes to a uniformly drawn bar of the gap; durations are cut at the gap end.

    Pitch and duration statistics equal the context's, harmony and phrase structure are
    gone: a sanity row that shows how far the self-similarity metrics can be met by
    statistics alone.
    """
    if not context or context_bars < 1:
        return ()
    gap = stop_bar - start_bar
    count = round(len(context) * gap / context_bars)
    order = np.concatenate([rng.permutation(len(context))
                            for _ in range(-(-count // len(context)))])[:count]
    bars = rng.integers(start_bar, stop_bar, size=count)
    hi = stop_bar * STEPS_PER_BAR
    out = []
    for index, bar in zip(order, bars, strict=True):
        note = context[int(index)]
        start = int(bar) * STEPS_PER_BAR + note.start % STEPS_PER_BAR
        out.append(Note(start=start, pitch=note.pitch, duration=min(note.duration, hi - start),
                        velocity=note.velocity))
    return tuple(sorted(out))


def context_shuffle_system() -> System:
    """Infilling by :func:`context_shuffle` of the given context."""

    def produce(task: TaskInput) -> tuple[Note, ...]:
        start, stop = task.bars
        return context_shuffle(task.given(), context_bars=task.segment.n_bars - (stop - start),
                               start_bar=start, stop_bar=stop, rng=task.rng())

    return System("context_shuffle", frozenset({"infill"}), produce)


# ------------------------------------------------------------------------ random in key

_RANDOM_DURATIONS = (1, 2, 4, 8)


@dataclass(frozen=True)
class NoteStatistics:
    """What :func:`random_in_key` draws from: notes per bar and a pitch range."""

    notes_per_bar: float
    low: int
    high: int


# Priors where no notes of the kind asked for are given: medians over the 8-bar windows
# (hop 8, at least 8 PIANO onsets) of POP909's train split, measured from the cache.
PIANO_PRIOR = NoteStatistics(notes_per_bar=13.0, low=38, high=70)
ARRANGEMENT_PRIOR = NoteStatistics(notes_per_bar=20.0, low=38, high=82)


def context_statistics(context: Sequence[Note], *, context_bars: int) -> NoteStatistics | None:
    """Notes per bar and pitch range of the context (None when it has no notes)."""
    if not context or context_bars < 1:
        return None
    pitches = [n.pitch for n in context]
    return NoteStatistics(len(context) / context_bars, min(pitches), max(pitches))


def random_in_key(stats: NoteStatistics, *, key: Key, lo: int, hi: int,
                  rng: np.random.Generator) -> tuple[Note, ...]:
    """``round(stats.notes_per_bar * bars)`` notes at uniform random grid steps of ``[lo,
    hi)``, pitches uniform over the key's scale in ``[stats.low, stats.high]``, durations
    uniform over 1, 2, 4, 8 steps (cut at ``hi``)."""
    count = round(stats.notes_per_bar * (hi - lo) / STEPS_PER_BAR)
    if count == 0:
        return ()
    scale = key.scale_mask()
    pitches = [p for p in range(stats.low, stats.high + 1) if scale[p % 12]] or [stats.low]
    starts = rng.integers(lo, hi, size=count)
    chosen = rng.choice(pitches, size=count)
    durations = rng.choice(_RANDOM_DURATIONS, size=count)
    return tuple(sorted(
        Note(start=int(s), pitch=int(p), duration=int(min(d, hi - s)), velocity=80)
        for s, p, d in zip(starts, chosen, durations, strict=True)
    ))


def random_in_key_system() -> System:
    """Random in-key notes (:func:`random_in_key`) at statistics the system may know.

    infill: the context's density and pitch range, the window's key; accompany:
    :data:`PIANO_PRIOR` and the window's key; generate: :data:`ARRANGEMENT_PRIOR` in C
    major (no key is given). The notes to be scored are never read.
    """

    def produce(task: TaskInput) -> tuple[Note, ...]:
        lo, hi = task.steps
        key = task.segment.key
        if task.task == "infill":
            start, stop = task.bars
            stats = context_statistics(task.given(),
                                       context_bars=task.segment.n_bars - (stop - start))
            if stats is None:
                return ()
        elif task.task == "accompany":
            stats = PIANO_PRIOR
        else:
            stats, key = ARRANGEMENT_PRIOR, Key(0, "major")
        return random_in_key(stats, key=key, lo=lo, hi=hi, rng=task.rng())

    return System("random_in_key", frozenset(TASKS), produce)


# ---------------------------------------------------------------------------- retrieval


def beat_chord_features(starts: np.ndarray, stops: np.ndarray, chroma: np.ndarray, *,
                        n_beats: int) -> np.ndarray:
    """(n_beats, 12) unit chroma of the chord sounding at the middle of each beat, from
    chord spans as arrays (``starts``, ``stops`` in steps; ``chroma`` (n, 12), zeros for
    "N"); zeros where no span sounds. The one definition of the retrieval feature: the
    query side (:func:`chord_features`) and the library built from a cache
    (engine.evaluate.cache_library) both use it."""
    features = np.zeros((n_beats, 12))
    if len(starts):
        order = np.argsort(starts, kind="stable")
        first, last, tones = starts[order], stops[order], chroma[order]
        mids = np.arange(n_beats) * STEPS_PER_BEAT + STEPS_PER_BEAT // 2
        index = np.searchsorted(first, mids, side="right") - 1
        inside = (index >= 0) & (mids < last[np.clip(index, 0, None)])
        features[inside] = tones[index[inside]]
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return np.divide(features, norms, out=np.zeros_like(features), where=norms > 0)


def chord_features(chords: Sequence[ChordSpan], *, n_beats: int) -> np.ndarray:
    """:func:`beat_chord_features` of chord spans ("N" spans sound as no chord)."""
    spans = [s for s in chords if not s.chord.is_no_chord]
    return beat_chord_features(np.array([s.start for s in spans], dtype=np.int64),
                               np.array([s.stop for s in spans], dtype=np.int64),
                               np.array([s.chord.chroma for s in spans],
                                        dtype=np.float64).reshape(-1, 12), n_beats=n_beats)


def _transpose(notes: Sequence[Note], semitones: int) -> tuple[Note, ...]:
    out = []
    for n in notes:
        pitch = n.pitch + semitones
        while pitch > 127:
            pitch -= 12
        while pitch < 0:
            pitch += 12
        out.append(Note(start=n.start, pitch=pitch, duration=n.duration, velocity=n.velocity))
    return tuple(sorted(out))


@dataclass(frozen=True)
class RetrievalLibrary:
    """Windows to retrieve from: chord features for the search, segments on demand.

    ``song_ids[m]`` and ``features[m]`` (float (M, beats, 12), :func:`chord_features` of a
    window of the evaluated length) describe window ``m``; ``fetch(m)`` builds its
    :class:`Segment` (only the retrieved windows are ever built, so a library can cover a
    whole training set).
    """

    song_ids: tuple[str, ...]
    features: np.ndarray
    fetch: Callable[[int], Segment] = field(repr=False)

    def __post_init__(self) -> None:
        if self.features.ndim != 3 or self.features.shape[0] != len(self.song_ids):
            raise ValueError(f"features must be (M, beats, 12) for {len(self.song_ids)} "
                             f"windows, got {self.features.shape}")

    def __len__(self) -> int:
        return len(self.song_ids)

    @classmethod
    def from_segments(cls, segments: Sequence[Segment]) -> RetrievalLibrary:
        items = tuple(segments)
        n_bars = items[0].n_bars if items else WINDOW_BARS
        n_beats = n_bars * STEPS_PER_BAR // STEPS_PER_BEAT
        features = (np.stack([chord_features(s.chords, n_beats=n_beats) for s in items])
                    if items else np.zeros((0, n_beats, 12)))
        return cls(tuple(s.song_id for s in items), features, items.__getitem__)


def retrieval_system(library: RetrievalLibrary | Sequence[Segment]) -> System:
    """Nearest library window by chord sequence, transposed to fit.

    Query: the per-beat chord chroma (:func:`chord_features`) of the bars to generate.
    Every library window from another song is compared over the same beats under all 12
    transpositions; the score is the summed cosine similarity of the beats (ties: the
    first window, the smallest transposition). The best (window, transposition) gives the
    notes: its PIANO for ``accompany``, its whole arrangement in the infill bars for
    ``infill``. Library windows have the evaluated windows' length. For ``generate`` (no
    chords) a window is drawn with the task's seed.
    """
    lib = library if isinstance(library, RetrievalLibrary) else \
        RetrievalLibrary.from_segments(library)
    if len(lib) == 0:
        raise ValueError("the retrieval library is empty")
    n_beats = lib.features.shape[1]
    lib_ids = np.array(lib.song_ids)

    def produce(task: TaskInput) -> tuple[Note, ...]:
        lo, hi = task.steps
        if task.task == "generate":
            return lib.fetch(int(task.rng().integers(len(lib)))).arrangement()
        if task.segment.n_steps != n_beats * STEPS_PER_BEAT:
            raise ValueError(f"the library holds {n_beats}-beat windows, the task a "
                             f"{task.segment.n_bars}-bar one")
        b_lo, b_hi = lo // STEPS_PER_BEAT, hi // STEPS_PER_BEAT
        query = chord_features(task.chords(), n_beats=n_beats)[b_lo:b_hi]  # (b, 12)
        cand = lib.features[:, b_lo:b_hi].reshape(len(lib), -1)  # (M, b * 12)
        # score[m, k] = sum_b <roll(cand[m, b], k), query[b]> (candidate transposed up k)
        #             = sum_b <cand[m, b], roll(query[b], -k)>: one matrix product
        shifted = np.stack([np.roll(query, -k, axis=1).ravel() for k in range(12)])
        scores = cand @ shifted.T.astype(cand.dtype)  # (M, 12)
        scores[lib_ids == task.segment.song_id] = -np.inf
        m, k = np.unravel_index(int(np.argmax(scores)), scores.shape)
        if not np.isfinite(scores[m, k]):
            return ()
        shift = int(k) if k <= 6 else int(k) - 12
        best = lib.fetch(int(m))
        if task.task == "accompany":
            return _transpose(best.piano, shift)
        inside = [n for n in best.arrangement() if lo <= n.start < hi]
        return _transpose(inside, shift)

    return System("retrieval", frozenset(TASKS), produce)
