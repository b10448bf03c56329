"""The live jam on an in-memory MIDI system, driven by MIDI clock on simulated time.

The "DAW" sends clock and notes to the jam's virtual input, the "synth" reads the jam's
virtual output. Every received message is stamped with the transport tick it came on,
so the assertions are about musical time, never wall-clock time.
"""

from __future__ import annotations

import gc
import math
import random
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mido
import pytest

from bridge.clock import InternalClock, MidiClock, SimulatedTime, tick_seconds
from bridge.jam import JamConfig, JamSession, freeze_start_up_objects
from bridge.jam_bench import (
    PatternPipeline,
    bench_report,
    format_report,
    long_jam,
    measure_jitter,
    report_failed,
)
from bridge.midiports import LoopbackBackend, LoopbackOutput, PortError
from diffjam.cli import main
from diffjam.commands import jam as jam_command
from engine.errors import ChordSymbolError, InputError
from engine.harmony import ChordSpan, parse_symbol
from engine.pianoroll import Note
from engine.pipeline import BarRange, Cancelled, Result, SamplingOptions
from tests.engine.conftest import make_tiny_model_file
from wire.limits import DEFAULT_CANDIDATES, JAM_CANDIDATES, JAM_CANDIDATES_GPU

WAIT_S = 10.0  # upper bound for the worker on a loaded machine; not a timing assert
TEMPO = 120.0


class FakePipeline:
    """``accompany`` without a model: in the last bar, the last chord's root two octaves
    below middle C's octave (offset 0, 8 steps) and its fifth (offset 8, 16 steps: cut
    at the bar line by the jam). ``gate``: wait for it before answering; ``latency``:
    seconds of simulated time each call takes; ``error``: raised instead. ``device``: where
    its model would run (the jam draws more candidates on a CUDA GPU)."""

    device = "cpu"

    def __init__(self, *, time: SimulatedTime | None = None, latency: float = 0.0,
                 gate: threading.Event | None = None, error: Exception | None = None,
                 fail_after: int | None = None) -> None:
        self.time = time
        self.latency = latency
        self.gate = gate
        self.error = error
        self.fail_after = fail_after
        self.calls: list[dict[str, Any]] = []
        self.cancel_seen: list[bool] = []
        self.entered = threading.Event()

    def accompany(self, chords, *, n_bars, melody=None, options, progress=None, cancel=None,
                  context=(), bars=None, live=False):
        self.calls.append({"chords": list(chords), "n_bars": n_bars,
                           "melody": list(melody or []), "options": options,
                           "context": list(context), "bars": bars, "live": live})
        self.entered.set()
        if self.error is not None and (self.fail_after is None
                                       or len(self.calls) > self.fail_after):
            raise self.error
        if self.gate is not None:
            assert self.gate.wait(WAIT_S)
        if cancel is not None and cancel.is_set():
            self.cancel_seen.append(True)
            raise Cancelled("cancelled")
        if self.time is not None:
            self.time.advance(self.latency)
        notes = []
        if chords:
            root = chords[-1].chord.root
            last = 16 * (n_bars - 1)
            notes += [Note(start=last, pitch=36 + root, duration=8, velocity=90),
                      Note(start=last + 8, pitch=43 + root, duration=16, velocity=70)]
        return Result(variations=(tuple(notes),), n_bars=n_bars, generated=bars, key=None,
                      nfe=options.steps, seconds=0.0)


