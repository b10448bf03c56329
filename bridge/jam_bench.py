"""Measuring the live jam (:mod:`bridge.jam`); ``diffjam bench-jam`` prints these figures
(its command, and ``diffjam jam``'s, are in :mod:`diffjam.commands.jam`).

:func:`bench_report` measures three things (:func:`format_report` makes the table;
percentiles are nearest-rank, :func:`engine.bench.percentile`):

1. *Latency*: the time the model takes for the next bar, as a fraction of the bar, at each
   ``--bpm``. A jam on simulated time (the MIDI clock of :mod:`bridge.clock` on
   :class:`~bridge.clock.SimulatedTime`, the in-memory MIDI backend, a scripted player)
   sends the model exactly the requests a live jam sends; each call is timed on the real
   clock. The jam asks ``1.5 x latency + 50 ms`` ahead, at most one bar ahead, so a p99
   fraction under about 0.6 means no bar is dropped.
2. *Jitter*: how late the accompaniment's note-ons arrive against the 16th grid of the
   internal clock, in real time, with the same model generating meanwhile. On JACK when a
   JACK server is running (python-rtmidi; includes JACK's period), else on the in-memory
   backend (then it is the clock thread's own wake-up lateness). The table says which.
   With the real model it runs twice: alone, and beside a client that asks the same
   pipeline for variations of an 8-bar accompaniment again and again, as a producer does
   of ``diffjam serve`` while its jam plays (the jam's bars go first: engine.pipeline's
   ``ModelThread``); the row says how many of those requests were answered meanwhile,
   and how long the jam's bars took from its request to the answer (p50, p99, max).
   Every real-time row also counts the garbage collector's full passes meanwhile and
   times the longest pass: each stops the clock's thread too
   (:func:`bridge.jam.freeze_start_up_objects`).
3. *Long jam*: ten minutes of music (at 120 BPM) on simulated time with a fast fake model
   (an arpeggio with overlapping and repeated notes), transport stops, continues and a
   jump on the way: no stuck notes, no note longer than a bar, and the growth of the
   process's resident memory.
"""

from __future__ import annotations

import gc
import logging
import platform
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import mido

from bridge import midiports
from bridge.clock import (
    TICKS_PER_BAR,
    TICKS_PER_STEP,
    InternalClock,
    MidiClock,
    SimulatedTime,
    tick_seconds,
)
from bridge.jam import JamConfig, JamSession, jam_candidates
from engine.bench import BusyProcesses, percentile, synthetic_clip
from engine.harmony import ChordSpan
from engine.pianoroll import Note
from engine.sampling import BarRange, Result, SamplingOptions

__all__ = ["DEFAULT_BPMS", "PatternPipeline", "bench_report", "format_report", "long_jam",
           "measure_jitter", "measure_latency", "report_failed"]

log = logging.getLogger(__name__)

DEFAULT_BPMS = (90.0, 120.0, 160.0)
LONG_JAM_TEMPO = 120.0
WAIT_S = 600.0  # upper bound for one generation in the bench; not a timing figure
# Real-time figures leave out the first bars: opening a JACK port takes python-rtmidi
# most of a second during which it holds the GIL, and the bench opens two after the start.
SETTLE_BARS = 2
_DEFAULTS = JamConfig()


# ------------------------------------------------------------------------------ bench


class PatternPipeline:
    """A fast fake model: in the last bar, an arpeggio of the last chord on 8th notes,
    each note a quarter long (overlapping), the root repeated on beats 1 and 3."""

    device = "cpu"  # no model: the jam draws the CPU's count of candidates

    def info(self) -> dict[str, Any]:
        return {"model": "pattern (fake)", "device": "none"}

    def accompany(self, chords: Sequence[ChordSpan], *, n_bars: int,
                  melody: Sequence[Note] | None = None, options: SamplingOptions,
                  progress: Callable[[float], None] | None = None,
                  cancel: threading.Event | None = None, context: Sequence[Note] = (),
                  bars: BarRange | None = None, live: bool = False) -> Result:
        notes: list[Note] = []
        chord = chords[-1].chord if chords else None
        root = None if chord is None else chord.root
        if chord is not None and root is not None:
            tones = sorted(36 + root + (pc - root) % 12 for pc in range(12)
                           if chord.chroma[pc])
            start = 16 * (n_bars - 1)
            for eighth in range(8):
                pitch = tones[0] if eighth % 4 == 0 else tones[eighth % len(tones)] + 12
                notes.append(Note(start=start + 2 * eighth, pitch=pitch, duration=4,
                                  velocity=70 + 5 * (eighth % 3)))
        return Result(variations=(tuple(notes),), n_bars=n_bars,
                      generated=bars or BarRange(0, n_bars), key=None, nfe=0, seconds=0.0)


