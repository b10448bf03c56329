"""Sampling a window on a GPU without launches: the whole DDIM loop captured once per
window shape as a CUDA graph, then replayed.

Why: on an H200 an 8-bar infill ran ~100 ms eagerly, almost all of it kernel launches
(a pass of the network is ~0.1 ms of arithmetic). A CUDA graph records every kernel of
the sampler's steps once and replays them with one launch (the CUDA programming guide,
"CUDA Graphs"; ``torch.cuda.graph``).

What one window costs, in order (:meth:`GraphSampler.sample`):

1. the request's inputs are copied into the graph's static buffers: one row for the
   conditions every row of the batch shares (chords, melody, rhythm, the known part of
   a first window, the draft), the batch only where rows differ (the known part of a
   later window of a long clip, which holds each variation's own bars);
2. the starting noise is drawn on the device (no host noise, no upload of it);
3. the graph replays: each row expanded to the batch, the draft noised to the first
   time, then per step the network (with the classifier-free guidance pair where the
   step is guided), the binarize and pitch projections, inpainting and the DDIM update
   (:func:`engine.samplers.ddim_step`), the schedule read from a device buffer;
4. the final estimate is copied back to the host: the one synchronisation.

A graph is keyed by everything that fixes its kernels (network, batch, window length,
steps, which conditions are present, the guided steps, the projections). The first
request of a shape captures its graph (a few eager runs and the capture); later ones
replay it. Capture needs CUDA; elsewhere, or when capture fails, the same loop runs
eagerly (``capture=False``), which is also what tests check against the pipeline's
eager sampler (:func:`engine.samplers.sample_ddim`).

Only DDIM with eta 0 runs here (DDPM draws fresh noise at every step on the host). A
seeded request is reproducible on the same device; the CPU and the GPU draw different
noise for the same seed.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch

from engine.diffusion import alpha_sigma
from engine.guidance import GuidedDenoiser, denoiser_stack, guided_steps
from engine.model import Conditioning, DenoiserNet
from engine.samplers import ddim_step

__all__ = ["GraphSampler", "WindowRequest"]

logger = logging.getLogger(__name__)

# Graphs kept at once (least recently used dropped first). Each holds its own memory for
# the activations of its batch and window: on the H200 the bench's 17 window shapes (8-
# and 16-bar windows, batches 1 to 16) peaked at 714 MiB allocated with every model
# loaded (docs/bench/bench-cuda.json).
DEFAULT_CAPACITY = 12
# Eager runs before a capture (CUDA's lazy initialisation and cuDNN's choices happen there).
WARMUP_RUNS = 2
# A WindowRequest's tensors, by field name (a graph keeps a static device copy of each)
WINDOW_TENSORS = ("times", "known", "mask", "chroma", "bass", "melody", "rhythm", "allowed",
                  "draft", "anchor_rows", "anchor_span")


@dataclass(frozen=True)
class WindowRequest:
    """One window of a generation (engine.pipeline), as host (CPU) tensors.

    Shapes (``R`` = 1 when every row of the batch shares it, else ``batch``; T = steps of
    the window, P = pitches): ``known`` float32 (R, 2, T, P) in data units with the unknown
    steps 0, ``mask`` float32 (R, T), 1 where known; ``chroma`` and ``bass`` float32 (1, T,
    12); ``melody`` float32 (1, 2, T, P) or None; ``rhythm`` float32 (1, T) or None;
    ``allowed`` bool (T, P) or None (no projection); ``draft`` float32 (1, 2, T, P) or None
    (start from noise). ``times``: float32 (k + 1,), from the first time down to 0.
    """

    net: DenoiserNet
    batch: int
    task: int
    times: torch.Tensor
    known: torch.Tensor
    mask: torch.Tensor
    has_known: bool
    chroma: torch.Tensor
    bass: torch.Tensor
    has_chords: bool
    melody: torch.Tensor | None
    rhythm: torch.Tensor | None
    allowed: torch.Tensor | None
    draft: torch.Tensor | None
    guidance: float
    guidance_below: float
    binarize: bool
    # engine.guidance.BassProjection's rows bool (T, P) and span int64 (T,); None: none
    anchor_rows: torch.Tensor | None = None
    anchor_span: torch.Tensor | None = None

    def guided_steps(self) -> tuple[bool, ...]:
        """Per step, whether it runs the guided pair (as the eager sampler decides it)."""
        return guided_steps(self.times, scale=self.guidance, below=self.guidance_below,
                            conditional=self.has_chords)

    def tensors(self, device: torch.device) -> dict[str, torch.Tensor]:
        """This request's tensors (:data:`WINDOW_TENSORS` that are set) on ``device``."""
        return {name: value.to(device) for name in WINDOW_TENSORS
                if (value := getattr(self, name)) is not None}

    def conditioning(self, values: Mapping[str, torch.Tensor], rows: int) -> Conditioning:
        """The window's conditions for ``rows`` rows, from ``values`` (:meth:`tensors`, or a
        graph's static copies of them), each expanded from the rows it holds (1, or
        ``rows`` for a later window's known part)."""
        device = values["known"].device

        def expanded(name: str) -> torch.Tensor | None:
            value = values.get(name)
            return None if value is None else value.expand(rows, *value.shape[1:])

        return Conditioning(
            task=torch.full((rows,), self.task, dtype=torch.long, device=device),
            known=expanded("known"), mask=expanded("mask"),
            known_present=torch.full((rows,), float(self.has_known), device=device),
            chroma=expanded("chroma"), bass=expanded("bass"), melody=expanded("melody"),
            chords_present=torch.full((rows,), float(self.has_chords), device=device),
            rhythm=expanded("rhythm"),
            rhythm_present=None if self.rhythm is None else torch.ones(rows, device=device),
        )

    def key(self) -> tuple:
        """What fixes the graph's kernels."""
        return (id(self.net), self.batch, self.task, tuple(self.known.shape),
                len(self.times), self.has_known, self.has_chords,
                self.melody is not None, self.rhythm is not None,
                self.allowed is not None, self.draft is not None, self.binarize,
                self.anchor_rows is not None, self.guidance, self.guided_steps())


