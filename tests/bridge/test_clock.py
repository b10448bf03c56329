"""Clocks: following MIDI clock messages, and the internal clock on simulated time."""

from __future__ import annotations

import threading

import mido
import pytest

from bridge.clock import (
    PPQN,
    InternalClock,
    MidiClock,
    MonotonicTime,
    SimulatedTime,
    tick_seconds,
)


class Recorder:
    """A clock listener that writes down every call."""

    def __init__(self) -> None:
        self.events: list[tuple] = []

    def clock_started(self, *, position: int, at: float) -> None:
        self.events.append(("started", position, at))

    def clock_stopped(self, *, at: float) -> None:
        self.events.append(("stopped", at))

    def clock_tick(self, *, position: int, at: float) -> None:
        self.events.append(("tick", position, at))


def feed(clock: MidiClock, kind: str, at: float, **fields: int) -> bool:
    return clock.feed(mido.Message(kind, **fields), at=at)


def test_tick_seconds() -> None:
    assert tick_seconds(120.0) == pytest.approx(0.5 / PPQN)


def test_midi_clock_counts_ticks_from_start() -> None:
    clock, recorder = MidiClock(time=SimulatedTime()), Recorder()
    clock.attach(recorder)
    assert feed(clock, "clock", 0.0)          # before start: timing only
    assert feed(clock, "start", 1.0)
    for n in range(3):
        feed(clock, "clock", 1.0 + n * 0.02)
    assert feed(clock, "stop", 2.0)
    feed(clock, "clock", 2.1)                  # stopped: no tick
    assert recorder.events == [
        ("started", 0, 1.0), ("tick", 0, 1.0), ("tick", 1, 1.02), ("tick", 2, 1.04),
        ("stopped", 2.0)]


def test_song_position_and_continue_resume_at_the_pointer() -> None:
    clock, recorder = MidiClock(time=SimulatedTime()), Recorder()
    clock.attach(recorder)
    feed(clock, "songpos", 0.0, pos=32)        # bar 3 (32 sixteenths)
    feed(clock, "continue", 0.5)
    feed(clock, "clock", 0.5)
    feed(clock, "songpos", 0.6, pos=0)         # ignored while running
    feed(clock, "clock", 0.6)
    assert recorder.events == [("started", 192, 0.5), ("tick", 192, 0.5), ("tick", 193, 0.6)]


def test_start_while_running_stops_then_restarts_at_zero() -> None:
    clock, recorder = MidiClock(time=SimulatedTime()), Recorder()
    clock.attach(recorder)
    feed(clock, "start", 0.0)
    feed(clock, "clock", 0.0)
    feed(clock, "start", 1.0)
    feed(clock, "clock", 1.0)
    assert recorder.events == [("started", 0, 0.0), ("tick", 0, 0.0), ("stopped", 1.0),
                               ("started", 0, 1.0), ("tick", 0, 1.0)]


def test_midi_clock_tempo_is_the_median_tick_interval() -> None:
    clock = MidiClock(time=SimulatedTime())
    assert clock.tempo is None
    feed(clock, "start", 0.0)
    interval = tick_seconds(96.0)
    times = [n * interval for n in range(30)]
    times[10] += 0.004                          # one late tick does not move the median
    for at in times:
        feed(clock, "clock", at)
    assert clock.tempo == pytest.approx(96.0)


def test_notes_are_not_clock_messages() -> None:
    clock = MidiClock(time=SimulatedTime())
    assert not clock.feed(mido.Message("note_on", note=60), at=0.0)
    internal = InternalClock(120.0, time=SimulatedTime())
    assert internal.feed(mido.Message("clock"), at=0.0)
    assert not internal.feed(mido.Message("note_off", note=60), at=0.0)


def test_internal_clock_ticks_on_a_fixed_schedule() -> None:
    time = SimulatedTime(10.0)
    clock, recorder = InternalClock(150.0, time=time), Recorder()
    clock.attach(recorder)
    clock.run(ticks=4)
    step = tick_seconds(150.0)
    assert recorder.events[0] == ("started", 0, 10.0)
    assert [e[1] for e in recorder.events[1:5]] == [0, 1, 2, 3]
    assert [e[2] for e in recorder.events[1:5]] == pytest.approx(
        [10.0, 10.0 + step, 10.0 + 2 * step, 10.0 + 3 * step])
    assert recorder.events[5][0] == "stopped"


def test_internal_clock_thread_stops() -> None:
    class Blocking(SimulatedTime):
        def sleep_until(self, deadline: float, stop: threading.Event) -> bool:
            stop.wait()
            return False

    clock, recorder = InternalClock(120.0, time=Blocking()), Recorder()
    clock.attach(recorder)
    clock.start()
    with pytest.raises(RuntimeError, match="already running"):
        clock.start()
    clock.stop()
    assert [e[0] for e in recorder.events] == ["started", "stopped"]


@pytest.mark.parametrize("tempo", [10.0, 400.0])
def test_internal_clock_refuses_tempo_out_of_range(tempo: float) -> None:
    with pytest.raises(ValueError, match="tempo must be 20..300 BPM"):
        InternalClock(tempo)


def test_monotonic_time_wakes_on_stop() -> None:
    stop = threading.Event()
    stop.set()
    time = MonotonicTime()
    assert not time.sleep_until(time.now() + 60.0, stop)
    assert not time.sleep_until(time.now() - 1.0, stop)
    assert MonotonicTime().sleep_until(0.0, threading.Event())
