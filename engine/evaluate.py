"""``diffjam eval``: run systems on 8-bar windows of songs and score them.

Songs come from any folder with the POP909 layout (``<data>/pop909/NNN``) or from a
training cache, and from an explicit list of song ids: nothing here reads
``splits/split.txt`` unless it is passed as the song list.

Windows
    From each song, ``n`` windows of 8 bars are drawn without replacement with
    ``numpy.random.default_rng([seed, song id])`` among the candidate start bars: the
    phrase starts where the song has phrase labels (else every bar), kept only where the
    whole window lies in the song, at least 8 PIANO notes start in it and at least half
    of its steps have a chord other than "N". ``--total`` then keeps the first ``total``
    windows in song order.

Metrics are documented in ``engine/metrics.py`` and ``docs/metrics.md``; which notes each
one sees is listed in :func:`segment_metrics`.
"""

from __future__ import annotations

import argparse
import bisect
import json
import logging
import math
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine import metrics
from engine.baselines import (
    INFILL_BARS,
    TASKS,
    WINDOW_BARS,
    RetrievalLibrary,
    Segment,
    System,
    TaskInput,
    copy_neighbours_system,
    ground_truth_system,
    random_in_key_system,
    retrieval_system,
    rule_based_system,
)
from engine.errors import InputError, UnsupportedMeterError
from engine.harmony import ChordSpan, Key, parse_harte
from engine.pianoroll import STEPS_PER_BAR, STEPS_PER_BEAT, Note
from engine.sampling import DEFAULT_GUIDANCE

__all__ = [
    "BASELINES",
    "EvalReport",
    "Song",
    "add_command",
    "choose_segments",
    "cut_segment",
    "evaluate",
    "format_table",
    "load_songs",
    "model_system",
    "parse_song_ids",
    "segment_metrics",
    "songs_from_cache",
]

logger = logging.getLogger(__name__)

# The shipped model as run by default (``model``) and the controls that isolate one
# feature each: no chord conditioning, no in-key projection, no guidance, more guidance.
MODEL_VARIANTS: dict[str, dict[str, Any]] = {
    "model": {},
    "model_no_chords": {"use_chords": False},
    "model_no_key": {"in_key": False},
    "model_g1": {"guidance": 1.0},
    "model_g2": {"guidance": 2.0},
}

BASELINES = ("ground_truth", "rule_block", "rule_arpeggio", "copy_neighbours", "random_in_key",
             "retrieval")
MIN_PIANO_NOTES = 8
MIN_CHORD_SHARE = 0.5


# --------------------------------------------------------------------------------- songs


@dataclass(frozen=True)
class Song:
    """A song on the 16th grid, from a data folder or a cache."""

    song_id: str
    n_bars: int
    tracks: tuple[tuple[Note, ...], tuple[Note, ...], tuple[Note, ...]]  # melody, bridge, piano
    chords: tuple[ChordSpan, ...]
    keys: tuple[tuple[int, Key], ...]
    phrase_starts: tuple[int, ...] = ()


def parse_song_ids(spec: str, *, subset: str | None = None) -> list[str]:
    """Song ids from ``spec``: a comma/space list (``"001,002"``) or a file.

    A file holds ids separated by spaces, commas or newlines, or split-file lines
    ``<name> <id> <id> ...``; with ``subset`` only the line of that name is read (it is
    required when the file has several named lines). Ids are zero-padded to 3 digits;
    duplicates are removed, order kept.
    """
    path = Path(spec)
    if path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as err:
            raise InputError(f"cannot read the song list {spec!r}: {err}") from err
        lines = [line.replace(",", " ").split() for line in text.splitlines()]
        lines = [line for line in lines if line]
        named = {line[0]: line[1:] for line in lines if not line[0].isdigit()}
        if subset is not None:
            if subset not in named:
                raise InputError(f"{spec}: no line named {subset!r} (found: "
                                 f"{', '.join(named) or 'none'})")
            tokens = named[subset]
        elif len(named) > 1:
            raise InputError(f"{spec} has several named lines ({', '.join(named)}): "
                             "choose one with --subset")
        else:
            tokens = [t for line in lines for t in (line[1:] if line[0] in named else line)]
    else:
        if subset is not None:
            raise InputError("--subset needs --songs to name a file")
        tokens = spec.replace(",", " ").split()
    ids: list[str] = []
    for token in tokens:
        if not token.isdigit():
            raise InputError(f"{token!r} is not a song id (expected digits such as 001)")
        song_id = token.zfill(3)
        if song_id not in ids:
            ids.append(song_id)
    if not ids:
        raise InputError(f"no song ids in {spec!r}")
    return ids


