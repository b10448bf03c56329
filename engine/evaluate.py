"""Run systems on windows of songs and score them (the command ``diffjam eval`` is
:mod:`diffjam.commands.evaluate`).

Songs come from any folder with the POP909 layout (``<data>/pop909/NNN``) or from a
training cache, and from an explicit list of song ids: nothing here reads
``splits/split.txt`` unless it is passed as the song list.

Protocols
    Windows of ``--window-bars`` bars (8 by default); ``infill`` regenerates the
    ``--gap-bars`` bars in the middle of each (half the window by default). Three are
    documented in ``docs/metrics.md``: 8/4 (bars 3-6 of 8), 16/4 (bars 7-10 of 16) and
    32/16 (the middle 16 bars of 32, the infilling setting of Mittal et al. 2021).

Windows
    From each song, ``n`` windows are drawn without replacement with
    ``numpy.random.default_rng([seed, song id])`` among the candidate start bars: the
    phrase starts where the song has phrase labels (else every bar), kept only where the
    whole window lies in the song, at least 8 PIANO notes start in it and at least half
    of its steps have a chord other than "N". ``--total`` then keeps the first ``total``
    windows in song order.

Reference
    Consistency and Variance compare a system's framewise OA statistics with those of
    real music: windows of *other* songs (``--reference-songs``, or the ``--cache-split``
    songs of ``--cache``, never an evaluated song), ``--reference-n`` per song, cut and
    scored like the evaluated ones. The ``ground_truth`` row then scores the real bars of
    the evaluated songs against them, as the "test data" row of Mittal et al. does.
    Without a reference set the evaluated ground truth is its own reference (its row is
    1 by construction) and the report says so.

Intervals
    Every figure has a song-level bootstrap 95 % interval (``engine.bootstrap``); the
    report, its figures, comparisons and tables live in ``engine.eval_report``.

Metrics are documented in ``engine/metrics.py`` and ``docs/metrics.md``; which notes each
one sees is listed in :func:`segment_metrics`.
"""

from __future__ import annotations

import bisect
import dataclasses
import logging
import math
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine import metrics
from engine.baselines import (
    TASKS,
    WINDOW_BARS,
    RetrievalLibrary,
    Segment,
    System,
    TaskInput,
    beat_chord_features,
    context_shuffle_system,
    copy_bars_system,
    copy_neighbours_system,
    ground_truth_system,
    label_pad_system,
    random_in_key_system,
    retrieval_system,
    rule_based_system,
    song_number,
)
from engine.bootstrap import DEFAULT_RESAMPLES
from engine.errors import InputError, UnsupportedMeterError
from engine.eval_report import (
    OA_KEYS,
    EvalReport,
    nanmean,
    pooled_moments,
    report_intervals,
    summarize,
)
from engine.harmony import ChordSpan, Key, parse_harte, parse_vocab
from engine.pianoroll import STEPS_PER_BAR, STEPS_PER_BEAT, Note
from engine.sampling import DEFAULT_GUIDANCE, DEFAULT_STEPS

__all__ = [
    "BASELINES",
    "DEFAULT_SYSTEMS",
    "MODEL_VARIANTS",
    "Song",
    "build_systems",
    "choose_segments",
    "clip_overlaps",
    "cut_segment",
    "evaluate",
    "load_songs",
    "model_system",
    "parse_song_ids",
    "segment_metrics",
    "song_number",
    "songs_from_cache",
]

logger = logging.getLogger(__name__)

