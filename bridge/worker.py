"""The request worker: a bounded queue, one generating thread, cancellation and timeouts.

OSC handlers only call :meth:`Worker.submit` and :meth:`Worker.cancel`, which never block on
generation. One worker thread takes jobs in order and runs them through a :class:`Runner`
(:class:`PipelineRunner` in the product, a fake in tests), sending progress and results.

Reply guarantees (doc: "For a request the engine sends, in order"): ``accepted`` is sent by
:meth:`Worker.submit` before the job becomes visible to the worker thread, then zero or
more ``progress``, then either every ``result`` chunk and ``done``, or exactly one
``error``. Every job is finished exactly once: by the worker thread, or by
:meth:`Worker.cancel` while it is still queued, or by :meth:`Worker.stop`.

Jobs are keyed by ``(owner, request id)``: the owner is the client address and port the
request came from, and only it can cancel the job (another client's id is another job).

A song (``/diffjam/song``) runs the same way; its progress names the stage, and its
result streams are its parts (:data:`wire.protocol.SONG_PARTS`) with :class:`SongInfo` in
``done``.

A running job is cancelled by setting its ``threading.Event``; the pipeline checks it
between sampler steps. For the per-request timeout a watchdog thread sets the same event
(with the reason TIMEOUT) when a job has been running for longer than ``timeout_s``. A job
whose event is set when the pipeline returns is reported as cancelled / timed out, never as
done.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from bridge.chunks import ReadyRequest
from bridge.models import ModelShelf, UnknownModelError
from bridge.outputs import OutputDirError, default_output_dir, open_new_file, prepare_output_dir
from engine.errors import (
    BarRangeError,
    ChordSymbolError,
    ClipTooLargeError,
    InputError,
    UnsupportedMeterError,
)
from engine.harmony import ChordSpan, parse_key, parse_progression
from engine.midifile import MidiFileError, quantize, write_midi
from engine.pianoroll import STEPS_PER_BAR, STEPS_PER_BEAT, Note
from engine.sampling import DEFAULT_QUALITY, DEFAULT_SAMPLER, BarRange, Cancelled, SamplingOptions
from engine.songfile import chord_notes, write_song
from wire.form import parse_form
from wire.limits import DEFAULT_SONG_KEY
from wire.protocol import (
    BeatNote,
    ChordLabel,
    EngineSettings,
    ErrorCode,
    ProtocolError,
    Reply,
    RequestKind,
    SongInfo,
    error_reply,
    result_replies,
)

if TYPE_CHECKING:
    from engine.song import Song

__all__ = [
    "Job",
    "JobCancelled",
    "Outcome",
    "PipelineRunner",
    "ProgressFn",
    "Runner",
    "Worker",
    "beats_to_note",
    "error_code",
    "note_to_beats",
    "song_info",
]

log = logging.getLogger(__name__)

Address = tuple[str, int]
Key = tuple[Address, str]  # (owner, request id)
Send = Callable[[Reply, Address], None]

# Progress replies are sent when the fraction moved by at least this much (and at 1.0).
PROGRESS_STEP = 0.01


class JobCancelled(Exception):
    """Raised by a runner when the job's cancel event stopped the generation."""


@dataclass(frozen=True)
class Outcome:
    """What a runner returns: notes in beats per variation (a song's: per part), bars
    1-based inclusive; ``midi_error`` says why the asked-for ``.mid`` files could not be
    written (the notes are sent all the same); ``key`` is the key the engine used (``"A
    minor"``: the one asked for, else the one it estimated; None when it had none);
    ``nfe`` the network evaluations (None: not counted, a song); ``candidates`` the
    samples drawn for each variation (engine.candidates); ``song`` what ``done`` adds for
    a song."""

    variations: tuple[tuple[BeatNote, ...], ...]
    bars: tuple[int, int]
    n_bars: int
    midi_paths: tuple[str, ...]
    nfe: int | None
    midi_error: str | None = None
    key: str | None = None
    song: SongInfo | None = None
    candidates: int = 1


