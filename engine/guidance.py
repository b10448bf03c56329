"""Denoiser wrappers: the network as a denoiser, classifier-free guidance, in-key
projection, the bass projection and inpainting. They stack (:func:`denoiser_stack`):
``Inpaint(BassProjection(InKeyProjection(Binarize(GuidedDenoiser(...)))))``.

Shapes: x_t and every returned x0 estimate are float32 (B, 2, T, P) in data units
(-1 silence, +1 note); t is float32 (B,) in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from engine.diffusion import x0_from_v
from engine.model import Conditioning, DenoiserNet, EncodedConditions
from engine.pianoroll import N_PITCHES, PITCH_LOW
from engine.samplers import Denoiser


@dataclass(frozen=True)
class GuidedDenoiser:
    """The network as a denoiser, with classifier-free guidance (Ho & Salimans 2022).

    1. v = net(x_t, t, cond)                                   when ``scale == 1``;
    2. v = v_u + scale * (v_c - v_u), with v_c from ``cond`` and v_u from ``uncond``,
       evaluated as one batch of 2B                             otherwise (eq. 6);
    3. x0 = alpha x_t - sigma v, clipped to the data range [-1, 1].

    ``uncond`` is the same conditioning with the guided conditions marked absent.
    At scale 1 there is no unconditional pass.

    The conditions' share of a pass (:meth:`DenoiserNet.encode`) is computed at the first
    step and read by every later one (a denoiser serves one sampling loop);
    ``encoded`` and ``encoded_uncond`` give it instead (one row where every row shares
    them).

    ``below``: guidance only at noise times ``t <= below``, the conditional prediction
    alone above (guidance in a limited interval, Kynkaenniemi et al. 2024); 1 guides
    every step. ``above``: and only at times ``t > above`` (0: down to the last step),
    so the interval is ``(above, below]``. A step whose times all lie outside it costs
    one pass. ``t`` may differ per example (distillation): each example is guided by
    its own time.
    """

    net: DenoiserNet
    cond: Conditioning
    uncond: Conditioning | None = None
    scale: float = 1.0
    below: float = 1.0
    encoded: EncodedConditions | None = None
    encoded_uncond: EncodedConditions | None = None
    above: float = 0.0
    _pair: EncodedConditions | None = field(default=None, init=False, repr=False,
                                            compare=False)

    def _encoded(self, steps: int, guided: bool) -> EncodedConditions:
        """The conditions of a pass (the guided pair's when ``guided``), encoded at the
        first step that needs them and kept for the rest."""
        if self.encoded is None:
            object.__setattr__(self, "encoded", self.net.encode(self.cond, steps))
        assert self.encoded is not None
        if not guided:
            return self.encoded
        if self._pair is None:
            assert self.uncond is not None
            uncond = self.encoded_uncond if self.encoded_uncond is not None \
                else self.net.encode(self.uncond, steps)
            object.__setattr__(self, "_pair", EncodedConditions.stack(
                self.encoded, uncond, self.cond.task.shape[0]))
        assert self._pair is not None
        return self._pair

    def guides(self, t: torch.Tensor) -> bool:
        """Whether a step at times ``t`` (B,) runs the guided pair (two passes a window)
        rather than the conditional pass alone."""
        return _guided_at(t, scale=self.scale, below=self.below,
                          conditional=self.uncond is not None, above=self.above)

    def __call__(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        uncond = self.uncond
        steps = x_t.shape[2]
        if uncond is None or not self.guides(t):
            v = self.net(x_t, t, self.cond, self._encoded(steps, guided=False))
        else:
            v_c, v_u = self.net(torch.cat([x_t, x_t]), torch.cat([t, t]), None,
                                self._encoded(steps, guided=True)).chunk(2)
            inside = _in_interval(t, above=self.above, below=self.below)
            scale = torch.where(inside, self.scale, 1.0).to(v_c.dtype)
            v = v_u + scale.view(-1, *([1] * (v_c.dim() - 1))) * (v_c - v_u)
        return x0_from_v(x_t, v.float(), t).clamp(-1.0, 1.0)


@dataclass(frozen=True)
class Binarize:
    """Projection of the x0 estimate onto the set a roll can take, {-1, +1} per cell.

    A roll is binary and ~98 % silent. A model that is unsure at middle noise levels
    predicts soft values near 0 over many cells; DDIM then carries those into x_t and
    the trajectory drifts off the data (measured on the valid split with an early
    checkpoint: 10-step DDIM gave 10 % of cells on against 2 % in the data; with this
    projection 1.8 %). Thresholding the estimate at every step keeps x_t on the path to
    a binary roll; the noise part of x_t still carries the sampler's randomness.
    """

    inner: Denoiser

    def __call__(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        x0 = self.inner(x_t, t)
        return torch.where(x0 > 0, torch.ones_like(x0), -torch.ones_like(x0))


# The pitch class of each roll row.
ROW_PITCH_CLASS = (np.arange(N_PITCHES) + PITCH_LOW) % 12


def chord_tone_pitches(chroma: np.ndarray, bass: np.ndarray, elsewhere: np.ndarray
                       ) -> np.ndarray:
    """Bool (..., T, P), the pitch set "chord" of :class:`InKeyProjection`: where a chord
    sounds (``chroma`` (..., T, 12) and one-hot ``bass`` (..., T, 12), as the network reads
    them), the rows of its tones and its bass; where none sounds, the rows of the pitch
    classes ``elsewhere`` (bool, broadcast to (..., T, 12)). The sampler
    (engine.pipeline) and the distiller's teacher (engine.distill) both project with it."""
    sounding = chroma.any(axis=-1, keepdims=True)
    classes = np.where(sounding, (chroma > 0) | (bass > 0), elsewhere)
    return classes[..., ROW_PITCH_CLASS]


@dataclass(frozen=True)
class InKeyProjection:
    """Fine-grained in-key projection (after Zhu et al. 2024, section 3.3).

    At every step the x0 estimate is edited so that every pitch outside the allowed set
    is silent (-1 in both channels); the sampler then recomputes the noise from the
    edited x0, so the trajectory itself moves onto in-key pitches. ``allowed`` is a bool
    tensor (T, P) or (B, T, P): the allowed pitches per step (the key's scale, the scale
    and the chord of that step, or that chord's tones alone). After the last step the
    output holds only allowed pitches.
    """

    inner: Denoiser
    allowed: torch.Tensor

    def __call__(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        x0 = self.inner(x_t, t)
        allowed = self.allowed if self.allowed.dim() == 3 else self.allowed[None]
        return torch.where(allowed[:, None], x0, torch.full_like(x0, -1.0))


@dataclass(frozen=True)
class BassProjection:
    """The chord's bass at the bottom, where the sample itself places it (an accompaniment's
    ``SamplingOptions.bass_anchor``; measured in docs/model-card.md, "The bass under G2").

    At every step, in each chord span of the window, the lowest pitch on the chord's bass
    pitch class that the x0 estimate sounds anywhere in the span anchors it: every other
    pitch below the anchor is silenced in that estimate (-1 in both channels), at the steps
    that are not known. A span whose estimate sounds no bass pitch, and steps without a
    chord, are left alone. ``rows``: bool (T, P), the pitches on each step's bass, every
    pitch where no chord sounds (:func:`engine.register.bass_rows`); ``span``: int64 (T,),
    each step's chord span numbered from 0 in the window
    (:func:`engine.register.chord_spans`); both fixed for a window, made once on the host.
    ``mask``: (B, T), 1 where known.
    """

    inner: Denoiser
    rows: torch.Tensor
    span: torch.Tensor
    mask: torch.Tensor

    def __call__(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        x0 = self.inner(x_t, t)
        b, p = x0.shape[0], x0.shape[-1]
        on = (x0 > 0).any(dim=1)  # (B, T, P): an onset or a sustain
        pitch = torch.arange(p, device=x0.device)
        lowest = torch.where(on & self.rows, pitch, p).amin(dim=-1)  # (B, T); p: none
        span = self.span.expand(b, -1)
        anchor = torch.full_like(lowest, p).scatter_reduce(
            1, span, lowest, reduce="amin").gather(1, span)  # (B, T)
        anchor = torch.where(anchor == p, 0, anchor)  # a span without a bass: nothing below
        silence = (pitch < anchor[..., None]) & ~self.rows & (self.mask < 0.5)[..., None]
        return torch.where(silence[:, None], torch.full_like(x0, -1.0), x0)


@dataclass(frozen=True)
class Inpaint:
    """Inpainting by x0 replacement: the known part of the roll is written into every x0
    estimate, so each DDIM step moves x_t towards a roll that agrees with it exactly
    (the network also sees ``known`` and ``mask`` as conditions, which is what keeps the
    seams continuous; the replacement only guarantees the known steps are kept).

    ``known``: (B, 2, T, P) data units; ``mask``: (B, T) float, 1 where known.
    """

    inner: Denoiser
    known: torch.Tensor
    mask: torch.Tensor

    def __call__(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        x0 = self.inner(x_t, t)
        keep = self.mask[:, None, :, None] > 0.5
        return torch.where(keep, self.known, x0)


def denoiser_stack(guider: GuidedDenoiser, *, binarize: bool, allowed: torch.Tensor | None,
                   known: torch.Tensor, mask: torch.Tensor,
                   bass_anchor: tuple[torch.Tensor, torch.Tensor] | None = None) -> Denoiser:
    """The sampler's denoiser: ``Inpaint(BassProjection(InKeyProjection(Binarize(guider))))``,
    each layer only where asked for (``binarize``; ``allowed`` None: no projection;
    ``bass_anchor``: the window's ``(rows, span)`` for :class:`BassProjection`, None:
    none). The pipeline's eager sampler and the CUDA-graph sampler (:mod:`engine.graphs`)
    both build it here."""
    denoiser: Denoiser = guider
    if binarize:
        denoiser = Binarize(denoiser)
    if allowed is not None:
        denoiser = InKeyProjection(denoiser, allowed)
    if bass_anchor is not None:
        denoiser = BassProjection(denoiser, *bass_anchor, mask)
    return Inpaint(denoiser, known, mask)


def guided_steps(times: torch.Tensor, *, scale: float, below: float, conditional: bool,
                 above: float = 0.0) -> tuple[bool, ...]:
    """Per step of the schedule ``times`` (k + 1,), whether :class:`GuidedDenoiser` runs the
    guided pair there (two passes) rather than the conditional pass alone: only with a
    scale other than 1, chords to drop (``conditional``) and a time in ``(above, below]``
    (the rule of :meth:`GuidedDenoiser.guides`)."""
    return tuple(_guided_at(t, scale=scale, below=below, conditional=conditional,
                            above=above) for t in times[:-1])


def _guided_at(t: torch.Tensor, *, scale: float, below: float, conditional: bool,
               above: float = 0.0) -> bool:
    """Guidance runs at times ``t`` (any shape, compared in their dtype) when the scale is
    not 1, there are conditions to drop, and some time lies in ``(above, below]``."""
    if scale == 1.0 or not conditional:
        return False
    return bool(_in_interval(t, above=above, below=below).any())


def _in_interval(t: torch.Tensor, *, above: float, below: float) -> torch.Tensor:
    """Which times ``t`` lie in the guidance interval ``(above, below]``: the one rule of
    :func:`_guided_at` (whether a step runs the guided pair) and of
    :meth:`GuidedDenoiser.__call__` (which rows of it take the scale)."""
    return (t <= below) & (t > above)
