"""The OSC server over real UDP on 127.0.0.1 with a fake pipeline and a fake jam."""

from __future__ import annotations

import json
import logging
import struct
import threading
from pathlib import Path

import mido
import pytest

from tests.bridge.conftest import WAIT_S, FakePipeline, OscClient, encode, start_server
from wire.protocol import ErrorCode


def error_of(reply):
    address, args = reply
    assert address == "/diffjam/error", reply
    return args[0], ErrorCode(args[1]), args[2], args[3]


def test_status_reports_model_and_queue(client: OscClient) -> None:
    client.send("/diffjam/status")
    address, args = client.recv()
    assert address == "/diffjam/status"
    status = json.loads(args[0])
    assert status["protocol"] == 1
    assert status["model"] == "fake-model"
    assert status["device"] == "cpu"
    assert status["queue"] == 0
    assert status["queue_capacity"] == 2
    assert status["busy"] is False
    assert status["last_latency_ms"] is None


def test_hello_reply_port_redirects_replies(running, client: OscClient) -> None:
    listener = running.client()
    client.send("/diffjam/hello", "i", listener.port)
    address, _ = listener.recv()
    assert address == "/diffjam/status"
    client.send("/diffjam/settings/get")
    assert listener.recv()[0] == "/diffjam/settings"
    client.send("/diffjam/hello")  # no port: back to the sender
    assert client.recv()[0] == "/diffjam/status"
    listener.close()


def test_infill_with_chunks_in_any_order(running, client: OscClient) -> None:
    # two chunks, sent before and after the params, second chunk first
    client.send("/diffjam/notes", "siiffii", "r1", 1, 2, 4.0, 1.0, 64, 100)
    client.send("/diffjam/infill", "ss", "r1", json.dumps(
        {"notes_chunks": 2, "bars": [2, 2], "clip_beats": 8, "seed": 3, "tempo": 90}))
    client.send("/diffjam/notes", "siiffii", "r1", 0, 2, 0.0, 0.5, 62, 80)
    replies = client.until("/diffjam/done", "r1")
    addresses = [a for a, _ in replies]
    assert addresses[0] == "/diffjam/accepted"
    assert replies[0][1] == ["r1", 0]
    assert addresses[-1] == "/diffjam/done"
    progress = [args[1] for a, args in replies if a == "/diffjam/progress"]
    assert progress == pytest.approx([k / 10 for k in range(1, 11)])
    results = [args for a, args in replies if a == "/diffjam/result"]
    assert len(results) == 1
    rid, variation, index, count, *flat = results[0]
    assert (rid, variation, index, count) == ("r1", 0, 0, 1)
    # the bar 1 note back unchanged (in beats); bar 2 regenerated: the fake's note at beat 4
    notes = [tuple(flat[k:k + 4]) for k in range(0, len(flat), 4)]
    assert notes == [(0.0, 0.5, 62, 80), (4.0, 1.0, 60, 90)]
    done = json.loads(replies[-1][1][1])
    assert done["bars"] == [2, 2]
    assert done["n_bars"] == 2
    assert done["notes"] == [2]
    assert done["nfe"] == 10
    assert done["key"] is None  # the fake pipeline estimates none
    [path] = done["midi_paths"]
    assert Path(path).parent == running.output_dir
    midi = mido.MidiFile(path)
    assert midi.ticks_per_beat == 480
    assert any(m.type == "set_tempo" and round(mido.tempo2bpm(m.tempo)) == 90
               for m in midi.tracks[0])
    kind, call = running.pipeline.calls[0]
    assert kind == "infill"
    assert call["n_bars"] == 2
    assert (call["bars"].start, call["bars"].stop) == (1, 2)
    assert [(n.start, n.pitch, n.duration) for n in call["notes"]] == [(0, 62, 2), (16, 64, 4)]
    assert call["options"].seed == 3


def test_generate_variations_and_settings_defaults(running, client: OscClient) -> None:
    client.send("/diffjam/settings", "s", json.dumps({"variations": 2, "steps": 4,
                                                       "key": "Am"}))
    address, args = client.recv()
    assert address == "/diffjam/settings"
    assert json.loads(args[0]) == {"guidance": 4.0, "in_key": True, "key": "Am", "steps": 4,
                                   "variations": 2, "seed": None}
    client.send("/diffjam/generate", "ss", "g", json.dumps(
        {"n_bars": 2, "chords": "C | G", "write_midi": False}))
    replies = client.until("/diffjam/done", "g")
    results = [args for a, args in replies if a == "/diffjam/result"]
    assert [args[1] for args in results] == [0, 1]
    done = json.loads(replies[-1][1][1])
    assert done["midi_paths"] == []
    assert done["variations"] == 2
    options = running.pipeline.calls[0][1]["options"]
    assert (options.steps, options.variations, options.key.tonic, options.key.mode) == (
        4, 2, 9, "minor")
    assert len(running.pipeline.calls[0][1]["chords"]) == 2