def _key_changes(rows: Iterable[tuple[int, int, int]]) -> tuple[tuple[int, Key], ...]:
    changes = tuple((int(start), Key(int(tonic) % 12, "minor" if int(mode) else "major"))
                    for start, tonic, mode in rows)
    return changes or ((0, Key(0, "major")),)


def load_songs(data_dir: str | os.PathLike[str], song_ids: Sequence[str]) -> list[Song]:
    """Read songs from a POP909-layout folder; songs in 3/4 are skipped with a warning."""
    from engine.pop909 import load_song

    songs = []
    labels: dict[str, object] = {}
    for song_id in song_ids:
        try:
            song = load_song(data_dir, song_id)
        except UnsupportedMeterError as err:
            logger.warning("skipping song %s: %s", song_id, err)
            continue
        chords = []
        for c in song.chords:
            if c.label not in labels:
                labels[c.label] = parse_harte(c.label)
            chords.append(ChordSpan(start=c.start, duration=c.end - c.start,
                                    chord=labels[c.label]))  # type: ignore[arg-type]
        melody, bridge, piano = song.tracks
        songs.append(Song(
            song_id=song.song_id,
            n_bars=song.n_bars,
            tracks=(melody, bridge, piano),
            chords=tuple(chords),
            keys=_key_changes((k.start, k.tonic, k.mode) for k in song.keys),
            phrase_starts=tuple(p.start_bar for p in song.phrases),
        ))
    return songs


def _vocab(chord_vocab: Sequence[str]) -> list:
    return [parse_harte(label) for label in chord_vocab]


def _song_from_cached(cs: Any, vocab: Sequence[Any]) -> Song:
    """A :class:`Song` from an ``engine.cache.CachedSong`` and the parsed chord vocabulary."""
    tracks: list[list[Note]] = [[], [], []]
    for track, pitch, start, duration, velocity in cs.notes.tolist():
        tracks[track].append(Note(start=start, pitch=pitch, duration=duration,
                                  velocity=velocity))
    return Song(
        song_id=cs.song_id,
        n_bars=cs.n_bars,
        tracks=(tuple(sorted(tracks[0])), tuple(sorted(tracks[1])), tuple(sorted(tracks[2]))),
        chords=tuple(ChordSpan(start=int(s), duration=int(e - s), chord=vocab[int(i)])
                     for s, e, i in sorted(cs.chords.tolist()) if e > s),
        keys=_key_changes(sorted(cs.keys.tolist())),
        phrase_starts=tuple(int(p[0]) for p in cs.phrases.tolist()),
    )


def songs_from_cache(path: str | os.PathLike[str], song_ids: Sequence[str] | None = None
                     ) -> list[Song]:
    """Songs from a training cache (``engine.cache``), all or those of ``song_ids``."""
    from engine.cache import load_cache

    cache = load_cache(path)
    vocab = _vocab(cache.chord_vocab)
    wanted = None if song_ids is None else set(song_ids)
    return [_song_from_cached(cs, vocab) for cs in cache.songs
            if wanted is None or cs.song_id in wanted]


# ------------------------------------------------------------------------------ segments


def _cut_notes(notes: Sequence[Note], lo: int, hi: int) -> tuple[Note, ...]:
    """Notes (sorted by start) starting in ``[lo, hi)``, shifted by ``-lo`` and cut at ``hi``."""
    starts = _Starts(notes)
    first, last = bisect.bisect_left(starts, lo), bisect.bisect_left(starts, hi)
    return tuple(
        Note(start=n.start - lo, pitch=n.pitch, duration=min(n.end, hi) - n.start,
             velocity=n.velocity)
        for n in notes[first:last]
    )


class _Starts(Sequence[int]):
    """The ``start`` of each item of a sorted sequence, as a sequence (for ``bisect``)."""

    def __init__(self, items: Sequence[Any]) -> None:
        self._items = items

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, i: int) -> int:  # type: ignore[override]
        return int(self._items[i].start)


