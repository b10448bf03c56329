"""Training: one readable loop, resumable from its last checkpoint, on a CPU or a CUDA GPU,
in one process or data-parallel under torchrun.

Needs only torch, numpy, safetensors and the cache file, so ``PYTHONPATH=. python -m
engine.train`` runs on a separate GPU machine (``scripts/gpu_train.sh``). A run directory
holds:

* ``state.safetensors``: weights, EMA weights and optimizer moments (float32);
* ``state.json``: the train config, the step, the learning-rate schedule and the loss
  history (the model card's loss curves come from here);
* ``model.safetensors``: the EMA weights as a self-describing float16 model file
  (:mod:`engine.checkpoint`), refreshed at every save; a model over 16 MiB is written as
  shards ``model-00001-of-0000N.safetensors`` that :func:`~engine.checkpoint.load_model`
  joins (give it ``RUN/model.safetensors`` either way).

``diffjam train --cache cache/pop909.npz --run runs/v1 --steps 6000`` starts a run or,
when ``runs/v1/state.json`` exists, continues it with the stored config.

How a step runs (:meth:`Trainer._loop`):

1. the learning rate of the step (:func:`learning_rate`): linear warm-up, then a cosine
   down to ``min_lr_ratio`` of the peak at the end of the planned steps;
2. the step's batch of windows, made ahead by ``--workers`` processes
   (:class:`WindowStream`) and copied to the device (pinned memory on CUDA);
3. the v-objective (:func:`diffusion_loss`) under bf16 autocast on CUDA (float32 on the
   CPU), backward (under DDP the gradients are averaged over the processes here),
   gradient clipping, AdamW;
4. the exponential moving average of the weights, which the model file holds.

Randomness. The windows of step ``s`` on rank ``r`` come from a generator seeded with
``(seed, r, s)`` and the noise from a torch seed made of the same numbers
(:func:`step_seed`). A run that stops and continues from its state is therefore the same
run as one that never stopped, whatever ``--workers`` is, with no sampler state to store:
bit for bit on the CPU; on CUDA up to the run-to-run nondeterminism of the GPU kernels.

Learning-rate schedule. A run plans its end at ``--steps``: the cosine reaches the floor
there. Stopping earlier (``--minutes``, Ctrl-C, a smaller ``--steps``) and continuing later
keeps that plan. Continuing with ``--steps`` beyond the planned end starts a new leg at the
current step: warm-up again (to ``--lr``, which may be lowered for the leg), then a cosine
to the floor at the new end, as stage 2 of the reference GPU recipe did. A run given no
``--steps`` has no planned end: the rate stays at its peak after the warm-up, and the
first ``--steps`` given later starts a leg. Past the planned end (continuing with
``--minutes`` alone) the rate stays at the floor.

Data-parallel. Under ``torchrun --standalone --nproc-per-node N`` every process trains on
its own windows (``--batch-size`` each, so the batch of a step is N times as large) and
DistributedDataParallel averages the gradients (gloo on the CPU, NCCL on CUDA). Rank 0
alone validates, logs and saves; the others wait at a barrier at save points. (Spell
``--run`` as ``--run-dir`` there: torchrun's parser takes ``--run`` for its ``--run-path``.)
"""

from __future__ import annotations

import argparse
import copy
import itertools
import json
import logging
import math
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from safetensors.torch import load_file, save_file
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from engine.cache import load_cache
from engine.checkpoint import (
    BUNDLED_MODEL,
    full_model_path,
    load_model,
    read_metadata,
    save_model,
)
from engine.dataset import (
    Batch,
    DenseSong,
    MixedSampler,
    WindowSampler,
    densify,
)
from engine.diffusion import add_noise, v_target
from engine.errors import InputError
from engine.harmony import parse_vocab
from engine.model import Conditioning, DenoiserNet, ModelConfig, count_parameters

logger = logging.getLogger(__name__)

