"""The OSC server: UDP transport, datagram decoding, routing to the worker and the jam.

The receive loop is our own (not python-osc's dispatcher, which drops unparsable packets
silently): every datagram is decoded here with python-osc's parsers, and every one the
engine cannot use — not OSC, an empty bundle, unknown address, wrong type tags, bad
params — is answered with one ``/diffjam/error`` and one log line; the parts of a request
that already had its outcome are logged and ignored. Handlers only parse, check and
enqueue; generation runs on the :class:`~bridge.worker.Worker` thread and jam port
operations on a small control thread, so the receive loop never waits on either. Before
each datagram is handled the loop empties the kernel's receive buffer into a backlog (the
buffer itself is enlarged too), so a burst from many clients is read, not dropped; past
:data:`MAX_BACKLOG` datagrams the surplus is answered ``BUSY`` unread.

Clients are told apart by the address and port they send from: a request id, a cancel,
the sampling settings and the jam belong to the client that sent them.

Bundles are accepted, nested up to :data:`MAX_BUNDLE_DEPTH`, and their messages handled
at once in order (time tags are ignored).
"""

from __future__ import annotations

import logging
import queue
import select
import socket
import struct
import threading
import traceback
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from typing import Any

from pythonosc import osc_message
from pythonosc.parsing import osc_types

import engine
from bridge.chunks import CLOSED_MEMORY_S, ChunkAssembler, ReadyRequest
from bridge.worker import Runner, Worker, error_code
from engine.errors import ChordSymbolError, InputError
from engine.harmony import parse_key
from wire.osc import unpack_message
from wire.protocol import (
    MAX_ERROR_TEXT,
    PROTOCOL_VERSION,
    REQUEST_PARAM_KEYS,
    SONG_PARAM_KEYS,
    TASKS,
    Cancel,
    ClientMessage,
    EngineSettings,
    ErrorCode,
    Hello,
    JamPorts,
    JamStart,
    JamStop,
    NotesChunk,
    ProtocolError,
    Reply,
    RequestMessage,
    SettingsGet,
    SettingsUpdate,
    Status,
    StatusQuery,
    clip_text,
    error_reply,
    json_reply,
    parse_message,
)

__all__ = ["MAX_BUNDLE_DEPTH", "JamControl", "OscServer", "decode_datagram"]

log = logging.getLogger(__name__)

Address = tuple[str, int]
MAX_DATAGRAM = 65_535
MAX_BUNDLE_DEPTH = 8
MAX_CLIENTS = 256  # clients whose reply port and settings are remembered (oldest forgotten)
RECEIVE_BUFFER = 4 * 2**20  # bytes asked of the kernel (Linux gives at most net.core.rmem_max)
MAX_BACKLOG = 4096  # datagrams read but not handled yet; beyond, BUSY at once
MAX_BACKLOG_BYTES = 32 * 2**20
POLL_S = 0.2  # the loop wakes at least this often (chunk expiry, shutdown)
SEND_WAIT_S = 1.0  # a reply waits at most this long for room in a full send buffer
STOP_TIMEOUT_S = 5.0  # shutdown waits at most this long for each of the worker and the jam
_BUNDLE = b"#bundle\x00"
# Type tags python-osc's OscMessage decodes; any other tag makes the datagram MALFORMED
# (python-osc would skip it without consuming its bytes).
_KNOWN_TAGS = frozenset("ihfdsbrmtTFN[]")
_REQUEST_ADDRESSES = frozenset(f"/diffjam/{kind}" for kind in TASKS)
_PART_ADDRESSES = _REQUEST_ADDRESSES | {"/diffjam/notes"}  # the parts of one request


@dataclass(frozen=True)
class DecodedMessage:
    address: str
    tags: str
    args: list[Any]


def decode_datagram(data: bytes) -> list[DecodedMessage]:
    """The messages of one datagram (a message or a bundle), or ProtocolError MALFORMED."""
    messages: list[DecodedMessage] = []
    _decode(data, messages, depth=0)
    return messages


def _malformed(message: str) -> ProtocolError:
    return ProtocolError(ErrorCode.MALFORMED, message)


