import pytest
import torch

from engine.model import Conditioning, DenoiserNet, ModelConfig
from tests.engine.conftest import TINY


def make_inputs(batch=2, steps=32):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch, 2, steps, 80, generator=gen)
    t = torch.rand(batch, generator=gen)
    return x, t


def test_output_has_the_input_shape():
    net = DenoiserNet(TINY).eval()
    x, t = make_inputs()
    out = net(x, t, Conditioning(task=torch.zeros(2, dtype=torch.long)))
    assert out.shape == x.shape and out.dtype == torch.float32


def test_steps_must_be_whole_bars():
    net = DenoiserNet(TINY)
    x, t = make_inputs(steps=24)
    with pytest.raises(ValueError, match="multiple of 16"):
        net(x, t, Conditioning(task=torch.zeros(2, dtype=torch.long)))


def test_an_absent_condition_has_no_effect_whatever_its_tensor_holds():
    torch.manual_seed(0)
    net = DenoiserNet(TINY).eval()
    torch.nn.init.normal_(net.output.weight, std=0.1)
    x, t = make_inputs()
    task = torch.zeros(2, dtype=torch.long)
    chroma = torch.rand(2, 32, 12)
    absent = Conditioning(task=task, chroma=chroma, bass=chroma, chords_present=torch.zeros(2))
    other = Conditioning(task=task, chroma=1 - chroma, bass=chroma,
                         chords_present=torch.zeros(2))
    present = Conditioning(task=task, chroma=chroma, bass=chroma, chords_present=torch.ones(2))
    with torch.no_grad():
        a, b, c = net(x, t, absent), net(x, t, other), net(x, t, present)
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, c)


def test_config_round_trips_and_rejects_unknown_keys():
    config = ModelConfig(widths=(16, 32), attention_heads=2)
    assert ModelConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="unknown ModelConfig keys"):
        ModelConfig.from_dict({**config.to_dict(), "widht": 3})