CLOCK_EVERY = 10  # under DDP the processes agree on whether time is up every this many steps
# A fine-tune (--init-from a model file, its network unchanged) starts near a minimum: a
# lower peak rate, a short warm-up and an EMA that follows a run of some hundred steps,
# unless --lr / --warmup-steps / --ema-decay say otherwise.
FINE_TUNE_LR = 1e-4
FINE_TUNE_WARMUP_STEPS = 50
FINE_TUNE_EMA_DECAY = 0.99


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run; stored in ``state.json``."""

    cache: str
    model: ModelConfig = ModelConfig(widths=(96, 128, 192), attention_layers=2)
    batch_size: int = 32  # per process: under DDP a step sees batch_size x processes windows
    lr: float = 4e-4  # peak learning rate
    warmup_steps: int = 200
    min_lr_ratio: float = 0.1  # the cosine ends at lr x min_lr_ratio
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    seed: int = 0
    train_split: str = "train"
    valid_split: str = "valid"
    valid_batches: int = 4
    known_loss_weight: float = 0.0  # see diffusion_loss; runs from before it used 1.0
    train_only: tuple[str, ...] = ()  # parameter-name prefixes to train; () = all
    log_every: int = 25
    valid_every: int = 250
    save_every: int = 250
    early_stop: int = 0  # stop after this many validations without a new best; 0 = never
    mix_cache: str | None = None  # a second cache whose train windows are mixed in ...
    mix_share: float = 0.0  # ... as this share of every batch (against forgetting it)

    def __post_init__(self) -> None:
        for name in ("batch_size", "valid_batches", "log_every", "valid_every", "save_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.lr <= 0 or self.warmup_steps < 0 or self.seed < 0:
            raise ValueError("TrainConfig needs lr > 0, warmup_steps >= 0 and seed >= 0")
        if not 0.0 <= self.min_lr_ratio <= 1.0 or not 0.0 <= self.ema_decay < 1.0:
            raise ValueError("TrainConfig needs min_lr_ratio in [0, 1] and ema_decay in [0, 1)")
        if self.early_stop < 0:
            raise ValueError(f"early_stop must be >= 0, got {self.early_stop}")
        if not 0.0 <= self.mix_share < 1.0 or (self.mix_share > 0) != bool(self.mix_cache):
            raise ValueError("a mixed-in cache needs a share in (0, 1), and a share a cache "
                             f"(got {self.mix_cache!r} at {self.mix_share})")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """A config from ``state.json``; unknown keys are errors, missing ones (runs from
        older versions) take their defaults."""
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown TrainConfig keys: {sorted(unknown)}")
        values = dict(values)
        values["model"] = ModelConfig.from_dict(values["model"])
        values.setdefault("known_loss_weight", 1.0)  # what runs from before it trained with
        values["train_only"] = tuple(values.get("train_only", ()))
        return cls(**values)


@dataclass(frozen=True)
class Schedule:
    """The current leg of a run's learning-rate plan: warm-up from step ``start``, cosine
    to the floor at step ``end`` (``None``: no end planned, the rate stays at its peak)."""

    start: int
    end: int | None = None


def learning_rate(config: TrainConfig, step: int, schedule: Schedule) -> float:
    """The rate of ``step``: ``config.lr`` x (step - start + 1) / warmup_steps during the
    warm-up, then a half cosine from ``config.lr`` down to ``config.lr x min_lr_ratio`` at
    ``schedule.end`` (Loshchilov & Hutter 2017, SGDR, eq. 5, one cycle), the floor after."""
    done = step - schedule.start
    if done < config.warmup_steps:
        return config.lr * (done + 1) / config.warmup_steps
    if schedule.end is None:
        return config.lr
    decay_steps = schedule.end - schedule.start - config.warmup_steps
    progress = min(1.0, (done - config.warmup_steps) / decay_steps) if decay_steps > 0 else 1.0
    floor = config.lr * config.min_lr_ratio
    return floor + 0.5 * (config.lr - floor) * (1.0 + math.cos(math.pi * progress))


def step_seed(seed: int, rank: int, step: int) -> int:
    """The torch seed (64 bits) of the noise of ``step`` on ``rank``."""
    words = np.random.SeedSequence([seed, rank, step, 1]).generate_state(2)
    return int(words[0]) << 32 | int(words[1])


def window_batch(
    sampler: WindowSampler | MixedSampler, batch_size: int, *, seed: int, rank: int, step: int
) -> Batch:
    """The training windows of ``step`` on ``rank``: a function of its arguments only."""
    sampler.rng = np.random.default_rng(np.random.SeedSequence([seed, rank, step, 0]))
    return sampler.batch(batch_size)


def diffusion_error(
    net: torch.nn.Module,
    x0: torch.Tensor,
    cond: Conditioning,
    *,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Squared v-prediction error (float32, the shape of ``x0``: B, 2, T, P) of ``net`` on
    clean rolls ``x0`` at times drawn uniformly in [0, 1) (engine.diffusion). Times and
    noise are drawn from ``generator`` on its device, else from the global generator of
    ``x0``'s device. Run it under autocast for mixed precision: the network's output is
    cast back to float32."""
    device = generator.device if generator is not None else x0.device
    t = torch.rand(x0.shape[0], generator=generator, device=device).to(x0.device)
    noise = torch.randn(x0.shape, generator=generator, device=device).to(x0.device)
    x_t = add_noise(x0, noise, t)
    return (net(x_t, t, cond).float() - v_target(x0, noise, t)) ** 2


