"""The OSC server: UDP transport, datagram decoding, routing to the worker and the jam.

The receive loop is our own (not python-osc's dispatcher, which drops unparsable packets
silently): every datagram is decoded here with python-osc's parsers, and every one the
engine cannot use — not OSC, unknown address, wrong type tags, bad params — is answered
with one ``/diffjam/error`` and one log line. Handlers only parse, check and enqueue;
generation runs on the :class:`~bridge.worker.Worker` thread and jam port operations on a
small control thread, so the receive loop never waits on either.

Bundles are accepted, nested up to :data:`MAX_BUNDLE_DEPTH`, and their messages handled
at once in order (time tags are ignored).
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
import traceback
from collections import OrderedDict
from collections.abc import Callable
import queue
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from pythonosc import osc_message
from pythonosc.parsing import osc_types

import engine
from bridge.chunks import REFUSED_MEMORY_S, ChunkAssembler
from bridge.protocol import (
    PROTOCOL_VERSION,
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
    StatusQuery,
    error_reply,
    json_reply,
    parse_message,
)
from bridge.worker import Runner, Worker, error_code
from engine.errors import ChordSymbolError, InputError
from engine.harmony import parse_key

__all__ = ["MAX_BUNDLE_DEPTH", "JamControl", "OscServer", "decode_datagram"]

log = logging.getLogger(__name__)

Address = tuple[str, int]
MAX_DATAGRAM = 65_535
MAX_BUNDLE_DEPTH = 8
MAX_REPLY_PORTS = 256
STOP_TIMEOUT_S = 5.0  # shutdown waits at most this long for each of the worker and the jam
_BUNDLE = b"#bundle\x00"
# Type tags python-osc's OscMessage decodes; any other tag makes the datagram MALFORMED
# (python-osc would skip it without consuming its bytes).
_KNOWN_TAGS = frozenset("ihfdsbrmtTFN[]")
_REQUEST_ADDRESSES = frozenset(("/diffjam/infill", "/diffjam/accompany", "/diffjam/generate"))


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
    if not data.startswith(b"/"):
        raise _malformed("not an OSC message or bundle (must start with '/' or '#bundle')")
    if len(data) % 4:
        raise _malformed(f"OSC datagram length {len(data)} is not a multiple of 4")
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
    out.append(DecodedMessage(address, tags, args))


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
    """Owns the live jam: at most one session; all calls run on the control thread."""

    def __init__(
        self,
        pipeline: Any,
        *,
        session_factory: Callable[..., Any],
        config_factory: Callable[..., Any],
        list_ports: Callable[[], dict[str, list[str]]],
        port_error: type[Exception],
    ) -> None:
        self._pipeline = pipeline
        self._session_factory = session_factory
        self._config_factory = config_factory
        self._list_ports = list_ports
        self._port_error = port_error
        self._session: Any = None

    def start(
        self, message: JamStart, settings: EngineSettings, on_state: Callable[[dict], None]
    ) -> None:
        if self._session is not None and self._session.state().get("running"):
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
        session = self._session_factory(self._pipeline, config, on_state=on_state)
        try:
            session.start()
        except self._port_error as err:
            raise ProtocolError(ErrorCode.JAM, f"MIDI port problem: {err}") from err
        self._session = session

    def stop(self) -> dict[str, Any]:
        if self._session is None:
            return {"running": False}
        try:
            self._session.stop()
        except self._port_error as err:
            raise ProtocolError(ErrorCode.JAM, f"MIDI port problem: {err}") from err
        return self._session.state()

    def ports(self) -> dict[str, list[str]]:
        try:
            return self._list_ports()
        except self._port_error as err:
            raise ProtocolError(ErrorCode.JAM, f"cannot list MIDI ports: {err}") from err


class OscServer:
    """The engine's OSC endpoint. ``serve_forever`` on one thread, ``shutdown`` from any."""

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
        self._assembler = assembler or ChunkAssembler()
        self._reply_ports: OrderedDict[Address, int] = OrderedDict()
        self._jam_owner: Address | None = None
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self._sock.bind((host, port))
        except OSError as err:
            self._sock.close()
            raise OSError(f"cannot listen on {host}:{port}: {err.strerror or err}") from err
        self._sock.settimeout(0.2)
        self.address: Address = self._sock.getsockname()[:2]
        self._worker = Worker(runner, self._send, capacity=queue, timeout_s=timeout_s)
        self._control = _ControlThread("diffjam-jam-control")
        self._stop = threading.Event()
        self._stopped = threading.Event()

    @property
    def settings(self) -> EngineSettings:
        return self._settings

    # --- lifecycle ---------------------------------------------------------------------

    def serve_forever(self) -> None:
        self._worker.start()
        log.info("listening on %s:%d", *self.address)
        try:
            while not self._stop.is_set():
                try:
                    data, sender = self._sock.recvfrom(MAX_DATAGRAM)
                except TimeoutError:
                    data = None
                except OSError as err:  # e.g. ICMP port unreachable reported on Windows
                    if self._stop.is_set():
                        break
                    log.debug("recvfrom: %s", err)
                    continue
                if data is not None:
                    self.handle_datagram(data, sender[:2])
                for target, error in self._assembler.expire():
                    self._refuse(error, target)
        finally:
            self._close()

    def shutdown(self, *, timeout: float = 4 * STOP_TIMEOUT_S) -> None:
        """Stop the loop (from any thread) and wait until it closed everything."""
        self._stop.set()
        self._stopped.wait(timeout)

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
        for message in messages:
            try:
                self._dispatch(parse_message(message.address, message.tags, message.args),
                               sender)
            except ProtocolError as err:
                rid = err.request_id
                if message.address == "/diffjam/notes" and self._assembler.was_refused(rid):
                    self._ignore_late_chunk(rid, f"{err.code.name} {err.message}")
                    continue
                if message.address in _REQUEST_ADDRESSES and rid and (
                        err.code != ErrorCode.DUPLICATE_ID):
                    # the request's one outcome is this error: its chunks go too
                    dropped = self._assembler.refuse(rid)
                    if dropped:
                        log.info("request %s refused: dropped its %d chunk(s)", rid, dropped)
                self._refuse(err, self._reply_to(sender), detail=message.address)
            except Exception as err:  # noqa: BLE001 - never let one message stop the server
                log.error("handling %s from %s:%d failed:\n%s", message.address, *sender,
                          traceback.format_exc())
                self._refuse(ProtocolError(ErrorCode.INTERNAL, f"internal error: {err}"),
                             self._reply_to(sender))

    def _dispatch(self, message: ClientMessage, sender: Address) -> None:
        match message:
            case Hello(reply_port=port):
                self._set_reply_port(sender, port)
                self._send(self._status(), self._reply_to(sender))
            case StatusQuery():
                self._send(self._status(), self._reply_to(sender))
            case NotesChunk():
                if self._assembler.was_refused(message.request_id):
                    self._ignore_late_chunk(message.request_id,
                                            f"chunk {message.index + 1} of {message.count}")
                    return
                self._check_new(message.request_id)
                ready = self._assembler.add_chunk(message, self._reply_to(sender))
                if ready is not None:
                    self._worker.submit(ready, self._settings)
            case RequestMessage():
                self._check_new(message.request_id)
                self._assembler.forget_refusal(message.request_id)
                reply = self._reply_to(sender)
                if message.params.reply_port is not None:
                    # One-shot senders such as oscsend use a new port per message.
                    reply = (sender[0], message.params.reply_port)
                ready = self._assembler.add_request(message, reply)
                if ready is not None:
                    self._worker.submit(ready, self._settings)
            case Cancel(request_id=rid):
                if self._assembler.discard(rid):
                    log.info("request %s cancelled while waiting for chunks", rid)
                    self._send(error_reply(rid, ErrorCode.CANCELLED, "cancelled by the client"),
                               self._reply_to(sender))
                else:
                    self._worker.cancel(rid)
            case SettingsUpdate():
                settings = message.apply(self._settings)
                if settings.key is not None:
                    try:
                        parse_key(settings.key)
                    except ChordSymbolError as err:
                        raise ProtocolError(ErrorCode.BAD_CHORD, str(err)) from err
                self._settings = settings
                log.info("settings changed: %s", self._settings.to_json())
                self._send(json_reply("/diffjam/settings", self._settings.to_json()),
                           self._reply_to(sender))
            case SettingsGet():
                self._send(json_reply("/diffjam/settings", self._settings.to_json()),
                           self._reply_to(sender))
            case JamStart() | JamStop() | JamPorts():
                self._jam_command(message, self._reply_to(sender))

    @staticmethod
    def _ignore_late_chunk(request_id: str, what: str) -> None:
        log.warning("ignored %s for request %s: its params were refused less than %g s ago "
                    "(it already had its error)", what, request_id, REFUSED_MEMORY_S)

    def _check_new(self, request_id: str) -> None:
        if self._worker.in_flight(request_id):
            raise ProtocolError(
                ErrorCode.DUPLICATE_ID, f"request {request_id!r} is already in flight",
                request_id=request_id,
            )

    # --- jam (on the control thread) --------------------------------------------------

    def _jam_command(self, message: JamStart | JamStop | JamPorts, target: Address) -> None:
        if self._jam is None:
            raise ProtocolError(ErrorCode.JAM, "live jam is not available in this engine")
        settings = self._settings
        self._control.submit(self._run_jam_command, message, settings, target)

    def _run_jam_command(
        self, message: JamStart | JamStop | JamPorts, settings: EngineSettings, target: Address
    ) -> None:
        assert self._jam is not None
        try:
            if isinstance(message, JamStart):
                self._jam_owner = target
                self._jam.start(message, settings, self._on_jam_state)
                log.info("jam started: %s", message)
            elif isinstance(message, JamStop):
                state = self._jam.stop()
                log.info("jam stopped")
                self._send(json_reply("/diffjam/jam/state", state), target)
            else:
                self._send(json_reply("/diffjam/jam/ports", self._jam.ports()), target)
        except ProtocolError as err:
            self._refuse(err, target)
        except InputError as err:
            self._refuse(ProtocolError(error_code(err), str(err)), target)
        except Exception as err:  # noqa: BLE001 - keep serving; the traceback is logged
            log.error("jam command failed:\n%s", traceback.format_exc())
            self._refuse(ProtocolError(ErrorCode.INTERNAL, f"internal error: {err}"), target)

    def _on_jam_state(self, state: dict[str, Any]) -> None:
        if self._jam_owner is not None:
            self._send(json_reply("/diffjam/jam/state", state), self._jam_owner)

    # --- replies -----------------------------------------------------------------------

    def _status(self) -> Reply:
        status = {
            "protocol": PROTOCOL_VERSION,
            "version": self._version,
            "model": self._info.get("model"),
            "device": self._info.get("device"),
            **self._worker.status(),
        }
        return json_reply("/diffjam/status", status)

    def _set_reply_port(self, sender: Address, port: int | None) -> None:
        if port is None:
            self._reply_ports.pop(sender, None)
            return
        self._reply_ports[sender] = port
        self._reply_ports.move_to_end(sender)
        while len(self._reply_ports) > MAX_REPLY_PORTS:
            self._reply_ports.popitem(last=False)

    def _reply_to(self, sender: Address) -> Address:
        port = self._reply_ports.get(sender)
        return sender if port is None else (sender[0], port)

    def _refuse(self, error: ProtocolError, target: Address, *, detail: str = "") -> None:
        """Log and answer one refused message; ``target`` is the reply address."""
        where = f" ({detail})" if detail else ""
        log.warning("refused for %s:%d%s: %s %s", target[0], target[1], where,
                    error.code.name, error.message)
        self._send(error_reply(error.request_id, error.code, error.message), target)

    def _send(self, reply: Reply, target: Address) -> None:
        """Send one reply; never raises (it runs on the worker and jam threads too)."""
        try:
            data = reply.encode()
        except Exception:  # noqa: BLE001 - a bug, but the engine must keep serving
            log.exception("cannot encode %s for %s:%d", reply.address, *target)
            return
        try:
            self._sock.sendto(data, target)
        except OSError as err:
            log.warning("cannot send %s to %s:%d: %s", reply.address, *target, err)