def cut_segment(song: Song, start_bar: int, *, n_bars: int = WINDOW_BARS) -> Segment:
    """The window of ``n_bars`` bars from ``start_bar``, times made window-relative.

    Song tracks and chords must be sorted by start (as :func:`load_songs` and
    :func:`songs_from_cache` make them)."""
    lo, hi = start_bar * STEPS_PER_BAR, (start_bar + n_bars) * STEPS_PER_BAR
    first = max(0, bisect.bisect_right(_Starts(song.chords), lo) - 1)
    last = bisect.bisect_left(_Starts(song.chords), hi)
    chords = []
    for span in song.chords[first:last]:
        a, b = max(lo, span.start), min(hi, span.stop)
        if b > a:
            chords.append(ChordSpan(start=a - lo, duration=b - a, chord=span.chord))
    active = [k for k in song.keys if k[0] <= lo]
    keys = [(0, (active[-1] if active else song.keys[0])[1])]
    keys += [(s - lo, k) for s, k in song.keys if lo < s < hi]
    melody, bridge, piano = (_cut_notes(t, lo, hi) for t in song.tracks)
    return Segment(song_id=song.song_id, start_bar=start_bar, n_bars=n_bars, melody=melody,
                   bridge=bridge, piano=piano, chords=tuple(chords), keys=tuple(keys))


def _usable(segment: Segment) -> bool:
    chord_steps = sum(s.duration for s in segment.chords if not s.chord.is_no_chord)
    return (len(segment.piano) >= MIN_PIANO_NOTES
            and chord_steps >= MIN_CHORD_SHARE * segment.n_steps)


def choose_segments(songs: Sequence[Song], *, n_per_song: int, seed: int,
                    total: int | None = None, n_bars: int = WINDOW_BARS) -> list[Segment]:
    """Windows drawn as the module docstring says; deterministic for a seed."""
    if n_per_song < 1:
        raise InputError(f"--n must be >= 1, got {n_per_song}")
    chosen: list[Segment] = []
    for song in songs:
        starts = sorted(set(song.phrase_starts)) or list(range(song.n_bars))
        candidates = [cut_segment(song, b, n_bars=n_bars) for b in starts
                      if b + n_bars <= song.n_bars]
        candidates = [c for c in candidates if _usable(c)]
        if not candidates:
            logger.warning("song %s has no usable %d-bar window", song.song_id, n_bars)
            continue
        rng = np.random.default_rng([seed, int(song.song_id)])
        picks = rng.choice(len(candidates), size=min(n_per_song, len(candidates)),
                           replace=False)
        chosen.extend(candidates[int(i)] for i in sorted(picks))
    return chosen[:total] if total is not None else chosen


def library_segments(songs: Sequence[Song], *, hop_bars: int = 2,
                     n_bars: int = WINDOW_BARS) -> list[Segment]:
    """Every usable window every ``hop_bars`` bars: the retrieval baseline's library."""
    out = []
    for song in songs:
        for b in range(0, song.n_bars - n_bars + 1, hop_bars):
            seg = cut_segment(song, b, n_bars=n_bars)
            if _usable(seg):
                out.append(seg)
    return out