def test_accompany_passes_melody_and_chords(running, client: OscClient) -> None:
    client.send("/diffjam/notes", "siiffii", "a", 0, 1, 0.0, 2.0, 72, 90)
    client.send("/diffjam/accompany", "ss", "a", json.dumps(
        {"notes_chunks": 1, "n_bars": 1, "chords": "F", "write_midi": 0}))
    client.until("/diffjam/done", "a")
    kind, call = running.pipeline.calls[0]
    assert kind == "accompany"
    assert [(n.start, n.duration) for n in call["melody"]] == [(0, 8)]
    assert call["chords"][0].chord.root == 5


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", ErrorCode.MALFORMED),
        (b"hello world!", ErrorCode.MALFORMED),
        (b"/diffjam/status\x00,i\x00\x00", ErrorCode.MALFORMED),  # int tag, no int
        (encode("/nope"), ErrorCode.UNKNOWN_ADDRESS),
        (encode("/diffjam/status", "i", 1), ErrorCode.BAD_TYPES),
        (encode("/diffjam/infill", "ss", "x", "{not json"), ErrorCode.BAD_JSON),
        (encode("/diffjam/infill", "ss", "x", "[1]"), ErrorCode.BAD_JSON),
        (encode("/diffjam/infill", "ss", "x", '{"bars":[1,1],"colour":1}'), ErrorCode.BAD_PARAMS),
        (encode("/diffjam/infill", "ss", "x", '{"bars":[3,2]}'), ErrorCode.BAD_BARS),
        (encode("/diffjam/generate", "ss", "x", '{"time_signature":[3,4]}'),
         ErrorCode.UNSUPPORTED_METER),
        (encode("/diffjam/generate", "ss", "x", '{"n_bars":300}'), ErrorCode.TOO_LARGE),
        (encode("/diffjam/notes", "siiffii", "x", 2, 2, 0.0, 1.0, 60, 90), ErrorCode.CHUNK),
        (encode("/diffjam/cancel", "s", "nobody"), ErrorCode.UNKNOWN_REQUEST),
        (b"#bundle\x00" + bytes(8) + struct.pack(">i", 7) + b"/x\x00\x00", ErrorCode.MALFORMED),
    ],
)
def test_every_bad_datagram_gets_one_error(client: OscClient, data: bytes, code) -> None:
    client.send_raw(data)
    _, got, name, message = error_of(client.recv())
    assert got == code
    assert name == code.name
    assert message
    client.send("/diffjam/status")
    assert client.recv()[0] == "/diffjam/status"  # nothing else was queued in between


def test_engine_errors_map_to_codes(running, client: OscClient) -> None:
    client.send("/diffjam/generate", "ss", "k", json.dumps({"key": "H## major"}))
    replies = client.until("/diffjam/error", "k")
    assert [a for a, _ in replies] == ["/diffjam/accepted", "/diffjam/error"]
    rid, code, _, message = error_of(replies[-1])
    assert (rid, code) == ("k", ErrorCode.BAD_CHORD)
    assert "H##" in message
    client.send("/diffjam/infill", "ss", "b", json.dumps({"bars": [3, 4], "clip_beats": 8}))
    rid, code, _, _ = error_of(client.until("/diffjam/error", "b")[-1])
    assert (rid, code) == ("b", ErrorCode.BAD_BARS)


def test_internal_error_keeps_serving(tmp_path: Path) -> None:
    state, thread = start_server(FakePipeline(error=RuntimeError("boom")), tmp_path)
    osc = state.client()
    try:
        osc.send("/diffjam/generate", "ss", "x", "{}")
        rid, code, _, message = error_of(osc.until("/diffjam/error", "x")[-1])
        assert (rid, code) == ("x", ErrorCode.INTERNAL)
        assert "boom" in message
        osc.send("/diffjam/status")
        assert osc.recv()[0] == "/diffjam/status"
    finally:
        osc.close()
        state.server.shutdown()
        thread.join(WAIT_S)


