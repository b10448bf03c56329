"""The graph sampler (engine.graphs): its loop gives what the eager sampler gives, its
plans are kept per window shape, and on CUDA its captured graphs replay the eager loop."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from engine.bench import synthetic_clip, synthetic_infill
from engine.graphs import GraphSampler, WindowRequest
from engine.guidance import GuidedDenoiser, guided_steps
from engine.model import Conditioning, DenoiserNet
from engine.pianoroll import N_PITCHES
from engine.pipeline import Pipeline, SamplingOptions

from .conftest import TINY


@pytest.fixture(scope="module")
def pipelines(tiny_model_file: Path):
    eager = Pipeline.load(tiny_model_file, device="cpu", graphs=False)
    graphed = Pipeline.load(tiny_model_file, device="cpu", graphs=True)
    yield eager, graphed
    eager.close()
    graphed.close()


CHORDS, CONTEXT, GAP = synthetic_infill(16)  # bars 5-12 of 16
_, MELODY, _ = synthetic_clip(16)

REQUESTS = {
    # guided at every step, one 16-bar window
    "infill given chords": lambda p, o: p.infill(CONTEXT, n_bars=16, bars=GAP, chords=CHORDS,
                                                 options=o),
    # from the draft of the bars the gap repeats: fewer steps, a noised start
    "infill without chords": lambda p, o: p.infill(CONTEXT, n_bars=16, bars=GAP, options=o),
    # guided only at t <= 0.6, a melody, the register projection, two 8-bar windows whose
    # second holds each variation's own first bars
    "accompaniment": lambda p, o: p.accompany(CHORDS, n_bars=14, melody=MELODY, options=o),
    # the bass projection (engine.guidance.BassProjection) inside the loop
    "accompaniment, the bass anchored": lambda p, o: p.accompany(
        CHORDS, n_bars=14, melody=MELODY, options=replace(o, bass_anchor=True)),
    # the binarize projection, the density hint
    "binarized with a hint": lambda p, o: p.generate(
        n_bars=8, chords=CHORDS[:8],
        options=SamplingOptions(seed=o.seed, variations=2, binarize=True, density=12.0)),
}


@pytest.mark.parametrize("name", list(REQUESTS))
def test_the_graph_samplers_loop_gives_the_eager_samplers_notes(pipelines, name):
    eager, graphed = pipelines
    options = SamplingOptions(seed=11, variations=2, candidates=1)
    expected = REQUESTS[name](eager, options)
    got = REQUESTS[name](graphed, options)
    assert got.nfe == expected.nfe
    assert [len(v) for v in expected.variations] != [0, 0]
    assert got.variations == expected.variations


def test_plans_are_kept_per_window_shape_and_the_oldest_dropped(tiny_model_file):
    pipeline = Pipeline.load(tiny_model_file, device="cpu", graphs=True)
    sampler = pipeline._graphs
    assert sampler is not None
    sampler.capacity = 2
    try:
        run = REQUESTS["infill given chords"]
        run(pipeline, SamplingOptions(seed=1))
        run(pipeline, SamplingOptions(seed=2))  # the same shape: the same plan
        assert len(sampler) == 1
        run(pipeline, SamplingOptions(seed=3, variations=3))  # another batch
        assert len(sampler) == 2
        REQUESTS["accompaniment"](pipeline, SamplingOptions(seed=4))  # a third: one dropped
        assert len(sampler) == 2
        assert sampler.captured == 0  # on the CPU nothing is captured
    finally:
        pipeline.close()


def test_guided_steps_are_the_steps_at_or_below_the_interval_with_chords_to_drop():
    times = torch.linspace(1.0, 0.0, 21)  # steps at t = 1.0, 0.95, ..., 0.05
    assert guided_steps(times, scale=4.0, below=0.55, conditional=True) == \
        (False,) * 9 + (True,) * 11  # 0.55 itself is guided (float32, as the sampler compares)
    assert guided_steps(times, scale=4.0, below=1.0, conditional=True) == (True,) * 20
    assert guided_steps(times, scale=1.0, below=0.6, conditional=True) == (False,) * 20
    assert guided_steps(times, scale=4.0, below=1.0, conditional=False) == (False,) * 20
    # the guided denoiser decides a step the same way
    guider = GuidedDenoiser(DenoiserNet(TINY), _COND, _COND, 4.0, below=0.55)
    assert [guider.guides(t.reshape(1)) for t in times[:-1]] == [False] * 9 + [True] * 11


_COND = Conditioning(task=torch.zeros(1, dtype=torch.long))


def _request(net: DenoiserNet, times: torch.Tensor, batch: int = 2) -> WindowRequest:
    steps = 64
    mask = torch.zeros(1, steps)
    mask[:, :16] = 1.0
    return WindowRequest(
        net=net, batch=batch, task=0, times=times,
        known=-torch.ones(1, 2, steps, N_PITCHES) * mask[:, None, :, None], mask=mask,
        has_known=True, chroma=torch.zeros(1, steps, 12), bass=torch.zeros(1, steps, 12),
        has_chords=False, melody=None, rhythm=None, allowed=None, draft=None,
        guidance=1.0, guidance_below=1.0, binarize=False)


def test_a_schedule_that_does_not_end_at_zero_is_refused():
    sampler = GraphSampler(torch.device("cpu"))
    with pytest.raises(ValueError, match="ends at t = 0"):
        sampler.sample(_request(DenoiserNet(TINY), torch.tensor([1.0, 0.5])),
                       torch.Generator())


def test_the_steps_are_reported_once_the_loop_has_run():
    seen: list[tuple[int, int]] = []
    sampler = GraphSampler(torch.device("cpu"))
    out = sampler.sample(_request(DenoiserNet(TINY).eval(), torch.linspace(1.0, 0.0, 4)),
                         torch.Generator().manual_seed(0), lambda i, n: seen.append((i, n)))
    assert seen == [(0, 3), (1, 3), (2, 3)]
    assert out.shape == (2, 2, 64, N_PITCHES) and out.device.type == "cpu"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA graphs need a GPU")
def test_a_captured_graph_replays_the_eager_loop_with_new_inputs():
    torch.manual_seed(0)
    net = DenoiserNet(TINY).cuda().eval()
    torch.nn.init.normal_(net.output.weight, std=0.05)
    device = torch.device("cuda")
    graphed, eager = GraphSampler(device), GraphSampler(device, capture=False)
    for seed, start in ((1, 1.0), (2, 0.7), (3, 0.4)):  # one graph: the same shape
        request = _request(net, torch.linspace(start, 0.0, 4), batch=3)
        a = graphed.sample(request, torch.Generator(device=device).manual_seed(seed))
        b = eager.sample(request, torch.Generator(device=device).manual_seed(seed))
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)
    assert graphed.captured == 1


def test_warming_up_makes_the_plans_of_the_default_requests(tiny_model_file):
    graphed = Pipeline.load(tiny_model_file, device="cpu", graphs=True)
    eager = Pipeline.load(tiny_model_file, device="cpu", graphs=False)
    try:
        assert graphed.warm_up() == 3
        assert graphed.warm_up() == 0  # the same shapes again: nothing new
        assert eager.warm_up() == 0
        assert not graphed.info()["cuda_graphs"]  # on the CPU nothing is captured
    finally:
        graphed.close()
        eager.close()