def cache_library(path: str | os.PathLike[str], *, split: str | None = "train",
                  exclude: Iterable[str] = (), hop_bars: int = 2,
                  n_bars: int = WINDOW_BARS) -> RetrievalLibrary:
    """The retrieval library of a training cache, built from its arrays.

    Windows every ``hop_bars`` bars of the songs of ``split`` (all songs with None),
    without the songs in ``exclude`` (the evaluated ones), kept under the rules of
    :func:`choose_segments` except that the chord share is counted on beat middles. Only
    the chord features are computed up front; a window's notes are built when retrieved.
    """
    from engine.cache import load_cache

    cache = load_cache(path)
    vocab = _vocab(cache.chord_vocab)
    chroma = np.array([c.chroma for c in vocab], dtype=np.float32).reshape(-1, 12)
    norms = np.linalg.norm(chroma, axis=1, keepdims=True)
    chroma = np.divide(chroma, norms, out=np.zeros_like(chroma), where=norms > 0)
    excluded = set(exclude)
    beats_per_bar = STEPS_PER_BAR // STEPS_PER_BEAT
    n_beats = n_bars * beats_per_bar
    ids: list[str] = []
    features: list[np.ndarray] = []
    refs: list[tuple[Any, int]] = []
    for cs in cache.songs:
        if (split is not None and cs.split != split) or cs.song_id in excluded:
            continue
        chords = cs.chords[np.argsort(cs.chords[:, 0], kind="stable")]
        if len(chords) == 0 or cs.n_bars < n_bars:
            continue
        mids = np.arange(cs.n_bars * beats_per_bar) * STEPS_PER_BEAT + STEPS_PER_BEAT // 2
        index = np.searchsorted(chords[:, 0], mids, side="right") - 1
        inside = (index >= 0) & (mids < chords[np.clip(index, 0, None), 1])
        song_features = np.zeros((len(mids), 12), dtype=np.float32)
        song_features[inside] = chroma[chords[index[inside], 2]]
        piano = np.sort(cs.notes[cs.notes[:, 0] == 2, 2])
        for bar in range(0, cs.n_bars - n_bars + 1, hop_bars):
            lo, hi = bar * STEPS_PER_BAR, (bar + n_bars) * STEPS_PER_BAR
            window = song_features[bar * beats_per_bar : bar * beats_per_bar + n_beats]
            n_piano = int(np.searchsorted(piano, hi) - np.searchsorted(piano, lo))
            if n_piano < MIN_PIANO_NOTES or window.any(axis=1).sum() < MIN_CHORD_SHARE * n_beats:
                continue
            ids.append(cs.song_id)
            features.append(window)
            refs.append((cs, bar))

    def fetch(m: int) -> Segment:
        cs, bar = refs[m]
        return cut_segment(_song_from_cached(cs, vocab), bar, n_bars=n_bars)

    stacked = np.stack(features) if features else np.zeros((0, n_beats, 12), np.float32)
    return RetrievalLibrary(tuple(ids), stacked, fetch)


# ---------------------------------------------------------------------------------- model


def _task_seed(task: TaskInput) -> int:
    state = np.random.SeedSequence([task.seed, int(task.segment.song_id),
                                    task.segment.start_bar]).generate_state(1)
    return int(state[0])


def model_system(pipeline: Any, *, steps: int = 10, guidance: float = DEFAULT_GUIDANCE,
                 in_key: bool = True, sampler: str = "ddim", name: str = "model",
                 use_chords: bool = True) -> System:
    """The diffusion model behind :class:`engine.pipeline.Pipeline` as a :class:`System`.

    infill: ``pipeline.infill`` of the context with the window's chords, keeping the notes
    that start in the infill bars; accompany: ``pipeline.accompany`` of the chords and the
    melody (it returns the accompaniment alone); generate: ``pipeline.generate`` with no chords. The
    key given to the sampler is the window's key (none for generate); the seed is derived
    from ``--seed``, the song id and the window's start bar. ``use_chords=False`` withholds
    the chords from the model (the "no chord conditioning" control; chord metrics are
    still scored against the window's chords).
    """
    from engine.pipeline import BarRange, SamplingOptions

    def produce(task: TaskInput) -> tuple[Note, ...]:
        options = SamplingOptions(
            guidance=guidance, in_key=in_key,
            key=None if task.task == "generate" else task.segment.key,
            steps=steps, seed=_task_seed(task), variations=1, sampler=sampler,
        )
        n_bars = task.segment.n_bars
        if task.task == "infill":
            start, stop = task.bars
            result = pipeline.infill(list(task.given()), n_bars=n_bars,
                                     bars=BarRange(start, stop),
                                     chords=list(task.chords()) if use_chords else None,
                                     options=options)
            lo, hi = task.steps
            return tuple(sorted(n for n in result.variations[0] if lo <= n.start < hi))
        if task.task == "accompany":
            result = pipeline.accompany(list(task.chords()) if use_chords else [],
                                        n_bars=n_bars, melody=list(task.given()),
                                        options=options)
            return tuple(sorted(result.variations[0]))  # the accompaniment only
        result = pipeline.generate(n_bars=n_bars, options=options)
        return tuple(sorted(result.variations[0]))

    return System(name, frozenset(TASKS), produce)