def test_busy_cancel_and_duplicate_id(tmp_path: Path) -> None:
    gate = threading.Event()
    pipeline = FakePipeline(gate=gate)
    state, thread = start_server(pipeline, tmp_path, queue=1)
    osc = state.client()
    try:
        osc.send("/diffjam/generate", "ss", "run", '{"write_midi": false}')
        assert osc.recv() == ("/diffjam/accepted", ["run", 0])
        assert pipeline.started.wait(WAIT_S)
        osc.send("/diffjam/generate", "ss", "wait", '{"write_midi": false}')
        assert osc.recv() == ("/diffjam/accepted", ["wait", 0])
        osc.send("/diffjam/generate", "ss", "more", "{}")
        assert error_of(osc.recv())[:2] == ("more", ErrorCode.BUSY)
        osc.send("/diffjam/generate", "ss", "run", "{}")
        assert error_of(osc.recv())[:2] == ("run", ErrorCode.DUPLICATE_ID)
        osc.send("/diffjam/status")
        status = json.loads(osc.recv()[1][0])
        assert (status["queue"], status["busy"]) == (1, True)
        osc.send("/diffjam/cancel", "s", "wait")  # queued: answered at once
        assert error_of(osc.recv())[:2] == ("wait", ErrorCode.CANCELLED)
        osc.send("/diffjam/cancel", "s", "run")  # running: answered by the worker
        assert error_of(osc.recv())[:2] == ("run", ErrorCode.CANCELLED)
        gate.set()
        osc.send("/diffjam/generate", "ss", "run", '{"write_midi": false, "n_bars": 1}')
        assert osc.until("/diffjam/done", "run")[0] == ("/diffjam/accepted", ["run", 0])
    finally:
        gate.set()
        osc.close()
        state.server.shutdown()
        thread.join(WAIT_S)


def test_timeout(tmp_path: Path) -> None:
    pipeline = FakePipeline(gate=threading.Event())  # never opens
    state, thread = start_server(pipeline, tmp_path, timeout_s=0.05)
    osc = state.client()
    try:
        osc.send("/diffjam/generate", "ss", "slow", "{}")
        replies = osc.until("/diffjam/error", "slow")
        assert error_of(replies[-1])[:2] == ("slow", ErrorCode.TIMEOUT)
    finally:
        osc.close()
        state.server.shutdown()
        thread.join(WAIT_S)


def test_cancel_while_waiting_for_chunks(client: OscClient) -> None:
    client.send("/diffjam/infill", "ss", "c", '{"notes_chunks": 2, "bars": [1, 1]}')
    client.send("/diffjam/cancel", "s", "c")
    assert error_of(client.recv())[:2] == ("c", ErrorCode.CANCELLED)


def test_bundle_messages_handled_in_order(client: OscClient) -> None:
    inner = [encode("/diffjam/status"), encode("/diffjam/settings/get")]
    body = b"".join(struct.pack(">i", len(m)) + m for m in inner)
    client.send_raw(b"#bundle\x00" + bytes(7) + b"\x01" + body)
    assert client.recv()[0] == "/diffjam/status"
    assert client.recv()[0] == "/diffjam/settings"


def test_jam_start_ports_stop(running, client: OscClient) -> None:
    client.send("/diffjam/jam/ports")
    address, args = client.recv()
    assert address == "/diffjam/jam/ports"
    assert json.loads(args[0]) == {"inputs": ["Keys In"], "outputs": ["Synth Out"],
                                   "midi_system": "default"}
    client.send("/diffjam/jam/start", "s", json.dumps({"input": "Keys In", "clock": "midi",
                                                       "steps": 3}))
    address, args = client.recv()
    assert address == "/diffjam/jam/state"
    assert json.loads(args[0])["running"] is True
    [session] = running.jam.sessions
    assert (session.config.input, session.config.clock, session.config.steps,
            session.config.guidance) == ("Keys In", "midi", 3, 4.0)
    client.send("/diffjam/jam/start", "s", "{}")
    assert error_of(client.recv())[1] == ErrorCode.JAM
    client.send("/diffjam/jam/stop")
    address, args = client.recv()
    assert (address, json.loads(args[0])["running"]) == ("/diffjam/jam/state", False)
    assert session.log == ["start", "stop"]


def test_jam_on_jack(running, client: OscClient) -> None:
    """A client names the MIDI system: the ports listed and the jam's backend are JACK's."""
    client.send("/diffjam/jam/ports", "s", json.dumps({"midi_system": "jack"}))
    address, args = client.recv()
    assert (address, json.loads(args[0])) == ("/diffjam/jam/ports", {
        "inputs": ["JACK Keys"], "outputs": ["JACK Synth"], "midi_system": "jack"})
    client.send("/diffjam/jam/start", "s", json.dumps({"midi_system": "jack"}))
    assert client.recv()[0] == "/diffjam/jam/state"
    [session] = running.jam.sessions
    assert session.backend == "jack-backend"
    client.send("/diffjam/jam/stop")
    client.recv()
    client.send("/diffjam/jam/ports", "s", json.dumps({"midi_system": "coreaudio"}))
    _, code, _, message = error_of(client.recv())
    assert code == ErrorCode.BAD_PARAMS and "midi_system" in message


