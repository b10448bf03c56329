from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import InputError
from engine.pianoroll import (
    N_PITCHES,
    PITCH_HIGH,
    PITCH_LOW,
    Note,
    PianoRoll,
    TimeSignature,
    UnsupportedMeterError,
    notes_to_roll,
    roll_to_notes,
)

N_STEPS = 64


@st.composite
def grid_notes(draw: st.DrawFn, *, pitch_low: int = PITCH_LOW, pitch_high: int = PITCH_HIGH):
    """Notes inside the roll that never overlap at the same pitch."""
    pitches = draw(st.lists(st.integers(pitch_low, pitch_high), min_size=0, max_size=6))
    notes = []
    for pitch in set(pitches):
        cuts = sorted(draw(st.sets(st.integers(0, N_STEPS), min_size=2, max_size=10)))
        for start, stop in zip(cuts[::2], cuts[1::2], strict=False):
            notes.append(
                Note(start=start, pitch=pitch, duration=stop - start,
                     velocity=draw(st.integers(1, 127)))
            )
    return sorted(notes)


@settings(max_examples=60, deadline=None)
@given(grid_notes())
def test_notes_roll_notes_round_trip_is_exact(notes: list[Note]) -> None:
    roll = notes_to_roll(notes, n_steps=N_STEPS)
    assert roll.dropped == ()
    assert roll_to_notes(roll.data) == notes


@settings(max_examples=40, deadline=None)
@given(grid_notes(pitch_low=0, pitch_high=127))
def test_out_of_range_notes_are_reported_not_drawn(notes: list[Note]) -> None:
    roll = notes_to_roll(notes, n_steps=N_STEPS)
    inside = [n for n in notes if PITCH_LOW <= n.pitch <= PITCH_HIGH]
    outside = [n for n in notes if not PITCH_LOW <= n.pitch <= PITCH_HIGH]
    assert list(roll.dropped) == outside
    assert roll_to_notes(roll.data) == inside


def test_roll_channels_follow_the_contract() -> None:
    roll = notes_to_roll(
        [Note(start=2, pitch=60, duration=3, velocity=127), Note(start=5, pitch=60, duration=1)],
        n_steps=8,
    )
    column = 60 - PITCH_LOW
    assert roll.data.shape == (3, 8, N_PITCHES)
    assert roll.data.dtype == np.float32
    assert roll.data[0, :, column].tolist() == [0, 0, 1, 0, 0, 1, 0, 0]
    assert roll.data[1, :, column].tolist() == [0, 0, 0, 1, 1, 0, 0, 0]
    np.testing.assert_allclose(
        roll.data[2, :, column], [0, 0, 1, 1, 1, 80 / 127, 0, 0], rtol=1e-6
    )
    assert roll.data.min() >= 0 and roll.data.max() <= 1


def test_repeated_note_is_split_by_its_onset() -> None:
    notes = [Note(start=0, pitch=64, duration=2), Note(start=2, pitch=64, duration=2)]
    assert roll_to_notes(notes_to_roll(notes, n_steps=4).data) == notes


def test_notes_past_the_end_are_cut_or_dropped() -> None:
    roll = notes_to_roll(
        [Note(start=6, pitch=60, duration=4), Note(start=8, pitch=62, duration=1)], n_steps=8
    )
    assert roll_to_notes(roll.data) == [Note(start=6, pitch=60, duration=2)]
    assert roll.dropped == (Note(start=8, pitch=62, duration=1),)


def test_decoding_thresholds_soft_values() -> None:
    data = np.zeros((3, 4, N_PITCHES), dtype=np.float32)
    data[0, 1, 10] = 0.7
    data[1, 2, 10] = 0.6
    data[1, 3, 10] = 0.4  # below threshold: the note ends
    data[2, 1:3, 10] = 0.5
    assert roll_to_notes(data) == [Note(start=1, pitch=PITCH_LOW + 10, duration=2, velocity=64)]
    data[2] = 0
    assert roll_to_notes(data, default_velocity=99)[0].velocity == 99