# The shipped model as run by default (``model``) and the controls that isolate one
# feature each: no chord conditioning, no in-key projection, no guidance, more guidance.
MODEL_VARIANTS: dict[str, dict[str, Any]] = {
    "model": {},
    "model_no_chords": {"use_chords": False},
    # no chords and none inferred from the context: the network alone (engine.context_chords)
    "model_no_chords_raw": {"use_chords": False, "infer_chords": False},
    # the per-step binarize projection forced on / off instead of the task's default
    "model_binarize": {"binarize": True},
    "model_no_binarize": {"binarize": False},
    "model_no_chords_binarize": {"use_chords": False, "binarize": True},
    "model_no_key": {"in_key": False},
    "model_g1": {"guidance": 1.0},
    "model_g2": {"guidance": 2.0},
    "model_g3": {"guidance": 3.0},
    # the projection's pitch set forced (default: engine.pipeline.PITCH_SET_BY_TASK, the
    # chord's tones in accompaniment): the key's scale alone, or the scale and the chord
    "model_key": {"allowed": "key"},
    "model_key_chord": {"allowed": "key+chord"},
    "model_chord_tones": {"allowed": "chord"},
    # a distilled model's teacher at the default steps and guidance (engine.distill), with
    # its default guidance interval (engine.pipeline.TEACHER_GUIDANCE_BELOW)
    "model_teacher": {"quality": "high"},
    "model_teacher_key": {"quality": "high", "allowed": "key"},
    # the teacher guided at every step / only at noise times t <= 0.6 / 0.7 / 0.8
    # (guidance in an interval, engine.guidance.GuidedDenoiser)
    "model_teacher_every": {"quality": "high", "guidance_below": 1.0},
    "model_teacher_every_key": {"quality": "high", "guidance_below": 1.0, "allowed": "key"},
    "model_teacher_below5": {"quality": "high", "guidance_below": 0.5},
    "model_teacher_below6": {"quality": "high", "guidance_below": 0.6},
    "model_teacher_below7": {"quality": "high", "guidance_below": 0.7},
    "model_teacher_below8": {"quality": "high", "guidance_below": 0.8},
    "model_no_chords_teacher": {"use_chords": False, "quality": "high"},
    "model_no_chords_teacher_single": {"use_chords": False, "quality": "high", "candidates": 1},
    # infill starting from the bars the clip repeats around the gap (engine.repeats), at
    # repeat x the clip's own similarity (engine.pipeline.DRAFT_FLOOR)
    "model_no_chords_repeat3": {"use_chords": False, "repeat": 0.3},
    "model_no_chords_repeat5": {"use_chords": False, "repeat": 0.5},
    "model_no_chords_repeat7": {"use_chords": False, "repeat": 0.7},
    "model_no_chords_repeat10": {"use_chords": False, "repeat": 1.0},
    "model_no_chords_no_repeat": {"use_chords": False, "repeat": 0.0},
    "model_repeat5": {"repeat": 0.5},
    "model_repeat10": {"repeat": 1.0},
    "model_teacher_no_repeat": {"quality": "high", "repeat": 0.0},
    "model_no_repeat": {"repeat": 0.0},
    # a density hint (notes a bar, the model's rhythm condition: engine.pipeline)
    "model_no_density": {"density": 0.0},  # no density hint: the model chooses
    "model_density6": {"density": 6.0},
    "model_density10": {"density": 10.0},
    "model_density14": {"density": 14.0},
    "model_below_melody": {"below_melody": True},
    # the accompaniment free to go anywhere (default: the piano's register, engine.register)
    "model_free_register": {"register": False},
    # accompaniment of the chords alone, the melody withheld (a producer's chord track;
    # still scored against the real piano part and the window's chords)
    "model_no_melody": {"melody": False},
    "model_teacher_no_melody": {"quality": "high", "melody": False},
    # an accompaniment's bass at the bottom of each chord span where the sample places it
    # (SamplingOptions.bass_anchor, engine.guidance.BassProjection; off by default)
    "model_bass_anchor": {"bass_anchor": True},
    "model_teacher_bass_anchor": {"quality": "high", "bass_anchor": True},
    # how many samples a request draws and chooses among (engine.candidates; default:
    # engine.pipeline.CANDIDATES_BY_TASK): one, the first as it comes; or 2 / 4 / ... / 16
    "model_single": {"candidates": 1},
    "model_candidates2": {"candidates": 2},
    "model_candidates4": {"candidates": 4},
    "model_candidates6": {"candidates": 6},
    "model_candidates8": {"candidates": 8},
    "model_candidates10": {"candidates": 10},
    "model_candidates12": {"candidates": 12},
    "model_candidates16": {"candidates": 16},
    # the teacher with the student's accompaniment default: the two like for like
    "model_teacher_candidates12": {"quality": "high", "candidates": 12},
    "model_no_chords_single": {"use_chords": False, "candidates": 1},
    "model_no_chords_candidates2": {"use_chords": False, "candidates": 2},
    "model_no_chords_candidates4": {"use_chords": False, "candidates": 4},
    "model_no_chords_candidates8": {"use_chords": False, "candidates": 8},
    "model_no_chords_teacher_candidates2": {"use_chords": False, "quality": "high",
                                            "candidates": 2},
    "model_no_chords_teacher_candidates4": {"use_chords": False, "quality": "high",
                                            "candidates": 4},
    "model_no_chords_teacher_candidates8": {"use_chords": False, "quality": "high",
                                            "candidates": 8},
    "model_teacher_single": {"quality": "high", "candidates": 1},
    "model_key_single": {"allowed": "key", "candidates": 1},
    "model_free_register_single": {"register": False, "candidates": 1},
    "model_with_candidates": {"candidates": 4},
}