def weighted_mean(error: torch.Tensor, cond: Conditioning, *, known_weight: float
                  ) -> torch.Tensor:
    """The mean of ``error`` (B, 2, T, P) with the steps the conditioning already gives
    (``cond.known`` where ``cond.mask`` is 1 and the known part is present) weighed by
    ``known_weight`` against the steps to generate (weight 1). At 0 it is the loss of the
    part a sampler generates: the known part is written over the estimate at sampling
    time (engine.guidance.Inpaint), so learning to copy it through the network spends
    capacity on nothing a user hears."""
    known = cond.given_steps()
    if known_weight == 1.0 or known is None:
        return error.mean()
    weight = (1.0 - known + known_weight * known)[:, None, :, None]  # (B, 1, T, 1)
    cells = weight.expand_as(error)
    return (error * cells).sum() / cells.sum().clamp_min(1.0)


def diffusion_loss(
    net: torch.nn.Module,
    x0: torch.Tensor,
    cond: Conditioning,
    *,
    generator: torch.Generator | None = None,
    known_weight: float = 1.0,
) -> torch.Tensor:
    """The training loss (a float32 scalar): :func:`weighted_mean` of
    :func:`diffusion_error`."""
    error = diffusion_error(net, x0, cond, generator=generator)
    return weighted_mean(error, cond, known_weight=known_weight)


def batch_tensors(batch: Batch) -> dict[str, torch.Tensor]:
    """A batch as a flat dict of CPU tensors (``x0`` and the conditions that are set):
    what worker processes hand over, and what the DataLoader can pin."""
    tensors = {"x0": batch.x0}
    for field in fields(Conditioning):
        value = getattr(batch.cond, field.name)
        if value is not None:
            tensors[field.name] = value
    return tensors


def batch_on(tensors: dict[str, torch.Tensor], device: torch.device) -> Batch:
    """The inverse of :func:`batch_tensors`, on ``device`` (asynchronous copies from
    pinned memory)."""
    moved = {k: v.to(device, non_blocking=True) for k, v in tensors.items()}
    x0 = moved.pop("x0")
    return Batch(x0=x0, cond=Conditioning(**moved))


class WindowStream(IterableDataset):
    """The batches of steps ``first_step``, ``first_step + 1``, ... on one rank.

    With W DataLoader workers, worker w makes the batches of steps first_step + w,
    first_step + w + W, ...; the DataLoader takes one from each worker in turn, so they
    arrive in step order, and each is :func:`window_batch` of its step whatever W is.
    """

    def __init__(
        self, sampler: WindowSampler | MixedSampler, batch_size: int, *, seed: int, rank: int,
        first_step: int,
    ) -> None:
        self.sampler = sampler
        self.batch_size = batch_size
        self.seed = seed
        self.rank = rank
        self.first_step = first_step

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        for step in itertools.count(self.first_step + worker, workers):
            batch = window_batch(
                self.sampler, self.batch_size, seed=self.seed, rank=self.rank, step=step
            )
            yield batch_tensors(batch)


def window_batches(
    sampler: WindowSampler | MixedSampler, batch_size: int, *, seed: int, rank: int,
    first_step: int, workers: int, device: torch.device,
) -> Iterator[dict[str, torch.Tensor]]:
    """The batches of steps ``first_step``, ``first_step + 1``, ... (:class:`WindowStream`),
    made ahead by ``workers`` loader processes (0: here, between steps), pinned for CUDA."""
    return iter(DataLoader(
        WindowStream(sampler, batch_size, seed=seed, rank=rank, first_step=first_step),
        batch_size=None, num_workers=workers, pin_memory=device.type == "cuda",
    ))


def progress_line(
    *,
    step: int,
    max_steps: int | None,
    loss: float,
    steps_per_s: float,
    samples_per_s: float,
    data_wait: float,
    eta_s: float | None,
) -> str:
    """One console line of training progress; ``data_wait`` is a share of the time."""
    total = f"/{max_steps}" if max_steps is not None else ""
    if eta_s is None or not math.isfinite(eta_s):
        eta = "-"
    else:
        minutes, seconds = divmod(round(eta_s), 60)
        eta = f"{minutes // 60}:{minutes % 60:02d}:{seconds:02d}"
    return (
        f"step {step}{total} | loss {loss:.4f} | {steps_per_s:.2f} steps/s, "
        f"{samples_per_s:.0f} samples/s | data wait {100 * data_wait:.0f}% | ETA {eta}"
    )


