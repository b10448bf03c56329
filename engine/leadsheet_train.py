"""Training of the lead-sheet model (:mod:`engine.leadsheet`) on POP909's phrase-labelled
songs: ``diffjam train-leadsheet --cache C --run R --steps N [--minutes M] [--device D]``.

Each example is a window of ``window_bars`` bars of one song (starting on a phrase
boundary half of the time) with conditions drawn as the song cascade will use them:

- a known prefix (the bars before the phrase being written: 45 %);
- given chords over the whole window (the user typed chords: 35 %);
- given melody bars (partial control: 10 %, each bar with probability 0.3);
- the form dropped (label 0, phrase places 0: 15 %), which is the no-form baseline and
  keeps the model usable without a form.

The loss is the v-prediction error on the unknown parts (known parts are written over
by the sampler, so they carry no loss). AdamW, linear warm-up then cosine decay, an EMA
of the weights (what is saved), gradient clipping; bf16 autocast on CUDA. The run folder
holds ``state.safetensors``/``state.json`` (resumable: run the same command again) and
``leadsheet.safetensors`` (the EMA weights, float16), written every ``--save-every``
steps and at the end, with the validation loss of the fixed validation batches.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import logging
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.cache import CachedSong, load_cache
from engine.diffusion import add_noise, v_target
from engine.harmony import Chord, ChordSpan, parse_vocab
from engine.leadsheet import (
    CHANNELS,
    LeadSheet,
    LeadSheetConfig,
    LeadSheetNet,
    encode,
    expand_masks,
    form_features,
    key_shift,
    save_leadsheet,
)
from engine.pianoroll import STEPS_PER_BAR, Note
from engine.train import read_run_state, write_run_state

logger = logging.getLogger(__name__)


def song_leadsheet(song: CachedSong, vocab: Sequence[Chord]) -> LeadSheet | None:
    """A cached POP909 song as a key-normalised lead sheet (its first key; melody = the
    MELODY track), or None without phrase labels or key."""
    if len(song.phrases) == 0 or len(song.keys) == 0:
        return None
    steps = song.n_bars * STEPS_PER_BAR
    tonic, mode = int(song.keys[0, 1]), int(song.keys[0, 2])
    melody = [Note(start=int(s), pitch=int(p), duration=int(d), velocity=int(v))
              for track, p, s, d, v in song.notes.astype(np.int64) if track == 0]
    spans = [ChordSpan(max(int(a), 0), int(b) - max(int(a), 0), vocab[int(i)])
             for a, b, i in song.chords if int(b) > max(int(a), 0)]
    x = encode(melody, spans, steps, shift=key_shift(tonic))
    phrases = tuple((int(a), int(n), chr(int(c))) for a, n, c in song.phrases)
    return LeadSheet(x=x, phrases=phrases, minor=mode == 1)

__all__ = ["LeadSheetBatches", "main", "run_command", "song_leadsheet",
           "train_leadsheet"]


class LeadSheetBatches:
    """Random training windows of lead sheets, with their conditions."""

    def __init__(self, sheets: Sequence[LeadSheet], window_bars: int, seed: int) -> None:
        self.sheets = [s for s in sheets if s.n_bars >= 8]
        if not self.sheets:
            raise ValueError("no lead sheet has 8 bars")
        self.window_bars = window_bars
        self.rng = np.random.default_rng(seed)
        weights = np.array([max(s.n_bars - window_bars + 1, 1) for s in self.sheets], float)
        self.weights = weights / weights.sum()
        self.forms = [form_features(s.phrases, s.n_bars, minor=s.minor) for s in self.sheets]
        self.plain = [form_features(s.phrases, s.n_bars, minor=s.minor, use_form=False)
                      for s in self.sheets]

    def _start(self, sheet: LeadSheet) -> int:
        last = max(sheet.n_bars - self.window_bars, 0)
        if self.rng.random() < 0.5:
            starts = [a for a, _, _ in sheet.phrases if 0 <= a <= last]
            if starts:
                return int(self.rng.choice(starts))
        return int(self.rng.integers(0, last + 1))

    def batch(self, size: int) -> dict[str, torch.Tensor]:
        rng = self.rng
        steps = self.window_bars * STEPS_PER_BAR
        x0 = -np.ones((size, CHANNELS, steps), dtype=np.float32)
        form = np.zeros((size, self.forms[0].shape[0], steps), dtype=np.float32)
        masks = np.zeros((size, 2, steps), dtype=np.float32)
        for i, index in enumerate(rng.choice(len(self.sheets), size=size, p=self.weights)):
            sheet = self.sheets[index]
            bar = self._start(sheet)
            lo = bar * STEPS_PER_BAR
            hi = min(lo + steps, sheet.x.shape[1])
            x0[i, :, : hi - lo] = sheet.x[:, lo:hi]
            feats = self.plain[index] if rng.random() < 0.15 else self.forms[index]
            form[i, :, : hi - lo] = feats[:, lo:hi]
            masks[i, :, hi - lo:] = 1.0  # past the song's end: known silence
            if rng.random() < 0.45:
                prefix = int(rng.integers(1, self.window_bars)) * STEPS_PER_BAR
                masks[i, :, :prefix] = 1.0
            if rng.random() < 0.35:
                masks[i, 1] = 1.0
            if rng.random() < 0.10:
                for b in np.nonzero(rng.random(self.window_bars) < 0.3)[0].tolist():
                    masks[i, 0, b * STEPS_PER_BAR:(b + 1) * STEPS_PER_BAR] = 1.0
        return {"x0": torch.from_numpy(x0), "form": torch.from_numpy(form),
                "masks": torch.from_numpy(masks)}


def loss_on(net: torch.nn.Module, batch: dict[str, torch.Tensor], generator: torch.Generator
            ) -> torch.Tensor:
    """Mean squared v error over the unknown cells of a batch."""
    x0, masks, form = batch["x0"], batch["masks"], batch["form"]
    b = x0.shape[0]
    t = torch.rand(b, generator=generator).to(x0.device)
    noise = torch.randn(x0.shape, generator=generator).to(x0.device)
    known_cells = expand_masks(masks)
    known = x0 * known_cells
    x_t = add_noise(x0, noise, t)
    v = net(x_t, t, known, masks, form)
    free = 1.0 - known_cells
    error = ((v.float() - v_target(x0, noise, t)) ** 2) * free
    return error.sum() / free.sum().clamp_min(1.0)


def _lr(step: int, total: int, peak: float, warmup: int) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min((step - warmup) / max(total - warmup, 1), 1.0)
    return peak * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress)))


def train_leadsheet(*, cache_path: str, run: Path, steps: int, minutes: float | None,
                    batch_size: int, lr: float, device: str, seed: int,
                    config: LeadSheetConfig, save_every: int, threads: int | None) -> Path:
    """Train (or resume) a lead-sheet model; returns the saved EMA model's path."""
    if threads:
        torch.set_num_threads(threads)
    dev = torch.device(device)
    cache = load_cache(cache_path)
    vocab = parse_vocab(cache.chord_vocab)
    sheets = {name: [s for s in (song_leadsheet(c, vocab) for c in cache.split(name))
                     if s is not None] for name in ("train", "valid")}
    logger.info("lead sheets: %d train, %d valid songs with phrase labels",
                len(sheets["train"]), len(sheets["valid"]))
    run.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    net = LeadSheetNet(config).to(dev)
    ema = copy.deepcopy(net).eval()
    optimizer = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=0.01)
    state: dict[str, Any] = {"step": 0, "seconds": 0.0, "config": config.to_dict(),
                             "valid_loss": None, "seed": seed, "batch_size": batch_size}
    if (run / "state.json").exists():
        state = read_run_state(run, {"net": net, "ema": ema}, optimizer)
        logger.info("resumed %s at step %d", run, state["step"])
    data = LeadSheetBatches(sheets["train"], config.window_bars, seed + state["step"])
    valid = LeadSheetBatches(sheets["valid"], config.window_bars, 1234)
    valid_batches = [valid.batch(batch_size) for _ in range(4)]
    n_params = sum(p.numel() for p in net.parameters())
    logger.info("lead-sheet net: %.2fM parameters on %s", n_params / 1e6, dev)
    generator = torch.Generator().manual_seed(seed + state["step"])
    deadline = time.monotonic() + (minutes * 60 if minutes else float("inf"))
    started, first_step, earlier = time.monotonic(), state["step"], state["seconds"]

    def autocast() -> contextlib.AbstractContextManager[Any]:
        return (torch.autocast("cuda", dtype=torch.bfloat16) if dev.type == "cuda"
                else contextlib.nullcontext())

    def validate() -> float:
        g = torch.Generator().manual_seed(99)
        with torch.no_grad():
            losses = [float(loss_on(ema, {k: v.to(dev) for k, v in b.items()}, g))
                      for b in valid_batches]
        return float(np.mean(losses))

    def save() -> Path:
        state["valid_loss"] = validate()
        state["seconds"] = earlier + time.monotonic() - started  # training time, all runs
        write_run_state(run, {"net": net, "ema": ema}, optimizer, state)
        info = {"steps": state["step"], "batch_size": batch_size, "valid_loss":
                state["valid_loss"], "parameters": n_params, "data": "POP909 train split, "
                f"{len(sheets['train'])} songs with phrase labels", "device": str(dev)}
        return save_leadsheet(run / "leadsheet.safetensors", ema, info)

    path = run / "leadsheet.safetensors"
    net.train()
    while state["step"] < steps and time.monotonic() < deadline:
        step = state["step"]
        for group in optimizer.param_groups:
            group["lr"] = _lr(step, steps, lr, min(500, steps // 10 + 1))
        batch = {k: v.to(dev) for k, v in data.batch(batch_size).items()}
        with autocast():
            loss = loss_on(net, batch, generator)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        optimizer.step()
        decay = min(0.999, (1 + step) / (10 + step))
        with torch.no_grad():
            for e, p in zip(ema.parameters(), net.parameters(), strict=True):
                e.lerp_(p, 1.0 - decay)
        state["step"] += 1
        if state["step"] % 50 == 0:
            rate = (state["step"] - first_step) / (time.monotonic() - started)
            eta = (steps - state["step"]) / max(rate, 1e-9)
            logger.info("step %d/%d loss %.4f  %.2f steps/s  ETA %.0f min", state["step"],
                        steps, float(loss.detach()), rate, eta / 60)
        if state["step"] % save_every == 0:
            path = save()
            logger.info("saved %s (valid loss %.4f)", path, state["valid_loss"])
    path = save()
    logger.info("saved %s at step %d (valid loss %.4f)", path, state["step"],
                state["valid_loss"])
    return path


def run_command(args: argparse.Namespace) -> int:
    """``diffjam train-leadsheet`` (options: engine.cli.add_train_leadsheet_arguments)."""
    config = LeadSheetConfig(channels=tuple(int(c) for c in args.channels.split(",")),
                             window_bars=args.window_bars, stem_channels=args.stem_channels)
    train_leadsheet(cache_path=args.cache, run=args.run, steps=args.steps,
                    minutes=args.minutes, batch_size=args.batch_size, lr=args.lr,
                    device=args.device, seed=args.seed, config=config,
                    save_every=args.save_every, threads=args.threads)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    from engine.cli import add_train_leadsheet_arguments

    parser = argparse.ArgumentParser(prog="diffjam train-leadsheet", description=__doc__)
    add_train_leadsheet_arguments(parser)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    return run_command(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
