import pytest
import torch

from engine.model import Conditioning, DenoiserNet, EncodedConditions, ModelConfig
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


STEM = ModelConfig(widths=(16, 32), blocks_per_level=1, attention_layers=1, attention_heads=2,
                   stem="pitch2d", stem_channels=4, stem_layers=1, stem_heads=1)


def _randomise(net: torch.nn.Module) -> None:
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for param in net.parameters():
            param.copy_(torch.randn(param.shape, generator=gen) * 0.1)


def test_the_pitch_stem_runs_and_keeps_the_shape():
    net = DenoiserNet(STEM).eval()
    _randomise(net)
    x, t = make_inputs()
    chroma = torch.zeros(2, 32, 12)
    chroma[:, :, [0, 4, 7]] = 1.0
    cond = Conditioning(task=torch.zeros(2, dtype=torch.long), chroma=chroma, bass=chroma)
    with torch.no_grad():
        out = net(x, t, cond)
    assert out.shape == x.shape and torch.isfinite(out).all()


def test_a_stem_model_initialised_from_a_plain_one_computes_the_same():
    plain_config = ModelConfig(**{**STEM.to_dict(), "stem": "none"})
    plain = DenoiserNet(plain_config).eval()
    _randomise(plain)
    stemmed = DenoiserNet(STEM).eval()
    missing, unexpected = stemmed.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and all(k.startswith("stem_") for k in missing)
    x, t = make_inputs()
    cond = Conditioning(task=torch.zeros(2, dtype=torch.long))
    with torch.no_grad():
        torch.testing.assert_close(stemmed(x, t, cond), plain(x, t, cond))


def test_pitch_row_attention_sees_far_along_time_within_a_pitch_only():
    from engine.model import PitchRowAttention

    torch.manual_seed(0)
    layer = PitchRowAttention(4, 1).eval()
    layer.norm = torch.nn.Identity()  # its statistics are shared across rows; not under test
    torch.nn.init.normal_(layer.out.weight, std=0.5)
    h = torch.randn(1, 4, 64, 6)
    changed = h.clone()
    changed[0, :, 60, 2] += 3.0  # one cell, far along time, at pitch row 2
    with torch.no_grad():
        delta = (layer(changed) - layer(h)).abs().sum(dim=1)[0]  # (T, P)
    assert delta[0, 2] > 1e-4  # step 0 of the same row hears step 60
    assert delta[:, [0, 1, 3, 4, 5]].max() == 0.0  # other pitch rows do not


def test_inside_pausing_a_pass_pauses_between_its_parts_and_computes_the_same(monkeypatch):
    import threading

    from engine import model

    # 5 rolls x 80 pitch rows in chunks of 80: the stem's attention pauses 5 times
    monkeypatch.setattr(model, "ATTENTION_ROWS_PER_PAUSE", 80)
    net = DenoiserNet(STEM).eval()
    _randomise(net)
    x, t = make_inputs(batch=5)
    cond = Conditioning(task=torch.zeros(5, dtype=torch.long))
    served: list[str] = []
    with torch.no_grad():
        whole = net(x, t, cond)
        with model.pausing(lambda: served.append("main")):
            paused = net(x, t, cond)
            # another thread's passes do not call this thread's serve
            other = threading.Thread(target=lambda: net(x, t, cond))
            other.start()
            other.join()
            calls = len(served)
            with model.pausing(lambda: served.append("inner")):  # the innermost counts
                net(x, t, cond)
        net(x, t, cond)  # outside: no pauses
    assert torch.equal(paused, whole)
    # the stem block, 5 attention chunks, 2 down blocks, the middle, 2 up blocks
    assert calls == 11
    assert served == ["main"] * 11 + ["inner"] * 11


def test_a_bad_stem_config_is_refused():
    with pytest.raises(ValueError, match="stem"):
        ModelConfig(stem="conv3d")
    with pytest.raises(ValueError, match="stem_channels"):
        ModelConfig(stem="pitch2d", stem_channels=6, stem_heads=2)