def write_run_state(run_dir: Path, nets: dict[str, torch.nn.Module],
                    optimizer: torch.optim.Optimizer, state: dict[str, Any]) -> None:
    """A run's state on disk, each file replaced atomically: ``state.safetensors`` with
    every network's weights under its name (``net.``, ``ema.``, ...) and the optimizer's
    moments (``opt.<param index>.<name>``); ``state.json`` with ``state`` and the
    optimizer's hyper-parameters. Training and distillation both keep their runs so."""
    tensors = {f"{prefix}.{k}": v for prefix, net in nets.items()
               for k, v in net.state_dict().items()}
    opt = optimizer.state_dict()
    for index, moments in opt["state"].items():
        for name, value in moments.items():
            tensors[f"opt.{index}.{name}"] = torch.as_tensor(value)
    tmp = run_dir / "state.safetensors.tmp"
    save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(tmp))
    os.replace(tmp, run_dir / "state.safetensors")
    tmp_json = run_dir / "state.json.tmp"
    tmp_json.write_text(json.dumps({**state, "param_groups": opt["param_groups"]}))
    os.replace(tmp_json, run_dir / "state.json")


def read_run_state(run_dir: Path, nets: dict[str, torch.nn.Module],
                   optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """The inverse of :func:`write_run_state`: loads the networks and the optimizer (its
    saved hyper-parameters, with this process's choice of kernels) and returns the state
    dict of ``state.json``."""
    state: dict[str, Any] = json.loads((run_dir / "state.json").read_text())
    tensors = load_file(str(run_dir / "state.safetensors"))
    for prefix, net in nets.items():
        start = len(prefix) + 1
        net.load_state_dict({k[start:]: v for k, v in tensors.items()
                             if k.startswith(prefix + ".")})
    moments: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        if key.startswith("opt."):
            _, index, name = key.split(".", 2)
            moments.setdefault(int(index), {})[name] = value
    groups = [
        {**saved, **{k: v for k, v in current.items() if k in ("fused", "foreach")}}
        for saved, current in zip(state["param_groups"], optimizer.param_groups, strict=True)
    ]
    optimizer.load_state_dict({"state": moments, "param_groups": groups})
    return state


class Trainer:
    """One training run in ``run_dir`` on ``device``; under torchrun, this process's part.

    ``workers`` processes make the batches (0: made in this process, between steps).
    """

    def __init__(
        self,
        config: TrainConfig,
        run_dir: Path,
        *,
        device: str | torch.device = "cpu",
        workers: int = 0,
    ) -> None:
        self.config = config
        self.run_dir = Path(run_dir)
        self.device = torch.device(device)
        self.workers = workers
        if dist.is_available() and dist.is_initialized():
            self.rank, self.world_size = dist.get_rank(), dist.get_world_size()
        else:
            self.rank, self.world_size = 0, 1
        torch.manual_seed(config.seed)  # the same initial weights in every process
        self.net = DenoiserNet(config.model).to(self.device)
        self.ema = copy.deepcopy(self.net).requires_grad_(False).eval()
        if config.train_only:  # e.g. grow the pitch stem on a trained network left as it is
            for name, param in self.net.named_parameters():
                param.requires_grad_(name.startswith(config.train_only))
        self.optimizer = torch.optim.AdamW(
            [p for p in self.net.parameters() if p.requires_grad],
            lr=config.lr,
            weight_decay=config.weight_decay,
            fused=self.device.type == "cuda",  # one kernel for all parameters
        )
        self.step = 0
        self.schedule = Schedule(start=0)
        self.init_from_path: str | None = None
        self.history: dict[str, list] = {"train": [], "valid": []}
        self.seconds = 0.0
        cache = load_cache(config.cache)
        chords = parse_vocab(cache.chord_vocab)
        train = [densify(s, chords) for s in cache.split(config.train_split)]
        self.n_train_songs = len(train)
        self.data_source = cache.meta.get("source", "POP909")
        self.sampler: WindowSampler | MixedSampler = WindowSampler(
            train, window_bars=config.model.window_bars, seed=config.seed)
        if config.mix_cache:  # e.g. POP909 under a fine-tune on the user's songs
            mix = load_cache(config.mix_cache)
            mix_chords = parse_vocab(mix.chord_vocab)
            self.sampler = MixedSampler(
                self.sampler,
                WindowSampler([densify(s, mix_chords) for s in mix.split(config.train_split)],
                              window_bars=config.model.window_bars),
                share=config.mix_share)
        self.valid: list[Batch] = []
        if self.rank == 0:  # rank 0 alone validates
            valid = [densify(s, chords) for s in cache.split(config.valid_split)]
            self.valid = self._fixed_batches(valid)

    def _fixed_batches(self, songs: list[DenseSong]) -> list[Batch]:
        sampler = WindowSampler(songs, window_bars=self.config.model.window_bars, seed=1234)
        return [sampler.batch(self.config.batch_size) for _ in range(self.config.valid_batches)]

    # ---------------------------------------------------------------- state on disk

    def save(self) -> None:
        """Write the run's state and model file (rank 0 alone calls this)."""
        write_run_state(self.run_dir, {"net": self.net, "ema": self.ema}, self.optimizer, {
            "config": asdict(self.config),
            "step": self.step,
            "schedule": asdict(self.schedule),
            "init_from": self.init_from_path,
            "seconds": self.seconds,
            "history": self.history,
        })
        save_model(
            self.run_dir / "model.safetensors",
            self.ema.state_dict(),
            self.config.model,
            info=self.model_info(),
        )

    def model_info(self) -> dict[str, Any]:
        last_valid = self.history["valid"][-1] if self.history["valid"] else None
        data = f"{self.data_source} train split, 4/4 songs, transposed -5..+6"
        if self.config.mix_cache:
            data += (f", {self.config.mix_share:.0%} of each batch from "
                     f"{Path(self.config.mix_cache).name}")
        return {
            "name": f"diffjam-{self.run_dir.name}",
            "steps": self.step,
            "batch_size": self.config.batch_size * self.world_size,
            "train_seconds": round(self.seconds, 1),
            "train_songs": self.n_train_songs,
            "data": data,
            "parameters": count_parameters(self.net),
            "valid_loss": last_valid,
            "valid_loss_generated_cells": (self.history.get("valid_gap") or [None])[-1],
            "known_loss_weight": self.config.known_loss_weight,
            "ema_decay": self.config.ema_decay,
            "init_from": Path(self.init_from_path).name if self.init_from_path else None,
        }

    def load(self) -> None:
        """Continue the run saved in ``run_dir``."""
        state = read_run_state(self.run_dir, {"net": self.net, "ema": self.ema},
                               self.optimizer)
        self.step = state["step"]
        if "schedule" in state:
            self.schedule = Schedule(**state["schedule"])
        else:  # saved by a version with a constant rate after the warm-up
            self.schedule = Schedule(start=state.get("warmup_from", 0))
            logger.info("%s predates per-step seeds: its windows continue from new seeds",
                        self.run_dir)
        self.init_from_path = state.get("init_from")
        self.seconds = state["seconds"]
        self.history = state["history"]
        logger.info("resumed %s at step %d", self.run_dir, self.step)

    def init_from(self, path: str | os.PathLike[str]) -> None:
        """Start a new run from a model file: its (EMA) weights for both the network and
        the EMA, and its step count, so the step numbers go on from where it stopped."""
        net, info = load_model(path)
        grown = self.config.model != net.config
        for target in (self.net, self.ema):
            missing, unexpected = target.load_state_dict(net.state_dict(), strict=not grown)
            if unexpected or any(not k.startswith("stem_") for k in missing):
                raise InputError(f"--init-from: {path} does not fit the run's network "
                                 f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
        if grown:  # the new parts start at zero: the network computes what the file does
            logger.info("grew %s's network by %s", path,
                        sorted({k.split(".")[0] for k in missing}))
        self.step = int(info.get("steps") or 0)
        self.schedule = Schedule(start=self.step)
        self.seconds = float(info.get("train_seconds") or 0.0)
        self.init_from_path = str(path)
        logger.info("initialised %s from %s at step %d", self.run_dir, path, self.step)

    def plan(self, steps: int | None) -> None:
        """Plan the run to end at ``steps``: a new run's first leg, or a new leg when
        ``steps`` lies beyond the planned end (see the module docstring). A plan that
        already reaches ``steps`` is kept."""
        if steps is None or steps <= self.step:
            return
        if self.schedule.end is not None and steps <= self.schedule.end:
            return
        if self.step > self.schedule.start:
            logger.info("new schedule leg: warm-up from step %d, cosine to step %d",
                        self.step, steps)
        self.schedule = Schedule(start=self.step, end=steps)

    # ---------------------------------------------------------------- the loop

    def _autocast(self) -> torch.autocast:
        """bf16 autocast on CUDA; float32 (no autocast) on the CPU."""
        cuda = self.device.type == "cuda"
        return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16, enabled=cuda)

    @torch.no_grad()
    def validate(self) -> tuple[float, float]:
        """Loss of the EMA weights on the fixed validation batches with fixed noise: over
        every cell, and over the cells to generate alone (``known_weight`` 0), the figure
        that compares runs trained with different ``known_loss_weight``. One network pass
        per batch serves both."""
        generator = torch.Generator().manual_seed(0)
        every, generated = [], []
        for batch in self.valid:
            batch = batch_on(batch_tensors(batch), self.device)
            with self._autocast():
                error = diffusion_error(self.ema, batch.x0, batch.cond, generator=generator)
            every.append(weighted_mean(error, batch.cond, known_weight=1.0))
            generated.append(weighted_mean(error, batch.cond, known_weight=0.0))
        return float(torch.stack(every).mean()), float(torch.stack(generated).mean())

    def run(self, *, max_steps: int | None, minutes: float | None) -> None:
        """Train until step ``max_steps`` or for ``minutes``, whichever comes first (or
        until Ctrl-C), then save."""
        deadline = time.monotonic() + 60.0 * minutes if minutes else math.inf
        logger.info(
            "training %s on %s: %d parameters, batch %d x %d process(es), %d loader "
            "worker(s), from step %d, schedule %s",
            self.run_dir, self.device, count_parameters(self.net), self.config.batch_size,
            self.world_size, self.workers, self.step, self.schedule,
        )
        if self.config.early_stop and not self.history["valid"] and self.rank == 0:
            self._validation_point()  # the starting point (an --init-from model) is the bar
        self.net.train()
        model: torch.nn.Module = self.net
        if self.world_size > 1:  # broadcasts rank 0's weights, averages gradients
            device_ids = [self.device.index] if self.device.type == "cuda" else None
            model = DistributedDataParallel(self.net, device_ids=device_ids)
        try:
            self._loop(model, max_steps, deadline)
        except KeyboardInterrupt:
            logger.info("interrupted at step %d; saving", self.step)
            if self.rank == 0:
                self.save()
            return
        self._save_point()
        logger.info("saved %s at step %d", self.run_dir, self.step)

    def _loop(self, model: torch.nn.Module, max_steps: int | None, deadline: float) -> None:
        config = self.config
        batches = window_batches(
            self.sampler, config.batch_size, seed=config.seed, rank=self.rank,
            first_step=self.step, workers=self.workers, device=self.device,
        )
        ema_params: list[torch.Tensor] = list(self.ema.parameters())
        net_params: list[torch.Tensor] = list(self.net.parameters())
        loss_sum = torch.zeros((), device=self.device)
        window_steps, window_wait, window_start = 0, 0.0, time.monotonic()
        last = time.monotonic()
        while (max_steps is None or self.step < max_steps) and not self._time_is_up(deadline):
            # 1. The learning rate of this step.
            for group in self.optimizer.param_groups:
                group["lr"] = learning_rate(config, self.step, self.schedule)
            # 2. This step's windows, made ahead by the workers; waiting here is data wait.
            waiting = time.monotonic()
            batch = batch_on(next(batches), self.device)
            window_wait += time.monotonic() - waiting
            # 3. Loss at random noise levels; under DDP backward averages the gradients.
            torch.manual_seed(step_seed(config.seed, self.rank, self.step))
            with self._autocast():
                loss = diffusion_loss(model, batch.x0, batch.cond,
                                      known_weight=config.known_loss_weight)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net_params, config.grad_clip)
            self.optimizer.step()
            # 4. The moving average of the weights: e <- e + (1 - decay) (p - e).
            with torch.no_grad():
                torch._foreach_lerp_(ema_params, net_params, 1.0 - config.ema_decay)
                for e, b in zip(self.ema.buffers(), self.net.buffers(), strict=True):
                    e.copy_(b)
            self.step += 1
            loss_sum += loss.detach()  # read back at log time only: the GPU runs ahead
            window_steps += 1
            if self.step % config.log_every == 0:
                mean = self._mean_over_ranks(loss_sum) / window_steps  # waits for the GPU
                elapsed = time.monotonic() - window_start
                self.history["train"].append([self.step, round(mean, 5)])
                rate = window_steps / elapsed
                remaining = [math.inf, deadline - time.monotonic()]
                if max_steps is not None:
                    remaining[0] = (max_steps - self.step) / rate
                logger.info(progress_line(
                    step=self.step, max_steps=max_steps, loss=mean, steps_per_s=rate,
                    samples_per_s=rate * config.batch_size * self.world_size,
                    data_wait=window_wait / elapsed, eta_s=min(remaining),
                ))
                loss_sum.zero_()
                window_steps, window_wait, window_start = 0, 0.0, time.monotonic()
            if self.step % config.valid_every == 0:
                if self.rank == 0:
                    self._validation_point()
                if self._early_stop_due():
                    break
            now = time.monotonic()
            self.seconds += now - last
            last = now
            if self.step % config.save_every == 0:
                self._save_point()

    def _validation_point(self) -> None:
        """Validate, log, and with ``early_stop`` keep the best EMA weights so far (by the
        loss on the cells to generate, the figure runs are compared by) in
        RUN/best.safetensors (rank 0 alone)."""
        valid, valid_gap = self.validate()
        self.history["valid"].append([self.step, round(valid, 5)])
        self.history.setdefault("valid_gap", []).append([self.step, round(valid_gap, 5)])
        logger.info("step %d valid loss (EMA) %.4f, on the cells to generate %.4f",
                    self.step, valid, valid_gap)
        if self.config.early_stop and self._validations_since_best() == 0:
            save_model(self.run_dir / "best.safetensors", self.ema.state_dict(),
                       self.config.model, info=self.model_info())
            logger.info("step %d: best valid loss so far, saved %s", self.step,
                        self.run_dir / "best.safetensors")

    def _validations_since_best(self) -> int:
        losses = [loss for _, loss in self.history.get("valid_gap", [])]
        return len(losses) - 1 - losses.index(min(losses)) if losses else 0

    def _early_stop_due(self) -> bool:
        """Whether ``early_stop`` validations have passed without a new best; under DDP
        rank 0's history decides for all."""
        if not self.config.early_stop:
            return False
        due = self.rank == 0 and self._validations_since_best() >= self.config.early_stop
        if self.world_size > 1:
            flag = torch.tensor(float(due), device=self.device)
            dist.broadcast(flag, src=0)
            due = bool(flag.item())
        if due:
            logger.info("early stop at step %d: no better valid loss in the last %d "
                        "validations; the best model is %s", self.step, self.config.early_stop,
                        self.run_dir / "best.safetensors")
        return due

    def _time_is_up(self, deadline: float) -> bool:
        """Whether the ``--minutes`` budget is spent; under DDP rank 0's clock decides, read
        every ``CLOCK_EVERY`` steps, so that all processes stop at the same step."""
        if math.isinf(deadline):  # no budget: the same in every process
            return False
        if self.world_size == 1:
            return time.monotonic() >= deadline
        if self.step % CLOCK_EVERY:
            return False
        up = torch.tensor(float(time.monotonic() >= deadline), device=self.device)
        dist.broadcast(up, src=0)
        return bool(up.item())

    def _mean_over_ranks(self, value: torch.Tensor) -> float:
        if self.world_size > 1:
            value = value.clone()
            dist.all_reduce(value)
            value /= self.world_size
        return float(value)

    def _save_point(self) -> None:
        if self.rank == 0:
            self.save()
        if self.world_size > 1:
            dist.barrier()