def test_jam_port_error_and_bad_params(client: OscClient) -> None:
    client.send("/diffjam/jam/start", "s", json.dumps({"input": "missing port"}))
    _, code, _, message = error_of(client.recv())
    assert code == ErrorCode.JAM
    assert "missing port" in message
    client.send("/diffjam/jam/start", "s", json.dumps({"clock": "sundial"}))
    assert error_of(client.recv())[1] == ErrorCode.BAD_PARAMS


def test_jam_control_builds_the_real_jam_config() -> None:
    from bridge.jam import JamConfig
    from bridge.server import JamControl
    from tests.bridge.conftest import FakePortError, JamFactory, fake_ports
    from wire.protocol import EngineSettings, JamStart

    factory = JamFactory()
    control = JamControl(object(), session_factory=factory, config_factory=JamConfig,
                         list_ports=fake_ports, port_error=FakePortError)
    states: list[dict] = []
    control.start(JamStart(output="Synth Out", tempo=100.0, seed=4),
                  EngineSettings(guidance=1.5, key="Am", steps=6), states.append)
    config = factory.sessions[0].config
    assert isinstance(config, JamConfig)
    assert (config.input, config.output, config.clock, config.tempo, config.guidance,
            config.in_key, config.key, config.steps, config.seed) == (
        None, "Synth Out", "internal", 100.0, 1.5, True, "Am", 6, 4)
    assert states[0]["running"] is True
    assert control.stop()["running"] is False


def test_settings_refuse_unreadable_key(client: OscClient) -> None:
    client.send("/diffjam/settings", "s", '{"key": "Q minor", "steps": 3}')
    _, code, _, message = error_of(client.recv())
    assert code == ErrorCode.BAD_CHORD
    assert "Q minor" in message
    client.send("/diffjam/settings/get")
    assert json.loads(client.recv()[1][0])["steps"] == 10  # nothing changed


def test_refused_params_drop_the_chunks_one_error_only(tmp_path: Path, caplog) -> None:
    from bridge.chunks import ChunkAssembler

    now = [0.0]
    state, thread = start_server(FakePipeline(), tmp_path,
                                 assembler=ChunkAssembler(clock=lambda: now[0]))
    osc = state.client()
    try:
        with caplog.at_level(logging.INFO, logger="bridge"):
            osc.send("/diffjam/notes", "siiffii", "r9", 0, 2, 0.0, 1.0, 60, 90)
            osc.send("/diffjam/infill", "ss", "r9", json.dumps(
                {"notes_chunks": 2, "bars": [1, 1], "form": "AABA"}))
            rid, code, _, message = error_of(osc.recv())
            assert (rid, code) == ("r9", ErrorCode.BAD_PARAMS)
            assert "'form'" in message
            osc.send("/diffjam/notes", "siiffii", "r9", 1, 2, 1.0, 1.0, 62, 90)  # late chunk
            now[0] = 6.0  # past the 5 s chunk expiry: nothing is left to expire
            osc.send("/diffjam/status")
            assert osc.recv()[0] == "/diffjam/status"
            osc.send("/diffjam/status")  # the loop has run expire() since the first one
            assert osc.recv()[0] == "/diffjam/status"
        logged = [r.getMessage() for r in caplog.records]
        assert "request r9 refused: dropped its 1 chunk(s)" in logged
        assert any(line.startswith("ignored chunk 2 of 2 for request r9") for line in logged)
        # new params for the id start a new request; chunks after them count again
        osc.send("/diffjam/infill", "ss", "r9", json.dumps(
            {"notes_chunks": 1, "bars": [1, 1], "clip_beats": 4, "write_midi": False}))
        osc.send("/diffjam/notes", "siiffii", "r9", 0, 1, 0.0, 1.0, 60, 90)
        replies = osc.until("/diffjam/done", "r9")
        assert replies[0] == ("/diffjam/accepted", ["r9", 0])
    finally:
        osc.close()
        state.server.shutdown()
        thread.join(WAIT_S)


def test_int_tags_for_note_times(running, client: OscClient) -> None:
    # Max sends whole-valued floats as ints: `iiii` notes are read as `ffii`
    client.send("/diffjam/notes", "sii" + "iiii" + "fiii", "max", 0, 1, 4, 2, 64, 100,
                0.5, 1, 62, 80)
    client.send("/diffjam/infill", "ss", "max", json.dumps(
        {"notes_chunks": 1, "bars": [1, 1], "write_midi": False}))
    assert client.until("/diffjam/done", "max")[0] == ("/diffjam/accepted", ["max", 0])
    [(_, call)] = running.pipeline.calls
    assert [(n.start, n.duration, n.pitch) for n in call["notes"]] == [(16, 8, 64), (2, 4, 62)]
    client.send("/diffjam/notes", "siisfii", "str", 0, 1, "4", 1.0, 60, 90)
    assert error_of(client.recv())[1] == ErrorCode.BAD_TYPES