# -------------------------------------------------------------------------------- metrics


def _clip(task: TaskInput, produced: Sequence[Note]) -> tuple[Note, ...]:
    """What the listener hears of the task's output: context + generated for infill,
    the generated notes alone otherwise."""
    if task.task == "infill":
        return tuple(sorted(task.given() + tuple(produced)))
    return tuple(produced)


@dataclass(frozen=True)
class SegmentScore:
    """Per-segment metric values and the OA lists pooled later."""

    values: dict[str, float]
    oa_pitch: tuple[float, ...]
    oa_duration: tuple[float, ...]


def segment_metrics(task: TaskInput, produced: Sequence[Note]) -> SegmentScore:
    """All metrics of one system output on one task input.

    - OA lists (pitch, duration): on the clip (:func:`_clip`), 4-bar frames, 2-bar hop.
    - ``ook_step``, ``ook_note``: generated notes over the generated steps, against the
      window's annotated keys (per step); ``ook_given_key`` against the key at the window
      start, the one key the model is given; for ``generate`` against the best-fitting key
      (``ook_note`` then NaN).
    - ``chord_acc``, ``chord_sim``: generated notes against the conditioning chords over
      the generated steps (NaN for ``generate``).
    - ``pcu``, ``tup``, ``pr``, ``density``, ``polyphony``: generated notes over the
      generated bars/steps. ``si``: the clip.
    - infill only: ``seam_pitch``, ``seam_onsets``: mean over the two borders (bars 2 and
      6) of the clip's jumps (:func:`engine.metrics.seam_jump`); ``seam_pitch_err``,
      ``seam_onsets_err``: mean |jump - ground-truth jump|.
    """
    seg = task.segment
    lo, hi = task.steps
    bar_lo, bar_hi = task.bars
    notes = tuple(produced)
    clip = _clip(task, notes)
    n_steps = hi - lo
    local = [Note(start=n.start - lo, pitch=n.pitch, duration=max(1, min(n.end, hi) - n.start),
                  velocity=n.velocity) for n in notes if lo <= n.start < hi]
    values: dict[str, float] = {"n_notes": float(len(notes))}
    if task.task == "generate":
        values["ook_step"] = metrics.best_key_out_of_key_step_rate(local, n_steps=n_steps)
        values["ook_note"] = math.nan
        values["chord_acc"] = values["chord_sim"] = math.nan
    else:
        scale = metrics.key_mask_per_step(list(seg.keys), seg.n_steps)[lo:hi]
        values["ook_step"] = metrics.out_of_key_step_rate(local, scale, n_steps=n_steps)
        values["ook_note"] = metrics.out_of_key_note_rate(local, scale, n_steps=n_steps)
        # Against the one key a sampler is given (the key at the window start): differs
        # from ook_note only in windows whose annotated key changes inside the window.
        values["ook_given_key"] = metrics.out_of_key_note_rate(
            local, seg.key.scale_mask(), n_steps=n_steps)
        values["chord_acc"] = metrics.chord_accuracy(notes, task.chords(), start=lo, stop=hi)
        values["chord_sim"] = metrics.chord_similarity(notes, task.chords(), start=lo, stop=hi)
    values["pcu"] = float(metrics.pitch_class_count(notes))
    values["tup"] = float(metrics.unique_pitches(notes))
    values["pr"] = float(metrics.pitch_range(notes))
    values["si"] = metrics.structureness(clip, n_bars=seg.n_bars)
    values["density"] = metrics.note_density(notes, start_bar=bar_lo, stop_bar=bar_hi)
    values["polyphony"] = metrics.polyphony(notes, start=lo, stop=hi)
    if task.task == "infill":
        truth = task.segment.arrangement()
        jumps = [metrics.seam_jump(clip, border_bar=b) for b in INFILL_BARS]
        truth_jumps = [metrics.seam_jump(truth, border_bar=b) for b in INFILL_BARS]
        values["seam_pitch"] = _nanmean([j.pitch_centroid for j in jumps])
        values["seam_onsets"] = _nanmean([j.onset_density for j in jumps])
        values["seam_pitch_err"] = _nanmean(
            [abs(j.pitch_centroid - t.pitch_centroid) for j, t in zip(jumps, truth_jumps,
                                                                      strict=True)])
        values["seam_onsets_err"] = _nanmean(
            [abs(j.onset_density - t.onset_density) for j, t in zip(jumps, truth_jumps,
                                                                    strict=True)])
    return SegmentScore(
        values=values,
        oa_pitch=tuple(metrics.framewise_overlap(clip, n_bars=seg.n_bars, feature="pitch")),
        oa_duration=tuple(metrics.framewise_overlap(clip, n_bars=seg.n_bars,
                                                    feature="duration")),
    )


