"""Fixtures for engine tests: a tiny randomly initialised model file."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from engine.checkpoint import save_model
from engine.model import DenoiserNet, ModelConfig

TINY = ModelConfig(widths=(16, 32), blocks_per_level=1, attention_layers=1, attention_heads=2)


def make_tiny_model_file(path: Path, *, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    net = DenoiserNet(TINY)
    # The output layer starts at zero; give it weights so the tiny model makes notes.
    torch.nn.init.normal_(net.output.weight, std=0.05)
    save_model(path, net.state_dict(), TINY, info={"name": "tiny-test", "steps": 0},
               dtype=torch.float32)
    return path


@pytest.fixture(scope="session")
def tiny_model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_model_file(tmp_path_factory.mktemp("model") / "tiny.safetensors")