def test_jam_start_passes_context_bars(running, client: OscClient) -> None:
    client.send("/diffjam/jam/start", "s", json.dumps({"context_bars": 5}))
    assert client.recv()[0] == "/diffjam/jam/state"
    [session] = running.jam.sessions
    assert session.config.context_bars == 5
    client.send("/diffjam/jam/stop")
    assert client.recv()[0] == "/diffjam/jam/state"
    client.send("/diffjam/jam/start", "s", "{}")  # not given: the jam's own default
    assert client.recv()[0] == "/diffjam/jam/state"
    assert running.jam.sessions[1].config.context_bars == 3


def test_shutdown_with_a_stuck_jam_leaves_only_daemon_threads(tmp_path: Path,
                                                              monkeypatch) -> None:
    # A jam whose stop hangs (its worker stuck in a generation) must not keep the
    # process alive: the interpreter waits at exit for every non-daemon thread.
    import bridge.server
    from bridge.server import JamControl, OscServer
    from bridge.worker import PipelineRunner
    from tests.bridge.conftest import FakeJamConfig, FakePortError, JamFactory, fake_ports

    release = threading.Event()

    class StuckFactory(JamFactory):
        def __call__(self, pipeline, config, *, on_state, backend=None):
            session = super().__call__(pipeline, config, on_state=on_state, backend=backend)
            session.stop = lambda: release.wait(WAIT_S)  # type: ignore[method-assign]
            return session

    monkeypatch.setattr(bridge.server, "STOP_TIMEOUT_S", 0.2)
    pipeline = FakePipeline()
    control = JamControl(pipeline, session_factory=StuckFactory(),
                         config_factory=FakeJamConfig, list_ports=fake_ports,
                         port_error=FakePortError)
    server = OscServer(PipelineRunner(pipeline, output_dir=tmp_path), info=pipeline.info(),
                       jam=control, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    osc = OscClient(("127.0.0.1", server.address[1]))
    try:
        osc.send("/diffjam/jam/start", "s", "{}")
        assert osc.recv()[0] == "/diffjam/jam/state"
        server.shutdown()
        thread.join(WAIT_S)
        assert not thread.is_alive()
        blocking = [t.name for t in threading.enumerate()
                    if t.is_alive() and not t.daemon and t is not threading.main_thread()]
        assert blocking == []
    finally:
        release.set()
        osc.close()


# --- clients and what they own ---------------------------------------------------------


def test_another_client_can_neither_take_nor_cancel_a_request(running) -> None:
    alice, bob = running.client(), running.client()
    try:
        alice.send("/diffjam/notes", "siiffii", "x", 0, 1, 0.0, 1.0, 64, 100)
        # Bob's params with Alice's id make a request of Bob's that waits for Bob's notes
        bob.send("/diffjam/accompany", "ss", "x", json.dumps(
            {"notes_chunks": 1, "n_bars": 1, "write_midi": False}))
        bob.send("/diffjam/cancel", "s", "x")  # cancels Bob's own request only
        assert error_of(bob.recv())[:2] == ("x", ErrorCode.CANCELLED)
        alice.send("/diffjam/infill", "ss", "x", json.dumps(
            {"notes_chunks": 1, "bars": [1, 1], "write_midi": False}))
        replies = alice.until("/diffjam/done", "x")
        assert replies[0] == ("/diffjam/accepted", ["x", 0])
        [(kind, call)] = running.pipeline.calls
        assert kind == "infill" and [n.pitch for n in call["notes"]] == [64]
        bob.send("/diffjam/cancel", "s", "x")  # nothing of Bob's is in flight any more
        assert error_of(bob.recv())[1] == ErrorCode.UNKNOWN_REQUEST
        bob.send("/diffjam/status")
        assert bob.recv()[0] == "/diffjam/status"  # Bob got none of Alice's replies
    finally:
        alice.close()
        bob.close()


def test_cancel_of_a_queued_request_by_another_client_is_refused(tmp_path: Path) -> None:
    gate = threading.Event()
    pipeline = FakePipeline(gate=gate)
    state, thread = start_server(pipeline, tmp_path)
    alice, bob = state.client(), state.client()
    try:
        alice.send("/diffjam/generate", "ss", "mine", '{"write_midi": false, "n_bars": 1}')
        assert alice.recv() == ("/diffjam/accepted", ["mine", 0])
        assert pipeline.started.wait(WAIT_S)
        bob.send("/diffjam/cancel", "s", "mine")
        rid, code, _, message = error_of(bob.recv())
        assert (rid, code) == ("mine", ErrorCode.UNKNOWN_REQUEST)
        assert "of yours" in message
        gate.set()
        assert alice.until("/diffjam/done", "mine")[-1][0] == "/diffjam/done"
    finally:
        gate.set()
        alice.close()
        bob.close()
        state.server.shutdown()
        thread.join(WAIT_S)


def test_settings_are_per_client_over_the_engine_defaults(tmp_path: Path) -> None:
    from wire.protocol import EngineSettings

    pipeline = FakePipeline()
    state, thread = start_server(pipeline, tmp_path, settings=EngineSettings(steps=3))
    alice, bob = state.client(), state.client()
    try:
        alice.send("/diffjam/settings", "s", '{"steps": 5}')
        assert json.loads(alice.recv()[1][0])["steps"] == 5
        bob.send("/diffjam/settings/get")
        assert json.loads(bob.recv()[1][0])["steps"] == 3  # the engine default, untouched
        for osc, rid in ((alice, "a"), (bob, "b")):
            osc.send("/diffjam/generate", "ss", rid, '{"n_bars": 1, "write_midi": false}')
            osc.until("/diffjam/done", rid)
        assert [call["options"].steps for _, call in pipeline.calls] == [5, 3]
        assert state.server.settings.steps == 3
    finally:
        alice.close()
        bob.close()
        state.server.shutdown()
        thread.join(WAIT_S)


def test_the_jam_belongs_to_the_client_that_started_it(running) -> None:
    alice, bob = running.client(), running.client()
    try:
        alice.send("/diffjam/jam/start", "s", "{}")
        assert alice.recv()[0] == "/diffjam/jam/state"
        bob.send("/diffjam/jam/start", "s", "{}")  # refused: it must not take the replies
        assert error_of(bob.recv())[1] == ErrorCode.JAM
        [session] = running.jam.sessions
        session.on_state(session.state())  # the running jam reports a change
        assert alice.recv()[0] == "/diffjam/jam/state"
        bob.send("/diffjam/jam/stop")
        _, code, _, message = error_of(bob.recv())
        assert code == ErrorCode.JAM and "another client" in message
        assert session.running
        alice.send("/diffjam/jam/stop")
        address, args = alice.recv()
        assert (address, json.loads(args[0])["running"]) == ("/diffjam/jam/state", False)
        bob.send("/diffjam/jam/start", "s", "{}")  # no jam running: Bob may start one
        assert bob.recv()[0] == "/diffjam/jam/state"
        bob.send("/diffjam/status")
        assert bob.recv()[0] == "/diffjam/status"
        alice.send("/diffjam/status")
        assert alice.recv()[0] == "/diffjam/status"  # nothing of Bob's jam came to Alice
    finally:
        alice.close()
        bob.close()


# --- every datagram answered, once, in a datagram --------------------------------------


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"#bundle\x00" + bytes(8), ErrorCode.MALFORMED),  # an empty bundle
        (b"#bundle\x00" + bytes(8) + struct.pack(">i", 16) + b"#bundle\x00" + bytes(8),
         ErrorCode.MALFORMED),  # a bundle holding only an empty bundle
        (encode("/diffjam/generate", "ss", "h", '{"tempo": ' + "9" * 400 + "}"),
         ErrorCode.BAD_PARAMS),  # beyond float range
        (encode("/diffjam/generate", "ss", "h", '{"steps": ' + "9" * 5000 + "}"),
         ErrorCode.BAD_JSON),  # beyond Python's 4,300-digit limit
        (encode("/diffjam/generate", "ss", "h", '{"tempo": 2}'), ErrorCode.BAD_PARAMS),
        (encode("/diffjam/accompany", "ss", "h", '{"n_bars": 1}'), ErrorCode.BAD_PARAMS),
    ],
)
def test_edge_cases_get_one_error_and_no_internal(client: OscClient, data: bytes,
                                                  code) -> None:
    client.send_raw(data)
    _, got, _, message = error_of(client.recv())
    assert got == code, message
    client.send("/diffjam/status")
    assert client.recv()[0] == "/diffjam/status"