def _decode(data: bytes, out: list[DecodedMessage], *, depth: int) -> None:
    if data.startswith(_BUNDLE):
        if depth >= MAX_BUNDLE_DEPTH:
            raise _malformed(f"bundles nested deeper than {MAX_BUNDLE_DEPTH}")
        if len(data) < 16:
            raise _malformed("bundle too short for its time tag")
        index = 16
        while index < len(data):
            if index + 4 > len(data):
                raise _malformed("bundle element size is cut off")
            (size,) = struct.unpack(">i", data[index : index + 4])
            index += 4
            if size <= 0 or size % 4 or index + size > len(data):
                raise _malformed(f"bundle element size {size} is invalid")
            _decode(data[index : index + size], out, depth=depth + 1)
            index += size
        return
    out.append(_decode_message(data))


def _decode_message(data: bytes) -> DecodedMessage:
    """One OSC message (not a bundle), or ProtocolError MALFORMED."""
    if not data.startswith(b"/"):
        raise _malformed("not an OSC message or bundle (must start with '/' or '#bundle')")
    if len(data) % 4:
        raise _malformed(f"OSC datagram length {len(data)} is not a multiple of 4")
    fast = unpack_message(data)  # the protocol's own messages: numbers and strings
    if fast is not None and fast[0].isprintable():
        return DecodedMessage(*fast)
    try:
        address, index = osc_types.get_string(data, 0)
        tags = ""
        if index < len(data):
            tag_string, _ = osc_types.get_string(data, index)
            if not tag_string.startswith(","):
                raise _malformed("type tag string must start with ','")
            tags = tag_string[1:]
        unknown = sorted(set(tags) - _KNOWN_TAGS)
        if unknown:
            raise _malformed(f"unsupported OSC type tag(s) {''.join(unknown)!r}")
        args = osc_message.OscMessage(data).params
    except ProtocolError:
        raise
    except Exception as err:  # python-osc raises ParseError, but also decode/index errors
        raise _malformed(f"cannot decode OSC message: {err}") from err
    if not address.startswith("/") or not address.isprintable():
        raise _malformed("OSC address must be printable and start with '/'")
    return DecodedMessage(address, tags, args)


class _ControlThread:
    """One daemon thread running submitted calls in order (jam port operations).

    Not a ``ThreadPoolExecutor``: its threads are joined without a time limit when the
    interpreter exits, so a jam call stuck in a port or a generation would keep
    ``diffjam serve`` alive after "server stopped".
    """

    def __init__(self, name: str) -> None:
        self._calls: queue.SimpleQueue[tuple[Future, Callable[..., Any], tuple] | None] = (
            queue.SimpleQueue())
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, call: Callable[..., Any], *args: Any) -> Future:
        future: Future = Future()
        self._calls.put((future, call, args))
        return future

    def shutdown(self, *, timeout: float) -> bool:
        """Let the queued calls finish, wait at most ``timeout`` s; whether it ended."""
        self._calls.put(None)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        while (item := self._calls.get()) is not None:
            future, call, args = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(call(*args))
            except BaseException as err:  # noqa: BLE001 - handed to the waiting caller
                future.set_exception(err)


