"""Whole-song evaluation: forms taken from real songs, systems that write a song for each
form, inter-phrase similarity and lead-sheet figures with song-level intervals (the
command ``diffjam eval-song`` is :mod:`diffjam.commands.song_eval`; the definitions are
in ``docs/metrics.md``, "Whole songs").

Forms (:func:`choose_forms`)
    A song with POP909 phrase labels gives one form:

    1. **Tiling.** The phrases in start order must tile the bars: the form starts at the
       first labelled phrase (bars before it, a pickup or a count-in, are left out: the
       excerpt's bar 0 is that phrase's first bar); a gap between two phrases lengthens
       the phrase before it; a phrase that starts before the previous one ends is cut to
       start where it ends (and dropped when nothing is left). The cached POP909 labels
       have neither gaps nor overlaps; a third of the songs start after bar 0.
    2. **Truncation.** The longest run of whole phrases from the first that lasts at most
       ``max_bars`` (40) bars is kept when it lasts at least ``min_bars`` (32); a song
       whose labelled phrases last under ``min_bars`` in all is skipped as *too short*,
       one with no phrase boundary between ``min_bars`` and ``max_bars`` as *no boundary*
       (the counts are in the report).
    3. **Key.** The key sounding at the excerpt's first step (the song's first key in all
       but a few songs). Systems get that one key; the ground truth keeps the song's key
       changes inside the excerpt, and every figure that needs a key reads each piece in
       its own keys.

    The ground truth is the song's MELODY (track 0), chords and PIANO (track 2) over
    those bars (:func:`engine.evaluate.cut_segment`); the BRIDGE track is left out.

Inter-phrase similarity (:func:`ils`)
    Per bar and part (melody, chords, accompaniment) two fixed features stand in for the
    VAE latents of Wang, Min & Xia (ICLR 2024, whole-song hierarchical generation), which
    we do not have: ``pc``, a 12-bin pitch-class profile (sounding steps of each pitch
    class in the bar; chords: each step's chord tones, "N" none) and ``onset``, a 16-bin
    onset profile (onsets at each step of the bar; chords: the spans starting there),
    each divided by its sum. Two bars' similarity is the cosine of their features; a
    pair of silent bars is left out (no evidence either way), a silent bar against a
    sounding one scores 0. Two phrases' similarity is the mean over their aligned bars
    (bar i of one with bar i of the other, over the shorter's length). The **ILS ratio**
    of a song is the mean similarity of its same-label phrase pairs over the mean
    similarity of all its phrase pairs (as Wang et al.); songs without a same-label pair
    have none and are left out of the mean over songs. Melody figures count only
    upper-case (melodic) phrases, chords and accompaniment count every phrase. A song
    whose music follows its form scores above 1; music unrelated to its labels scores 1.

Lead-sheet figures (:func:`lead_sheet_metrics`)
    Melody PCU and TUP per bar (distinct pitch classes / pitches of the notes starting in
    a bar, over the bars with notes), pitch range, notes per bar; chord-tone share (the
    melody's sounding steps on a tone of the chord sounding then, over its steps under a
    chord); chord plausibility (mean log-probability per chord change under the chord
    bigram model of the training songs, :mod:`engine.chord_bigram`), chord changes per
    bar (the changes that figure counts), distinct chords (Roman tokens) per song, the
    share of steps with a chord; out-of-key note rates of the melody and the
    accompaniment (notes whose pitch class is outside the key at their onset).

Systems (:func:`build_systems`)
    ``ground_truth``; ``shuffled_form`` (the real music under a shuffled form: the
    letters are permuted among the upper-case phrases and among the lower-case ones,
    seeded by song; ILS near 1 shows the figure reads the music, not the labels);
    ``bigram_chords`` (the real melody and accompaniment with chords sampled from the
    bigram model, the very chords ``song_bigram_chords`` is given); ``song``
    (``Pipeline.song`` with the default :class:`engine.song.SongOptions`),
    ``song_no_form`` (``use_form=False``) and ``song_bigram_chords`` (the bigram chords as
    ``FixedParts.chords``). Each model call gets the form, the key and a seed derived
    from ``--seed`` and the song id; its wall time is recorded.

Intervals
    Every figure has a song-level bootstrap 95 % interval (:mod:`engine.bootstrap`, one
    row per song); differences from the ``song`` row are paired (same draws) and a cell
    is marked ``†`` where the interval of the difference excludes 0.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np

from engine import metrics
from engine.baselines import song_number
from engine.bootstrap import DEFAULT_RESAMPLES, SongBootstrap, percentile_interval
from engine.chord_bigram import (
    ChordBigram,
    progression_log_prob,
    progression_tokens,
    sample_progression,
)
from engine.errors import InputError
from engine.eval_report import Column, format_cell, nanmean, render_rows
from engine.evaluate import Song, cut_segment
from engine.harmony import ChordSpan, Key
from engine.pianoroll import STEPS_PER_BAR, Note
from wire.form import Phrase

__all__ = [
    "DEFAULT_SYSTEMS",
    "FEATURES",
    "HEADLINE",
    "MAX_FORM_BARS",
    "MIN_FORM_BARS",
    "PARTS",
    "SYSTEMS",
    "TABLES",
    "ILSScore",
    "Piece",
    "SongEvalReport",
    "SongPipeline",
    "SongSystem",
    "SongTask",
    "bar_features",
    "bigram_chords",
    "chord_tone_share",
    "build_systems",
    "choose_forms",
    "describe",
    "evaluate_songs",
    "form_string",
    "format_tables",
    "ils",
    "model_system",
    "lead_sheet_metrics",
    "phrase_similarity",
    "piece_metrics",
    "shuffled_form",
    "task_seed",
    "tile_phrases",
    "truncate_form",
]

logger = logging.getLogger(__name__)

MIN_FORM_BARS = 32
MAX_FORM_BARS = 40
PARTS = ("melody", "chords", "accompaniment")
FEATURES = ("pc", "onset")
MODEL_SYSTEMS = ("song", "song_no_form", "song_bigram_chords")
SYSTEMS = ("ground_truth", "shuffled_form", "bigram_chords", *MODEL_SYSTEMS)
DEFAULT_SYSTEMS = ",".join(SYSTEMS)
HEADLINE = "song"  # the row the others are compared with (paired differences)


# ---------------------------------------------------------------------------------- forms


def form_string(phrases: Iterable[Phrase]) -> str:
    """The form text of phrases, e.g. ``i4A8B8A8o4`` (:mod:`wire.form`)."""
    return "".join(f"{p.letter}{p.bars}" for p in phrases)


def tile_phrases(rows: Iterable[tuple[int, int, str]]) -> tuple[int, tuple[Phrase, ...]]:
    """The first bar and the phrases of labels ``(start bar, bars, letter)``, made to tile
    the bars from that first bar (module docstring, step 1); ``(0, ())`` without labels."""
    ordered = sorted(rows)
    if not ordered:
        return 0, ()
    first = ordered[0][0]
    phrases: list[Phrase] = []
    bar = first
    for start, length, letter in ordered:
        stop = start + length
        if start > bar and phrases:  # a gap: the phrase before runs on
            last = phrases[-1]
            phrases[-1] = Phrase(letter=last.letter, bars=last.bars + start - bar)
            bar = start
        if stop > bar:  # an overlap is cut off the front
            phrases.append(Phrase(letter=letter, bars=stop - bar))
            bar = stop
    return first, tuple(phrases)


def truncate_form(phrases: Sequence[Phrase], *, min_bars: int = MIN_FORM_BARS,
                  max_bars: int = MAX_FORM_BARS) -> tuple[Phrase, ...]:
    """The longest run of whole phrases from the first lasting at most ``max_bars``, if it
    lasts at least ``min_bars``; ``()`` otherwise."""
    kept: list[Phrase] = []
    total = 0
    for phrase in phrases:
        if total + phrase.bars > max_bars:
            break
        kept.append(phrase)
        total += phrase.bars
    return tuple(kept) if total >= min_bars else ()


@dataclass(frozen=True)
class Piece:
    """Three parts of a song on the 16th grid, excerpt time (step 0 = bar 0), with the
    form and keys they are read in: what every figure is computed on."""

    n_bars: int
    melody: tuple[Note, ...]
    chords: tuple[ChordSpan, ...]
    accompaniment: tuple[Note, ...]
    phrases: tuple[Phrase, ...]
    keys: tuple[tuple[int, Key], ...]  # (start step, Key) changes, the first at step 0

    @property
    def n_steps(self) -> int:
        return self.n_bars * STEPS_PER_BAR


@dataclass(frozen=True)
class SongTask:
    """One song's request: its form and key, the seed of every stochastic system, and
    the ground truth over the same bars."""

    song_id: str
    start_bar: int  # bar of the source song where the form starts
    phrases: tuple[Phrase, ...]
    key: Key
    seed: int
    truth: Piece

    @property
    def n_bars(self) -> int:
        return sum(p.bars for p in self.phrases)

    @property
    def form(self) -> str:
        return form_string(self.phrases)

    def describe(self) -> dict[str, Any]:
        return {"song_id": self.song_id, "start_bar": self.start_bar, "form": self.form,
                "n_bars": self.n_bars, "key": f"{self.key.tonic}:{self.key.mode}",
                "seed": self.seed}


def task_seed(seed: int, song_id: str) -> int:
    """The seed of one song's systems, from ``--seed`` and the song id."""
    return int(np.random.SeedSequence([seed, song_number(song_id)]).generate_state(1)[0])


