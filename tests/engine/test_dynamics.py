from __future__ import annotations

import numpy as np
import pytest

from engine.dynamics import (
    LOCAL_BARS,
    PIANO_UNDER_MELODY,
    POP909_PIANO,
    SHRINK,
    VelocityProfile,
    register_band,
    velocity_profile,
)
from engine.pianoroll import Note

FLAT = VelocityProfile(level=0.0, by_position=(0.0,) * 16, by_register=(0.0,) * 7)


def velocity(profile: VelocityProfile, step: int, pitch: int) -> int:
    """One note's velocity by the profile's definition, written out note by note."""
    value = (profile.level + profile.by_position[step % 16]
             + profile.by_register[register_band(pitch)])
    return min(127, max(1, round(value)))


def accented(n_bars: int, *, loud: int = 100, soft: int = 60, pitch: int = 60) -> list[Note]:
    """Loud downbeats, soft everything else, 16ths for ``n_bars`` bars."""
    return [Note(step, pitch, 1, loud if step % 16 == 0 else soft)
            for step in range(16 * n_bars)]


def test_register_bands_are_octaves_from_c2() -> None:
    assert [register_band(p) for p in (0, 35, 36, 47, 48, 60, 96, 127)] == [
        0, 0, 1, 1, 2, 3, 6, 6]


def test_a_profile_learns_the_players_accents() -> None:
    profile = VelocityProfile.fit(accented(8), prior=FLAT)
    assert profile.level == 60
    n = 8  # downbeats seen
    assert profile.by_position[0] == pytest.approx(n * 40 / (n + SHRINK))
    assert profile.velocities(np.array([16, 17]), np.array([60, 60])).tolist() == [
        round(60 + n * 40 / (n + SHRINK)), 60]


def test_the_level_follows_the_bars_next_to_the_target() -> None:
    notes = accented(4, loud=50, soft=50) + [
        Note(n.start + 64, n.pitch, 1, 110) for n in accented(4, loud=110, soft=110)]
    whole = VelocityProfile.fit(notes, prior=FLAT)
    near_end = VelocityProfile.fit(notes, near=(8 * 16, 9 * 16), prior=FLAT)
    assert whole.level == 80 and near_end.level == 110
    assert LOCAL_BARS == 2


def test_a_thin_context_borrows_pop909s_shape() -> None:
    profile = VelocityProfile.fit([Note(1, 60, 1, 70)])
    assert profile.level == 70
    assert profile.by_position[5] == POP909_PIANO.by_position[5]
    assert profile.by_position[1] == pytest.approx(SHRINK * POP909_PIANO.by_position[1]
                                                   / (1 + SHRINK))


def test_velocities_stay_in_midi_range() -> None:
    loud = VelocityProfile(level=200.0, by_position=(0.0,) * 16, by_register=(0.0,) * 7)
    soft = VelocityProfile(level=-5.0, by_position=(0.0,) * 16, by_register=(0.0,) * 7)
    at = np.array([0]), np.array([60])
    assert loud.velocities(*at).tolist() == [127] and soft.velocities(*at).tolist() == [1]
    with pytest.raises(ValueError, match="16 position"):
        VelocityProfile(level=1.0, by_position=(0.0,), by_register=(0.0,) * 7)
    with pytest.raises(ValueError, match="at least one note"):
        VelocityProfile.fit([])


def test_the_profile_comes_from_the_part_then_the_melody_then_pop909() -> None:
    part, melody = accented(4, loud=90, soft=90), accented(4, loud=100, soft=100)
    assert velocity_profile(part, melody, (0, 16)).level == 90
    from_melody = velocity_profile([], melody, (0, 16))
    assert from_melody.level == 100 + PIANO_UNDER_MELODY
    assert from_melody.by_position == POP909_PIANO.by_position
    assert velocity_profile([], None, (0, 16)) is POP909_PIANO


@pytest.mark.parametrize("level", [84.0, 3.5, 126.5, 200.0, -40.0])
def test_velocities_at_once_are_each_notes_velocity(level: float) -> None:
    profile = VelocityProfile(level=level, by_position=tuple(x / 2 for x in range(-8, 8)),
                              by_register=(1.5, 0.0, -1.0, 0.5, 2.0, -5.5, -12.0))
    steps, pitches = np.arange(0, 64 * 128, 64) % 997, np.arange(128)
    got = profile.velocities(steps, pitches)
    one_by_one = [velocity(profile, int(s), int(p))
                  for s, p in zip(steps, pitches, strict=True)]
    assert got.tolist() == one_by_one
