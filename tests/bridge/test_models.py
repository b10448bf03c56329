"""Models by name (bridge/models.py): the folder's names, loading on demand within the
budget, and a server that lets each request pick one."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from bridge.models import ModelShelf, UnknownModelError, model_files
from bridge.server import OscServer
from bridge.worker import PipelineRunner
from tests.bridge.conftest import WAIT_S, FakePipeline, OscClient
from wire.protocol import ErrorCode


def test_model_files_are_named_by_stem_and_shards_joined(tmp_path: Path) -> None:
    for name in ("mine.safetensors", "big-00001-of-00002.safetensors",
                 "big-00002-of-00002.safetensors", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    for run, files in (("tuned", ("model-00001-of-00002.safetensors", "best-00001-of-00002"
                                  ".safetensors")), ("plain", ("model.safetensors",)),
                       ("empty", ("state.json",))):
        (tmp_path / run).mkdir()
        for name in files:
            (tmp_path / run / name).write_bytes(b"")
    assert model_files(tmp_path) == {"big": tmp_path / "big.safetensors",
                                     "mine": tmp_path / "mine.safetensors",
                                     "plain": tmp_path / "plain" / "model.safetensors",
                                     "tuned": tmp_path / "tuned" / "best.safetensors"}


def test_shelf_loads_on_demand_and_lets_the_oldest_go(tmp_path: Path) -> None:
    loads: list[str] = []

    def load(path: Path) -> str:
        loads.append(path.stem)
        return f"pipeline {path.stem}"

    files = {name: tmp_path / f"{name}.safetensors" for name in ("a", "b", "c", "default")}
    shelf = ModelShelf("pipeline default", default_name="default", files=files, load=load,
                       max_loaded=2)
    assert shelf.names == ["default", "a", "b", "c"]  # a folder file of the default's name
    assert shelf.get(None) == shelf.get("default") == "pipeline default"  # is the default
    assert shelf.get("a") == "pipeline a"
    assert shelf.get("b") == "pipeline b"
    assert shelf.get("a") == "pipeline a"  # still loaded
    assert shelf.get("c") == "pipeline c"  # lets b go, the least recently used
    assert shelf.loaded() == ["default", "a", "c"]
    assert shelf.get("b") == "pipeline b"
    assert loads == ["a", "b", "c", "b"]
    with pytest.raises(UnknownModelError, match="unknown model 'nope'; this engine serves: "
                                                 "default, a, b, c"):
        shelf.get("nope")


class NamedPipeline(FakePipeline):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def info(self) -> dict:
        return {**super().info(), "model": self.name, "path": f"{self.name}.safetensors"}


def test_a_request_picks_its_model_by_name(tmp_path: Path) -> None:
    default, mine = NamedPipeline("base"), NamedPipeline("mine")
    shelf = ModelShelf(default, default_name="base", files={"mine": tmp_path / "m.safetensors"},
                       load=lambda _path: mine)
    info = {**default.info(), "models": shelf.names}
    server = OscServer(PipelineRunner(default, output_dir=tmp_path, models=shelf), info=info,
                       host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    client = OscClient(("127.0.0.1", server.address[1]))
    try:
        client.send("/diffjam/status")
        status = json.loads(client.until("/diffjam/status")[-1][1][0])
        assert status["models"] == ["base", "mine"] and status["model"] == "base"
        for rid, model in (("r1", "mine"), ("r2", None), ("r3", "base")):
            params = {"n_bars": 1, "write_midi": False, **({"model": model} if model else {})}
            client.send("/diffjam/generate", "ss", rid, json.dumps(params))
            assert client.until("/diffjam/done", rid)[-1][0] == "/diffjam/done"
        assert len(mine.calls) == 1 and len(default.calls) == 2
        client.send("/diffjam/generate", "ss", "r4", json.dumps({"model": "other"}))
        address, args = client.recv()  # refused at once, before the queue
        assert address == "/diffjam/error"
        assert args[:2] == ["r4", ErrorCode.BAD_PARAMS]
        assert "unknown model 'other'; this engine serves: base, mine" in args[3]
    finally:
        client.close()
        server.shutdown()
        thread.join(WAIT_S)


def test_one_model_engine_refuses_other_names(tmp_path: Path) -> None:
    pipeline = FakePipeline()
    runner = PipelineRunner(pipeline, output_dir=tmp_path)
    assert runner._pipeline(None, "r") is pipeline
    assert runner._pipeline("fake-model", "r") is pipeline
    with pytest.raises(Exception, match="serves one model"):
        runner._pipeline("mine", "r")