BASELINES = ("ground_truth", "label_pad", "rule_block", "rule_arpeggio", "copy_previous",
             "copy_next", "copy_neighbours", "context_shuffle", "random_in_key", "retrieval")
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
    # (start bar, bars, letter) of each labelled phrase, in song order (POP909's labels)
    phrases: tuple[tuple[int, int, str], ...] = ()


def parse_song_ids(spec: str, *, subset: str | None = None) -> list[str]:
    """Song ids from ``spec``: a comma/space list (``"001,002"``) or a file.

    A file holds ids separated by spaces, commas or newlines, or split-file lines
    ``<name> <id> <id> ...``; with ``subset`` only the line of that name is read (it is
    required when the file has several named lines). Ids are zero-padded to 3 digits;
    duplicates are removed, order kept.
    """
    path = Path(spec)
    try:
        is_file = path.is_file()
    except OSError:  # e.g. a long list of ids is no valid file name: read it as ids
        is_file = False
    if is_file:
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
            phrases=tuple((p.start_bar, p.n_bars, p.letter) for p in song.phrases),
        ))
    return songs


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
        phrases=tuple((int(b), int(k), chr(int(c))) for b, k, c in cs.phrases.tolist()),
    )


def songs_from_cache(path: str | os.PathLike[str], song_ids: Sequence[str] | None = None,
                     *, split: str | None = None, exclude: Iterable[str] = ()) -> list[Song]:
    """Songs from a training cache (``engine.cache``): all, or those of ``song_ids``, of
    ``split`` (any with None), less those of ``exclude``."""
    from engine.cache import load_cache

    cache = load_cache(path)
    vocab = parse_vocab(cache.chord_vocab)
    wanted = None if song_ids is None else set(song_ids)
    excluded = set(exclude)
    return [_song_from_cached(cs, vocab) for cs in cache.songs
            if (wanted is None or cs.song_id in wanted)
            and (split is None or cs.split == split) and cs.song_id not in excluded]


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


def _usable_window(song: Song, start_bar: int, n_bars: int) -> bool:
    """:func:`_usable` of ``cut_segment(song, start_bar, n_bars=n_bars)`` without cutting."""
    lo, hi = start_bar * STEPS_PER_BAR, (start_bar + n_bars) * STEPS_PER_BAR
    piano = _Starts(song.tracks[2])
    if bisect.bisect_left(piano, hi) - bisect.bisect_left(piano, lo) < MIN_PIANO_NOTES:
        return False
    first = max(0, bisect.bisect_right(_Starts(song.chords), lo) - 1)
    last = bisect.bisect_left(_Starts(song.chords), hi)
    chord_steps = sum(max(0, min(hi, c.stop) - max(lo, c.start))
                      for c in song.chords[first:last] if not c.chord.is_no_chord)
    return chord_steps >= MIN_CHORD_SHARE * (hi - lo)