@pytest.mark.parametrize(
    ("numerator", "denominator"), [(3, 4), (6, 8), (2, 4), (7, 8), (5, 4)]
)
def test_other_meters_are_rejected_with_their_name(numerator: int, denominator: int) -> None:
    meter = TimeSignature(numerator, denominator)
    with pytest.raises(UnsupportedMeterError, match=f"{numerator}/{denominator}"):
        notes_to_roll([], n_steps=16, time_signature=meter)
    with pytest.raises(InputError):
        meter.require_supported()


def test_time_signature_steps_and_validation() -> None:
    assert TimeSignature().steps_per_bar == 16
    assert TimeSignature(3, 4).steps_per_bar == 12
    assert TimeSignature(6, 8).steps_per_bar == 12
    with pytest.raises(ValueError, match="denominator"):
        TimeSignature(4, 3)
    with pytest.raises(ValueError, match="numerator"):
        TimeSignature(0, 4)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": -1, "pitch": 60, "duration": 1}, "start"),
        ({"start": 0, "pitch": 128, "duration": 1}, "pitch"),
        ({"start": 0, "pitch": 60, "duration": 0}, "duration"),
        ({"start": 0, "pitch": 60, "duration": 1, "velocity": 0}, "velocity"),
    ],
)
def test_note_validation(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Note(**kwargs)


def test_note_rejects_non_integers() -> None:
    with pytest.raises(TypeError, match="start"):
        Note(start=1.5, pitch=60, duration=1)  # type: ignore[arg-type]


def test_pianoroll_validates_its_array() -> None:
    with pytest.raises(ValueError, match="shape"):
        PianoRoll(data=np.zeros((2, 4, N_PITCHES), dtype=np.float32))
    with pytest.raises(ValueError, match="float32"):
        PianoRoll(data=np.zeros((3, 4, N_PITCHES)))


def test_the_model_s_two_channel_data_units_decode_without_a_velocity_channel():
    notes = [Note(0, 60, 4, 100), Note(2, 64, 3, 90), Note(8, 60, 1, 70)]
    roll = notes_to_roll(notes, n_steps=16)
    data = roll.data[:2] * 2.0 - 1.0  # what the model writes: onset and sustain, -1 / +1
    decoded = roll_to_notes(data, threshold=0.0, default_velocity=64)
    assert [(n.start, n.pitch, n.duration) for n in decoded] == \
        [(n.start, n.pitch, n.duration) for n in sorted(notes)]
    assert {n.velocity for n in decoded} == {64}


def test_a_slice_of_a_roll_decodes_as_the_notes_that_start_in_it_held_to_its_end():
    notes = [Note(start=2, pitch=60, duration=6), Note(start=9, pitch=64, duration=10),
             Note(start=20, pitch=67, duration=4)]
    roll = notes_to_roll(notes, n_steps=32).data
    got = roll_to_notes(roll[:, 8:16], offset=8)
    assert [(n.start, n.pitch, n.duration) for n in got] == [(9, 64, 7)]


def _decode_step_by_step(data: np.ndarray, threshold: float) -> list[Note]:
    """roll_to_notes as it was written first: each onset's note followed step by step."""
    onset, sustain = data[0] > threshold, data[1] > threshold
    notes = []
    for t, p in zip(*np.nonzero(onset), strict=True):
        end = t + 1
        while end < onset.shape[0] and sustain[end, p] and not onset[end, p]:
            end += 1
        mean = float(data[2, t:end, p].mean()) if len(data) == 3 else 0.0
        velocity = min(127, max(1, round(mean * 127))) if mean > 0 else 80
        notes.append(Note(int(t), int(PITCH_LOW + p), int(end - t), velocity))
    return sorted(notes)


@pytest.mark.parametrize("channels", [2, 3])
def test_decoding_matches_following_each_note_step_by_step(channels: int) -> None:
    rng = np.random.default_rng(channels)
    for density in (0.02, 0.2, 0.6):
        data = np.where(rng.random((channels, 48, N_PITCHES)) < density, 1.0, -1.0)
        if channels == 3:
            data[2] = rng.random((48, N_PITCHES))
        got = roll_to_notes(data.astype(np.float32), threshold=0.0)
        assert got == _decode_step_by_step(data, 0.0)
        assert all(type(n.start) is int and type(n.velocity) is int for n in got)
