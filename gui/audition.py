"""Auditioning clips in the panel: a transport over the built-in synth or a MIDI port.

:class:`Audition` owns the state (stopped, or playing a take: notes, tempo, a beat range,
looped or not) and a playhead in beats. Sound goes to an :class:`AudioSink` (Qt
Multimedia's ``QAudioSink`` on a real machine, :class:`ClockSink` when there is no sound
card, a fake in tests) and, when one is set, note messages go to a MIDI output port
(anything with mido's ``send``). The playhead is read from the sink's clock on a timer,
so tests drive it by calling :meth:`Audition.tick` with a fake clock: no audio hardware,
no timing in asserts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import mido
import numpy as np

from gui.clip import ClipNote
from gui.qt import (
    MULTIMEDIA_ERROR,
    QAudioFormat,
    QAudioSink,
    QBuffer,
    QByteArray,
    QIODevice,
    QMediaDevices,
    QObject,
    QTimer,
    Signal,
)
from gui.synth import SAMPLE_RATE, beats_to_seconds, render

__all__ = ["AudioSink", "Audition", "ClockSink", "MidiOutput", "QtAudioSink", "default_sink"]

log = logging.getLogger(__name__)

_TICK_MS = 30
_MIDI_CHANNEL = 0


class AudioSink(Protocol):
    """Where rendered samples (mono float32 in [-1, 1]) are played."""

    def start(self, samples: np.ndarray, sample_rate: int) -> None: ...

    def stop(self) -> None: ...

    def elapsed_s(self) -> float:
        """Seconds of the current buffer played so far."""
        ...


class MidiOutput(Protocol):
    """A MIDI output port (a ``mido`` port, or a fake)."""

    def send(self, message: mido.Message) -> None: ...


class ClockSink:
    """A silent sink: time passes by ``clock`` (seconds), nothing is heard."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._started_at: float | None = None

    def start(self, samples: np.ndarray, sample_rate: int) -> None:
        self._started_at = self._clock()

    def stop(self) -> None:
        self._started_at = None

    def elapsed_s(self) -> float:
        return 0.0 if self._started_at is None else self._clock() - self._started_at


class QtAudioSink:
    """The default audio output through Qt Multimedia (16-bit mono PCM)."""

    def __init__(self) -> None:
        self._sink: Any = None
        self._buffer: Any = None

    def start(self, samples: np.ndarray, sample_rate: int) -> None:
        self.stop()
        fmt = QAudioFormat()
        fmt.setSampleRate(sample_rate)
        fmt.setChannelCount(1)
        fmt.setSampleFormat(QAudioFormat.SampleFormat.Int16)
        pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()
        self._buffer = QBuffer()
        self._buffer.setData(QByteArray(pcm))
        self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self._sink = QAudioSink(QMediaDevices.defaultAudioOutput(), fmt)
        self._sink.start(self._buffer)

    def stop(self) -> None:
        if self._sink is not None:
            self._sink.stop()
            self._sink = None
        if self._buffer is not None:
            self._buffer.close()
            self._buffer = None

    def elapsed_s(self) -> float:
        return 0.0 if self._sink is None else self._sink.processedUSecs() / 1e6


def default_sink() -> tuple[AudioSink, str | None]:
    """The machine's sound output, or a silent clock and the reason there is no sound."""
    if MULTIMEDIA_ERROR is not None:
        return ClockSink(), MULTIMEDIA_ERROR
    if QMediaDevices.defaultAudioOutput().isNull():
        return ClockSink(), "no sound output device found"
    return QtAudioSink(), None


@dataclass(frozen=True)
class _Take:
    notes: tuple[ClipNote, ...]
    tempo: float
    start_beat: float
    end_beat: float
    loop: bool


