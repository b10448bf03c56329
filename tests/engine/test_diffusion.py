import math

import torch

from engine.diffusion import (
    add_noise,
    alpha_sigma,
    data_to_roll,
    eps_from_x0,
    roll_to_data,
    v_target,
    x0_from_v,
)


def test_schedule_is_variance_preserving_with_zero_terminal_snr():
    t = torch.linspace(0, 1, 11)
    alpha, sigma = alpha_sigma(t)
    torch.testing.assert_close(alpha**2 + sigma**2, torch.ones(11))
    assert float(alpha[0]) == 1.0 and float(sigma[0]) == 0.0
    assert abs(float(alpha[-1])) < 1e-7  # SNR(1) = 0
    assert math.isclose(float(alpha[5]), math.cos(math.pi / 4), rel_tol=1e-6)


def test_v_target_inverts_to_x0_and_eps():
    gen = torch.Generator().manual_seed(0)
    x0 = torch.randn(4, 2, 16, 8, generator=gen)
    eps = torch.randn(4, 2, 16, 8, generator=gen)
    t = torch.tensor([0.1, 0.4, 0.7, 0.95])
    x_t = add_noise(x0, eps, t)
    v = v_target(x0, eps, t)
    torch.testing.assert_close(x0_from_v(x_t, v, t), x0, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(eps_from_x0(x_t, x0, t), eps, atol=1e-4, rtol=1e-4)


def test_data_units_round_trip():
    roll = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    torch.testing.assert_close(roll_to_data(roll), torch.tensor([[-1.0, 1.0], [1.0, -1.0]]))
    torch.testing.assert_close(data_to_roll(roll_to_data(roll)), roll)