@dataclass
class Rig:
    """A jam session with a DAW and a synth around it, on simulated time."""

    pipeline: FakePipeline
    config: JamConfig
    time: SimulatedTime = field(default_factory=SimulatedTime)
    backend: LoopbackBackend = field(default_factory=LoopbackBackend)
    states: list[dict] = field(default_factory=list)
    received: list[tuple[int, mido.Message]] = field(default_factory=list)
    position: int = -1

    def __post_init__(self) -> None:
        self.clock = MidiClock(time=self.time)
        if self.pipeline.time is None:
            self.pipeline.time = self.time
        self.session = JamSession(self.pipeline, self.config, backend=self.backend,
                                  clock=self.clock, on_state=self.states.append)
        self.session.start()
        assert self.session.wait_idle(WAIT_S)       # the warm-up call
        self.daw = self.backend.open_output("diffjam in")
        self.synth = self.backend.open_input("diffjam out", callback=self._receive)

    def _receive(self, message: mido.Message) -> None:
        self.received.append((self.position, message))

    def send(self, kind: str, **fields: Any) -> None:
        self.daw.send(mido.Message(kind, **fields))

    def start(self) -> None:
        self.send("start")

    def tick_to(self, position: int) -> None:
        """Clock ticks up to and including ``position``; the worker finishes whatever a
        tick asked for before the next tick (generation takes no transport time)."""
        while self.position < position:
            self.position += 1
            self.time.advance(tick_seconds(TEMPO))
            self.send("clock")
            assert self.session.wait_idle(WAIT_S)

    def notes_on(self, *pitches: int, velocity: int = 100) -> None:
        for pitch in pitches:
            self.send("note_on", note=pitch, velocity=velocity)

    def notes_off(self, *pitches: int) -> None:
        for pitch in pitches:
            self.send("note_off", note=pitch)

    def heard(self) -> list[tuple[int, str, int]]:
        """(tick, type, note or control) of what the synth received."""
        return [(tick, m.type, m.note if hasattr(m, "note") else m.control)
                for tick, m in self.received]

    def sounding(self) -> set[int]:
        """Notes the synth would still hold (All Notes Off releases everything)."""
        held: set[int] = set()
        for _tick, message in self.received:
            if message.type == "note_on" and message.velocity > 0:
                held.add(message.note)
            elif message.type in ("note_off", "note_on"):
                held.discard(message.note)
            elif message.type == "control_change" and message.control == 123:
                held.clear()
        return held


def midi_config(**overrides: Any) -> JamConfig:
    return JamConfig(**{"clock": "midi", "seed": 7, **overrides})


@pytest.fixture
def rig() -> Rig:
    made = Rig(FakePipeline(), midi_config())
    yield made
    made.session.stop()


C, E, G, A, F = 60, 64, 67, 57, 53     # C4 E4 G4 A3 F3
B, D = 59, 62


def test_accompanies_the_next_bar_with_the_players_chord(rig: Rig) -> None:
    rig.start()
    rig.tick_to(0)
    rig.notes_on(C, E, G)
    rig.tick_to(2 * 96)
    assert rig.heard() == [(96, "note_on", 36), (144, "note_off", 36), (144, "note_on", 43),
                           (192, "note_off", 43), (192, "note_on", 36)]
    warmup, call, then = rig.pipeline.calls
    assert warmup["melody"] == [] and warmup["n_bars"] == 4
    # bar 2 is asked for during bar 1, at its last 16th (the measured latency is 0 here);
    # nothing was played before, so the model writes both bars and the last one is kept
    assert call["n_bars"] == 2 and call["bars"] == BarRange(0, 2) and call["context"] == []
    assert call["melody"] == [Note(0, G, 15, 100)]          # the top line of the chord
    assert [(s.start, s.duration, s.chord.symbol()) for s in call["chords"]] == [
        (0, 16, "C"), (16, 16, "C")]
    # bar 3 continues what bar 2 played: bar 2 is known context, bar 3 is written
    assert then["n_bars"] == 2 and then["bars"] == BarRange(1, 2)
    assert then["context"] == [Note(0, 36, 8, 90), Note(8, 43, 8, 70)]
    # four candidates a bar, not a one-shot accompaniment's eight: the bar has a deadline
    assert call["options"] == SamplingOptions(guidance=4.0, in_key=True, key=None, steps=10,
                                              seed=8, candidates=4)
    # every bar (the warm-up too) runs ahead of the engine's other requests
    assert [c["live"] for c in rig.pipeline.calls] == [True, True, True]
    assert rig.session.state() | {"latency_ms": None} == {
        "running": True, "playing": True, "bar": 3, "chord": "C", "tempo": TEMPO,
        "clock": "midi", "error": None, "played": 2, "dropped": 0, "latency_ms": None}


@pytest.mark.parametrize(("device", "drawn"), [("cpu", JAM_CANDIDATES),
                                                ("cuda:0", JAM_CANDIDATES_GPU),
                                                ("mps", JAM_CANDIDATES)])  # not measured
