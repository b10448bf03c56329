"""The models one server offers, by name (``diffjam serve --models DIR``).

A request's ``model`` param picks one by name; without it the server's default model
(``--model``, else the bundled one) runs. Names are file stems: ``DIR/mine.safetensors``
is ``mine``, a sharded model ``DIR/big-00001-of-00002.safetensors`` (with its other
shards) is ``big``, and a training run ``DIR/mine/`` is ``mine`` (its ``best``, else its
``model`` file). The default model keeps its own file stem as its name.

The default model is loaded at start. A folder model is loaded on its first request, on
the worker thread (never on the OSC thread), and stays loaded; at most ``max_loaded``
folder models are kept, the least recently used one is let go first: the memory budget
is counted in models, each about its file's size (fp16 weights, float32 once loaded: twice
that) on the device.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_MAX_LOADED", "ModelShelf", "UnknownModelError", "model_files"]

log = logging.getLogger(__name__)

DEFAULT_MAX_LOADED = 4
_SHARD = re.compile(r"^(?P<name>.+)-\d{5}-of-\d{5}$")


class UnknownModelError(LookupError):
    """A name the shelf does not hold; the message lists the names it does."""


def _stored(folder: Path, stem: str) -> bool:
    return (folder / f"{stem}.safetensors").is_file() or any(
        folder.glob(f"{stem}-[0-9]*-of-[0-9]*.safetensors"))


def model_files(folder: Path) -> dict[str, Path]:
    """Name -> the path to load, of every model in ``folder``: its model files, and its
    sub-folders that hold ``best.safetensors`` or else ``model.safetensors`` (training
    runs: ``--models runs`` serves each run's best model under the run's name); a file
    wins over a sub-folder of the same name."""
    found: dict[str, Path] = {}
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        stem = next((s for s in ("best", "model") if _stored(sub, s)), None)
        if stem is not None:
            found[sub.name] = sub / f"{stem}.safetensors"
    for path in sorted(folder.glob("*.safetensors")):
        shard = _SHARD.match(path.stem)
        name = shard["name"] if shard else path.stem
        found[name] = folder / f"{name}.safetensors"  # the loader joins shards from it
    return found


class ModelShelf:
    """The default pipeline and the folder's models by name (module docstring).

    ``load``: path -> pipeline (``engine.pipeline.Pipeline.load`` on the server's device).
    """

    def __init__(self, default: Any, *, default_name: str, files: dict[str, Path] | None = None,
                 load: Callable[[Path], Any] | None = None,
                 max_loaded: int = DEFAULT_MAX_LOADED) -> None:
        if max_loaded < 1:
            raise ValueError(f"max_loaded must be >= 1, got {max_loaded}")
        files = {name: path for name, path in (files or {}).items() if name != default_name}
        if files and load is None:
            raise ValueError("folder models need a load function")
        self.default = default
        self.default_name = default_name
        self._files = files
        self._load = load
        self.max_loaded = max_loaded
        self._loaded: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def names(self) -> list[str]:
        """Every name a request may give, the default's first."""
        return [self.default_name, *sorted(self._files)]

    def loaded(self) -> list[str]:
        with self._lock:
            return [self.default_name, *self._loaded]

    def get(self, name: str | None) -> Any:
        """The pipeline of ``name`` (None: the default), loading it if needed (slow: call
        it from the worker thread). Raises UnknownModelError, or the loader's error
        (ModelFileError) for a broken file."""
        if name is not None and name != self.default_name and name not in self._files:
            raise UnknownModelError(
                f"unknown model {name!r}; this engine serves: {', '.join(self.names)}")
        if name is None or name == self.default_name:
            return self.default
        with self._lock:
            if name in self._loaded:
                self._loaded.move_to_end(name)
                return self._loaded[name]
        assert self._load is not None
        pipeline = self._load(self._files[name])  # raises ModelFileError for a broken file
        with self._lock:
            self._loaded[name] = pipeline
            while len(self._loaded) > self.max_loaded:
                dropped, _ = self._loaded.popitem(last=False)
                log.info("model %s let go (more than %d loaded)", dropped, self.max_loaded)
        log.info("model %s loaded from %s", name, self._files[name])
        return pipeline