def choose_segments(songs: Sequence[Song], *, n_per_song: int, seed: int,
                    total: int | None = None, n_bars: int = WINDOW_BARS,
                    warn: bool = True) -> list[Segment]:
    """Windows drawn as the module docstring says; deterministic for a seed. ``warn``:
    log songs without a usable window as warnings (else at debug level)."""
    if n_per_song < 1:
        raise InputError(f"--n must be >= 1, got {n_per_song}")
    chosen: list[Segment] = []
    for song in songs:
        starts = sorted(set(song.phrase_starts)) or list(range(song.n_bars))
        candidates = [b for b in starts
                      if b + n_bars <= song.n_bars and _usable_window(song, b, n_bars)]
        if not candidates:
            logger.log(logging.WARNING if warn else logging.DEBUG,
                       "song %s has no usable %d-bar window", song.song_id, n_bars)
            continue
        rng = np.random.default_rng([seed, song_number(song.song_id)])
        picks = rng.choice(len(candidates), size=min(n_per_song, len(candidates)),
                           replace=False)
        chosen.extend(cut_segment(song, candidates[int(i)], n_bars=n_bars)
                      for i in sorted(picks))
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
    vocab = parse_vocab(cache.chord_vocab)
    chroma = np.array([c.chroma for c in vocab], dtype=np.float64).reshape(-1, 12)
    excluded = set(exclude)
    beats_per_bar = STEPS_PER_BAR // STEPS_PER_BEAT
    n_beats = n_bars * beats_per_bar
    ids: list[str] = []
    features: list[np.ndarray] = []
    refs: list[tuple[Any, int]] = []
    for cs in cache.songs:
        if (split is not None and cs.split != split) or cs.song_id in excluded:
            continue
        chords = cs.chords
        if len(chords) == 0 or cs.n_bars < n_bars:
            continue
        song_features = beat_chord_features(chords[:, 0], chords[:, 1], chroma[chords[:, 2]],
                                            n_beats=cs.n_bars * beats_per_bar).astype(np.float32)
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
    state = np.random.SeedSequence([task.seed, song_number(task.segment.song_id),
                                    task.segment.start_bar]).generate_state(1)
    return int(state[0])


def model_system(pipeline: Any, *, steps: int = DEFAULT_STEPS, guidance: float = DEFAULT_GUIDANCE,
                 in_key: bool = True, sampler: str = "ddim", name: str = "model",
                 use_chords: bool = True, infer_chords: bool = True,
                 binarize: bool | None = None, quality: str = "fast",
                 repeat: float | None = None, density: float | None = None,
                 below_melody: bool = False, guidance_below: float | None = None,
                 allowed: str | None = None, register: bool | None = None,
                 candidates: int | None = None, melody: bool = True,
                 bass_anchor: bool = False) -> System:
    """The diffusion model behind :class:`engine.pipeline.Pipeline` as a :class:`System`.

    infill: ``pipeline.infill`` of the context with the window's chords, keeping the notes
    that start in the infill bars; accompany: ``pipeline.accompany`` of the chords and the
    melody (it returns the accompaniment alone); generate: ``pipeline.generate`` with no chords. The
    key given to the sampler is the window's key (none for generate); the seed is derived
    from ``--seed``, the song id and the window's start bar. ``use_chords=False`` withholds
    the chords from the model (the "no chord conditioning" control; chord metrics are
    still scored against the window's chords); an infill without chords then gets chords
    inferred from the context unless ``infer_chords=False``. ``binarize`` overrides the
    task's default projection (engine.pipeline.BINARIZE_BY_TASK). ``quality="high"`` runs
    a distilled model's teacher instead of its few-step student (engine.distill).
    ``repeat`` and ``density`` set SamplingOptions.repeat (engine.repeats) and .density;
    ``below_melody`` keeps an accompaniment under the melody (engine.register);
    ``guidance_below`` sets SamplingOptions.guidance_below (guidance in an interval);
    ``allowed`` the projection's pitch set (None: the task's default); ``register``
    SamplingOptions.register (the accompaniment's piano register); ``candidates``
    SamplingOptions.candidates (samples drawn, the best kept: engine.candidates).
    ``melody=False`` accompanies the chords alone, without the window's melody.
    ``bass_anchor`` SamplingOptions.bass_anchor (the bass at the bottom of each chord).
    """
    from engine.pipeline import BarRange, SamplingOptions

    def produce(task: TaskInput) -> tuple[Note, ...]:
        options = SamplingOptions(
            guidance=guidance, in_key=in_key,
            key=None if task.task == "generate" else task.segment.key,
            steps=steps, seed=_task_seed(task), variations=1, sampler=sampler,
            infer_chords=infer_chords, binarize=binarize, quality=quality,
            below_melody=below_melody and task.task == "accompany",
            guidance_below=guidance_below, allowed=allowed, register=register,
            candidates=candidates, bass_anchor=bass_anchor,
        )
        if repeat is not None or density is not None:
            options = dataclasses.replace(options, repeat=repeat, density=density)
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
                                        n_bars=n_bars,
                                        melody=list(task.given()) if melody else None,
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


