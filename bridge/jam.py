"""Live jam: listen to the player on a MIDI input, play an accompaniment on a MIDI output.

How a session runs (all times on the 16th-note grid of the transport; bar 0 starts at
the transport start, 4/4 only):

1. The clock (:mod:`bridge.clock`) ticks 24 times a quarter note, following the DAW's MIDI
   clock or its own tempo. Every 6th tick is a step. On the clock's thread the jam only
   plays (note-ons and note-offs, a ready bar scheduled on its downbeat) and takes
   snapshots of the player's notes; it never waits there for the planner or the model.
   Three threads share the work: the clock's plays, the planner's recognises chords and
   builds requests from the snapshots, the worker's runs the model.
2. Player notes arriving on the input are put on the grid (nearest step) and kept for the
   last ``context_bars`` bars. Each bar's chord is recognised from them
   (:func:`engine.harmony.recognize_chord_from_notes`, on the planner's thread, from a
   snapshot taken every beat); ``state()["chord"]`` follows it beat by beat.
3. During bar ``b`` the jam asks for bar ``b + 1``: the clock thread snapshots the
   player's notes and the accompaniment it played, the planner builds the request, the
   worker runs it.
   ``Pipeline.accompany`` gets, for the context bars ``b - context_bars + 1 .. b`` (bar
   ``b`` up to now), the top line of the player's notes as the melody (skyline: the
   highest note sounding), the recognised chords, the accompaniment the jam played in
   those bars as known ``context``, and the chord of bar ``b`` held over the coming bar;
   it writes ``bars`` = the coming bar only, so the accompaniment continues its own
   texture bar after bar. Where the jam played nothing yet (the first bars, a dropped
   bar) the context is shortened to the bars it did play, or, with none, the model
   writes the context bars too and only the last one is kept. The request leaves as late
   as the measured latency allows (latest latency x 1.5 + 50 ms before the bar; beat 3
   before any latency is known), so the chord is as fresh as possible.
4. On bar ``b + 1``'s downbeat the result is scheduled if it is there. A result that comes
   later is dropped and counted, never played out of time; its request is cancelled (a
   request the planner had not built by then is dropped too, unless it found nothing to
   accompany).
5. Every note-on has its note-off scheduled, at the latest on the next downbeat (notes
   are cut at the bar line so that nothing rings into the next chord). Transport stop,
   jam stop and errors send a note-off for every sounding note and All Notes Off
   (CC 123); a MIDI clock that falls silent for a second silences the output too.

Why ``accompany`` and not ``infill``: infill continues the whole texture of the context,
so with the player's notes as context the new bar holds the continuation of the player's
own line as well, which doubles or contradicts what the player plays next. Accompany
conditions on the player's line as the melody and on the chords and writes only the
accompaniment, which is what should come out of the jam's output; its ``context`` keeps
the bars already played as they were heard. The skyline keeps the melody input like the
model's training melodies (one line, POP909's MELODY track) when the player plays
chords under a tune.
"""

from __future__ import annotations

import gc
import logging
import math
import queue
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import mido

from bridge.clock import (
    TICKS_PER_BAR,
    TICKS_PER_STEP,
    Clock,
    InternalClock,
    MidiClock,
    tick_seconds,
)
from bridge.midiports import MidiBackend, PortError, open_input, open_output
from engine.errors import InputError
from engine.harmony import (
    Chord,
    ChordSpan,
    parse_key,
    parse_symbol,
    recognize_chord_from_notes,
)
from engine.pianoroll import STEPS_PER_BAR, Note
from engine.sampling import BarRange, Cancelled, Result, SamplingOptions
from wire.limits import (
    CONTEXT_BARS,
    DEFAULT_CONTEXT_BARS,
    DEFAULT_GUIDANCE,
    DEFAULT_JAM_STEPS,
    DEFAULT_TEMPO,
    GUIDANCE,
    JAM_CANDIDATES,
    JAM_CANDIDATES_GPU,
    JAM_TEMPO,
    MAX_SEED,
    SEED,
    STEPS,
)

__all__ = ["CLOCK_KINDS", "JamConfig", "JamSession", "freeze_start_up_objects",
           "jam_candidates"]

log = logging.getLogger(__name__)