class _Plan:
    """One captured (or eager) sampling loop and its static buffers."""

    def __init__(self, request: WindowRequest, device: torch.device) -> None:
        self.device = device
        self.inputs = {name: torch.empty_like(value, device=device)
                       for name, value in request.tensors(torch.device("cpu")).items()}
        self.noise = torch.empty((request.batch, *request.known.shape[1:]), device=device)
        self.guided = request.guided_steps()
        self.request = request  # the fixed parts: network, flags, scale
        self.graph: torch.cuda.CUDAGraph | None = None
        self.output: torch.Tensor | None = None

    def load(self, request: WindowRequest, generator: torch.Generator) -> None:
        """Steps 1 and 2: the request's inputs into the static buffers, fresh noise."""
        for name, static in self.inputs.items():
            static.copy_(getattr(request, name), non_blocking=True)
        torch.randn(self.noise.shape, generator=generator, device=self.device,
                    out=self.noise)

    def body(self) -> torch.Tensor:
        """Step 3 on the static buffers: the sampling loop; returns the final estimate."""
        request, inputs, v = self.request, self.inputs, self.request.batch
        cond = request.conditioning(inputs, v)
        known, mask = cond.known, cond.mask
        assert known is not None and mask is not None
        # The conditions' share of every pass, once a window and on the rows that differ
        # (one where the batch shares them): engine.model.EncodedConditions.
        shared = request.conditioning(inputs, inputs["known"].shape[0])
        encoded = request.net.encode(shared)
        plain = GuidedDenoiser(request.net, cond, encoded=encoded)
        guided_pair = GuidedDenoiser(
            request.net, cond, cond.without_chords(), request.guidance, encoded=encoded,
            encoded_uncond=request.net.encode(shared.without_chords())
        ) if any(self.guided) else None
        anchor = ((inputs["anchor_rows"], inputs["anchor_span"])
                  if "anchor_rows" in inputs else None)
        denoisers = [denoiser_stack(guider, binarize=request.binarize,
                                    allowed=inputs.get("allowed"), known=known, mask=mask,
                                    bass_anchor=anchor)
                     if guider is not None else None for guider in (plain, guided_pair)]
        times = inputs["times"]
        x = self.noise
        draft = inputs.get("draft")
        if draft is not None:  # SDEdit: the draft noised to the first time
            alpha, sigma = alpha_sigma(times[0])
            x = alpha * draft + sigma * x  # the draft's one row broadcasts over the batch
        x0 = x
        steps = len(self.guided)
        for i, guided in enumerate(self.guided):
            denoiser = denoisers[1] if guided else denoisers[0]
            assert denoiser is not None
            t = times[i].expand(v)
            x0 = denoiser(x, t)
            if i < steps - 1:  # the last step lands on its estimate (times[-1] = 0)
                x = ddim_step(x, x0, t, times[i + 1].expand(v))
        return x0

    def capture(self) -> None:
        """Warm up on a side stream, then record :meth:`body` as a CUDA graph, on this
        plan's GPU. Only this thread's CUDA calls are held to the capture's rules
        (``thread_local``): another pipeline's model thread may run on the GPU meanwhile."""
        with torch.cuda.device(self.device):
            stream = torch.cuda.Stream(self.device)
            stream.wait_stream(torch.cuda.current_stream(self.device))
            with torch.cuda.stream(stream):
                for _ in range(WARMUP_RUNS):
                    self.body()
            torch.cuda.current_stream(self.device).wait_stream(stream)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph, capture_error_mode="thread_local"):
                self.output = self.body()
        self.graph = graph

    def run(self) -> torch.Tensor:
        """Step 3: replay the graph (or run the loop eagerly when there is none)."""
        if self.graph is None:
            return self.body()
        self.graph.replay()
        assert self.output is not None
        return self.output


