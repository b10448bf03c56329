"""POP909 songs on the 16th grid.

One song folder ``<data>/pop909/NNN`` (see ``<data>/README.md``) becomes a
:class:`Pop909Song`: MELODY, BRIDGE and PIANO notes in 16th steps, chords as
(start step, end step, Harte label), keys and phrase labels, all relative to bar 0.

The grid
    ``beat_midi.txt`` gives one time in seconds per beat; its column 3 marks the 4/4
    downbeats of duple songs. Bar 0 starts at the first beat with column 3 = 1. A time
    in seconds maps to a fractional beat index by linear interpolation between the two
    surrounding beat times; before the first beat and after the last one, the
    neighbouring beat length is extended. Steps are ``4 * (beat index - bar-0 beat)``.
    Triple-meter songs (``index.csv`` ``num_beats_per_measure == 3``, or a column-2
    downbeat every 3 beats when no index is given) raise :class:`UnsupportedMeterError`.

Notes
    Onsets and offsets are rounded to the nearest step (ties go to the later step, as
    :func:`engine.midifile.quantize`); a note lasts at least one step. Notes whose
    rounded onset falls before bar 0 are dropped and counted in the report.

Keys
    ``key_audio.txt`` is on the timeline of the original audio, not the MIDI one. The
    audio and MIDI timelines are assumed to differ by a constant shift, estimated as the
    start of the first non-``N`` chord in ``chord_midi.txt`` minus the start of the first
    non-``N`` chord in ``chord_audio.txt`` (0 when either is missing). Shifted key-change
    times are then mapped through the MIDI grid and rounded to the nearest bar line.
    This is an approximation: tempo drift between the recording and the MIDI is
    ignored, so a key change can land a bar early or late. The first key always starts
    at step 0.

Phrases
    ``pop909_phrase/NNN/human_label1.txt`` counts bars from the first bar of
    ``finalized_chord.txt``, whose start was trimmed by hand. The offset is estimated by
    sliding the per-beat chord roots of ``finalized_chord.txt`` over the per-beat roots
    of ``chord_midi.txt`` on the grid (the root sounding mid-beat), beat by beat, scoring
    the share of matching roots over the first :data:`PHRASE_WINDOW_BEATS` beats plus the
    share over the whole file (see :func:`align_phrases`): ``finalized_chord.txt`` was
    edited by hand (chords a beat or two longer or shorter), so a whole-song match
    drifts, while the opening alone can match a later repeat. Labels (annotator 1) are
    kept only when the window share reaches :data:`PHRASE_MIN_MATCH` and the whole-song
    share :data:`PHRASE_MIN_WHOLE`. When the
    best offset is not on one of our bar lines (about a third of the songs: the column-3
    downbeat phase and the hand-trimmed start disagree), phrases start at the nearest
    bar line of our grid (ties go to the earlier bar), so their boundaries can be up to
    two beats off.
"""

from __future__ import annotations

import csv
import logging
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.errors import InputError, UnsupportedMeterError
from engine.harmony import parse_harte, parse_key
from engine.midifile import read_midi
from engine.pianoroll import N_PITCHES, PITCH_LOW, STEPS_PER_BAR, STEPS_PER_BEAT, Note

__all__ = [
    "PHRASE_MIN_MATCH",
    "TRACKS",
    "BeatGrid",
    "ChordLabel",
    "KeyChange",
    "Phrase",
    "PhraseAlignment",
    "Pop909Song",
    "SongReport",
    "Pop909Error",
    "align_phrases",
    "data_dir_from_env",
    "load_song",
    "parse_phrase_label",
    "read_beat_grid",
    "read_index",
    "read_split_file",
]

logger = logging.getLogger(__name__)

TRACKS = ("MELODY", "BRIDGE", "PIANO")
PHRASE_MIN_MATCH = 0.6
PHRASE_MIN_WHOLE = 0.4
PHRASE_WINDOW_BEATS = 128
_PHRASE_TOKEN = re.compile(r"([A-Za-z])(\d+)")


class Pop909Error(InputError):
    """A POP909 file is missing or malformed."""


@dataclass(frozen=True)
class ChordLabel:
    start: int  # step
    end: int  # step, exclusive
    label: str  # Harte label as POP909 writes it


