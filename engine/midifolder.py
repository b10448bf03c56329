"""A folder of the user's MIDI files as a training cache (``diffjam cache --midi DIR``).

Every ``.mid`` / ``.midi`` file under the folder (type 0 or 1, any ticks per beat, tempo
changes allowed: the grid is in beats) is read by :func:`engine.clipfile.read_clip_file`
in 4/4 bars from its first tick; 2/4 and 1/4 are regrouped, other meters are skipped and
counted. Drum notes (channel 10) are ignored. Each file becomes one song of the cache
(:func:`engine.cache.write_songs`, the format POP909's cache has), so training reads it
unchanged.

1. **Parts.** The pitched notes of a file are split into parts, one per (track, channel):
   a type-0 file keeps its instruments apart.
2. **Roles** (cache tracks 0 melody, 1 bridge, 2 piano/accompaniment), first rule that
   applies:

   a. the mapping file (``--track-map``, JSON) names the part's track, by name
      (case-insensitive) or by 1-based number, for this file or for every file::

          {"tracks": {"vocal": "melody", "strings": "ignore"},
           "files": {"song 3.mid": {"2": "melody", "4": "bridge"}}}

      roles: ``melody``, ``bridge``, ``piano``, ``ignore``;
   b. the track name says it (``NAME_ROLES``: "melody", "lead", "vocal", "voice" ->
      melody; "bridge", "counter" -> bridge); POP909's MELODY / BRIDGE / PIANO are read
      this way;
   c. otherwise, when no part got the melody by (a) or (b), the melody is the part of
      the highest mean pitch among the mostly monophonic ones (at most
      ``MAX_POLYPHONY`` of its onset steps sound with another note of the part, at least
      ``MIN_MELODY_NOTES`` notes); the instrument programs of ordinary files say too
      little (a lead is as often a piano as a synth), so they are not used;
   d. every other part is the accompaniment (track 2). A file with no melody found is
      kept, with its melody track empty (the model then learns it as accompaniment only).
3. **Chords** are recognised every half bar (``CHORD_WINDOW_STEPS``) by
   :func:`engine.harmony.recognize_chord_from_notes` over the bridge and accompaniment
   (the melody's passing notes would blur them; over every note when there is no
   accompaniment), and equal neighbours are merged into one span. ``diffjam cache
   --midi`` on POP909's own files can be compared with its labels (see the README).
4. **Key**: one per song, :func:`engine.harmony.estimate_key` over the duration-weighted
   pitch classes of every note (imported when needed: it lives with the torch pipeline).
5. **Splits**: ``valid_share`` of the songs (at least one when there are two or more) are
   held out as ``valid``: those with the smallest SHA-1 of their relative path, so the
   choice does not depend on the order files are found in, and adding files moves few.
   Songs shorter than the training window (``min_bars``) are skipped: no window fits.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import smf
from engine.cache import write_songs
from engine.clipfile import ClipFile, read_clip_file
from engine.errors import InputError
from engine.harmony import estimate_key, recognize_chord_from_notes
from engine.midifile import quantize
from engine.pianoroll import STEPS_PER_BAR, Note
from engine.pop909 import ChordLabel, KeyChange, Pop909Song

__all__ = [
    "CHORD_WINDOW_STEPS",
    "FolderReport",
    "TrackMap",
    "assign_roles",
    "build_midi_cache",
    "read_track_map",
]

logger = logging.getLogger(__name__)

ROLES = ("melody", "bridge", "piano")
NAME_ROLES = {"melody": 0, "lead": 0, "vocal": 0, "voice": 0, "bridge": 1, "counter": 1}
MAX_POLYPHONY = 0.2
MIN_MELODY_NOTES = 16
CHORD_WINDOW_STEPS = STEPS_PER_BAR // 2
MIDI_SUFFIXES = (".mid", ".midi")
MAX_BARS = np.iinfo(np.int16).max // STEPS_PER_BAR


@dataclass(frozen=True)
class TrackMap:
    """Roles given by the user: track name (lower case) or 1-based number -> role index
    (0 melody, 1 bridge, 2 piano, None = ignore), for every file and per file name."""

    tracks: dict[str, int | None] = field(default_factory=dict)
    files: dict[str, dict[str, int | None]] = field(default_factory=dict)

    def maps(self, file_name: str, track_number: int, track_name: str) -> bool:
        """Whether the map gives this track of this file a role (``ignore`` included)."""
        return self._entry(file_name, track_number, track_name) is not None

    def role(self, file_name: str, track_number: int, track_name: str) -> int | None:
        """The mapped role (None: ignored); KeyError when the map does not name it."""
        entry = self._entry(file_name, track_number, track_name)
        if entry is None:
            raise KeyError(f"{file_name} track {track_number} {track_name!r} is not mapped")
        table, key = entry
        return table[key]

    def _entry(self, file_name: str, track_number: int, track_name: str
               ) -> tuple[dict[str, int | None], str] | None:
        """The table and key naming the track: this file's first, by number, then name."""
        for table in (self.files.get(file_name, {}), self.tracks):
            for key in (str(track_number), track_name.strip().lower()):
                if key in table:
                    return table, key
        return None