def _nanmean(values: Iterable[float]) -> float:
    array = np.asarray(list(values), dtype=np.float64)
    array = array[np.isfinite(array)]
    return float(array.mean()) if array.size else math.nan


# ----------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class EvalReport:
    """Results of one task: per system the mean of every metric over the segments (NaN
    where undefined) plus the OA Consistency/Variance against the ground truth."""

    task: str
    segments: tuple[tuple[str, int], ...]  # (song id, start bar)
    systems: dict[str, dict[str, float]]
    per_segment: dict[str, list[dict[str, float]]] = field(repr=False)
    config: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        def clean(value: float) -> float | None:
            return None if isinstance(value, float) and not math.isfinite(value) else value

        return {
            "task": self.task,
            "config": self.config,
            "segments": [{"song_id": s, "start_bar": b} for s, b in self.segments],
            "systems": {name: {k: clean(v) for k, v in row.items()}
                        for name, row in self.systems.items()},
            "per_segment": {name: [{k: clean(v) for k, v in row.items()} for row in rows]
                            for name, rows in self.per_segment.items()},
        }


def evaluate(segments: Sequence[Segment], systems: Sequence[System], *, task: str, seed: int,
             config: dict[str, Any] | None = None,
             progress: Callable[[str, int, int], None] | None = None) -> EvalReport:
    """Run every system that supports ``task`` on every segment and score it."""
    if task not in TASKS:
        raise InputError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
    if not segments:
        raise InputError("no evaluation segments: check the song ids and the data folder")
    inputs = [TaskInput(task=task, segment=s, seed=seed) for s in segments]
    truth_scores = [segment_metrics(t, t.target()) for t in inputs]
    gt_pitch = [v for s in truth_scores for v in s.oa_pitch]
    gt_duration = [v for s in truth_scores for v in s.oa_duration]
    table: dict[str, dict[str, float]] = {}
    per_segment: dict[str, list[dict[str, float]]] = {}
    for system in systems:
        if not system.supports(task):
            logger.info("system %s does not do %s: skipped", system.name, task)
            continue
        rows: list[dict[str, float]] = []
        oa_pitch: list[float] = []
        oa_duration: list[float] = []
        for i, task_input in enumerate(inputs):
            began = time.perf_counter()
            produced = system.produce(task_input)
            seconds = time.perf_counter() - began
            score = segment_metrics(task_input, produced)
            rows.append({**score.values, "seconds": seconds})
            oa_pitch.extend(score.oa_pitch)
            oa_duration.extend(score.oa_duration)
            if progress is not None:
                progress(system.name, i + 1, len(inputs))
        summary = {key: _nanmean(row[key] for row in rows) for key in rows[0]}
        pitch = metrics.consistency_variance(oa_pitch, gt_pitch)
        duration = metrics.consistency_variance(oa_duration, gt_duration)
        summary.update({
            "consistency_pitch": pitch.consistency, "variance_pitch": pitch.variance,
            "consistency_duration": duration.consistency,
            "variance_duration": duration.variance,
        })
        table[system.name] = summary
        per_segment[system.name] = rows
    return EvalReport(task=task, segments=tuple((s.song_id, s.start_bar) for s in segments),
                      systems=table, per_segment=per_segment, config=dict(config or {}))


