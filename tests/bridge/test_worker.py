"""The request worker: ordering, exactly-once replies, BUSY, cancel, timeout, errors."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import pytest

from bridge.chunks import ReadyRequest
from bridge.worker import (
    Job,
    JobCancelled,
    Outcome,
    PipelineRunner,
    Worker,
    beats_to_note,
    error_code,
    note_to_beats,
)
from engine.errors import (
    BarRangeError,
    ChordSymbolError,
    ClipTooLargeError,
    InputError,
    ModelFileError,
    UnsupportedMeterError,
)
from engine.pianoroll import Note
from tests.bridge.conftest import WAIT_S, FakePipeline
from wire.protocol import (
    BeatNote,
    EngineSettings,
    ErrorCode,
    ProtocolError,
    Reply,
    RequestMessage,
    RequestParams,
)

ALICE = ("127.0.0.1", 7000)
BOB = ("127.0.0.1", 7001)


class Outbox:
    """Collects replies; ``wait_for`` blocks until a final reply for an id arrived."""

    def __init__(self) -> None:
        self.replies: list[tuple[Reply, tuple[str, int]]] = []
        self._cond = threading.Condition()

    def __call__(self, reply: Reply, target: tuple[str, int]) -> None:
        with self._cond:
            self.replies.append((reply, target))
            self._cond.notify_all()

    def of(self, rid: str) -> list[Reply]:
        with self._cond:
            return [r for r, _ in self.replies if r.args and r.args[0] == rid]

    def wait_final(self, rid: str) -> list[Reply]:
        def final() -> bool:
            return any(r.address in ("/diffjam/done", "/diffjam/error") for r in self.of(rid))

        with self._cond:
            assert self._cond.wait_for(final, WAIT_S)
        return self.of(rid)


class GatedRunner:
    """Blocks each job until ``gate`` opens (or its cancel event is set)."""

    def __init__(self, *, error: Exception | None = None) -> None:
        self.gate = threading.Event()
        self.started = threading.Semaphore(0)
        self.error = error
        self.ran: list[str] = []

    def run(self, job: Job, *, progress, cancel) -> Outcome:
        self.ran.append(job.request_id)
        self.started.release()
        while not self.gate.wait(0.005):
            if cancel.is_set():
                raise JobCancelled
        if self.error is not None:
            raise self.error
        for k in range(1, 5):
            progress(k / 4)
            progress(k / 4)  # repeated fractions are sent once
        notes = (BeatNote(0.0, 1.0, 60, 90),)
        return Outcome(variations=(notes, ()), bars=(1, 2), n_bars=2, midi_paths=(), nfe=8)


def ready(rid: str, owner: tuple[str, int] = ALICE, **params) -> ReadyRequest:
    return ReadyRequest(RequestMessage("generate", rid, RequestParams(**params)), (), owner,
                        owner)


@pytest.fixture
def setup():
    runner = GatedRunner()
    outbox = Outbox()
    worker = Worker(runner, outbox, capacity=2, timeout_s=60.0)
    worker.start()
    yield runner, outbox, worker
    runner.gate.set()
    worker.stop()


def test_reply_order_and_done(setup) -> None:
    runner, outbox, worker = setup
    assert worker.submit(ready("a"), EngineSettings()) == 0
    runner.gate.set()
    replies = outbox.wait_final("a")
    assert [r.address for r in replies] == (
        ["/diffjam/accepted"] + ["/diffjam/progress"] * 4
        + ["/diffjam/result", "/diffjam/result", "/diffjam/done"])
    assert [r.args[1] for r in replies[1:5]] == [0.25, 0.5, 0.75, 1.0]
    assert replies[5].args == ("a", 0, 0, 1, 0.0, 1.0, 60, 90)
    assert replies[6].args == ("a", 1, 0, 1)
    done = json.loads(replies[7].args[1])
    assert {k: done[k] for k in ("variations", "notes", "bars", "n_bars", "midi_paths", "nfe")} \
        == {"variations": 2, "notes": [1, 0], "bars": [1, 2], "n_bars": 2, "midi_paths": [],
            "nfe": 8}
    assert done["latency_ms"] >= 0
    assert all(target == ALICE for _, target in outbox.replies)
    assert worker.status()["last_latency_ms"] is not None
    assert not worker.in_flight(ALICE, "a")


def test_busy_duplicate_and_cancel(setup) -> None:
    runner, outbox, worker = setup
    worker.submit(ready("run"), EngineSettings())
    assert runner.started.acquire(timeout=WAIT_S)
    assert worker.submit(ready("q1"), EngineSettings()) == 0
    assert worker.submit(ready("q2"), EngineSettings()) == 1
    with pytest.raises(ProtocolError) as info:
        worker.submit(ready("q3"), EngineSettings())
    assert info.value.code == ErrorCode.BUSY
    with pytest.raises(ProtocolError) as info:
        worker.submit(ready("q1"), EngineSettings())
    assert info.value.code == ErrorCode.DUPLICATE_ID
    assert worker.status() == {"queue": 2, "queue_capacity": 2, "busy": True,
                               "last_latency_ms": None}
    worker.cancel(ALICE, "q1")
    assert [r.address for r in outbox.of("q1")] == ["/diffjam/accepted", "/diffjam/error"]
    assert outbox.of("q1")[-1].args[1] == ErrorCode.CANCELLED
    worker.cancel(ALICE, "run")
    assert outbox.wait_final("run")[-1].args[1:3] == (ErrorCode.CANCELLED, "CANCELLED")
    with pytest.raises(ProtocolError) as info:
        worker.cancel(ALICE, "nobody")
    assert info.value.code == ErrorCode.UNKNOWN_REQUEST
    runner.gate.set()
    assert outbox.wait_final("q2")[-1].address == "/diffjam/done"
    assert runner.ran == ["run", "q2"]  # the cancelled queued job never ran
    finals = [r for r, _ in outbox.replies if r.address in ("/diffjam/done", "/diffjam/error")]
    assert sorted(r.args[0] for r in finals) == ["q1", "q2", "run"]  # one final reply each


def test_timeout_sets_cancel_and_replies_timeout() -> None:
    runner = GatedRunner()
    outbox = Outbox()
    worker = Worker(runner, outbox, capacity=1, timeout_s=0.05)
    worker.start()
    try:
        worker.submit(ready("slow"), EngineSettings())
        error = outbox.wait_final("slow")[-1]
        assert error.args[1] == ErrorCode.TIMEOUT
        assert "0.05 s" in error.args[3]
    finally:
        worker.stop()


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ProtocolError(ErrorCode.BAD_CHORD, "H#"), ErrorCode.BAD_CHORD),
        (RuntimeError("boom"), ErrorCode.INTERNAL),
    ],
)
def test_runner_errors(error, code, caplog) -> None:
    runner = GatedRunner(error=error)
    runner.gate.set()
    outbox = Outbox()
    worker = Worker(runner, outbox)
    worker.start()
    try:
        worker.submit(ready("x"), EngineSettings())
        replies = outbox.wait_final("x")
        assert [r.address for r in replies] == ["/diffjam/accepted", "/diffjam/error"]
        assert replies[-1].args[1] == code
        worker.submit(ready("y"), EngineSettings())  # still serving
        assert outbox.wait_final("y")[-1].address == "/diffjam/error"
    finally:
        worker.stop()
    if code == ErrorCode.INTERNAL:
        assert "Traceback" in caplog.text


def test_stop_answers_queued_jobs(setup) -> None:
    runner, outbox, worker = setup
    worker.submit(ready("run"), EngineSettings())
    assert runner.started.acquire(timeout=WAIT_S)
    worker.submit(ready("queued"), EngineSettings())
    worker.stop()
    assert outbox.of("queued")[-1].args[1] == ErrorCode.CANCELLED
    assert outbox.of("run")[-1].args[1] == ErrorCode.CANCELLED
    with pytest.raises(ProtocolError) as info:
        worker.submit(ready("late"), EngineSettings())
    assert info.value.code == ErrorCode.BUSY


@pytest.mark.parametrize(
    ("start", "duration", "steps"),
    [
        (0.0, 1.0, (0, 4)),
        (0.1, 0.1, (0, 1)),  # shorter than a step after rounding: one step
        (0.125, 0.25, (1, 1)),  # onset 0.5 step rounds up; offset 1.5 steps rounds up to 2
        (1.37, 0.5, (5, 2)),
    ],
)
def test_beats_to_steps(start, duration, steps) -> None:
    note = beats_to_note(BeatNote(start, duration, 60, 90))
    assert (note.start, note.duration) == steps


def test_steps_to_beats_exact() -> None:
    assert note_to_beats(Note(start=5, pitch=61, duration=3, velocity=7)) == BeatNote(
        1.25, 0.75, 61, 7)


def test_error_code_mapping() -> None:
    assert error_code(UnsupportedMeterError("3/4")) == ErrorCode.UNSUPPORTED_METER
    assert error_code(ChordSymbolError("X")) == ErrorCode.BAD_CHORD
    assert error_code(BarRangeError("b")) == ErrorCode.BAD_BARS
    assert error_code(ClipTooLargeError("c")) == ErrorCode.TOO_LARGE
    assert error_code(ModelFileError("m")) == ErrorCode.BAD_PARAMS
    assert error_code(InputError("i")) == ErrorCode.BAD_PARAMS


def test_pipeline_runner_maps_input_errors(tmp_path: Path) -> None:
    runner = PipelineRunner(FakePipeline(error=ClipTooLargeError("too many notes: 30000")),
                            output_dir=tmp_path)
    job = Job(ready("r"), EngineSettings(), accepted_at=0.0)
    with pytest.raises(ProtocolError, match="too many notes") as info:
        runner.run(job, progress=lambda f: None, cancel=job.cancel)
    assert (info.value.code, info.value.request_id) == (ErrorCode.TOO_LARGE, "r")


def test_pipeline_runner_refuses_more_samples_than_it_draws_at_once(tmp_path: Path) -> None:
    # 8 variations of 16 candidates each: one clear error to the caller, nothing drawn
    pipeline = FakePipeline()
    runner = PipelineRunner(pipeline, output_dir=tmp_path)
    params = RequestParams(chords="Am F", n_bars=2, write_midi=False, variations=8,
                           candidates=16)
    job = Job(ReadyRequest(RequestMessage("accompany", "many", params), (), ALICE, ALICE),
              EngineSettings(), accepted_at=0.0)
    with pytest.raises(ProtocolError, match="at most 64 samples at once") as info:
        runner.run(job, progress=lambda f: None, cancel=job.cancel)
    assert (info.value.code, info.value.request_id) == (ErrorCode.BAD_PARAMS, "many")
    assert pipeline.calls == []


def test_pipeline_runner_writes_midi_with_safe_names(tmp_path: Path) -> None:
    runner = PipelineRunner(FakePipeline(), output_dir=tmp_path / "new")
    job = Job(ready("../../etc/x y", n_bars=1, variations=2), EngineSettings(), accepted_at=0.0)
    outcome = runner.run(job, progress=lambda f: None, cancel=job.cancel)
    assert len(outcome.midi_paths) == 2
    for index, path in enumerate(outcome.midi_paths, start=1):
        assert Path(path).parent == tmp_path / "new"
        assert re.fullmatch(rf"\d{{8}}-\d{{6}}-0001-\.\._\.\._etc_x_y-v{index}-[0-9a-f]{{8}}\.mid",
                            Path(path).name), path
    assert outcome.variations[1] == (BeatNote(0.0, 1.0, 61, 90),)
    assert outcome.midi_error is None


def test_pipeline_runner_passes_the_musical_options_and_reports_the_key(
        tmp_path: Path) -> None:
    pipeline = FakePipeline()
    runner = PipelineRunner(pipeline, output_dir=tmp_path)
    params = RequestParams(chords="Am F", key="A minor", sampler="ddpm", below_melody=True,
                           n_bars=2, write_midi=False)
    melody = (BeatNote(0.0, 4.0, 72, 90),)
    job = Job(ReadyRequest(RequestMessage("accompany", "k", params), melody, ALICE, ALICE),
              EngineSettings(), accepted_at=0.0)
    outcome = runner.run(job, progress=lambda f: None, cancel=job.cancel)
    [(task, call)] = pipeline.calls
    options = call["options"]
    assert (task, options.sampler, options.below_melody) == ("accompany", "ddpm", True)
    assert [note.pitch for note in call["melody"]] == [72]
    assert outcome.key == "A minor"
    job = Job(ready("plain", n_bars=1, write_midi=False), EngineSettings(), accepted_at=0.0)
    outcome = runner.run(job, progress=lambda f: None, cancel=job.cancel)
    options = pipeline.calls[-1][1]["options"]
    assert (options.sampler, options.below_melody, outcome.key) == ("ddim", False, None)


def test_pipeline_runner_passes_the_pitch_set_and_guidance_interval(tmp_path: Path) -> None:
    pipeline = FakePipeline()
    runner = PipelineRunner(pipeline, output_dir=tmp_path)
    params = RequestParams(chords="Am F", n_bars=2, write_midi=False, allowed="key+chord",
                           guidance_below=0.7, register=False, candidates=2,
                           bass_anchor=True)
    job = Job(ReadyRequest(RequestMessage("accompany", "p", params), (), ALICE, ALICE),
              EngineSettings(), accepted_at=0.0)
    runner.run(job, progress=lambda f: None, cancel=job.cancel)
    options = pipeline.calls[-1][1]["options"]
    assert (options.allowed, options.guidance_below, options.register, options.candidates) == (
        "key+chord", 0.7, False, 2)
    assert options.bass_anchor is True
    job = Job(ready("plain", n_bars=1, write_midi=False), EngineSettings(), accepted_at=0.0)
    runner.run(job, progress=lambda f: None, cancel=job.cancel)
    options = pipeline.calls[-1][1]["options"]
    assert (options.allowed, options.guidance_below, options.register, options.candidates) == (
        None, None, None, None)  # the task's own
    assert options.bass_anchor is False


def test_pipeline_runner_passes_density_and_repeat(tmp_path: Path) -> None:
    pipeline = FakePipeline()
    runner = PipelineRunner(pipeline, output_dir=tmp_path)
    clip = (BeatNote(0.0, 1.0, 60, 90), BeatNote(12.0, 1.0, 60, 90))
    params = RequestParams(bars=(2, 3), clip_beats=16.0, density=6.0, repeat=0.25,
                           write_midi=False)
    job = Job(ReadyRequest(RequestMessage("infill", "d", params), clip, ALICE, ALICE),
              EngineSettings(), accepted_at=0.0)
    runner.run(job, progress=lambda f: None, cancel=job.cancel)
    options = pipeline.calls[-1][1]["options"]
    assert (options.density, options.repeat) == (6.0, 0.25)
    job = Job(ready("auto", n_bars=1, write_midi=False), EngineSettings(), accepted_at=0.0)
    runner.run(job, progress=lambda f: None, cancel=job.cancel)
    options = pipeline.calls[-1][1]["options"]
    assert (options.density, options.repeat) == (None, None)  # the engine's own defaults


def test_a_request_belongs_to_its_owner(setup) -> None:
    runner, outbox, worker = setup
    worker.submit(ready("same"), EngineSettings())
    assert runner.started.acquire(timeout=WAIT_S)
    worker.submit(ready("same", owner=BOB), EngineSettings())  # Bob's own id "same"
    assert worker.in_flight(ALICE, "same") and worker.in_flight(BOB, "same")
    with pytest.raises(ProtocolError) as info:
        worker.cancel(("127.0.0.1", 7002), "same")  # a third client cancels nothing
    assert info.value.code == ErrorCode.UNKNOWN_REQUEST
    worker.cancel(BOB, "same")  # Bob's queued job only
    assert [target for reply, target in outbox.replies if reply.address == "/diffjam/error"] \
        == [BOB]
    assert worker.in_flight(ALICE, "same") and not worker.in_flight(BOB, "same")
    runner.gate.set()
    worker.submit(ready("after"), EngineSettings())
    outbox.wait_final("after")  # jobs run in order: Alice's "same" is finished too
    assert [(reply.args[0], target) for reply, target in outbox.replies
            if reply.address == "/diffjam/done"] == [("same", ALICE), ("after", ALICE)]


def test_pipeline_runner_keeps_the_notes_when_the_file_cannot_be_written(
        tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    runner = PipelineRunner(FakePipeline(), output_dir=blocker / "out")
    job = Job(ready("w", n_bars=1), EngineSettings(), accepted_at=0.0)
    outcome = runner.run(job, progress=lambda f: None, cancel=job.cancel)
    assert outcome.midi_paths == ()
    assert "cannot use" in outcome.midi_error
    assert outcome.variations == ((BeatNote(0.0, 1.0, 60, 90),),)
