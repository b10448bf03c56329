"""Clocks for the live jam: follow the DAW's MIDI clock, or tick at a set tempo.

Both clocks speak in MIDI clock *ticks*, 24 per quarter note (``PPQN``): 6 ticks make a
16th-note step, 96 a 4/4 bar. Tick ``n`` is the ``n``-th tick from the song start (bar 1,
beat 1 is tick 0). A clock drives a :class:`ClockListener` (the jam) from its own thread:
the MIDI input thread for :class:`MidiClock`, a timer thread for :class:`InternalClock`.

Time comes from a :class:`TimeSource` (seconds, monotonic). :class:`MonotonicTime` is the
real one; :class:`SimulatedTime` only moves when told to (or, for the internal clock,
jumps straight to the next tick), which keeps the jam tests free of sleeps.
"""

from __future__ import annotations

import logging
import statistics
import threading
import time as _time
from collections import deque
from typing import Protocol

import mido

from wire.limits import JAM_TEMPO

__all__ = [
    "PPQN",
    "TICKS_PER_BAR",
    "TICKS_PER_STEP",
    "Clock",
    "ClockListener",
    "InternalClock",
    "MidiClock",
    "MonotonicTime",
    "SimulatedTime",
    "TimeSource",
    "tick_seconds",
]

log = logging.getLogger(__name__)

PPQN = 24                 # MIDI clock ticks per quarter note
TICKS_PER_STEP = PPQN // 4  # a 16th note
TICKS_PER_BAR = 4 * PPQN  # 4/4 only
MIN_TEMPO = JAM_TEMPO.low  # BPM of the internal clock (wire.limits)
MAX_TEMPO = JAM_TEMPO.high
STOP_JOIN_SECONDS = 5.0   # InternalClock.stop waits at most this long for its thread


def tick_seconds(tempo: float) -> float:
    """Seconds between two MIDI clock ticks at ``tempo`` BPM."""
    return 60.0 / (tempo * PPQN)


class TimeSource(Protocol):
    def now(self) -> float:
        """Seconds on a monotonic clock."""
        ...

    def sleep_until(self, deadline: float, stop: threading.Event) -> bool:
        """Wait until ``now() >= deadline``; False when ``stop`` was set first."""
        ...


class MonotonicTime:
    """Real time: ``time.perf_counter``; waits on the stop event, so ``stop`` wakes it."""

    def now(self) -> float:
        return _time.perf_counter()

    def sleep_until(self, deadline: float, stop: threading.Event) -> bool:
        while True:
            remaining = deadline - _time.perf_counter()
            if remaining <= 0:
                return not stop.is_set()
            if stop.wait(remaining):
                return False


class SimulatedTime:
    """Time that moves only through :meth:`advance` / :meth:`set` or :meth:`sleep_until`
    (which jumps to the deadline at once)."""

    def __init__(self, start: float = 0.0) -> None:
        self._lock = threading.Lock()
        self._now = float(start)

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, when: float) -> None:
        with self._lock:
            self._now = max(self._now, float(when))

    def sleep_until(self, deadline: float, stop: threading.Event) -> bool:
        self.set(deadline)
        return not stop.is_set()


class ClockListener(Protocol):
    """What a clock drives. Called on the clock's thread, one call at a time."""

    def clock_started(self, *, position: int, at: float) -> None:
        """The transport runs; ``position`` is the tick the next :meth:`clock_tick` has."""
        ...

    def clock_stopped(self, *, at: float) -> None: ...

    def clock_tick(self, *, position: int, at: float) -> None:
        """Tick ``position`` happens at ``at`` (the schedule for an internal clock, the
        arrival time for a MIDI clock)."""
        ...


class Clock(Protocol):
    kind: str          # "midi" | "internal"
    time: TimeSource

    @property
    def tempo(self) -> float | None: ...

    def attach(self, listener: ClockListener | None) -> None: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def feed(self, message: mido.Message, *, at: float) -> bool: ...


