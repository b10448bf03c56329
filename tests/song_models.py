"""Tiny random-weight models for the song tests that run the real ``Pipeline.song``: the
accompaniment model of tests/engine/conftest.py and a lead-sheet model as small."""

from __future__ import annotations

from pathlib import Path

from tests.engine.conftest import make_tiny_model_file

__all__ = ["make_tiny_leadsheet_file", "make_tiny_model_file"]


def make_tiny_leadsheet_file(path: Path, *, seed: int = 0) -> Path:
    import torch

    from engine.leadsheet import LeadSheetConfig, LeadSheetNet, save_leadsheet

    torch.manual_seed(seed)
    config = LeadSheetConfig(channels=(16, 32), attention_layers=1, heads=2, emb_dim=32,
                             window_bars=8)
    return save_leadsheet(path, LeadSheetNet(config), {"name": "tiny-leadsheet", "steps": 0})