def test_a_jam_on_a_cuda_gpu_draws_the_one_shot_count_of_candidates(device: str,
                                                                    drawn: int) -> None:
    pipeline = FakePipeline()
    pipeline.device = device
    made = Rig(pipeline, midi_config())
    try:
        made.start()
        made.tick_to(0)
        made.notes_on(C, E, G)
        made.tick_to(2 * 96)
        assert [c["options"].candidates for c in pipeline.calls] == [drawn] * 3
    finally:
        made.session.stop()
    assert JAM_CANDIDATES < JAM_CANDIDATES_GPU == DEFAULT_CANDIDATES["accompany"]


def test_context_is_the_last_bars_with_their_chords(rig: Rig) -> None:
    rig.start()
    progression = [(A, C, E), (F, A, C), (C, E, G), (55, B, D), (A, C, E)]
    for bar, chord in enumerate(progression):
        rig.tick_to(bar * 96)
        rig.notes_on(*chord)
        rig.tick_to(bar * 96 + 48)
        rig.notes_off(*chord)
    rig.tick_to(5 * 96)
    call = rig.pipeline.calls[-1]                 # for bar 6, with bars 3..5 as context
    assert call["n_bars"] == 4 and call["bars"] == BarRange(3, 4)
    assert [n.start for n in call["context"]] == [0, 8, 16, 24, 32, 40]
    assert [(s.start, s.chord.symbol()) for s in call["chords"]] == [
        (0, "C"), (16, "G"), (32, "Am"), (48, "Am")]
    assert call["melody"] == [Note(0, G, 8, 100), Note(16, D, 8, 100), Note(32, E, 8, 100)]
    assert call["options"].seed == 7 + 5
    assert rig.session.state()["chord"] == "Am"


def test_chord_follows_the_player_beat_by_beat(rig: Rig) -> None:
    rig.start()
    rig.tick_to(0)
    rig.notes_on(A, C, E)
    rig.tick_to(24)
    assert rig.session.state()["chord"] == "Am"
    rig.notes_off(A, C, E)
    rig.tick_to(96)
    rig.notes_on(F, A, C)
    rig.tick_to(96 + 24)
    assert rig.session.state()["chord"] == "F"
    chords = [s["chord"] for s in rig.states]
    assert chords.index("Am") < chords.index("F")


def test_no_player_notes_no_request_and_silence(rig: Rig) -> None:
    rig.start()
    rig.tick_to(3 * 96)
    assert len(rig.pipeline.calls) == 1           # the warm-up only
    assert rig.received == []


def test_late_result_is_dropped_never_played() -> None:
    gate = threading.Event()
    gate.set()                                     # let the warm-up through
    rig = Rig(FakePipeline(gate=gate), midi_config())
    try:
        gate.clear()
        rig.pipeline.entered.clear()
        rig.start()
        rig.tick_to(0)
        rig.notes_on(C, E, G)
        # bar 2 is asked for on tick 90; tick past its downbeat while the model works
        while rig.position < 100:
            rig.position += 1
            rig.time.advance(tick_seconds(TEMPO))
            rig.send("clock")
            if rig.position == 90:
                assert rig.pipeline.entered.wait(WAIT_S)
        assert len(rig.pipeline.calls) == 2
        gate.set()
        rig.tick_to(2 * 96 - 1)
        assert rig.heard() == []
        assert rig.pipeline.cancel_seen == [True]
        assert rig.session.state()["dropped"] == 1
        rig.tick_to(3 * 96)                        # the next bar is in time again
        assert rig.heard()[0] == (192, "note_on", 36)
    finally:
        gate.set()
        rig.session.stop()


