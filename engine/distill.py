"""Few-step sampling by distillation: a student that samples in ``S`` steps what the
teacher samples in ``S x K`` guided steps, with the guidance folded in.

Progressive distillation (Salimans & Ho 2022, algorithm 2) with guided teachers (Meng et
al. 2023, "On distillation of guided diffusion models", section 4.2), in one round: the
teacher's sampler is DDIM over ``S x K`` uniform steps with classifier-free guidance at
scale ``w`` (two network passes a step), the student's is DDIM over ``S`` steps with one
pass a step, so a window costs ``S`` evaluations instead of ``2 S K``.

One distillation step (:meth:`Distiller.step_loss`):

1. a batch of training windows with their conditions, exactly as ``diffjam train`` draws
   them (tasks, known parts, dropped conditions: :mod:`engine.dataset`);
2. for each window a student step ``i`` of the ``S``-step grid, from ``t = 1 - i/S`` to
   ``s = 1 - (i+1)/S``, and ``x_t`` drawn from q(x_t | x0);
3. the teacher's ``K`` DDIM steps from ``t`` to ``s``, guided, with the known part written
   into every estimate as the sampler does (:class:`engine.guidance.Inpaint`; with
   ``--chord-tones`` also the sampler's chord projection in accompaniment windows,
   :func:`chord_tone_mask`): ``x_s``;
4. the clean estimate the student must give so that its one DDIM step from ``t`` lands
   on ``x_s``:  ``x0* = (x_s - (sigma_s / sigma_t) x_t) / (alpha_s - sigma_s alpha_t /
   sigma_t)`` (``x0* = x_s`` at ``s = 0``), as a v target ``(alpha_t x_t - x0*) / sigma_t``;
5. the student's squared v error on the cells to generate (the known part is written
   over the estimate at sampling time, as in training), AdamW, EMA.

The student starts from the teacher's weights. Its model file carries the same network
config, the teacher's measured tables (``binarize``) and ``info["distilled"]``: the
teacher's file name, ``steps`` (S) and ``guidance`` (w). :class:`engine.pipeline.Pipeline`
loads the teacher named there beside it and uses the student for requests at the default
steps and guidance (``quality="fast"``), the teacher for everything else.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import math
import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.cache import load_cache
from engine.checkpoint import (
    BUNDLED_MODEL,
    distilled_info,
    full_model_path,
    load_model,
    save_model,
    stored_digest,
)
from engine.dataset import ConditionRates, WindowSampler, densify
from engine.diffusion import add_noise, alpha_sigma, per_example
from engine.errors import InputError
from engine.guidance import GuidedDenoiser, InKeyProjection, Inpaint, chord_tone_pitches
from engine.harmony import parse_vocab
from engine.model import TASK_ACCOMPANIMENT, Conditioning, DenoiserNet
from engine.samplers import ddim_step
from engine.sampling import GUIDANCE_BELOW
from engine.train import (
    Schedule,
    batch_on,
    batch_tensors,
    choose_device,
    learning_rate,
    read_run_state,
    resolve_workers,
    step_seed,
    weighted_mean,
    window_batches,
    write_run_state,
)

logger = logging.getLogger(__name__)


# run(fit=True): the steps timed (after FIT_FROM warm-up steps: CUDA's first kernels and
# the loader's start), and the share of the time left that the planned steps may fill
# (validation points and saves take the rest)
FIT_FROM, FIT_OVER, FIT_MARGIN = 10, 20, 0.92


@dataclass(frozen=True)
class DistillConfig:
    """Everything that defines a distillation run; stored in ``state.json``."""

    cache: str
    teacher: str
    student_steps: int = 4  # S: the student's DDIM steps
    teacher_substeps: int = 2  # K: teacher steps per student step
    guidance: float = 4.0  # w: the teacher's classifier-free guidance scale
    # the teacher guides only at noise times t <= this (engine.guidance.GuidedDenoiser)
    guidance_below: float = 1.0
    # and only at times t > this: the interval (guidance_above, guidance_below]
    guidance_above: float = 0.0
    # the teacher's steps keep accompaniment windows with chords to the sounding chord's
    # tones (chord_tone_mask), as the sampler's default projection does
    chord_tones: bool = False
    # the teacher's guidance in accompaniment windows; None: ``guidance`` (1: unguided, so
    # a refinement round can add guidance to infill and leave the accompaniment as it was)
    accompaniment_guidance: float | None = None
    batch_size: int = 16
    lr: float = 1e-4
    warmup_steps: int = 50
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    ema_decay: float = 0.995
    seed: int = 0
    valid_batches: int = 4
    log_every: int = 50
    valid_every: int = 250
    save_every: int = 250
    # a second round: the student starts from this file instead of the teacher
    init_student: str | None = None
    # the conditions drawn (engine.dataset.ConditionRates), for train and valid windows
    accompaniment_rate: float = 0.5
    rhythm_rate: float = 0.25
    density_hints: float = 0.0
    # of the windows: chords given, a known part given (1 and 1 with accompaniment_rate 0:
    # every window an infill given chords, the one request kind a task student runs)
    chords_rate: float = 0.8
    known_rate: float = 0.6
    # the student's name in its file; None: the teacher's + "-fast", or the next number
    name: str | None = None

    def __post_init__(self) -> None:
        if self.student_steps < 1 or self.teacher_substeps < 1:
            raise InputError("--student-steps and --teacher-substeps must be >= 1")
        for name in ("accompaniment_rate", "rhythm_rate", "density_hints", "chords_rate",
                     "known_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise InputError(f"--{name.replace('_', '-')} must be in 0..1, "
                                 f"got {getattr(self, name)}")
        if not 1.0 <= self.guidance <= 20.0:
            raise InputError(f"--guidance must be in 1..20, got {self.guidance}")
        if self.accompaniment_guidance is not None and \
                not 1.0 <= self.accompaniment_guidance <= 20.0:
            raise InputError(f"--accompaniment-guidance must be in 1..20, got "
                             f"{self.accompaniment_guidance}")
        if self.guidance_below not in GUIDANCE_BELOW:
            raise InputError(f"--guidance-below must be in {GUIDANCE_BELOW}, got "
                             f"{self.guidance_below}")
        if not 0.0 <= self.guidance_above < self.guidance_below:
            raise InputError(f"--guidance-above must be in [0, --guidance-below), got "
                             f"{self.guidance_above}")
        if self.batch_size < 1 or self.lr <= 0:
            raise InputError("--batch-size must be >= 1 and --lr > 0")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> DistillConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


def student_target(x_t: torch.Tensor, x_s: torch.Tensor, t: torch.Tensor, s: torch.Tensor
                   ) -> torch.Tensor:
    """The v target whose DDIM step from ``t`` lands on ``x_s`` (step 4 of the module
    docstring). ``alpha_s - sigma_s alpha_t / sigma_t = sin(pi (t - s) / 2) / sigma_t > 0``
    for ``t > s``, so the division is safe."""
    alpha_t, sigma_t = alpha_sigma(t)
    alpha_s, sigma_s = alpha_sigma(s)
    ratio = sigma_s / sigma_t
    x0 = (x_s - per_example(ratio, x_t) * x_t) / per_example(alpha_s - ratio * alpha_t, x_t)
    return (per_example(alpha_t, x_t) * x_t - x0) / per_example(sigma_t, x_t)


def chord_tone_mask(cond: Conditioning) -> torch.Tensor | None:
    """Bool (B, T, P): the pitches the sampler's chord projection lets through
    (engine.pipeline, pitch set "chord"): in accompaniment windows whose chords are
    present, the tones and bass of the chord sounding at each step; every pitch where no
    chord sounds and in every other window. None without chords in the batch."""
    if cond.chroma is None:
        return None
    chroma = cond.chroma.cpu().numpy()
    bass = np.zeros_like(chroma) if cond.bass is None else cond.bass.cpu().numpy()
    use = (cond.task == TASK_ACCOMPANIMENT).cpu().numpy()
    if cond.chords_present is not None:
        use &= cond.chords_present.cpu().numpy() > 0.5
    mask = chord_tone_pitches(chroma, bass, np.ones(12, dtype=bool))
    mask[~use] = True
    return torch.from_numpy(mask).to(cond.chroma.device)


def teacher_steps(teacher: DenoiserNet, x_t: torch.Tensor, t: torch.Tensor, s: torch.Tensor,
                  cond: Conditioning, *, guidance: float, substeps: int,
                  guidance_below: float = 1.0, chord_tones: bool = False,
                  accompaniment_guidance: float | None = None,
                  guidance_above: float = 0.0) -> torch.Tensor:
    """``substeps`` guided DDIM steps of the teacher from ``t`` to ``s`` (per example),
    with the known part written into every estimate (step 3 of the module docstring);
    guidance only at times in ``(guidance_above, guidance_below]``; with ``chord_tones``
    every estimate is also projected onto :func:`chord_tone_mask`, as the sampler does.
    ``accompaniment_guidance``: the scale in accompaniment windows (None: ``guidance``)."""
    if accompaniment_guidance is not None and accompaniment_guidance != guidance:
        accompaniment = cond.task == TASK_ACCOMPANIMENT
        x_s = torch.empty_like(x_t)
        for rows, scale in ((accompaniment, accompaniment_guidance), (~accompaniment, guidance)):
            if rows.any():
                x_s[rows] = teacher_steps(
                    teacher, x_t[rows], t[rows], s[rows], cond.take(rows), guidance=scale,
                    substeps=substeps, guidance_below=guidance_below, chord_tones=chord_tones,
                    guidance_above=guidance_above)
        return x_s
    guided = cond.chroma is not None and guidance != 1.0
    denoiser: Any = GuidedDenoiser(teacher, cond, cond.without_chords() if guided else None,
                                   guidance, below=guidance_below, above=guidance_above)
    allowed = chord_tone_mask(cond) if chord_tones else None
    if allowed is not None:
        denoiser = InKeyProjection(denoiser, allowed)
    given = cond.given_steps()
    if given is not None and cond.known is not None:
        denoiser = Inpaint(denoiser, cond.known, given)
    x = x_t
    for k in range(substeps):
        t_k = t + (s - t) * (k / substeps)
        t_next = t + (s - t) * ((k + 1) / substeps)
        x = ddim_step(x, denoiser(x, t_k), t_k, t_next)
    return x


class Distiller:
    """One distillation run in ``run_dir``: the teacher (frozen), the student and its EMA."""

    def __init__(self, config: DistillConfig, run_dir: Path, *,
                 device: torch.device | None = None, workers: int = 0) -> None:
        self.config = config
        self.run_dir = Path(run_dir)
        self.device = device or torch.device("cpu")
        self.workers = workers
        self.teacher, self.teacher_info = load_model(config.teacher, device=self.device)
        self.teacher.requires_grad_(False).eval()
        self.student = copy.deepcopy(self.teacher).requires_grad_(True).float().train()
        if config.init_student is not None:
            start, _ = load_model(config.init_student, device=self.device)
            if start.config != self.teacher.config:
                raise InputError(f"--init-student {config.init_student}: its network "
                                 f"({start.config}) is not the teacher's")
            self.student.load_state_dict(start.state_dict())
        # what both tables record of the start: its name and its weights' digest (every
        # run writes model.safetensors, so the name alone does not tell starts apart)
        self.start_record: dict[str, str | None] = {
            "init_student": None if config.init_student is None
            else Path(config.init_student).name,
            "init_student_sha256": None if config.init_student is None
            else stored_digest(config.init_student)}
        self.ema = copy.deepcopy(self.student).requires_grad_(False).eval()
        self.optimizer = torch.optim.AdamW(self.student.parameters(), lr=config.lr,
                                           weight_decay=config.weight_decay)
        self.step = 0
        self.seconds = 0.0
        self.history: dict[str, list] = {"train": [], "valid": []}
        cache = load_cache(config.cache)
        chords = parse_vocab(cache.chord_vocab)
        window = self.teacher.config.window_bars
        rates = ConditionRates(accompaniment_task=config.accompaniment_rate,
                               rhythm=config.rhythm_rate, density_hint=config.density_hints,
                               chords=config.chords_rate, known=config.known_rate)
        self.sampler = WindowSampler([densify(s, chords) for s in cache.split("train")],
                                     window_bars=window, rates=rates, seed=config.seed)
        valid = WindowSampler([densify(s, chords) for s in cache.split("valid")],
                              window_bars=window, rates=rates, seed=1234)
        self.valid = [batch_tensors(valid.batch(config.batch_size))
                      for _ in range(config.valid_batches)]

    def step_loss(self, net: torch.nn.Module, tensors: dict[str, torch.Tensor],
                  generator: torch.Generator | None = None) -> torch.Tensor:
        """The loss of one batch (steps 2-5 of the module docstring)."""
        config = self.config
        batch = batch_on(tensors, self.device)
        x0, cond = batch.x0, batch.cond
        n = x0.shape[0]
        # times and noise from ``generator`` on its device, else the global generator of
        # the batch's device (seeded per step by the loop)
        drawn_on = generator.device if generator is not None else self.device
        index = torch.randint(0, config.student_steps, (n,), generator=generator,
                              device=drawn_on).to(self.device)
        t = 1.0 - index.float() / config.student_steps
        s = 1.0 - (index.float() + 1.0) / config.student_steps
        noise = torch.randn(x0.shape, generator=generator, device=drawn_on).to(self.device)
        x_t = add_noise(x0, noise, t)
        with torch.no_grad():
            x_s = teacher_steps(self.teacher, x_t, t, s, cond, guidance=config.guidance,
                                substeps=config.teacher_substeps,
                                guidance_below=config.guidance_below,
                                guidance_above=config.guidance_above,
                                chord_tones=config.chord_tones,
                                accompaniment_guidance=config.accompaniment_guidance)
            target = student_target(x_t, x_s, t, s)
        with self._autocast():
            error = (net(x_t, t, cond).float() - target) ** 2
        return weighted_mean(error, cond, known_weight=0.0)

    def _autocast(self) -> torch.autocast:
        """bf16 autocast for the student on CUDA (as training runs); float32 on the CPU.
        The teacher's steps stay in float32: the targets are small differences of them."""
        cuda = self.device.type == "cuda"
        return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16, enabled=cuda)

    @torch.no_grad()
    def validate(self) -> float:
        generator = torch.Generator(device=self.device).manual_seed(0)
        return float(np.mean([float(self.step_loss(self.ema, b, generator)) for b in self.valid]))

    # ---------------------------------------------------------------- state on disk

    def save(self) -> None:
        write_run_state(self.run_dir, {"student": self.student, "ema": self.ema},
                        self.optimizer, {"config": asdict(self.config), "step": self.step,
                                         "seconds": self.seconds, "history": self.history})
        save_model(self.run_dir / "model.safetensors", self.ema.state_dict(),
                   self.teacher.config, info=self.model_info())

    def model_info(self) -> dict[str, Any]:
        info = self._refined_info() if distilled_info(self.teacher_info) is not None \
            else self._first_info()
        if self.config.name:
            info["name"] = self.config.name
        return info

    def _first_info(self) -> dict[str, Any]:
        teacher_name = Path(self.config.teacher).name
        info = {k: v for k, v in self.teacher_info.items()
                if k in ("binarize", "data", "train_songs", "parameters")}
        last = self.history["valid"][-1][1] if self.history["valid"] else None
        info.update({
            "name": f"{self.teacher_info.get('name', Path(teacher_name).stem)}-fast",
            "steps": self.teacher_info.get("steps"),
            "distilled": {
                "teacher": teacher_name,
                "teacher_path": str(Path(self.config.teacher).resolve()),
                "teacher_name": self.teacher_info.get("name"),
                "steps": self.config.student_steps,
                "teacher_steps": self.config.student_steps * self.config.teacher_substeps,
                "guidance": self.config.guidance,
                "guidance_below": self.config.guidance_below,
                "chord_tones": self.config.chord_tones,
                "distill_steps": self.step,
                "batch_size": self.config.batch_size,
                "seconds": round(self.seconds, 1),
                "device": self.device_name(),
                "valid_loss": last,
                **self.start_record,
                "conditions": self._conditions(),
            },
        })
        return info

    def _conditions(self) -> dict[str, float]:
        """The rates of the windows this round drew (the file's record of its data)."""
        config = self.config
        return {"accompaniment": config.accompaniment_rate, "rhythm": config.rhythm_rate,
                "density_hints": config.density_hints, "chords": config.chords_rate,
                "known": config.known_rate}

    def device_name(self) -> str:
        """What the run's steps ran on: the GPU's name, or "cpu"."""
        if self.device.type == "cuda":
            return torch.cuda.get_device_name(self.device)
        return "cpu"

    def _refined_info(self) -> dict[str, Any]:
        """The file info of a round whose teacher is itself a student (a refinement: the
        student learns its own steps with more guidance): the first student's info, whose
        ``distilled`` table still names the full model the engine loads beside it, with
        the round in ``distilled["refined"]`` (an earlier round under its ``before``)."""
        config = self.config
        info = copy.deepcopy(self.teacher_info)
        # diffjam-v5-fast -> diffjam-v5-fast2 -> diffjam-v5-fast3
        match = re.fullmatch(r"(.*?)(\d*)", str(info.get("name") or Path(config.teacher).stem))
        assert match is not None  # the pattern matches any string
        info["name"] = f"{match[1]}{int(match[2] or 1) + 1}"
        last = self.history["valid"][-1][1] if self.history["valid"] else None
        earlier = info["distilled"].pop("refined", None)  # the teacher's own round, if any
        # the kinds the teacher handed to other students: the new round runs them itself
        info["distilled"].pop("students", None)
        # the sampler runs a student at its file's steps: a round that halves them (its
        # teacher's steps two to one, --teacher-substeps 2) says so there
        info["distilled"]["steps"] = config.student_steps
        info["distilled"]["refined"] = {
            "from": Path(config.teacher).name,
            "steps": config.student_steps, "teacher_substeps": config.teacher_substeps,
            "guidance": config.guidance, "guidance_below": config.guidance_below,
            "guidance_above": config.guidance_above,
            "accompaniment_guidance": config.accompaniment_guidance,
            "conditions": self._conditions(),
            **self.start_record,
            "distill_steps": self.step, "batch_size": config.batch_size,
            "lr": config.lr, "seconds": round(self.seconds, 1), "valid_loss": last,
            "device": self.device_name(),
            "valid_history": self.history["valid"],
            **({} if earlier is None else {"before": earlier}),
        }
        return info

    def load(self) -> None:
        state = read_run_state(self.run_dir, {"student": self.student, "ema": self.ema},
                               self.optimizer)
        self.step, self.seconds, self.history = state["step"], state["seconds"], state["history"]
        logger.info("resumed %s at step %d", self.run_dir, self.step)

    # ---------------------------------------------------------------- the loop

    def run(self, *, steps: int, minutes: float | None = None, fit: bool = False) -> None:
        """Distil up to step ``steps`` or for ``minutes``, whichever ends first. ``fit``
        (with ``minutes``): the speed of this run's first steps plans the cosine to reach
        its floor when the minutes end (``steps`` then bounds it), so a time-bound run on
        a machine of unknown speed still finishes its schedule."""
        config = self.config
        schedule = Schedule(start=0, end=steps)
        first = self.step
        timed_from = None
        deadline = time.monotonic() + 60.0 * minutes if minutes else math.inf
        params: list[torch.Tensor] = list(self.student.parameters())
        ema_params: list[torch.Tensor] = list(self.ema.parameters())
        logger.info("distilling %s into %d steps (teacher %d x %d at guidance %g at %g < t <= "
                    "%g), batch %d, from step %d to %d", config.teacher, config.student_steps,
                    config.student_steps, config.teacher_substeps, config.guidance,
                    config.guidance_above, config.guidance_below, config.batch_size,
                    self.step, steps)
        if not self.history["valid"]:
            self._validation_point()
        # each step's windows, a function of the step (engine.train.window_batch)
        batches = window_batches(self.sampler, config.batch_size, seed=config.seed, rank=0,
                                 first_step=self.step, workers=self.workers,
                                 device=self.device)
        window_loss, window_steps, window_start = 0.0, 0, time.monotonic()
        last = time.monotonic()
        while self.step < steps and time.monotonic() < deadline:
            for group in self.optimizer.param_groups:
                group["lr"] = learning_rate(config, self.step, schedule)  # type: ignore[arg-type]
            tensors = next(batches)
            torch.manual_seed(step_seed(config.seed, 0, self.step))
            loss = self.step_loss(self.student, tensors)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, config.grad_clip)
            self.optimizer.step()
            with torch.no_grad():
                torch._foreach_lerp_(ema_params, params, 1.0 - config.ema_decay)
            self.step += 1
            if fit and minutes and self.step == first + FIT_FROM:
                timed_from = time.monotonic()
            elif fit and minutes and timed_from is not None and \
                    self.step == first + FIT_FROM + FIT_OVER:
                rate = FIT_OVER / (time.monotonic() - timed_from)
                left = (deadline - time.monotonic()) * FIT_MARGIN
                steps = min(steps, self.step + int(rate * left))
                schedule = Schedule(start=0, end=steps)
                logger.info("%.2f steps/s: the schedule ends at step %d", rate, steps)
            window_loss += loss.item()
            window_steps += 1
            now = time.monotonic()
            self.seconds += now - last
            last = now
            if self.step % config.log_every == 0:
                rate = window_steps / (now - window_start)
                mean = window_loss / window_steps
                self.history["train"].append([self.step, round(mean, 5)])
                eta = (steps - self.step) / rate
                logger.info("step %d/%d | loss %.4f | %.2f steps/s | ETA %d:%02d", self.step,
                            steps, mean, rate, int(eta // 60), int(eta % 60))
                window_loss, window_steps, window_start = 0.0, 0, time.monotonic()
            if self.step % config.valid_every == 0:
                self._validation_point()
            if self.step % config.save_every == 0:
                self.save()
        self.save()
        logger.info("saved %s at step %d", self.run_dir, self.step)

    def _validation_point(self) -> None:
        loss = self.validate()
        self.history["valid"].append([self.step, round(loss, 5)])
        logger.info("step %d valid distillation loss (EMA) %.4f", self.step, loss)


# ------------------------------------------------------------------------------------ CLI


def run_command(args: argparse.Namespace) -> int:
    from engine.sampling import DEFAULT_GUIDANCE

    if args.threads is not None:
        if args.threads < 1:
            raise InputError(f"--threads must be >= 1, got {args.threads}")
        torch.set_num_threads(args.threads)
    if args.steps < 1:
        raise InputError(f"--steps must be >= 1, got {args.steps}")
    state_file = args.run / "state.json"
    if state_file.exists():
        config = DistillConfig.from_dict(json.loads(state_file.read_text())["config"])
    else:
        teacher = str(full_model_path(BUNDLED_MODEL)) if args.teacher == "bundled" \
            else args.teacher
        if not Path(teacher).is_file():
            raise InputError(f"--teacher: no model file at {teacher}")
        config = DistillConfig(
            cache=args.cache, teacher=teacher, student_steps=args.student_steps,
            teacher_substeps=args.teacher_substeps,
            guidance=args.guidance if args.guidance is not None else DEFAULT_GUIDANCE,
            guidance_below=args.guidance_below, guidance_above=args.guidance_above,
            chord_tones=args.chord_tones,
            accompaniment_guidance=args.accompaniment_guidance,
            batch_size=args.batch_size, lr=args.lr,
            init_student=None if args.init_student is None else str(args.init_student),
            accompaniment_rate=args.accompaniment_rate, rhythm_rate=args.rhythm_rate,
            density_hints=args.density_hints, chords_rate=args.chords_rate,
            known_rate=args.known_rate, name=args.name)
    device = choose_device(args.device)
    workers = resolve_workers(args.workers, device, 1)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    args.run.mkdir(parents=True, exist_ok=True)
    distiller = Distiller(config, args.run, device=device, workers=workers)
    if state_file.exists():
        distiller.load()
    distiller.run(steps=args.steps, minutes=args.minutes,
                  fit=args.fit_minutes)
    return 0


__all__: Sequence[str] = ["DistillConfig", "Distiller", "chord_tone_mask", "ddim_step",
                          "student_target", "teacher_steps"]
