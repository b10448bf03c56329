"""MIDI ports: the in-memory loopback backend, name matching, error translation."""

from __future__ import annotations

from typing import Any

import mido
import pytest
from mido.ports import BaseOutput

from bridge.midiports import (
    JACK_BACKEND,
    LoopbackBackend,
    PortError,
    find_port,
    list_ports,
    open_input,
    open_output,
    system_hint,
)


class BrokenBackend:
    """A backend whose MIDI system is gone: every call fails the way python-rtmidi does."""

    def get_input_names(self) -> list[str]:
        raise OSError("JACK server not running?")

    def get_output_names(self) -> list[str]:
        raise OSError("JACK server not running?")

    def open_input(self, name: str | None = None, virtual: bool = False,
                   callback: Any = None, **kwargs: Any) -> Any:
        raise NotImplementedError("virtual ports are not supported")

    def open_output(self, name: str | None = None, virtual: bool = False,
                    **kwargs: Any) -> Any:
        raise RuntimeError("virtual ports are not supported")


class DeviceOutput(BaseOutput):
    """A mido-style port that only overrides ``_open`` / ``_send``: records messages."""

    def _open(self, **kwargs: Any) -> None:
        self.sent: list[mido.Message] = []

    def _send(self, message: mido.Message) -> None:
        self.sent.append(message)


class OneDeviceBackend(LoopbackBackend):
    """A loopback system with one hardware-like output port, ``"Synth 1"``."""

    def __init__(self) -> None:
        super().__init__()
        self.device = DeviceOutput("Synth 1")

    def get_output_names(self) -> list[str]:
        return [*super().get_output_names(), "Synth 1"]

    def open_output(self, name: str | None = None, virtual: bool = False) -> Any:
        if name == "Synth 1":
            return self.device
        return super().open_output(name, virtual)


def test_virtual_output_reaches_inputs_opened_by_its_name() -> None:
    backend = LoopbackBackend()
    out = open_output(None, backend=backend)
    assert list_ports(backend) == {"inputs": ["diffjam out"], "outputs": []}
    listener = backend.open_input("diffjam out")
    out.send(mido.Message("note_on", note=60, velocity=100))
    assert [m.note for m in listener.iter_pending()] == [60]


def test_virtual_input_calls_back_on_the_senders_thread() -> None:
    backend = LoopbackBackend()
    received: list[mido.Message] = []
    port = open_input(None, callback=received.append, backend=backend)
    assert list_ports(backend) == {"inputs": [], "outputs": ["diffjam in"]}
    daw = backend.open_output("diffjam in")
    daw.send(mido.Message("clock"))
    assert [m.type for m in received] == ["clock"]
    port.close()
    daw.send(mido.Message("clock"))
    assert len(received) == 1
    assert list_ports(backend) == {"inputs": [], "outputs": []}


def test_two_virtual_ports_of_one_name_are_refused_as_port_error() -> None:
    backend = LoopbackBackend()
    open_output(None, backend=backend)
    with pytest.raises(PortError, match="cannot create the virtual MIDI output 'diffjam out'"):
        open_output(None, backend=backend)


def test_name_matches_exactly_then_as_unique_part() -> None:
    backend = OneDeviceBackend()
    assert open_output("Synth 1", backend=backend) is backend.device
    assert open_output("synth", backend=backend) is backend.device


def test_missing_port_names_the_ports_that_exist() -> None:
    backend = OneDeviceBackend()
    with pytest.raises(PortError) as info:
        open_output("Piano", backend=backend)
    assert str(info.value) == "no MIDI output port named 'Piano'; available: 'Synth 1'"
    with pytest.raises(PortError, match="no MIDI input port named 'Keys'; available: none"):
        open_input("Keys", callback=print, backend=backend)


def test_ambiguous_name_is_refused() -> None:
    backend = LoopbackBackend()
    backend.open_output("Keys A", virtual=True)
    backend.open_output("Keys B", virtual=True)
    with pytest.raises(PortError, match="'keys' is ambiguous; it matches 'Keys A', 'Keys B'"):
        open_input("keys", callback=print, backend=backend)


def test_backend_errors_are_translated_at_the_edge() -> None:
    with pytest.raises(PortError, match="cannot list MIDI ports") as listing:
        list_ports(BrokenBackend())
    assert isinstance(listing.value.__cause__, OSError)
    with pytest.raises(PortError, match="virtual MIDI input 'diffjam in'") as opening:
        open_input(None, callback=print, backend=BrokenBackend())
    assert isinstance(opening.value.__cause__, NotImplementedError)
    with pytest.raises(PortError, match="name an existing output port instead"):
        open_output(None, backend=BrokenBackend())


def test_port_error_is_an_os_error() -> None:
    assert issubclass(PortError, OSError)


def test_unknown_mido_backend_is_a_port_error() -> None:
    with pytest.raises(PortError, match="mido.backends.no_such_backend"):
        list_ports("mido.backends.no_such_backend")


def test_find_port_gives_the_full_name() -> None:
    backend = LoopbackBackend()
    backend.open_output("Keystation 49 MIDI 1", virtual=True)
    assert find_port("keystation", direction="input", backend=backend) == "Keystation 49 MIDI 1"
    with pytest.raises(PortError, match="no MIDI output port named 'keystation'"):
        find_port("keystation", direction="output", backend=backend)
    with pytest.raises(ValueError, match="direction must be 'input' or 'output'"):
        find_port("keystation", direction="both", backend=backend)


def test_midi_hints_name_each_system() -> None:
    assert "snd-seq" in system_hint("MidiInAlsa::initialize: error creating ALSA")
    assert "JACK server" in system_hint("MidiInJack::initialize: JACK server not running?")
    assert "loopMIDI" in system_hint("MidiInWinMM::openVirtualPort: cannot be implemented "
                                     "in Windows MM MIDI API!")
    assert system_hint("no such port") == ""


def test_list_ports_error_carries_the_hint() -> None:
    class NoAlsa:
        def get_input_names(self) -> list[str]:
            raise RuntimeError("MidiInAlsa::initialize: error creating ALSA sequencer "
                               "client object.")

        get_output_names = get_input_names

    with pytest.raises(PortError) as info:
        list_ports(NoAlsa())
    assert str(info.value).endswith(f"pass --backend {JACK_BACKEND}.")
    assert "object. This Linux has no ALSA sequencer" in str(info.value)