def _role_index(value: object, where: str) -> int | None:
    if value == "ignore":
        return None
    if value not in ROLES:
        raise InputError(f"{where}: role {value!r} is not one of melody, bridge, piano, ignore")
    return ROLES.index(str(value))


def read_track_map(path: str | os.PathLike[str]) -> TrackMap:
    """Read a mapping file (see the module docstring); unknown keys and roles are errors."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as err:
        raise InputError(f"cannot read the track map {os.fspath(path)!r}: {err}") from err
    if not isinstance(data, dict) or set(data) - {"tracks", "files"}:
        raise InputError(f"{os.fspath(path)}: expected an object with 'tracks' and/or 'files'")

    def table(value: object, where: str) -> dict[str, int | None]:
        if not isinstance(value, dict):
            raise InputError(f"{where}: expected an object of track -> role")
        return {str(k).strip().lower(): _role_index(v, f"{where}[{k!r}]") for k, v in value.items()}

    files = data.get("files", {})
    if not isinstance(files, dict):
        raise InputError(f"{os.fspath(path)}: 'files' must be an object of file name -> tracks")
    return TrackMap(
        tracks=table(data.get("tracks", {}), "tracks"),
        files={name: table(v, f"files[{name!r}]") for name, v in files.items()},
    )


@dataclass(frozen=True)
class Part:
    """The pitched notes of one channel of one track, on the 16th grid."""

    track: int  # 0-based track of the file
    channel: int
    name: str
    notes: tuple[Note, ...]

    @property
    def mean_pitch(self) -> float:
        return float(np.mean([n.pitch for n in self.notes]))

    @property
    def polyphony(self) -> float:
        """Share of the part's onset steps at which another of its notes sounds."""
        ends = np.array([n.end for n in self.notes])
        starts = np.array([n.start for n in self.notes])
        onsets = np.unique(starts)
        sounding = [int(np.sum((starts <= t) & (ends > t))) for t in onsets]
        return float(np.mean(np.array(sounding) > 1))


def _name_role(name: str) -> int | None:
    words = name.strip().lower()
    for word, role in NAME_ROLES.items():
        if word in words:
            return role
    return None


def assign_roles(parts: Sequence[Part], *, file_name: str = "",
                 track_map: TrackMap | None = None) -> list[int | None]:
    """The role of each part (0 melody, 1 bridge, 2 piano, None ignored): rules 2a-2d of
    the module docstring."""
    roles: list[int | None] = []
    unknown: list[int] = []  # parts no rule has named yet
    for i, part in enumerate(parts):
        if track_map is not None and track_map.maps(file_name, part.track + 1, part.name):
            roles.append(track_map.role(file_name, part.track + 1, part.name))
            continue
        named = _name_role(part.name)
        if named is None:
            unknown.append(i)
        roles.append(2 if named is None else named)  # 2d, unless 2c makes it the melody
    if 0 not in roles:
        candidates = [i for i in unknown if len(parts[i].notes) >= MIN_MELODY_NOTES
                      and parts[i].polyphony <= MAX_POLYPHONY]
        if candidates:
            roles[max(candidates, key=lambda i: parts[i].mean_pitch)] = 0
    return roles


def _parts(clip: ClipFile) -> list[Part]:
    tpb = clip.grid.ticks_per_beat
    parts = []
    for track, notes in enumerate(clip.notes):
        by_channel: dict[int, list[Note]] = {}
        for n in notes:
            if n.channel == smf.DRUM_CHANNEL:
                continue
            start, duration = quantize(n.start / tpb, n.end / tpb)
            by_channel.setdefault(n.channel, []).append(
                Note(start=start, pitch=n.pitch, duration=duration, velocity=max(1, n.velocity)))
        for channel, found in sorted(by_channel.items()):
            parts.append(Part(track, channel, clip.names[track], tuple(sorted(found))))
    return parts


def _chords(tracks: Sequence[Sequence[Note]], n_bars: int) -> tuple[ChordLabel, ...]:
    """Step 3: chords per half bar over the bridge and accompaniment, equal ones merged."""
    notes = [*tracks[1], *tracks[2]] or list(tracks[0])
    spans: list[ChordLabel] = []
    for start in range(0, n_bars * STEPS_PER_BAR, CHORD_WINDOW_STEPS):
        stop = start + CHORD_WINDOW_STEPS
        window = [n for n in notes if n.start < stop and n.end > start]
        label = recognize_chord_from_notes(window, start=start, stop=stop).harte()
        if spans and spans[-1].label == label:
            spans[-1] = ChordLabel(spans[-1].start, stop, label)
        else:
            spans.append(ChordLabel(start, stop, label))
    return tuple(spans)


