import pytest
import torch
from safetensors.torch import save_file

from engine.checkpoint import load_model, read_metadata, save_model
from engine.errors import ModelFileError
from engine.model import DenoiserNet
from tests.engine.conftest import TINY


def test_model_file_describes_itself(tmp_path):
    net = DenoiserNet(TINY)
    path = tmp_path / "m.safetensors"
    save_model(path, net.state_dict(), TINY, info={"steps": 7})
    config, info = read_metadata(path)
    assert config == TINY and info == {"steps": 7}
    loaded, _ = load_model(path)
    for (name, a), (_, b) in zip(net.state_dict().items(), loaded.state_dict().items()):
        torch.testing.assert_close(a, b, atol=1e-3, rtol=1e-3, msg=name)  # stored as fp16


def test_missing_and_foreign_files_give_clear_errors(tmp_path):
    with pytest.raises(ModelFileError, match="not found"):
        load_model(tmp_path / "nope.safetensors")
    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, str(foreign))
    with pytest.raises(ModelFileError, match="not a diffjam model"):
        load_model(foreign)
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x00" * 10)
    with pytest.raises(ModelFileError):
        load_model(garbage)