class MidiClock:
    """Follows the MIDI clock of a DAW: ``start``, ``stop``, ``continue``, ``songpos``
    (song position pointer, in 16ths) and ``clock`` (24 per quarter note).

    The input thread hands every message to :meth:`feed`. After ``start`` the next
    ``clock`` is tick 0; after ``songpos`` + ``continue`` it is tick ``6 * songpos``. The
    tempo is the median of the last 24 tick intervals (None before two ticks).
    """

    kind = "midi"

    def __init__(self, *, time: TimeSource | None = None) -> None:
        self.time: TimeSource = time or MonotonicTime()
        self._listener: ClockListener | None = None
        self._running = False
        self._next_tick = 0
        self._last_at: float | None = None
        self._intervals: deque[float] = deque(maxlen=PPQN)

    @property
    def tempo(self) -> float | None:
        if not self._intervals:
            return None
        return 60.0 / (PPQN * statistics.median(self._intervals))

    @property
    def running(self) -> bool:
        return self._running

    @property
    def position(self) -> int:
        """The tick the next ``clock`` message will be."""
        return self._next_tick

    def attach(self, listener: ClockListener | None) -> None:
        self._listener = listener

    def start(self) -> None:
        """Nothing to start: the DAW drives this clock through :meth:`feed`."""

    def stop(self) -> None:
        self._running = False

    def feed(self, message: mido.Message, *, at: float) -> bool:
        """Handle one incoming message; True when it was a clock/transport message."""
        kind = message.type
        if kind == "clock":
            if self._last_at is not None and self._running:
                interval = at - self._last_at
                if interval > 0:
                    self._intervals.append(interval)
            self._last_at = at
            if self._running:
                position = self._next_tick
                self._next_tick += 1
                if self._listener is not None:
                    self._listener.clock_tick(position=position, at=at)
        elif kind == "start":
            self._next_tick = 0
            self._begin(at)
        elif kind == "continue":
            self._begin(at)
        elif kind == "stop":
            if self._running:
                self._running = False
                if self._listener is not None:
                    self._listener.clock_stopped(at=at)
        elif kind == "songpos":
            if self._running:
                log.warning("song position pointer while the transport runs: ignored")
            else:
                self._next_tick = message.pos * TICKS_PER_STEP
        else:
            return False
        return True

    def _begin(self, at: float) -> None:
        if self._running and self._listener is not None:
            self._listener.clock_stopped(at=at)
        self._running = True
        self._last_at = None
        if self._listener is not None:
            self._listener.clock_started(position=self._next_tick, at=at)


class InternalClock:
    """Ticks at a set tempo on its own thread (:meth:`start`), or on the caller's
    (:meth:`run`). Tick ``n`` is scheduled at ``t0 + n * tick_seconds(tempo)``; the
    schedule never drifts, a late wake-up is not carried into the next tick."""

    kind = "internal"

    def __init__(self, tempo: float, *, time: TimeSource | None = None) -> None:
        if not MIN_TEMPO <= tempo <= MAX_TEMPO:
            raise ValueError(f"tempo must be {MIN_TEMPO:g}..{MAX_TEMPO:g} BPM, got {tempo!r}")
        self.time: TimeSource = time or MonotonicTime()
        self._tempo = float(tempo)
        self._listener: ClockListener | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.started_at: float | None = None

    @property
    def tempo(self) -> float:
        return self._tempo

    def attach(self, listener: ClockListener | None) -> None:
        self._listener = listener

    def feed(self, message: mido.Message, *, at: float) -> bool:
        """Incoming clock messages are not followed; the caller drops them."""
        return message.type in ("clock", "start", "stop", "continue", "songpos")

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the internal clock is already running")
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name="diffjam-clock", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop ticking; waits for the clock thread unless called from it."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(STOP_JOIN_SECONDS)
            if thread.is_alive():
                log.warning("clock thread did not end within %g s; leaving it (daemon)",
                            STOP_JOIN_SECONDS)

    def run(self, *, ticks: int | None = None) -> None:
        """Tick until :meth:`stop` (or ``ticks`` ticks) on the calling thread."""
        listener = self._listener
        interval = tick_seconds(self._tempo)
        t0 = self.time.now()
        self.started_at = t0
        if listener is not None:
            listener.clock_started(position=0, at=t0)
        position = 0
        while ticks is None or position < ticks:
            due = t0 + position * interval
            if not self.time.sleep_until(due, self._stop):
                break
            if listener is not None:
                listener.clock_tick(position=position, at=due)
            position += 1
        if listener is not None:
            listener.clock_stopped(at=self.time.now())