def test_the_clock_thread_only_plays_while_the_planner_works(
        rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    # Chord recognition, and with it every request, runs on the planner's thread: a stuck
    # planner holds up neither the ticks nor the notes already planned, and a bar it could
    # not plan before its downbeat is dropped, never played late.
    import bridge.jam as jam_module

    threads: set[str] = set()
    gate = threading.Event()
    gate.set()
    recognize = jam_module.recognize_chord_from_notes

    def stuck_recognize(*args: Any, **kwargs: Any) -> Any:
        threads.add(threading.current_thread().name)
        assert gate.wait(WAIT_S)
        return recognize(*args, **kwargs)

    monkeypatch.setattr(jam_module, "recognize_chord_from_notes", stuck_recognize)
    rig.start()
    rig.tick_to(0)
    rig.notes_on(C, E, G)
    rig.tick_to(96)
    assert len(rig.pipeline.calls) == 2 and rig.heard() == [(96, "note_on", 36)]
    gate.clear()                                   # the planner's next recognition waits
    while rig.position < 2 * 96 + 8:               # through bar 3's downbeat, not waiting
        rig.position += 1
        rig.time.advance(tick_seconds(TEMPO))
        rig.send("clock")
    assert rig.heard() == [(96, "note_on", 36), (144, "note_off", 36), (144, "note_on", 43),
                           (192, "note_off", 43)]
    assert rig.session.state()["bar"] == 3
    gate.set()
    assert rig.session.wait_idle(WAIT_S)
    assert rig.session.state()["dropped"] == 1     # bar 3: planned after its downbeat
    assert len(rig.pipeline.calls) == 2            # ... so never sent to the model
    assert threads == {"diffjam-jam-planner"}
    rig.tick_to(4 * 96)                            # bars 4 and 5 are in time again
    assert rig.heard()[4:] == [(288, "note_on", 36), (336, "note_off", 36),
                               (336, "note_on", 43), (384, "note_off", 43),
                               (384, "note_on", 36)]
    assert len(rig.pipeline.calls) == 4
    assert rig.session.state()["played"] == 3 and rig.session.state()["dropped"] == 1


def test_request_leaves_earlier_when_generation_is_slow() -> None:
    # 0.28 s at 120 BPM: lead = 0.28 * 1.5 + 0.05 = 0.47 s, 4 steps (of 0.125 s) before
    # the bar line
    rig = Rig(FakePipeline(latency=0.28), midi_config())
    try:
        rig.start()
        rig.tick_to(0)
        rig.notes_on(C, E, G)
        rig.tick_to(12 * 6 - 1)
        assert len(rig.pipeline.calls) == 1
        rig.tick_to(12 * 6)
        assert len(rig.pipeline.calls) == 2
        rig.tick_to(2 * 96)
        assert rig.heard()[0] == (96, "note_on", 36)
    finally:
        rig.session.stop()


def test_stop_sends_note_offs_and_all_notes_off(rig: Rig) -> None:
    rig.start()
    rig.tick_to(0)
    rig.notes_on(C, E, G)
    rig.tick_to(100)
    assert rig.sounding() == {36}
    rig.session.stop()
    assert rig.heard()[-2:] == [(100, "note_off", 36), (100, "control_change", 123)]
    assert rig.sounding() == set()
    assert rig.session.state()["running"] is False
    assert rig.states[-1]["running"] is False
    assert rig.backend.get_output_names() == [] and rig.backend.get_input_names() == []
    rig.session.stop()                             # twice is fine


def test_transport_stop_silences_and_continue_resumes_at_the_pointer(rig: Rig) -> None:
    rig.start()
    rig.tick_to(0)
    rig.notes_on(C, E, G)
    rig.tick_to(48)
    rig.notes_off(C, E, G)
    rig.tick_to(100)
    rig.send("stop")
    assert rig.heard()[-2:] == [(100, "note_off", 36), (100, "control_change", 123)]
    assert rig.session.state()["playing"] is False
    rig.send("songpos", pos=4 * 16)                # bar 5
    rig.position = 4 * 96 - 1
    rig.send("continue")
    rig.tick_to(6 * 96)
    # bars 3..5, the context of bar 6, hold no player notes: nothing to accompany
    assert [h for h in rig.heard() if h[0] > 100] == []
    rig.notes_on(C, E, G)
    rig.tick_to(7 * 96)
    assert (7 * 96, "note_on", 36) in rig.heard()
    assert rig.session.state()["bar"] == 8


def test_restart_from_zero_forgets_the_old_bars(rig: Rig) -> None:
    rig.start()
    rig.tick_to(0)
    rig.notes_on(C, E, G)
    rig.tick_to(3 * 96 + 10)
    before = len(rig.received)
    rig.send("start")                              # the keys stay down
    rig.position = -1
    rig.tick_to(96)
    assert rig.heard()[before:] == [(298, "note_off", 36), (298, "control_change", 123),
                                    (96, "note_on", 36)]
    assert rig.pipeline.calls[-1]["melody"] == [Note(0, G, 15, 100)]
    assert rig.session.state()["bar"] == 2


def test_repeated_pitch_is_released_before_it_sounds_again() -> None:
    class Repeats(FakePipeline):
        def accompany(self, chords, *, n_bars, melody=None, options, progress=None,
                      cancel=None, context=(), bars=None, live=False):
            result = super().accompany(chords, n_bars=n_bars, melody=melody,
                                       options=options, cancel=cancel, context=context,
                                       bars=bars, live=live)
            last = 16 * (n_bars - 1)
            notes = (Note(last, 50, 6), Note(last + 4, 50, 4))
            return Result(variations=(notes,), n_bars=n_bars, generated=result.generated,
                          key=None, nfe=1, seconds=0.0)

    rig = Rig(Repeats(), midi_config())
    try:
        rig.start()
        rig.tick_to(0)
        rig.notes_on(C, E, G)
        rig.tick_to(2 * 96 - 1)
        assert rig.heard() == [(96, "note_on", 50), (120, "note_off", 50),
                               (120, "note_on", 50), (144, "note_off", 50)]
    finally:
        rig.session.stop()


def test_silent_midi_clock_releases_sounding_notes(rig: Rig) -> None:
    rig.start()
    rig.tick_to(0)
    rig.notes_on(C, E, G)
    rig.tick_to(100)
    rig.session.watchdog()
    assert rig.sounding() == {36}                  # the clock is alive
    rig.time.advance(1.5)
    rig.session.watchdog()
    assert rig.sounding() == set()
    assert rig.session.state()["running"] is True


def test_player_notes_snap_to_the_nearest_step(rig: Rig) -> None:
    rig.start()
    rig.tick_to(0)
    rig.tick_to(3 * 6 + 3)                         # between steps 3 and 4: 3.5 -> 4
    rig.time.advance(0.4 * tick_seconds(TEMPO))
    rig.notes_on(C)
    rig.tick_to(5 * 6 + 1)                         # 5 + 1/6 steps -> 5
    rig.notes_off(C)
    rig.notes_on(E, G)
    rig.tick_to(2 * 96)
    melody = rig.pipeline.calls[1]["melody"]
    assert melody[0] == Note(4, C, 1, 100)
    assert melody[1].start == 5


def test_generation_error_stops_the_jam_silenced() -> None:
    rig = Rig(FakePipeline(error=RuntimeError("model exploded"), fail_after=2),
              midi_config())
    rig.start()
    rig.tick_to(0)
    rig.notes_on(C, E, G)
    rig.tick_to(96 + 90)                           # bar 2 plays, bar 3's request fails
    rig.session.stop()
    state = rig.session.state()
    assert state["running"] is False
    assert state["error"] == "generation failed: RuntimeError: model exploded"
    assert rig.states[-1]["error"] == state["error"]
    assert rig.heard()[-1] == (96 + 90, "control_change", 123)
    assert rig.sounding() == set()


class FlakyOutput(LoopbackOutput):
    """An output whose device disappears: the jam's sends fail once ``broken`` is set."""

    broken = False

    def _send(self, message: mido.Message) -> None:
        if FlakyOutput.broken and self.name == "diffjam out":
            raise OSError("device unplugged")
        super()._send(message)


class FlakyBackend(LoopbackBackend):
    def open_output(self, name: str | None = None, virtual: bool = False) -> LoopbackOutput:
        return FlakyOutput(name, bus=self, virtual=virtual)


def test_dead_output_stops_the_jam_with_a_port_error_message() -> None:
    FlakyOutput.broken = False
    rig = Rig(FakePipeline(), midi_config(), backend=FlakyBackend())
    try:
        rig.start()
        rig.tick_to(0)
        rig.notes_on(C, E, G)
        rig.tick_to(95)
        FlakyOutput.broken = True
        rig.tick_to(96)
        rig.session.stop()
        state = rig.session.state()
        assert state["running"] is False
        assert state["error"] == ("PortError: MIDI output 'diffjam out' failed: "
                                  "device unplugged")
    finally:
        FlakyOutput.broken = False
        rig.session.stop()


def test_missing_ports_raise_port_error_and_leave_nothing_open() -> None:
    backend = LoopbackBackend()
    session = JamSession(FakePipeline(), midi_config(input="Keystation"), backend=backend)
    with pytest.raises(PortError, match="no MIDI input port named 'Keystation'"):
        session.start()
    assert backend.get_input_names() == [] and backend.get_output_names() == []
    session = JamSession(FakePipeline(), midi_config(output="Synth"), backend=backend)
    with pytest.raises(PortError, match="no MIDI output port named 'Synth'"):
        session.start()
    assert backend.get_input_names() == []


def test_named_ports_connect_to_devices() -> None:
    backend = LoopbackBackend()
    keyboard = backend.open_output("Keystation 49", virtual=True)
    heard: list[mido.Message] = []
    backend.open_input("Synth", virtual=True, callback=heard.append)
    time = SimulatedTime()
    session = JamSession(FakePipeline(time=time), midi_config(input="keystation",
                                                              output="Synth"),
                         backend=backend, clock=MidiClock(time=time))
    session.start()
    try:
        keyboard.send(mido.Message("start"))
        for position in range(2 * 96):
            time.advance(tick_seconds(TEMPO))
            keyboard.send(mido.Message("clock"))
            if position == 0:
                for pitch in (55, B, D):
                    keyboard.send(mido.Message("note_on", note=pitch, velocity=90))
            assert session.wait_idle(WAIT_S)
        assert [m.note for m in heard if m.type == "note_on"] == [43, 50]
    finally:
        session.stop()


def test_internal_clock_drives_the_jam() -> None:
    class SteppedTime(SimulatedTime):
        """The clock thread sleeps through one tick per released tick; ``ticks`` counts
        the sleeps begun, so during tick n's work it is n + 1."""

        def __init__(self) -> None:
            super().__init__()
            self.allowed = 0
            self.ticks = 0
            self.turn = threading.Condition()

        def sleep_until(self, deadline: float, stop: threading.Event) -> bool:
            with self.turn:
                self.ticks += 1
                self.turn.notify_all()
                while not (self.allowed > 0 or stop.is_set()):
                    self.turn.wait(0.01)           # stop() sets the event without notifying
                if stop.is_set():
                    return False
                self.allowed -= 1
            self.set(deadline)
            return True

        def release(self, ticks: int) -> None:
            """Let ``ticks`` ticks happen; return once the clock is asleep again."""
            with self.turn:
                self.turn.wait_for(lambda: self.ticks > 0)
                target = self.ticks + ticks
                self.allowed += ticks
                self.turn.notify_all()
                assert self.turn.wait_for(lambda: self.ticks >= target, WAIT_S)

    time = SteppedTime()
    backend = LoopbackBackend()
    heard: list[tuple[int, str, int]] = []
    pipeline = FakePipeline(time=time)
    session = JamSession(pipeline, JamConfig(clock="internal", tempo=90.0), backend=backend,
                         clock=InternalClock(90.0, time=time))
    session.start()
    keys = backend.open_output("diffjam in")
    backend.open_input("diffjam out",
                       callback=lambda m: heard.append((time.ticks - 1, m.type,
                                                        getattr(m, "note", None))))
    try:
        assert session.wait_idle(WAIT_S)
        time.release(1)                            # tick 0
        for pitch in (F, A, C):
            keys.send(mido.Message("note_on", note=pitch, velocity=80))
        for _ in range(2 * 96):
            time.release(1)
            assert session.wait_idle(WAIT_S)
        assert heard == [(96, "note_on", 41), (144, "note_off", 41), (144, "note_on", 48),
                         (192, "note_off", 48), (192, "note_on", 41)]
        assert session.state()["tempo"] == 90.0 and session.state()["clock"] == "internal"
    finally:
        session.stop()
    assert session.state()["running"] is False


def test_random_transport_and_playing_leaves_no_stuck_notes() -> None:
    chance = random.Random(1234)
    rig = Rig(FakePipeline(), midi_config())
    try:
        rig.start()
        for _ in range(600):
            roll = chance.random()
            if roll < 0.85:
                rig.tick_to(rig.position + chance.randint(1, 24))
            elif roll < 0.93:
                pitch = chance.choice([C, E, G, A, F, B, D])
                if chance.random() < 0.6:
                    rig.notes_on(pitch, velocity=chance.randint(1, 127))
                else:
                    rig.notes_off(pitch)
            elif roll < 0.96:
                rig.send("stop")
                assert rig.sounding() == set()
                rig.send("continue")
            elif roll < 0.98:
                rig.send("stop")
                position = chance.randint(0, 40)
                rig.send("songpos", pos=position * 16)
                rig.position = position * 96 - 1
                rig.send("continue")
            else:
                rig.send("start")
                rig.position = -1
        assert sum(1 for _t, m in rig.received if m.type == "note_on") > 20
    finally:
        rig.session.stop()
    assert rig.sounding() == set()
    assert rig.session.state()["error"] is None


def test_config_is_validated_with_precise_messages() -> None:
    with pytest.raises(InputError, match="jam clock must be 'midi' or 'internal', got 'daw'"):
        JamConfig(clock="daw")
    with pytest.raises(InputError, match="jam tempo must be 20..300 BPM, got 0"):
        JamConfig(tempo=0)
    with pytest.raises(InputError, match="jam steps must be 1..1000, got 0"):
        JamConfig(steps=0)
    with pytest.raises(InputError, match="jam context_bars must be 1..16, got 0"):
        JamConfig(context_bars=0)
    with pytest.raises(InputError, match="jam input must be a port name or null"):
        JamConfig(input="")
    with pytest.raises(ChordSymbolError):
        JamSession(FakePipeline(), JamConfig(key="Q# dorian"))
    with pytest.raises(ValueError, match="clock is 'midi' but the config asks for 'internal'"):
        JamSession(FakePipeline(), JamConfig(), clock=MidiClock())


def test_a_session_runs_once(rig: Rig) -> None:
    with pytest.raises(RuntimeError, match="already started"):
        rig.session.start()


def test_chord_spans_are_engine_chords(rig: Rig) -> None:
    rig.start()
    rig.tick_to(0)
    rig.notes_on(A, C, E)
    rig.tick_to(96)
    span = rig.pipeline.calls[1]["chords"][0]
    assert span == ChordSpan(start=0, duration=16, chord=parse_symbol("Am"))


def test_bench_long_jam_leaves_no_stuck_notes() -> None:
    figures = long_jam(minutes=1.0)
    assert figures["bars"] == 30
    assert figures["stuck_after_stop"] == 0 and figures["stuck_at_transport_stops"] == 0
    assert figures["error"] is None and figures["dropped"] == 0
    assert figures["longest_note_ticks"] == 24      # a quarter: the pattern's length
    assert figures["note_ons"] == 29 * 8           # every bar but the first, 8 notes each


@pytest.mark.parametrize(("device", "drawn"), [("cpu", JAM_CANDIDATES),
                                                ("cuda", JAM_CANDIDATES_GPU)])
def test_bench_jam_reports_the_candidates_its_jam_draws(device: str, drawn: int) -> None:
    pipeline = PatternPipeline()
    pipeline.device = device
    report = bench_report(pipeline, bpms=[300.0], bars=2, steps=2, guidance=4.0,
                          jitter_bars=1, minutes=0.1, fake_model=True)
    assert report["candidates"] == drawn
    assert f"2 steps, the best of {drawn} a bar, guidance 4" in format_report(report)


def test_bench_jitter_beside_requests_asks_the_same_pipeline_and_reports_it() -> None:
    pipeline = PatternPipeline()
    asked = []
    plain = pipeline.accompany

    def accompany(chords, **kwargs):
        asked.append(kwargs.get("live", False))
        if len(asked) == 2:
            gc.collect()  # one full collection during the run, counted and timed
        return plain(chords, **kwargs)

    pipeline.accompany = accompany  # type: ignore[method-assign]
    row = measure_jitter(pipeline, tempo=300.0, bars=3, steps=2, beside_requests=True)
    # the jam's bars are live, the client's requests are not, and both were answered
    assert True in asked and row["beside_requests"] == asked.count(False) > 0
    assert row["beside_error"] is None
    # the jam's bars timed, the warm-up left out
    assert 0.0 <= row["bar_p50_ms"] <= row["bar_p99_ms"] <= row["bar_max_ms"] < math.inf
    assert 0 < row["bars_with_notes"] <= row["bars"]  # the run's own bars only
    assert row["gc_full"] >= 1 and row["gc_max_ms"] > 0.0
    report = {"model": {"model": "pattern (fake)", "device": "none"}, "steps": 2,
              "guidance": 4.0, "load": 0, "machine": {"platform": "here"}, "latency": [],
              "jitter": [row], "long_jam": long_jam(minutes=0.2)}
    assert f"pattern (fake) +{row['beside_requests']} req" in format_report(report)
    assert not report_failed(report)

    def failing(chords, **kwargs):  # the client's requests fail, the jam's bars do not
        if not kwargs.get("live", False):
            raise RuntimeError("out of memory")
        return plain(chords, **kwargs)

    pipeline.accompany = failing  # type: ignore[method-assign]
    row = measure_jitter(pipeline, tempo=300.0, bars=3, steps=2, beside_requests=True)
    assert (row["beside_requests"], row["beside_error"]) == (0, "RuntimeError: out of memory")
    report["jitter"] = [row]
    assert report_failed(report)
    assert "the requests beside it failed: RuntimeError: out of memory" in format_report(report)


def test_freezing_the_start_up_objects_keeps_them_out_of_full_collections() -> None:
    alive = [[n] for n in range(1000)]  # lists: always tracked by the collector
    try:
        freeze_start_up_objects()
        assert gc.get_freeze_count() >= len(alive)
        scanned = {id(obj) for generation in range(3) for obj in gc.get_objects(generation)}
        assert not any(id(obj) in scanned for obj in alive)
        later = ["made after"]
        assert any(obj is later for obj in gc.get_objects(0))  # collected as before
    finally:
        gc.unfreeze()


def test_the_jam_commands_freeze_the_start_up_objects_once_the_model_is_loaded(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    events: list[str] = []
    monkeypatch.setattr(jam_command, "freeze_start_up_objects",
                        lambda: events.append("freeze"))
    pipeline = jam_command._load_pipeline(make_tiny_model_file(tmp_path / "tiny.safetensors"),
                                          "cpu", threads=1)
    assert events == ["freeze"] and pipeline.info()["model"] == "tiny-test"


def test_cli_jam_reports_an_unreachable_midi_system(capsys: pytest.CaptureFixture) -> None:
    assert main(["jam", "--backend", "mido.backends.no_such_backend", "--input", "x"]) == 1
    assert capsys.readouterr().err == (
        "diffjam jam: error: cannot list MIDI ports (mido.backends.no_such_backend): "
        "No module named 'mido.backends.no_such_backend'\n")


def test_cli_jam_refuses_a_bad_tempo(capsys: pytest.CaptureFixture) -> None:
    assert main(["jam", "--tempo", "500"]) == 2
    assert "jam tempo must be 20..300 BPM, got 500.0" in capsys.readouterr().err


class _SlowWarmupPipeline:
    """``accompany`` that runs until its cancel event is set (or WAIT_S passes), like a
    long generation that checks for cancellation between sampler steps."""

    device = "cpu"

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.cancelled: list[bool] = []

    def accompany(self, chords, *, n_bars, melody=None, options, progress=None, cancel=None,
                  context=(), bars=None, live=False):
        self.entered.set()
        self.cancelled.append(cancel is not None and cancel.wait(WAIT_S))
        if self.cancelled[-1]:
            raise Cancelled("cancelled")
        return Result(variations=((),), n_bars=n_bars, generated=bars, key=None,
                      nfe=options.steps, seconds=0.0)


def test_stop_cancels_the_warmup_generation() -> None:
    # the warm-up call runs while the jam is stopped (e.g. at engine shutdown): stop
    # cancels it, so the worker ends at once instead of after the whole generation
    pipeline = _SlowWarmupPipeline()
    time = SimulatedTime()
    session = JamSession(pipeline, midi_config(), backend=LoopbackBackend(),
                         clock=MidiClock(time=time))
    session.start()
    assert pipeline.entered.wait(WAIT_S)
    session.stop()
    assert session.wait_idle(WAIT_S)
    assert pipeline.cancelled == [True]
    assert session.state()["running"] is False
