"""``/diffjam/song`` over real UDP on 127.0.0.1: a fake pipeline for the protocol (stages,
parts, errors, status), the real pipeline with tiny models for the worker's call."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import mido
import pytest

from bridge.worker import Job, PipelineRunner
from tests.bridge.conftest import WAIT_S, FakePipeline, OscClient, start_server
from wire.form import Phrase
from wire.protocol import (
    SONG_PARAM_KEYS,
    SONG_PARTS,
    TASKS,
    EngineSettings,
    ErrorCode,
    RequestParams,
    SongInfo,
    Status,
)


def ask_status(client: OscClient) -> Status:
    client.send("/diffjam/status")
    address, args = client.recv()
    assert address == "/diffjam/status"
    return Status.from_json(json.loads(args[0]))


def test_a_song_round_trip_names_its_stages_parts_and_phrases(running, client) -> None:
    client.send("/diffjam/song", "ss", "s1", json.dumps(
        {"form": "i1A2B1A2", "key": "A minor", "tempo": 100, "seed": 9, "steps": 4,
         "repeat_strength": 0.8, "use_form": False, "guidance": 2.5, "in_key": 0,
         "quality": "high", "chords": "Am F"}))
    replies = client.until("/diffjam/done", "s1")
    assert replies[0] == ("/diffjam/accepted", ["s1", 0])
    progress = [args[1:] for address, args in replies if address == "/diffjam/progress"]
    stages = [stage for _, stage in progress]
    assert stages == ["lead sheet"] * 4 + ["accompaniment"] * 4
    assert [fraction for fraction, _ in progress] == pytest.approx([0.25, 0.5, 0.75, 1.0] * 2)
    results = [args for address, args in replies if address == "/diffjam/result"]
    assert [args[1] for args in results] == [0, 1, 2]  # melody, chords, accompaniment
    parts = {args[1]: [tuple(args[k:k + 4]) for k in range(4, len(args), 4)]
             for args in results}
    assert parts[0] == [(4.0 * b, 1.0, 72, 90) for b in range(6)]
    assert parts[2] == [(4.0 * b, 2.0, 48, 70) for b in range(6)]
    assert sorted(note[2] for note in parts[1] if note[0] == 0.0) == [48, 55, 64]  # C: C3 G3 E4
    done = json.loads(replies[-1][1][1])
    assert (done["variations"], done["bars"], done["n_bars"], done["nfe"]) == (3, [1, 6], 6, None)
    assert done["key"] == "A minor" and done["seed"] == 9
    song = SongInfo.from_json(done)
    assert song.parts == SONG_PARTS
    assert song.phrases == (Phrase("i", 1), Phrase("A", 2), Phrase("B", 1), Phrase("A", 2))
    assert song.chords[1].start == 4.0 and song.chords[1].symbol == "C"
    assert song.seconds == {"lead sheet": 0.5, "accompaniment": 0.25, "total": 0.75}
    kind, call = running.pipeline.calls[0]
    assert kind == "song" and call["tempo"] == 100.0 and call["key"].name() == "A minor"
    options = call["options"]
    assert (options.seed, options.steps, options.repeat_strength, options.use_form) == (
        9, 4, 0.8, False)
    accompaniment = options.accompaniment
    assert (accompaniment.guidance, accompaniment.in_key, accompaniment.quality) == (
        2.5, False, "high")
    assert [span.chord.symbol() for span in call["fixed"].chords] == ["Am", "F"]
    [path] = done["midi_paths"]
    midi = mido.MidiFile(path)
    assert [track.name for track in midi.tracks[1:]] == ["Melody", "Chords", "Accompaniment"]
    markers = [m.text for m in midi.tracks[0] if m.type == "marker"]
    assert markers == ["i", "A", "B", "A"]


def test_a_song_takes_the_senders_settings_and_engine_defaults(running, client) -> None:
    client.send("/diffjam/settings", "s", json.dumps({"seed": 4, "steps": 3}))
    client.recv()
    client.send("/diffjam/song", "ss", "s2", json.dumps({"form": "A1", "write_midi": False}))
    done = json.loads(client.until("/diffjam/done", "s2")[-1][1][1])
    assert done["midi_paths"] == [] and done["key"] == "C major" and done["seed"] == 4
    options = running.pipeline.calls[0][1]["options"]
    assert options.steps == 20  # the lead sheet's own default, not the sender's steps
    assert options.accompaniment.steps == 3


@pytest.mark.parametrize(("params", "code", "text"), [
    ({"form": "A8B"}, ErrorCode.BAD_PARAMS, "'form': cannot read 'B' at character 3"),
    ({}, ErrorCode.BAD_PARAMS, "song needs 'form'"),
    ({"form": "  "}, ErrorCode.BAD_PARAMS, "'form' has no phrases"),
    ({"form": "A200B100"}, ErrorCode.BAD_PARAMS, "at most 256"),
    ({"form": "A4", "bars": [1, 2]}, ErrorCode.BAD_PARAMS, "unknown key(s) 'bars'"),
    ({"form": "A4", "variations": 2}, ErrorCode.BAD_PARAMS, "unknown key(s) 'variations'"),
    ({"form": "A4", "repeat_strength": 2}, ErrorCode.BAD_PARAMS, "'repeat_strength'"),
    ({"form": "A4", "notes_chunks": 1}, ErrorCode.BAD_PARAMS, "a song takes no notes"),
])
def test_a_bad_song_is_one_error_and_the_server_keeps_serving(running, client, params, code,
                                                              text) -> None:
    client.send("/diffjam/song", "ss", "bad", json.dumps(params))
    address, args = client.recv()
    assert address == "/diffjam/error" and args[:3] == ["bad", int(code), code.name]
    assert text in args[3]
    assert running.pipeline.calls == []
    client.send("/diffjam/song", "ss", "good", json.dumps({"form": "A1", "steps": 1}))
    assert client.until("/diffjam/done", "good")[-1][0] == "/diffjam/done"


def test_a_clip_task_refuses_the_song_keys(client) -> None:
    client.send("/diffjam/generate", "ss", "g", json.dumps({"form": "A4"}))
    address, args = client.recv()
    assert address == "/diffjam/error" and args[1] == ErrorCode.BAD_PARAMS
    assert "unknown key(s) 'form'" in args[3]


@pytest.mark.parametrize(("params", "code", "text"), [
    ({"form": "A2", "key": "H minor"}, ErrorCode.BAD_CHORD, "unknown key"),
    ({"form": "A2", "chords": "C G Am"}, ErrorCode.BAD_BARS, "the chords last 3 bars; the "
                                                              "form has 2"),
])
def test_song_inputs_read_when_it_runs_are_answered_after_accepted(client, params, code,
                                                                   text) -> None:
    client.send("/diffjam/song", "ss", "late", json.dumps(params))
    accepted, error = client.until("/diffjam/error", "late")
    assert accepted[0] == "/diffjam/accepted"
    assert error[1][1] == code and text in error[1][3]


def test_status_advertises_songs_and_the_lead_sheet_model(client) -> None:
    status = ask_status(client)
    assert status.tasks == TASKS and "song" in status.tasks
    assert status.song_params == SONG_PARAM_KEYS and "form" not in status.params
    assert status.lead_sheet and status.writes_songs


def test_an_engine_without_a_lead_sheet_model_says_so(tmp_path: Path) -> None:
    state, thread = start_server(FakePipeline(lead_sheet=False), tmp_path / "out")
    client = state.client()
    try:
        status = ask_status(client)
        assert "song" in status.tasks and not status.lead_sheet and not status.writes_songs
        client.send("/diffjam/song", "ss", "s", json.dumps({"form": "A4"}))
        accepted, error = client.until("/diffjam/error", "s")
        assert error[1][1] == ErrorCode.BAD_PARAMS and "no lead-sheet model" in error[1][3]
    finally:
        client.close()
        state.server.shutdown()
        thread.join(WAIT_S)


def test_a_running_song_can_be_cancelled(tmp_path: Path) -> None:
    gate = threading.Event()
    state, thread = start_server(FakePipeline(gate=gate), tmp_path / "out")
    client = state.client()
    try:
        client.send("/diffjam/song", "ss", "c", json.dumps({"form": "A4", "steps": 2}))
        assert client.recv()[0] == "/diffjam/accepted"
        assert state.pipeline.started.wait(WAIT_S)
        client.send("/diffjam/cancel", "s", "c")
        address, args = client.recv()
        assert address == "/diffjam/error" and args[1] == ErrorCode.CANCELLED
    finally:
        gate.set()
        client.close()
        state.server.shutdown()
        thread.join(WAIT_S)


def test_the_worker_runs_the_real_pipeline_song(tmp_path: Path, tiny_pipeline) -> None:
    """PipelineRunner -> Pipeline.song with tiny random models: the parts and the file."""
    from bridge.chunks import ReadyRequest
    from wire.protocol import RequestMessage

    params = RequestParams(form="A2B1A2", key="D minor", seed=3, steps=2, tempo=110.0)
    request = ReadyRequest(RequestMessage("song", "real", params), (), ("127.0.0.1", 1),
                           ("127.0.0.1", 1))
    job = Job(request, EngineSettings(steps=2), accepted_at=0.0)
    stages: list[str | None] = []
    outcome = PipelineRunner(tiny_pipeline, output_dir=tmp_path).run(
        job, progress=lambda fraction, stage=None: stages.append(stage),
        cancel=threading.Event())
    assert outcome.n_bars == 5 and outcome.bars == (1, 5) and outcome.key == "D minor"
    assert len(outcome.variations) == 3 and outcome.song is not None
    assert outcome.song.seed == 3 and [p.letter for p in outcome.song.phrases] == list("ABA")
    assert {"lead sheet", "accompaniment"} <= set(stages)
    assert all(0 <= note.start < 20 for part in outcome.variations for note in part)
    midi = mido.MidiFile(outcome.midi_paths[0])
    assert round(mido.tempo2bpm(midi.tracks[0][0].tempo)) == 110


@pytest.fixture(scope="module")
def tiny_pipeline(tmp_path_factory):
    from engine.pipeline import Pipeline
    from tests.song_models import make_tiny_leadsheet_file, make_tiny_model_file

    folder = tmp_path_factory.mktemp("models")
    pipeline = Pipeline.load(make_tiny_model_file(folder / "tiny.safetensors"), device="cpu",
                             threads=1,
                             leadsheet=make_tiny_leadsheet_file(folder / "ls.safetensors"))
    yield pipeline
    pipeline.close()


def test_serve_with_a_lead_sheet_writes_songs_over_osc(tmp_path: Path) -> None:
    """`diffjam serve --leadsheet` as a subprocess: status says so, a song comes back."""
    from tests.bridge.test_e2e import REPO, Serve, free_udp_port
    from tests.song_models import make_tiny_leadsheet_file, make_tiny_model_file

    port = free_udp_port()
    server = Serve("--port", str(port), "--device", "cpu", "--threads", "1", "--model",
                   str(make_tiny_model_file(tmp_path / "tiny.safetensors")), "--leadsheet",
                   str(make_tiny_leadsheet_file(tmp_path / "ls.safetensors")),
                   "--output-dir", str(tmp_path / "out"), cwd=REPO)
    client = OscClient(("127.0.0.1", port))
    try:
        server.wait_for("listening on")
        assert ask_status(client).writes_songs
        client.send("/diffjam/song", "ss", "e2e", json.dumps({"form": "A2B1", "steps": 2,
                                                              "seed": 1}))
        replies = client.until("/diffjam/done", "e2e")
        stages = {args[2] for address, args in replies
                  if address == "/diffjam/progress" and len(args) == 3}
        assert stages == {"lead sheet", "accompaniment"}
        done = json.loads(replies[-1][1][1])
        assert done["n_bars"] == 3 and done["parts"] == list(SONG_PARTS)
        assert [track.name for track in mido.MidiFile(done["midi_paths"][0]).tracks[1:]] == [
            "Melody", "Chords", "Accompaniment"]
    finally:
        client.close()
        assert server.interrupt() == 0, "\n".join(server.lines)


def test_serve_refuses_a_missing_lead_sheet_file(tmp_path: Path, capsys) -> None:
    from diffjam.cli import main

    assert main(["serve", "--leadsheet", str(tmp_path / "none.st"), "--port", "0"]) == 1
    assert capsys.readouterr().err == (
        f"diffjam serve: error: model file not found: {str(tmp_path / 'none.st')!r}\n")