CLOCK_KINDS = ("midi", "internal")
CHANNEL = 0                  # output channel (MIDI channel 1)
ALL_NOTES_OFF = 123          # channel mode message
LATENCY_MARGIN = 1.5         # lead = latest latency x margin + safety
SAFETY_SECONDS = 0.05
FIRST_REQUEST_STEP = 8       # beat 3: before any latency is measured
LATENCY_MEMORY = 8           # requests the latency estimate looks back on
CLOCK_TIMEOUT_SECONDS = 1.0  # MIDI clock silent this long while playing: all notes off
WATCHDOG_SECONDS = 0.25
DRAIN_SECONDS = 0.05        # wait before closing the output, so the note-offs get out
JOIN_SECONDS = 5.0          # stop waits at most this long for each of the jam's threads
# Candidates the jam draws for each bar on a CPU, wire.limits.JAM_CANDIDATES
# (engine.candidates: the best chord fit is played). A one-shot accompaniment draws more
# (wire.limits.DEFAULT_CANDIDATES); the jam's bar has a deadline, and on a CPU the
# batch costs in proportion: measured on the 2-core CPU, 1 thread, the jam's 4-bar window
# takes 212 ms (p50) with 4 and 350 ms with 8, against the 500 ms (a quarter of a bar at
# 120 BPM) it has, before the DAW loads the CPU. On a CUDA GPU the jam draws the
# one-shot count (wire.limits.JAM_CANDIDATES_GPU: :func:`jam_candidates`).


def jam_candidates(device: object) -> int:
    """Candidates a jam draws for each bar with its model on ``device`` (a torch device or
    its name): :data:`JAM_CANDIDATES_GPU` on a CUDA GPU, where it was measured that a
    batch costs about one; :data:`JAM_CANDIDATES` elsewhere (the CPU; Apple's mps, not
    measured)."""
    return JAM_CANDIDATES_GPU if str(device).split(":")[0] == "cuda" else JAM_CANDIDATES


def freeze_start_up_objects() -> None:
    """Keep the garbage collector's full passes off the jam's clock; call it once the model
    is loaded and warmed up (``diffjam serve``, ``diffjam jam``, ``diffjam bench-jam``).

    A full collection stops every Python thread, the clock thread that sends the notes
    too, for as long as it scans the objects alive: after the model's load about 300,000
    (torch, numpy, the model's modules). Measured on the 2-core CPU: 186 ms a full
    collection, and in a 10-minute jam beside a client's requests one tick of the clock
    finished its work 207 ms late. Here those objects move out of the collector's reach
    (``gc.freeze``), after one collection of what is garbage already; a full collection
    then scans only what came after them (0.1 ms measured)."""
    gc.collect()
    gc.freeze()
    log.info("%d objects of the start-up kept out of the garbage collector's full passes",
             gc.get_freeze_count())


class JamPipeline(Protocol):
    """The part of ``engine.pipeline.Pipeline`` the jam calls, and the device its model
    runs on (a torch device or its name: :func:`jam_candidates`)."""

    @property
    def device(self) -> Any: ...

    def accompany(self, chords: Sequence[ChordSpan], *, n_bars: int,
                  melody: Sequence[Note] | None = None, options: SamplingOptions,
                  progress: Callable[[float], None] | None = None,
                  cancel: threading.Event | None = None, context: Sequence[Note] = (),
                  bars: BarRange | None = None, live: bool = False) -> Result: ...


