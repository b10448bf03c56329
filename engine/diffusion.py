"""Noise schedule and training objective (continuous time, v-prediction).

Schedule: the cosine schedule without offset, ``alpha(t) = cos(pi t / 2)``,
``sigma(t) = sin(pi t / 2)`` for t in [0, 1] (Nichol & Dhariwal 2021, eq. 17 with s = 0).
Its terminal SNR is exactly zero (alpha(1) = 0), so a sampler started from pure noise at
t = 1 sees what training saw (Lin et al. 2024, "Common diffusion noise schedules and
sample steps are flawed", section 3.1). This matters for piano rolls: ~97 % of a roll is
silence, and an epsilon-model started at a non-zero-SNR last step fills it with notes.

Objective: v-prediction, ``v = alpha * eps - sigma * x0`` (Salimans & Ho 2022, section 4),
which stays well defined at both ends of the schedule.

Data units: a roll's onset/sustain channels in {0, 1} are mapped to x0 = 2 * roll - 1,
so silence is -1 and a note is +1.
"""

from __future__ import annotations

import math

import torch


def alpha_sigma(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Signal and noise scales at time t (any shape), both in [0, 1]."""
    angle = t.float() * (math.pi / 2)
    return torch.cos(angle), torch.sin(angle)


def per_example(v: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``v`` (B,) shaped to broadcast over ``like`` (B, ...): one value per example."""
    return v.reshape(-1, *([1] * (like.dim() - 1)))


def add_noise(x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Sample q(x_t | x0): ``x_t = alpha x0 + sigma eps``; x0 (B, ...), t (B,)."""
    alpha, sigma = alpha_sigma(t)
    return per_example(alpha, x0) * x0 + per_example(sigma, x0) * noise


def v_target(x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """The v-prediction target ``alpha eps - sigma x0``."""
    alpha, sigma = alpha_sigma(t)
    return per_example(alpha, x0) * noise - per_example(sigma, x0) * x0


def x0_from_v(x_t: torch.Tensor, v: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Clean-roll estimate from a v-prediction: ``x0 = alpha x_t - sigma v``."""
    alpha, sigma = alpha_sigma(t)
    return per_example(alpha, x_t) * x_t - per_example(sigma, x_t) * v


def eps_from_x0(x_t: torch.Tensor, x0: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Noise implied by an x0 estimate: ``eps = (x_t - alpha x0) / sigma`` (t > 0)."""
    alpha, sigma = alpha_sigma(t)
    return (x_t - per_example(alpha, x_t) * x0) / per_example(sigma.clamp_min(1e-6), x_t)


def roll_to_data(roll: torch.Tensor) -> torch.Tensor:
    """{0, 1} roll channels -> data units in {-1, 1}."""
    return roll * 2.0 - 1.0


def data_to_roll(x: torch.Tensor) -> torch.Tensor:
    """Data units -> {0, 1} roll channels (threshold at 0)."""
    return (x > 0).float()