class JamControl:
    """Owns the live jam: at most one session; all calls run on the control thread.

    ``backends`` maps each MIDI system a client may name (``wire.protocol.MIDI_SYSTEMS``)
    to the MIDI backend handed to ``list_ports(backend)`` and ``session_factory(...,
    backend=...)`` (``bridge.midiports``: None is mido's default); a system it lacks is
    refused with ``JAM``.
    """

    def __init__(
        self,
        pipeline: Any,
        *,
        session_factory: Callable[..., Any],
        config_factory: Callable[..., Any],
        list_ports: Callable[[Any], dict[str, list[str]]],
        port_error: type[Exception],
        backends: Mapping[str, Any] | None = None,
    ) -> None:
        self._pipeline = pipeline
        self._session_factory = session_factory
        self._config_factory = config_factory
        self._list_ports = list_ports
        self._port_error = port_error
        self._backends = dict(backends) if backends is not None else {"default": None}
        self._session: Any = None

    def _backend(self, midi_system: str) -> Any:
        if midi_system not in self._backends:
            raise ProtocolError(ErrorCode.JAM, f"this engine cannot use the MIDI system "
                                f"{midi_system!r}; it has {', '.join(self._backends)}")
        return self._backends[midi_system]

    def start(
        self, message: JamStart, settings: EngineSettings, on_state: Callable[[dict], None]
    ) -> None:
        if self.running:
            raise ProtocolError(ErrorCode.JAM, "a jam is already running; stop it first")
        extra: dict[str, Any] = {}
        if message.context_bars is not None:
            extra["context_bars"] = message.context_bars
        config = self._config_factory(
            input=message.input,
            output=message.output,
            clock=message.clock,
            tempo=message.tempo,
            guidance=settings.guidance if message.guidance is None else message.guidance,
            in_key=settings.in_key if message.in_key is None else message.in_key,
            key=settings.key if message.key is None else message.key,
            steps=settings.steps if message.steps is None else message.steps,
            seed=settings.seed if message.seed is None else message.seed,
            **extra,
        )
        backend = self._backend(message.midi_system)
        session = self._session_factory(self._pipeline, config, on_state=on_state,
                                        backend=backend)
        try:
            session.start()
        except self._port_error as err:
            raise ProtocolError(ErrorCode.JAM, f"MIDI port problem: {err}") from err
        self._session = session

    @property
    def running(self) -> bool:
        """Whether a jam is running now."""
        return self._session is not None and bool(self._session.state().get("running"))

    def stop(self) -> dict[str, Any]:
        if self._session is None:
            return {"running": False}
        try:
            self._session.stop()
        except self._port_error as err:
            raise ProtocolError(ErrorCode.JAM, f"MIDI port problem: {err}") from err
        return self._session.state()

    def ports(self, midi_system: str = "default") -> dict[str, Any]:
        """The port names of one MIDI system, as ``/diffjam/jam/ports`` sends them."""
        backend = self._backend(midi_system)
        try:
            ports = self._list_ports(backend)
        except self._port_error as err:
            raise ProtocolError(ErrorCode.JAM, f"cannot list MIDI ports: {err}") from err
        return {**ports, "midi_system": midi_system}


def _enlarge_receive_buffer(sock: socket.socket) -> int:
    """Ask for a :data:`RECEIVE_BUFFER`-byte receive buffer (past the system's limit where
    the process may, SO_RCVBUFFORCE); the size granted, with a warning when it is smaller."""
    for option in (getattr(socket, "SO_RCVBUFFORCE", None), socket.SO_RCVBUF):
        if option is None:
            continue
        try:
            sock.setsockopt(socket.SOL_SOCKET, option, RECEIVE_BUFFER)
            break
        except OSError:  # FORCE needs CAP_NET_ADMIN; the kernel keeps its default otherwise
            continue
    size = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    if size < RECEIVE_BUFFER:
        log.warning("the system allows a UDP receive buffer of %d bytes only; a burst of "
                    "more than about %d KB sent faster than the engine reads may be lost "
                    "(on Linux: sysctl -w net.core.rmem_max=%d)", size, size // 2048,
                    RECEIVE_BUFFER)
    return size


