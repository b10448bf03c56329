"""A small fake engine speaking the diffjam OSC protocol, for the panel's unit tests.

It runs a UDP socket on its own thread and answers like ``diffjam serve`` does (status,
settings, requests with chunked notes, errors, jam messages), with a made-up "model":
each generated bar holds four quarter notes of a C major arpeggio, shifted by the
variation index. A song (``/diffjam/song``) gets, per bar, one melody note (``MELODY``),
a C major block chord (``CHORD``) and one accompaniment note (``BASS``), and progress
for both stages. Messages are built and parsed with python-osc directly, not with the
panel's own protocol module, so the two cannot share a bug.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from dataclasses import dataclass, field
from typing import Any

from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket

KNOWN_PARAMS = {
    "notes_chunks", "clip_beats", "bars", "n_bars", "tempo", "time_signature", "chords",
    "key", "guidance", "in_key", "steps", "seed", "variations", "write_midi", "model",
    "quality", "sampler", "below_melody", "density", "repeat", "allowed", "guidance_below",
    "register", "candidates", "bass_anchor",
}  # fmt: skip
SONG_PARAMS = {
    "notes_chunks", "form", "key", "tempo", "chords", "seed", "steps", "repeat_strength",
    "use_form", "guidance", "in_key", "quality", "write_midi", "reply_port", "model",
}  # fmt: skip
TASKS = ["infill", "accompany", "generate", "song"]
_FORM = re.compile(r"\s*(?:[A-Za-z]\d+)+\s*")
MELODY, CHORD, BASS = 76, (48, 64, 67), 55
# What diffjam serve's JAM errors say when python-rtmidi cannot reach the MIDI system.
NO_ALSA = ("cannot list MIDI ports (mido.backends.rtmidi): MidiInAlsa::initialize: error "
           "creating ALSA sequencer client object. This Linux has no ALSA sequencer "
           "(/dev/snd/seq): load it with `sudo modprobe snd-seq`, or start a JACK server and "
           "pass --backend mido.backends.rtmidi/UNIX_JACK.")
NO_JACK = ("cannot list MIDI ports (mido.backends.rtmidi/UNIX_JACK): MidiInJack::initialize: "
           "JACK server not running? No JACK server is running: start one (e.g. `jackd -d "
           "alsa`, or QjackCtl), or leave out --backend to use ALSA.")
SETTINGS_KEYS = {"guidance", "in_key", "key", "steps", "variations", "seed"}
_CHORD = re.compile(r"N|[A-G][#b]?(m|maj7|m7|7|dim|aug|sus4|7sus4|6|add9|m7b5)?(/[A-G][#b]?)?")
ARPEGGIO = (60, 64, 67, 72)


@dataclass
class _Request:
    task: str | None = None
    params: dict[str, Any] | None = None
    chunks: dict[int, list[Any]] = field(default_factory=dict)
    reply_to: tuple[str, int] = ("127.0.0.1", 0)


class FakeEngine:
    """Start with :meth:`start`; ``port`` is the UDP port it listens on."""

    def __init__(self, *, port: int = 0, midi_ports: bool = True) -> None:
        # what the status's capabilities say: the tasks (None: no capabilities at all, as
        # an engine older than songs) and whether a lead-sheet model is loaded
        self.tasks: list[str] | None = list(TASKS)
        self.lead_sheet = True
        self.model, self.device = "fake-arpeggio", "cpu"  # what the status names
        # the clip tasks' params the status lists (None: the status lists none)
        self.params: list[str] | None = sorted(KNOWN_PARAMS)
        self.midi_ports = midi_ports  # False: like a machine without a MIDI system
        self.alsa = True  # False: no ALSA sequencer (the default MIDI system fails so)
        self.jack = False  # True: a JACK server runs (the "jack" MIDI system has ports)
        self.estimated_key = "C major"  # the key done reports when the request gives none
        self.settings: dict[str, Any] = {
            "guidance": 4.0, "in_key": True, "key": None, "steps": 10, "variations": 1,
            "seed": None,
        }  # fmt: skip
        self.received: list[tuple[str, list[Any]]] = []
        self.jam_running = False
        self.hold = False  # True: accept requests, then wait for finish_held()
        self.deaf = False  # True: answer hello and status, ignore requests
        self._held: list[tuple[str, _Request]] = []
        self._requests: dict[str, _Request] = {}
        self._reply_ports: dict[str, int] = {}
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", port))
        self._sock.settimeout(0.1)
        self.port = int(self._sock.getsockname()[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="fake-engine", daemon=True)

    def start(self) -> FakeEngine:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()

    def addresses(self) -> list[str]:
        with self._lock:
            return [address for address, _ in self.received]

    def messages(self, address: str) -> list[list[Any]]:
        with self._lock:
            return [args for received, args in self.received if received == address]

    # ---- transport -------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                datagram, sender = self._sock.recvfrom(65536)
            except (TimeoutError, OSError):
                continue
            for timed in OscPacket(datagram).messages:
                message = timed.message
                with self._lock:
                    self.received.append((message.address, list(message.params)))
                self._handle(message.address, list(message.params), sender)

    def _reply_address(self, sender: tuple[str, int]) -> tuple[str, int]:
        port = self._reply_ports.get(sender[0])
        return (sender[0], port) if port else sender

    def _send(self, to: tuple[str, int], address: str, *args: Any) -> None:
        builder = OscMessageBuilder(address=address)
        for arg in args:
            if isinstance(arg, str):
                builder.add_arg(arg, "s")
            elif isinstance(arg, int):
                builder.add_arg(arg, "i")
            else:
                builder.add_arg(float(arg), "f")
        self._sock.sendto(builder.build().dgram, to)

    def _error(self, to: tuple[str, int], request_id: str, code: int, name: str, text: str):
        self._send(to, "/diffjam/error", request_id, code, name, text)

    # ---- protocol --------------------------------------------------------------------

    def _status(self) -> dict[str, Any]:
        status: dict[str, Any] = {
            "protocol": 1, "version": "0.0-fake", "model": self.model,
            "device": self.device, "queue": 0, "queue_capacity": 4, "busy": False,
            "last_latency_ms": 12.5,
        }  # fmt: skip
        if self.tasks is not None:
            status["capabilities"] = {"tasks": self.tasks, "lead_sheet": self.lead_sheet}
            if self.params is not None:
                status["capabilities"]["params"] = self.params
        return status

    def _handle(self, address: str, args: list[Any], sender: tuple[str, int]) -> None:
        if address == "/diffjam/hello" and args:
            self._reply_ports[sender[0]] = int(args[0])
        to = self._reply_address(sender)
        if address in ("/diffjam/hello", "/diffjam/status"):
            self._send(to, "/diffjam/status", json.dumps(self._status()))
        elif address == "/diffjam/settings":
            values = json.loads(args[0])
            unknown = sorted(set(values) - SETTINGS_KEYS)
            if unknown:
                self._error(to, "", 5, "BAD_PARAMS", f"unknown setting {unknown[0]!r}")
                return
            self.settings.update(values)
            self._send(to, "/diffjam/settings", json.dumps(self.settings))
        elif address == "/diffjam/settings/get":
            self._send(to, "/diffjam/settings", json.dumps(self.settings))
        elif self.deaf and address in ("/diffjam/notes", "/diffjam/infill",
                                       "/diffjam/accompany", "/diffjam/generate",
                                       "/diffjam/song"):
            return
        elif address == "/diffjam/notes":
            request = self._requests.setdefault(args[0], _Request())
            request.chunks[int(args[1])] = args[3:]
            self._maybe_run(args[0], int(args[2]))
        elif address in ("/diffjam/infill", "/diffjam/accompany", "/diffjam/generate",
                         "/diffjam/song"):
            request = self._requests.setdefault(args[0], _Request())
            request.task = address.rsplit("/", 1)[1]
            request.params = json.loads(args[1])
            request.reply_to = to
            self._maybe_run(args[0], None)
        elif address == "/diffjam/jam/ports" and not self.midi_ports:
            self._error(to, "", 16, "JAM", "cannot list MIDI ports: no MIDI system")
        elif address == "/diffjam/jam/ports":
            self._jam_ports(to, args)
        elif address == "/diffjam/jam/start":
            self._jam_start(to, args)
        elif address == "/diffjam/jam/stop":
            self.jam_running = False
            self._send(to, "/diffjam/jam/state", json.dumps({
                "running": False, "bar": 1, "chord": None, "tempo": None, "clock": None,
                "error": None,
            }))  # fmt: skip
        elif address != "/diffjam/cancel":
            self._error(to, "", 2, "UNKNOWN_ADDRESS", f"no such address {address}")

    def _jam_ports(self, to: tuple[str, int], args: list[Any]) -> None:
        system = json.loads(args[0]).get("midi_system", "default") if args else "default"
        if (system == "default" and not self.alsa) or (system == "jack" and not self.jack):
            self._error(to, "", 16, "JAM", NO_ALSA if system == "default" else NO_JACK)
            return
        names = ("JACK Keyboard", "JACK Synth") if system == "jack" else (
            "Fake Keyboard", "Fake Synth")
        self._send(to, "/diffjam/jam/ports", json.dumps(
            {"inputs": [names[0]], "outputs": [names[1]], "midi_system": system}
        ))  # fmt: skip

    def _jam_start(self, to: tuple[str, int], args: list[Any]) -> None:
        config = json.loads(args[0])
        if config.get("midi_system", "default") == "default" and not self.alsa:
            self._error(to, "", 16, "JAM", "MIDI port problem: " + NO_ALSA)
            return
        if config.get("output") == "Missing Synth":
            self._error(to, "", 16, "JAM", "no MIDI output named 'Missing Synth'")
            return
        self.jam_running = True
        self._send(to, "/diffjam/jam/state", json.dumps({
            "running": True, "bar": 1, "chord": "Am7", "tempo": config.get("tempo"),
            "clock": config.get("clock"), "error": None,
        }))  # fmt: skip

    def _maybe_run(self, request_id: str, chunk_count: int | None) -> None:
        request = self._requests[request_id]
        if request.params is None:
            return
        expected = int(request.params.get("notes_chunks", 0))
        if len(request.chunks) < expected:
            return
        del self._requests[request_id]
        self._run(request_id, request)

    def _run(self, request_id: str, request: _Request) -> None:
        to, params = request.reply_to, request.params or {}
        if request.task == "song":
            self._run_song(request_id, request)
            return
        unknown = sorted(set(params) - set(KNOWN_PARAMS if self.params is None else self.params))
        if unknown:
            self._error(to, request_id, 5, "BAD_PARAMS", f"unknown key {unknown[0]!r}")
            return
        for symbol in str(params.get("chords", "")).replace("|", " ").split():
            if not _CHORD.fullmatch(symbol):
                self._error(to, request_id, 6, "BAD_CHORD", f"unknown chord symbol {symbol!r}")
                return
        if request.task == "infill":
            n_bars = int(round(float(params.get("clip_beats", 32)) / 4))
            first, last = params["bars"]
            if not 1 <= first <= last <= n_bars:
                self._error(
                    to,
                    request_id,
                    7,
                    "BAD_BARS",
                    f"bars {first}-{last} lie outside the {n_bars}-bar clip",
                )
                return
        else:
            n_bars = int(params.get("n_bars", 8))
            first, last = 1, n_bars
        self._send(to, "/diffjam/accepted", request_id, 0)
        if self.hold:
            self._held.append((request_id, request))
            return
        self._finish(request_id, request, first, last, n_bars)

    def _run_song(self, request_id: str, request: _Request) -> None:
        to, params = request.reply_to, request.params or {}
        unknown = sorted(set(params) - SONG_PARAMS)
        if unknown:
            self._error(to, request_id, 5, "BAD_PARAMS", f"unknown key(s) {unknown[0]!r}")
            return
        if not _FORM.fullmatch(str(params.get("form", ""))):
            self._error(to, request_id, 5, "BAD_PARAMS",
                        f"'form': cannot read {params.get('form')!r}")
            return
        self._send(to, "/diffjam/accepted", request_id, 0)
        if not self.lead_sheet:
            self._error(to, request_id, 5, "BAD_PARAMS", "this engine has no lead-sheet model")
            return
        self._send(to, "/diffjam/progress", request_id, 0.4, "lead sheet")
        if self.hold:
            self._held.append((request_id, request))
            return
        self._finish_song(request_id, request)

    def _finish_song(self, request_id: str, request: _Request) -> None:
        to, params = request.reply_to, request.params or {}
        phrases = [[letter, int(bars)] for letter, bars in
                   re.findall(r"([A-Za-z])(\d+)", params["form"])]
        n_bars = sum(bars for _, bars in phrases)
        self._send(to, "/diffjam/progress", request_id, 1.0, "lead sheet")
        self._send(to, "/diffjam/progress", request_id, 1.0, "accompaniment")
        parts = [
            [[bar * 4.0, 1.0, MELODY, 110] for bar in range(n_bars)],
            [[bar * 4.0, 4.0, pitch, 100] for bar in range(n_bars) for pitch in CHORD],
            [[bar * 4.0 + 2, 1.0, BASS, 100] for bar in range(n_bars)],
        ]
        for index, notes in enumerate(parts):
            flat = [value for note in notes for value in note]
            self._send(to, "/diffjam/result", request_id, index, 0, 1, *flat)
        self._send(to, "/diffjam/done", request_id, json.dumps({
            "variations": 3, "notes": [len(p) for p in parts], "bars": [1, n_bars],
            "n_bars": n_bars, "midi_paths": [], "latency_ms": 42.0, "nfe": None,
            "key": params.get("key") or "C major",
            "parts": ["melody", "chords", "accompaniment"], "phrases": phrases,
            "chords": [[bar * 4.0, 4.0, "C"] for bar in range(n_bars)],
            "seconds": {"lead sheet": 0.5, "accompaniment": 0.25, "total": 0.75},
            "seed": params.get("seed", 1234),
        }))  # fmt: skip

    def finish_held(self) -> None:
        """Finish the requests held back by ``hold`` (as a slow engine would, late)."""
        held, self._held = self._held, []
        for request_id, request in held:
            params = request.params or {}
            if request.task == "song":
                self._finish_song(request_id, request)
                continue
            if request.task == "infill":
                n_bars = int(round(float(params.get("clip_beats", 32)) / 4))
                first, last = params["bars"]
            else:
                n_bars = int(params.get("n_bars", 8))
                first, last = 1, n_bars
            self._finish(request_id, request, first, last, n_bars)

    def _finish(
        self, request_id: str, request: _Request, first: int, last: int, n_bars: int
    ) -> None:
        to, params = request.reply_to, request.params or {}
        flat = [value for index in sorted(request.chunks) for value in request.chunks[index]]
        clip = [flat[i : i + 4] for i in range(0, len(flat), 4)]
        self._send(to, "/diffjam/progress", request_id, 0.5)
        self._send(to, "/diffjam/progress", request_id, 1.0)
        variations = int(params.get("variations", self.settings["variations"]))
        counts = []
        for variation in range(variations):
            if request.task == "accompany":  # the accompaniment only, as diffjam serve sends
                notes = []
            else:
                notes = [n for n in clip if not (first - 1) * 4 <= n[0] < last * 4]
            for bar in range(first - 1, last):
                notes += [
                    [bar * 4.0 + beat, 1.0, pitch + variation, 90]
                    for beat, pitch in enumerate(ARPEGGIO)
                ]
            counts.append(len(notes))
            chunks = [notes[i : i + 128] for i in range(0, len(notes), 128)] or [[]]
            for index, chunk in enumerate(chunks):
                flat_notes = [value for note in chunk for value in note]
                self._send(
                    to, "/diffjam/result", request_id, variation, index, len(chunks), *flat_notes
                )
        self._send(to, "/diffjam/done", request_id, json.dumps({
            "variations": variations, "notes": counts, "bars": [first, last],
            "n_bars": n_bars, "midi_paths": [], "latency_ms": 42.0, "nfe": 20,
            "candidates": params.get("candidates") or 1,
            "key": params.get("key") or self.estimated_key,
        }))  # fmt: skip