@pytest.mark.parametrize(
    "data",
    [
        encode("/" + "x" * 60_000),
        encode("/diffjam/generate", "ss", "big", json.dumps({"chords": 1, "k" * 60_000: 1})),
        encode("/diffjam/generate", "ss", "big", json.dumps({"seed": "s" * 60_000})),
    ],
)
def test_an_error_quoting_a_huge_input_fits_a_datagram(client: OscClient, data: bytes) -> None:
    assert len(data) > 60_000
    client.send_raw(data)
    _, code, _, message = error_of(client.recv())
    assert code in (ErrorCode.UNKNOWN_ADDRESS, ErrorCode.BAD_PARAMS)
    assert len(message) <= 1000


def test_a_bad_chunk_is_the_one_outcome_of_its_request(tmp_path: Path) -> None:
    from bridge.chunks import ChunkAssembler

    now = [0.0]
    state, thread = start_server(FakePipeline(), tmp_path,
                                 assembler=ChunkAssembler(clock=lambda: now[0]))
    osc = state.client()
    try:
        # params, then a chunk with velocity 0: BAD_PARAMS, and no CHUNK on expiry
        osc.send("/diffjam/infill", "ss", "v", '{"notes_chunks": 2, "bars": [1, 1]}')
        osc.send("/diffjam/notes", "siiffii", "v", 0, 2, 0.0, 1.0, 60, 0)
        assert error_of(osc.recv())[:2] == ("v", ErrorCode.BAD_PARAMS)
        osc.send("/diffjam/notes", "siiffii", "v", 1, 2, 1.0, 1.0, 60, 90)  # late: ignored
        # cancel while waiting for chunks, then a late chunk: CANCELLED only
        osc.send("/diffjam/infill", "ss", "c", '{"notes_chunks": 2, "bars": [1, 1]}')
        osc.send("/diffjam/cancel", "s", "c")
        assert error_of(osc.recv())[:2] == ("c", ErrorCode.CANCELLED)
        osc.send("/diffjam/notes", "siiffii", "c", 0, 2, 0.0, 1.0, 60, 90)
        # chunks first, one refused: the params that follow are its own, ignored too
        osc.send("/diffjam/notes", "siiffii", "p", 0, 2, 0.0, 1.0, 60, 90)
        osc.send("/diffjam/notes", "siiffii", "p", 0, 2, 0.0, 1.0, 60, 90)  # twice
        assert error_of(osc.recv())[:2] == ("p", ErrorCode.CHUNK)
        osc.send("/diffjam/infill", "ss", "p", '{"notes_chunks": 2, "bars": [1, 1]}')
        now[0] = 6.0  # past the chunk expiry
        osc.send("/diffjam/status")
        osc.send("/diffjam/status")
        assert [osc.recv()[0] for _ in range(2)] == ["/diffjam/status"] * 2
    finally:
        osc.close()
        state.server.shutdown()
        thread.join(WAIT_S)