@dataclass(eq=False)
class Job:
    """One accepted request on its way through the queue."""

    request: ReadyRequest
    settings: EngineSettings
    accepted_at: float
    cancel: threading.Event = field(default_factory=threading.Event)
    reason: ErrorCode | None = None  # CANCELLED or TIMEOUT once the event is set

    @property
    def request_id(self) -> str:
        return self.request.message.request_id

    @property
    def key(self) -> Key:
        return (self.request.owner, self.request.message.request_id)

    @property
    def reply_to(self) -> Address:
        return self.request.reply_to

    def stop(self, reason: ErrorCode) -> None:
        if self.reason is None:
            self.reason = reason
        self.cancel.set()


class ProgressFn(Protocol):
    """How a runner reports progress: the fraction done 0..1, within ``stage`` when the
    request has stages (a song: ``engine.song.STAGES``)."""

    def __call__(self, fraction: float, stage: str | None = None) -> None: ...


class Runner(Protocol):
    def run(self, job: Job, *, progress: ProgressFn, cancel: threading.Event) -> Outcome: ...


class Worker:
    """Bounded FIFO of jobs served by one thread; see the module docstring."""

    def __init__(
        self,
        runner: Runner,
        send: Send,
        *,
        capacity: int = 8,
        timeout_s: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if capacity < 1:
            raise ValueError(f"queue capacity must be >= 1, got {capacity}")
        if not timeout_s > 0:
            raise ValueError(f"timeout must be > 0 s, got {timeout_s}")
        self._runner = runner
        self._send = send
        self.capacity = capacity
        self.timeout_s = timeout_s
        self._clock = clock
        self._lock = threading.Condition()
        self._queue: deque[Job] = deque()
        self._in_flight: dict[Key, Job] = {}
        self._running: Job | None = None
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._deadline: float | None = None  # of the running job, on self._clock
        self.last_latency_ms: float | None = None

    # --- control -------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="diffjam-worker", daemon=True)
        self._thread.start()
        threading.Thread(target=self._watch, name="diffjam-watchdog", daemon=True).start()

    def stop(self, *, timeout: float = 5.0) -> None:
        """Cancel everything, answer queued jobs with CANCELLED, join the thread."""
        with self._lock:
            self._stopping = True
            queued = list(self._queue)
            self._queue.clear()
            for job in queued:
                self._in_flight.pop(job.key, None)
            if self._running is not None:
                self._running.stop(ErrorCode.CANCELLED)
            self._lock.notify_all()
        for job in queued:
            self._send(error_reply(job.request_id, ErrorCode.CANCELLED, "engine shutting down"),
                       job.reply_to)
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("the running generation did not stop within %g s; leaving its "
                            "thread (daemon)", timeout)

    # --- called from the OSC receive thread (never blocks on generation) -----------

    def in_flight(self, owner: Address, request_id: str) -> bool:
        """Whether ``owner``'s request ``request_id`` is queued or running."""
        with self._lock:
            return (owner, request_id) in self._in_flight

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {
                "queue": len(self._queue),
                "queue_capacity": self.capacity,
                "busy": self._running is not None,
                "last_latency_ms": self.last_latency_ms,
            }

    def submit(self, request: ReadyRequest, settings: EngineSettings) -> int:
        """Queue a complete request and send ``accepted``; its 0-based queue position.

        Raises ProtocolError DUPLICATE_ID when the owner's id is in flight, BUSY when the
        queue is full (a running job does not count against the capacity).
        """
        rid = request.message.request_id
        key = (request.owner, rid)
        with self._lock:
            if self._stopping:
                raise ProtocolError(ErrorCode.BUSY, "engine is shutting down", request_id=rid)
            if key in self._in_flight:
                raise ProtocolError(
                    ErrorCode.DUPLICATE_ID, f"request {rid!r} is already in flight",
                    request_id=rid,
                )
            if len(self._queue) >= self.capacity:
                raise ProtocolError(
                    ErrorCode.BUSY,
                    f"queue full ({self.capacity} waiting); try again later",
                    request_id=rid,
                )
            job = Job(request, settings, accepted_at=self._clock())
            position = len(self._queue)
            # accepted goes out before the worker thread can see the job: order holds.
            self._send(Reply("/diffjam/accepted", (rid, position)), request.reply_to)
            self._queue.append(job)
            self._in_flight[key] = job
            self._lock.notify_all()
        log.debug("request %s accepted at queue position %d; replies to %s:%d", rid, position,
                  *request.reply_to)
        return position

    def cancel(self, owner: Address, request_id: str) -> None:
        """Cancel ``owner``'s queued (answered now) or running (answered by the worker) job.

        Raises ProtocolError UNKNOWN_REQUEST when the owner has no such id in flight.
        """
        with self._lock:
            job = self._in_flight.get((owner, request_id))
            if job is None:
                raise ProtocolError(
                    ErrorCode.UNKNOWN_REQUEST,
                    f"no request {request_id!r} of yours in flight",
                    request_id=request_id,
                )
            if job is self._running:
                job.stop(ErrorCode.CANCELLED)
                log.info("request %s: cancel asked; it stops at the next sampler step",
                         request_id)
                return
            self._queue.remove(job)
            del self._in_flight[job.key]
        log.info("request %s cancelled while queued", request_id)
        self._send(error_reply(request_id, ErrorCode.CANCELLED, "cancelled by the client"),
                   job.reply_to)

    # --- worker thread ---------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._stopping:
                    self._lock.wait()
                if self._stopping:
                    return
                job = self._queue.popleft()
                self._running = job
                self._deadline = self._clock() + self.timeout_s
                self._lock.notify_all()  # wake the watchdog
            replies = self._run(job)
            # The id is free again before the final reply goes out, so a client may reuse
            # it as soon as it has the reply.
            with self._lock:
                self._running = None
                self._deadline = None
                self._in_flight.pop(job.key, None)
            for reply in replies:
                self._send(reply, job.reply_to)

    def _watch(self) -> None:
        """Watchdog thread: stops the running job when it passes its deadline (TIMEOUT)."""
        with self._lock:
            while not self._stopping:
                if self._running is None or self._deadline is None:
                    self._lock.wait()
                    continue
                left = self._deadline - self._clock()
                if left > 0:
                    self._lock.wait(left)
                    continue
                self._running.stop(ErrorCode.TIMEOUT)
                self._deadline = None

    def _run(self, job: Job) -> list[Reply]:
        """Run one job; the replies that finish it (result chunks and done, or one error)."""
        rid = job.request_id
        last, last_stage = -1.0, None

        def progress(fraction: float, stage: str | None = None) -> None:
            nonlocal last, last_stage
            if stage != last_stage:  # a new stage starts from 0 again
                last, last_stage = -1.0, stage
            fraction = min(1.0, max(0.0, float(fraction)))
            if fraction - last >= PROGRESS_STEP or (fraction == 1.0 and last < 1.0):
                last = fraction
                args = (rid, fraction) if stage is None else (rid, fraction, stage)
                self._send(Reply("/diffjam/progress", args), job.reply_to)

        replies: list[Reply]
        outcome_text = "done"
        try:
            outcome = self._runner.run(job, progress=progress, cancel=job.cancel)
            if job.cancel.is_set():
                raise JobCancelled
            latency_ms = (self._clock() - job.accepted_at) * 1000.0
            replies = self._result_replies(job, outcome, latency_ms)
        except JobCancelled:
            code = job.reason or ErrorCode.CANCELLED
            if code == ErrorCode.TIMEOUT:
                message = f"generation took longer than the engine's limit of {self.timeout_s:g} s"
            elif self._stopping:
                message = "engine shutting down"
            else:
                message = "cancelled by the client"
            replies = [error_reply(rid, code, message)]
            outcome_text = code.name
        except ProtocolError as err:
            replies = [error_reply(rid, err.code, err.message)]
            outcome_text = err.code.name
        except Exception as err:  # noqa: BLE001 - the worker must keep serving
            log.error("request %s failed:\n%s", rid, traceback.format_exc())
            replies = [error_reply(rid, ErrorCode.INTERNAL,
                                   f"internal error: {type(err).__name__}: {err}")]
            outcome_text = ErrorCode.INTERNAL.name
        latency_ms = (self._clock() - job.accepted_at) * 1000.0
        with self._lock:
            self.last_latency_ms = round(latency_ms, 3)
        log.info("request %s %s %s in %.1f ms", rid, job.request.message.kind, outcome_text,
                 latency_ms)
        return replies

    @staticmethod
    def _result_replies(job: Job, outcome: Outcome, latency_ms: float) -> list[Reply]:
        rid = job.request_id
        replies: list[Reply] = []
        for index, notes in enumerate(outcome.variations):
            replies += result_replies(rid, index, notes)
        summary = {
            "variations": len(outcome.variations),
            "notes": [len(notes) for notes in outcome.variations],
            "bars": list(outcome.bars),
            "n_bars": outcome.n_bars,
            "midi_paths": list(outcome.midi_paths),
            "latency_ms": round(latency_ms, 3),
            "nfe": outcome.nfe,
            "candidates": outcome.candidates,
            "midi_error": outcome.midi_error,
            "key": outcome.key,
            **(outcome.song.to_json() if outcome.song is not None else {}),
        }
        replies.append(Reply("/diffjam/done", (rid, json.dumps(summary, separators=(",", ":")))))
        return replies


# ---------------------------------------------------------------------------------------
# The product runner: OSC request -> engine.pipeline call -> notes in beats


def beats_to_note(note: BeatNote) -> Note:
    """An OSC note (beats) on the 16th grid: onset and offset rounded to the nearest step.

    Ties go to the later step; a note shorter than one step after rounding lasts one
    step (``engine.midifile.quantize``).
    """
    start, duration = quantize(note.start, note.start + note.duration)
    return Note(start=start, pitch=note.pitch, duration=duration, velocity=note.velocity)


def note_to_beats(note: Note) -> BeatNote:
    """An engine note (steps) in beats, exact."""
    return BeatNote(
        start=note.start / STEPS_PER_BEAT,
        duration=note.duration / STEPS_PER_BEAT,
        pitch=note.pitch,
        velocity=note.velocity,
    )


_ERROR_CODES: tuple[tuple[type[InputError], ErrorCode], ...] = (
    (UnsupportedMeterError, ErrorCode.UNSUPPORTED_METER),
    (ChordSymbolError, ErrorCode.BAD_CHORD),
    (BarRangeError, ErrorCode.BAD_BARS),
    (ClipTooLargeError, ErrorCode.TOO_LARGE),
)


def error_code(err: InputError) -> ErrorCode:
    """The protocol error code of an engine input error (BAD_PARAMS for the rest)."""
    for cls, code in _ERROR_CODES:
        if isinstance(err, cls):
            return code
    return ErrorCode.BAD_PARAMS


_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class PipelineRunner:
    """Runs requests on an ``engine.pipeline.Pipeline`` and writes ``.mid`` files.

    ``pipeline`` is anything with the Pipeline's ``infill`` / ``accompany`` / ``generate``
    / ``song`` methods. Engine input errors become :class:`ProtocolError` with the mapped
    code; ``engine.pipeline.Cancelled`` becomes :class:`JobCancelled`.

    ``.mid`` files go to ``output_dir`` (None: the user's private folder,
    :func:`bridge.outputs.default_output_dir`), created as :mod:`bridge.outputs` says. A
    file that cannot be written does not lose the result: the notes are sent and ``done``
    says why (``midi_error``).
    """

    def __init__(self, pipeline: Any, *, output_dir: Path | None = None,
                 models: ModelShelf | None = None) -> None:
        self.pipeline = pipeline
        self.models = models  # a request's ``model`` picks one (bridge.models); None: one
        self.private = output_dir is None
        self.output_dir = default_output_dir() if output_dir is None else output_dir
        self._serial = 0

    def prepare(self) -> Path:
        """Create and check the output folder now (raises OutputDirError)."""
        return prepare_output_dir(self.output_dir, private=self.private)

    def run(self, job: Job, *, progress: ProgressFn, cancel: threading.Event) -> Outcome:
        rid = job.request_id
        try:
            if job.request.message.kind == RequestKind.SONG:
                return self._song(job, progress=progress, cancel=cancel)
            return self._run(job, progress=progress, cancel=cancel)
        except Cancelled as err:
            raise JobCancelled from err
        except InputError as err:
            raise ProtocolError(error_code(err), str(err), request_id=rid) from err

    def _run(self, job: Job, *, progress: ProgressFn, cancel: threading.Event) -> Outcome:
        rid = job.request_id
        message = job.request.message
        params = message.params
        settings = job.settings
        key_text = params.key if params.key is not None else settings.key
        options = SamplingOptions(
            guidance=settings.guidance if params.guidance is None else params.guidance,
            in_key=settings.in_key if params.in_key is None else params.in_key,
            key=parse_key(key_text) if key_text else None,
            steps=settings.steps if params.steps is None else params.steps,
            seed=settings.seed if params.seed is None else params.seed,
            variations=settings.variations if params.variations is None else params.variations,
            quality=DEFAULT_QUALITY if params.quality is None else params.quality,
            sampler=DEFAULT_SAMPLER if params.sampler is None else params.sampler,
            below_melody=params.below_melody,
            density=params.density,
            repeat=params.repeat,
            allowed=params.allowed,
            guidance_below=params.guidance_below,
            register=params.register,
            candidates=params.candidates,
            bass_anchor=params.bass_anchor,
        )
        chords = parse_progression(params.chords, steps_per_bar=STEPS_PER_BAR) if (
            params.chords
        ) else None
        notes = [beats_to_note(note) for note in job.request.notes]
        pipeline = self._pipeline(params.model, rid)
        common: dict[str, Any] = {"options": options, "progress": progress, "cancel": cancel}
        if message.kind == RequestKind.INFILL:
            n_bars = _clip_bars(params.clip_beats, notes, rid)
            first, last = params.bars or (1, n_bars)
            if last > n_bars:
                raise ProtocolError(
                    ErrorCode.BAD_BARS,
                    f"bars {first}-{last} lie outside the clip of {n_bars} bar(s)",
                    request_id=rid,
                )
            result = pipeline.infill(
                notes, n_bars=n_bars, bars=BarRange(first - 1, last), chords=chords, **common
            )
        elif message.kind == RequestKind.ACCOMPANY:
            result = pipeline.accompany(
                chords or [], n_bars=params.n_bars, melody=notes or None, **common
            )
        else:
            result = pipeline.generate(n_bars=params.n_bars, chords=chords, **common)
        variations = tuple(
            tuple(note_to_beats(note) for note in variation) for variation in result.variations
        )
        paths: tuple[str, ...] = ()
        midi_error = None
        if params.write_midi:
            try:
                paths = self._write(rid, result.variations, params.tempo)
            except (OutputDirError, MidiFileError) as err:
                log.warning("request %s: no .mid file: %s", rid, err)
                midi_error = str(err)
        return Outcome(
            variations=variations,
            bars=(result.generated.start + 1, result.generated.stop),
            n_bars=result.n_bars,
            midi_paths=paths,
            nfe=result.nfe,
            candidates=result.candidates,
            midi_error=midi_error,
            key=result.key.name() if result.key is not None else None,
        )

    def _song(self, job: Job, *, progress: ProgressFn, cancel: threading.Event) -> Outcome:
        """A whole song: ``Pipeline.song``, its parts as result streams, its file."""
        from engine.song import FixedParts, SongOptions  # the cascade (torch): songs only

        params, settings = job.request.message.params, job.settings
        key_text = params.key if params.key is not None else settings.key
        # the accompaniment's seed and key are the song's (engine.song)
        accompaniment = SamplingOptions(
            guidance=settings.guidance if params.guidance is None else params.guidance,
            in_key=settings.in_key if params.in_key is None else params.in_key,
            steps=settings.steps,
            quality=DEFAULT_QUALITY if params.quality is None else params.quality,
        )
        options = SongOptions(seed=settings.seed if params.seed is None else params.seed,
                              use_form=params.use_form, accompaniment=accompaniment)
        if params.steps is not None:  # else the lead sheet's own default
            options = replace(options, steps=params.steps)
        if params.repeat_strength is not None:
            options = replace(options, repeat_strength=params.repeat_strength)
        form = parse_form(params.form or "")
        chords = tuple(parse_progression(params.chords)) if params.chords else ()
        n_steps = sum(phrase.bars for phrase in form) * STEPS_PER_BAR
        if chords and chords[-1].stop > n_steps:
            raise ProtocolError(ErrorCode.BAD_BARS, f"the chords last "
                                f"{math.ceil(chords[-1].stop / STEPS_PER_BAR)} bars; the form "
                                f"has {n_steps // STEPS_PER_BAR}", request_id=job.request_id)

        def stage_progress(stage: str, fraction: float) -> None:
            progress(fraction, stage)

        song = self._pipeline(params.model, job.request_id).song(
            form, key=parse_key(key_text or DEFAULT_SONG_KEY),
            tempo=params.tempo, options=options, fixed=FixedParts(chords=chords),
            progress=stage_progress, cancel=cancel)
        paths: tuple[str, ...] = ()
        midi_error = None
        if params.write_midi:
            try:
                paths = (self._write_song(job.request_id, song),)
            except (OutputDirError, MidiFileError) as err:
                log.warning("request %s: no .mid file: %s", job.request_id, err)
                midi_error = str(err)
        return Outcome(
            variations=tuple(tuple(note_to_beats(note) for note in part) for part in (
                song.melody, chord_notes(song.chords), song.accompaniment)),
            bars=(1, song.n_bars), n_bars=song.n_bars, midi_paths=paths, nfe=None,
            midi_error=midi_error, key=song.key.name(), song=song_info(song))

    def _pipeline(self, name: str | None, request_id: str) -> Any:
        """The pipeline a request's ``model`` names (None: the default one)."""
        if self.models is not None:
            try:
                return self.models.get(name)
            except UnknownModelError as err:
                raise ProtocolError(ErrorCode.BAD_PARAMS, str(err),
                                    request_id=request_id) from err
        if name is not None and name != self.pipeline.info().get("model"):
            raise ProtocolError(ErrorCode.BAD_PARAMS, f"unknown model {name!r}: this engine "
                                "serves one model (start it with --models DIR for more)",
                                request_id=request_id)
        return self.pipeline

    def _stem(self, request_id: str) -> str:
        self._serial += 1
        stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{self._serial:04d}-"
        return stem + _UNSAFE.sub("_", request_id)[:40]

    def _write_song(self, request_id: str, song: Song) -> str:
        folder = self.prepare()
        path, file = open_new_file(folder, f"{self._stem(request_id)}-song", ".mid")
        with file:
            write_song(file, song)
        return str(path)

    def _write(
        self, request_id: str, variations: Sequence[Sequence[Note]], tempo: float
    ) -> tuple[str, ...]:
        folder = self.prepare()
        stem = self._stem(request_id)
        paths = []
        for index, notes in enumerate(variations):
            path, file = open_new_file(folder, f"{stem}-v{index + 1}", ".mid")
            with file:
                write_midi(file, [("diffjam", notes)], bpm=tempo)
            paths.append(str(path))
        return tuple(paths)


def song_info(song: Song) -> SongInfo:
    """What ``done`` adds for a song: its phrases, its chords in beats, seconds, seed."""
    return SongInfo(phrases=song.phrases, chords=tuple(_chord_label(span) for span in song.chords),
                    seconds=dict(song.seconds), seed=song.seed)


def _chord_label(span: ChordSpan) -> ChordLabel:
    return ChordLabel(start=span.start / STEPS_PER_BEAT, duration=span.duration / STEPS_PER_BEAT,
                      symbol=span.chord.symbol())


def _clip_bars(clip_beats: float | None, notes: Sequence[Note], request_id: str) -> int:
    """Bars of an infill clip: from ``clip_beats`` if given, else from the last note end."""
    if clip_beats is not None:
        steps = math.ceil(clip_beats * STEPS_PER_BEAT - 1e-6)
    elif notes:
        steps = max(note.end for note in notes)
    else:
        raise ProtocolError(
            ErrorCode.BAD_PARAMS, "infill needs notes or 'clip_beats' to know the clip length",
            request_id=request_id,
        )
    return max(1, math.ceil(steps / STEPS_PER_BAR))
