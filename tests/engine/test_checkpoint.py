import json

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from engine.checkpoint import load_model, model_files, read_metadata, save_model
from engine.errors import ModelFileError
from engine.model import DenoiserNet, ModelConfig
from tests.engine.conftest import TINY


def test_model_file_describes_itself(tmp_path):
    net = DenoiserNet(TINY)
    path = tmp_path / "m.safetensors"
    save_model(path, net.state_dict(), TINY, info={"steps": 7})
    config, info = read_metadata(path)
    assert config == TINY and info == {"steps": 7}
    loaded, _ = load_model(path)
    for (name, a), (_, b) in zip(net.state_dict().items(), loaded.state_dict().items(),
                                 strict=True):
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


def _weights_equal(a: DenoiserNet, b: DenoiserNet) -> None:
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        torch.testing.assert_close(x, y, atol=1e-3, rtol=1e-3, msg=name)


def test_a_model_that_fits_stays_one_file(tmp_path):
    net = DenoiserNet(TINY)
    written = save_model(tmp_path / "m.safetensors", net.state_dict(), TINY,
                         max_shard_bytes=16 * 2**20)
    assert written == [tmp_path / "m.safetensors"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.safetensors"]
    assert model_files(tmp_path / "m.safetensors") == written
    assert model_files(tmp_path / "m") == written  # the base name finds it too


def test_a_large_model_is_split_into_shards_that_load_as_one(tmp_path):
    net = DenoiserNet(TINY)
    limit = 64_000  # bytes; the tiny model is ~180 kB in fp16
    written = save_model(tmp_path / "m.safetensors", net.state_dict(), TINY,
                         info={"steps": 3}, max_shard_bytes=limit)
    count = len(written)
    assert count >= 3
    assert [p.name for p in written] == [
        f"m-{i:05d}-of-{count:05d}.safetensors" for i in range(1, count + 1)
    ]
    assert all(p.stat().st_size <= limit for p in written)
    assert not (tmp_path / "m.safetensors").exists()
    # The name the single file would have, the base name and any shard all find the model.
    for name in (tmp_path / "m.safetensors", tmp_path / "m", written[0], written[-1]):
        config, info = read_metadata(name)
        assert config == TINY and info == {"steps": 3}
        loaded, _ = load_model(name)
        _weights_equal(net, loaded)
    # Saving again so that it fits one file removes the shards (one name, one model).
    save_model(tmp_path / "m.safetensors", net.state_dict(), TINY)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.safetensors"]


def test_shards_of_the_real_model_size_fit_16_mib(tmp_path):
    config = ModelConfig()  # the 10 M default: 20 MB in fp16
    net = DenoiserNet(config)
    written = save_model(tmp_path / "big.safetensors", net.state_dict(), config)
    assert len(written) == 2
    assert all(p.stat().st_size <= 16 * 2**20 for p in written)
    loaded, _ = load_model(tmp_path / "big.safetensors")
    _weights_equal(net, loaded)


def test_missing_mixed_or_damaged_shards_give_clear_errors(tmp_path):
    torch.manual_seed(0)
    first = DenoiserNet(TINY)
    written = save_model(tmp_path / "a" / "m.safetensors", first.state_dict(), TINY,
                         max_shard_bytes=64_000)
    # A missing shard.
    written[1].rename(tmp_path / "aside.safetensors")
    with pytest.raises(ModelFileError, match="missing: m-00002-of"):
        load_model(tmp_path / "a" / "m.safetensors")
    with pytest.raises(ModelFileError, match="missing"):
        read_metadata(written[0])
    # A shard from another save (other weights, same name and count).
    second = DenoiserNet(TINY)
    torch.nn.init.normal_(second.output.weight)
    other = save_model(tmp_path / "b" / "m.safetensors", second.state_dict(), TINY,
                       max_shard_bytes=64_000)
    assert len(other) == len(written)
    other[1].rename(written[1])
    with pytest.raises(ModelFileError, match="different saves"):
        load_model(written[0])
    # Shards of two counts side by side: the base name is ambiguous.
    save_model(tmp_path / "c" / "m.safetensors", first.state_dict(), TINY,
               max_shard_bytes=64_000)
    more = save_model(tmp_path / "d" / "m.safetensors", first.state_dict(), TINY,
                      max_shard_bytes=100_000)
    assert len(more) != len(written)
    for shard in more:
        shard.rename(tmp_path / "c" / shard.name)
    with pytest.raises(ModelFileError, match="side by side"):
        load_model(tmp_path / "c" / "m.safetensors")
    # A shard renamed to another position.
    e = save_model(tmp_path / "e" / "m.safetensors", first.state_dict(), TINY,
                   max_shard_bytes=64_000)
    e[0].rename(tmp_path / "e" / "tmp")
    e[1].rename(e[0])
    (tmp_path / "e" / "tmp").rename(e[1])
    with pytest.raises(ModelFileError, match="says it is shard 2"):
        load_model(e[0])


def test_a_weight_larger_than_a_shard_is_refused(tmp_path):
    net = DenoiserNet(TINY)
    with pytest.raises(ValueError, match="more than max_shard_bytes"):
        save_model(tmp_path / "m.safetensors", net.state_dict(), TINY, max_shard_bytes=5_000)


def test_damaged_weights_fail_the_digest(tmp_path):
    net = DenoiserNet(TINY)
    path = tmp_path / "m.safetensors"
    save_model(path, net.state_dict(), TINY)
    tensors = load_file(str(path))
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata()
    tensors["output.bias"] = tensors["output.bias"] + 1
    save_file(tensors, str(path), metadata=metadata)
    with pytest.raises(ModelFileError, match="digest"):
        load_model(path)


def _crafted(path, config: dict, tensors: dict) -> None:
    """A model file whose config was written by hand (no ModelConfig checks on the way)."""
    save_file(tensors, str(path), metadata={"format": "diffjam-model", "format_version": "1",
                                            "model_config": json.dumps(config), "info": "{}"})


@pytest.mark.parametrize(
    ("change", "text"),
    [
        ({"window_bars": 0}, "window_bars must be an integer in 1..256"),
        ({"window_bars": 1.5}, "window_bars"),
        ({"attention_heads": 0}, "attention_heads must be an integer"),
        ({"attention_heads": -2}, "attention_heads"),
        ({"widths": [-16, 32]}, "widths must be multiples of 8"),
        ({"widths": [16, 20]}, "widths must be multiples of 8"),
        ({"widths": [16]}, "two to five levels"),
        ({"widths": [16] * 6}, "two to five levels"),
        ({"widths": "abc"}, "widths"),
        ({"blocks_per_level": 0}, "blocks_per_level"),
        ({"dropout": 1.0}, "dropout"),
        ({"n_pitches": 88}, "n_pitches must be 80"),
        ({"stem": "pitch2d", "stem_channels": 12, "stem_heads": 2}, "stem_channels"),
        ({"stem_heads": 0}, "stem_heads"),
    ],
)
def test_a_crafted_config_is_a_clear_error(tmp_path, change, text):
    path = tmp_path / "crafted.safetensors"
    _crafted(path, {**TINY.to_dict(), **change}, {"w": torch.zeros(1)})
    with pytest.raises(ModelFileError, match=text):
        load_model(path)
    with pytest.raises(ValueError, match=text):
        ModelConfig.from_dict({**TINY.to_dict(), **change})


def test_a_huge_config_with_few_weights_is_refused_before_it_allocates(tmp_path):
    path = tmp_path / "huge.safetensors"
    _crafted(path, {**TINY.to_dict(), "widths": [4096] * 5, "blocks_per_level": 16},
             {"w": torch.zeros(1)})
    with pytest.raises(ModelFileError, match="does not match its own config: weights missing"):
        load_model(path)


def test_non_finite_weights_are_refused(tmp_path):
    net = DenoiserNet(TINY)
    state = {k: v.clone() for k, v in net.state_dict().items()}
    name = next(k for k, v in state.items() if v.is_floating_point() and v.numel() > 1)
    state[name].view(-1)[0] = float("nan")
    path = tmp_path / "nan.safetensors"
    save_model(path, state, TINY, dtype=torch.float32)
    with pytest.raises(ModelFileError, match=f"{name}.*NaN or infinite"):
        load_model(path)