def test_an_oversized_clip_gets_one_error_naming_the_limit(client: OscClient) -> None:
    notes = [arg for k in range(128) for arg in (float(k % 64), 0.5, 60, 90)]
    n_chunks = -(-50_000 // 128)
    client.send("/diffjam/infill", "ss", "huge", json.dumps(
        {"notes_chunks": n_chunks, "bars": [1, 1]}))
    for index in range(n_chunks):
        client.send("/diffjam/notes", "sii" + "ffii" * 128, "huge", index, n_chunks, *notes)
    rid, code, _, message = error_of(client.recv())
    assert (rid, code) == ("huge", ErrorCode.TOO_LARGE)
    assert "20000 notes" in message
    client.send("/diffjam/status")
    assert client.recv()[0] == "/diffjam/status"  # and no other error came


def test_a_burst_of_200_requests_from_4_clients_gets_200_outcomes(tmp_path: Path,
                                                                  monkeypatch) -> None:
    import socket

    import bridge.server

    # The Linux default limit of a receive buffer: what a CI machine may give us.
    monkeypatch.setattr(bridge.server, "RECEIVE_BUFFER", 212_992)
    state, thread = start_server(FakePipeline(), tmp_path)
    clients = [state.client() for _ in range(4)]
    for osc in clients:
        osc.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2**20)
    params = '{"n_bars": 1, "steps": 1, "write_midi": false}'
    try:
        for k in range(50):  # back to back, the four clients interleaved
            for c, osc in enumerate(clients):
                osc.send("/diffjam/generate", "ss", f"c{c}-{k}", params)
        outcomes: dict[str, str] = {}
        for osc in clients:
            while sum(rid.startswith(f"c{clients.index(osc)}-") for rid in outcomes) < 50:
                address, args = osc.recv()
                if address in ("/diffjam/done", "/diffjam/error"):
                    assert args[0] not in outcomes, f"two outcomes for {args[0]}"
                    outcomes[args[0]] = address if address == "/diffjam/done" else \
                        ErrorCode(args[1]).name
        assert len(outcomes) == 200
        assert set(outcomes.values()) <= {"/diffjam/done", "BUSY"}
        assert "/diffjam/done" in outcomes.values()
    finally:
        for osc in clients:
            osc.close()
        state.server.shutdown()
        thread.join(WAIT_S)


