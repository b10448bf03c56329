"""Training: a few steps on a tiny cache; resuming gives the very same run; the schedule,
the batch stream, the command line, and data-parallel training with two CPU processes."""

import argparse
import itertools
import json
import math
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from torch.utils.data import DataLoader

from engine.cache import build_cache, load_cache
from engine.checkpoint import BUNDLED_MODEL, load_model, read_metadata
from engine.cli import add_train_arguments
from engine.dataset import WindowSampler, densify
from engine.diffusion import v_target
from engine.errors import InputError
from engine.harmony import parse_vocab
from engine.model import TASK_ACCOMPANIMENT, Conditioning, ModelConfig
from engine.train import (
    Schedule,
    TrainConfig,
    Trainer,
    WindowStream,
    build_config,
    diffusion_loss,
    learning_rate,
    main,
    progress_line,
    step_seed,
    window_batch,
)
from tests.engine.conftest import TINY

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny_cache(data_dir: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cache") / "tiny.npz"
    build_cache(data_dir, {"001": "train", "003": "train", "005": "valid"}, out, workers=1)
    return out


def config(cache: Path) -> TrainConfig:
    return TrainConfig(cache=str(cache), model=TINY, batch_size=4, valid_batches=1,
                       log_every=2, valid_every=2, save_every=100, warmup_steps=2)


def weights(path: Path, prefix: str) -> dict[str, torch.Tensor]:
    return {k: v for k, v in load_file(str(path)).items() if k.startswith(prefix)}


def test_windows_are_transposed_and_conditioned(tiny_cache):
    cache = load_cache(tiny_cache)
    chords = parse_vocab(cache.chord_vocab)
    songs = [densify(s, chords) for s in cache.songs]
    batch = WindowSampler(songs, seed=0).batch(16)
    assert batch.x0.shape == (16, 2, 128, 80)
    assert set(batch.x0.unique().tolist()) <= {-1.0, 1.0}
    # Where the chords are present the chroma has 3-4 tones on most steps.
    present = batch.cond.chords_present > 0
    assert batch.cond.chroma[present].sum(-1).float().mean() > 2.5
    # Accompaniment examples have a target that is only the piano: never denser than
    # the full arrangement of the same window would be; melody is given for most.
    acc = batch.cond.task == TASK_ACCOMPANIMENT
    assert acc.any() and (~acc).any()
    assert torch.all(batch.cond.melody_present[~acc] == 0)


def test_density_hints_replace_the_rhythm_condition_with_what_a_request_sends(tiny_cache):
    from engine.dataset import ConditionRates
    from engine.pianoroll import density_hint

    cache = load_cache(tiny_cache)
    chords = parse_vocab(cache.chord_vocab)
    songs = [densify(s, chords) for s in cache.songs]
    plain = WindowSampler(songs, seed=0).batch(16)
    hinted = WindowSampler(songs, seed=0, rates=ConditionRates(rhythm=1.0, density_hint=1.0)
                           ).batch(16)
    for i in range(16):
        per_bar = float((hinted.x0[i, 0] > 0).sum()) / 8
        assert torch.allclose(hinted.cond.rhythm[i], torch.from_numpy(density_hint(per_bar, 128)))
    # off by default: the target's own onsets, and the batches of earlier runs unchanged
    onsets = ((plain.x0[:, 0] > 0).sum(-1) / 4.0).clamp(0, 1)
    torch.testing.assert_close(plain.cond.rhythm, onsets)


def test_resume_continues_the_same_run(tiny_cache, tmp_path):
    (tmp_path / "a").mkdir()
    straight = Trainer(config(tiny_cache), tmp_path / "a")
    straight.plan(4)
    straight.run(max_steps=4, minutes=None)

    (tmp_path / "b").mkdir()
    first = Trainer(config(tiny_cache), tmp_path / "b")
    first.plan(4)
    first.run(max_steps=2, minutes=None)  # stopped early, as by --minutes or Ctrl-C
    resumed = Trainer(config(tiny_cache), tmp_path / "b", workers=2)  # workers change nothing
    resumed.load()
    assert resumed.step == 2 and resumed.schedule == Schedule(start=0, end=4)
    resumed.plan(4)  # the same plan: kept
    resumed.run(max_steps=4, minutes=None)

    a = weights(tmp_path / "a" / "state.safetensors", ("net.", "ema."))
    b = weights(tmp_path / "b" / "state.safetensors", ("net.", "ema."))
    for name in a:
        torch.testing.assert_close(a[name], b[name], msg=name)
    assert resumed.history["valid"] and resumed.history["train"][-1][0] == 4
    assert (tmp_path / "b" / "model.safetensors").is_file()


def test_the_batch_of_a_step_does_not_depend_on_the_workers(tiny_cache):
    cache = load_cache(tiny_cache)
    chords = parse_vocab(cache.chord_vocab)
    sampler = WindowSampler([densify(s, chords) for s in cache.songs], window_bars=4)
    stream = WindowStream(sampler, 3, seed=5, rank=1, first_step=7)
    with_workers = iter(DataLoader(stream, batch_size=None, num_workers=2))
    for step in range(7, 12):
        expected = window_batch(sampler, 3, seed=5, rank=1, step=step)
        got = next(with_workers)
        torch.testing.assert_close(got["x0"], expected.x0)
        torch.testing.assert_close(got["mask"], expected.cond.mask)
    other_rank = window_batch(sampler, 3, seed=5, rank=0, step=7).x0
    assert not torch.equal(other_rank, window_batch(sampler, 3, seed=5, rank=1, step=7).x0)
    assert step_seed(5, 1, 7) != step_seed(5, 0, 7) != step_seed(5, 1, 8)


def test_learning_rate_warms_up_then_decays_to_the_floor():
    c = TrainConfig(cache="-", lr=1e-3, warmup_steps=10, min_lr_ratio=0.1)
    plan = Schedule(start=100, end=210)
    assert learning_rate(c, 100, plan) == pytest.approx(1e-4)
    assert learning_rate(c, 109, plan) == pytest.approx(1e-3)
    assert learning_rate(c, 110, plan) == pytest.approx(1e-3)
    assert learning_rate(c, 160, plan) == pytest.approx(0.55e-3)  # half way down
    assert learning_rate(c, 210, plan) == pytest.approx(1e-4)
    assert learning_rate(c, 500, plan) == pytest.approx(1e-4)  # past the end: the floor
    rates = [learning_rate(c, s, plan) for s in range(110, 211)]
    assert all(a >= b for a, b in itertools.pairwise(rates))
    assert learning_rate(c, 5000, Schedule(start=100)) == 1e-3  # no end planned
    no_warmup = TrainConfig(cache="-", lr=1e-3, warmup_steps=0)
    assert learning_rate(no_warmup, 0, Schedule(start=0, end=10)) == pytest.approx(1e-3)


def test_extending_a_run_starts_a_new_leg(tiny_cache, tmp_path):
    trainer = Trainer(config(tiny_cache), tmp_path)
    trainer.plan(3)
    assert trainer.schedule == Schedule(start=0, end=3)
    trainer.step = 3  # as if it had trained
    trainer.plan(2)  # nothing left to plan
    trainer.plan(3)
    assert trainer.schedule == Schedule(start=0, end=3)
    trainer.plan(10)
    assert trainer.schedule == Schedule(start=3, end=10)
    assert learning_rate(trainer.config, 3, trainer.schedule) < trainer.config.lr  # warm-up


def test_a_new_run_can_start_from_a_shipped_model_file(tiny_cache, tmp_path):
    (tmp_path / "a").mkdir()
    first = Trainer(config(tiny_cache), tmp_path / "a")
    first.run(max_steps=2, minutes=None)
    (tmp_path / "b").mkdir()
    later = Trainer(config(tiny_cache), tmp_path / "b")
    later.init_from(tmp_path / "a" / "model.safetensors")
    assert later.step == 2 and later.schedule == Schedule(start=2)
    shipped, _ = load_model(tmp_path / "a" / "model.safetensors")
    for (name, a), (_, b) in zip(shipped.state_dict().items(), later.net.state_dict().items(),
                                 strict=True):
        torch.testing.assert_close(a, b, msg=name)
    later.plan(3)
    later.run(max_steps=3, minutes=None)
    assert later.step == 3
    _, info = read_metadata(tmp_path / "b" / "model.safetensors")
    assert info["steps"] == 3 and info["init_from"] == "model.safetensors"


def test_a_run_can_grow_the_pitch_stem_on_a_model_file(tiny_cache, tmp_path):
    (tmp_path / "a").mkdir()
    Trainer(config(tiny_cache), tmp_path / "a").run(max_steps=1, minutes=None)
    stem_model = ModelConfig(**{**TINY.to_dict(), "stem": "pitch2d", "stem_channels": 4,
                                "stem_layers": 1, "stem_heads": 1})
    (tmp_path / "b").mkdir()
    grown = Trainer(replace(config(tiny_cache), model=stem_model), tmp_path / "b")
    grown.init_from(tmp_path / "a" / "model.safetensors")
    plain, _ = load_model(tmp_path / "a" / "model.safetensors")
    batch = grown.valid[0]
    t = torch.full((batch.x0.shape[0],), 0.5)
    with torch.no_grad():
        torch.testing.assert_close(grown.ema.eval()(batch.x0, t, batch.cond),
                                   plain(batch.x0, t, batch.cond))


def test_the_loss_can_leave_out_the_known_steps():
    class Echo(torch.nn.Module):  # predicts v exactly on the first half of the steps only
        def forward(self, x_t, t, cond):
            out = torch.zeros_like(x_t)
            out[:, :, : x_t.shape[2] // 2] = self.target[:, :, : x_t.shape[2] // 2]
            return out

    x0 = torch.ones(2, 2, 32, 80)
    mask = torch.zeros(2, 32)
    mask[:, 16:] = 1.0  # the second half is known
    cond = Conditioning(task=torch.zeros(2, dtype=torch.long), known=x0 * mask[:, None, :, None],
                        mask=mask, known_present=torch.tensor([1.0, 0.0]))
    net = Echo()
    generator = torch.Generator().manual_seed(0)
    t = torch.rand(2, generator=generator)
    noise = torch.randn(x0.shape, generator=generator)
    net.target = v_target(x0, noise, t)
    full = diffusion_loss(net, x0, cond, generator=torch.Generator().manual_seed(0))
    gap = diffusion_loss(net, x0, cond, generator=torch.Generator().manual_seed(0),
                         known_weight=0.0)
    # Example 0 counts only its first half (predicted exactly), example 1 (known part
    # absent) counts everything: the error is example 1's second half, a third of the cells.
    half_error = (net.target[1, :, 16:] ** 2).sum()
    torch.testing.assert_close(gap, half_error / (3 * 16 * 2 * 80))
    torch.testing.assert_close(full, ((net.target[:, :, 16:] ** 2).sum()) / (2 * 32 * 2 * 80))


def test_loss_curve_draws_both_series():
    from engine.loss_curve import render_svg

    svg = render_svg({"train": [[25, 0.9], [50, 0.5]], "valid": [[50, 0.6]]}, title="t")
    assert svg.startswith("<svg") and svg.count("<polyline") == 2
    with pytest.raises(ValueError):
        render_svg({"train": []}, title="t")


def test_progress_line_shows_rate_share_and_eta():
    line = progress_line(step=250, max_steps=6000, loss=0.43219, steps_per_s=3.2,
                         samples_per_s=819.2, data_wait=0.04, eta_s=3725.4)
    assert line == ("step 250/6000 | loss 0.4322 | 3.20 steps/s, 819 samples/s | "
                    "data wait 4% | ETA 1:02:05")
    assert "ETA -" in progress_line(step=1, max_steps=None, loss=1.0, steps_per_s=1.0,
                                    samples_per_s=1.0, data_wait=0.0, eta_s=math.inf)


def test_the_loss_is_float32_under_autocast(tiny_cache):
    cache = load_cache(tiny_cache)
    chords = parse_vocab(cache.chord_vocab)
    batch = WindowSampler([densify(s, chords) for s in cache.songs], window_bars=8).batch(2)
    from engine.model import DenoiserNet

    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = diffusion_loss(DenoiserNet(TINY), batch.x0, batch.cond,
                              generator=torch.Generator().manual_seed(0))
    assert loss.dtype == torch.float32 and loss.shape == ()


def parse_train_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    return parser.parse_args(argv)


def test_flags_make_a_new_run_and_must_agree_with_a_continued_one(tmp_path):
    tiny = json.dumps(TINY.to_dict())
    args = parse_train_args(["--cache", "c.npz", "--run", "r", "--model-config", tiny,
                             "--batch-size", "8", "--lr", "8e-4", "--ema-decay", "0.9995"])
    made = build_config(args, None)
    assert (made.model, made.batch_size, made.lr, made.ema_decay) == (TINY, 8, 8e-4, 0.9995)
    assert made.warmup_steps == TrainConfig(cache="-").warmup_steps  # default kept
    # Continuing: the same values are fine, the schedule flags apply, others are refused.
    again = parse_train_args(["--run", "r", "--batch-size", "8", "--lr", "3e-4"])
    assert build_config(again, made).lr == 3e-4
    with pytest.raises(InputError, match="--batch-size 16"):
        build_config(parse_train_args(["--run", "r", "--batch-size", "16"]), made)
    with pytest.raises(InputError, match="--cache is required"):
        build_config(parse_train_args(["--run", "r"]), None)
    with pytest.raises(InputError, match="may only set"):
        build_config(parse_train_args(["--cache", "c", "--run", "r", "--init-from", "bundled",
                                       "--model-config", tiny]), None)
    grown = build_config(parse_train_args(["--cache", "c", "--run", "r", "--init-from",
                                           "bundled", "--model-config",
                                           '{"stem": "pitch2d", "window_bars": 16}']), None)
    bundled = read_metadata(BUNDLED_MODEL)[0]
    assert grown.model.stem == "pitch2d" and grown.model.window_bars == 16
    assert grown.model.widths == bundled.widths
    with pytest.raises(InputError, match="unknown ModelConfig keys"):
        build_config(parse_train_args(["--cache", "c", "--run", "r",
                                       "--model-config", '{"width": 3}']), None)
    with pytest.raises(InputError, match="batch_size must be at least 1"):
        build_config(parse_train_args(["--cache", "c", "--run", "r", "--batch-size", "0"]),
                     None)
    bundled = build_config(parse_train_args(["--cache", "c", "--run", "r",
                                             "--init-from", "bundled"]), None)
    assert bundled.model == read_metadata(BUNDLED_MODEL)[0]


def test_the_command_trains_then_extends_the_run(tiny_cache, tmp_path, caplog):
    common = ["--run", str(tmp_path / "r"), "--device", "cpu", "--log-every", "1",
              "--valid-every", "2", "--save-every", "100", "--warmup-steps", "1"]
    new = ["--cache", str(tiny_cache), "--model-config", json.dumps(TINY.to_dict()),
           "--batch-size", "2", "--steps", "2"]
    with caplog.at_level("INFO", logger="engine.train"):
        assert main([*common, *new]) == 0
    assert "step 2/2 | loss" in caplog.text and "steps/s" in caplog.text
    state = json.loads((tmp_path / "r" / "state.json").read_text())
    assert state["step"] == 2 and state["schedule"] == {"start": 0, "end": 2}
    assert main([*common, "--steps", "3"]) == 0
    state = json.loads((tmp_path / "r" / "state.json").read_text())
    assert state["step"] == 3 and state["schedule"] == {"start": 2, "end": 3}
    assert main([*common, "--steps", "4", "--batch-size", "3"]) == 2  # refused


def test_two_cpu_processes_train_as_one_with_the_gradients_averaged(tiny_cache, tmp_path):
    run = tmp_path / "ddp"
    steps = 3
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
        "-m", "engine.train", "--cache", str(tiny_cache), "--run-dir", str(run),
        "--steps", str(steps), "--device", "cpu", "--batch-size", "2", "--warmup-steps", "2",
        "--model-config", json.dumps({**TINY.to_dict(), "window_bars": 4}),
        "--valid-every", "2", "--save-every", "100", "--log-every", "1", "--threads", "1",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"step {steps}/{steps} | loss" in done.stderr
    net, info = load_model(run / "model.safetensors")  # the model file loads
    assert info["steps"] == steps and info["batch_size"] == 4

    # The same steps in one process, on both ranks' windows and noise at once.
    state = json.loads((run / "state.json").read_text())
    c = TrainConfig.from_dict(state["config"])
    single = Trainer(c, tmp_path / "single")
    alone = Trainer(c, tmp_path / "alone")  # rank 0's windows only: what no averaging gives
    for trainer, ranks in ((single, (0, 1)), (alone, (0,))):
        for step in range(steps):
            for group in trainer.optimizer.param_groups:
                group["lr"] = learning_rate(c, step, Schedule(start=0, end=steps))
            losses = []
            for rank in ranks:
                batch = window_batch(trainer.sampler, c.batch_size, seed=c.seed, rank=rank,
                                     step=step)
                torch.manual_seed(step_seed(c.seed, rank, step))
                losses.append(diffusion_loss(trainer.net, batch.x0, batch.cond,
                                             known_weight=c.known_loss_weight))
            trainer.optimizer.zero_grad()
            (sum(losses) / len(losses)).backward()
            torch.nn.utils.clip_grad_norm_(trainer.net.parameters(), c.grad_clip)
            trainer.optimizer.step()
    saved = weights(run / "state.safetensors", "net.")
    differs = False
    for name, value in single.net.state_dict().items():
        torch.testing.assert_close(saved[f"net.{name}"], value, atol=1e-5, rtol=1e-4, msg=name)
        differs |= not torch.allclose(saved[f"net.{name}"], alone.net.state_dict()[name],
                                      atol=1e-5, rtol=1e-4)
    assert differs


def test_training_needs_no_midi_osc_or_gui_packages():
    # scripts/gpu_train.sh runs engine.train where only torch, numpy and safetensors exist.
    code = ("import sys, engine.train; print(sorted(m for m in sys.modules if m.split('.')[0] "
            "in ('mido', 'bridge', 'gui', 'pythonosc', 'PyQt6')))")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_train_only_leaves_the_other_parameters_as_they_were(tiny_cache, tmp_path):
    stem_model = ModelConfig(**{**TINY.to_dict(), "stem": "pitch2d", "stem_channels": 4,
                                "stem_layers": 1, "stem_heads": 1})
    trainer = Trainer(replace(config(tiny_cache), model=stem_model, train_only=("stem_",)),
                      tmp_path)
    before = {k: v.clone() for k, v in trainer.net.state_dict().items()}
    trainer.run(max_steps=2, minutes=None)
    after = trainer.net.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(k.startswith("stem_") for k in changed)
