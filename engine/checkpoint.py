"""Self-describing model files (safetensors with the config inside), optionally split into
shards.

A model file holds the network weights (float16 by default: half the size, and the
network runs in float32 after loading) and, in the safetensors metadata, ``format``
(``diffjam-model``), ``format_version``, ``model_config`` (JSON of
:class:`~engine.model.ModelConfig`), ``info`` (JSON: training data, steps, metrics) and,
in files written since shards exist, ``weights_sha256`` (a digest of all the weights,
see :func:`weights_digest`). Nothing is pickled.

A model larger than ``max_shard_bytes`` (16 MiB by default: the most a file may weigh to
come back from the device machine) is written as shards ``NAME-00001-of-0000N.safetensors``
next to where ``NAME.safetensors`` would be. Every shard is a complete safetensors file
with a part of the weights and the same metadata plus ``shard_index`` (1-based) and
``shard_count``. :func:`load_model` and :func:`read_metadata` take the single file, any
shard, or the name the single file would have (``NAME.safetensors``) and join the shards,
after checking that all are present, belong to the same save (same metadata and digest)
and hold every weight once.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file

from engine.errors import ModelFileError
from engine.model import DenoiserNet, ModelConfig

FORMAT = "diffjam-model"
FORMAT_VERSION = "1"
BUNDLED_MODEL = Path(__file__).resolve().parent / "weights" / "diffjam-v5-fast2.safetensors"
# the song cascade's lead-sheet model (engine.leadsheet; its own file format)
BUNDLED_LEADSHEET = Path(__file__).resolve().parent / "weights" / "diffjam-leadsheet.safetensors"
MAX_SHARD_BYTES = 16 * 2**20  # per file: what may come back from the device machine

_SHARD_NAME = re.compile(r"^(?P<stem>.+)-(?P<index>\d{5})-of-(?P<count>\d{5})(?P<suffix>\.[^.]*)?$")
_SHARD_KEYS = ("shard_index", "shard_count")


def weights_digest(tensors: dict[str, torch.Tensor]) -> str:
    """SHA-256 (hex) over the weights in name order: name, dtype, shape and bytes of each."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        tensor = tensors[name].detach().to("cpu").contiguous()
        digest.update(f"{name}|{tensor.dtype}|{list(tensor.shape)}|".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def shard_path(path: str | os.PathLike[str], index: int, count: int) -> Path:
    """Where shard ``index`` (1-based) of ``count`` of the model ``path`` lives:
    ``dir/model.safetensors`` -> ``dir/model-00002-of-00003.safetensors``."""
    path = Path(path)
    return path.with_name(f"{path.stem}-{index:05d}-of-{count:05d}{path.suffix}")


def _header_bytes(tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> int:
    """An upper bound of the size of a safetensors header for these tensors and metadata
    (length prefix, JSON with spaces that safetensors leaves out, offsets of 13 digits,
    alignment padding)."""
    entries = {
        name: {"dtype": "BF16", "shape": list(t.shape), "data_offsets": [10**12, 10**12]}
        for name, t in tensors.items()
    }
    return 8 + len(json.dumps({"__metadata__": metadata, **entries})) + 8


def _plan_shards(
    tensors: dict[str, torch.Tensor], metadata: dict[str, str], max_bytes: int | None
) -> list[list[str]]:
    """Names per file, in state-dict order: one file when everything fits ``max_bytes``,
    else greedy shards that each fit."""
    names = list(tensors)
    if max_bytes is None:
        return [names]
    # Room for the shard keys and their digits in every shard's metadata.
    shard_metadata = {**metadata, "shard_index": "99999", "shard_count": "99999"}

    def size(group: list[str], meta: dict[str, str]) -> int:
        part = {name: tensors[name] for name in group}
        return _header_bytes(part, meta) + sum(t.numel() * t.element_size() for t in part.values())

    if size(names, metadata) <= max_bytes:
        return [names]
    shards: list[list[str]] = [[]]
    for name in names:
        if size([name], shard_metadata) > max_bytes:
            raise ValueError(
                f"weight {name!r} alone takes {size([name], shard_metadata)} bytes, more than "
                f"max_shard_bytes={max_bytes}"
            )
        if shards[-1] and size([*shards[-1], name], shard_metadata) > max_bytes:
            shards.append([])
        shards[-1].append(name)
    return shards


def save_model(
    path: str | os.PathLike[str],
    state_dict: dict[str, torch.Tensor],
    config: ModelConfig,
    *,
    info: dict[str, Any] | None = None,
    dtype: torch.dtype = torch.float16,
    max_shard_bytes: int | None = MAX_SHARD_BYTES,
) -> list[Path]:
    """Write weights and config to ``path``, or to shards of at most ``max_shard_bytes``
    each next to it when the model does not fit one file (``None``: never shard).

    Every file is written to a temporary name, then renamed. Older copies of the model
    under the same name (the single file, or shards of another count) are removed, so the
    name always means one model. Returns the files written, in shard order.
    """
    path = Path(path)
    tensors = {k: v.detach().to("cpu", dtype).contiguous() for k, v in state_dict.items()}
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model_config": json.dumps(config.to_dict()),
        "info": json.dumps(info or {}),
        "weights_sha256": weights_digest(tensors),
    }
    groups = _plan_shards(tensors, metadata, max_shard_bytes)
    if len(groups) == 1:
        targets = [(path, tensors, metadata)]
    else:
        targets = [
            (
                shard_path(path, i, len(groups)),
                {name: tensors[name] for name in group},
                {**metadata, "shard_index": str(i), "shard_count": str(len(groups))},
            )
            for i, group in enumerate(groups, start=1)
        ]
    path.parent.mkdir(parents=True, exist_ok=True)
    for target, part, meta in targets:
        tmp = target.with_name(target.name + ".tmp")
        save_file(part, str(tmp), metadata=meta)
        os.replace(tmp, target)
    written = [target for target, _, _ in targets]
    for stale in [path, *_shard_candidates(path)]:
        if stale not in written:
            stale.unlink(missing_ok=True)
    return written


def _shard_candidates(path: Path) -> list[Path]:
    """Files next to ``path`` named like its shards, whatever their count."""
    found = []
    for candidate in path.parent.glob(f"{glob.escape(path.stem)}-*-of-*{path.suffix}"):
        match = _SHARD_NAME.match(candidate.name)
        if match and match["stem"] == path.stem and (match["suffix"] or "") == path.suffix:
            found.append(candidate)
    return sorted(found)


def model_files(path: str | os.PathLike[str]) -> list[Path]:
    """The files that hold the model named ``path``, in shard order: ``[path]`` for a
    single file, else all shards when ``path`` is one of them or the name the single file
    would have. Raises :class:`ModelFileError` when a file is missing or the shards of two
    saves lie side by side."""
    path = Path(path)
    match = _SHARD_NAME.match(path.name)
    if match:
        count = int(match["count"])
        if not 1 <= int(match["index"]) <= count:
            raise ModelFileError(f"{path}: not a shard name (shard {match['index']} of {count})")
        base = path.with_name(match["stem"] + (match["suffix"] or ""))
    elif path.is_file():
        return [path]
    elif not path.suffix:
        return model_files(path.with_name(path.name + ".safetensors"))
    else:
        counts = {int(shard["count"]) for p in _shard_candidates(path)
                  if (shard := _SHARD_NAME.match(p.name))}
        if not counts:
            raise ModelFileError(f"model file not found: {path}")
        if len(counts) > 1:
            raise ModelFileError(
                f"{path}: shards of {len(counts)} different models lie side by side "
                f"(of {', '.join(str(c) for c in sorted(counts))} files)"
            )
        count, base = counts.pop(), path
    files = [shard_path(base, i, count) for i in range(1, count + 1)]
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        raise ModelFileError(
            f"model {base} is split into {count} files and {len(missing)} are missing: "
            f"{', '.join(missing)}"
        )
    return files


def _read_header(path: Path) -> dict[str, str]:
    """The safetensors metadata of one file, checked to be a diffjam model's."""
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
    return metadata


def _read_metadata_of(files: list[Path]) -> dict[str, str]:
    """The metadata the files share, after checking that they are the shards of one save."""
    headers = [_read_header(f) for f in files]
    if len(files) == 1 and not any(key in headers[0] for key in _SHARD_KEYS):
        return headers[0]
    shared = {k: v for k, v in headers[0].items() if k not in _SHARD_KEYS}
    for index, (file, header) in enumerate(zip(files, headers, strict=True), start=1):
        expected = (str(index), str(len(files)))
        if (header.get("shard_index"), header.get("shard_count")) != expected:
            raise ModelFileError(
                f"{file} says it is shard {header.get('shard_index')} of "
                f"{header.get('shard_count')}, expected {expected[0]} of {expected[1]}"
            )
        if {k: v for k, v in header.items() if k not in _SHARD_KEYS} != shared:
            raise ModelFileError(
                f"{file} does not belong with {files[0].name}: they come from different "
                "saves (their metadata differs)"
            )
    return shared


def read_metadata(path: str | os.PathLike[str]) -> tuple[ModelConfig, dict[str, Any]]:
    """The config and info of a model (a file, a shard, or the name of sharded files),
    without loading the weights."""
    return _parse_metadata(Path(path), _read_metadata_of(model_files(path)))


def stored_digest(path: str | os.PathLike[str]) -> str | None:
    """The digest of a model's weights as its file stores it (``weights_sha256``; None in
    files written before digests), without loading the weights: what tells two files of
    the same name apart."""
    return _read_metadata_of(model_files(path)).get("weights_sha256")


def _parse_metadata(path: Path, metadata: dict[str, str]) -> tuple[ModelConfig, dict[str, Any]]:
    try:
        config = ModelConfig.from_dict(json.loads(metadata["model_config"]))
        info = json.loads(metadata.get("info", "{}"))
    except (KeyError, ValueError, TypeError) as err:
        raise ModelFileError(f"{path} has a broken model config: {err}") from err
    return config, info


def load_model(
    path: str | os.PathLike[str], *, device: str | torch.device = "cpu"
) -> tuple[DenoiserNet, dict[str, Any]]:
    """Load a model (a file, a shard, or the name of sharded files) into an eval-mode
    float32 network on ``device``."""
    path = Path(path)
    files = model_files(path)
    metadata = _read_metadata_of(files)
    config, info = _parse_metadata(path, metadata)
    tensors: dict[str, torch.Tensor] = {}
    for file in files:
        try:
            part = load_file(str(file))
        except (SafetensorError, OSError) as err:
            raise ModelFileError(f"cannot read model file {file}: {err}") from err
        twice = sorted(set(part) & set(tensors))
        if twice:
            raise ModelFileError(f"{file} repeats weights of an earlier shard: {twice[:3]}")
        tensors.update(part)
    expected = metadata.get("weights_sha256")
    if expected is not None and weights_digest(tensors) != expected:
        raise ModelFileError(
            f"{path}: the weights do not match the digest in the metadata (a file was "
            "damaged or comes from another save)"
        )
    _check_weights(path, config, tensors)
    net = DenoiserNet(config)
    try:
        net.load_state_dict({k: v.float() for k, v in tensors.items()})
    except RuntimeError as err:
        raise ModelFileError(f"{path} does not match its own config: {err}") from err
    return net.to(device).eval(), info


def _check_weights(path: Path, config: ModelConfig, tensors: dict[str, torch.Tensor]) -> None:
    """The weights are the config's network's, every one of them finite: checked before the
    network is built, so a crafted config cannot make the loader allocate what the file
    does not hold, and a damaged file is an error instead of a model making noise."""
    with torch.device("meta"):  # shapes only, no memory
        expected = {k: tuple(v.shape) for k, v in DenoiserNet(config).state_dict().items()}
    given = {k: tuple(v.shape) for k, v in tensors.items()}
    if given != expected:
        missing = sorted(set(expected) - set(given))
        unexpected = sorted(set(given) - set(expected))
        reshaped = sorted(k for k in set(given) & set(expected) if given[k] != expected[k])
        parts = [f"{label} {names[:3]}" for label, names in (
            ("missing", missing), ("unexpected", unexpected), ("of another shape", reshaped))
            if names]
        raise ModelFileError(f"{path} does not match its own config: weights "
                             f"{'; '.join(parts)}")
    for name, tensor in tensors.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise ModelFileError(f"{path}: weight {name!r} holds NaN or infinite values (a "
                                 "damaged file, or a training run that diverged)")


def distilled_info(info: dict[str, Any]) -> dict[str, Any] | None:
    """``info["distilled"]`` of a model file when it is a well-formed student, else None."""
    table = info.get("distilled")
    if not isinstance(table, dict):
        return None
    if not isinstance(table.get("teacher"), str) or not isinstance(table.get("steps"), int):
        return None
    if not isinstance(table.get("guidance"), (int, float)):
        return None
    return table


def teacher_path(student: Path, table: dict[str, Any]) -> Path:
    """Where a student's teacher (``table = info["distilled"]``) is: beside the student
    (how models ship), else in the bundled weights folder, else at the path stored when it
    was distilled. Raises ModelFileError when it is nowhere."""
    name = table["teacher"]
    found = _companion(student, name, stored=str(table.get("teacher_path", "")))
    if found is None:
        raise ModelFileError(f"{student} is a few-step student of {name}, which is neither "
                             f"beside it nor in {BUNDLED_MODEL.parent}: put the two files "
                             "together")
    return found


def _companion(model: Path, name: str, *, stored: str = "") -> Path | None:
    """The model file ``name`` that ``model`` names: beside it (how models ship), else in
    the bundled weights folder, else at the path ``stored`` when it was made; None when
    it is nowhere."""
    for candidate in (model.parent / name, BUNDLED_MODEL.parent / name, Path(stored)):
        if candidate.name == name and candidate.is_file():
            return candidate
    return None


# The request kinds a student's ``info["distilled"]["students"]`` may hand to another
# student of the same teacher (engine.pipeline.Pipeline._network_for's kinds).
TASK_STUDENT_KINDS = ("infill", "infill_chords", "accompany", "generate")


def task_students(student: Path, table: dict[str, Any]) -> dict[str, Path]:
    """The other students a student file hands some request kinds to
    (``table["students"]``: kind -> file name, e.g. ``{"infill_chords":
    "diffjam-v5-fast3.safetensors"}``), each found beside it or in the bundled weights
    folder. Raises ModelFileError for an unknown kind or a file that is nowhere."""
    named = table.get("students") or {}
    if not isinstance(named, dict):
        raise ModelFileError(f"{student}: its distilled 'students' table is not a mapping")
    found = {}
    for kind, name in named.items():
        if kind not in TASK_STUDENT_KINDS or not isinstance(name, str):
            raise ModelFileError(f"{student}: its distilled 'students' table maps {kind!r} "
                                 f"to {name!r}; kinds are {', '.join(TASK_STUDENT_KINDS)}")
        path = _companion(student, name)
        if path is None:
            raise ModelFileError(f"{student} runs {kind} requests with the student {name}, "
                                 f"which is neither beside it nor in {BUNDLED_MODEL.parent}: "
                                 "put the files together")
        found[kind] = path
    return found


def full_model_path(path: str | os.PathLike[str]) -> Path:
    """The full model of a model file: the file itself, or the teacher a distilled student
    names. Training and distillation start from it (``--init-from bundled``, ``--teacher
    bundled``): a student's weights only fit its own few-step sampler."""
    path = Path(path)
    table = distilled_info(read_metadata(path)[1])
    return path if table is None else teacher_path(path, table)
