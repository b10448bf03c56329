"""Self-describing model files (safetensors with the config inside) and resumable
training state.

A model file holds the network weights (float16 by default: half the size, and the
network runs in float32 after loading) and, in the safetensors metadata, ``format``
(``diffjam-model``), ``format_version``, ``model_config`` (JSON of
:class:`~engine.model.ModelConfig`) and ``info`` (JSON: training data, steps, metrics).
Nothing is pickled.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file

from engine.errors import ModelFileError
from engine.model import DenoiserNet, ModelConfig

FORMAT = "diffjam-model"
FORMAT_VERSION = "1"
BUNDLED_MODEL = Path(__file__).resolve().parent / "weights" / "diffjam-v1.safetensors"


def save_model(
    path: str | os.PathLike[str],
    state_dict: dict[str, torch.Tensor],
    config: ModelConfig,
    *,
    info: dict[str, Any] | None = None,
    dtype: torch.dtype = torch.float16,
) -> None:
    """Write weights and config to ``path`` (written to a temporary file, then renamed)."""
    tensors = {k: v.detach().to("cpu", dtype).contiguous() for k, v in state_dict.items()}
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model_config": json.dumps(config.to_dict()),
        "info": json.dumps(info or {}),
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    save_file(tensors, str(tmp), metadata=metadata)
    os.replace(tmp, path)


def read_metadata(path: str | os.PathLike[str]) -> tuple[ModelConfig, dict[str, Any]]:
    """The config and info of a model file, without loading the weights."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"model file not found: {path}")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
    except (SafetensorError, OSError) as err:
        raise ModelFileError(f"cannot read model file {path}: {err}") from err
    if metadata.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a diffjam model file (no '{FORMAT}' metadata)")
    if metadata.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"{path} has model format {metadata.get('format_version')!r}; "
            f"this diffjam reads {FORMAT_VERSION!r}"
        )
    try:
        config = ModelConfig.from_dict(json.loads(metadata["model_config"]))
        info = json.loads(metadata.get("info", "{}"))
    except (KeyError, ValueError, TypeError) as err:
        raise ModelFileError(f"{path} has a broken model config: {err}") from err
    return config, info


def load_model(
    path: str | os.PathLike[str], *, device: str | torch.device = "cpu"
) -> tuple[DenoiserNet, dict[str, Any]]:
    """Load a model file into an eval-mode float32 network on ``device``."""
    config, info = read_metadata(path)
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError) as err:
        raise ModelFileError(f"cannot read model file {path}: {err}") from err
    net = DenoiserNet(config)
    try:
        net.load_state_dict({k: v.float() for k, v in tensors.items()})
    except RuntimeError as err:
        raise ModelFileError(f"{path} does not match its own config: {err}") from err
    return net.to(device).eval(), info
