"""Fine-tuning on a user's MIDI folder: POP909 windows mixed into each batch, early stop
on the held-out songs with the best model kept, the fine-tune's default rate."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.cache import load_cache
from engine.checkpoint import load_model
from engine.cli import add_train_arguments
from engine.dataset import MixedSampler, WindowSampler, densify
from engine.harmony import parse_vocab
from engine.midifolder import build_midi_cache
from engine.train import (
    FINE_TUNE_EMA_DECAY,
    FINE_TUNE_LR,
    FINE_TUNE_WARMUP_STEPS,
    TrainConfig,
    Trainer,
    build_config,
)
from tests.engine.conftest import TINY
from tests.engine.test_midifolder import _write_type0, _write_type1


@pytest.fixture(scope="module")
def midi_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("songs")
    for i in range(4):
        _write_type1(root / f"song {i}.mid", tpb=120 + i)
    _write_type0(root / "plain.mid")
    out = root / "mine.npz"
    build_midi_cache(root, out, valid_share=0.2)
    return out


def _sampler(cache_path: Path, split: str, *, seed: int = 0) -> WindowSampler:
    cache = load_cache(cache_path)
    chords = parse_vocab(cache.chord_vocab)
    return WindowSampler([densify(s, chords) for s in cache.split(split)], seed=seed)


def test_mixed_batches_take_the_share_from_the_second_cache(midi_cache: Path) -> None:
    main, mix = _sampler(midi_cache, "train"), _sampler(midi_cache, "valid")
    mixed = MixedSampler(main, mix, share=0.25)
    mixed.rng = np.random.default_rng(3)
    batch = mixed.batch(8)
    assert batch.x0.shape[0] == 8 and batch.cond.chroma.shape[0] == 8
    mixed.rng = np.random.default_rng(3)
    again = mixed.batch(8)
    assert torch.equal(batch.x0, again.x0)  # one generator drives both: reproducible
    main.rng, mix.rng = np.random.default_rng(3), np.random.default_rng(3)
    own = main.batch(6)
    assert torch.equal(batch.x0[:6], own.x0)  # the first 6 windows are the main cache's
    with pytest.raises(ValueError, match="share"):
        MixedSampler(main, mix, share=1.0)


def test_early_stop_keeps_the_best_model(midi_cache: Path, tiny_model_file: Path,
                                         tmp_path: Path) -> None:
    config = TrainConfig(cache=str(midi_cache), model=TINY, batch_size=2, valid_batches=1,
                         log_every=1, valid_every=1, save_every=100, warmup_steps=0,
                         lr=0.5, ema_decay=0.0, early_stop=1, mix_cache=str(midi_cache),
                         mix_share=0.5)
    run = tmp_path / "run"
    run.mkdir()
    trainer = Trainer(config, run)
    trainer.init_from(tiny_model_file)
    trainer.run(max_steps=6, minutes=None)
    # The starting model is validated first; a rate of 0.5 only makes it worse, so the
    # run stops at the first validation after it and the best model is the start.
    assert [step for step, _ in trainer.history["valid"]] == [0, 1]
    assert trainer.step == 1
    _, info = load_model(run / "best.safetensors")
    assert info["steps"] == 0 and "50% of each batch" in info["data"]
    assert "MIDI folder" in info["data"]


def _args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    return parser.parse_args(argv)


def test_a_fine_tune_defaults_to_a_lower_rate_and_short_warmup() -> None:
    base = ["--cache", "c", "--run", "r", "--init-from", "bundled"]
    tuned = build_config(_args(base), None)
    assert (tuned.lr, tuned.warmup_steps, tuned.ema_decay) == (
        FINE_TUNE_LR, FINE_TUNE_WARMUP_STEPS, FINE_TUNE_EMA_DECAY)
    assert build_config(_args([*base, "--lr", "3e-4"]), None).lr == 3e-4
    scratch = build_config(_args(["--cache", "c", "--run", "r"]), None)
    assert scratch.lr == TrainConfig(cache="c").lr
    mixed = build_config(_args([*base, "--mix-cache", "p.npz", "--mix-share", "0.25",
                                "--early-stop", "3"]), None)
    assert (mixed.mix_cache, mixed.mix_share, mixed.early_stop) == ("p.npz", 0.25, 3)
    assert TrainConfig.from_dict(json.loads(json.dumps(
        {**mixed.__dict__, "model": mixed.model.to_dict()}))) == mixed
    with pytest.raises(ValueError, match="mixed-in cache"):
        replace(mixed, mix_share=0.0)
