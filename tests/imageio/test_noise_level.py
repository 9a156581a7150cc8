"""Reading a picture's noise: Gaussian and 8-bit noise, and texture not taken for noise."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from lowlight.imageio.noise_level import noise_level

# One level of an 8-bit picture.
LEVEL = 1 / 255


def test_gaussian_noise_is_read_per_channel() -> None:
    generator = torch.Generator().manual_seed(0)
    sigmas = torch.tensor([0.002, 0.01, 0.03]).view(1, 3, 1, 1)
    noisy = 0.4 + sigmas * torch.randn(2, 3, 300, 400, generator=generator)
    read = noise_level(noisy)
    assert read.shape == (2, 3, 1, 1)
    assert read.flatten().tolist() == pytest.approx(sigmas.flatten().tolist() * 2, rel=0.05)


def test_noise_on_8_bit_levels_is_read_smoothly() -> None:
    # The responses are whole multiples of a level; the noise, with the rounding's own
    # (a variance of 1/12 level squared), still reads to within 5 % for noise of a fraction
    # of a level's step apart.
    generator = torch.Generator().manual_seed(1)
    for sigma in (0.8, 1.3, 1.7):
        noisy = 0.2 + sigma * LEVEL * torch.randn(1, 3, 300, 400, generator=generator)
        rounded = torch.round(noisy / LEVEL) * LEVEL
        read = noise_level(rounded) / LEVEL
        expected = (sigma**2 + 1 / 12) ** 0.5
        assert read.flatten().tolist() == pytest.approx([expected] * 3, rel=0.05)


def test_fine_texture_is_not_taken_for_noise() -> None:
    # Texture twice as strong as the noise, at a scale of two or three pixels: alone it
    # reads as a fifth of its strength, and the noise beside it reads close to its own.
    generator = torch.Generator().manual_seed(2)
    field = F.avg_pool2d(torch.randn(1, 1, 302, 402, generator=generator), 3, stride=1)
    texture = 0.3 + 0.03 * field.expand(1, 3, 300, 400)
    sigma = 0.005
    noisy = texture + sigma * torch.randn(1, 3, 300, 400, generator=generator)
    assert float(noise_level(noisy).max()) < 1.25 * sigma
    assert float(noise_level(texture).max()) < 0.3 * float(texture.std())


def test_a_flat_picture_and_a_tiny_one_read_no_noise() -> None:
    assert float(noise_level(torch.full((1, 3, 50, 70), 0.3)).max()) == 0.0
    for size in ((1, 9), (2, 2), (9, 1)):
        assert float(noise_level(torch.rand(1, 3, *size)).abs().max()) < float("inf")
