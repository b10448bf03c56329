"""The training cache: every POP909 song on the 16th grid in one ``.npz`` file.

Layout (format version 1; see docs/architecture.md):

=================  ===================  ==================================================
array              dtype, shape         meaning
=================  ===================  ==================================================
``meta``           str (JSON)           format version, steps per bar, pitch range, report
``song_ids``       str (S,)             3-digit ids
``splits``         str (S,)             split name from the split file
``n_bars``         int32 (S,)           bars kept per song
``note_offsets``   int64 (S+1,)         song s owns ``notes[note_offsets[s]:note_offsets[s+1]]``
``notes``          int16 (N, 5)         track (0 melody, 1 bridge, 2 piano), pitch, start
                                        step, duration steps, velocity
``chord_offsets``  int64 (S+1,)         as above, into ``chords``
``chords``         int32 (C, 3)         start step, end step, index into ``chord_vocab``
``chord_vocab``    str (V,)             Harte labels as POP909 writes them
``key_offsets``    int64 (S+1,)         as above, into ``keys``
``keys``           int16 (K, 3)         start step, tonic pc, mode (0 major, 1 minor)
``phrase_offsets`` int64 (S+1,)         as above, into ``phrases``
``phrases``        int32 (P, 3)         start bar, n_bars, letter code (``ord``)
=================  ===================  ==================================================

Strings are stored as fixed-width unicode arrays, so the file loads without pickle.
Transposition augmentation happens at load time, never here.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.errors import InputError
from engine.pianoroll import N_PITCHES, PITCH_LOW, STEPS_PER_BAR

if TYPE_CHECKING:  # reading POP909 needs mido; loading a cache (training) does not
    from engine.pop909 import Pop909Song

__all__ = [
    "FORMAT_VERSION",
    "BuildReport",
    "CacheFileError",
    "CachedSong",
    "SongCache",
    "build_cache",
    "write_songs",
    "load_cache",
]

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
ARRAYS = (
    "meta", "song_ids", "splits", "n_bars", "note_offsets", "notes", "chord_offsets", "chords",
    "chord_vocab", "key_offsets", "keys", "phrase_offsets", "phrases",
)


class CacheFileError(InputError):
    """A cache file is missing, unreadable or not in this format."""


@dataclass(frozen=True)
class CachedSong:
    song_id: str
    split: str
    n_bars: int
    notes: np.ndarray  # int16 (n, 5): track, pitch, start, duration, velocity
    chords: np.ndarray  # int32 (c, 3): start step, end step, chord_vocab index
    keys: np.ndarray  # int16 (k, 3): start step, tonic pc, mode
    phrases: np.ndarray  # int32 (p, 3): start bar, n_bars, letter code


@dataclass(frozen=True)
class SongCache:
    songs: list[CachedSong]
    chord_vocab: list[str]
    meta: dict[str, Any]

    def split(self, name: str) -> list[CachedSong]:
        return [song for song in self.songs if song.split == name]


@dataclass(frozen=True)
class BuildReport:
    songs_requested: int
    songs_kept: int
    bars_kept: int
    notes_kept: int
    dropped_songs: dict[str, str]  # song id -> reason
    notes_dropped_before_bar0: int
    notes_outside_pitch_range: int
    onset_shift_mean_steps: float
    onset_moved_over_64th: float  # share of notes
    phrase_songs: int  # songs with phrase labels
    phrase_aligned: int
    phrase_match_rate_mean: float  # first 32 bars, over songs with labels, chosen offsets
    phrase_whole_match_rate_mean: float  # the same over the whole song
    phrase_off_bar_line: int  # aligned songs whose labels start between our bar lines
    phrase_bar_offsets: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    file_bytes: int = 0

    def summary(self) -> str:
        reasons = Counter(reason.split(":")[0] for reason in self.dropped_songs.values())
        dropped = ", ".join(f"{n} {r}" for r, n in sorted(reasons.items())) or "none"
        return (
            f"kept {self.songs_kept}/{self.songs_requested} songs, {self.bars_kept} bars, "
            f"{self.notes_kept} notes; dropped songs: {dropped}; "
            f"notes dropped before bar 0: {self.notes_dropped_before_bar0}; "
            f"notes outside pitch {PITCH_LOW}..{PITCH_LOW + N_PITCHES - 1} (kept): "
            f"{self.notes_outside_pitch_range}; "
            f"onset moved >1/64 note: {100 * self.onset_moved_over_64th:.2f}% "
            f"(mean {self.onset_shift_mean_steps:.4f} steps; never >1/32 by construction); "
            f"phrases aligned {self.phrase_aligned}/{self.phrase_songs} songs, "
            f"mean root match {100 * self.phrase_match_rate_mean:.1f}% (first 32 bars), "
            f"{100 * self.phrase_whole_match_rate_mean:.1f}% (whole songs), "
            f"{self.phrase_off_bar_line} of them moved to the nearest bar line; "
            f"{self.seconds:.1f} s, {self.file_bytes / 1e6:.2f} MB"
        )


def _load_one(args: tuple[str, str, int | None]) -> Pop909Song | str:
    from engine.pop909 import load_song

    data_dir, song_id, beats_per_measure = args
    try:
        return load_song(data_dir, song_id, beats_per_measure=beats_per_measure)
    except InputError as err:
        return f"{type(err).__name__}: {err}"


def build_cache(
    data_dir: str | os.PathLike[str],
    splits: dict[str, str],
    out: str | os.PathLike[str],
    *,
    workers: int = 2,
    progress: Callable[[int, int], None] | None = None,
) -> BuildReport:
    """Read the songs ``splits`` names ({song id: split}) and write the cache to ``out``.

    Songs that cannot be used (triple meter, missing or malformed files) are left out and
    listed with the reason in the report. ``workers`` processes read songs in parallel.
    """
    from engine.pop909 import read_index

    began = time.monotonic()
    data_dir = Path(data_dir)
    index_path = data_dir / "pop909" / "index.csv"
    index = read_index(index_path) if index_path.exists() else {}
    ids = sorted(splits)
    jobs = [(os.fspath(data_dir), sid, index.get(sid)) for sid in ids]
    results: list[Pop909Song | str] = []
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for i, result in enumerate(pool.map(_load_one, jobs, chunksize=8), start=1):
                results.append(result)
                if progress:
                    progress(i, len(jobs))
    else:
        for i, job in enumerate(jobs, start=1):
            results.append(_load_one(job))
            if progress:
                progress(i, len(jobs))

    songs: list[Pop909Song] = []
    dropped: dict[str, str] = {}
    for sid, result in zip(ids, results, strict=True):
        if isinstance(result, str):
            dropped[sid] = result
            logger.info("song %s dropped: %s", sid, result)
        else:
            songs.append(result)
    if not songs:
        raise InputError(f"no usable song among the {len(ids)} requested in {data_dir}")

    reports = [song.report for song in songs]
    n_notes = sum(r.n_notes for r in reports)
    phrase_reports = {s.song_id: s.report.phrase for s in songs if s.report.phrase is not None}
    report = BuildReport(
        songs_requested=len(ids),
        songs_kept=len(songs),
        bars_kept=sum(s.n_bars for s in songs),
        notes_kept=n_notes,
        dropped_songs=dropped,
        notes_dropped_before_bar0=sum(r.dropped_before_bar0 for r in reports),
        notes_outside_pitch_range=sum(r.outside_pitch_range for r in reports),
        onset_shift_mean_steps=sum(r.onset_shift_mean * r.n_notes for r in reports)
        / max(1, n_notes),
        onset_moved_over_64th=sum(r.onset_shift_over_64th for r in reports) / max(1, n_notes),
        phrase_songs=len(phrase_reports),
        phrase_aligned=sum(bool(p.aligned) for p in phrase_reports.values()),
        phrase_match_rate_mean=float(np.mean([p.match_rate for p in phrase_reports.values()]))
        if phrase_reports
        else 0.0,
        phrase_whole_match_rate_mean=float(
            np.mean([p.whole_match_rate for p in phrase_reports.values()])
        )
        if phrase_reports
        else 0.0,
        phrase_off_bar_line=sum(
            bool(p.aligned and p.beat_offset % 4) for p in phrase_reports.values()
        ),
        phrase_bar_offsets={
            sid: int(p.bar_offset) for sid, p in phrase_reports.items() if p.aligned
        },
    )
    write_songs(out, songs, splits, source="POP909", report=_report_dict(report))
    seconds = time.monotonic() - began
    return replace(report, seconds=seconds, file_bytes=Path(out).stat().st_size)


def write_songs(
    out: str | os.PathLike[str],
    songs: Sequence[Pop909Song],
    splits: dict[str, str],
    *,
    source: str,
    report: dict[str, Any],
) -> None:
    """Write ``songs`` (POP909's or any others in the same shape: three tracks of notes in
    steps, chord labels in Harte syntax, keys, phrases which may be empty) to the cache
    file ``out``, each in the split ``splits`` gives it; ``source`` and ``report`` go into
    the metadata. The file is replaced atomically."""
    vocab = sorted({chord.label for song in songs for chord in song.chords})
    vocab_index = {label: i for i, label in enumerate(vocab)}
    notes_parts, chord_parts, key_parts, phrase_parts = [], [], [], []
    for song in songs:
        if song.n_bars * STEPS_PER_BAR > np.iinfo(np.int16).max:
            raise InputError(f"song {song.song_id} is too long for int16 steps")
        rows = [
            (track, n.pitch, n.start, n.duration, n.velocity)
            for track, notes in enumerate(song.tracks)
            for n in notes
        ]
        rows.sort(key=lambda r: (r[2], r[0], r[1]))
        notes_parts.append(np.asarray(rows, dtype=np.int16).reshape(-1, 5))
        chord_parts.append(
            np.asarray(
                [(c.start, c.end, vocab_index[c.label]) for c in song.chords], dtype=np.int32
            ).reshape(-1, 3)
        )
        key_parts.append(
            np.asarray([(k.start, k.tonic, k.mode) for k in song.keys], dtype=np.int16).reshape(
                -1, 3
            )
        )
        phrase_parts.append(
            np.asarray(
                [(p.start_bar, p.n_bars, ord(p.letter)) for p in song.phrases], dtype=np.int32
            ).reshape(-1, 3)
        )

    meta = {
        "format_version": FORMAT_VERSION,
        "steps_per_bar": STEPS_PER_BAR,
        "pitch_low": PITCH_LOW,
        "n_pitches": N_PITCHES,
        "tracks": ["melody", "bridge", "piano"],
        "source": source,
        "report": report,
    }
    arrays = {
        "meta": np.array(json.dumps(meta)),
        "song_ids": np.array([s.song_id for s in songs], dtype=str),
        "splits": np.array([splits[s.song_id] for s in songs], dtype=str),
        "n_bars": np.array([s.n_bars for s in songs], dtype=np.int32),
        "note_offsets": _offsets(notes_parts),
        "notes": np.concatenate(notes_parts),
        "chord_offsets": _offsets(chord_parts),
        "chords": np.concatenate(chord_parts),
        "chord_vocab": np.array(vocab, dtype=str),
        "key_offsets": _offsets(key_parts),
        "keys": np.concatenate(key_parts),
        "phrase_offsets": _offsets(phrase_parts),
        "phrases": np.concatenate(phrase_parts),
    }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp.npz")
    np.savez_compressed(tmp, allow_pickle=False, **arrays)  # plain arrays only
    os.replace(tmp, out)


def _offsets(parts: Sequence[np.ndarray]) -> np.ndarray:
    return np.concatenate([[0], np.cumsum([len(p) for p in parts])]).astype(np.int64)


def _report_dict(report: BuildReport) -> dict[str, Any]:
    fields = dict(report.__dict__)
    fields.pop("seconds")
    fields.pop("file_bytes")
    return fields


def load_cache(path: str | os.PathLike[str]) -> SongCache:
    """Read a cache written by :func:`build_cache`."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [name for name in ARRAYS if name not in npz.files]
            if missing:
                raise CacheFileError(
                    f"{os.fspath(path)!r} is not a diffjam cache: missing {', '.join(missing)}"
                )
            a = {name: npz[name] for name in ARRAYS}
    except (OSError, ValueError) as err:
        raise CacheFileError(f"Cannot read cache {os.fspath(path)!r}: {err}") from err
    meta = json.loads(str(a["meta"]))
    if meta.get("format_version") != FORMAT_VERSION:
        raise CacheFileError(
            f"{os.fspath(path)!r} has cache format {meta.get('format_version')!r}, "
            f"expected {FORMAT_VERSION}"
        )

    def part(name: str, s: int) -> np.ndarray:
        offsets = a[f"{name[:-1]}_offsets"]
        return a[name][offsets[s] : offsets[s + 1]]

    songs = [
        CachedSong(
            song_id=str(a["song_ids"][s]),
            split=str(a["splits"][s]),
            n_bars=int(a["n_bars"][s]),
            notes=part("notes", s),
            chords=part("chords", s),
            keys=part("keys", s),
            phrases=part("phrases", s),
        )
        for s in range(len(a["song_ids"]))
    ]
    return SongCache(songs=songs, chord_vocab=[str(v) for v in a["chord_vocab"]], meta=meta)
