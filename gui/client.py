"""The engine client: OSC over UDP, a receiving thread, Qt signals.

One UDP socket sends and receives (so replies come back whichever way the engine routes
them: to the sender, or to the reply port announced with ``/diffjam/hello``). A daemon
thread blocks on the socket and hands decoded events to the GUI thread through a queued
signal; all request bookkeeping happens on the GUI thread. A timer sends
``/diffjam/hello`` periodically: the first ``status`` marks the engine connected, and
when none has come for ``timeout_ms`` it is marked disconnected until it answers again
(which is how the panel reconnects to a restarted engine).

No request can hang: one the engine has not acknowledged (``accepted``, ``progress`` or
a result) within ``answer_timeout_ms`` fails locally as ``NO_ANSWER``, one not finished
within ``request_timeout_ms`` fails as ``LOCAL_TIMEOUT``, and :meth:`cancel` forgets a
request at once (``request_cancelled``) whatever the engine does; its late replies are
ignored.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from gui.clip import ClipNote
from gui.protocol import LocalError, LocalFailure, beat_notes, clip_notes
from gui.qt import QObject, QTimer, Signal
from wire.protocol import (
    Accepted,
    Cancel,
    ClientMessage,
    Done,
    EngineError,
    Event,
    Hello,
    JamPortList,
    JamPorts,
    JamStart,
    JamState,
    JamStop,
    Progress,
    ReplyError,
    RequestParams,
    ResultAssembler,
    ResultChunk,
    SettingsGet,
    SettingsReply,
    SettingsUpdate,
    Status,
    decode,
    encode_message,
    encode_request,
)

__all__ = ["EngineClient", "RequestResult", "SentRequest"]

log = logging.getLogger(__name__)

_MAX_DATAGRAM = 65536
_FINISHED_KEPT = 256  # ids of finished requests remembered, to recognise late replies
_DEADLINE_CHECK_MS = 100


@dataclass(frozen=True)
class SentRequest:
    """A request as the panel sent it (kept until ``done`` or ``error``)."""

    request_id: str
    task: str
    params: RequestParams  # as given to submit (notes_chunks is set on the wire)
    notes: tuple[ClipNote, ...]


@dataclass(frozen=True)
class RequestResult:
    """A finished request: every variation as a whole clip, plus the engine's summary.

    A song is one variation, all its parts together; ``parts`` holds them apart by name
    (``"melody"``, ``"chords"``, ``"accompaniment"``: ``done.song.parts``), empty for
    the clip tasks."""

    request: SentRequest
    variations: tuple[tuple[ClipNote, ...], ...]
    done: Done
    parts: tuple[tuple[str, tuple[ClipNote, ...]], ...] = ()


@dataclass
class _Deadlines:
    """When a pending request fails locally (``time.monotonic`` seconds)."""

    answer_by: float | None  # None once the engine acknowledged it
    finish_by: float


class EngineClient(QObject):
    """Talks to one engine at ``host:port``. Create, connect signals, then :meth:`start`."""

    connection_changed = Signal(bool)
    status_received = Signal(object)  # Status
    settings_received = Signal(object)  # dict of this client's sampling defaults
    accepted = Signal(str, int)  # request id, queue position
    progress = Signal(str, float, str)  # request id, fraction 0..1, a song's stage ("": none)
    result_ready = Signal(object)  # RequestResult
    request_failed = Signal(object, object)  # SentRequest, Failure (EngineError | LocalFailure)
    request_cancelled = Signal(object)  # SentRequest, forgotten by cancel()
    engine_error = Signal(object)  # EngineError that belongs to no request of ours
    jam_state = Signal(object)  # JamState
    jam_ports = Signal(object)  # JamPortList
    _events = Signal(object)  # list[Event], from the receiving thread

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 9000,
        hello_interval_ms: int = 1000,
        timeout_ms: int = 3000,
        answer_timeout_ms: int = 5000,
        request_timeout_ms: int = 600_000,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        if not 1 <= port <= 65535:
            raise ValueError(f"port {port} is outside 1..65535")
        self.host = host
        self.port = port
        self._timeout_s = timeout_ms / 1000
        self._answer_timeout_s = answer_timeout_ms / 1000
        self._request_timeout_s = request_timeout_ms / 1000
        self._deadlines: dict[str, _Deadlines] = {}
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._connected = False
        self._last_status_at = 0.0
        self._status: Status | None = None
        self.jam_midi_system = "default"  # the jam tab's choice (wire.protocol.MIDI_SYSTEMS)
        self._pending: dict[str, SentRequest] = {}
        self._finished: deque[str] = deque(maxlen=_FINISHED_KEPT)
        self._assembler = ResultAssembler()
        self._hello_timer = QTimer(self)
        self._hello_timer.setInterval(hello_interval_ms)
        self._hello_timer.timeout.connect(self._on_hello_timer)
        self._events.connect(self._dispatch)
        self._deadline_timer = QTimer(self)
        self._deadline_timer.setInterval(_DEADLINE_CHECK_MS)
        self._deadline_timer.timeout.connect(self._check_deadlines)

    # ---- lifecycle -------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def status(self) -> Status | None:
        return self._status

    @property
    def local_port(self) -> int:
        if self._socket is None:
            raise RuntimeError("the client is not started")
        return int(self._socket.getsockname()[1])

    def start(self) -> None:
        """Open the socket, start the receiving thread and the hello timer."""
        if self._socket is not None:
            return
        bind_host = "127.0.0.1" if self.host in ("127.0.0.1", "localhost") else "0.0.0.0"
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((bind_host, 0))
        sock.settimeout(0.2)
        self._socket = sock
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._receive_loop, name="diffjam-panel-osc", daemon=True
        )
        self._thread.start()
        self._hello_timer.start()
        self.hello()

    @property
    def pending(self) -> tuple[str, ...]:
        """Ids of the requests still waiting for their outcome."""
        return tuple(self._pending)

    def close(self) -> None:
        """Stop the timers and the thread and close the socket (idempotent)."""
        self._hello_timer.stop()
        self._deadline_timer.stop()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        self._set_connected(False)

    # ---- sending ---------------------------------------------------------------------

    def hello(self) -> None:
        if self._socket is not None:
            self._send_message(Hello(self.local_port))

    def submit(self, task: str, params: RequestParams, notes: Sequence[ClipNote] = ()) -> str:
        """Send a request; return its id. The outcome arrives as a signal."""
        request_id = "panel-" + uuid.uuid4().hex[:12]
        datagrams = encode_request(task, request_id, params, beat_notes(notes))
        self._pending[request_id] = SentRequest(
            request_id=request_id, task=task, params=params, notes=tuple(notes)
        )
        now = time.monotonic()
        self._deadlines[request_id] = _Deadlines(
            answer_by=now + self._answer_timeout_s, finish_by=now + self._request_timeout_s
        )
        self._deadline_timer.start()
        for datagram in datagrams:
            self._send(datagram)
        return request_id

    def cancel(self, request_id: str) -> None:
        """Ask the engine to drop the request and forget it here at once.

        ``request_cancelled`` is emitted now (not when the engine answers); whatever the
        engine sends for it later is ignored. Unknown or finished ids are ignored.
        """
        request = self._forget(request_id)
        if request is None:
            return
        if self._socket is not None:
            self._send_message(Cancel(request_id))
        self.request_cancelled.emit(request)

    def _forget(self, request_id: str) -> SentRequest | None:
        """Drop a pending request's bookkeeping; return it (``None`` if not pending)."""
        request = self._pending.pop(request_id, None)
        self._deadlines.pop(request_id, None)
        if request is not None:
            self._finished.append(request_id)
            self._assembler.discard(request_id)
        if not self._deadlines:
            self._deadline_timer.stop()
        return request

    def _acknowledged(self, request_id: str) -> None:
        deadlines = self._deadlines.get(request_id)
        if deadlines is not None:
            deadlines.answer_by = None

    def _check_deadlines(self) -> None:
        now = time.monotonic()
        for request_id, deadlines in list(self._deadlines.items()):
            if deadlines.answer_by is not None and now > deadlines.answer_by:
                code, text = LocalError.NO_ANSWER, (
                    f"no answer from the engine at {self.host}:{self.port} in "
                    f"{self._answer_timeout_s:g} s")
            elif now > deadlines.finish_by:
                code, text = LocalError.LOCAL_TIMEOUT, (
                    f"the engine did not finish in {self._request_timeout_s:g} s")
            else:
                continue
            request = self._forget(request_id)
            if request is not None:
                log.warning("request %s: %s", request_id, text)
                self.request_failed.emit(request, LocalFailure(request_id, code, text))

    def send_settings(self, update: SettingsUpdate) -> None:
        self._send_message(update)

    def request_settings(self) -> None:
        self._send_message(SettingsGet())

    def request_jam_ports(self, midi_system: str | None = None) -> None:
        """Ask for the jam's MIDI ports on ``midi_system`` (None: :attr:`jam_midi_system`,
        which is also the one listed on connecting)."""
        self._send_message(JamPorts(midi_system or self.jam_midi_system))

    def start_jam(self, config: JamStart) -> None:
        self._send_message(config)

    def stop_jam(self) -> None:
        self._send_message(JamStop())

    def _send_message(self, message: ClientMessage) -> None:
        self._send(encode_message(message))

    def _send(self, datagram: bytes) -> None:
        if self._socket is None:
            raise RuntimeError("the client is not started")
        try:
            self._socket.sendto(datagram, (self.host, self.port))
        except OSError as err:
            log.warning("cannot send to %s:%d: %s", self.host, self.port, err)

    # ---- receiving -------------------------------------------------------------------

    def _receive_loop(self) -> None:
        sock = self._socket
        assert sock is not None
        while not self._stop.is_set():
            try:
                datagram = sock.recv(_MAX_DATAGRAM)
            except TimeoutError:
                continue
            except OSError as err:  # ICMP port unreachable while the engine is down, or closed
                if self._stop.is_set():
                    return
                log.debug("receive: %s", err)
                time.sleep(0.05)
                continue
            try:
                events = decode(datagram)
            except ReplyError as err:
                log.warning("ignoring a datagram from the engine: %s", err)
                continue
            self._events.emit(events)

    def _dispatch(self, events: list[Event]) -> None:
        if self._socket is None:  # queued before close(): nobody is listening any more
            return
        for event in events:
            self._handle(event)

    def _handle(self, event: Event) -> None:
        if isinstance(event, Status):
            self._status = event
            self._last_status_at = time.monotonic()
            self._set_connected(True)
            self.status_received.emit(event)
        elif isinstance(event, SettingsReply):
            self.settings_received.emit(dict(event.values))
        elif isinstance(event, Accepted):
            self._acknowledged(event.request_id)
            self.accepted.emit(event.request_id, event.position)
        elif isinstance(event, Progress):
            self._acknowledged(event.request_id)
            self.progress.emit(event.request_id, event.fraction, event.stage or "")
        elif isinstance(event, ResultChunk):
            if event.request_id in self._pending:
                self._acknowledged(event.request_id)
                try:
                    self._assembler.add(event)
                except ReplyError as err:
                    log.warning("%s", err)
        elif isinstance(event, Done):
            self._finish(event)
        elif isinstance(event, EngineError):
            request = self._pending.get(event.request_id)
            if request is not None:
                self._forget(event.request_id)
                self.request_failed.emit(request, event)
            elif event.request_id and event.request_id in self._finished:
                # the protocol promises one outcome per request; keep the first
                log.warning(
                    "ignoring a second outcome for finished request %s: %s %s",
                    event.request_id, event.name, event.message,
                )  # fmt: skip
            else:
                self.engine_error.emit(event)
        elif isinstance(event, JamState):
            self.jam_state.emit(event)
        elif isinstance(event, JamPortList):
            self.jam_ports.emit(event)

    def _finish(self, done: Done) -> None:
        request = self._pending.get(done.request_id)
        if request is None:
            return
        del self._pending[done.request_id]
        self._deadlines.pop(done.request_id, None)
        if not self._deadlines:
            self._deadline_timer.stop()
        self._finished.append(done.request_id)
        n_variations = int(done.info.get("variations", 1))
        try:
            song = done.song
            variations = self._assembler.finish(done.request_id, n_variations=n_variations)
        except ReplyError as err:
            self.request_failed.emit(
                request, LocalFailure(done.request_id, LocalError.INCOMPLETE_RESULT, str(err))
            )
            return
        clips = tuple(clip_notes(v) for v in variations)
        if song is None:
            self.result_ready.emit(RequestResult(request=request, variations=clips, done=done))
            return
        self.result_ready.emit(RequestResult(
            request=request, variations=(tuple(sorted(n for part in clips for n in part)),),
            done=done, parts=tuple(zip(song.parts, clips, strict=False))))

    def _on_hello_timer(self) -> None:
        if self._connected and time.monotonic() - self._last_status_at > self._timeout_s:
            self._set_connected(False)
        self.hello()

    def _set_connected(self, connected: bool) -> None:
        if connected == self._connected:
            return
        self._connected = connected
        if connected:
            self.request_settings()
            self.request_jam_ports()
        self.connection_changed.emit(connected)
