"""Training: one readable loop, resumable from its last checkpoint.

Needs only torch, numpy and the cache file, so it runs unchanged on a separate GPU
machine. A run directory holds:

* ``state.safetensors``: weights, EMA weights, optimizer moments, torch RNG state;
* ``state.json``: the train config, the step, the data sampler's RNG state and the loss
  history (the model card's loss curves come from here);
* ``model.safetensors``: the EMA weights as a self-describing model file
  (:mod:`engine.checkpoint`), refreshed at every save.

``diffjam train --cache cache/pop909.npz --run runs/v1 --minutes 60`` starts a run or,
when ``runs/v1/state.json`` exists, continues it with the stored config.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import time
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch.nn import functional as F

from engine.cache import load_cache
from engine.checkpoint import load_model, read_metadata, save_model
from engine.dataset import DenseSong, WindowSampler, densify, parse_vocab
from engine.diffusion import add_noise, v_target
from engine.model import DenoiserNet, ModelConfig, count_parameters

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run; stored in ``state.json``."""

    cache: str
    model: ModelConfig = ModelConfig(widths=(96, 128, 192), attention_layers=2)
    batch_size: int = 32
    lr: float = 4e-4
    warmup_steps: int = 200
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    seed: int = 0
    train_split: str = "train"
    valid_split: str = "valid"
    valid_batches: int = 4
    log_every: int = 25
    valid_every: int = 250
    save_every: int = 250

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown TrainConfig keys: {sorted(unknown)}")
        values = dict(values)
        values["model"] = ModelConfig.from_dict(values["model"])
        return cls(**values)


def diffusion_loss(net: DenoiserNet, x0: torch.Tensor, cond, *, generator=None) -> torch.Tensor:
    """v-prediction MSE at uniformly drawn times (engine.diffusion)."""
    t = torch.rand(x0.shape[0], generator=generator)
    noise = torch.randn(x0.shape, generator=generator)
    x_t = add_noise(x0, noise, t)
    return F.mse_loss(net(x_t, t, cond), v_target(x0, noise, t))


def _lr(config: TrainConfig, step: int, start: int = 0) -> float:
    """Linear warm-up from ``start`` (the step a run began or was initialised at), then
    constant: a run can be continued indefinitely."""
    return config.lr * min(1.0, (step - start + 1) / config.warmup_steps)


