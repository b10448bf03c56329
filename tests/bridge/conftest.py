"""Fakes for the bridge tests: a pipeline, a jam session, and a UDP OSC client."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from bridge.server import JamControl, OscServer
from bridge.worker import PipelineRunner
from engine.pianoroll import STEPS_PER_BAR, Note
from engine.pipeline import BarRange, Cancelled, Result

WAIT_S = 10.0  # generous upper bound for a reply on a loaded 2-core machine; not a timing assert


class FakePipeline:
    """Implements Pipeline's request methods without a model.

    Like the real one, infill keeps the clip's notes that start outside ``bars`` and
    accompany returns the accompaniment only. Each variation holds, for each generated
    bar b (0-based), one note
    ``Note(start=16*b, pitch=60+variation, duration=4, velocity=90)``. It runs
    ``options.steps`` "sampler steps", reporting progress after each and checking
    ``cancel`` before each; with ``gate`` set it waits for the gate before every step.
    ``error`` is raised instead of generating.

    A song (:meth:`song`) runs both stages so, each bar holding melody ``Note(16*b, 72,
    4)``, chord C major and accompaniment ``Note(16*b, 48, 8)``; without ``lead_sheet`` it
    refuses as the real one does.
    """

    def __init__(self, *, gate: threading.Event | None = None,
                 error: BaseException | None = None, lead_sheet: bool = True) -> None:
        self.gate = gate
        self.error = error
        self.lead_sheet = lead_sheet
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.started = threading.Event()

    def info(self) -> dict[str, Any]:
        info = {"model": "fake-model", "path": "fake.safetensors", "device": "cpu",
                "parameters": 0, "window_bars": 8, "trained_steps": 0}
        return {**info, "leadsheet": {"steps": 0}} if self.lead_sheet else info

    def song(self, form, *, key, tempo=96.0, options=None, fixed=None, progress=None,
             cancel=None):
        from engine.errors import InputError
        from engine.harmony import ChordSpan, parse_symbol
        from engine.song import STAGES, FixedParts, Song, SongOptions

        options, fixed = options or SongOptions(), fixed or FixedParts()
        self.calls.append(("song", {"form": tuple(form), "key": key, "tempo": tempo,
                                    "options": options, "fixed": fixed}))
        self.started.set()
        if not self.lead_sheet:
            raise InputError("this engine has no lead-sheet model, so it cannot write songs")
        if self.error is not None:
            raise self.error
        for stage in STAGES:
            for step in range(options.steps):
                self._wait(cancel)
                if progress is not None:
                    progress(stage, (step + 1) / options.steps)
        n_bars = sum(phrase.bars for phrase in form)
        bars = range(n_bars)
        return Song(
            phrases=tuple(form), key=key, tempo=tempo, n_bars=n_bars,
            melody=tuple(Note(STEPS_PER_BAR * b, 72, 4, 90) for b in bars),
            chords=tuple(ChordSpan(STEPS_PER_BAR * b, STEPS_PER_BAR, parse_symbol("C"))
                         for b in bars),
            accompaniment=tuple(Note(STEPS_PER_BAR * b, 48, 8, 70) for b in bars),
            seed=options.seed if options.seed is not None else 1234,
            seconds={STAGES[0]: 0.5, STAGES[1]: 0.25, "total": 0.75})

    def _wait(self, cancel) -> None:
        """One "sampler step": wait for the gate (if any), checking ``cancel``."""
        if self.gate is not None:
            while not self.gate.wait(0.005):
                if cancel is not None and cancel.is_set():
                    raise Cancelled("cancelled")
        if cancel is not None and cancel.is_set():
            raise Cancelled("cancelled")

    def infill(self, notes, *, n_bars, bars, chords=None, options, progress=None, cancel=None):
        self.calls.append(("infill", {"notes": list(notes), "n_bars": n_bars, "bars": bars,
                                      "chords": chords, "options": options}))
        lo, hi = bars.start * STEPS_PER_BAR, bars.stop * STEPS_PER_BAR
        kept = [note for note in notes if not lo <= note.start < hi]
        return self._run(kept, n_bars, bars, options, progress, cancel)

    def accompany(self, chords, *, n_bars, melody=None, options, progress=None, cancel=None):
        self.calls.append(("accompany", {"chords": chords, "n_bars": n_bars, "melody": melody,
                                         "options": options}))
        return self._run([], n_bars, BarRange(0, n_bars), options, progress, cancel)

    def generate(self, *, n_bars, chords=None, options, progress=None, cancel=None):
        self.calls.append(("generate", {"n_bars": n_bars, "chords": chords, "options": options}))
        return self._run([], n_bars, BarRange(0, n_bars), options, progress, cancel)

    def _run(self, notes, n_bars, bars, options, progress, cancel) -> Result:
        self.started.set()
        if self.error is not None:
            raise self.error
        for step in range(options.steps):
            self._wait(cancel)
            if progress is not None:
                progress((step + 1) / options.steps)
        variations = tuple(
            tuple(sorted([*notes, *(Note(start=STEPS_PER_BAR * b, pitch=60 + v, duration=4,
                                         velocity=90) for b in range(bars.start, bars.stop))]))
            for v in range(options.variations)
        )
        return Result(variations=variations, n_bars=n_bars, generated=bars, key=options.key,
                      nfe=options.steps * options.variations, seconds=0.0)


class FakePortError(OSError):
    pass


@dataclass
class FakeJamConfig:
    input: str | None
    output: str | None
    clock: str
    tempo: float
    guidance: float
    in_key: bool
    key: str | None
    steps: int
    seed: int | None
    context_bars: int = 3


@dataclass
class FakeJamSession:
    """Records start/stop; ``fail_ports`` names an input port that "does not exist"."""

    pipeline: Any
    config: FakeJamConfig
    on_state: Any
    running: bool = False
    log: list[str] = field(default_factory=list)
    backend: Any = None  # the MIDI backend JamControl handed over

    def start(self) -> None:
        if self.config.input == "missing port":
            raise FakePortError("no MIDI input named 'missing port'; inputs: ['a']")
        self.running = True
        self.log.append("start")
        self.on_state(self.state())

    def stop(self) -> None:
        self.running = False
        self.log.append("stop")

    def state(self) -> dict[str, Any]:
        return {"running": self.running, "bar": 0, "chord": None, "tempo": self.config.tempo,
                "clock": self.config.clock, "error": None}


class JamFactory:
    def __init__(self) -> None:
        self.sessions: list[FakeJamSession] = []

    def __call__(self, pipeline: Any, config: FakeJamConfig, *, on_state: Any,
                 backend: Any = None) -> FakeJamSession:
        session = FakeJamSession(pipeline, config, on_state, backend=backend)
        self.sessions.append(session)
        return session


def fake_ports(backend: Any = None) -> dict[str, list[str]]:
    if backend == "jack-backend":  # the MIDI system "jack" of start_server's JamControl
        return {"inputs": ["JACK Keys"], "outputs": ["JACK Synth"]}
    return {"inputs": ["Keys In"], "outputs": ["Synth Out"]}


def encode(address: str, tags: str = "", *args: Any) -> bytes:
    builder = OscMessageBuilder(address)
    for tag, value in zip(tags, args, strict=True):
        builder.add_arg(value, tag)
    return builder.build().dgram


class OscClient:
    """A UDP socket on 127.0.0.1 that sends to the server and decodes its replies."""

    def __init__(self, server_address: tuple[str, int]) -> None:
        self.server = server_address
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(WAIT_S)

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def send(self, address: str, tags: str = "", *args: Any) -> None:
        self.sock.sendto(encode(address, tags, *args), self.server)

    def send_raw(self, data: bytes) -> None:
        self.sock.sendto(data, self.server)

    def recv(self) -> tuple[str, list[Any]]:
        data, _ = self.sock.recvfrom(65535)
        message = OscMessage(data)
        return message.address, list(message.params)

    def until(self, address: str, request_id: str | None = None) -> list[tuple[str, list[Any]]]:
        """Every message up to and including the first ``address`` (for ``request_id``)."""
        seen = []
        while True:
            reply = self.recv()
            seen.append(reply)
            if reply[0] == address and (request_id is None or reply[1][0] == request_id):
                return seen

    def close(self) -> None:
        self.sock.close()


@dataclass
class Running:
    server: OscServer
    pipeline: FakePipeline
    jam: JamFactory
    output_dir: Path

    def client(self) -> OscClient:
        return OscClient(("127.0.0.1", self.server.address[1]))


def start_server(pipeline: FakePipeline, output_dir: Path, **options: Any) -> tuple[
        Running, threading.Thread]:
    jam = JamFactory()
    control = JamControl(pipeline, session_factory=jam, config_factory=FakeJamConfig,
                         list_ports=fake_ports, port_error=FakePortError,
                         backends={"default": None, "jack": "jack-backend"})
    server = OscServer(PipelineRunner(pipeline, output_dir=output_dir), info=pipeline.info(),
                       jam=control, host="127.0.0.1", port=0, **options)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return Running(server, pipeline, jam, output_dir), thread


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    state, thread = start_server(FakePipeline(), tmp_path / "out", queue=2, timeout_s=30.0)
    yield state
    state.server.shutdown()
    thread.join(WAIT_S)


@pytest.fixture
def client(running: Running) -> Iterator[OscClient]:
    osc = running.client()
    yield osc
    osc.close()