# -------------------------------------------------------------------- command line


def _distributed_env() -> tuple[int, int, int] | None:
    """(rank, world size, local rank) when started by torchrun with several processes."""
    if "RANK" not in os.environ or int(os.environ.get("WORLD_SIZE", "1")) < 2:
        return None
    return int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ["LOCAL_RANK"])


def choose_device(name: str, local_rank: int = 0) -> torch.device:
    """``auto``: CUDA when available, else the CPU; under torchrun GPU ``local_rank``."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cpu":
        return torch.device("cpu")
    if name != "cuda":
        raise InputError(f"--device must be auto, cpu or cuda, got {name!r}")
    if not torch.cuda.is_available():
        raise InputError("--device cuda: torch sees no CUDA device")
    return torch.device("cuda", local_rank)


def default_workers(device: torch.device, world_size: int) -> int:
    """Loader processes: none on the CPU (they would take cores from the training), on
    CUDA all this process's share of the cores but one, at most 7."""
    if device.type != "cuda":
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(7, (cores or 2) // world_size - 1))


def resolve_workers(requested: int | None, device: torch.device, world_size: int) -> int:
    """``--workers``: the request, else :func:`default_workers`; InputError below 0."""
    workers = requested if requested is not None else default_workers(device, world_size)
    if workers < 0:
        raise InputError(f"--workers must be >= 0, got {workers}")
    return workers


def _parse_model_config(text: str) -> ModelConfig:
    """``--model-config``: JSON (``'{"widths": [128, 192, 256]}'``) or a JSON file; keys
    left out take :class:`ModelConfig`'s defaults."""
    source = Path(text).read_text() if not text.lstrip().startswith("{") else text
    try:
        return ModelConfig.from_dict(json.loads(source))
    except (ValueError, TypeError) as err:
        raise InputError(f"--model-config: {err}") from err


# What --model-config may change in the network of an --init-from file: the pitch stem,
# whose joins start at zero (engine.model), and the training window (the network has no
# absolute positions).
_GROWABLE = ("stem", "stem_channels", "stem_layers", "stem_heads", "window_bars")


def _init_path(value: str) -> Path:
    """``--init-from``: a model file, or ``bundled`` (the bundled model's full network: the
    teacher when the bundled file is a distilled student)."""
    return full_model_path(BUNDLED_MODEL) if value == "bundled" else Path(value)


def build_config(args: argparse.Namespace, stored: TrainConfig | None) -> TrainConfig:
    """The run's config: the stored one when continuing (``--cache`` may move it; the
    schedule and interval flags apply from now on; flags that would make it another run
    must agree with it), else one made from the flags."""
    schedule_flags = {
        "lr": args.lr, "warmup_steps": args.warmup_steps, "log_every": args.log_every,
        "valid_every": args.valid_every, "save_every": args.save_every,
        "early_stop": getattr(args, "early_stop", None),
    }
    identity_flags = {
        "batch_size": args.batch_size, "ema_decay": args.ema_decay, "seed": args.seed,
        "known_loss_weight": getattr(args, "known_loss_weight", None),
        "train_only": tuple(args.train_only.split(",")) if getattr(args, "train_only", None)
        else None,
        "mix_cache": getattr(args, "mix_cache", None),
        "mix_share": getattr(args, "mix_share", None),
    }
    try:
        if stored is not None:
            for name, value in identity_flags.items():
                if value is not None and value != getattr(stored, name):
                    raise InputError(
                        f"--{name.replace('_', '-')} {value}: the run continues with its "
                        f"stored {getattr(stored, name)} (start a new run, perhaps with "
                        "--init-from its model file, to change it)"
                    )
            if args.model_config and _parse_model_config(args.model_config) != stored.model:
                raise InputError("--model-config differs from the run's stored model")
            changes = {k: v for k, v in schedule_flags.items() if v is not None}
            if args.cache:
                changes["cache"] = args.cache
            return replace(stored, **changes)
        if not args.cache:
            raise InputError("--cache is required for a new run")
        values: dict[str, Any] = {
            k: v for k, v in {**schedule_flags, **identity_flags}.items() if v is not None
        }
        if args.init_from:
            values["model"], _ = read_metadata(_init_path(args.init_from))
            if not args.model_config:  # a fine-tune: see FINE_TUNE_LR
                values.setdefault("lr", FINE_TUNE_LR)
                values.setdefault("warmup_steps", FINE_TUNE_WARMUP_STEPS)
                values.setdefault("ema_decay", FINE_TUNE_EMA_DECAY)
            if args.model_config:  # grow the file's network: only the stem may be added
                extra = json.loads(args.model_config)
                if not isinstance(extra, dict) or set(extra) - set(_GROWABLE):
                    raise InputError("--model-config with --init-from may only set "
                                     f"{', '.join(_GROWABLE)}")
                values["model"] = ModelConfig.from_dict({**values["model"].to_dict(), **extra})
        elif args.model_config:
            values["model"] = _parse_model_config(args.model_config)
        return TrainConfig(cache=args.cache, **values)
    except ValueError as err:  # TrainConfig's checks
        if isinstance(err, InputError):
            raise
        raise InputError(str(err)) from err


def run_command(args: argparse.Namespace) -> int:
    """``diffjam train`` (and ``python -m engine.train``, alone or under torchrun)."""
    if args.threads:
        torch.set_num_threads(args.threads)
    distributed = _distributed_env()
    rank, world_size, local_rank = distributed or (0, 1, 0)
    device = choose_device(args.device, local_rank)
    if rank > 0:  # rank 0 alone reports
        logging.getLogger().setLevel(logging.WARNING)
    run_dir = Path(args.run)
    state_file = run_dir / "state.json"
    stored = None
    if state_file.exists():
        stored = TrainConfig.from_dict(json.loads(state_file.read_text())["config"])
    config = build_config(args, stored)
    logger.info("config: %s", json.dumps(asdict(config)))
    if stored is not None and args.init_from:
        origin = json.loads(state_file.read_text()).get("init_from")
        if origin != str(_init_path(args.init_from)):
            raise InputError(f"--init-from: {run_dir} already exists and started from "
                             f"{origin or 'random weights'}")
    workers = resolve_workers(args.workers, device, world_size)
    if device.type == "cuda":
        torch.cuda.set_device(device)
        torch.backends.cudnn.benchmark = True  # fixed shapes: pick the fastest kernels once
    if distributed:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        trainer = Trainer(config, run_dir, device=device, workers=workers)
        if stored is not None:
            trainer.load()
        elif args.init_from:
            trainer.init_from(_init_path(args.init_from))
        if args.steps is not None and args.steps <= trainer.step and stored is None:
            raise InputError(f"--steps {args.steps}: the model is already at step {trainer.step}"
                             f" (--steps is the total: --steps {trainer.step + args.steps} "
                             f"trains {args.steps} more)")
        trainer.plan(args.steps)
        trainer.run(max_steps=args.steps, minutes=args.minutes)
    finally:
        if distributed:
            dist.destroy_process_group()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m engine.train``: ``diffjam train`` without the rest of diffjam (no MIDI,
    OSC or GUI packages), for a machine that has only torch, numpy and safetensors."""
    from engine.cli import add_train_arguments

    parser = argparse.ArgumentParser(prog="python -m engine.train")
    add_train_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        return run_command(args)
    except InputError as err:
        print(f"train: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
