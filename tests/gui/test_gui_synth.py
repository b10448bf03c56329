"""The built-in synth: buffer length, pitch, loudness, the rendered window."""

from __future__ import annotations

import numpy as np
import pytest

from gui.clip import ClipNote
from gui.synth import SAMPLE_RATE, render


def dominant_hz(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / sample_rate)[np.argmax(spectrum)])


def test_silence_has_the_length_of_the_window() -> None:
    samples = render((), tempo=120.0, start_beat=0.0, end_beat=8.0)  # 4 s
    assert samples.dtype == np.float32 and samples.shape == (4 * SAMPLE_RATE,)
    assert not samples.any()


def test_a4_sounds_at_440_hz_and_in_range() -> None:
    samples = render([ClipNote(0.0, 2.0, 69, 127)], tempo=120.0, end_beat=2.0)
    assert dominant_hz(samples) == pytest.approx(440.0, abs=2.0)
    assert 0.05 < np.abs(samples).max() <= 1.0


def test_velocity_sets_loudness() -> None:
    loud = render([ClipNote(0.0, 1.0, 60, 120)], tempo=120.0, end_beat=1.0)
    soft = render([ClipNote(0.0, 1.0, 60, 30)], tempo=120.0, end_beat=1.0)
    assert np.abs(loud).max() > 3 * np.abs(soft).max()


def test_only_the_window_is_rendered() -> None:
    notes = [ClipNote(0.0, 1.0, 60, 100), ClipNote(4.0, 1.0, 72, 100)]
    window = render(notes, tempo=120.0, start_beat=4.0, end_beat=5.0)
    assert dominant_hz(window) == pytest.approx(523.25, abs=3.0)  # C5 only, not C4
    held = render([ClipNote(0.0, 4.0, 60, 100)], tempo=120.0, start_beat=2.0, end_beat=3.0)
    assert np.abs(held[:100]).max() > 0  # a held note is heard from its middle
    assert not render(notes, tempo=120.0, start_beat=2.0, end_beat=3.0).any()


def test_bad_windows_are_refused() -> None:
    with pytest.raises(ValueError, match="tempo"):
        render((), tempo=0.0, end_beat=1.0)
    with pytest.raises(ValueError, match="before"):
        render((), tempo=120.0, start_beat=2.0, end_beat=1.0)
