"""Velocities for generated notes, from the dynamics of the music around them.

The model writes onsets and sustains only (no velocity channel), so a new note's velocity
comes from the notes the user already played (the *context*), as an additive profile:

    velocity = level + by_position[step % 16] + by_register[octave band of the pitch]

rounded and clipped to 1..127 (docs/dynamics.md gives the measurements behind it):

1. ``level``: the median velocity of the context notes within ``LOCAL_BARS`` bars of the
   target bars (a song gets louder and softer), or of the whole context when fewer than
   ``MIN_LOCAL`` notes lie there;
2. ``by_position``: per 16th position of the bar, the median of (velocity - the
   context's median) over the context notes there: accents on the beats, softer
   off-beats, as this player plays them;
3. ``by_register``: per octave band (C1-B1 ... C7 and up), the median of what is left
   after 2; the left hand is often softer than the right.

Each median of 2 and 3 is shrunk towards POP909's piano (:data:`POP909_PIANO`) as
``(n * median + SHRINK * pop909) / (n + SHRINK)`` over its n notes, so a thin context
borrows the data's shape. Without any context the POP909 piano profile is used; under a
melody alone (``accompany``), its level is the melody's local level plus
``PIANO_UNDER_MELODY`` (POP909's piano against its melody, per song).

Units: steps are 16th notes from the clip start, bar lines every 16 steps (4/4).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.pianoroll import STEPS_PER_BAR, Note

__all__ = ["LOCAL_BARS", "MIN_LOCAL", "PIANO_UNDER_MELODY", "POP909_PIANO", "SHRINK",
           "VelocityProfile", "register_band", "velocity_profile"]

LOCAL_BARS = 2
MIN_LOCAL = 8
SHRINK = 8.0
N_BANDS = 7


def register_band(pitch: int) -> int:
    """Octave band 0..6 of a MIDI pitch: 0 up to B1, 1 = C2-B2, ..., 6 = C7 and up."""
    return min(max(pitch // 12 - 2, 0), N_BANDS - 1)


@dataclass(frozen=True)
class VelocityProfile:
    """``level`` plus offsets (velocity units) per 16th position of the bar (16) and per
    octave band (7); see the module docstring."""

    level: float
    by_position: tuple[float, ...]
    by_register: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.by_position) != STEPS_PER_BAR or len(self.by_register) != N_BANDS:
            raise ValueError(f"a profile needs {STEPS_PER_BAR} position and {N_BANDS} "
                             f"register offsets, got {len(self.by_position)} and "
                             f"{len(self.by_register)}")

    def velocities(self, steps: np.ndarray, pitches: np.ndarray) -> np.ndarray:
        """The velocity 1..127 of each note starting at ``steps`` on ``pitches`` (int
        arrays): ``level`` + its position's offset + its :func:`register_band`'s offset,
        rounded (halves to even)."""
        bands = np.clip(pitches // 12 - 2, 0, N_BANDS - 1)
        value = (self.level + np.asarray(self.by_position)[steps % STEPS_PER_BAR]
                 + np.asarray(self.by_register)[bands])
        return np.clip(np.round(value), 1, 127).astype(np.int64)

    @classmethod
    def fit(cls, notes: Sequence[Note], *, near: tuple[int, int] | None = None,
            prior: VelocityProfile | None = None) -> VelocityProfile:
        """The profile of ``notes`` (steps 1-3 of the module docstring); ``near`` = the
        target bars' steps (start, stop) for the local level; ``prior`` = the shape the
        medians shrink towards (POP909's piano by default). Needs at least one note."""
        if not notes:
            raise ValueError("a velocity profile needs at least one note")
        prior = prior or POP909_PIANO
        median = statistics.median(n.velocity for n in notes)
        level = float(median)
        if near is not None:
            lo, hi = near[0] - LOCAL_BARS * STEPS_PER_BAR, near[1] + LOCAL_BARS * STEPS_PER_BAR
            local = [n.velocity for n in notes if lo <= n.start < hi]
            if len(local) >= MIN_LOCAL:
                level = float(statistics.median(local))
        # each note's offset from the median, by its position, then by its band (in the
        # notes' order, as the medians read them)
        at_position: list[list[float]] = [[] for _ in range(STEPS_PER_BAR)]
        for n in notes:
            at_position[n.start % STEPS_PER_BAR].append(n.velocity - median)
        by_position = _shrunk(at_position, prior.by_position)
        in_band: list[list[float]] = [[] for _ in range(N_BANDS)]
        for n in notes:
            in_band[register_band(n.pitch)].append(
                n.velocity - median - by_position[n.start % STEPS_PER_BAR])
        by_register = _shrunk(in_band, prior.by_register)
        return cls(level=level, by_position=by_position, by_register=by_register)


def _shrunk(groups: list[list[float]], prior: Sequence[float]) -> tuple[float, ...]:
    return tuple(
        (len(values) * statistics.median(values) + SHRINK * p) / (len(values) + SHRINK)
        if values else float(p)
        for values, p in zip(groups, prior, strict=True))


# POP909's piano tracks, train split (704 songs with 50+ piano notes, read onto the grid by
# engine.pop909): level = median of the songs' median velocities; by_position = median of
# (velocity - the song's median) per 16th of the bar, pooled; by_register = the same for
# what is left per octave band. PIANO_UNDER_MELODY = median over the songs of (piano
# median - melody median). docs/dynamics.md has the measurement.
POP909_PIANO = VelocityProfile(
    level=84.0,
    by_position=(0.0, -6.0, -6.0, 0.0, 1.0, 0.0, -1.0, -1.0,
                 0.0, -6.0, -3.0, 0.0, 2.0, 0.0, 0.0, 0.0),
    by_register=(1.0, 0.0, -1.0, 1.0, 2.0, -5.0, -12.0),
)
PIANO_UNDER_MELODY = -13.0


def velocity_profile(context: Sequence[Note], melody: Sequence[Note] | None,
                     target: tuple[int, int]) -> VelocityProfile:
    """The profile for new notes in steps ``target`` = (start, stop): fitted on the
    context (the part's own notes) when there is one, else POP909's piano at the
    melody's local level plus :data:`PIANO_UNDER_MELODY`, else POP909's piano."""
    if context:
        return VelocityProfile.fit(context, near=target)
    if melody:
        level = VelocityProfile.fit(melody, near=target).level + PIANO_UNDER_MELODY
        return VelocityProfile(level=level, by_position=POP909_PIANO.by_position,
                               by_register=POP909_PIANO.by_register)
    return POP909_PIANO
