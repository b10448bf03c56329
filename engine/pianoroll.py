"""Notes and piano rolls: the engine's internal representation of a clip.

Time is in 16th-note steps (``STEPS_PER_BEAT`` a quarter note), bar 1 beat 1 = step 0.
A roll is a float32 array of shape ``(3, n_steps, N_PITCHES)`` with the channels
onset, sustain and velocity/127, all in [0, 1]:

- ``onset[t, p] = 1`` on the step a note starts;
- ``sustain[t, p] = 1`` on every *following* step it still sounds (not the onset step);
- ``velocity[t, p] = velocity / 127`` on every step the note sounds.

Only 4/4 is supported; any other meter raises :class:`UnsupportedMeterError`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import attrgetter

import numpy as np

from engine.errors import UnsupportedMeterError

__all__ = [
    "CHANNELS",
    "DEFAULT_VELOCITY",
    "NOTE_ORDER",
    "N_PITCHES",
    "PITCH_HIGH",
    "PITCH_LOW",
    "STEPS_PER_BAR",
    "STEPS_PER_BEAT",
    "Note",
    "PianoRoll",
    "TimeSignature",
    "UnsupportedMeterError",
    "decode_roll",
    "density_hint",
    "notes_from_arrays",
    "notes_to_roll",
    "roll_to_notes",
]

STEPS_PER_BEAT = 4
STEPS_PER_BAR = 16
PITCH_LOW = 24  # C1, inclusive
N_PITCHES = 80  # C1..G7 (24..103)
PITCH_HIGH = PITCH_LOW + N_PITCHES - 1  # 103, inclusive
DEFAULT_VELOCITY = 80  # a decoded note's velocity where the roll gives none
CHANNELS = ("onset", "sustain", "velocity")

_VALID_DENOMINATORS = (1, 2, 4, 8, 16, 32, 64)


@dataclass(frozen=True)
class TimeSignature:
    """A time signature such as 4/4; only 4/4 is supported by the models."""

    numerator: int = 4
    denominator: int = 4

    def __post_init__(self) -> None:
        if not isinstance(self.numerator, int) or not 1 <= self.numerator <= 64:
            raise ValueError(f"time signature numerator must be 1..64, got {self.numerator!r}")
        if self.denominator not in _VALID_DENOMINATORS:
            raise ValueError(
                f"time signature denominator must be a power of two 1..64, "
                f"got {self.denominator!r}"
            )

    def __str__(self) -> str:
        return f"{self.numerator}/{self.denominator}"

    @property
    def is_supported(self) -> bool:
        return (self.numerator, self.denominator) == (4, 4)

    @property
    def steps_per_bar(self) -> int:
        """16th-note steps in one bar (16 for 4/4, 12 for 3/4, 6 for 6/8)."""
        return self.numerator * 16 // self.denominator

    def require_supported(self) -> None:
        """Raise :class:`UnsupportedMeterError` unless this is 4/4."""
        if not self.is_supported:
            raise UnsupportedMeterError(
                f"Time signature {self} is not supported: diffjam only handles 4/4."
            )


@dataclass(frozen=True, order=True)
class Note:
    """One note on the 16th grid.

    ``start`` in steps from the clip start (>= 0), ``pitch`` MIDI 0..127,
    ``duration`` in steps (>= 1), ``velocity`` 1..127.
    """

    start: int
    pitch: int
    duration: int
    velocity: int = 80

    def __post_init__(self) -> None:
        for name in ("start", "pitch", "duration", "velocity"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"Note.{name} must be an int, got {value!r}")
            object.__setattr__(self, name, int(value))
        if self.start < 0:
            raise ValueError(f"Note.start must be >= 0, got {self.start}")
        if not 0 <= self.pitch <= 127:
            raise ValueError(f"Note.pitch must be a MIDI pitch 0..127, got {self.pitch}")
        if self.duration < 1:
            raise ValueError(f"Note.duration must be >= 1 step, got {self.duration}")
        if not 1 <= self.velocity <= 127:
            raise ValueError(f"Note.velocity must be 1..127, got {self.velocity}")

    @classmethod
    def trusted(cls, start: int, pitch: int, duration: int, velocity: int) -> Note:
        """A note from Python ints the caller has already checked (a decoded roll's): the
        same note as ``Note(...)`` without checking each field again."""
        note = object.__new__(cls)
        fields = note.__dict__  # a frozen dataclass's fields, written as its __init__ does
        fields["start"] = start
        fields["pitch"] = pitch
        fields["duration"] = duration
        fields["velocity"] = velocity
        return note

    @property
    def end(self) -> int:
        """First step after the note (exclusive)."""
        return self.start + self.duration


# A sort key giving notes their dataclass order (start, pitch, duration, velocity) without
# comparing them field by field in Python.
NOTE_ORDER = attrgetter("start", "pitch", "duration", "velocity")


@dataclass(frozen=True)
class PianoRoll:
    """A clip as a roll; ``dropped`` holds the notes that fell outside the pitch range."""

    data: np.ndarray = field(repr=False)  # float32 (3, n_steps, N_PITCHES), values in [0, 1]
    time_signature: TimeSignature = TimeSignature()
    pitch_low: int = PITCH_LOW
    dropped: tuple[Note, ...] = ()

    def __post_init__(self) -> None:
        data = self.data
        if not isinstance(data, np.ndarray) or data.ndim != 3 or data.shape[0] != 3:
            raise ValueError(
                f"PianoRoll.data must be an array of shape (3, n_steps, n_pitches), "
                f"got {getattr(data, 'shape', type(data))}"
            )
        if data.dtype != np.float32:
            raise ValueError(f"PianoRoll.data must be float32, got {data.dtype}")

    @property
    def n_steps(self) -> int:
        return int(self.data.shape[1])

    @property
    def n_pitches(self) -> int:
        return int(self.data.shape[2])


def notes_to_roll(
    notes: Iterable[Note],
    *,
    n_steps: int,
    time_signature: TimeSignature = TimeSignature(),
) -> PianoRoll:
    """Render notes into a ``(3, n_steps, N_PITCHES)`` roll.

    Notes outside ``PITCH_LOW..PITCH_HIGH`` are not drawn; they are returned in
    ``PianoRoll.dropped``. Notes are cut at ``n_steps``; a note starting at or after
    ``n_steps`` is not drawn either and is also reported in ``dropped``. Where notes
    overlap at one pitch, the later onset wins the shared steps.
    """
    time_signature.require_supported()
    if n_steps < 0:
        raise ValueError(f"n_steps must be >= 0, got {n_steps}")
    data = np.zeros((3, n_steps, N_PITCHES), dtype=np.float32)
    dropped: list[Note] = []
    for note in sorted(notes):
        column = note.pitch - PITCH_LOW
        if not 0 <= column < N_PITCHES or note.start >= n_steps:
            dropped.append(note)
            continue
        end = min(note.end, n_steps)
        data[0, note.start, column] = 1.0
        data[1, note.start, column] = 0.0
        data[1, note.start + 1 : end, column] = 1.0
        data[2, note.start : end, column] = note.velocity / 127.0
    return PianoRoll(
        data=data, time_signature=time_signature, pitch_low=PITCH_LOW, dropped=tuple(dropped)
    )


def roll_to_notes(
    data: np.ndarray,
    *,
    pitch_low: int = PITCH_LOW,
    threshold: float = 0.5,
    default_velocity: int = DEFAULT_VELOCITY,
    offset: int = 0,
) -> list[Note]:
    """Decode a ``(3, n_steps, n_pitches)`` roll, or a ``(2, ...)`` one without the
    velocity channel (what the model writes: onset and sustain), into notes, sorted.

    A note starts where onset > ``threshold`` and lasts while sustain > ``threshold``
    and no new onset comes (``threshold=0`` reads the model's data units, -1 / +1); a note
    still sounding at the roll's end ends there. Its velocity is the mean of the velocity
    channel over the note, times 127, rounded and clipped to 1..127; ``default_velocity``
    is used when that mean is 0 or the roll has no velocity channel. ``offset`` is added
    to every start: a slice ``roll[:, lo:hi]`` decodes as the notes of the clip that start
    in ``lo..hi-1``, held at most to ``hi``.
    """
    if not isinstance(data, np.ndarray) or data.ndim != 3 or data.shape[0] not in (2, 3):
        raise ValueError(
            f"roll must have shape (3 or 2, n_steps, n_pitches), got "
            f"{getattr(data, 'shape', data)}"
        )
    starts, pitches, durations = decode_roll(data, threshold=threshold)
    if pitches.size and not (0 <= pitch_low + int(pitches.min())
                             and pitch_low + int(pitches.max()) <= 127):
        bad = int(pitches.min()) if pitch_low + int(pitches.min()) < 0 else int(pitches.max())
        raise ValueError(f"roll column {bad} maps to MIDI pitch {pitch_low + bad}, "
                         f"outside 0..127")
    velocities = np.full(starts.shape, default_velocity, dtype=np.int64)
    if len(data) == 3:
        for i, (t, p, d) in enumerate(zip(starts.tolist(), pitches.tolist(),
                                          durations.tolist(), strict=True)):
            mean_velocity = float(data[2, t:t + d, p].mean())
            if mean_velocity > 0:
                velocities[i] = min(127, max(1, round(mean_velocity * 127)))
    return notes_from_arrays(starts + offset, pitches + pitch_low, durations, velocities)


def decode_roll(data: np.ndarray, *, threshold: float = 0.5
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The notes of a roll's onset and sustain channels (``data[0]``, ``data[1]``, each
    (n_steps, n_pitches)) as arrays: each note's start step, pitch column and duration
    in steps, ordered by start then column (:func:`roll_to_notes` reads them the same
    way). A note lasts from its onset while the sustain holds and no new onset comes."""
    onset = data[0] > threshold
    n_steps = onset.shape[0]
    # a step breaks the note sounding before it where its sustain is off or a new onset
    # comes; each note ends at the first break after its onset (or the roll's end)
    breaks = onset | ~(data[1] > threshold)
    index = np.where(breaks, np.arange(n_steps)[:, None], n_steps)
    next_break = np.minimum.accumulate(index[::-1], axis=0)[::-1]
    next_break = np.concatenate([next_break[1:], np.full((1, onset.shape[1]), n_steps)])
    starts, pitches = np.nonzero(onset)
    return starts, pitches, next_break[starts, pitches] - starts


def notes_from_arrays(starts: np.ndarray, pitches: np.ndarray, durations: np.ndarray,
                      velocities: np.ndarray) -> list[Note]:
    """Notes from integer arrays already known to be valid (starts >= 0, MIDI pitches,
    durations >= 1, velocities 1..127), sorted; what a decoded roll makes, without
    checking each note again."""
    order = np.lexsort((velocities, durations, pitches, starts))
    return [Note.trusted(*values) for values in zip(
        starts[order].tolist(), pitches[order].tolist(), durations[order].tolist(),
        velocities[order].tolist(), strict=True)]


# The metre's weight of each 16th of a bar (downbeat, beats, 8ths, 16ths), mean 1: how a
# density hint spreads its onsets over the bar.
_METRE = np.array([4, 1, 2, 1, 3, 1, 2, 1, 4, 1, 2, 1, 3, 1, 2, 1], dtype=np.float32)
_METRE /= _METRE.mean()


def density_hint(notes_per_bar: float, n_steps: int) -> np.ndarray:
    """The model's rhythm condition (onsets per step / 4: engine.model, engine.dataset)
    asking for ``notes_per_bar`` onsets a bar, spread over the bar by metrical weight: what
    a request's density sends (engine.pipeline). The model takes it as a direction more
    than a count (docs/model-card.md measures what comes out; spikier, whole-note patterns
    made it denser whatever they asked)."""
    per_step = notes_per_bar / STEPS_PER_BAR * _METRE
    bar = np.clip(per_step / 4.0, 0.0, 1.0).astype(np.float32)
    return np.tile(bar, -(-n_steps // STEPS_PER_BAR))[:n_steps]