COLUMNS: dict[str, tuple[tuple[str, str, str], ...]] = {
    # (metric key, header, format)
    "common": (
        ("consistency_pitch", "C pitch", ".3f"), ("variance_pitch", "V pitch", ".3f"),
        ("consistency_duration", "C dur", ".3f"), ("variance_duration", "V dur", ".3f"),
        ("ook_step", "OOK %", "pct"),
    ),
    "chords": (("ook_given_key", "OOK given key %", "pct"), ("chord_acc", "chord acc", ".3f"),
               ("chord_sim", "chord sim", ".3f")),
    "texture": (
        ("pcu", "PCU", ".2f"), ("tup", "TUP", ".1f"), ("pr", "PR", ".1f"), ("si", "SI", ".3f"),
        ("density", "notes/bar", ".1f"), ("polyphony", "poly", ".2f"),
    ),
    "seam": (("seam_pitch_err", "seam pitch err", ".2f"),
             ("seam_onsets_err", "seam onset err", ".2f")),
    "time": (("seconds", "s/seg", ".3f"),),
}


def table_columns(task: str) -> list[tuple[str, str, str]]:
    groups = ["common"] + (["chords"] if task != "generate" else []) + ["texture"]
    groups += (["seam"] if task == "infill" else []) + ["time"]
    return [col for group in groups for col in COLUMNS[group]]


def _format_value(value: float | None, fmt: str) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    if fmt == "pct":
        return f"{100 * value:.2f}"
    return format(value, fmt)


def format_table(report: EvalReport, *, markdown: bool = False) -> str:
    """The report as a text (or Markdown) table, one row per system."""
    columns = table_columns(report.task)
    header = ["system"] + [title for _, title, _ in columns]
    rows = [[name] + [_format_value(values.get(key), fmt) for key, _, fmt in columns]
            for name, values in report.systems.items()]
    if markdown:
        lines = ["| " + " | ".join(header) + " |",
                 "|" + "|".join(["---"] + ["---:"] * len(columns)) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    fmt_row = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w)  # noqa: E731
                                  for i, (c, w) in enumerate(zip(r, widths, strict=True)))
    return "\n".join([fmt_row(header), fmt_row(["-" * w for w in widths])]
                     + [fmt_row(r) for r in rows])


# ------------------------------------------------------------------------------------ CLI


def build_systems(names: Sequence[str], *, library: RetrievalLibrary | None,
                  pipeline_loader: Callable[[], Any] | None, steps: int, guidance: float,
                  in_key: bool) -> list[System]:
    """Systems by name (``model`` and :data:`BASELINES`); ``retrieval`` needs a library."""
    known = (*MODEL_VARIANTS, *BASELINES)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise InputError(f"unknown system(s) {', '.join(unknown)}; known: {', '.join(known)}")
    systems = []
    pipeline = None
    for name in names:
        if name in MODEL_VARIANTS:
            if pipeline_loader is None:
                raise InputError("the model system needs a model")
            pipeline = pipeline or pipeline_loader()
            variant = {"steps": steps, "guidance": guidance, "in_key": in_key,
                       **MODEL_VARIANTS[name]}
            systems.append(model_system(pipeline, name=name, **variant))
        elif name == "ground_truth":
            systems.append(ground_truth_system())
        elif name in ("rule_block", "rule_arpeggio"):
            systems.append(rule_based_system(style=name.removeprefix("rule_")))
        elif name == "copy_neighbours":
            systems.append(copy_neighbours_system())
        elif name == "random_in_key":
            systems.append(random_in_key_system())
        elif name == "retrieval":
            if library is None or len(library) == 0:
                raise InputError("the retrieval baseline needs --retrieval-data with "
                                 "--retrieval-songs, or --cache")
            systems.append(retrieval_system(library))
    return systems


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments shared by ``eval`` and ``results``."""
    parser.add_argument("--data", type=Path, default=os.environ.get("DIFFJAM_DATA"),
                        help="folder with the POP909 layout (default: $DIFFJAM_DATA)")
    parser.add_argument("--songs", required=True,
                        help="song ids (001,002,...) or a file of ids / split-style lines")
    parser.add_argument("--subset", help="line name to read when --songs is a split file")
    parser.add_argument("--n", type=int, default=1, help="windows per song (default 1)")
    parser.add_argument("--total", type=int, help="keep at most this many windows in all")
    parser.add_argument("--seed", type=int, default=0, help="window choice and sampling seed")
    parser.add_argument("--model", type=Path, help="model file (default: the bundled model)")
    parser.add_argument("--steps", type=int, default=10, help="sampler steps (default 10)")
    parser.add_argument("--guidance", type=float, default=DEFAULT_GUIDANCE,
                        help=f"CFG scale (default {DEFAULT_GUIDANCE})")
    parser.add_argument("--no-in-key", dest="in_key", action="store_false",
                        help="sample without the in-key projection")
    parser.add_argument("--device", help="torch device for the model (default: auto)")
    parser.add_argument("--retrieval-data", type=Path,
                        help="data folder of the retrieval library (default: --data)")
    parser.add_argument("--retrieval-songs",
                        help="song ids of the retrieval library (ids or a file)")
    parser.add_argument("--retrieval-subset", help="line name in the --retrieval-songs file")
    parser.add_argument("--cache", type=Path,
                        help="training cache (.npz) to use as the retrieval library")
    parser.add_argument("--cache-split", default="train",
                        help="split of --cache to retrieve from ('all' for every song; "
                             "default train); evaluated songs are always left out")


def add_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``diffjam eval``."""
    parser = subparsers.add_parser(
        "eval", help="evaluate the model and baselines on song windows",
        description="Score systems on 8-bar windows of the given songs; prints a table and "
                    "writes JSON.")
    add_eval_arguments(parser)
    parser.add_argument("--task", choices=TASKS, required=True)
    parser.add_argument("--systems", default="model," + ",".join(BASELINES),
                        help="comma-separated systems (default: model and every baseline)")
    parser.add_argument("--out", type=Path, required=True, help="JSON report path")
    parser.set_defaults(handler=run_eval)