class GraphSampler:
    """Per window shape, a DDIM loop captured as a CUDA graph (``capture``; the default on
    CUDA) or run eagerly; at most ``capacity`` graphs kept. Not thread-safe: the pipeline
    calls it from its model thread only."""

    def __init__(self, device: torch.device, *, capture: bool | None = None,
                 capacity: int = DEFAULT_CAPACITY) -> None:
        self.device = device
        self.capture = device.type == "cuda" if capture is None else capture
        self.capacity = capacity
        self._plans: OrderedDict[tuple, _Plan] = OrderedDict()
        self.captured = 0  # graphs recorded so far (a capture that failed not counted)

    def __len__(self) -> int:
        """The plans (window shapes) kept."""
        return len(self._plans)

    def sample(self, request: WindowRequest, generator: torch.Generator,
               on_step: Callable[[int, int], None] | None = None) -> torch.Tensor:
        """The window's final x0 estimate, float32 (batch, 2, T, P) on the host.
        ``generator`` draws the starting noise on this sampler's device; ``on_step(i, n)``
        is called for each step once the loop has run (a graph cannot stop midway)."""
        if float(request.times[-1]) != 0.0 or len(request.times) < 2:
            raise ValueError("the graph sampler runs a schedule that ends at t = 0")
        key = request.key()
        plan = self._plans.pop(key, None)
        with torch.inference_mode():
            if plan is None:
                plan = _Plan(request, self.device)
                plan.load(request, generator)
                if self.capture:
                    self._capture(plan, key)
            else:
                plan.load(request, generator)
            self._plans[key] = plan
            while len(self._plans) > self.capacity:
                self._plans.popitem(last=False)
            out = plan.run().float().cpu()
        if on_step is not None:
            steps = len(request.times) - 1
            for i in range(steps):
                on_step(i, steps)
        return out

    def _capture(self, plan: _Plan, key: tuple) -> None:
        try:
            plan.capture()
            self.captured += 1
            logger.debug("captured a CUDA graph for %s", key[1:])
        except RuntimeError as err:  # an op this torch cannot capture: run it eagerly
            logger.warning("CUDA graph capture failed (%s); this window shape runs eagerly",
                           err)
            plan.graph = None
            torch.cuda.synchronize(self.device)