class TimedPipeline:
    """Times every ``accompany`` call on the real clock (the first one, the warm-up,
    separately), and the CPU time the process spent meanwhile (all threads: on a busy
    machine wall time grows, CPU time hardly)."""

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline
        self.seconds: list[float] = []
        self.cpu_seconds: list[float] = []
        self.warmup: float | None = None

    @property
    def device(self) -> Any:
        return self.pipeline.device

    def accompany(self, chords: Sequence[ChordSpan], **kwargs: Any) -> Result:
        began, cpu = time.perf_counter(), time.process_time()
        try:
            return self.pipeline.accompany(chords, **kwargs)
        finally:
            elapsed = time.perf_counter() - began
            if self.warmup is None:
                self.warmup = elapsed
            else:
                self.seconds.append(elapsed)
                self.cpu_seconds.append(time.process_time() - cpu)


# Voicings of the scripted player (C G Am F), left hand, and its melody scale (C major).
_PLAYER_CHORDS = ((48, 52, 55), (43, 47, 50), (45, 48, 52), (41, 45, 48))
_PLAYER_SCALE = (72, 74, 76, 77, 79, 81, 83, 84)


@dataclass
class SimulatedJam:
    """A jam session on simulated time and the in-memory MIDI backend, with a scripted
    player (a chord a bar, an 8th-note melody) and a synth that tracks sounding notes."""

    pipeline: Any
    tempo: float
    steps: int = _DEFAULTS.steps
    guidance: float = _DEFAULTS.guidance
    seed: int = 0
    sounding: dict[int, int] = field(default_factory=dict)   # pitch -> tick of its note-on
    note_ons: int = 0
    longest_ticks: int = 0
    stuck_at_stops: int = 0
    position: int = -1

    def __post_init__(self) -> None:

        self.time = SimulatedTime()
        backend = midiports.LoopbackBackend()
        self.session = JamSession(
            self.pipeline, JamConfig(clock="midi", tempo=self.tempo, steps=self.steps,
                                     guidance=self.guidance, seed=self.seed),
            backend=backend, clock=MidiClock(time=self.time))
        self.session.start()
        self.daw = backend.open_output(midiports.VIRTUAL_INPUT)
        backend.open_input(midiports.VIRTUAL_OUTPUT, callback=self._heard)
        self.random = random.Random(self.seed)
        self.melody: int | None = None
        self.chord: tuple[int, ...] = ()

    def _heard(self, message: mido.Message) -> None:
        if message.type == "note_on" and message.velocity > 0:
            self.note_ons += 1
            self.sounding[message.note] = self.position
        elif message.type in ("note_on", "note_off") and message.note in self.sounding:
            began = self.sounding.pop(message.note)
            self.longest_ticks = max(self.longest_ticks, self.position - began)
        elif message.is_cc(123):
            self.sounding.clear()

    def _send(self, kind: str, **fields: int) -> None:
        self.daw.send(mido.Message(kind, **fields))

    def start(self) -> None:
        if not self.session.wait_idle(WAIT_S):
            raise RuntimeError("the model's warm-up did not finish within the bench's limit")
        self._send("start")
        self.position = -1

    def play(self, bars: int) -> None:
        """Play ``bars`` bars: clock, the player's notes, and the worker finishing each
        request before the next tick (generation takes no simulated time)."""
        interval = tick_seconds(self.tempo)
        for _ in range(bars * TICKS_PER_BAR):
            self.position += 1
            self.time.advance(interval)
            self._send("clock")
            self._player(self.position)
            if not self.session.wait_idle(WAIT_S):
                raise RuntimeError("the model did not answer within the bench's limit")

    def _player(self, position: int) -> None:
        bar, in_bar = divmod(position, TICKS_PER_BAR)
        if in_bar == 0:
            for pitch in self.chord:
                self._send("note_off", note=pitch)
            self.chord = _PLAYER_CHORDS[bar % len(_PLAYER_CHORDS)]
            for pitch in self.chord:
                self._send("note_on", note=pitch, velocity=80)
        if in_bar % 12 == 0:
            if self.melody is not None:
                self._send("note_off", note=self.melody)
                self.melody = None
            if self.random.random() < 0.7:
                self.melody = self.random.choice(_PLAYER_SCALE)
                self._send("note_on", note=self.melody, velocity=self.random.randint(60, 110))

    def transport_stop(self) -> None:
        self._send("stop")
        self.stuck_at_stops += len(self.sounding)

    def transport_continue(self, *, bar: int | None = None) -> None:
        if bar is not None:
            self._send("songpos", pos=bar * 16)
            self.position = bar * TICKS_PER_BAR - 1
        self._send("continue")

    def close(self) -> None:
        self.session.stop()