class OscServer:
    """The engine's OSC endpoint. ``serve_forever`` on one thread, ``shutdown`` from any.

    Clients are told apart by the address and port they send from (the *owner*): request
    ids, cancels, settings and the jam belong to it (docs/osc-protocol.md, "Clients and
    what they own"). ``settings`` are the engine-wide defaults every client starts from;
    ``/diffjam/settings`` changes only the sender's own copy.
    """

    def __init__(
        self,
        runner: Runner,
        *,
        info: dict[str, Any],
        jam: JamControl | None = None,
        host: str = "127.0.0.1",
        port: int = 9000,
        queue: int = 8,
        timeout_s: float = 120.0,
        settings: EngineSettings | None = None,
        assembler: ChunkAssembler | None = None,
    ) -> None:
        self._info = info
        self._version = engine.__version__
        self._jam = jam
        self._settings = settings or EngineSettings()
        self._client_settings: OrderedDict[Address, EngineSettings] = OrderedDict()
        self._assembler = assembler or ChunkAssembler()
        self._reply_ports: OrderedDict[Address, int] = OrderedDict()
        self._jam_owner: Address | None = None
        self._backlog: deque[tuple[bytes, Address]] = deque()
        self._backlog_bytes = 0
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self._sock.bind((host, port))
        except OSError as err:
            self._sock.close()
            raise OSError(f"cannot listen on {host}:{port}: {err.strerror or err}") from err
        self.receive_buffer = _enlarge_receive_buffer(self._sock)
        self._sock.setblocking(False)
        self.address: Address = self._sock.getsockname()[:2]
        self._worker = Worker(runner, self._send, capacity=queue, timeout_s=timeout_s)
        self._control = _ControlThread("diffjam-jam-control")
        self._stop = threading.Event()
        self._stopped = threading.Event()

    @property
    def settings(self) -> EngineSettings:
        """The engine-wide defaults (``diffjam serve --defaults``)."""
        return self._settings

    # --- lifecycle ---------------------------------------------------------------------

    def serve_forever(self) -> None:
        """Receive and handle datagrams until :meth:`shutdown`.

        The loop empties the kernel's receive buffer into a backlog before handling each
        datagram, so a burst waits in memory rather than overflowing the buffer; the work
        a datagram causes is only parsing, checking, queueing and one reply.
        """
        self._worker.start()
        log.info("listening on %s:%d (receive buffer %d bytes)", *self.address,
                 self.receive_buffer)
        try:
            while not self._stop.is_set():
                if not self._backlog:
                    self._wait_readable(POLL_S)
                self._drain()
                if self._backlog:
                    data, sender = self._backlog.popleft()
                    self._backlog_bytes -= len(data)
                    self.handle_datagram(data, sender)
                for target, error in self._assembler.expire():
                    self._refuse(error, target)
        finally:
            self._close()

    def shutdown(self, *, timeout: float = 4 * STOP_TIMEOUT_S) -> None:
        """Stop the loop (from any thread) and wait until it closed everything."""
        self._stop.set()
        self._stopped.wait(timeout)

    def _wait_readable(self, timeout: float) -> None:
        try:
            select.select([self._sock], [], [], timeout)
        except (OSError, ValueError) as err:  # interrupted, or the socket is gone
            log.debug("select: %s", err)

    def _drain(self) -> None:
        """Move every datagram waiting in the kernel into the backlog; beyond
        :data:`MAX_BACKLOG` datagrams (or :data:`MAX_BACKLOG_BYTES`) answer BUSY at once."""
        while True:
            try:
                data, sender = self._sock.recvfrom(MAX_DATAGRAM)
            except BlockingIOError:
                return
            except OSError as err:  # e.g. ICMP port unreachable reported on Windows
                if not self._stop.is_set():
                    log.debug("recvfrom: %s", err)
                return
            sender = sender[:2]
            if (len(self._backlog) >= MAX_BACKLOG
                    or self._backlog_bytes + len(data) > MAX_BACKLOG_BYTES):
                self._refuse(ProtocolError(
                    ErrorCode.BUSY, f"engine overloaded: {len(self._backlog)} datagrams are "
                    "waiting to be read; send more slowly"), self._reply_to(sender),
                    detail=f"{len(data)} bytes, not read")
                continue
            self._backlog.append((data, sender))
            self._backlog_bytes += len(data)

    def _close(self) -> None:
        """Cancel the running generation and the queue, stop the jam, close the socket.

        Every wait is bounded (:data:`STOP_TIMEOUT_S` each) and every thread left behind
        is a daemon, so the process can always exit after "server stopped".
        """
        try:
            self._worker.stop(timeout=STOP_TIMEOUT_S)
            if self._jam is not None:
                try:
                    self._control.submit(self._jam.stop).result(timeout=STOP_TIMEOUT_S)
                except TimeoutError:
                    log.warning("the jam did not stop within %g s; leaving it",
                                STOP_TIMEOUT_S)
                except Exception:
                    log.exception("stopping the jam failed")
            if not self._control.shutdown(timeout=STOP_TIMEOUT_S):
                log.warning("the jam control thread is still busy; leaving it")
            if self._backlog:
                log.info("%d datagram(s) left unread at shutdown", len(self._backlog))
            self._sock.close()
            log.info("server stopped")
        finally:
            self._stopped.set()

    # --- receiving -----------------------------------------------------------------------

    def handle_datagram(self, data: bytes, sender: Address) -> None:
        """Decode and handle one datagram; every failure is logged and answered."""
        try:
            messages = decode_datagram(data)
        except ProtocolError as err:
            self._refuse(err, self._reply_to(sender), detail=f"{len(data)} bytes")
            return
        if not messages:
            self._refuse(_malformed("the bundle holds no messages"), self._reply_to(sender),
                         detail=f"{len(data)} bytes")
            return
        for message in messages:
            self._handle_message(message, sender)

    def _handle_message(self, message: DecodedMessage, sender: Address) -> None:
        try:
            parsed = parse_message(message.address, message.tags, message.args)
        except ProtocolError as err:
            rid = err.request_id
            if message.address in _PART_ADDRESSES and rid and self._assembler.is_late(
                    sender, rid, params=message.address != "/diffjam/notes"):
                self._ignore_late_part(rid, f"refused {message.address}")
                return
            if message.address == "/diffjam/notes" and rid and self._worker.in_flight(sender,
                                                                                     rid):
                log.warning("ignored a chunk for request %s (%s %s): the request is already "
                            "queued or running", rid, err.code.name, err.message)
                return
            self._fail(message.address, err, sender)
            return
        try:
            self._dispatch(parsed, sender)
        except ProtocolError as err:
            self._fail(message.address, err, sender)
        except Exception as err:  # noqa: BLE001 - never let one message stop the server
            log.error("handling %s from %s:%d failed:\n%s", message.address, *sender,
                      traceback.format_exc())
            rid = getattr(parsed, "request_id", "")
            self._fail(message.address, ProtocolError(
                ErrorCode.INTERNAL, f"internal error: {type(err).__name__}: {err}",
                request_id=rid), sender)

    def _fail(self, address: str, error: ProtocolError, sender: Address) -> None:
        """Answer a refused message; a refused part of a request (params or chunk) is that
        request's one outcome, so the request is closed: its other parts are dropped, and
        those still to come are logged and ignored (:meth:`ChunkAssembler.close`)."""
        rid = error.request_id
        if (address in _PART_ADDRESSES and rid and error.code != ErrorCode.DUPLICATE_ID
                and not self._worker.in_flight(sender, rid)):  # not the queued request's
            dropped = self._assembler.close(sender, rid, params=address != "/diffjam/notes")
            if dropped:
                log.info("request %s refused: dropped its %d chunk(s)", rid, dropped)
        self._refuse(error, self._reply_to(sender), detail=address)

    def _dispatch(self, message: ClientMessage, sender: Address) -> None:
        match message:
            case Hello(reply_port=port):
                self._set_reply_port(sender, port)
                self._send(self._status(), self._reply_to(sender))
            case StatusQuery():
                self._send(self._status(), self._reply_to(sender))
            case NotesChunk():
                self._on_notes_chunk(message, sender)
            case RequestMessage():
                self._on_request(message, sender)
            case Cancel(request_id=rid):
                if self._assembler.cancel(sender, rid):
                    log.info("request %s cancelled while waiting for chunks", rid)
                    self._send(error_reply(rid, ErrorCode.CANCELLED, "cancelled by the client"),
                               self._reply_to(sender))
                else:
                    self._worker.cancel(sender, rid)
            case SettingsUpdate():
                self._on_settings(message, sender)
            case SettingsGet():
                self._send(json_reply("/diffjam/settings", self._settings_for(sender).to_json()),
                           self._reply_to(sender))
            case JamStart() | JamStop() | JamPorts():
                if self._jam is None:
                    raise ProtocolError(ErrorCode.JAM, "live jam is not available in this engine")
                log.debug("%s from %s:%d handed to the jam control thread",
                          type(message).__name__, *sender)
                self._control.submit(self._run_jam_command, message, self._settings_for(sender),
                                     sender, self._reply_to(sender))

    def _on_notes_chunk(self, message: NotesChunk, sender: Address) -> None:
        rid = message.request_id
        if self._assembler.is_late(sender, rid, params=False):
            self._ignore_late_part(rid, f"chunk {message.index + 1} of {message.count}")
            return
        if self._worker.in_flight(sender, rid):
            log.warning("ignored chunk %d of %d for request %s: the request is "
                        "already queued or running", message.index + 1, message.count,
                        rid)
            return
        ready = self._assembler.add_chunk(message, owner=sender,
                                          reply_to=self._reply_to(sender))
        if ready is None:
            log.debug("request %s: chunk %d of %d from %s:%d held", rid,
                      message.index + 1, message.count, *sender)
        else:
            self._submit(ready)

    def _on_request(self, message: RequestMessage, sender: Address) -> None:
        rid = message.request_id
        if self._assembler.is_late(sender, rid, params=True):
            self._ignore_late_part(rid, f"/diffjam/{message.kind} params")
            return
        if self._worker.in_flight(sender, rid):
            raise ProtocolError(
                ErrorCode.DUPLICATE_ID, f"request {rid!r} is already in flight",
                request_id=rid,
            )
        reply = self._reply_to(sender)
        if message.params.reply_port is not None:
            # One-shot senders such as oscsend use a new port per message.
            reply = (sender[0], message.params.reply_port)
        ready = self._assembler.add_request(message, owner=sender, reply_to=reply)
        if ready is None:
            log.debug("request %s from %s:%d: params held until its %d chunk(s) came",
                      rid, *sender, message.params.notes_chunks)
        else:
            self._submit(ready)

    def _on_settings(self, message: SettingsUpdate, sender: Address) -> None:
        settings = message.apply(self._settings_for(sender))
        if settings.key is not None:
            try:
                parse_key(settings.key)
            except ChordSymbolError as err:
                raise ProtocolError(ErrorCode.BAD_CHORD, str(err)) from err
        self._client_settings[sender] = settings
        self._client_settings.move_to_end(sender)
        while len(self._client_settings) > MAX_CLIENTS:
            self._client_settings.popitem(last=False)
        log.info("settings of %s:%d changed: %s", *sender, settings.to_json())
        self._send(json_reply("/diffjam/settings", settings.to_json()),
                   self._reply_to(sender))

    def _models(self) -> list[Any]:
        """The names a request's ``model`` may give (the default's first)."""
        return list(self._info.get("models") or [self._info.get("model")])

    def _submit(self, ready: ReadyRequest) -> None:
        """Queue a complete request; a refusal (BUSY, an unknown model) is its one outcome,
        answered where its replies go (the request is closed: its params had come)."""
        try:
            model = ready.message.params.model
            if model is not None and model not in self._models():
                raise ProtocolError(
                    ErrorCode.BAD_PARAMS,
                    f"unknown model {model!r}; this engine serves: "
                    f"{', '.join(str(m) for m in self._models())}",
                    request_id=ready.message.request_id)
            self._worker.submit(ready, self._settings_for(ready.owner))
        except ProtocolError as err:
            self._assembler.close(ready.owner, ready.message.request_id, params=True)
            self._refuse(err, ready.reply_to, detail=f"/diffjam/{ready.message.kind}")

    def _settings_for(self, owner: Address) -> EngineSettings:
        """The sampling defaults of one client: its own, else the engine-wide ones."""
        return self._client_settings.get(owner, self._settings)

    @staticmethod
    def _ignore_late_part(request_id: str, what: str) -> None:
        log.warning("ignored %s for request %s: the request already had its outcome less "
                    "than %g s ago", what, request_id, CLOSED_MEMORY_S)

    # --- jam (on the control thread) --------------------------------------------------

    def _run_jam_command(
        self, message: JamStart | JamStop | JamPorts, settings: EngineSettings,
        sender: Address, target: Address,
    ) -> None:
        assert self._jam is not None
        try:
            if isinstance(message, JamStart):
                self._jam.start(message, settings, partial(self._send_jam_state, target))
                self._jam_owner = sender
                log.info("jam started by %s:%d: %s", *sender, message)
            elif isinstance(message, JamStop):
                if self._jam.running and sender != self._jam_owner:
                    raise ProtocolError(ErrorCode.JAM, "the running jam was started by another "
                                        "client; only that client can stop it")
                state = self._jam.stop()
                log.info("jam stopped")
                self._send(json_reply("/diffjam/jam/state", state), target)
            else:
                self._send(json_reply("/diffjam/jam/ports", self._jam.ports(message.midi_system)),
                           target)
        except ProtocolError as err:
            self._refuse(err, target)
        except InputError as err:
            self._refuse(ProtocolError(error_code(err), str(err)), target)
        except Exception as err:  # noqa: BLE001 - keep serving; the traceback is logged
            log.error("jam command failed:\n%s", traceback.format_exc())
            self._refuse(ProtocolError(ErrorCode.INTERNAL, f"internal error: {err}"), target)

    def _send_jam_state(self, target: Address, state: dict[str, Any]) -> None:
        self._send(json_reply("/diffjam/jam/state", state), target)

    # --- replies -----------------------------------------------------------------------

    def _status(self) -> Reply:
        queue = self._worker.status()
        status = Status(
            protocol=PROTOCOL_VERSION,
            version=self._version,
            model=str(self._info.get("model") or ""),
            models=tuple(str(m) for m in self._models()),
            device=str(self._info.get("device") or ""),
            queue=queue["queue"],
            queue_capacity=queue["queue_capacity"],
            busy=queue["busy"],
            last_latency_ms=queue["last_latency_ms"],
            tasks=TASKS,
            params=REQUEST_PARAM_KEYS,
            song_params=SONG_PARAM_KEYS,
            # the default pipeline's info names its lead-sheet model (engine.pipeline)
            lead_sheet=self._info.get("leadsheet") is not None,
        )
        return json_reply("/diffjam/status", status.to_json())

    def _set_reply_port(self, sender: Address, port: int | None) -> None:
        if port is None:
            self._reply_ports.pop(sender, None)
            return
        if self._reply_ports.get(sender) != port:
            log.debug("replies to %s:%d go to port %d", *sender, port)
        self._reply_ports[sender] = port
        self._reply_ports.move_to_end(sender)
        while len(self._reply_ports) > MAX_CLIENTS:
            self._reply_ports.popitem(last=False)

    def _reply_to(self, sender: Address) -> Address:
        port = self._reply_ports.get(sender)
        return sender if port is None else (sender[0], port)

    def _refuse(self, error: ProtocolError, target: Address, *, detail: str = "") -> None:
        """Log and answer one refused message; ``target`` is the reply address."""
        where = f" ({clip_text(detail, 80)})" if detail else ""
        log.warning("refused for %s:%d%s: %s %s", target[0], target[1], where,
                    error.code.name, clip_text(error.message, MAX_ERROR_TEXT))
        self._send(error_reply(error.request_id, error.code, error.message), target)

    def _send(self, reply: Reply, target: Address) -> None:
        """Send one reply; never raises (it runs on the worker and jam threads too)."""
        try:
            data = reply.encode()
        except Exception:  # a bug, but the engine must keep serving
            log.exception("cannot encode %s for %s:%d", reply.address, *target)
            return
        try:
            self._sendto(data, target)
        except OSError as err:
            log.warning("cannot send %s (%d bytes) to %s:%d: %s", reply.address, len(data),
                        *target, err)

    def _sendto(self, data: bytes, target: Address) -> None:
        """``sendto`` on the non-blocking socket; a full send buffer (a slow network) is
        waited for once, at most :data:`SEND_WAIT_S`."""
        try:
            self._sock.sendto(data, target)
        except BlockingIOError:
            if not self._wait_writable(SEND_WAIT_S):
                raise
            self._sock.sendto(data, target)

    def _wait_writable(self, timeout: float) -> bool:
        try:
            return bool(select.select([], [self._sock], [], timeout)[1])
        except (OSError, ValueError):  # the socket was closed at shutdown
            return False
