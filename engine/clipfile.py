"""A user's MIDI file as the pipeline's input, and the pipeline's new notes spliced back
into it: what ``diffjam infill`` and ``diffjam accompany --melody`` write.

Reading (:func:`read_clip_file`): the file is kept as it is, event for event; the model
sees its notes on the 16th grid of 4/4 bars counted from the file's first tick
(:func:`smf.bar_grid`: 2/4 and 1/4 are regrouped, other meters are refused). Drum notes
(channel 10) are never shown to the model.

Infill (:func:`infill_file`):

1. the regenerated tracks are the ones picked (default: every track with notes); their
   notes outside the target bars are the part's context;
2. when other tracks hold notes, they stay as they are and the model hears them as the
   melody it accompanies (the accompaniment task it was trained on: POP909's piano
   under its melody and bridge); otherwise the model infills the part alone;
3. the new notes (16th steps -> ticks at the file's resolution, optionally moved by the
   context's groove, :func:`smf.groove_offsets`) replace the notes that start in the
   target bars on the regenerated tracks, on the one of them with the most notes and
   its most used channel; everything else in the file is kept (:func:`smf.splice_notes`
   states the rules).

Velocities of new notes come from the context's dynamics (:mod:`engine.dynamics`).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mido

import smf
from engine.errors import BarRangeError, InputError, UnsupportedMeterError
from engine.harmony import ChordSpan
from engine.midifile import MidiFileError, open_midi
from engine.pianoroll import STEPS_PER_BAR, STEPS_PER_BEAT, Note
from engine.register import crossings
from engine.sampling import BarRange, Result, SamplingOptions

__all__ = [
    "ClipFile",
    "FileInfill",
    "accompaniment_file",
    "check_outputs",
    "infill_file",
    "output_paths",
    "pick_tracks",
    "read_clip_file",
    "save_midi",
    "write_atomically",
]

ACCOMPANIMENT_TRACK = "diffjam accompaniment"
MIN_GROOVE_NOTES = 8


@dataclass(frozen=True)
class ClipFile:
    """A MIDI file: ``midi`` exactly as read, its 4/4 ``grid``, each track's notes in
    ticks and display name, and its length in whole bars (at least 1)."""

    path: Path
    midi: mido.MidiFile
    grid: smf.BarGrid
    notes: tuple[tuple[smf.TickNote, ...], ...]
    names: tuple[str, ...]
    n_bars: int

    @property
    def name(self) -> str:
        return self.path.name

    def pitched(self, tracks: Iterable[int]) -> list[smf.TickNote]:
        """The notes of ``tracks`` that are not drums, in ticks."""
        return [n for t in tracks for n in self.notes[t] if n.channel != smf.DRUM_CHANNEL]

    def steps(self, tracks: Iterable[int]) -> tuple[Note, ...]:
        """The pitched notes of ``tracks`` on the 16th grid (what the model sees)."""
        return tuple(sorted(_to_steps(n, self.grid.ticks_per_beat) for n in self.pitched(tracks)))

    def note_tracks(self) -> tuple[int, ...]:
        """The tracks that hold pitched notes."""
        return tuple(t for t in range(len(self.notes)) if self.pitched([t]))

    def describe(self) -> str:
        """The tracks, numbered from 1, for error messages."""
        return ", ".join(f"{t + 1} {self.names[t]!r} ({len(self.pitched([t]))} notes)"
                         for t in range(len(self.notes)))


def _to_steps(note: smf.TickNote, ticks_per_beat: int) -> Note:
    """Onset and offset to the nearest 16th (ties up, as engine.midifile.quantize), at
    least one step long; velocity at least 1."""
    start = (note.start * STEPS_PER_BEAT * 2 + ticks_per_beat) // (2 * ticks_per_beat)
    end = (note.end * STEPS_PER_BEAT * 2 + ticks_per_beat) // (2 * ticks_per_beat)
    return Note(start=start, pitch=note.pitch, duration=max(1, end - start),
                velocity=max(1, note.velocity))


def _to_ticks(note: Note, ticks_per_beat: int) -> smf.NewNote:
    def tick(step: int) -> int:
        return (step * ticks_per_beat * 2 + STEPS_PER_BEAT) // (2 * STEPS_PER_BEAT)
    start, end = tick(note.start), tick(note.end)
    return smf.NewNote(start, max(end, start + 1), note.pitch, note.velocity)


def read_clip_file(path: Path) -> ClipFile:
    """Read a Standard MIDI File (format 0 or 1, any ticks per beat).

    Raises InputError for a missing file or one without notes, MidiFileError for an
    unreadable one and UnsupportedMeterError for a meter diffjam cannot read in 4/4 bars.
    """
    if not path.is_file():
        raise InputError(f"no such MIDI file: {path}")
    midi = open_midi(path)
    try:
        grid = smf.bar_grid(midi, name=path.name)
    except smf.MeterError as err:
        raise UnsupportedMeterError(str(err)) from err
    notes = tuple(tuple(smf.track_notes(track)) for track in midi.tracks)
    names = tuple(track.name.strip() or f"track {i + 1}" for i, track in enumerate(midi.tracks))
    last = max((n.end for track in notes for n in track), default=0)
    if not any(notes):
        raise InputError(f"{path.name} has no notes")
    n_bars = max(1, -(-last // grid.ticks_per_bar))
    return ClipFile(path=path, midi=midi, grid=grid, notes=notes, names=names, n_bars=n_bars)


def pick_tracks(clip: ClipFile, wanted: Sequence[str] | None) -> tuple[int, ...]:
    """Track indices (0-based) for ``--track`` values: a name (case-insensitive) or a
    number from 1; every track with pitched notes when ``wanted`` is empty."""
    if not wanted:
        found = clip.note_tracks()
        if not found:
            raise InputError(f"{clip.name} has no notes other than drums (channel 10)")
        return found
    picked: list[int] = []
    for text in wanted:
        by_name = [t for t, name in enumerate(clip.names)
                   if name.lower() == text.strip().lower()]
        if by_name:
            index = by_name[0]
        elif text.strip().isdigit() and 1 <= int(text) <= len(clip.names):
            index = int(text) - 1
        else:
            raise InputError(f"{clip.name} has no track {text!r} (tracks: {clip.describe()})")
        if not clip.pitched([index]) and clip.notes[index]:
            raise InputError(f"track {clip.names[index]!r} holds drums (channel 10) only; "
                             "diffjam writes pitched notes")
        if index == 0 and clip.midi.type == 1 and not clip.notes[0] and len(clip.names) > 1:
            raise InputError(f"track 1 of {clip.name} is its tempo track; pick a track with "
                             f"notes (tracks: {clip.describe()})")
        if index not in picked:
            picked.append(index)
    return tuple(sorted(picked))


def _free_channel(midi: mido.MidiFile) -> int:
    channel = smf.free_channel(midi)
    if channel is None:
        raise InputError("every melodic MIDI channel of the file is in use")
    return channel


def _target_track(clip: ClipFile, tracks: Sequence[int]) -> tuple[int, int]:
    """(track, channel) the new notes go to: the regenerated track with the most pitched
    notes (the first on a tie) and its most used channel (a free one if it has none)."""
    into = max(tracks, key=lambda t: (len(clip.pitched([t])), -t))
    channel = smf.main_channel(clip.notes[into])
    return into, _free_channel(clip.midi) if channel is None else channel


@dataclass(frozen=True)
class FileInfill:
    """What :func:`infill_file` made: one file per variation with the splice's counts,
    the pipeline's result, the regenerated tracks, the track and channel the new notes
    went to, the kept tracks the model accompanied (empty: plain infill), and per
    variation how many new notes cross the melody (:mod:`engine.register`)."""

    files: tuple[mido.MidiFile, ...]
    splices: tuple[smf.Splice, ...]
    result: Result
    tracks: tuple[int, ...]
    into: int
    channel: int
    under: tuple[int, ...]
    crossings: tuple[int, ...]
    new_notes: tuple[int, ...]


def infill_file(clip: ClipFile, pipeline: Any, *, bars: BarRange, tracks: Sequence[int],
                chords: Sequence[ChordSpan] | None = None,
                options: SamplingOptions = SamplingOptions(), groove: bool = False
                ) -> FileInfill:
    """Regenerate ``bars`` of ``tracks`` of ``clip`` (steps 1-3 of the module docstring)
    with ``pipeline`` (an :class:`engine.pipeline.Pipeline` or a stand-in with its
    ``infill`` and ``accompany``)."""
    if bars.stop > clip.n_bars:
        raise BarRangeError(f"bars {bars} lie outside {clip.name}, which has "
                            f"{clip.n_bars} bars")
    lo, hi = bars.start * STEPS_PER_BAR, bars.stop * STEPS_PER_BAR
    # 1.
    part = clip.steps(tracks)
    context = [n for n in part if not lo <= n.start < hi]
    others = tuple(t for t in clip.note_tracks() if t not in tracks)
    melody = list(clip.steps(others))
    if options.below_melody and not melody:
        raise InputError("--below-melody keeps new notes under the tracks that are not "
                         f"regenerated, and {clip.name} has none with notes: pick the tracks "
                         f"to regenerate with --track (tracks: {clip.describe()})")
    # 2.
    if melody:  # the pipeline infers chords from the kept tracks when none are given
        result = pipeline.accompany(chords or [], n_bars=clip.n_bars, melody=melody,
                                    options=options, context=context, bars=bars)
    else:
        if not context:
            raise InputError(f"{clip.name} has no notes outside bars {bars} to infill "
                             "around; use generate instead")
        result = pipeline.infill(context, n_bars=clip.n_bars, bars=bars, chords=chords,
                                 options=options)
    # 3.
    tpb = clip.grid.ticks_per_beat
    start, stop = clip.grid.bar_start(bars.start), clip.grid.bar_start(bars.stop)
    into, channel = _target_track(clip, tracks)
    offsets = None
    if groove:
        feel = [n for n in clip.pitched(tracks) if not start <= n.start < stop]
        if len(feel) < MIN_GROOVE_NOTES:
            feel = [n for n in clip.pitched(range(len(clip.notes)))
                    if not start <= n.start < stop]
        offsets = smf.groove_offsets(feel, ticks_per_beat=tpb)
    files, splices, crossed, counts = [], [], [], []
    for variation in result.variations:
        new = [n for n in variation if lo <= n.start < hi]
        crossed.append(crossings(new, melody))
        counts.append(len(new))
        ticks = [_to_ticks(n, tpb) for n in new]
        if offsets is not None:
            ticks = smf.apply_groove(ticks, offsets, ticks_per_beat=tpb, start=start, stop=stop)
        done = smf.splice_notes(clip.midi, tracks=tracks, start=start, stop=stop, notes=ticks,
                                into=into, channel=channel)
        files.append(done.midi)
        splices.append(done)
    return FileInfill(files=tuple(files), splices=tuple(splices), result=result,
                      tracks=tuple(tracks), into=into, channel=channel, under=others,
                      crossings=tuple(crossed), new_notes=tuple(counts))


def accompaniment_file(melody: ClipFile, notes: Sequence[Note]) -> tuple[mido.MidiFile, int]:
    """The melody file with one more track, ``ACCOMPANIMENT_TRACK``, holding ``notes``
    (steps) on a channel no message of the file uses (piano, program 1); returns the
    file and that channel."""
    channel = _free_channel(melody.midi)
    tpb = melody.grid.ticks_per_beat
    midi = smf.add_track(melody.midi, name=ACCOMPANIMENT_TRACK,
                         notes=[_to_ticks(n, tpb) for n in notes], channel=channel)
    return midi, channel


def output_paths(out: Path, variations: int) -> list[Path]:
    """``out``, or ``OUT-1.mid``, ``OUT-2.mid``, ... for several variations."""
    if variations == 1:
        return [out]
    return [out.with_name(f"{out.stem}-{i + 1}{out.suffix}") for i in range(variations)]


def check_outputs(paths: Sequence[Path], *, inputs: Sequence[Path] = (),
                  force: bool = False) -> None:
    """Refuse to write into a folder that does not exist, over an input file or over an
    existing file (the last two unless ``force``). Raises InputError."""
    for path in paths:
        if not path.parent.is_dir():
            raise InputError(f"the folder {path.parent} does not exist; create it first")
        if path.is_dir():
            raise InputError(f"{path} is a folder; give a file name to write")
        if force:
            continue
        for source in inputs:
            if path.exists() and source.exists() and os.path.samefile(path, source):
                raise InputError(f"{path} is the input file {source}; writing it would "
                                 "replace your music: pick another name, or pass --force")
        if path.exists():
            raise InputError(f"{path} exists; pick another name, or pass --force to "
                             "overwrite it")


def save_midi(midi: mido.MidiFile, path: Path) -> None:
    """Write ``midi`` to ``path`` atomically (:func:`write_atomically`)."""
    write_atomically(path, lambda temp: midi.save(temp))


def write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Let ``write`` write a temporary file in ``path``'s folder, then move it onto
    ``path``, so a failed write leaves the old file (which may be the input) as it was.
    The file gets the old file's permissions, or rw-r--r--."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    temp = Path(name)
    try:
        write(temp)
        os.chmod(temp, mode)
        os.replace(temp, path)
    except OSError as err:
        raise MidiFileError(f"Cannot write MIDI file {os.fspath(path)!r}: {err}") from err
    finally:
        temp.unlink(missing_ok=True)
