"""Samplers: plain functions over a denoiser.

A *denoiser* is any callable ``denoiser(x_t, t) -> x0_hat`` with x_t float32
(B, 2, T, P) in data units and t float32 (B,) in [0, 1]; it returns the clean-roll
estimate of the same shape. Classifier-free guidance, in-key projection and inpainting are
wrappers around a denoiser (:mod:`engine.guidance`), so every sampler gets them for free,
and because the samplers recompute the noise from the (possibly edited) x0 estimate, an
edit such as the in-key projection carries through to the next step.

``callback(step_index, n_steps)`` is called after every step; it may raise to stop.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from engine.diffusion import alpha_sigma, eps_from_x0, per_example

Denoiser = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Callback = Callable[[int, int], None]


def time_grid(n_steps: int) -> torch.Tensor:
    """n_steps + 1 uniformly spaced times from 1 (pure noise) down to 0."""
    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    return torch.linspace(1.0, 0.0, n_steps + 1)


def sample_ddim(
    denoiser: Denoiser,
    x: torch.Tensor,
    times: torch.Tensor,
    *,
    eta: float = 0.0,
    generator: torch.Generator | None = None,
    callback: Callback | None = None,
) -> torch.Tensor:
    """DDIM (Song, Meng & Ermon 2021, eq. 12) from ``x`` at ``times[0]`` to ``times[-1]``.

    For each pair t > s of consecutive times:

    1. x0 = D(x_t, t);  eps = (x_t - alpha_t x0) / sigma_t;
    2. c = eta * sqrt(sigma_s^2 / sigma_t^2 * (1 - alpha_t^2 / alpha_s^2))   (eq. 16);
    3. x_s = alpha_s x0 + sqrt(sigma_s^2 - c^2) eps + c z,  z ~ N(0, I).

    eta = 0 is the deterministic DDIM; eta = 1 is the DDPM ancestral sampler.
    Returns the final x0 estimate in data units.
    """
    n_steps = len(times) - 1
    batch = x.shape[0]
    x0 = x
    for i in range(n_steps):
        t, s = times[i], times[i + 1]
        t_batch = torch.full((batch,), float(t), device=x.device)
        x0 = denoiser(x, t_batch)
        if float(s) <= 0.0:
            x = x0
        else:
            eps = eps_from_x0(x, x0, t_batch)
            alpha_t, sigma_t = alpha_sigma(t)
            alpha_s, sigma_s = alpha_sigma(s)
            c = 0.0
            if eta > 0.0 and float(alpha_s) > 0.0:
                ratio = (sigma_s**2 / sigma_t**2) * (1.0 - alpha_t**2 / alpha_s**2)
                c = eta * float(torch.sqrt(ratio.clamp_min(0.0)))
            x = alpha_s * x0 + torch.sqrt((sigma_s**2 - c**2).clamp_min(0.0)) * eps
            if c > 0.0:
                noise = torch.randn(x.shape, generator=generator, dtype=x.dtype, device="cpu")
                x = x + c * noise.to(x.device)
        if callback is not None:
            callback(i, n_steps)
    return x0


def ddim_step(x_t: torch.Tensor, x0: torch.Tensor, t: torch.Tensor, s: torch.Tensor
              ) -> torch.Tensor:
    """One deterministic DDIM step from times ``t`` to ``s`` (both (B,)) given the clean
    estimate ``x0``: ``alpha_s x0 + sigma_s eps``; at ``s = 0`` it is ``x0``. The same
    update as :func:`sample_ddim` with eta 0, per example (distillation's teacher
    steps, the CUDA-graph sampler of :mod:`engine.graphs`)."""
    alpha_s, sigma_s = alpha_sigma(s)
    return per_example(alpha_s, x0) * x0 + per_example(sigma_s, x0) * eps_from_x0(x_t, x0, t)