@dataclass(frozen=True)
class KeyChange:
    start: int  # step
    tonic: int  # pitch class
    mode: int  # 0 major, 1 minor


@dataclass(frozen=True)
class Phrase:
    start_bar: int
    n_bars: int
    letter: str


@dataclass(frozen=True)
class PhraseAlignment:
    bar_offset: int  # bar of our grid nearest to where finalized_chord.txt starts
    beat_offset: int  # beats from bar 0 to where finalized_chord.txt starts
    match_rate: float  # share of non-N window beats whose roots match at that offset
    whole_match_rate: float  # the same over the whole of finalized_chord.txt
    aligned: bool  # match_rate >= PHRASE_MIN_MATCH


@dataclass(frozen=True)
class SongReport:
    n_notes: int = 0
    dropped_before_bar0: int = 0
    outside_pitch_range: int = 0  # kept in the cache; the roll drops them later
    onset_shift_mean: float = 0.0  # mean |onset moved| in steps
    onset_shift_over_64th: int = 0  # notes whose onset moved more than a quarter step
    key_shift_seconds: float = 0.0
    phrase: PhraseAlignment | None = None


@dataclass(frozen=True)
class Pop909Song:
    song_id: str
    n_bars: int
    tracks: tuple[tuple[Note, ...], ...]  # MELODY, BRIDGE, PIANO, each sorted
    chords: tuple[ChordLabel, ...]
    keys: tuple[KeyChange, ...]
    phrases: tuple[Phrase, ...]
    report: SongReport = field(default_factory=SongReport)


@dataclass(frozen=True)
class BeatGrid:
    """Beat times (seconds, increasing) and the beat index where bar 0 starts."""

    times: np.ndarray  # float64 (n_beats,)
    bar0_beat: int

    def beat_index(self, seconds: np.ndarray) -> np.ndarray:
        """Fractional beat index (0 = first beat of the file) of each time."""
        seconds = np.asarray(seconds, dtype=np.float64)
        t = self.times
        idx = np.interp(seconds, t, np.arange(len(t), dtype=np.float64))
        first_len = t[1] - t[0]
        last_len = t[-1] - t[-2]
        before = seconds < t[0]
        after = seconds > t[-1]
        idx = np.where(before, (seconds - t[0]) / first_len, idx)
        idx = np.where(after, len(t) - 1 + (seconds - t[-1]) / last_len, idx)
        return idx

    def steps(self, seconds: np.ndarray) -> np.ndarray:
        """Fractional 16th steps from bar 0 of each time."""
        return (self.beat_index(seconds) - self.bar0_beat) * STEPS_PER_BEAT


def data_dir_from_env() -> Path | None:
    value = os.environ.get("DIFFJAM_DATA")
    return Path(value) if value else None


