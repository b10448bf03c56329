"""Whole songs from a form: the cascade form -> lead sheet -> accompaniment.

1. **Form**: a phrase string such as ``i4A8B8A8o4`` (:mod:`wire.form`) and a key.
2. **Lead sheet** (:mod:`engine.leadsheet`): melody and chords of the whole song,
   diffused jointly (the chords are output channels beside the melody, as in
   Music-Diff), conditioned on each step's phrase label, its place in the phrase and in
   the song, and the mode. Phrases are written left to right with everything before them
   as known context; a phrase whose label was heard before starts from that phrase
   (noised to ``1 - repeat_strength``: a variation of it, not a copy), which is what
   relates the second A to the first. With the in-key projection on (the
   accompaniment settings' ``in_key``, as everywhere) melody notes, chord tones and basses
   stay in the key's scale.
3. **Accompaniment**: the engine's model (:meth:`engine.pipeline.Pipeline.accompany`)
   under the lead sheet's melody and chords, cut at the phrases whose label repeats: a
   repeated phrase's accompaniment starts from its first phrase's, as its lead sheet did.

Any part can be fixed (:class:`FixedParts`): given melody bars and given chords are
known parts of the lead-sheet stage, given accompaniment bars are known context of the
accompaniment stage; the cascade fills the rest.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from engine.errors import InputError
from engine.harmony import ChordSpan, Key, chord_grid
from engine.leadsheet import (
    CHANNELS,
    MELODY_CHANNELS,
    LeadSheetSampler,
    decode_chords,
    decode_melody,
    encode,
    form_features,
    key_shift,
)
from engine.pianoroll import STEPS_PER_BAR, Note
from engine.sampling import MAX_BARS, BarRange, Cancelled, SamplingOptions
from wire.form import Phrase
from wire.limits import (
    DEFAULT_REPEAT_STRENGTH,
    DEFAULT_SONG_STEPS,
    REPEAT_STRENGTH,
    SONG_STEPS,
    SONG_TEMPO,
)

__all__ = ["STAGES", "FixedParts", "Song", "SongOptions", "compose"]

STAGES = ("lead sheet", "accompaniment")
CONTEXT_BARS = 16  # bars before a phrase the lead-sheet window shows, at most
StageProgress = Callable[[str, float], None]


@dataclass(frozen=True)
class SongOptions:
    """Settings of one song request.

    ``steps``: DDIM steps of the lead-sheet stage. ``repeat_strength`` in [0, 1]: how
    closely a phrase follows the earlier phrase with the same label (0: written from
    scratch with only the bars before it as context). ``use_form=False`` drops the
    phrase labels (the no-form baseline of the evaluation). ``accompaniment``: the
    settings of the accompaniment stage (guidance, in-key projection, quality, seed is
    derived from ``seed``).
    """

    seed: int | None = None
    steps: int = DEFAULT_SONG_STEPS
    repeat_strength: float = DEFAULT_REPEAT_STRENGTH
    use_form: bool = True
    accompaniment: SamplingOptions = field(default_factory=SamplingOptions)

    def __post_init__(self) -> None:
        if self.steps not in SONG_STEPS:
            raise InputError(f"steps must be in {SONG_STEPS}, got {self.steps}")
        if self.repeat_strength not in REPEAT_STRENGTH:
            raise InputError(f"repeat_strength must be in {REPEAT_STRENGTH}, got "
                             f"{self.repeat_strength}")


@dataclass(frozen=True)
class FixedParts:
    """Parts of the song given by the user (16th steps, song time, the song's key).

    ``melody`` notes are kept in ``melody_bars`` (0-based bars); ``chords`` are kept
    wherever they lie; ``accompaniment`` notes are kept in ``accompaniment_bars``.
    """

    melody: tuple[Note, ...] = ()
    melody_bars: tuple[int, ...] = ()
    chords: tuple[ChordSpan, ...] = ()
    accompaniment: tuple[Note, ...] = ()
    accompaniment_bars: tuple[int, ...] = ()


@dataclass(frozen=True)
class Song:
    """A generated song: three parts on the 16th grid of ``n_bars`` 4/4 bars."""

    phrases: tuple[Phrase, ...]
    key: Key
    tempo: float
    n_bars: int
    melody: tuple[Note, ...]
    chords: tuple[ChordSpan, ...]
    accompaniment: tuple[Note, ...]
    seed: int
    seconds: dict[str, float]  # per stage (STAGES), plus "total"


# ------------------------------------------------------------------------ the cascade

def _bars_mask(bars: Sequence[int], n_bars: int) -> np.ndarray:
    steps = np.zeros(n_bars * STEPS_PER_BAR, dtype=bool)
    for bar in bars:
        if not 0 <= bar < n_bars:
            raise InputError(f"bar {bar + 1} lies outside the {n_bars}-bar song")
        steps[bar * STEPS_PER_BAR:(bar + 1) * STEPS_PER_BAR] = True
    return steps


def _given(fixed: FixedParts, n_bars: int, shift: int) -> tuple[np.ndarray, np.ndarray]:
    """The fixed melody and chords as known parts: (CHANNELS, T) data units and the
    (2, T) masks (melody, chords)."""
    steps = n_bars * STEPS_PER_BAR
    melody_steps = _bars_mask(fixed.melody_bars, n_bars)
    inside = [n for n in fixed.melody if 0 <= n.start < steps and melody_steps[n.start]]
    known = encode(inside, fixed.chords, steps, shift=shift)
    masks = np.zeros((2, steps), dtype=np.float32)
    masks[0, melody_steps] = 1.0
    for span in fixed.chords:
        if span.chord.root is not None:
            masks[1, max(span.start, 0):min(span.stop, steps)] = 1.0
    return known, masks


@dataclass
class _LeadSheetPass:
    """The lead-sheet stage's state: the song so far (data units) and what is decided."""

    sampler: LeadSheetSampler
    form: np.ndarray  # (COND_DIM, T)
    state: np.ndarray  # (CHANNELS, T)
    decided: np.ndarray  # (2, T) 1 where melody / chords are known or written
    window_bars: int
    steps: int
    strength: float
    generator: torch.Generator
    scale: np.ndarray | None  # pitch classes allowed, tonic = 0 (None: no projection)

    def phrase(self, start: int, bars: int, source: tuple[int, int, int] | None,
               callback: Callable[[int, int], None]) -> None:
        """Write bars ``start .. start + bars - 1``: a window of up to CONTEXT_BARS
        bars before them and the bars after them up to the window's length; the decided
        steps are known, the rest sampled. With ``source`` = (first bar, bars, offset) of
        an earlier phrase with the same label, bar i of these bars starts from bar
        ``(offset + i) % bars`` of that phrase. At most half a window (:func:`_pieces`)."""
        n_bars = self.state.shape[1] // STEPS_PER_BAR
        lo = max(0, start + bars - self.window_bars,
                 min(start - CONTEXT_BARS, n_bars - self.window_bars))
        hi = min(lo + self.window_bars, n_bars)
        rows = slice(lo * STEPS_PER_BAR, hi * STEPS_PER_BAR)
        draft = None
        if source is not None and self.strength > 0.0:
            draft = np.where(self.decided[:1].repeat(CHANNELS, 0) > 0, self.state, -1.0)
            src_start, src_bars, offset = source
            for i in range(bars):
                to = (start + i) * STEPS_PER_BAR
                frm = (src_start + (offset + i) % src_bars) * STEPS_PER_BAR
                draft[:MELODY_CHANNELS, to:to + STEPS_PER_BAR] = \
                    self.state[:MELODY_CHANNELS, frm:frm + STEPS_PER_BAR]
                if not self.decided[1, to:to + STEPS_PER_BAR].any():
                    draft[MELODY_CHANNELS:, to:to + STEPS_PER_BAR] = \
                        self.state[MELODY_CHANNELS:, frm:frm + STEPS_PER_BAR]
            draft = draft[:, rows]
        x0 = self.sampler.sample(known=self.state[:, rows], masks=self.decided[:, rows],
                                 form=self.form[:, rows], steps=self.steps,
                                 generator=self.generator, start=draft,
                                 strength=self.strength if draft is not None else 0.0,
                                 scale=self.scale, callback=callback)
        a, b = start * STEPS_PER_BAR - rows.start, (start + bars) * STEPS_PER_BAR - rows.start
        target = slice(start * STEPS_PER_BAR, (start + bars) * STEPS_PER_BAR)
        written = np.where(x0[:, a:b] > 0, 1.0, -1.0).astype(np.float32)
        keep = np.concatenate([self.decided[:1, target].repeat(MELODY_CHANNELS, 0),
                               self.decided[1:, target].repeat(CHANNELS - MELODY_CHANNELS, 0)])
        self.state[:, target] = np.where(keep > 0, self.state[:, target], written)
        self.decided[:, target] = 1.0


def _pieces(start: int, bars: int, window_bars: int) -> list[tuple[int, int]]:
    """A phrase cut into pieces of at most half a window, ``(first bar, bars)``, so each
    piece has context before it in its window."""
    size = max(window_bars // 2, 1)
    return [(start + k, min(size, bars - k)) for k in range(0, bars, size)]


def _phrase_spans(form: Sequence[Phrase]) -> list[tuple[int, int, str]]:
    spans, bar = [], 0
    for phrase in form:
        spans.append((bar, phrase.bars, phrase.letter))
        bar += phrase.bars
    return spans


def _accompaniment_ranges(fixed_bars: Sequence[int], n_bars: int) -> list[BarRange]:
    """The runs of bars the accompaniment stage writes (every bar not fixed)."""
    fixed = set(fixed_bars)
    ranges: list[BarRange] = []
    for bar in range(n_bars):
        if bar in fixed:
            continue
        if ranges and ranges[-1].stop == bar:
            ranges[-1] = BarRange(ranges[-1].start, bar + 1)
        else:
            ranges.append(BarRange(bar, bar + 1))
    return ranges


def compose(pipeline: Any, sampler: LeadSheetSampler, run: Callable[[Callable[[], Any]], Any],
            form: Sequence[Phrase], *, key: Key, tempo: float, options: SongOptions,
            fixed: FixedParts, progress: StageProgress | None,
            cancel: threading.Event | None, window_bars: int,
            between_steps: Callable[[], None]) -> Song:
    """The cascade (module docstring). ``pipeline`` writes the accompaniment
    (:meth:`engine.pipeline.Pipeline.accompany`); ``run`` runs a model call on the
    pipeline's model thread; ``sampler`` is the lead-sheet model; ``between_steps`` is
    called between the lead sheet's sampler steps, on that thread (the pipeline's
    :meth:`engine.pipeline.ModelThread.serve_urgent`: a live jam's bar goes first)."""
    started = time.perf_counter()
    phrases = _phrase_spans(form)
    n_bars = sum(p.bars for p in form)
    if not phrases:
        raise InputError("the form is empty: give phrases such as A8B8")
    if n_bars > MAX_BARS:
        raise InputError(f"the form lasts {n_bars} bars; at most {MAX_BARS} are supported")
    if tempo not in SONG_TEMPO:
        raise InputError(f"tempo must be in {SONG_TEMPO} BPM, got {tempo}")
    seed = options.seed if options.seed is not None else int(
        np.random.SeedSequence().generate_state(1, dtype=np.uint64)[0] >> 1)
    shift = key_shift(key.tonic)
    known, masks = _given(fixed, n_bars, shift)
    work = _LeadSheetPass(
        sampler=sampler,
        form=form_features(phrases, n_bars, minor=key.mode == "minor",
                           use_form=options.use_form),
        state=known.copy(), decided=masks.copy(), window_bars=window_bars,
        steps=options.steps, strength=options.repeat_strength,
        generator=torch.Generator().manual_seed(seed),
        scale=Key(0, key.mode).scale_mask() if options.accompaniment.in_key else None)
    first_of: dict[str, tuple[int, int]] = {}
    for index, (start, bars, letter) in enumerate(phrases):

        def tick(i: int, n: int, index: int = index) -> None:
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            if progress is not None:
                progress(STAGES[0], (index + (i + 1) / n) / len(phrases))
            between_steps()

        earlier = first_of.get(letter) if options.use_form else None
        for piece_start, piece_bars in _pieces(start, bars, window_bars):
            source = None if earlier is None else (*earlier, piece_start - start)
            run(functools.partial(work.phrase, piece_start, piece_bars, source, tick))
        first_of.setdefault(letter, (start, bars))
    lead_seconds = time.perf_counter() - started

    melody_steps = _bars_mask(fixed.melody_bars, n_bars)
    melody = [n for n in decode_melody(work.state, shift=-shift) if not melody_steps[n.start]]
    melody += [n for n in fixed.melody
               if 0 <= n.start < n_bars * STEPS_PER_BAR and melody_steps[n.start]]
    chords = _merge_chords(fixed.chords,
                           decode_chords(work.state, shift=-shift, scale=work.scale), masks[1])

    accompaniment = _accompany(pipeline, chords, melody, n_bars, key=key, seed=seed,
                               options=options, fixed=fixed, phrases=phrases,
                               progress=progress, cancel=cancel)
    total = time.perf_counter() - started
    return Song(phrases=tuple(form), key=key, tempo=tempo, n_bars=n_bars,
                melody=tuple(sorted(melody)), chords=tuple(chords),
                accompaniment=tuple(sorted(accompaniment)), seed=seed,
                seconds={STAGES[0]: lead_seconds, STAGES[1]: total - lead_seconds,
                         "total": total})


def _merge_chords(given: Sequence[ChordSpan], decoded: Sequence[ChordSpan],
                  given_steps: np.ndarray) -> list[ChordSpan]:
    """The given chord spans as they are, and the decoded ones where no chord was given
    (cut to the free steps)."""
    out = [s for s in given if s.chord.root is not None]
    for span in decoded:
        free = np.nonzero(given_steps[span.start:span.stop] == 0)[0]
        if free.size == 0:
            continue
        runs = np.split(free, np.nonzero(np.diff(free) > 1)[0] + 1)
        out += [ChordSpan(span.start + int(r[0]), int(r[-1] - r[0] + 1), span.chord)
                for r in runs]
    return sorted(out, key=lambda s: s.start)


def _accompaniment_pieces(ranges: Sequence[BarRange],
                          phrases: Sequence[tuple[int, int, str]]
                          ) -> list[tuple[BarRange, dict[int, int]]]:
    """The runs of bars to write cut where a repeated phrase starts and ends, each with
    its bars' sources: bar -> the bar of the label's first phrase it repeats (only
    sources written before the piece)."""
    first: dict[str, tuple[int, int]] = {}
    repeats: list[tuple[int, int, tuple[int, int]]] = []
    for start, bars, letter in phrases:
        earlier = first.setdefault(letter, (start, bars))
        if earlier[0] != start:
            repeats.append((start, bars, earlier))
    pieces = []
    for run in ranges:
        cuts = {run.start, run.stop}
        for start, bars, _ in repeats:
            cuts |= {c for c in (start, start + bars) if run.start < c < run.stop}
        edges = sorted(cuts)
        for a, b in zip(edges, edges[1:], strict=False):
            sources = {bar: src_start + (bar - start) % src_bars
                       for start, bars, (src_start, src_bars) in repeats
                       for bar in range(max(a, start), min(b, start + bars))
                       if src_start + (bar - start) % src_bars < a}
            pieces.append((BarRange(a, b), sources))
    return pieces


def _bar_harmony(chords: Sequence[ChordSpan], n_bars: int) -> list[tuple]:
    """Per bar, the chord tones and bass sounding at each of its half bars (read from
    engine.harmony.chord_grid, the one place chords become per-step arrays)."""
    chroma, bass = chord_grid(chords, n_bars * STEPS_PER_BAR)
    marks = [(chroma[step].tobytes(), int(bass[step]))
             for step in range(0, n_bars * STEPS_PER_BAR, STEPS_PER_BAR // 2)]
    return [tuple(marks[2 * bar:2 * bar + 2]) for bar in range(n_bars)]


def _accompany(pipeline: Any, chords: Sequence[ChordSpan], melody: Sequence[Note],
               n_bars: int, *, key: Key, seed: int, options: SongOptions, fixed: FixedParts,
               phrases: Sequence[tuple[int, int, str]],
               progress: StageProgress | None, cancel: threading.Event | None) -> list[Note]:
    """The accompaniment stage: every bar not fixed, under the melody and the chords,
    left to right, the fixed bars (and the bars written before) as context. A phrase
    whose label came before starts from that phrase's accompaniment, noised to
    ``1 - repeat_strength``, as its lead sheet did, in the bars whose harmony repeats
    too (not in the no-form baseline)."""
    fixed_steps = _bars_mask(fixed.accompaniment_bars, n_bars)
    notes = [n for n in fixed.accompaniment
             if 0 <= n.start < n_bars * STEPS_PER_BAR and fixed_steps[n.start]]
    sampling = dataclasses.replace(options.accompaniment, key=key, variations=1,
                                   seed=(seed * 7919 + 17) % (2**63 - 1))
    ranges = _accompaniment_ranges(fixed.accompaniment_bars, n_bars)
    pieces = (_accompaniment_pieces(ranges, phrases) if options.use_form
              else [(r, {}) for r in ranges])
    harmony = _bar_harmony(chords, n_bars)
    # a bar starts from the bar it repeats only where the harmony repeats too: a texture
    # copied over other chords fights them (measured: chord accuracy -0.06 with given chords)
    pieces = [(bars, {bar: src for bar, src in sources.items() if harmony[bar] == harmony[src]})
              for bars, sources in pieces]
    strength = options.repeat_strength if options.use_form else 0.0
    for index, (bars, sources) in enumerate(pieces):

        def step(fraction: float, index: int = index) -> None:
            if progress is not None:
                progress(STAGES[1], (index + fraction) / len(pieces))

        whole = bars == BarRange(0, n_bars)
        result = pipeline.accompany(list(chords), n_bars=n_bars, melody=list(melody),
                                    options=sampling, progress=step, cancel=cancel,
                                    context=() if whole else list(notes),
                                    bars=None if whole else bars,
                                    repeat_from=sources or None, repeat=strength)
        lo, hi = bars.start * STEPS_PER_BAR, bars.stop * STEPS_PER_BAR
        notes += [n for n in result.variations[0] if lo <= n.start < hi]
    if progress is not None:
        progress(STAGES[1], 1.0)
    return notes