def _key(tracks: Sequence[Sequence[Note]]) -> tuple[KeyChange, ...]:
    """Step 4: one key for the song (major 0, minor 1)."""
    weights = np.zeros(12)
    for notes in tracks:
        for n in notes:
            weights[n.pitch % 12] += n.duration
    key = estimate_key(weights)
    return () if key is None else (KeyChange(0, key.tonic, int(key.mode == "minor")),)


def read_song(path: Path, song_id: str, *, track_map: TrackMap | None = None) -> Pop909Song:
    """One file as a song of the cache (steps 1-4). Raises InputError (and its
    subclasses: unreadable file, unsupported meter) for a file that cannot be used."""
    clip = read_clip_file(path)
    parts = _parts(clip)
    if not parts:
        raise InputError(f"{path.name} has only drum notes")
    roles = assign_roles(parts, file_name=path.name, track_map=track_map)
    tracks: list[list[Note]] = [[], [], []]
    for part, role in zip(parts, roles, strict=True):
        if role is not None:
            tracks[role].extend(part.notes)
    if not any(tracks):
        raise InputError(f"{path.name}: every part is ignored by the track map")
    if clip.n_bars > MAX_BARS:
        raise InputError(f"{path.name} is longer than {MAX_BARS} bars")
    return Pop909Song(
        song_id=song_id,
        n_bars=clip.n_bars,
        tracks=tuple(tuple(sorted(t)) for t in tracks),
        chords=_chords(tracks, clip.n_bars),
        keys=_key(tracks),
        phrases=(),
    )


@dataclass(frozen=True)
class FolderReport:
    files: int
    kept: dict[str, str]  # song id -> split
    skipped: dict[str, str]  # relative path -> reason
    bars: int
    notes: int
    no_melody: int  # kept songs whose melody track is empty

    def reasons(self) -> Counter[str]:
        """Skipped files by kind of reason (the error class, or the short reason)."""
        return Counter(reason.split(":")[0] for reason in self.skipped.values())

    def to_dict(self) -> dict[str, Any]:
        return {"files": self.files, "kept": len(self.kept), "skipped": self.skipped,
                "bars": self.bars, "notes": self.notes, "no_melody": self.no_melody}


def midi_files(folder: Path) -> list[Path]:
    """The MIDI files under ``folder`` (recursively), sorted."""
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in MIDI_SUFFIXES
                  and p.is_file())


def _valid_ids(ids: Iterable[str], share: float) -> set[str]:
    ordered = sorted(ids, key=lambda s: hashlib.sha1(s.encode()).hexdigest())
    if len(ordered) < 2 or share <= 0:
        return set()
    return set(ordered[: max(1, round(share * len(ordered)))])


def build_midi_cache(
    folder: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    track_map: TrackMap | None = None,
    valid_share: float = 0.1,
    min_bars: int = 8,
    progress: Callable[[int, int], None] | None = None,
) -> FolderReport:
    """Read every MIDI file under ``folder`` and write the cache ``out`` (module
    docstring); raises InputError when no file can be used."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"no such folder: {folder}")
    if not 0.0 <= valid_share < 1.0:
        raise InputError(f"the valid share must be in [0, 1), got {valid_share}")
    paths = midi_files(folder)
    songs: list[Pop909Song] = []
    skipped: dict[str, str] = {}
    for i, path in enumerate(paths, start=1):
        song_id = path.relative_to(folder).with_suffix("").as_posix()
        try:
            song = read_song(path, song_id, track_map=track_map)
        except InputError as err:
            skipped[song_id] = f"{type(err).__name__}: {err}"
        else:
            if song.n_bars < min_bars:
                skipped[song_id] = f"too short: {song.n_bars} bars, the training window " \
                                   f"is {min_bars}"
            else:
                songs.append(song)
        if progress:
            progress(i, len(paths))
    for song_id, reason in skipped.items():
        logger.debug("%s skipped: %s", song_id, reason)
    if not songs:
        raise InputError(f"no usable MIDI file among the {len(paths)} under {folder}")
    valid = _valid_ids((s.song_id for s in songs), valid_share)
    splits = {s.song_id: "valid" if s.song_id in valid else "train" for s in songs}
    report = FolderReport(
        files=len(paths), kept=splits, skipped=skipped,
        bars=sum(s.n_bars for s in songs),
        notes=sum(len(t) for s in songs for t in s.tracks),
        no_melody=sum(not s.tracks[0] for s in songs),
    )
    write_songs(out, songs, splits, source=f"MIDI folder {folder.name}", report=report.to_dict())
    return report