def _one_layer_reference(net, x, t, cond):
    """The first layers as one convolution over the noisy roll and the conditions
    together (the network before it encoded its conditions apart), the rest as is."""
    b, _, steps, p = x.shape
    zeros_roll, zeros_step = torch.zeros(b, 2, steps, p), torch.zeros(b, steps)
    flags = cond.flags(b, x.device)
    known = cond.known * flags[:, 0, None, None, None]
    mask = cond.mask * flags[:, 0, None]
    chroma, bass = cond.chroma * flags[:, 1, None, None], cond.bass * flags[:, 1, None, None]

    def per_step(roll):
        return roll.permute(0, 1, 3, 2).reshape(b, 2 * p, steps)

    features = torch.cat([per_step(x), per_step(known), per_step(zeros_roll), mask[:, None],
                          zeros_step[:, None], chroma.transpose(1, 2), bass.transpose(1, 2)], 1)
    cells = torch.cat([x, known, zeros_roll, mask[:, None, :, None].expand(b, 1, steps, p),
                       zeros_step[:, None, :, None].expand(b, 1, steps, p),
                       chroma[:, None][..., net.pitch_class],
                       bass[:, None][..., net.pitch_class]], 1)
    positions = torch.arange(steps) % 16
    whole = EncodedConditions(
        net.input(features) - torch.nn.functional.conv1d(
            per_step(x), net.input.weight[:, :2 * p], None, padding=1)
        + net.step_in_bar(positions).T[None],
        net.stem_in(cells) - torch.nn.functional.conv2d(
            x, net.stem_in.weight[:, :2], None, padding=1),
        net.flag_embed(flags) + net.task_embed(cond.task))
    return net(x, t, None, whole)


def test_conditions_encoded_once_give_every_pass_the_same_result():
    # a window's passes share one encoding of its conditions (engine.guidance), and a
    # batch whose rows share their conditions needs only one row of it (engine.graphs)
    torch.manual_seed(0)
    net = DenoiserNet(STEM).eval()
    _randomise(net)
    torch.nn.init.normal_(net.stem_fold.weight, std=0.1)
    x, t = make_inputs(batch=3)
    gen = torch.Generator().manual_seed(1)
    known = torch.randn(1, 2, 32, 80, generator=gen).sign()
    mask = (torch.rand(1, 32, generator=gen) > 0.5).float()
    chroma = (torch.rand(1, 32, 12, generator=gen) > 0.6).float()

    def cond(rows):
        return Conditioning(task=torch.ones(rows, dtype=torch.long),
                            known=known.expand(rows, -1, -1, -1), mask=mask.expand(rows, -1),
                            chroma=chroma.expand(rows, -1, -1), bass=chroma.expand(rows, -1, -1),
                            chords_present=torch.tensor([1.0] * rows))

    with torch.no_grad():
        each = net(x, t, cond(3))
        torch.testing.assert_close(net(x, t, None, net.encode(cond(1))), each)
        encoded = net.encode(cond(3))
        torch.testing.assert_close(net(x, t, None, encoded), each)
        torch.testing.assert_close(net(x.flip(0), t.flip(0), None, encoded),
                                   net(x.flip(0), t.flip(0), cond(3)))
        # and the split layers compute what one layer over everything computed
        torch.testing.assert_close(_one_layer_reference(net, x, t, cond(3)), each,
                                   rtol=1e-5, atol=1e-5)


def test_the_stacked_film_layer_gives_each_block_its_own_film():
    from engine.model import _film

    torch.manual_seed(0)
    net = DenoiserNet(STEM).eval()
    _randomise(net)
    emb = torch.randn(3, net.time_mlp[-1].out_features)
    with torch.no_grad():
        stacked = net._films(emb, net.film_layer())
        blocks = net.film_blocks()
        assert len(stacked) == len(blocks) == len(net.stem_blocks) + sum(
            len(level) for level in [*net.down, *net.up])
        for (scale, shift), block in zip(stacked, blocks, strict=True):
            own_scale, own_shift = _film(block.film, emb)
            torch.testing.assert_close(scale, own_scale)
            torch.testing.assert_close(shift, own_shift)