def measure_latency(pipeline: Any, *, tempo: float, bars: int, steps: int,
                    guidance: float = _DEFAULTS.guidance) -> dict[str, Any]:
    """Model time per bar on the requests of a simulated jam at ``tempo``."""
    timed = TimedPipeline(pipeline)
    jam = SimulatedJam(timed, tempo, steps=steps, guidance=guidance, seed=1)
    try:
        jam.start()
        jam.play(bars + 1)
    finally:
        jam.close()
    bar_seconds = 240.0 / tempo
    seconds = sorted(timed.seconds)
    return {
        "bpm": tempo,
        "bar_ms": 1000.0 * bar_seconds,
        "n": len(seconds),
        "warmup_ms": None if timed.warmup is None else 1000.0 * timed.warmup,
        "p50_ms": 1000.0 * percentile(seconds, 50),
        "p99_ms": 1000.0 * percentile(seconds, 99),
        "p50_cpu_ms": 1000.0 * percentile(sorted(timed.cpu_seconds), 50),
        "p50_fraction": percentile(seconds, 50) / bar_seconds,
        "p99_fraction": percentile(seconds, 99) / bar_seconds,
        "dropped": jam.session.state()["dropped"],
    }


class _TickLateness:
    """Clock listener in front of the jam: how late each tick's work is done, in ms."""

    def __init__(self, listener: Any, time_source: Any) -> None:
        self.listener = listener
        self.time = time_source
        self.late_ms: list[float] = []

    def clock_started(self, *, position: int, at: float) -> None:
        self.listener.clock_started(position=position, at=at)

    def clock_stopped(self, *, at: float) -> None:
        self.listener.clock_stopped(at=at)

    def clock_tick(self, *, position: int, at: float) -> None:
        self.listener.clock_tick(position=position, at=at)
        if position >= SETTLE_BARS * TICKS_PER_BAR:
            self.late_ms.append(1000.0 * (self.time.now() - at))


class _MeasuredClock(InternalClock):
    """The internal clock, recording :class:`_TickLateness` of the jam it drives."""

    def __init__(self, tempo: float) -> None:
        super().__init__(tempo)
        self.lateness: _TickLateness | None = None

    def attach(self, listener: Any) -> None:
        if listener is not None:
            self.lateness = _TickLateness(listener, self.time)
            listener = self.lateness
        super().attach(listener)