def clip_overlaps(task: TaskInput, produced: Sequence[Note]) -> dict[str, tuple[float, ...]]:
    """Framewise OA lists (:func:`engine.metrics.framewise_overlap`: 4-bar frames, 2-bar
    hop, an empty frame gives OA 0) of the clip (:func:`_clip`): ``pitch`` and
    ``duration`` of all its notes and, except for ``accompany`` (a piano part has no
    melody), ``melody_pitch`` and ``melody_duration`` of its top line
    (:func:`engine.metrics.top_line`), the melody as far as pitch height tells."""
    clip = _clip(task, produced)
    n_bars = task.segment.n_bars
    parts = {"": clip}
    if task.task != "accompany":
        parts["melody_"] = metrics.top_line(clip)
    return {f"{prefix}{feature}": tuple(metrics.framewise_overlap(notes, n_bars=n_bars,
                                                                  feature=feature))
            for prefix, notes in parts.items() for feature in ("pitch", "duration")}


@dataclass(frozen=True)
class SegmentScore:
    """Per-segment metric values and the OA lists (:func:`clip_overlaps`) pooled later."""

    values: dict[str, float]
    oa: dict[str, tuple[float, ...]]


def segment_metrics(task: TaskInput, produced: Sequence[Note]) -> SegmentScore:
    """All metrics of one system output on one task input.

    - OA lists: :func:`clip_overlaps`.
    - Harmony, on the generated notes over the generated steps: ``ook_step`` (share of
      steps with a sounding note outside the window's annotated key, followed per step),
      ``ook_note`` (share of notes outside it at their onset), ``ook_given_key`` (share
      of notes outside the key at the window start, the one key the model is given),
      ``ook_chord_step`` (share of steps with a note outside key and sounding chord label
      both); ``generate`` has no key: ``ook_step`` against the best-fitting key, the rest
      NaN. ``chord_acc`` (per span), ``chord_acc_beat`` (per beat), ``chord_sim``
      against the chord labels (NaN for ``generate``); infill also
      ``chord_acc_accomp``, ``chord_acc_beat_accomp`` on the notes below the top line.
    - Fidelity, generated notes against the real ones of the same bars (infill and
      accompany): ``note_f1``, ``beat_pc_f1``, ``density_ratio`` (notes generated / real),
      ``polyphony_ratio``, ``topline_diff`` (mean pitch of the generated top line minus
      the real one's, semitones) and ``topline_abs_diff``.
    - Texture: ``pcu``, ``tup``, ``pr``, ``density`` (notes per bar), ``polyphony`` of the
      generated notes; ``si`` (structure indicator) of the clip.
    - infill only: ``seam_pitch``, ``seam_onsets``: mean over the gap's borders inside the
      window of the clip's jumps (:func:`engine.metrics.seam_jump`); ``seam_pitch_err``,
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
    nan = math.nan
    # harmony
    if task.task == "generate":
        values["ook_step"] = metrics.best_key_out_of_key_step_rate(local, n_steps=n_steps)
        for key in ("ook_note", "ook_given_key", "ook_chord_step", "chord_acc",
                    "chord_acc_beat", "chord_sim"):
            values[key] = nan
    else:
        chords = task.chords()
        scale = metrics.key_mask_per_step(list(seg.keys), seg.n_steps)[lo:hi]
        chord_tones = metrics.chord_mask_per_step(chords, seg.n_steps)[lo:hi]
        values["ook_step"] = metrics.out_of_key_step_rate(local, scale, n_steps=n_steps)
        values["ook_note"] = metrics.out_of_key_note_rate(local, scale, n_steps=n_steps)
        values["ook_given_key"] = metrics.out_of_key_note_rate(
            local, seg.key.scale_mask(), n_steps=n_steps)
        values["ook_chord_step"] = metrics.out_of_key_step_rate(local, scale | chord_tones,
                                                                n_steps=n_steps)
        values["chord_acc"] = metrics.chord_accuracy(notes, chords, start=lo, stop=hi)
        values["chord_acc_beat"] = metrics.chord_accuracy(notes, chords, start=lo, stop=hi,
                                                          window=STEPS_PER_BEAT)
        values["chord_sim"] = metrics.chord_similarity(notes, chords, start=lo, stop=hi)
        if task.task == "infill":
            below = metrics.below_top_line(notes)
            values["chord_acc_accomp"] = metrics.chord_accuracy(below, chords, start=lo,
                                                                stop=hi)
            values["chord_acc_beat_accomp"] = metrics.chord_accuracy(
                below, chords, start=lo, stop=hi, window=STEPS_PER_BEAT)
    # fidelity to the real notes of the same bars
    if task.task != "generate":
        real = task.target()
        values["note_f1"] = metrics.note_f1(notes, real)
        values["beat_pc_f1"] = metrics.beat_pitch_class_f1(notes, real, start=lo, stop=hi)
        values["density_ratio"] = metrics.count_ratio(notes, real)
        real_poly = metrics.polyphony(real, start=lo, stop=hi)
        values["polyphony_ratio"] = metrics.polyphony(notes, start=lo, stop=hi) / real_poly
        top_diff = (metrics.mean_pitch(metrics.top_line(notes))
                    - metrics.mean_pitch(metrics.top_line(real)))
        values["topline_diff"] = top_diff
        values["topline_abs_diff"] = abs(top_diff)
    # texture and structure
    values["pcu"] = float(metrics.pitch_class_count(notes))
    values["tup"] = float(metrics.unique_pitches(notes))
    values["pr"] = float(metrics.pitch_range(notes))
    values["si"] = metrics.structure_indicator(clip, n_bars=seg.n_bars)
    values["density"] = metrics.note_density(notes, start_bar=bar_lo, stop_bar=bar_hi)
    values["polyphony"] = metrics.polyphony(notes, start=lo, stop=hi)
    if task.task == "infill":
        borders = [b for b in (bar_lo, bar_hi) if 0 < b < seg.n_bars]
        truth = seg.arrangement()
        jumps = [metrics.seam_jump(clip, border_bar=b) for b in borders]
        truth_jumps = [metrics.seam_jump(truth, border_bar=b) for b in borders]
        values["seam_pitch"] = nanmean([j.pitch_centroid for j in jumps])
        values["seam_onsets"] = nanmean([j.onset_density for j in jumps])
        values["seam_pitch_err"] = nanmean(
            [abs(j.pitch_centroid - t.pitch_centroid)
             for j, t in zip(jumps, truth_jumps, strict=True)])
        values["seam_onsets_err"] = nanmean(
            [abs(j.onset_density - t.onset_density)
             for j, t in zip(jumps, truth_jumps, strict=True)])
    return SegmentScore(values=values, oa=clip_overlaps(task, notes))


# ----------------------------------------------------------------------------- evaluation


def reference_overlaps(reference: Sequence[Segment], *, task: str, seed: int,
                       gap: tuple[int, int] | None) -> list[dict[str, tuple[float, ...]]]:
    """OA lists (:func:`clip_overlaps`) of the real clips of reference windows."""
    inputs = [TaskInput(task=task, segment=s, seed=seed, gap=gap) for s in reference]
    return [clip_overlaps(t, t.target()) for t in inputs]


def evaluate(segments: Sequence[Segment], systems: Sequence[System], *, task: str, seed: int,
             gap: tuple[int, int] | None = None,
             reference: Sequence[Segment] | None = None, reference_source: str = "",
             config: dict[str, Any] | None = None,
             progress: Callable[[str, int, int], None] | None = None,
             n_resamples: int = DEFAULT_RESAMPLES) -> EvalReport:
    """Run every system that supports ``task`` on every segment and score it.

    ``gap``: the infill bars (default: the middle half of the window). ``reference``:
    windows of other songs whose real clips give the OA reference moments (see the
    module docstring); without it the evaluated ground truth is the reference.
    ``n_resamples``: bootstrap resamples for the intervals (0: none).
    """
    if task not in TASKS:
        raise InputError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
    if not segments:
        raise InputError("no evaluation segments: check the song ids and the data folder")
    evaluated = {s.song_id for s in segments}
    if reference and evaluated & {s.song_id for s in reference}:
        raise InputError("the OA reference set must not hold an evaluated song")
    inputs = [TaskInput(task=task, segment=s, seed=seed, gap=gap) for s in segments]
    truth_oa = [clip_overlaps(t, t.target()) for t in inputs]
    if reference:
        ref_oa = reference_overlaps(reference, task=task, seed=seed, gap=gap)
        moments = {key: list(pooled_moments(seg[key] for seg in ref_oa if key in seg))
                   for key in OA_KEYS if any(key in seg for seg in ref_oa)}
        ref_info: dict[str, Any] = {
            "source": reference_source or "reference windows", "independent": True,
            "windows": len(reference), "songs": len({s.song_id for s in reference}),
            "moments": moments}
    else:
        ref_info = {"source": "the evaluated ground truth (not independent: its row is 1 "
                              "by construction)", "independent": False,
                    "windows": len(segments), "songs": len(evaluated)}
    report = EvalReport(task=task, segments=tuple((s.song_id, s.start_bar) for s in segments),
                        systems={}, per_segment={}, config=dict(config or {}),
                        truth_oa=[{k: list(v) for k, v in seg.items()} for seg in truth_oa],
                        reference=ref_info)
    for system in systems:
        if not system.supports(task):
            logger.info("system %s does not do %s: skipped", system.name, task)
            continue
        rows: list[dict[str, float]] = []
        oa_rows: list[dict[str, list[float]]] = []
        for i, task_input in enumerate(inputs):
            began = time.perf_counter()
            produced = system.produce(task_input)
            seconds = time.perf_counter() - began
            score = segment_metrics(task_input, produced)
            rows.append({**score.values, "seconds": seconds})
            oa_rows.append({k: list(v) for k, v in score.oa.items()})
            if progress is not None:
                progress(system.name, i + 1, len(inputs))
        report.per_segment[system.name] = rows
        report.oa[system.name] = oa_rows
        report.systems[system.name] = summarize(rows, oa_rows, report.reference_moments)
    if n_resamples > 0:
        report.intervals.update(report_intervals(report, n_resamples=n_resamples, seed=seed))
    return report


# ------------------------------------------------------------------------------------ CLI


def build_systems(names: Sequence[str], *, library: RetrievalLibrary | None,
                  pipeline_loader: Callable[[], Any] | None, steps: int, guidance: float,
                  in_key: bool) -> list[System]:
    """Systems by name (:data:`MODEL_VARIANTS` and :data:`BASELINES`); ``retrieval``
    needs a library."""
    known = (*MODEL_VARIANTS, *BASELINES)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise InputError(f"unknown system(s) {', '.join(unknown)}; known: {', '.join(known)}")
    simple: dict[str, Callable[[], System]] = {
        "ground_truth": ground_truth_system,
        "label_pad": label_pad_system,
        "rule_block": lambda: rule_based_system(style="block"),
        "rule_arpeggio": lambda: rule_based_system(style="arpeggio"),
        "copy_previous": lambda: copy_bars_system("previous"),
        "copy_next": lambda: copy_bars_system("next"),
        "copy_neighbours": copy_neighbours_system,
        "context_shuffle": context_shuffle_system,
        "random_in_key": random_in_key_system,
    }
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
        elif name == "retrieval":
            if library is None or len(library) == 0:
                raise InputError("the retrieval baseline needs --retrieval-data with "
                                 "--retrieval-songs, or --cache")
            systems.append(retrieval_system(library))
        else:
            systems.append(simple[name]())
    return systems


DEFAULT_SYSTEMS = ",".join(("model", "model_no_chords", *BASELINES))
