"""A small additive piano, rendered with numpy, so the panel can be heard without a DAW.

Each note is four harmonics with a short attack, an exponential decay that is faster for
high partials and high notes (as a struck string's), and a short release after the note
ends. It is a sketch for auditioning, not an instrument: good enough to judge pitches,
rhythm and register clashes.

Units: notes are in beats (quarter notes) as :class:`gui.clip.ClipNote`; the output is
mono float32 samples in [-1, 1] at ``sample_rate`` Hz.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from gui.clip import ClipNote

__all__ = ["SAMPLE_RATE", "beats_to_seconds", "render"]

SAMPLE_RATE = 22050
_PARTIALS = np.array([1.0, 0.45, 0.22, 0.1])  # amplitude of harmonics 1..4
_ATTACK_S = 0.005
_RELEASE_S = 0.08
_GAIN = 0.18  # per note at full velocity; the mix is soft-clipped


def beats_to_seconds(beats: float, tempo: float) -> float:
    """``beats`` quarter notes at ``tempo`` BPM, in seconds."""
    return beats * 60.0 / tempo


def render(
    notes: Iterable[ClipNote],
    *,
    tempo: float,
    start_beat: float = 0.0,
    end_beat: float,
    sample_rate: int = SAMPLE_RATE,
) -> np.ndarray:
    """The notes sounding between ``start_beat`` and ``end_beat``, as mono float32 samples.

    The buffer is exactly ``round((end_beat - start_beat) * 60 / tempo * sample_rate)``
    samples long; a note that starts before ``start_beat`` and still sounds is heard
    from its middle; tails past ``end_beat`` are cut.
    """
    if tempo <= 0:
        raise ValueError(f"tempo must be > 0 BPM, got {tempo}")
    if end_beat < start_beat:
        raise ValueError(f"end_beat {end_beat} is before start_beat {start_beat}")
    length = round(beats_to_seconds(end_beat - start_beat, tempo) * sample_rate)
    out = np.zeros(length, dtype=np.float64)
    for note in notes:
        onset = beats_to_seconds(note.start - start_beat, tempo)  # s, may be < 0
        held = beats_to_seconds(note.duration, tempo)
        first = max(0, int(np.ceil(onset * sample_rate)))
        last = min(length, int((onset + held + _RELEASE_S) * sample_rate))
        if last <= first:
            continue
        t = np.arange(first, last) / sample_rate - onset  # s since the note's onset
        out[first:last] += _note(t, note.pitch, note.velocity, held, sample_rate)
    return np.tanh(out).astype(np.float32)


def _note(
    t: np.ndarray, pitch: int, velocity: int, held: float, sample_rate: int
) -> np.ndarray:
    """One note's samples at times ``t`` (s since its onset), held for ``held`` s."""
    frequency = 440.0 * 2.0 ** ((pitch - 69) / 12)
    decay = 1.2 + 0.04 * max(0, pitch - 48)  # 1/s: high notes fade sooner
    wave = np.zeros_like(t)
    for k, amplitude in enumerate(_PARTIALS, start=1):
        if k * frequency >= sample_rate / 2:  # no aliasing
            break
        wave += amplitude * np.exp(-t * decay * k) * np.sin(2 * np.pi * k * frequency * t)
    envelope = np.minimum(1.0, t / _ATTACK_S)
    envelope *= np.clip(1.0 - (t - held) / _RELEASE_S, 0.0, 1.0)
    return _GAIN * (velocity / 127) * envelope * wave