def test_serve_checks_defaults_and_output_folder_before_loading(tmp_path: Path,
                                                                capsys) -> None:
    from diffjam.cli import main

    assert main(["serve", "--port", "0", "--defaults", '{"steps": 0}']) == 2
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["serve", "--port", "0", "--output-dir", str(blocker / "out")]) == 1
    errors = capsys.readouterr().err.splitlines()
    assert errors[0] == "diffjam serve: error: --defaults: 'steps' must be in 1..1000, got 0"
    assert errors[1].startswith(f"diffjam serve: error: cannot use {blocker / 'out'} for "
                                "results")
    assert len(errors) == 2


def test_one_shot_sender_gets_busy_on_its_reply_port(tmp_path: Path) -> None:
    gate = threading.Event()
    pipeline = FakePipeline(gate=gate)
    state, thread = start_server(pipeline, tmp_path, queue=1)
    busy_maker, one_shot, listener = state.client(), state.client(), state.client()
    try:
        busy_maker.send("/diffjam/generate", "ss", "run", '{"write_midi": false}')
        assert busy_maker.recv()[0] == "/diffjam/accepted"
        assert pipeline.started.wait(WAIT_S)  # running: the queue is free again
        busy_maker.send("/diffjam/generate", "ss", "wait", '{"write_midi": false}')
        assert busy_maker.recv()[0] == "/diffjam/accepted"  # and now full
        params = {"notes": [[0, 1, 60, 90]], "bars": [1, 1], "reply_port": listener.port}
        one_shot.send("/diffjam/infill", "ss", "shot", json.dumps(params))
        assert error_of(listener.recv())[:2] == ("shot", ErrorCode.BUSY)
        gate.set()
        busy_maker.until("/diffjam/done", "wait")  # the queue is empty again
        one_shot.send("/diffjam/infill", "ss", "shot2", json.dumps(params))
        replies = listener.until("/diffjam/done", "shot2")
        assert replies[0] == ("/diffjam/accepted", ["shot2", 0])
        [(_, call)] = [c for c in pipeline.calls if c[0] == "infill"]
        assert [(n.start, n.pitch) for n in call["notes"]] == [(0, 60)]
    finally:
        gate.set()
        for osc in (busy_maker, one_shot, listener):
            osc.close()
        state.server.shutdown()
        thread.join(WAIT_S)


def test_a_full_send_buffer_is_waited_for_once(tmp_path: Path, monkeypatch, caplog) -> None:
    from bridge.server import OscServer
    from bridge.worker import PipelineRunner
    from wire.protocol import Reply

    server = OscServer(PipelineRunner(FakePipeline(), output_dir=tmp_path), info={}, port=0)
    real = server._sock
    sent: list[bytes] = []

    class FullOnce:
        full = 1

        def sendto(self, data: bytes, target) -> None:
            if self.full:
                self.full -= 1
                raise BlockingIOError("send buffer full")
            sent.append(data)

    try:
        monkeypatch.setattr(server, "_sock", FullOnce())
        monkeypatch.setattr(server, "_wait_writable", lambda timeout: True)
        server._send(Reply("/diffjam/progress", ("r", 0.5)), ("127.0.0.1", 9))
        assert len(sent) == 1  # sent after the wait
        monkeypatch.setattr(server, "_sock", FullOnce())
        monkeypatch.setattr(server, "_wait_writable", lambda timeout: False)
        server._send(Reply("/diffjam/progress", ("r", 0.5)), ("127.0.0.1", 9))
        assert len(sent) == 1 and "cannot send /diffjam/progress" in caplog.text
    finally:
        real.close()
        server._control.shutdown(timeout=WAIT_S)


def test_parts_for_a_running_request_do_not_end_it(tmp_path: Path, caplog) -> None:
    gate = threading.Event()
    pipeline = FakePipeline(gate=gate)
    state, thread = start_server(pipeline, tmp_path)
    osc = state.client()
    try:
        osc.send("/diffjam/generate", "ss", "x", '{"write_midi": false, "n_bars": 1}')
        assert osc.recv() == ("/diffjam/accepted", ["x", 0])
        assert pipeline.started.wait(WAIT_S)
        osc.send("/diffjam/notes", "siiffii", "x", 0, 1, 0.0, 1.0, 60, 0)  # bad, and late
        osc.send("/diffjam/notes", "siiffii", "x", 0, 1, 0.0, 1.0, 60, 90)  # good, and late
        osc.send("/diffjam/generate", "ss", "x", '{"colour": 1}')  # a new request, refused
        assert error_of(osc.recv())[:2] == ("x", ErrorCode.BAD_PARAMS)
        gate.set()
        replies = osc.until("/diffjam/done", "x")
        assert [a for a, _ in replies if a == "/diffjam/error"] == []
        assert caplog.text.count("is already queued or running") == 2
    finally:
        gate.set()
        osc.close()
        state.server.shutdown()
        thread.join(WAIT_S)
