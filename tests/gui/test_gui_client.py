"""The OSC client against the fake engine: status, settings, requests, reconnection."""

from __future__ import annotations

import json
import socket

import pytest
from conftest import CONNECT_TIMEOUT_MS, make_client
from fake_engine import ARPEGGIO, FakeEngine

from gui.client import EngineClient, RequestResult
from gui.clip import ClipNote
from wire.protocol import EngineError, ErrorCode, JamStart, Reply, RequestParams, SettingsUpdate


def test_connects_and_reads_status(client: EngineClient, fake_engine: FakeEngine) -> None:
    status = client.status
    assert status is not None
    assert (status.protocol, status.model, status.device) == (1, "fake-arpeggio", "cpu")
    hellos = fake_engine.messages("/diffjam/hello")
    assert hellos and hellos[0] == [client.local_port]


def test_settings_round_trip(qtbot, client: EngineClient, fake_engine: FakeEngine) -> None:
    with qtbot.waitSignal(client.settings_received, timeout=CONNECT_TIMEOUT_MS) as blocker:
        client.send_settings(SettingsUpdate.of(guidance=3.5, steps=20))
    assert blocker.args[0]["guidance"] == 3.5
    assert fake_engine.settings["steps"] == 20


def test_request_with_chunked_notes_is_reassembled(
    qtbot, client: EngineClient, fake_engine: FakeEngine
) -> None:
    clip = [ClipNote(start=i * 0.125, duration=0.125, pitch=40 + i % 30, velocity=64)
            for i in range(256)]  # 8 bars, 2 chunks  # fmt: skip
    with qtbot.waitSignal(client.result_ready, timeout=CONNECT_TIMEOUT_MS) as blocker:
        request_id = client.submit(
            "infill", RequestParams(bars=(3, 4), clip_beats=32.0, variations=2), clip
        )
    result: RequestResult = blocker.args[0]
    assert result.request.request_id == request_id
    assert len(fake_engine.messages("/diffjam/notes")) == 2
    assert len(result.variations) == 2
    kept = [n for n in clip if not 8 <= n.start < 16]
    for variation, notes in enumerate(result.variations):
        generated = [n for n in notes if 8 <= n.start < 16]
        assert [n.pitch for n in generated] == [p + variation for p in ARPEGGIO] * 2
        assert sorted(n for n in notes if not 8 <= n.start < 16) == sorted(kept)
    assert result.done.bars == (3, 4)
    assert result.done.latency_ms == 42.0


def test_engine_error_fails_the_request(qtbot, client: EngineClient) -> None:
    with qtbot.waitSignal(client.request_failed, timeout=CONNECT_TIMEOUT_MS) as blocker:
        client.submit("generate", RequestParams(n_bars=4, chords="C H7"))
    request, error = blocker.args
    assert request.task == "generate"
    assert isinstance(error, EngineError) and error.code is ErrorCode.BAD_CHORD
    assert (error.code, error.name) == (6, "BAD_CHORD")
    assert error.message == "unknown chord symbol 'H7'"


def test_error_without_request_is_reported(qtbot, client: EngineClient) -> None:
    with qtbot.waitSignal(client.engine_error, timeout=CONNECT_TIMEOUT_MS) as blocker:
        client.send_settings(SettingsUpdate((("colour", "blue"),)))  # unchecked: as sent
    assert blocker.args[0].name == "BAD_PARAMS"


def test_jam_messages(qtbot, client: EngineClient, fake_engine: FakeEngine) -> None:
    with qtbot.waitSignal(client.jam_ports, timeout=CONNECT_TIMEOUT_MS) as blocker:
        client.request_jam_ports()
    assert blocker.args[0].inputs == ("Fake Keyboard",)
    with qtbot.waitSignal(client.jam_state, timeout=CONNECT_TIMEOUT_MS) as blocker:
        client.start_jam(JamStart(output="Fake Synth", clock="internal", tempo=100.0))
    assert (blocker.args[0].running, blocker.args[0].chord) == (True, "Am7")
    assert json.loads(fake_engine.messages("/diffjam/jam/start")[0][0])["output"] == "Fake Synth"
    with qtbot.waitSignal(client.jam_state, timeout=CONNECT_TIMEOUT_MS) as blocker:
        client.stop_jam()
    assert blocker.args[0].running is False