def measure_jitter(pipeline: Any, *, tempo: float, bars: int, steps: int,
                   guidance: float = _DEFAULTS.guidance,
                   beside_requests: bool = False) -> dict[str, Any]:
    """A real-time jam on the internal clock with a held C major chord: how late the
    note-ons arrive against the 16th grid, and how late the clock thread finishes each
    tick's work (the model generating on the worker thread meanwhile); both from bar
    ``SETTLE_BARS + 1`` on. ``beside_requests``: meanwhile a client asks the same
    pipeline for :data:`BESIDE_VARIATIONS` variations of an 8-bar accompaniment again
    and again, as ``diffjam serve`` does beside its jam (:class:`_Client`)."""

    backend: Any
    try:
        midiports.list_ports(midiports.JACK_BACKEND)
        backend, where = mido.Backend(midiports.JACK_BACKEND), "jack"
    except midiports.PortError:
        backend, where = midiports.LoopbackBackend(), "in-memory"
    clock = _MeasuredClock(tempo)
    timed = _TimedBars(pipeline)
    session = JamSession(timed, JamConfig(clock="internal", tempo=tempo, steps=steps,
                                             guidance=guidance, seed=1),
                         backend=backend, clock=clock)
    arrivals: list[float] = []

    def heard(message: mido.Message) -> None:
        if message.type == "note_on" and message.velocity > 0:
            arrivals.append(time.perf_counter())

    client = _Client(pipeline) if beside_requests else None
    collections = _Collections()
    gc.callbacks.append(collections)
    session.start()
    keys = midiports.open_output(midiports.VIRTUAL_INPUT, backend=backend)
    synth = midiports.open_input(midiports.VIRTUAL_OUTPUT, callback=heard, backend=backend)
    try:
        for pitch in (48, 52, 55, 72):
            keys.send(mido.Message("note_on", note=pitch, velocity=90))
        if client is not None:
            client.start()
        time.sleep(bars * 240.0 / tempo)
    finally:
        if client is not None:
            client.stop()
        session.stop()
        keys.close()
        synth.close()
        gc.callbacks.remove(collections)
    step = tick_seconds(tempo) * TICKS_PER_STEP
    t0 = clock.started_at or 0.0
    settled = t0 + SETTLE_BARS * TICKS_PER_BAR * tick_seconds(tempo)
    late = sorted(((t - t0) - round((t - t0) / step) * step) * 1000.0 for t in arrivals
                  if t >= settled)
    ticks = sorted(clock.lateness.late_ms if clock.lateness is not None else [])
    # the bars of the run that sounded (a note-on after its last bar, before the jam
    # stopped, is not one of them)
    bars_heard = len({bar for t in arrivals
                      if (bar := int((t - t0) // (TICKS_PER_BAR * tick_seconds(tempo)))) < bars})
    asked = sorted(1000.0 * seconds for seconds in timed.seconds[1:])  # after the warm-up
    return {
        "backend": where,
        "model": pipeline.info().get("model"),
        "bpm": tempo,
        "bars": bars,
        "bars_with_notes": bars_heard,
        "dropped": session.state()["dropped"],
        "note_ons": len(late),
        "p50_ms": percentile(late, 50),
        "p99_ms": percentile(late, 99),
        "max_ms": late[-1] if late else float("nan"),
        "tick_p50_ms": percentile(ticks, 50),
        "tick_p99_ms": percentile(ticks, 99),
        "tick_max_ms": ticks[-1] if ticks else float("nan"),
        # the garbage collector's passes meanwhile (each stops every Python thread):
        # the full ones, and the longest of any generation
        "gc_full": collections.full,
        "gc_max_ms": collections.longest_ms,
        # the jam's bars, from its request to the model's answer (any wait included)
        "bar_p50_ms": percentile(asked, 50),
        "bar_p99_ms": percentile(asked, 99),
        "bar_max_ms": asked[-1] if asked else float("nan"),
        # the requests answered beside the jam, their p50 seconds and the error that
        # stopped them (None: not asked, or none)
        "beside_requests": None if client is None else len(client.seconds),
        "beside_p50_s": None if client is None else percentile(client.seconds, 50),
        "beside_error": None if client is None else client.error,
    }


class _Collections:
    """A ``gc.callbacks`` entry: how many full collections ran, and the longest one of any
    generation, in ms."""

    def __init__(self) -> None:
        self.full = 0
        self.longest_ms = 0.0
        self._began = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
            return
        self.longest_ms = max(self.longest_ms, 1000.0 * (time.perf_counter() - self._began))
        self.full += info["generation"] == 2


class _TimedBars:
    """The pipeline as a jam calls it (bridge.jam.JamPipeline), timing each call: from the
    jam's request to the model's answer, any wait for the model thread included."""

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline
        self.seconds: list[float] = []

    @property
    def device(self) -> Any:
        return self.pipeline.device

    def accompany(self, chords: Sequence[ChordSpan], **kwargs: Any) -> Result:
        began = time.perf_counter()
        try:
            return self.pipeline.accompany(chords, **kwargs)
        finally:
            self.seconds.append(time.perf_counter() - began)


# What the client of measure_jitter(beside_requests=True) asks for, again and again.
BESIDE_VARIATIONS = 4


class _Client:
    """A producer's requests beside the jam: variations of an 8-bar accompaniment on the
    bench's clip (:func:`engine.bench.synthetic_clip`), one after another, on a thread."""

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline
        self.seconds: list[float] = []
        self.error: str | None = None  # what stopped the requests early
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._ask, name="bench-client", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(WAIT_S)

    def _ask(self) -> None:
        chords, melody, _ = synthetic_clip(8)
        seed = 0
        while not self._stop.is_set():
            began = time.perf_counter()
            try:
                self.pipeline.accompany(chords, n_bars=8, melody=melody, options=SamplingOptions(
                    seed=seed, variations=BESIDE_VARIATIONS))
            except Exception as err:  # reported in the row: the figure is then not one
                log.exception("bench: the requests beside the jam failed")
                self.error = f"{type(err).__name__}: {err}"
                return
            self.seconds.append(time.perf_counter() - began)
            seed += 1


def long_jam(*, minutes: float, tempo: float = LONG_JAM_TEMPO) -> dict[str, Any]:
    """Minutes of simulated jam with the fast fake model: stuck notes and memory."""
    bars = max(8, round(minutes * tempo / 4.0))
    jam = SimulatedJam(PatternPipeline(), tempo, seed=3)
    began = time.perf_counter()
    try:
        jam.start()
        jam.play(8)
        rss_start = _rss_mb()
        played = 8
        while played < bars:
            chunk = min(40, bars - played)
            jam.play(chunk)
            played += chunk
            if played < bars:
                jam.transport_stop()
                jump = played if (played // 40) % 3 else max(0, played - 20)
                jam.transport_continue(bar=jump)
        rss_end = _rss_mb()
    finally:
        jam.close()
    return {
        "minutes": bars * 4.0 * 60.0 / tempo / 60.0,
        "bpm": tempo,
        "bars": bars,
        "note_ons": jam.note_ons,
        "stuck_after_stop": len(jam.sounding),
        "stuck_at_transport_stops": jam.stuck_at_stops,
        "longest_note_ticks": jam.longest_ticks,
        "dropped": jam.session.state()["dropped"],
        "error": jam.session.state()["error"],
        "rss_start_mb": rss_start,
        "rss_end_mb": rss_end,
        "rss_growth_mb": rss_end - rss_start,
        "seconds": time.perf_counter() - began,
    }


def _rss_mb() -> float:
    """Resident memory of this process (Linux /proc), in MiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise OSError("VmRSS not found in /proc/self/status")


def bench_report(pipeline: Any, *, bpms: Sequence[float], bars: int, steps: int,
                 guidance: float, jitter_bars: int, minutes: float, load: int = 0,
                 fake_model: bool = False) -> dict[str, Any]:
    """The three figures of the module docstring as one JSON-able report: the latency of
    ``pipeline`` at each of ``bpms``, the jitter of the fake model (and of ``pipeline``,
    alone and beside a client's requests, unless ``fake_model`` says it is the fake) with
    ``load`` busy processes beside them, and the long jam."""
    info = pipeline.info()
    with BusyProcesses(load):  # what a DAW does to the cores
        latency = [measure_latency(pipeline, tempo=bpm, bars=bars, steps=steps,
                                   guidance=guidance) for bpm in bpms]
        jitter = [measure_jitter(PatternPipeline(), tempo=120.0,
                                 bars=SETTLE_BARS + jitter_bars, steps=steps)]
        if not fake_model:
            jitter += [measure_jitter(pipeline, tempo=120.0, bars=SETTLE_BARS + jitter_bars,
                                      steps=steps, guidance=guidance, beside_requests=beside)
                       for beside in (False, True)]
    long = long_jam(minutes=minutes)
    return {
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "python": platform.python_version()},
        "model": info,
        "steps": steps,
        "candidates": jam_candidates(pipeline.device),  # a bar, by the model's device
        "guidance": guidance,
        "load": load,
        "latency": latency,
        "jitter": jitter,
        "long_jam": long,
    }


def report_failed(report: dict[str, Any]) -> bool:
    """Whether the long jam left notes stuck or stopped with an error, or the requests
    beside a real-time jam failed."""
    long = report["long_jam"]
    return bool(long["stuck_after_stop"] or long["stuck_at_transport_stops"] or long["error"]
                or any(row.get("beside_error") for row in report["jitter"]))


def format_report(report: dict[str, Any]) -> str:
    """The report of :func:`bench_report` as the table ``diffjam bench-jam`` prints."""
    model = report["model"]
    candidates = report.get("candidates")
    lines = [f"model {model.get('model')} on {model.get('device')}, {report['steps']} steps, "
             + ("" if candidates is None else f"the best of {candidates} a bar, ")
             + f"guidance {report['guidance']:g}, {report.get('load', 0)} busy processes "
             f"beside it; {report['machine']['platform']}",
             "",
             "next bar   BPM   bar ms   p50 ms   p99 ms   p50 frac   p99 frac   p50 CPU ms"]
    for row in report["latency"]:
        lines.append(f"{'':9}{row['bpm']:5.0f}  {row['bar_ms']:7.0f}  {row['p50_ms']:7.1f}  "
                     f"{row['p99_ms']:7.1f}  {row['p50_fraction']:9.3f}  "
                     f"{row['p99_fraction']:9.3f}  {row['p50_cpu_ms']:10.1f}")
    lines += ["", "real time  model                       backend     BPM  bars  heard  "
                  "dropped  note-on p50/p99/max ms   tick p50/p99/max ms   "
                  "bar p50/p99/max ms   gc full/max ms"]
    for row in report["jitter"]:
        beside = row.get("beside_requests")
        label = str(row["model"])[:18] + ("" if beside is None else f" +{beside} req")
        lines.append(
            f"{'':11}{label[:27]:27} {row['backend']:10} {row['bpm']:4.0f}  "
            f"{row['bars']:4d}  {row['bars_with_notes']:5d}  {row['dropped']:7d}  "
            f"{row['p50_ms']:6.2f} {row['p99_ms']:6.2f} {row['max_ms']:6.2f}      "
            f"{row['tick_p50_ms']:6.2f} {row['tick_p99_ms']:6.2f} {row['tick_max_ms']:6.2f}"
            f"   {row['bar_p50_ms']:5.0f} {row['bar_p99_ms']:5.0f} {row['bar_max_ms']:5.0f}"
            f"   {row['gc_full']:4d} {row['gc_max_ms']:6.1f}")
        if row.get("beside_error"):
            lines.append(f"{'':11}the requests beside it failed: {row['beside_error']}")
    long = report["long_jam"]
    lines += ["",
              f"long jam ({long['minutes']:.1f} min, {long['bars']} bars at "
              f"{long['bpm']:.0f} BPM, fake model, {long['seconds']:.1f} s): "
              f"{long['note_ons']} note-ons, stuck after stop {long['stuck_after_stop']}, "
              f"stuck at transport stops {long['stuck_at_transport_stops']}, longest note "
              f"{long['longest_note_ticks']} ticks (bar = 96), RSS {long['rss_start_mb']:.1f}"
              f" -> {long['rss_end_mb']:.1f} MiB ({long['rss_growth_mb']:+.1f})"]
    return "\n".join(lines)