def segments_and_library(args: argparse.Namespace, *, need_library: bool
                         ) -> tuple[list[Segment], RetrievalLibrary | None]:
    """The evaluation windows and, when asked for, the retrieval library (never holding
    an evaluated song)."""
    if args.data is None:
        raise InputError("no data folder: pass --data DIR or set DIFFJAM_DATA")
    if not (Path(args.data) / "pop909").is_dir():
        raise InputError(f"{args.data} has no pop909/ folder")
    ids = parse_song_ids(args.songs, subset=args.subset)
    songs = load_songs(args.data, ids)
    segments = choose_segments(songs, n_per_song=args.n, seed=args.seed, total=args.total)
    library = None
    if need_library:
        if args.cache is not None:
            split = None if args.cache_split == "all" else args.cache_split
            library = cache_library(args.cache, split=split, exclude=ids)
        elif args.retrieval_songs is not None:
            lib_ids = parse_song_ids(args.retrieval_songs, subset=args.retrieval_subset)
            lib_songs = load_songs(args.retrieval_data or args.data,
                                   [i for i in lib_ids if i not in ids])
            library = RetrievalLibrary.from_segments(library_segments(lib_songs))
        if library is not None:
            logger.info("retrieval library: %d windows", len(library))
    return segments, library


def pipeline_loader(args: argparse.Namespace) -> Callable[[], Any]:
    def load() -> Any:
        from engine.pipeline import Pipeline

        return Pipeline.load(args.model, device=args.device)

    return load


def eval_config(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "data": os.fspath(args.data), "songs": args.songs, "subset": args.subset, "n": args.n,
        "total": args.total, "seed": args.seed,
        "model": None if args.model is None else os.fspath(args.model),
        "steps": args.steps, "guidance": args.guidance, "in_key": args.in_key,
        "window_bars": WINDOW_BARS, "infill_bars_0based": list(INFILL_BARS),
    }


def run_eval(args: argparse.Namespace) -> int:
    names = [n.strip() for n in args.systems.split(",") if n.strip()]
    wants_library = "retrieval" in names
    segments, library = segments_and_library(args, need_library=wants_library)
    if wants_library and (library is None or len(library) == 0):
        logger.warning("no retrieval library (--cache or --retrieval-songs): retrieval skipped")
        names.remove("retrieval")
    systems = build_systems(names, library=library, pipeline_loader=pipeline_loader(args),
                            steps=args.steps, guidance=args.guidance, in_key=args.in_key)
    report = evaluate(segments, systems, task=args.task, seed=args.seed,
                      config={**eval_config(args), "systems": names})
    print(f"task {args.task}: {len(segments)} windows from "
          f"{len({s for s, _ in report.segments})} songs")
    print(format_table(report))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report.to_json(), indent=1), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0