def test_reconnects_when_the_engine_restarts(qtbot) -> None:
    first = FakeEngine().start()
    client = make_client(first.port)
    changes: list[bool] = []
    client.connection_changed.connect(changes.append)
    client.start()
    try:
        qtbot.waitUntil(lambda: client.connected, timeout=CONNECT_TIMEOUT_MS)
        first.stop()
        qtbot.waitUntil(lambda: not client.connected, timeout=CONNECT_TIMEOUT_MS)
        second = FakeEngine(port=first.port).start()
        try:
            qtbot.waitUntil(lambda: client.connected, timeout=CONNECT_TIMEOUT_MS)
            # on reconnecting the client asks again for the defaults and the ports
            qtbot.waitUntil(
                lambda: {"/diffjam/settings/get", "/diffjam/jam/ports"} <= set(second.addresses()),
                timeout=CONNECT_TIMEOUT_MS,
            )
        finally:
            second.stop()
    finally:
        client.close()
    assert changes[:3] == [True, False, True]


def test_port_is_validated() -> None:
    with pytest.raises(ValueError, match="port 0 is outside 1..65535"):
        EngineClient(port=0)


def test_a_second_outcome_for_a_finished_request_is_ignored(qtbot, client: EngineClient) -> None:
    with qtbot.waitSignal(client.request_failed, timeout=CONNECT_TIMEOUT_MS) as blocker:
        request_id = client.submit("generate", RequestParams(n_bars=4, chords="C H7"))
    assert blocker.args[1].name == "BAD_CHORD"
    stray: list[object] = []
    client.engine_error.connect(stray.append)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        # what a server does that reports leftover chunks of a refused request
        sock.sendto(Reply("/diffjam/error", (request_id, 10, "CHUNK", "incomplete")).encode(),
                    ("127.0.0.1", client.local_port))  # fmt: skip
        sock.sendto(Reply("/diffjam/error", ("", 2, "UNKNOWN_ADDRESS", "no such address")
                          ).encode(), ("127.0.0.1", client.local_port))  # fmt: skip
    qtbot.waitUntil(lambda: len(stray) == 1, timeout=CONNECT_TIMEOUT_MS)
    assert stray[0].name == "UNKNOWN_ADDRESS"


def _silent_port() -> int:
    """A loopback UDP port nobody answers on (bound, read by no one)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    sock.close()
    return port


def test_a_request_nobody_answers_fails_locally(qtbot) -> None:
    client = EngineClient(host="127.0.0.1", port=_silent_port(), hello_interval_ms=100,
                          timeout_ms=600, answer_timeout_ms=300)  # fmt: skip
    client.start()
    try:
        with qtbot.waitSignal(client.request_failed, timeout=CONNECT_TIMEOUT_MS) as blocker:
            request_id = client.submit("generate", RequestParams(n_bars=4))
        request, error = blocker.args
        assert request.request_id == request_id
        assert error.name == "NO_ANSWER" and "no answer from the engine" in error.message
        assert client.pending == ()
    finally:
        client.close()


def test_a_request_that_never_finishes_fails_locally(qtbot, fake_engine: FakeEngine) -> None:
    client = EngineClient(host="127.0.0.1", port=fake_engine.port, hello_interval_ms=100,
                          request_timeout_ms=300)  # fmt: skip
    client.start()
    try:
        qtbot.waitUntil(lambda: client.connected, timeout=CONNECT_TIMEOUT_MS)
        fake_engine.hold = True  # accepts, then never finishes
        with qtbot.waitSignal(client.request_failed, timeout=CONNECT_TIMEOUT_MS) as blocker:
            client.submit("generate", RequestParams(n_bars=4))
        assert blocker.args[1].name == "LOCAL_TIMEOUT"
    finally:
        client.close()


def test_cancel_forgets_the_request_at_once(qtbot, fake_engine: FakeEngine) -> None:
    client = EngineClient(host="127.0.0.1", port=fake_engine.port, hello_interval_ms=100)
    client.start()
    try:
        qtbot.waitUntil(lambda: client.connected, timeout=CONNECT_TIMEOUT_MS)
        fake_engine.hold = True
        with qtbot.waitSignal(client.accepted, timeout=CONNECT_TIMEOUT_MS):
            request_id = client.submit("generate", RequestParams(n_bars=4))
        with qtbot.waitSignal(client.request_cancelled, timeout=0) as blocker:
            client.cancel(request_id)
        assert blocker.args[0].request_id == request_id
        assert client.pending == ()
        qtbot.waitUntil(lambda: "/diffjam/cancel" in fake_engine.addresses(),
                        timeout=CONNECT_TIMEOUT_MS)  # fmt: skip
        with qtbot.assertNotEmitted(client.request_failed, wait=300):
            fake_engine.finish_held()  # a late answer for the cancelled request is ignored
    finally:
        client.close()
