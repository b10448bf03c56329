"""Training: a few steps on a tiny cache, and resuming gives the very same run."""

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from engine.cache import build_cache
from engine.dataset import TASK_ACCOMPANIMENT, WindowSampler, densify, parse_vocab
from engine.cache import load_cache
from engine.train import TrainConfig, Trainer
from tests.engine.conftest import TINY


@pytest.fixture(scope="module")
def tiny_cache(data_dir: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cache") / "tiny.npz"
    build_cache(data_dir, {"001": "train", "003": "train", "005": "valid"}, out, workers=1)
    return out


def config(cache: Path) -> TrainConfig:
    return TrainConfig(cache=str(cache), model=TINY, batch_size=4, valid_batches=1,
                       log_every=2, valid_every=2, save_every=100, warmup_steps=2)


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


def test_resume_continues_the_same_run(tiny_cache, tmp_path):
    straight = Trainer(config(tiny_cache), tmp_path / "a")
    (tmp_path / "a").mkdir()
    straight.run(max_steps=4, minutes=None)

    (tmp_path / "b").mkdir()
    first = Trainer(config(tiny_cache), tmp_path / "b")
    first.run(max_steps=2, minutes=None)
    resumed = Trainer(config(tiny_cache), tmp_path / "b")
    resumed.load()
    assert resumed.step == 2
    resumed.run(max_steps=4, minutes=None)

    a = load_file(str(tmp_path / "a" / "state.safetensors"))
    b = load_file(str(tmp_path / "b" / "state.safetensors"))
    for name in a:
        if name.startswith(("net.", "ema.")):
            torch.testing.assert_close(a[name], b[name], msg=name)
    assert resumed.history["valid"] and resumed.history["train"][-1][0] == 4
    assert (tmp_path / "b" / "model.safetensors").is_file()


def test_loss_curve_draws_both_series():
    from engine.loss_curve import render_svg

    svg = render_svg({"train": [[25, 0.9], [50, 0.5]], "valid": [[50, 0.6]]}, title="t")
    assert svg.startswith("<svg") and svg.count("<polyline") == 2
    with pytest.raises(ValueError):
        render_svg({"train": []}, title="t")


def test_a_new_run_can_start_from_a_shipped_model_file(tiny_cache, tmp_path):
    from engine.checkpoint import load_model

    (tmp_path / "a").mkdir()
    first = Trainer(config(tiny_cache), tmp_path / "a")
    first.run(max_steps=2, minutes=None)
    (tmp_path / "b").mkdir()
    later = Trainer(config(tiny_cache), tmp_path / "b")
    later.init_from(tmp_path / "a" / "model.safetensors")
    assert later.step == 2 and later.warmup_from == 2
    shipped, _ = load_model(tmp_path / "a" / "model.safetensors")
    for (name, a), (_, b) in zip(shipped.state_dict().items(), later.net.state_dict().items()):
        torch.testing.assert_close(a, b, msg=name)
    later.run(max_steps=3, minutes=None)
    assert later.step == 3
