"""MIDI ports for the live jam: listing, opening by name or as virtual ports, errors.

A *backend* is any object with mido's ``Backend`` interface: ``get_input_names()``,
``get_output_names()``, ``open_input(name, virtual=False, callback=None, **kwargs)`` and
``open_output(name, virtual=False, **kwargs)``. ``None`` means mido's default backend
(``MIDO_BACKEND`` or python-rtmidi), a string is a mido backend name such as
``"mido.backends.rtmidi/UNIX_JACK"``. :class:`LoopbackBackend` is an in-memory backend
(ports are mido ``BaseInput`` / ``BaseOutput`` subclasses that override only ``_send``,
``_receive``, ``_open`` and ``_close``); the jam tests and ``diffjam bench-jam`` use it
where no MIDI system is running.

Every error a backend raises (python-rtmidi raises ``OSError``, ``ValueError`` and
``RuntimeError`` subclasses) is translated here, at the edge, into :class:`PortError`
with a message that names the port and the ports that do exist.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

import mido
from mido.ports import BaseInput, BaseOutput

__all__ = [
    "JACK_BACKEND",
    "MIDI_SYSTEM_BACKENDS",
    "VIRTUAL_CLIENT",
    "VIRTUAL_INPUT",
    "VIRTUAL_OUTPUT",
    "LoopbackBackend",
    "find_port",
    "MidiBackend",
    "PortError",
    "list_ports",
    "open_input",
    "open_output",
    "resolve_backend",
    "system_hint",
]

log = logging.getLogger(__name__)

VIRTUAL_CLIENT = "diffjam"
VIRTUAL_INPUT = "diffjam in"
VIRTUAL_OUTPUT = "diffjam out"
JACK_BACKEND = "mido.backends.rtmidi/UNIX_JACK"
# The backend of each MIDI system a client may name (wire.protocol.MIDI_SYSTEMS).
MIDI_SYSTEM_BACKENDS: dict[str, str | None] = {"default": None, "jack": JACK_BACKEND}

# What python-rtmidi and mido raise for missing, busy or dead ports and MIDI systems.
_BACKEND_ERRORS = (OSError, ValueError, RuntimeError, ImportError)

MessageCallback = Callable[[mido.Message], None]


class PortError(OSError):
    """A MIDI port or MIDI system is missing, busy or dead."""


class MidiBackend(Protocol):
    """The part of ``mido.Backend`` the jam uses."""

    def get_input_names(self) -> list[str]: ...

    def get_output_names(self) -> list[str]: ...

    def open_input(self, name: str | None = None, virtual: bool = False,
                   callback: MessageCallback | None = None, **kwargs: Any) -> BaseInput: ...

    def open_output(self, name: str | None = None, virtual: bool = False,
                    **kwargs: Any) -> BaseOutput: ...


def resolve_backend(backend: MidiBackend | str | None = None) -> MidiBackend:
    """The backend object for ``backend`` (None: mido's default, str: a mido backend name)."""
    if backend is None or isinstance(backend, str):
        return mido.Backend(backend)
    return backend


def list_ports(backend: MidiBackend | str | None = None) -> dict[str, list[str]]:
    """Names of the MIDI ports one can open: ``{"inputs": [...], "outputs": [...]}``.

    Raises :class:`PortError` when the MIDI system cannot be reached (no ALSA sequencer,
    JACK not running, backend not installed).
    """
    resolved = resolve_backend(backend)
    try:
        inputs = list(resolved.get_input_names())
        outputs = list(resolved.get_output_names())
    except _BACKEND_ERRORS as err:
        raise PortError(f"cannot list MIDI ports ({_backend_name(resolved)}): "
                        f"{_explain(err)}") from err
    return {"inputs": inputs, "outputs": outputs}


def find_port(name: str, *, direction: str, backend: MidiBackend | str | None = None) -> str:
    """The full name of the ``direction`` (``"input"`` / ``"output"``) port that ``name``
    matches (exactly, else as a case-insensitive part of exactly one port's name).

    Raises :class:`PortError` naming the ports that exist when none or several match.
    """
    if direction not in ("input", "output"):
        raise ValueError(f"direction must be 'input' or 'output', got {direction!r}")
    return _match(name, list_ports(backend)[direction + "s"], direction)


def open_input(name: str | None, *, callback: MessageCallback,
               backend: MidiBackend | str | None = None,
               virtual_name: str = VIRTUAL_INPUT) -> BaseInput:
    """Open the input port ``name``, or a virtual input ``virtual_name`` when ``name`` is None.

    ``callback(message)`` is called on the backend's thread for every message. A name
    matches a port exactly, else as a case-insensitive substring of exactly one port
    (ALSA adds client and port numbers: ``"Midi Through:Midi Through Port-0 14:0"``).
    """
    return _open("input", name, resolve_backend(backend), virtual_name, callback=callback)


def open_output(name: str | None, *, backend: MidiBackend | str | None = None,
                virtual_name: str = VIRTUAL_OUTPUT) -> BaseOutput:
    """Open the output port ``name``, or a virtual output ``virtual_name`` when it is None."""
    return _open("output", name, resolve_backend(backend), virtual_name)


def _open(direction: str, name: str | None, backend: MidiBackend, virtual_name: str,
          **port_kwargs: Any) -> Any:
    """Open a named or virtual port through ``backend.open_input/open_output``, turning
    backend errors into :class:`PortError`."""
    opener = getattr(backend, f"open_{direction}")
    if name is None:
        try:
            return opener(virtual_name, virtual=True, **port_kwargs, **_client_kwargs(backend))
        except _BACKEND_ERRORS as err:
            raise PortError(
                f"cannot create the virtual MIDI {direction} {virtual_name!r} "
                f"({_backend_name(backend)}): "
                + (_explain(err) if system_hint(err) else
                   f"{err}; name an existing {direction} port instead")
            ) from err
    port_name = find_port(name, direction=direction, backend=backend)
    try:
        return opener(port_name, **port_kwargs)
    except _BACKEND_ERRORS as err:
        raise PortError(f"cannot open MIDI {direction} {port_name!r}: {err}") from err


def system_hint(err: BaseException | str) -> str:
    """What to do when python-rtmidi cannot reach the MIDI system, read from its message:
    one sentence, or ``""`` when the message names no MIDI system we know."""
    text = str(err)
    if "Jack" in text or "JACK" in text:
        return ("No JACK server is running: start one (e.g. `jackd -d alsa`, or QjackCtl), "
                "or leave out --backend to use ALSA.")
    if "ALSA" in text or "Alsa" in text:
        return ("This Linux has no ALSA sequencer (/dev/snd/seq): load it with `sudo modprobe "
                f"snd-seq`, or start a JACK server and pass --backend {JACK_BACKEND}.")
    if "WinMM" in text or "Windows MM" in text:
        return ("Windows cannot make virtual MIDI ports: create two ports in a loopback "
                "driver (e.g. loopMIDI) and pass their names with --input and --output.")
    return ""


def _explain(err: BaseException) -> str:
    """The backend's message, then :func:`system_hint`'s advice when there is some."""
    text, hint = str(err).strip(), system_hint(err)
    if not hint:
        return text
    return f"{text}{'' if text.endswith(('.', '?', '!')) else '.'} {hint}"


def _match(name: str, available: list[str], direction: str) -> str:
    if name in available:
        return name
    found = [port for port in available if name.lower() in port.lower()]
    if len(found) == 1:
        return found[0]
    listing = ", ".join(repr(port) for port in available) or "none"
    if not found:
        raise PortError(f"no MIDI {direction} port named {name!r}; available: {listing}")
    raise PortError(f"MIDI {direction} name {name!r} is ambiguous; it matches "
                    + ", ".join(repr(port) for port in found))


def _client_kwargs(backend: MidiBackend) -> dict[str, str]:
    """python-rtmidi names the client of a virtual port; other backends take no client."""
    if isinstance(backend, mido.Backend) and backend.name == "mido.backends.rtmidi":
        return {"client_name": VIRTUAL_CLIENT}
    return {}


def _backend_name(backend: MidiBackend) -> str:
    if isinstance(backend, mido.Backend):
        return backend.name + (f"/{backend.api}" if backend.api else "")
    return type(backend).__name__


# ------------------------------------------------------------------ in-memory backend


class LoopbackBackend:
    """An in-memory MIDI system: what is sent to an output arrives at the inputs behind it.

    Like ALSA or JACK, a virtual port is seen by everybody else: a virtual *input* named
    ``X`` appears among the output names (others send to it), a virtual *output* appears
    among the input names. Opening a port by name connects to that virtual port; a name
    no virtual port has is a bus that any number of inputs and outputs share. Delivery is
    synchronous: an input's callback runs on the sender's thread, which makes tests
    deterministic. Each instance is its own MIDI system.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._virtual_inputs: dict[str, LoopbackInput] = {}
        self._virtual_outputs: dict[str, LoopbackOutput] = {}
        self._listeners: dict[str, list[LoopbackInput]] = {}

    def get_input_names(self) -> list[str]:
        with self._lock:
            return list(self._virtual_outputs)

    def get_output_names(self) -> list[str]:
        with self._lock:
            return list(self._virtual_inputs)

    def open_input(self, name: str | None = None, virtual: bool = False,
                   callback: MessageCallback | None = None, **kwargs: Any) -> LoopbackInput:
        return LoopbackInput(name, bus=self, virtual=virtual, callback=callback)

    def open_output(self, name: str | None = None, virtual: bool = False,
                    **kwargs: Any) -> LoopbackOutput:
        return LoopbackOutput(name, bus=self, virtual=virtual)

    def _deliver(self, name: str, message: mido.Message, *, from_virtual: bool) -> None:
        """A virtual output reaches the inputs opened by its name; an output opened by
        name reaches the virtual input of that name, else the inputs opened by the name."""
        with self._lock:
            target = None if from_virtual else self._virtual_inputs.get(name)
            listeners = [target] if target is not None else list(self._listeners.get(name, ()))
        for port in listeners:
            port._put(message)

    def _register(self, port: LoopbackInput | LoopbackOutput, *, virtual: bool) -> None:
        name = port.name
        if name is None:
            raise OSError("a loopback port needs a name")
        with self._lock:
            if isinstance(port, LoopbackInput):
                if virtual:
                    if name in self._virtual_inputs:
                        raise OSError(f"virtual input {name!r} already exists")
                    self._virtual_inputs[name] = port
                else:
                    self._listeners.setdefault(name, []).append(port)
            elif virtual:
                if name in self._virtual_outputs:
                    raise OSError(f"virtual output {name!r} already exists")
                self._virtual_outputs[name] = port

    def _unregister(self, port: LoopbackInput | LoopbackOutput) -> None:
        with self._lock:
            if isinstance(port, LoopbackInput):
                if self._virtual_inputs.get(port.name) is port:
                    del self._virtual_inputs[port.name]
                listeners = self._listeners.get(port.name, [])
                if port in listeners:
                    listeners.remove(port)
            elif self._virtual_outputs.get(port.name) is port:
                del self._virtual_outputs[port.name]


class LoopbackInput(BaseInput):
    """Input port of a :class:`LoopbackBackend`; with a callback, messages go to it."""

    def __init__(self, name: str | None, *, bus: LoopbackBackend, virtual: bool = False,
                 callback: MessageCallback | None = None) -> None:
        super().__init__(name, bus=bus, callback=callback)
        bus._register(self, virtual=virtual)  # only now: the base class made the queue

    def _open(self, *, bus: LoopbackBackend, callback: MessageCallback | None) -> None:
        self._bus = bus
        self.callback = callback

    def _put(self, message: mido.Message) -> None:
        if self.closed:
            return
        callback = self.callback
        if callback is not None:
            callback(message)
        else:
            with self._lock:
                self._messages.append(message)

    def _receive(self, block: bool = True) -> mido.Message | None:
        return None  # nothing to fetch: _put() queues every message as it is sent

    def _close(self) -> None:
        self.callback = None
        self._bus._unregister(self)


class LoopbackOutput(BaseOutput):
    """Output port of a :class:`LoopbackBackend`."""

    def _open(self, *, bus: LoopbackBackend, virtual: bool = False) -> None:
        self._bus = bus
        self._virtual = virtual
        bus._register(self, virtual=virtual)

    def _send(self, message: mido.Message) -> None:
        self._bus._deliver(self.name, message, from_virtual=self._virtual)

    def _close(self) -> None:
        self._bus._unregister(self)