def choose_forms(songs: Sequence[Song], *, seed: int, min_bars: int = MIN_FORM_BARS,
                 max_bars: int = MAX_FORM_BARS, limit: int | None = None
                 ) -> tuple[list[SongTask], dict[str, int]]:
    """One :class:`SongTask` per usable song (module docstring, "Forms"), in song order,
    at most ``limit``; and the skipped songs counted by reason (``no phrase labels``,
    ``too short``, ``no boundary``)."""
    if not 1 <= min_bars <= max_bars:
        raise InputError(f"need 1 <= --min-bars <= --max-bars, got {min_bars}, {max_bars}")
    tasks: list[SongTask] = []
    skipped = {"no phrase labels": 0, "too short": 0, "no boundary": 0}
    for song in songs:
        start_bar, tiled = tile_phrases(song.phrases)
        phrases = truncate_form(tiled, min_bars=min_bars, max_bars=max_bars)
        if not tiled:
            reason = "no phrase labels"
        elif sum(p.bars for p in tiled) < min_bars:
            reason = "too short"
        elif not phrases:
            reason = "no boundary"
        else:
            reason = ""
        if reason:
            skipped[reason] += 1
            logger.debug("song %s skipped: %s", song.song_id, reason)
            continue
        n_bars = sum(p.bars for p in phrases)
        segment = cut_segment(song, start_bar, n_bars=n_bars)
        truth = Piece(n_bars=n_bars, melody=segment.melody, chords=segment.chords,
                      accompaniment=segment.piano, phrases=phrases, keys=segment.keys)
        tasks.append(SongTask(song_id=song.song_id, start_bar=start_bar, phrases=phrases,
                              key=segment.key, seed=task_seed(seed, song.song_id),
                              truth=truth))
        if limit is not None and len(tasks) >= limit:
            break
    return tasks, skipped