def read_index(path: str | os.PathLike[str]) -> dict[str, int]:
    """``index.csv`` -> {song id: num_beats_per_measure}."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        return {row["song_id"].zfill(3): int(row["num_beats_per_measure"]) for row in rows}
    except (OSError, KeyError, ValueError) as err:
        raise Pop909Error(f"Cannot read the POP909 index {os.fspath(path)!r}: {err}") from err


def read_split_file(path: str | os.PathLike[str]) -> dict[str, str]:
    """A split file (one line per subset: ``<name> <id> <id> ...``) -> {song id: name}."""
    splits: dict[str, str] = {}
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise Pop909Error(f"Cannot read the split file {os.fspath(path)!r}: {err}") from err
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        name, ids = parts[0], parts[1:]
        for song_id in ids:
            if not song_id.isdigit():
                raise Pop909Error(f"{os.fspath(path)}:{number}: {song_id!r} is not a song id")
            song_id = song_id.zfill(3)
            if song_id in splits:
                raise Pop909Error(
                    f"{os.fspath(path)}:{number}: song {song_id} is already in "
                    f"split {splits[song_id]!r}"
                )
            splits[song_id] = name
    return splits


def read_beat_grid(
    path: str | os.PathLike[str], *, beats_per_measure: int | None = None
) -> BeatGrid:
    """Read ``beat_midi.txt``; reject triple meter (see the module docstring)."""
    try:
        table = np.loadtxt(path, dtype=np.float64, ndmin=2)
    except (OSError, ValueError) as err:
        raise Pop909Error(f"Cannot read beat file {os.fspath(path)!r}: {err}") from err
    if table.shape[1] < 3 or table.shape[0] < 2:
        raise Pop909Error(
            f"{os.fspath(path)!r}: expected at least 2 rows of 3 columns, got {table.shape}"
        )
    times = table[:, 0]
    if np.any(np.diff(times) <= 0):
        raise Pop909Error(f"{os.fspath(path)!r}: beat times are not increasing")
    if beats_per_measure is None:
        unit = np.flatnonzero(table[:, 1] > 0.5)
        if len(unit) >= 3:
            beats_per_measure = int(np.median(np.diff(unit)))
    if beats_per_measure == 3:
        raise UnsupportedMeterError(
            f"{os.fspath(path)}: the song is in 3/4 (triple meter); only 4/4 is supported"
        )
    downbeats = np.flatnonzero(table[:, 2] > 0.5)
    if len(downbeats) == 0:
        raise Pop909Error(f"{os.fspath(path)!r}: no 4/4 downbeat (column 3) in the file")
    return BeatGrid(times=times, bar0_beat=int(downbeats[0]))


def _read_segments(path: Path) -> list[tuple[float, float, str]]:
    rows = []
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise Pop909Error(f"Cannot read {os.fspath(path)!r}: {err}") from err
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.strip().split("\t")
        if not parts or parts == [""]:
            continue
        if len(parts) != 3:
            raise Pop909Error(f"{path}:{number}: expected start<TAB>end<TAB>label, got {line!r}")
        try:
            rows.append((float(parts[0]), float(parts[1]), parts[2].strip()))
        except ValueError as err:
            raise Pop909Error(f"{path}:{number}: bad time in {line!r}") from err
    return rows


def parse_phrase_label(text: str) -> list[tuple[str, int]]:
    """``"i4A4B8"`` -> ``[("i", 4), ("A", 4), ("B", 8)]``."""
    text = text.strip()
    tokens = _PHRASE_TOKEN.findall(text)
    if not tokens or "".join(f"{a}{b}" for a, b in tokens) != text:
        raise Pop909Error(f"malformed phrase label {text!r}")
    return [(letter, int(n)) for letter, n in tokens]


def _finalized_roots(path: Path) -> np.ndarray:
    """Per-beat chord roots (pc, -1 for N) of ``finalized_chord.txt``."""
    roots: list[int] = []
    text = path.read_bytes().decode("utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name = line.split()[0]
        tail = line.rsplit("]", 1)[-1].split()
        try:
            duration = int(round(float(tail[-1])))
            root = int(tail[0]) if len(tail) == 2 else -1
        except (ValueError, IndexError) as err:
            raise Pop909Error(f"{path}:{number}: malformed chord line {line!r}") from err
        if name.startswith("N") or not 0 <= root <= 11:
            root = -1
        roots.extend([root] * duration)
    return np.asarray(roots, dtype=np.int64)


def _midi_roots_per_beat(grid: BeatGrid, chords: list[tuple[float, float, str]]) -> np.ndarray:
    """Chord root (pc, -1 for N or no chord) sounding in the middle of each grid beat."""
    times = grid.times
    lengths = np.diff(times, append=times[-1] + (times[-1] - times[-2]))
    mids = times + 0.5 * lengths
    starts = np.array([c[0] for c in chords])
    ends = np.array([c[1] for c in chords])
    roots = np.array([_root(c[2]) for c in chords], dtype=np.int64)
    index = np.searchsorted(starts, mids, side="right") - 1
    out = np.full(len(times), -1, dtype=np.int64)
    ok = (index >= 0) & (mids < ends[np.clip(index, 0, len(ends) - 1)])
    out[ok] = roots[index[ok]]
    return out


def _root(label: str) -> int:
    root = parse_harte(label).root
    return -1 if root is None else int(root)


def align_phrases(
    fin_roots: np.ndarray, midi_roots: np.ndarray, bar0_beat: int
) -> PhraseAlignment:
    """Where ``finalized_chord.txt`` starts on the MIDI grid (see the module docstring).

    ``fin_roots`` and ``midi_roots`` are per-beat root pitch classes (-1 for N).

    1. For every start beat of the MIDI grid, score the share of matching roots over the
       non-N beats of the first :data:`PHRASE_WINDOW_BEATS` beats (``window``) and over the
       whole file (``whole``); beats past the end of the MIDI count as misses.
    2. Keep the start with the highest ``window + whole`` (the earliest of equals): the
       window is robust to the hand edits that make a whole-song match drift, the whole
       song rules out a later repeat of the opening chords.
    3. Aligned when ``window >= PHRASE_MIN_MATCH`` and ``whole >= PHRASE_MIN_WHOLE``.
    """
    fin_roots = np.asarray(fin_roots, dtype=np.int64)
    midi_roots = np.asarray(midi_roots, dtype=np.int64)
    valid = fin_roots >= 0
    window_valid = valid.copy()
    window_valid[PHRASE_WINDOW_BEATS:] = False
    if not window_valid.any() or len(midi_roots) == 0:
        return PhraseAlignment(
            bar_offset=0, beat_offset=0, match_rate=0.0, whole_match_rate=0.0, aligned=False
        )
    padded = np.concatenate([midi_roots, np.full(len(fin_roots), -2, dtype=np.int64)])
    views = np.lib.stride_tricks.sliding_window_view(padded, len(fin_roots))[: len(midi_roots)]
    equal = views == fin_roots
    window = np.count_nonzero(equal & window_valid, axis=1) / np.count_nonzero(window_valid)
    whole = np.count_nonzero(equal & valid, axis=1) / np.count_nonzero(valid)
    best = int(np.argmax(window + whole))
    beat_offset = best - bar0_beat
    return PhraseAlignment(
        bar_offset=math.floor(beat_offset / STEPS_PER_BEAT + 0.5 - 1e-9),
        beat_offset=beat_offset,
        match_rate=float(window[best]),
        whole_match_rate=float(whole[best]),
        aligned=bool(window[best] >= PHRASE_MIN_MATCH and whole[best] >= PHRASE_MIN_WHOLE),
    )


def _key_shift(chord_midi: list[tuple[float, float, str]], audio_path: Path) -> float:
    if not audio_path.exists():
        return 0.0
    chord_audio = _read_segments(audio_path)
    first_midi = next((s for s, _, label in chord_midi if label != "N"), None)
    first_audio = next((s for s, _, label in chord_audio if label != "N"), None)
    if first_midi is None or first_audio is None:
        return 0.0
    return first_midi - first_audio


def _read_keys(path: Path, grid: BeatGrid, *, key_shift: float,
               total_steps: int) -> list[KeyChange]:
    """The key changes of ``key_audio.txt`` (audio seconds, moved by ``key_shift``) on whole
    bars: the first at step 0, two in one bar the later one, a repeat of the key dropped."""
    keys: list[KeyChange] = []
    key_rows = _read_segments(path)
    if not key_rows:
        return keys
    k_steps = grid.steps(np.array([r[0] for r in key_rows]) + key_shift)
    for (_, _, label), step in zip(key_rows, k_steps, strict=True):
        key = parse_key(label)
        start = 0 if not keys else max(0, math.floor(step / STEPS_PER_BAR + 0.5)) * 16
        if start >= total_steps:
            break
        change = KeyChange(start=start, tonic=key.tonic, mode=int(key.mode == "minor"))
        if keys and keys[-1].start == start:
            keys.pop()  # two changes in one bar: the later one wins
        if not keys or (keys[-1].tonic, keys[-1].mode) != (change.tonic, change.mode):
            keys.append(change)
    return keys


def _read_phrases(path: Path, *, bar_offset: int, n_bars: int) -> list[Phrase]:
    """The phrases of ``human_label1.txt`` from bar ``bar_offset``, cut to ``n_bars``."""
    song_phrases: list[Phrase] = []
    bar = bar_offset
    for letter, length in parse_phrase_label(path.read_text(encoding="utf-8")):
        lo, hi = max(0, bar), min(n_bars, bar + length)
        if hi > lo:
            song_phrases.append(Phrase(start_bar=lo, n_bars=hi - lo, letter=letter))
        bar += length
    return song_phrases


def load_song(
    data_dir: str | os.PathLike[str],
    song_id: str,
    *,
    beats_per_measure: int | None = None,
    phrases: bool = True,
) -> Pop909Song:
    """Read one song of ``<data_dir>/pop909`` (and its phrase labels) onto the grid.

    Raises :class:`UnsupportedMeterError` for triple-meter songs and
    :class:`Pop909Error` for missing or malformed files.
    """
    data_dir = Path(data_dir)
    song_id = song_id.zfill(3)
    folder = data_dir / "pop909" / song_id
    if not folder.is_dir():
        raise Pop909Error(f"no POP909 song folder {os.fspath(folder)!r}")
    try:
        grid = read_beat_grid(folder / "beat_midi.txt", beats_per_measure=beats_per_measure)
    except UnsupportedMeterError as err:
        raise UnsupportedMeterError(f"Song {song_id}: {err}") from err

    # 1. notes
    midi = read_midi(folder / f"{song_id}.mid")
    tracks: list[tuple[Note, ...]] = []
    n_notes = dropped = outside = over = 0
    shift_sum = 0.0
    for name in TRACKS:
        try:
            timed = midi.track(name).notes
        except KeyError:
            logger.warning("song %s has no %s track", song_id, name)
            tracks.append(())
            continue
        if not timed:
            tracks.append(())
            continue
        on = grid.steps(np.array([n.start_seconds for n in timed]))
        off = grid.steps(np.array([n.end_seconds for n in timed]))
        start = np.floor(on + 0.5).astype(np.int64)
        end = np.floor(off + 0.5).astype(np.int64)
        moved = np.abs(on - start)
        notes = []
        for i, note in enumerate(timed):
            if start[i] < 0:
                dropped += 1
                continue
            n_notes += 1
            shift_sum += float(moved[i])
            over += bool(moved[i] > 0.25)
            outside += not PITCH_LOW <= note.pitch < PITCH_LOW + N_PITCHES
            notes.append(
                Note(
                    start=int(start[i]),
                    pitch=note.pitch,
                    duration=max(1, int(end[i] - start[i])),
                    velocity=note.velocity,
                )
            )
        tracks.append(tuple(sorted(notes)))
    last = max((n.end for track in tracks for n in track), default=0)
    n_bars = max(1, math.ceil(last / STEPS_PER_BAR))
    total_steps = n_bars * STEPS_PER_BAR

    # 2. chords
    chord_rows = _read_segments(folder / "chord_midi.txt")
    chords = []
    if chord_rows:
        c_start = np.floor(grid.steps(np.array([r[0] for r in chord_rows])) + 0.5).astype(int)
        c_end = np.floor(grid.steps(np.array([r[1] for r in chord_rows])) + 0.5).astype(int)
        for (_, _, label), s, e in zip(chord_rows, c_start, c_end, strict=True):
            s, e = max(0, int(s)), min(total_steps, int(e))
            if e > s:
                parse_harte(label)  # validate: raises ChordSymbolError naming the label
                chords.append(ChordLabel(start=s, end=e, label=label))

    # 3. keys
    key_shift = _key_shift(chord_rows, folder / "chord_audio.txt")
    keys = _read_keys(folder / "key_audio.txt", grid, key_shift=key_shift,
                      total_steps=total_steps)

    # 4. phrases
    song_phrases: list[Phrase] = []
    alignment = None
    phrase_folder = data_dir / "pop909_phrase" / song_id
    if phrases and phrase_folder.is_dir() and chord_rows:
        alignment = align_phrases(
            _finalized_roots(phrase_folder / "finalized_chord.txt"),
            _midi_roots_per_beat(grid, chord_rows),
            grid.bar0_beat,
        )
        if alignment.aligned:
            song_phrases = _read_phrases(phrase_folder / "human_label1.txt",
                                         bar_offset=alignment.bar_offset, n_bars=n_bars)

    report = SongReport(
        n_notes=n_notes,
        dropped_before_bar0=dropped,
        outside_pitch_range=outside,
        onset_shift_mean=shift_sum / n_notes if n_notes else 0.0,
        onset_shift_over_64th=over,
        key_shift_seconds=key_shift,
        phrase=alignment,
    )
    return Pop909Song(
        song_id=song_id,
        n_bars=n_bars,
        tracks=tuple(tracks),
        chords=tuple(chords),
        keys=tuple(keys),
        phrases=tuple(song_phrases),
        report=report,
    )
