"""The live jam on real MIDI ports: python-rtmidi on a JACK server with the dummy driver.

The test uses a running JACK server, or starts ``jackd --no-realtime -d dummy`` itself
(and stops it afterwards); it skips with the reason when jackd or python-rtmidi's JACK API
is missing. The "DAW" drives the jam with MIDI clock in real time, fast (300 BPM) so the
test stays short; what is checked is the order of what arrives, never its timing.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Iterator

import mido
import pytest
from test_jam import FakePipeline

from bridge.clock import tick_seconds
from bridge.jam import JamConfig, JamSession
from bridge.midiports import PortError, list_ports, open_input, open_output
from diffjam.cli import main

JACK_BACKEND = "mido.backends.rtmidi/UNIX_JACK"
WAIT_S = 10.0  # upper bound for JACK to deliver on a loaded machine; not a timing assert
TEMPO = 300.0


def _jack_running() -> bool:
    lsp = shutil.which("jack_lsp")
    if lsp is None:
        return False
    done = subprocess.run([lsp], capture_output=True, text=True, timeout=10, check=False)
    return done.returncode == 0 and "system:" in done.stdout


@pytest.fixture(scope="module")
def jack() -> Iterator[mido.Backend]:
    """mido's rtmidi backend on the JACK API, with a JACK server running."""
    backend = mido.Backend(JACK_BACKEND)
    try:
        apis = backend.module.get_api_names()
    except ImportError as err:
        pytest.skip(f"python-rtmidi is not installed: {err}")
    if "UNIX_JACK" not in apis:
        pytest.skip(f"python-rtmidi was built without the JACK API (has {apis})")
    server = None
    if not _jack_running():
        jackd = shutil.which("jackd")
        if jackd is None:
            pytest.skip("jackd is not installed (apt package jackd2); no JACK server to test on")
        server = subprocess.Popen([jackd, "--no-realtime", "-d", "dummy", "-r", "48000",
                                   "-p", "256"], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + WAIT_S
        while not _jack_running():
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                _out, err = server.communicate()
                pytest.skip(f"jackd --no-realtime -d dummy did not start: {err.strip()[-300:]}")
            time.sleep(0.05)
    try:
        yield backend
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)


class SlowWarmUp(FakePipeline):
    """The warm-up call takes 0.3 s, so the jam asks for bar 2 half a bar ahead (the
    lead is 1.5 x the latency + 50 ms): room for a loaded machine's thread scheduling."""

    def accompany(self, chords, **kwargs):
        if not self.calls:
            time.sleep(0.3)
        return super().accompany(chords, **kwargs)


class Synth:
    """Collects what arrives on an rtmidi input port."""

    def __init__(self) -> None:
        self.messages: list[mido.Message] = []
        self.changed = threading.Condition()

    def __call__(self, message: mido.Message) -> None:
        with self.changed:
            self.messages.append(message)
            self.changed.notify_all()

    def wait_for(self, count: int, kind: str) -> bool:
        with self.changed:
            return self.changed.wait_for(
                lambda: sum(m.type == kind for m in self.messages) >= count, WAIT_S)


def test_jam_over_jack_plays_bar_two_and_leaves_nothing_sounding(jack: mido.Backend) -> None:
    session = JamSession(SlowWarmUp(), JamConfig(clock="midi", seed=1), backend=jack)
    session.start()
    synth = Synth()
    daw = open_output("diffjam in", backend=jack)
    listener = open_input("diffjam out", callback=synth, backend=jack)
    try:
        ports = list_ports(jack)
        assert any(name.endswith(":diffjam in") for name in ports["outputs"])
        assert any(name.endswith(":diffjam out") for name in ports["inputs"])
        assert session.wait_idle(WAIT_S)            # the warm-up call
        interval = tick_seconds(TEMPO)
        daw.send(mido.Message("start"))
        due = time.perf_counter()
        for position in range(2 * 96 - 2):
            due += interval
            time.sleep(max(0.0, due - time.perf_counter()))
            daw.send(mido.Message("clock"))
            if position == 0:
                for pitch in (60, 64, 67):
                    daw.send(mido.Message("note_on", note=pitch, velocity=100))
        assert synth.wait_for(2, "note_on")
        session.stop()
        assert synth.wait_for(1, "control_change")
    finally:
        session.stop()
        daw.close()
        listener.close()
    played = [(m.type, m.note) for m in synth.messages if m.type in ("note_on", "note_off")]
    assert played == [("note_on", 36), ("note_off", 36), ("note_on", 43), ("note_off", 43)]
    assert synth.messages[-1].is_cc(123)
    assert session.state()["error"] is None
    assert session.state()["dropped"] == 0


def test_missing_jack_port_is_a_port_error(jack: mido.Backend) -> None:
    session = JamSession(FakePipeline(), JamConfig(clock="midi", input="no such keyboard"),
                         backend=jack)
    with pytest.raises(PortError, match="no MIDI input port named 'no such keyboard'"):
        session.start()
    assert not any("diffjam out" in name for name in list_ports(jack)["inputs"])


def test_cli_jam_with_a_missing_port_exits_non_zero(jack: mido.Backend,
                                                     capsys: pytest.CaptureFixture) -> None:
    assert main(["jam", "--backend", JACK_BACKEND, "--output", "no such synth"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("diffjam jam: error: no MIDI output port named 'no such synth'; "
                          "available: ")