@dataclass(frozen=True)
class JamConfig:
    """Settings of one jam.

    ``input`` / ``output``: MIDI port names (exact, or a part of exactly one port's name);
    None opens virtual ports named "diffjam in" / "diffjam out". ``clock``: ``"midi"``
    follows the DAW's MIDI clock on the input, ``"internal"`` ticks at ``tempo`` BPM.
    ``guidance``, ``in_key``, ``key`` (a key name such as "Am"; None: estimated),
    ``steps`` and ``seed`` go to the sampler (bar ``n`` uses ``seed + n``, modulo 2^63).
    ``context_bars``: bars of the player's notes the model sees before the new bar.
    Defaults and limits are :mod:`wire.limits`'; ``options`` is the
    :class:`~engine.sampling.SamplingOptions` the sampling fields make, drawing
    :data:`JAM_CANDIDATES` candidates a bar (built, and so checked, with the config; an
    unreadable key raises ChordSymbolError; a session on a CUDA GPU draws
    :func:`jam_candidates` instead).
    """

    input: str | None = None
    output: str | None = None
    clock: str = "internal"
    tempo: float = DEFAULT_TEMPO
    guidance: float = DEFAULT_GUIDANCE
    in_key: bool = True
    key: str | None = None
    steps: int = DEFAULT_JAM_STEPS
    seed: int | None = None
    context_bars: int = DEFAULT_CONTEXT_BARS
    options: SamplingOptions = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("input", "output"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise InputError(f"jam {name} must be a port name or null, got {value!r}")
        if self.clock not in CLOCK_KINDS:
            raise InputError(f"jam clock must be 'midi' or 'internal', got {self.clock!r}")
        if not _is_number(self.tempo) or self.tempo not in JAM_TEMPO:
            raise InputError(f"jam tempo must be {JAM_TEMPO} BPM, got {self.tempo!r}")
        if not _is_number(self.guidance) or self.guidance not in GUIDANCE:
            raise InputError(f"jam guidance must be {GUIDANCE}, got {self.guidance!r}")
        if not isinstance(self.in_key, bool):
            raise InputError(f"jam in_key must be true or false, got {self.in_key!r}")
        if self.key is not None and not isinstance(self.key, str):
            raise InputError(f"jam key must be a key name or null, got {self.key!r}")
        if not _is_int(self.steps) or self.steps not in STEPS:
            raise InputError(f"jam steps must be {STEPS}, got {self.steps!r}")
        if self.seed is not None and (not _is_int(self.seed) or self.seed not in SEED):
            raise InputError(f"jam seed must be {SEED} or null, got {self.seed!r}")
        if not _is_int(self.context_bars) or self.context_bars not in CONTEXT_BARS:
            raise InputError(
                f"jam context_bars must be {CONTEXT_BARS}, got {self.context_bars!r}")
        object.__setattr__(self, "options", SamplingOptions(
            guidance=self.guidance, in_key=self.in_key,
            key=parse_key(self.key) if self.key else None, steps=self.steps, seed=self.seed,
            candidates=JAM_CANDIDATES))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(
        value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class _Request:
    """One call to the model: accompaniment for ``bar`` (None: the warm-up call) in a clip
    of ``context_bars + 1`` bars whose last bar is ``bar``; ``bars`` is what the model
    writes (the last bar, or the whole clip when no accompaniment is known)."""

    epoch: int
    bar: int | None
    context_bars: int
    melody: tuple[Note, ...]
    chords: tuple[ChordSpan, ...]
    context: tuple[Note, ...]
    bars: BarRange
    options: SamplingOptions
    cancel: threading.Event


@dataclass(frozen=True)
class _Planned:
    """A note of a generated bar: ``offset`` steps after the bar's downbeat."""

    offset: int
    pitch: int
    duration: int
    velocity: int


@dataclass(frozen=True)
class _Snapshot:
    """What the clock thread hands the planner at step ``now`` of transport ``epoch``: the
    player's notes (``held``: keys still down, ``(pitch, start step, velocity)``) and the
    accompaniment the jam played, by bar."""

    epoch: int
    now: int
    played: tuple[Note, ...]
    held: tuple[tuple[int, int, int], ...]
    accompaniment: dict[int, list[_Planned]]

    def player_notes(self, start: int, stop: int) -> list[Note]:
        """The player's notes sounding in steps ``[start, stop)``, cut to that window and
        shifted so that ``start`` is step 0 (held notes last until ``stop``)."""
        notes = list(self.played)
        notes += [Note(start=s, pitch=p, duration=max(1, stop - s), velocity=v)
                  for p, s, v in self.held if s < stop]
        window = []
        for note in notes:
            lo, hi = max(note.start, start), min(note.end, stop)
            if hi > lo:
                window.append(Note(start=lo - start, pitch=note.pitch, duration=hi - lo,
                                   velocity=note.velocity))
        return sorted(window)

    def recognize(self, bar: int) -> Chord | None:
        """Chord of the player's notes in ``bar`` up to step ``now`` (None: no notes)."""
        start = bar * STEPS_PER_BAR
        stop = min(start + STEPS_PER_BAR, self.now)
        if stop <= start:
            return None
        notes = self.player_notes(start, stop)
        if not notes:
            return None
        return recognize_chord_from_notes(notes, start=0, stop=stop - start)


@dataclass
class _Asked:
    """The clock's record of a bar it asked the planner for (clock and planner change it
    under the session's lock)."""

    cancel: threading.Event = field(default_factory=threading.Event)
    request: _Request | None = None  # the request the planner built and submitted
    empty: bool = False   # the planner found nothing to accompany
    missed: bool = False  # the bar's downbeat came before the planner was done


@dataclass(frozen=True)
class _ChordJob:
    """Recognise the chord ``state()`` shows at step ``in_bar`` of ``bar``."""

    snapshot: _Snapshot
    bar: int
    in_bar: int


@dataclass(frozen=True)
class _BarJob:
    """Build the request for ``bar``'s accompaniment."""

    snapshot: _Snapshot
    bar: int
    asked: _Asked


class JamSession:
    """One live jam on a pipeline; :meth:`start` opens the ports, :meth:`stop` ends it.

    ``backend``: MIDI backend (:mod:`bridge.midiports`; None: mido's default).
    ``clock``: a :class:`bridge.clock.MidiClock` or :class:`bridge.clock.InternalClock`
    of the config's kind (None: a real-time one); tests hand in clocks on simulated time.
    ``on_state(state)`` is called with :meth:`state` when it changes (start, stop, error,
    a beat, the beat's chord), on the clock's, the planner's or the worker's thread: keep
    it short.
    A session runs once; make a new one to jam again.
    """

    def __init__(self, pipeline: JamPipeline, config: JamConfig, *,
                 backend: MidiBackend | str | None = None, clock: Clock | None = None,
                 on_state: Callable[[dict[str, Any]], None] | None = None) -> None:
        if not isinstance(config, JamConfig):
            raise TypeError(f"config must be a JamConfig, got {type(config).__name__}")
        if clock is None:
            clock = MidiClock() if config.clock == "midi" else InternalClock(config.tempo)
        elif clock.kind != config.clock:
            raise ValueError(f"clock is {clock.kind!r} but the config asks for {config.clock!r}")
        self._pipeline = pipeline
        self._config = config
        self._backend = backend
        self._clock = clock
        self._time = clock.time
        self._on_state = on_state
        self._options = replace(config.options,
                                candidates=jam_candidates(pipeline.device))

        self._lock = threading.RLock()
        self._idle = threading.Condition()
        self._pending = 0
        self._queue: queue.Queue[_Request | None] = queue.Queue()
        self._plans: queue.Queue[_ChordJob | _BarJob | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._planner: threading.Thread | None = None
        self._teardown_thread: threading.Thread | None = None
        self._warmup: _Request | None = None
        self._inport: Any = None
        self._outport: Any = None
        self._started = False
        self._running = False
        self._error: str | None = None
        self._last_emitted: dict[str, Any] | None = None
        self._latencies: deque[float] = deque(maxlen=LATENCY_MEMORY)
        self._warmup_latency: float | None = None
        self._dropped = 0
        self._played_bars = 0
        self._clear_transport()

    # ------------------------------------------------------------------ public API

    def start(self) -> None:
        """Open the ports and start listening; raises :class:`PortError` for a missing,
        busy or dead port (nothing stays open then)."""
        with self._lock:
            if self._started:
                raise RuntimeError("this jam session was already started; make a new one")
            self._started = True
        outport = open_output(self._config.output, backend=self._backend)
        try:
            inport = open_input(self._config.input, callback=self._on_message,
                                backend=self._backend)
        except PortError:
            outport.close()
            with self._lock:
                self._started = False
            raise
        with self._lock:
            self._outport, self._inport = outport, inport
            self._running = True
        log.info("jam: input %r, output %r, %s clock, the best of %d candidates a bar",
                 inport.name, outport.name, self._config.clock, self._options.candidates)
        # the first chord recognition pays numpy's first-use costs (~0.1 s): not in the
        # first bar's planning
        recognize_chord_from_notes([Note(start=0, pitch=60, duration=1)], start=0, stop=1)
        self._worker = threading.Thread(target=self._work, name="diffjam-jam-worker",
                                         daemon=True)
        self._worker.start()
        self._planner = threading.Thread(target=self._plan_work, name="diffjam-jam-planner",
                                          daemon=True)
        self._planner.start()
        self._warmup = self._warmup_request()
        self._submit(self._warmup)
        self._clock.attach(self)
        self._clock.start()
        self._emit(force=True)

    def stop(self) -> None:
        """Stop the jam: all notes off, ports closed, worker ended. Safe to call twice and
        after an error; do not call it from ``on_state``."""
        self._shutdown(error=None)
        self._teardown()
        thread = self._teardown_thread
        if thread is not None and thread is not threading.current_thread():
            _join(thread, JOIN_SECONDS)

    def state(self) -> dict[str, Any]:
        """``running``, ``playing`` (transport), ``bar`` (1-based, 0 before the start),
        ``chord`` (symbol or None), ``tempo`` (BPM or None before the MIDI clock ran),
        ``clock``, ``error`` (message or None), ``played`` (bars accompanied), ``dropped``
        (bars whose accompaniment came too late), ``latency_ms`` (last generation)."""
        with self._lock:
            tempo = self._clock.tempo
            latency = self._latencies[-1] if self._latencies else None
            return {
                "running": self._running,
                "playing": self._playing,
                "bar": self._bar + 1,
                "chord": self._chord.symbol() if self._chord is not None else None,
                "tempo": None if tempo is None else round(tempo, 1),
                "clock": self._clock.kind,
                "error": self._error,
                "played": self._played_bars,
                "dropped": self._dropped,
                "latency_ms": None if latency is None else round(latency * 1000.0, 1),
            }

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until the planner and the worker have nothing queued or running; False on
        timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def watchdog(self) -> None:
        """Silence the output when the MIDI clock has been silent for a second while the
        transport runs (the worker calls this every quarter second)."""
        with self._lock:
            if self._clock.kind != "midi" or not (
                    self._running and self._playing and self._sounding):
                return
            if self._time.now() - self._last_tick_at < CLOCK_TIMEOUT_SECONDS:
                return
            log.warning("jam: the clock stopped ticking; all notes off")
            self._guarded(self._silence)

    # ------------------------------------------------------------- clock listener

    def clock_started(self, *, position: int, at: float) -> None:
        with self._lock:
            if not self._running:
                return
            self._guarded(self._restart, position, at)
        self._emit(force=True)

    def clock_stopped(self, *, at: float) -> None:
        with self._lock:
            if not self._running:
                return
            self._playing = False
            self._epoch += 1
            self._cancel_requests()
            self._guarded(self._silence)
        self._emit(force=True)

    def clock_tick(self, *, position: int, at: float) -> None:
        beat = False
        with self._lock:
            if not (self._running and self._playing):
                return
            self._position = position
            self._last_tick_at = at
            if position % TICKS_PER_STEP == 0:
                step = position // TICKS_PER_STEP
                beat = step % 4 == 0
                self._guarded(self._on_step, step)
        if beat:
            self._emit()

    # --------------------------------------------------------------- transport

    def _clear_transport(self) -> None:
        self._playing = False
        self._epoch = 0
        self._position = -1
        self._last_tick_at = 0.0
        self._bar = -1
        self._chord: Chord | None = None
        self._held: dict[int, tuple[int, int]] = {}   # pitch -> (start step, velocity)
        self._played: list[Note] = []                  # absolute steps
        self._schedule: dict[int, list[_Planned]] = {}  # step -> notes starting there
        self._sounding: dict[int, int] = {}            # pitch -> step of its note-off
        self._ready: dict[int, list[_Planned]] = {}    # bar -> generated notes
        self._requested: dict[int, _Asked] = {}        # bar -> what the clock asked for
        self._accompaniment: dict[int, list[_Planned]] = {}  # bar -> what was played

    def _restart(self, position: int, at: float) -> None:
        """The transport (re)starts at tick ``position``: what was played before is
        forgotten (the song position may have jumped); keys still held count from here."""
        if self._sounding:
            self._silence()
        self._cancel_requests()
        epoch = self._epoch + 1
        held = {pitch: (position // TICKS_PER_STEP, velocity)
                for pitch, (_start, velocity) in self._held.items()}
        if position == 0:
            self._clear_transport()
        self._epoch = epoch
        self._playing = True
        self._position = position - 1
        self._last_tick_at = at
        self._bar = position // TICKS_PER_BAR - (1 if position % TICKS_PER_BAR == 0 else 0)
        self._held = held
        self._played = []          # after a jump the old bars are no context of the new
        self._ready.clear()
        self._accompaniment.clear()
        self._requested.clear()

    def _on_step(self, step: int) -> None:
        bar, in_bar = divmod(step, STEPS_PER_BAR)
        if in_bar == 0:
            self._on_downbeat(bar)
        for pitch, off in list(self._sounding.items()):
            if off <= step:
                self._note_off(pitch)
        for planned in self._schedule.pop(step, ()):
            if planned.pitch in self._sounding:
                self._note_off(planned.pitch)
            self._send(mido.Message("note_on", channel=CHANNEL, note=planned.pitch,
                                    velocity=planned.velocity))
            self._sounding[planned.pitch] = step + planned.duration
        asking = bar + 1 not in self._requested and in_bar >= self._request_step()
        if asking or in_bar % 4 == 0:
            snapshot = self._snapshot(step)
            if asking:
                asked = _Asked()
                self._requested[bar + 1] = asked
                self._plan(_BarJob(snapshot, bar + 1, asked))
            if in_bar % 4 == 0:
                self._plan(_ChordJob(snapshot, bar, in_bar))

    def _on_downbeat(self, bar: int) -> None:
        self._bar = bar
        planned = self._ready.pop(bar, None)
        asked = self._requested.get(bar)
        if planned is not None:
            for note in planned:
                self._schedule.setdefault(bar * STEPS_PER_BAR + note.offset, []).append(note)
            self._accompaniment[bar] = planned
            self._played_bars += 1
        elif asked is not None and asked.request is not None:
            self._dropped += 1
            asked.cancel.set()
            log.info("jam: bar %d dropped, its accompaniment was not ready in time", bar + 1)
        elif asked is not None and not asked.empty:
            asked.missed = True  # the planner counts it as dropped if it finds a request
            asked.cancel.set()
        for old in [b for b in self._requested if b <= bar]:
            del self._requested[old]
        for old in [b for b in self._ready if b < bar]:
            del self._ready[old]
        for old in [b for b in self._accompaniment if b < bar - self._config.context_bars]:
            del self._accompaniment[old]
        keep_from = (bar - self._config.context_bars - 1) * STEPS_PER_BAR
        self._played = [n for n in self._played if n.end > keep_from]

    def _request_step(self) -> int:
        """The step of the bar at which the next bar's request leaves."""
        if self._latencies:
            latency = max(self._latencies)
        elif self._warmup_latency is not None:
            latency = self._warmup_latency
        else:
            return FIRST_REQUEST_STEP
        tempo = self._clock.tempo or self._config.tempo
        step_seconds = tick_seconds(tempo) * TICKS_PER_STEP
        lead = latency * LATENCY_MARGIN + SAFETY_SECONDS
        return max(0, STEPS_PER_BAR - math.ceil(lead / step_seconds))

    # ------------------------------------------------------------------ output

    def _send(self, message: mido.Message) -> None:
        try:
            self._outport.send(message)
        except (OSError, ValueError, RuntimeError) as err:
            raise PortError(f"MIDI output {self._outport.name!r} failed: {err}") from err

    def _note_off(self, pitch: int) -> None:
        del self._sounding[pitch]
        self._send(mido.Message("note_off", channel=CHANNEL, note=pitch, velocity=0))

    def _silence(self) -> None:
        """Note-off for every sounding note, then All Notes Off; forget the schedule."""
        messages = [mido.Message("note_off", channel=CHANNEL, note=pitch, velocity=0)
                    for pitch in self._sounding]
        messages.append(mido.Message("control_change", channel=CHANNEL,
                                     control=ALL_NOTES_OFF, value=0))
        self._sounding.clear()
        self._schedule.clear()
        if self._outport is None:
            return
        failures = []
        for message in messages:  # every one is tried, even after a failure
            try:
                self._send(message)
            except PortError as err:
                failures.append(err)
        if failures:
            raise failures[0]

    # ------------------------------------------------------------------- input

    def _on_message(self, message: mido.Message) -> None:
        """Input callback, on the backend's thread."""
        at = self._time.now()
        try:
            if self._clock.feed(message, at=at):
                return
            if message.type == "note_on" and message.velocity > 0:
                self._player_note_on(message.note, message.velocity, at)
            elif message.type in ("note_on", "note_off"):
                self._player_note_off(message.note, at)
        except Exception as err:  # the input thread must not die silently
            log.exception("jam: failure on the MIDI input thread")
            self._fail(f"{type(err).__name__}: {err}")

    def _step_at(self, at: float) -> int:
        """Nearest step to time ``at``, from the last tick and the tempo."""
        tempo = self._clock.tempo or self._config.tempo
        ticks = (at - self._last_tick_at) / tick_seconds(tempo)
        position = self._position + min(max(ticks, 0.0), float(TICKS_PER_STEP))
        return max(0, round(position / TICKS_PER_STEP))

    def _player_note_on(self, pitch: int, velocity: int, at: float) -> None:
        with self._lock:
            if not self._playing:
                return
            step = self._step_at(at)
            if pitch in self._held:
                self._close_held(pitch, step)
            self._held[pitch] = (step, velocity)

    def _player_note_off(self, pitch: int, at: float) -> None:
        with self._lock:
            if self._playing and pitch in self._held:
                self._close_held(pitch, self._step_at(at))

    def _close_held(self, pitch: int, step: int) -> None:
        start, velocity = self._held.pop(pitch)
        self._played.append(Note(start=start, pitch=pitch, duration=max(1, step - start),
                                 velocity=velocity))

    def _snapshot(self, now: int) -> _Snapshot:
        """The player's notes and the accompaniment as they are at step ``now`` (the
        clock thread's only part in planning: copies, no recognition)."""
        return _Snapshot(epoch=self._epoch, now=now, played=tuple(self._played),
                         held=tuple((p, s, v) for p, (s, v) in self._held.items()),
                         accompaniment=dict(self._accompaniment))

    # ------------------------------------------------------------------ requests

    def _bar_request(self, snapshot: _Snapshot, bar: int, cancel: threading.Event
                     ) -> _Request | None:
        """Request for ``bar``'s accompaniment with the bars before it as context; None
        when the player played nothing in the context bars (nothing to accompany)."""
        now, played_bars = snapshot.now, snapshot.accompaniment
        n_context = min(self._config.context_bars, bar)
        accompanied = 0   # context bars, counted back from the last, that the jam played
        while accompanied < n_context and bar - 1 - accompanied in played_bars:
            accompanied += 1
        if accompanied:
            n_context = accompanied
        first = bar - n_context
        origin = first * STEPS_PER_BAR
        chords = []
        latest: Chord | None = None
        for index in range(n_context):
            chord = snapshot.recognize(first + index)
            if chord is not None and not chord.is_no_chord:
                chords.append(ChordSpan(start=index * STEPS_PER_BAR, duration=STEPS_PER_BAR,
                                        chord=chord))
                latest = chord
        if latest is None:
            return None
        chords.append(ChordSpan(start=n_context * STEPS_PER_BAR, duration=STEPS_PER_BAR,
                                chord=latest))
        melody = _skyline(snapshot.player_notes(origin, min(now, bar * STEPS_PER_BAR)))
        context = [Note(start=(played - first) * STEPS_PER_BAR + note.offset, pitch=note.pitch,
                        duration=note.duration, velocity=note.velocity)
                   for played in range(first, bar) if played in played_bars
                   for note in played_bars[played]]
        seed = None if self._config.seed is None else (self._config.seed + bar) % (MAX_SEED + 1)
        return _Request(epoch=snapshot.epoch, bar=bar, context_bars=n_context,
                        melody=tuple(melody), chords=tuple(chords), context=tuple(context),
                        bars=BarRange(n_context if accompanied else 0, n_context + 1),
                        options=replace(self._options, seed=seed), cancel=cancel)

    def _warmup_request(self) -> _Request:
        """A call like the jam's (a C major chord, nothing known), so that the first
        bar's lead is measured."""
        n_bars = self._config.context_bars + 1
        chord = ChordSpan(start=0, duration=n_bars * STEPS_PER_BAR, chord=parse_symbol("C"))
        return _Request(epoch=-1, bar=None, context_bars=n_bars - 1, melody=(),
                        chords=(chord,), context=(), bars=BarRange(0, n_bars),
                        options=self._options, cancel=threading.Event())

    def _cancel_requests(self) -> None:
        for asked in self._requested.values():
            asked.cancel.set()

    def _submit(self, request: _Request) -> None:
        with self._idle:
            self._pending += 1
        self._queue.put(request)

    # ------------------------------------------------------------------- planner

    def _plan(self, job: _ChordJob | _BarJob) -> None:
        with self._idle:
            self._pending += 1
        self._plans.put(job)

    def _plan_work(self) -> None:
        """Planner thread: chords for state() and the requests, from the clock's
        snapshots; the clock thread never waits for it."""
        while True:
            job = self._plans.get()
            if job is None:
                return
            try:
                if isinstance(job, _ChordJob):
                    self._plan_chord(job)
                else:
                    self._plan_bar(job)
            except Exception as err:  # the planner thread must not die silently
                log.exception("jam: failure on the planner thread")
                self._fail(f"{type(err).__name__}: {err}")
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def _plan_chord(self, job: _ChordJob) -> None:
        snapshot = job.snapshot
        chord = snapshot.recognize(job.bar) if job.in_bar else None
        if chord is None or chord.is_no_chord:
            chord = snapshot.recognize(job.bar - 1) if job.bar > 0 else None
        if chord is None or chord.is_no_chord:
            return
        with self._lock:
            if not (self._running and snapshot.epoch == self._epoch):
                return
            self._chord = chord
        self._emit()

    def _plan_bar(self, job: _BarJob) -> None:
        asked = job.asked
        if asked.cancel.is_set() and not asked.missed:
            return  # the transport stopped or jumped meanwhile
        request = self._bar_request(job.snapshot, job.bar, asked.cancel)
        with self._lock:
            if not (self._running and job.snapshot.epoch == self._epoch):
                return
            if request is None:
                asked.empty = True
                return
            if asked.missed:
                self._dropped += 1
                log.info("jam: bar %d dropped, its request was not planned in time",
                         job.bar + 1)
                return
            asked.request = request
            self._submit(request)

    # -------------------------------------------------------------------- worker

    def _work(self) -> None:
        """Worker thread: runs the model, hands results to the clock side."""
        while True:
            try:
                request = self._queue.get(timeout=WATCHDOG_SECONDS)
            except queue.Empty:
                self.watchdog()
                continue
            if request is None:
                return
            try:
                self._run_request(request)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()
            self.watchdog()

    def _run_request(self, request: _Request) -> None:
        if request.cancel.is_set():
            return
        began = self._time.now()
        try:
            result = self._pipeline.accompany(
                list(request.chords), n_bars=request.context_bars + 1,
                melody=list(request.melody), options=request.options, cancel=request.cancel,
                context=list(request.context), bars=request.bars, live=True)
        except Cancelled:
            log.debug("jam: request for bar %s cancelled", request.bar)
            return
        except Exception as err:  # reported in state(), jam stopped
            log.exception("jam: generation failed")
            self._fail(f"generation failed: {type(err).__name__}: {err}")
            return
        latency = self._time.now() - began
        lo = request.context_bars * STEPS_PER_BAR
        hi = lo + STEPS_PER_BAR
        planned = [
            _Planned(offset=note.start - lo, pitch=note.pitch,
                     duration=min(note.duration, hi - note.start), velocity=note.velocity)
            for note in result.variations[0] if lo <= note.start < hi
        ]
        with self._lock:
            if request.bar is None:
                self._warmup_latency = latency
                return
            self._latencies.append(latency)
            if not self._running or request.epoch != self._epoch:
                return
            if self._position >= request.bar * TICKS_PER_BAR:
                log.debug("jam: bar %d came %.0f ms late, dropped", request.bar + 1,
                          1000 * latency)
                return
            self._ready[request.bar] = planned

    # ------------------------------------------------------------------- errors

    def _guarded(self, action: Callable[..., None], *args: Any) -> None:
        """Run a clock-side action; a failure stops the jam with the error reported."""
        try:
            action(*args)
        except Exception as err:  # the clock thread must not die silently
            log.exception("jam: failure on the clock thread")
            self._fail(f"{type(err).__name__}: {err}")

    def _fail(self, message: str) -> None:
        """Stop because of an error; the ports are closed on a separate thread, since the
        failing thread may be the one that closing waits for."""
        if not self._shutdown(error=message):
            return
        thread = threading.Thread(target=self._teardown, name="diffjam-jam-teardown",
                                  daemon=True)
        self._teardown_thread = thread
        thread.start()
        self._emit(force=True)

    def _shutdown(self, *, error: str | None) -> bool:
        """Mark the jam stopped and silence it; False when it was not running."""
        with self._lock:
            if not self._running:
                return False
            self._running = False
            self._playing = False
            if error is not None:
                self._error = error
            self._epoch += 1
            self._cancel_requests()
            if self._warmup is not None:
                self._warmup.cancel.set()
            try:
                self._silence()
            except PortError as err:
                log.warning("jam: could not silence the output: %s", err)
                self._error = self._error or str(err)
        return True

    def _teardown(self) -> None:
        """Stop the clock and the worker, close the ports (idempotent)."""
        self._clock.stop()
        self._clock.attach(None)
        planner, self._planner = self._planner, None
        if planner is not None:
            self._plans.put(None)
            if planner is not threading.current_thread():
                _join(planner, JOIN_SECONDS)
        worker, self._worker = self._worker, None
        if worker is not None:
            self._queue.put(None)
            if worker is not threading.current_thread():
                # a generation in progress was cancelled by _shutdown and ends at its next
                # sampler step; a stuck one (daemon thread) must not hang the engine's exit
                _join(worker, JOIN_SECONDS)
        with self._lock:
            inport, self._inport = self._inport, None
            outport, self._outport = self._outport, None
        if outport is not None:
            # python-rtmidi on JACK drops what is still queued when the port closes: give
            # the last note-offs a few process cycles to leave (real time, whatever the
            # clock's time source).
            threading.Event().wait(DRAIN_SECONDS)
        for port in (inport, outport):
            if port is not None:
                try:
                    port.close()
                except (OSError, ValueError, RuntimeError) as err:
                    log.warning("jam: closing %r failed: %s", port.name, err)
        if inport is not None:
            self._emit(force=True)

    def _emit(self, *, force: bool = False) -> None:
        if self._on_state is None:
            return
        snapshot = self.state()
        if not force and snapshot == self._last_emitted:
            return
        self._last_emitted = snapshot
        try:
            self._on_state(snapshot)
        except Exception:  # a listener must not break the jam
            log.exception("jam: on_state callback failed")


def _join(thread: threading.Thread, timeout: float) -> None:
    """Join ``thread`` for at most ``timeout`` s; a thread still alive then is logged."""
    thread.join(timeout)
    if thread.is_alive():
        log.warning("jam: thread %s did not end within %g s; leaving it (daemon)",
                    thread.name, timeout)


def _skyline(notes: Sequence[Note]) -> list[Note]:
    """The top line of ``notes`` (skyline, as in Uitdenbogerd & Zobel 1999): a note stays
    when no higher note sounds at its onset, and ends where a higher note starts."""
    line = []
    for note in notes:
        if any(other.pitch > note.pitch and other.start <= note.start < other.end
               for other in notes):
            continue
        end = min([other.start for other in notes
                   if other.pitch > note.pitch and note.start < other.start < note.end],
                  default=note.end)
        line.append(Note(start=note.start, pitch=note.pitch, duration=end - note.start,
                         velocity=note.velocity))
    return line