class Trainer:
    def __init__(self, config: TrainConfig, run_dir: Path) -> None:
        self.config = config
        self.run_dir = run_dir
        torch.manual_seed(config.seed)
        self.net = DenoiserNet(config.model)
        self.ema = DenoiserNet(config.model)
        self.ema.load_state_dict(self.net.state_dict())
        self.ema.requires_grad_(False)
        self.optimizer = torch.optim.AdamW(
            self.net.parameters(), lr=config.lr, weight_decay=config.weight_decay
        )
        self.step = 0
        self.warmup_from = 0  # step the learning-rate warm-up starts at
        self.history: dict[str, list] = {"train": [], "valid": []}
        self.seconds = 0.0
        cache = load_cache(config.cache)
        chords = parse_vocab(cache.chord_vocab)
        train = [densify(s, chords) for s in cache.split(config.train_split)]
        valid = [densify(s, chords) for s in cache.split(config.valid_split)]
        self.n_train_songs = len(train)
        self.sampler = WindowSampler(train, window_bars=config.model.window_bars, seed=config.seed)
        self.valid = self._fixed_batches(valid)

    def _fixed_batches(self, songs: list[DenseSong]) -> list:
        sampler = WindowSampler(songs, window_bars=self.config.model.window_bars, seed=1234)
        return [sampler.batch(self.config.batch_size) for _ in range(self.config.valid_batches)]

    # ---------------------------------------------------------------- state on disk

    def save(self) -> None:
        tensors = {f"net.{k}": v for k, v in self.net.state_dict().items()}
        tensors.update({f"ema.{k}": v for k, v in self.ema.state_dict().items()})
        opt = self.optimizer.state_dict()
        for index, state in opt["state"].items():
            for name, value in state.items():
                tensors[f"opt.{index}.{name}"] = torch.as_tensor(value)
        tensors["torch_rng"] = torch.get_rng_state()
        tmp = self.run_dir / "state.safetensors.tmp"
        save_file({k: v.contiguous() for k, v in tensors.items()}, str(tmp))
        os.replace(tmp, self.run_dir / "state.safetensors")
        state = {
            "config": asdict(self.config),
            "step": self.step,
            "warmup_from": self.warmup_from,
            "seconds": self.seconds,
            "param_groups": opt["param_groups"],
            "sampler_rng": self.sampler.rng.bit_generator.state,
            "history": self.history,
        }
        tmp_json = self.run_dir / "state.json.tmp"
        tmp_json.write_text(json.dumps(state))
        os.replace(tmp_json, self.run_dir / "state.json")
        save_model(
            self.run_dir / "model.safetensors",
            self.ema.state_dict(),
            self.config.model,
            info=self.model_info(),
        )

    def model_info(self) -> dict[str, Any]:
        last_valid = self.history["valid"][-1] if self.history["valid"] else None
        return {
            "name": f"diffjam-{self.run_dir.name}",
            "steps": self.step,
            "batch_size": self.config.batch_size,
            "train_seconds": round(self.seconds, 1),
            "train_songs": self.n_train_songs,
            "data": "POP909 train split (splits/split.txt), 4/4 songs, transposed -5..+6",
            "parameters": count_parameters(self.net),
            "valid_loss": last_valid,
            "ema_decay": self.config.ema_decay,
        }

    def load(self) -> None:
        state = json.loads((self.run_dir / "state.json").read_text())
        tensors = load_file(str(self.run_dir / "state.safetensors"))
        self.net.load_state_dict(
            {k[4:]: v for k, v in tensors.items() if k.startswith("net.")}
        )
        self.ema.load_state_dict(
            {k[4:]: v for k, v in tensors.items() if k.startswith("ema.")}
        )
        opt_state: dict[int, dict[str, torch.Tensor]] = {}
        for key, value in tensors.items():
            if key.startswith("opt."):
                _, index, name = key.split(".", 2)
                opt_state.setdefault(int(index), {})[name] = value
        self.optimizer.load_state_dict(
            {"state": opt_state, "param_groups": state["param_groups"]}
        )
        torch.set_rng_state(tensors["torch_rng"])
        self.sampler.rng.bit_generator.state = state["sampler_rng"]
        self.step = state["step"]
        self.warmup_from = state.get("warmup_from", 0)
        self.seconds = state["seconds"]
        self.history = state["history"]
        logger.info("resumed %s at step %d", self.run_dir, self.step)

    def init_from(self, path: Path) -> None:
        """Start a new run from a model file: its (EMA) weights for both the network and
        the EMA, and its step count, so the step numbers go on from where it stopped."""
        net, info = load_model(path)
        self.net.load_state_dict(net.state_dict())
        self.ema.load_state_dict(net.state_dict())
        self.step = self.warmup_from = int(info.get("steps") or 0)
        self.seconds = float(info.get("train_seconds") or 0.0)
        logger.info("initialised %s from %s at step %d", self.run_dir, path, self.step)

    # ---------------------------------------------------------------- the loop

    @torch.no_grad()
    def validate(self) -> float:
        generator = torch.Generator().manual_seed(0)
        losses = [
            float(diffusion_loss(self.ema, b.x0, b.cond, generator=generator))
            for b in self.valid
        ]
        return float(np.mean(losses))

    def run(self, *, max_steps: int | None, minutes: float | None) -> None:
        config = self.config
        deadline = time.monotonic() + 60.0 * minutes if minutes else math.inf
        logger.info(
            "training %s: %d parameters, batch %d, from step %d",
            self.run_dir, count_parameters(self.net), config.batch_size, self.step,
        )
        self.net.train()
        try:
            self._loop(max_steps, deadline)
        except KeyboardInterrupt:
            logger.info("interrupted at step %d; saving", self.step)
        self.save()
        logger.info("saved %s at step %d", self.run_dir, self.step)

    def _loop(self, max_steps: int | None, deadline: float) -> None:
        config = self.config
        window_loss, window_start = [], time.monotonic()
        while (max_steps is None or self.step < max_steps) and time.monotonic() < deadline:
            started = time.monotonic()
            for group in self.optimizer.param_groups:
                group["lr"] = _lr(config, self.step, self.warmup_from)
            batch = self.sampler.batch(config.batch_size)
            loss = diffusion_loss(self.net, batch.x0, batch.cond)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.net.parameters(), config.grad_clip)
            self.optimizer.step()
            with torch.no_grad():
                for e, p in zip(self.ema.parameters(), self.net.parameters()):
                    e.lerp_(p, 1.0 - config.ema_decay)
                for e, b in zip(self.ema.buffers(), self.net.buffers()):
                    e.copy_(b)
            self.step += 1
            self.seconds += time.monotonic() - started
            window_loss.append(loss.item())
            if self.step % config.log_every == 0:
                elapsed = time.monotonic() - window_start
                mean = float(np.mean(window_loss))
                self.history["train"].append([self.step, round(mean, 5)])
                logger.info(
                    "step %d loss %.4f (%.2f s/step)", self.step, mean, elapsed / len(window_loss)
                )
                window_loss, window_start = [], time.monotonic()
            if self.step % config.valid_every == 0:
                valid = self.validate()
                self.history["valid"].append([self.step, round(valid, 5)])
                logger.info("step %d valid loss (EMA) %.4f", self.step, valid)
            if self.step % config.save_every == 0:
                self.save()


def run_command(args: argparse.Namespace) -> int:
    if args.threads:
        torch.set_num_threads(args.threads)
    run_dir = Path(args.run)
    state_file = run_dir / "state.json"
    if state_file.exists():
        config = TrainConfig.from_dict(json.loads(state_file.read_text())["config"])
        if args.cache:
            config = replace(config, cache=args.cache)
    else:
        if not args.cache:
            raise SystemExit("diffjam train: error: --cache is required for a new run")
        config = TrainConfig(cache=args.cache, seed=args.seed)
        if args.batch_size:
            config = replace(config, batch_size=args.batch_size)
    if args.init_from and not state_file.exists():
        model_config, _ = read_metadata(args.init_from)
        config = replace(config, model=model_config)
    run_dir.mkdir(parents=True, exist_ok=True)
    trainer = Trainer(config, run_dir)
    if state_file.exists():
        trainer.load()
    elif args.init_from:
        trainer.init_from(args.init_from)
    trainer.run(max_steps=args.steps, minutes=args.minutes)
    return 0