class Audition(QObject):
    """Plays one take at a time; ``position_changed`` carries the playhead in beats
    (``None`` when stopped)."""

    playing_changed = Signal(bool)
    position_changed = Signal(object)  # float beats, or None

    def __init__(
        self, *, sink: AudioSink, sample_rate: int = SAMPLE_RATE, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.sink = sink
        self.sample_rate = sample_rate
        self.midi_out: MidiOutput | None = None
        self.last_buffer: np.ndarray = np.zeros(0, dtype=np.float32)  # what the sink got last
        self._take: _Take | None = None
        self._pass_from = 0.0  # beat the current pass started at
        self._sent_until = 0.0  # beat up to which MIDI messages were sent
        self._position: float | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(_TICK_MS)
        self._timer.timeout.connect(self.tick)

    @property
    def playing(self) -> bool:
        return self._take is not None

    @property
    def position(self) -> float | None:
        return self._position

    def set_midi_output(self, port: MidiOutput | None) -> None:
        """Send notes to ``port`` instead of the built-in synth (``None``: the synth)."""
        self._all_notes_off()
        self.midi_out = port

    def play(
        self,
        notes: Sequence[ClipNote],
        *,
        tempo: float,
        start_beat: float,
        end_beat: float,
        loop: bool = False,
        from_beat: float | None = None,
    ) -> None:
        """Play ``notes`` between the beats ``start_beat`` and ``end_beat`` (again and again
        when ``loop``), beginning at ``from_beat`` (default ``start_beat``)."""
        if end_beat <= start_beat:
            raise ValueError(f"nothing to play between beats {start_beat} and {end_beat}")
        self._halt()
        self._take = _Take(tuple(notes), float(tempo), float(start_beat), float(end_beat), loop)
        begin = start_beat if from_beat is None else from_beat
        self._start_pass(begin if start_beat <= begin < end_beat else start_beat)
        self._timer.start()
        self.playing_changed.emit(True)

    def stop(self) -> None:
        if self._take is None:
            return
        self._halt()
        self.playing_changed.emit(False)

    def tick(self) -> None:
        """Move the playhead to the sink's clock; send due MIDI; loop or stop at the end."""
        take = self._take
        if take is None:
            return
        beat = self._pass_from + self.sink.elapsed_s() * take.tempo / 60.0
        self._send_midi(take, self._sent_until, min(beat, take.end_beat))
        if beat >= take.end_beat:
            if take.loop:
                self._start_pass(take.start_beat)
            else:
                self.stop()
            return
        self._position = beat
        self.position_changed.emit(beat)

    # ---- internal --------------------------------------------------------------------

    def _start_pass(self, from_beat: float) -> None:
        take = self._take
        assert take is not None
        self._all_notes_off()
        self._pass_from = self._sent_until = from_beat
        audible = () if self.midi_out is not None else take.notes
        self.last_buffer = render(audible, tempo=take.tempo, start_beat=from_beat,
                                  end_beat=take.end_beat, sample_rate=self.sample_rate)
        self.sink.start(self.last_buffer, self.sample_rate)
        self._position = from_beat
        self.position_changed.emit(from_beat)
        log.debug("playing beats %.2f-%.2f (%s s)", from_beat, take.end_beat,
                  beats_to_seconds(take.end_beat - from_beat, take.tempo))

    def _halt(self) -> None:
        self._timer.stop()
        self.sink.stop()
        self._all_notes_off()
        self._take = None
        if self._position is not None:
            self._position = None
            self.position_changed.emit(None)

    def _send_midi(self, take: _Take, since: float, until: float) -> None:
        """Note messages due in the beats ``[since, until)`` to the MIDI output."""
        if self.midi_out is None or until <= since:
            return
        events = []
        for note in take.notes:
            if since <= note.start < until:
                events.append((note.start, 1, note))
            end = min(note.start + note.duration, take.end_beat)
            if since <= end < until and note.start >= self._pass_from:
                events.append((end, 0, note))
        for _, on, note in sorted(events, key=lambda event: (event[0], event[1])):
            self.midi_out.send(mido.Message("note_on" if on else "note_off",
                                            channel=_MIDI_CHANNEL, note=note.pitch,
                                            velocity=note.velocity if on else 0))  # fmt: skip
        self._sent_until = until

    def _all_notes_off(self) -> None:
        if self.midi_out is not None:
            self.midi_out.send(mido.Message("control_change", channel=_MIDI_CHANNEL,
                                            control=123, value=0))  # fmt: skip