# -------------------------------------------------------------------------------- features


def _note_features(notes: Iterable[Note], n_bars: int) -> tuple[np.ndarray, np.ndarray]:
    """(n_bars, 12) sounding steps per pitch class and (n_bars, 16) onsets per step."""
    n_steps = n_bars * STEPS_PER_BAR
    pc = np.zeros((n_bars, 12))
    onset = np.zeros((n_bars, STEPS_PER_BAR))
    for note in notes:
        if not 0 <= note.start < n_steps:
            continue
        onset[note.start // STEPS_PER_BAR, note.start % STEPS_PER_BAR] += 1.0
        step, stop = note.start, min(note.end, n_steps)
        while step < stop:
            bar = step // STEPS_PER_BAR
            bar_stop = min(stop, (bar + 1) * STEPS_PER_BAR)
            pc[bar, note.pitch % 12] += bar_stop - step
            step = bar_stop
    return pc, onset


def _chord_features(chords: Iterable[ChordSpan], n_bars: int) -> tuple[np.ndarray, np.ndarray]:
    """(n_bars, 12) steps each pitch class is a chord tone and (n_bars, 16) span starts."""
    n_steps = n_bars * STEPS_PER_BAR
    mask = metrics.chord_mask_per_step(chords, n_steps).astype(np.float64)
    pc = mask.reshape(n_bars, STEPS_PER_BAR, 12).sum(axis=1)
    onset = np.zeros((n_bars, STEPS_PER_BAR))
    for span in chords:
        if 0 <= span.start < n_steps and not span.chord.is_no_chord:
            onset[span.start // STEPS_PER_BAR, span.start % STEPS_PER_BAR] += 1.0
    return pc, onset


def _normalised(rows: np.ndarray) -> np.ndarray:
    sums = rows.sum(axis=1, keepdims=True)
    return np.divide(rows, sums, out=np.zeros_like(rows), where=sums > 0)


def bar_features(piece: Piece) -> dict[str, np.ndarray]:
    """Per-bar features ``<part>_<feature>`` (:data:`PARTS` x :data:`FEATURES`): float64
    (n_bars, 12) pitch-class and (n_bars, 16) onset profiles, each row summing to 1 (0 for
    a silent bar)."""
    melody = _note_features(piece.melody, piece.n_bars)
    chords = _chord_features(piece.chords, piece.n_bars)
    accompaniment = _note_features(piece.accompaniment, piece.n_bars)
    out = {}
    for part, (pc, onset) in zip(PARTS, (melody, chords, accompaniment), strict=True):
        out[f"{part}_pc"] = _normalised(pc)
        out[f"{part}_onset"] = _normalised(onset)
    return out


def _bar_cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine of each row pair; NaN where both rows are silent, 0 where one is."""
    norm_a, norm_b = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    dots = (a * b).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.where((norm_a > 0) & (norm_b > 0), dots / (norm_a * norm_b), 0.0)
    return np.where((norm_a == 0) & (norm_b == 0), np.nan, cos)


def phrase_similarity(features: np.ndarray, a: tuple[int, int], b: tuple[int, int]) -> float:
    """Mean cosine of the aligned bars of two phrases given as ``(first bar, bars)`` over
    the shorter's length (NaN when every aligned pair is silent)."""
    length = min(a[1], b[1])
    cos = _bar_cosines(features[a[0]:a[0] + length], features[b[0]:b[0] + length])
    return nanmean(cos.tolist())


@dataclass(frozen=True)
class ILSScore:
    """A song's ILS ``ratio`` = ``same`` (mean similarity of same-label pairs) / ``all``
    (mean over all pairs); NaN without a same-label pair."""

    ratio: float
    same: float
    all: float


def ils(features: np.ndarray, phrases: Sequence[Phrase], *, melodic_only: bool = False
        ) -> ILSScore:
    """The inter-phrase similarity of one feature (:func:`bar_features`) under a form;
    ``melodic_only``: only upper-case phrases count."""
    spans, bar = [], 0
    for phrase in phrases:
        if phrase.melodic or not melodic_only:
            spans.append((phrase.letter, (bar, phrase.bars)))
        bar += phrase.bars
    same, every = [], []
    for i, (letter_a, a) in enumerate(spans):
        for letter_b, b in spans[i + 1:]:
            similarity = phrase_similarity(features, a, b)
            every.append(similarity)
            if letter_a == letter_b:
                same.append(similarity)
    same_mean, all_mean = nanmean(same), nanmean(every)
    ratio = same_mean / all_mean if math.isfinite(same_mean) and all_mean > 0 else math.nan
    return ILSScore(ratio=ratio, same=same_mean, all=all_mean)


# ---------------------------------------------------------------------------- lead sheet


def _per_bar(notes: Sequence[Note], n_bars: int, count: Callable[[list[Note]], int]) -> float:
    bars: list[list[Note]] = [[] for _ in range(n_bars)]
    for note in notes:
        if 0 <= note.start < n_bars * STEPS_PER_BAR:
            bars[note.start // STEPS_PER_BAR].append(note)
    return nanmean(float(count(bar)) for bar in bars if bar)


def chord_tone_share(melody: Iterable[Note], chords: Iterable[ChordSpan], n_steps: int
                     ) -> float:
    """Sounding steps of the melody on a tone of the chord sounding then / its sounding
    steps under a chord (NaN without any)."""
    mask = metrics.chord_mask_per_step(chords, n_steps)
    under: np.ndarray = np.asarray(mask.any(axis=1), dtype=bool)
    on = total = 0
    for note in melody:
        lo, hi = max(0, note.start), min(n_steps, note.end)
        if hi > lo:
            on += int(mask[lo:hi, note.pitch % 12].sum())
            total += int(under[lo:hi].sum())
    return on / total if total else math.nan


def _out_of_key(notes: Sequence[Note], keys: Sequence[tuple[int, Key]], n_steps: int) -> float:
    return metrics.out_of_key_note_rate(notes, metrics.key_mask_per_step(list(keys), n_steps),
                                        n_steps=n_steps)


def lead_sheet_metrics(piece: Piece, bigram: ChordBigram | None) -> dict[str, float]:
    """The lead-sheet figures of one piece (module docstring); the chord plausibility is
    NaN without a bigram model."""
    n_steps, n_bars = piece.n_steps, piece.n_bars
    melody = [n for n in piece.melody if 0 <= n.start < n_steps]
    progressions = progression_tokens(piece.chords, piece.keys)
    changes = sum(len(p) - 1 for _, p in progressions)
    covered = metrics.chord_mask_per_step(piece.chords, n_steps).any(axis=1)
    values = {
        "pcu": _per_bar(melody, n_bars, metrics.pitch_class_count),
        "tup": _per_bar(melody, n_bars, metrics.unique_pitches),
        "pr": float(metrics.pitch_range(melody)) if melody else math.nan,
        "notes_per_bar": len(melody) / n_bars,
        "chord_tone": chord_tone_share(melody, piece.chords, n_steps),
        "chord_logp": (progression_log_prob(bigram, piece.chords, piece.keys)[0]
                       if bigram is not None else math.nan),
        "changes_per_bar": changes / n_bars,
        "chord_types": float(len({t for _, p in progressions for _, t in p})),
        "chord_cover": float(covered.mean()),
        "ook_melody": _out_of_key(melody, piece.keys, n_steps),
        "ook_accomp": _out_of_key(piece.accompaniment, piece.keys, n_steps),
    }
    return values


def piece_metrics(piece: Piece, bigram: ChordBigram | None) -> dict[str, float]:
    """Every per-song figure: ``ils_<part>_<feature>`` (with ``same_`` and ``all_`` the
    two means behind it) and :func:`lead_sheet_metrics`."""
    values: dict[str, float] = {}
    for name, features in bar_features(piece).items():
        score = ils(features, piece.phrases, melodic_only=name.startswith("melody"))
        values[f"ils_{name}"] = score.ratio
        values[f"same_{name}"] = score.same
        values[f"all_{name}"] = score.all
    values.update(lead_sheet_metrics(piece, bigram))
    return values


# ------------------------------------------------------------------------------- systems


@dataclass(frozen=True)
class SongSystem:
    """A named way to write a song for a :class:`SongTask`."""

    name: str
    produce: Callable[[SongTask], Piece]


class SongPipeline(Protocol):
    """What the model systems call: :meth:`engine.pipeline.Pipeline.song`."""

    def song(self, form: Sequence[Phrase], *, key: Key, options: Any = ...,
             fixed: Any = ...) -> Any: ...


def shuffled_form(task: SongTask) -> Piece:
    """The ground truth under a form whose letters are permuted among the upper-case
    phrases and among the lower-case ones (seeded by the task)."""
    rng = np.random.default_rng([task.seed, 2])
    letters = [p.letter for p in task.phrases]
    for melodic in (True, False):
        where = [i for i, p in enumerate(task.phrases) if p.melodic == melodic]
        for i, j in zip(where, rng.permutation(where), strict=True):
            letters[i] = task.phrases[int(j)].letter
    phrases = tuple(Phrase(letter=letter, bars=p.bars)
                    for letter, p in zip(letters, task.phrases, strict=True))
    return replace(task.truth, phrases=phrases)


def bigram_chords(table: ChordBigram, task: SongTask) -> tuple[ChordSpan, ...]:
    """The chords the bigram systems use for a task (the same for both)."""
    rng = np.random.default_rng([task.seed, 1])
    return tuple(sample_progression(table, task.n_bars, task.key, rng))


def _bigram_control(table: ChordBigram) -> SongSystem:
    """``bigram_chords``: the ground truth with the bigram chords in place of its own."""

    def produce(task: SongTask) -> Piece:
        return replace(task.truth, chords=bigram_chords(table, task))

    return SongSystem("bigram_chords", produce)


def _clip_notes(notes: Iterable[Note], n_steps: int) -> tuple[Note, ...]:
    return tuple(sorted(replace(n, duration=min(n.end, n_steps) - n.start)
                        for n in notes if 0 <= n.start < n_steps))


def _clip_chords(chords: Iterable[ChordSpan], n_steps: int) -> tuple[ChordSpan, ...]:
    return tuple(replace(c, duration=min(c.stop, n_steps) - c.start)
                 for c in sorted(chords, key=lambda c: c.start) if c.start < n_steps)


def model_system(pipeline: SongPipeline, *, name: str, use_form: bool = True,
                 bigram: ChordBigram | None = None, steps: int | None = None) -> SongSystem:
    """``pipeline.song`` for each task's form and key with the task's seed; ``bigram``:
    its chords are given as ``FixedParts.chords``. The piece is read under the requested
    form and key (whatever the pipeline did with them)."""
    from engine.song import FixedParts, SongOptions  # torch: only when a model runs

    def produce(task: SongTask) -> Piece:
        options = SongOptions(seed=task.seed, use_form=use_form)
        if steps is not None:
            options = replace(options, steps=steps)
        fixed = FixedParts() if bigram is None else FixedParts(chords=bigram_chords(bigram, task))
        song = pipeline.song(task.phrases, key=task.key, options=options, fixed=fixed)
        n_steps = task.n_bars * STEPS_PER_BAR
        if song.n_bars != task.n_bars:
            logger.warning("%s: song %s has %d bars, its form %d", name, task.song_id,
                           song.n_bars, task.n_bars)
        return Piece(n_bars=task.n_bars, melody=_clip_notes(song.melody, n_steps),
                     chords=_clip_chords(song.chords, n_steps),
                     accompaniment=_clip_notes(song.accompaniment, n_steps),
                     phrases=task.phrases, keys=((0, task.key),))

    return SongSystem(name, produce)


def build_systems(names: Sequence[str], *, bigram: ChordBigram | None,
                  pipeline_loader: Callable[[], SongPipeline] | None = None,
                  steps: int | None = None) -> list[SongSystem]:
    """Systems by name (:data:`SYSTEMS`); the model is loaded once, when one is asked."""
    unknown = [n for n in names if n not in SYSTEMS]
    if unknown:
        raise InputError(f"unknown system(s) {', '.join(unknown)}; known: {', '.join(SYSTEMS)}")
    needs_bigram = [n for n in names if n in ("bigram_chords", "song_bigram_chords")]
    if needs_bigram and bigram is None:
        raise InputError(f"{', '.join(needs_bigram)} need(s) the chord bigram model: pass "
                         "--cache (it is fitted on the cache's train split)")
    pipeline = None
    systems = []
    for name in names:
        if name == "ground_truth":
            systems.append(SongSystem(name, lambda task: task.truth))
        elif name == "shuffled_form":
            systems.append(SongSystem(name, shuffled_form))
        elif name == "bigram_chords":
            assert bigram is not None
            systems.append(_bigram_control(bigram))
        else:
            if pipeline_loader is None:
                raise InputError(f"{name} needs a model")
            pipeline = pipeline or pipeline_loader()
            systems.append(model_system(
                pipeline, name=name, use_form=name != "song_no_form",
                bigram=bigram if name == "song_bigram_chords" else None, steps=steps))
    return systems


# ------------------------------------------------------------------------------- report


@dataclass(frozen=True)
class SongEvalReport:
    """Every system's per-song figures (``per_song[system][i]`` for ``songs[i]``), their
    means over songs (``systems``, NaN-aware), song-level bootstrap intervals and paired
    differences from :data:`HEADLINE` (``differences[system][key]`` = (value, lo, hi))."""

    songs: tuple[dict[str, Any], ...]
    skipped: dict[str, int]
    systems: dict[str, dict[str, float]]
    per_song: dict[str, list[dict[str, float]]] = field(repr=False)
    intervals: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)
    differences: dict[str, dict[str, tuple[float, float, float]]] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    bigram: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        def clean(value: Any) -> Any:
            if isinstance(value, float):
                return round(value, 6) if math.isfinite(value) else None
            if isinstance(value, Mapping):
                return {k: clean(v) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return [clean(v) for v in value]
            return value

        return clean({"format": 1, "config": self.config, "songs": list(self.songs),
                      "skipped": self.skipped, "bigram": self.bigram,
                      "systems": self.systems, "intervals": self.intervals,
                      "differences": self.differences, "per_song": self.per_song})


def _intervals_and_differences(per_song: Mapping[str, list[dict[str, float]]],
                               song_ids: Sequence[str], *, n_resamples: int, seed: int
                               ) -> tuple[dict[str, dict[str, tuple[float, float]]],
                                          dict[str, dict[str, tuple[float, float, float]]]]:
    boot = SongBootstrap(song_ids, n_resamples=n_resamples, seed=seed)
    samples = {name: {key: boot.means([row[key] for row in rows]) for key in rows[0]}
               for name, rows in per_song.items() if rows}
    intervals = {name: {key: percentile_interval(s) for key, s in figures.items()}
                 for name, figures in samples.items()}
    differences: dict[str, dict[str, tuple[float, float, float]]] = {}
    if HEADLINE in samples:
        head = samples[HEADLINE]
        head_rows = per_song[HEADLINE]
        for name, figures in samples.items():
            if name == HEADLINE:
                continue
            differences[name] = {}
            for key in figures.keys() & head.keys():
                value = (nanmean(r[key] for r in per_song[name])
                         - nanmean(r[key] for r in head_rows))
                differences[name][key] = (value, *percentile_interval(figures[key] - head[key]))
    return intervals, differences


def evaluate_songs(tasks: Sequence[SongTask], systems: Sequence[SongSystem], *,
                   bigram: ChordBigram | None, seed: int = 0,
                   n_resamples: int = DEFAULT_RESAMPLES, skipped: Mapping[str, int] | None = None,
                   config: Mapping[str, Any] | None = None,
                   progress: Callable[[str, int, int], None] | None = None) -> SongEvalReport:
    """Run every system on every task, score each piece (:func:`piece_metrics`, plus
    ``seconds``: the system's wall time for the song) and aggregate with intervals (none
    with ``n_resamples`` 0 or fewer than two songs)."""
    if not tasks:
        raise InputError("no songs to evaluate: check the song ids, the data folder and "
                         "the phrase labels")
    per_song: dict[str, list[dict[str, float]]] = {}
    for system in systems:
        rows = []
        for i, task in enumerate(tasks):
            began = time.perf_counter()
            piece = system.produce(task)
            seconds = time.perf_counter() - began
            rows.append({**piece_metrics(piece, bigram), "seconds": seconds})
            if progress is not None:
                progress(system.name, i + 1, len(tasks))
        per_song[system.name] = rows
    summary = {name: {key: nanmean(row[key] for row in rows) for key in rows[0]}
               for name, rows in per_song.items()}
    song_ids = [t.song_id for t in tasks]
    intervals: dict[str, dict[str, tuple[float, float]]] = {}
    differences: dict[str, dict[str, tuple[float, float, float]]] = {}
    if n_resamples > 0 and len(set(song_ids)) >= 2:
        intervals, differences = _intervals_and_differences(
            per_song, song_ids, n_resamples=n_resamples, seed=seed)
    return SongEvalReport(
        songs=tuple(t.describe() for t in tasks), skipped=dict(skipped or {}),
        systems=summary, per_song=per_song, intervals=intervals, differences=differences,
        config=dict(config or {}), bigram={} if bigram is None else bigram.to_json())


# ------------------------------------------------------------------------------- tables


def _ils_columns() -> tuple[Column, ...]:
    short = {"melody": "melody", "chords": "chords", "accompaniment": "accomp"}
    return tuple(Column(f"ils_{part}_{feature}", f"{short[part]} {feature}", ".3f")
                 for part in PARTS for feature in FEATURES)


TABLES: tuple[tuple[str, tuple[Column, ...]], ...] = (
    ("Inter-phrase similarity: ILS ratio = same-label / all phrase pairs (1 = the music "
     "ignores the form)", _ils_columns()),
    ("Lead sheet (melody; chords; compare with ground_truth)", (
        Column("pcu", "PCU/bar", ".2f"), Column("tup", "TUP/bar", ".2f"),
        Column("pr", "PR", ".1f"), Column("notes_per_bar", "notes/bar", ".2f"),
        Column("chord_tone", "chord-tone %", "pct"),
        Column("chord_logp", "bigram logp/change", ".3f"),
        Column("changes_per_bar", "changes/bar", ".2f"),
        Column("chord_types", "chords/song", ".1f"),
        Column("chord_cover", "chord cover %", "pct"))),
    ("Key and time", (
        Column("ook_melody", "OOK melody %", "pct"),
        Column("ook_accomp", "OOK accomp %", "pct"),
        Column("seconds", "s/song", ".2f"))),
)


def format_tables(report: SongEvalReport, *, markdown: bool = False) -> str:
    """The report as tables, one row per system, cells ``value (lo–hi)``; ``†``: the
    paired interval of the difference from the ``song`` row excludes 0."""
    blocks = []
    for title, columns in TABLES:
        header = ["system"] + [c.title for c in columns]
        rows = []
        for name, values in report.systems.items():
            cells = [name]
            for c in columns:
                diff = report.differences.get(name, {}).get(c.key)
                mark = diff is not None and (diff[1] > 0 or diff[2] < 0)
                cells.append(format_cell(values.get(c.key), report.intervals.get(name, {})
                                         .get(c.key), c.fmt, mark))
            rows.append(cells)
        lines = render_rows(header, rows, markdown=markdown)
        blocks.append("\n".join([f"**{title}**" if markdown else title, "", *lines]))
    return "\n\n".join(blocks)


def describe(report: SongEvalReport) -> str:
    """One line on the songs, forms and skips of a report."""
    bars = [s["n_bars"] for s in report.songs]
    skipped = ", ".join(f"{n} {why}" for why, n in report.skipped.items() if n) or "none"
    text = (f"{len(report.songs)} songs, forms of {min(bars)}-{max(bars)} bars "
            f"(mean {np.mean(bars):.1f}); skipped: {skipped}")
    if report.intervals:
        text += "; (lo–hi): song-level bootstrap 95 % intervals"
    if report.differences:
        text += f"; †: the paired interval of the difference from {HEADLINE} excludes 0"
    return text
