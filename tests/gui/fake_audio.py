"""Fakes for auditioning without audio hardware or a MIDI system."""

from __future__ import annotations

import mido
import numpy as np


class FakeSink:
    """An audio sink whose clock the test sets (``elapsed``, seconds)."""

    def __init__(self) -> None:
        self.buffers: list[np.ndarray] = []
        self.elapsed = 0.0
        self.running = False

    def start(self, samples: np.ndarray, sample_rate: int) -> None:
        self.buffers.append(samples)
        self.elapsed = 0.0
        self.running = True

    def stop(self) -> None:
        self.running = False

    def elapsed_s(self) -> float:
        return self.elapsed


class FakeMidiOut:
    """A MIDI output port that keeps what it was sent."""

    def __init__(self) -> None:
        self.sent: list[mido.Message] = []

    def send(self, message: mido.Message) -> None:
        self.sent.append(message)
