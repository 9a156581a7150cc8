"""How closely an exported model follows PyTorch: a test picture and the largest difference."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

__all__ = ["CONTROL_SETTINGS", "parity_picture", "max_difference"]

CONTROL_SETTINGS = ((0.0, 1.0), (1.0, 0.6))
"""The settings parity is measured under: the defaults, and both controls away from them."""


def parity_picture(height: int = 217, width: int = 301, seed: int = 0) -> torch.Tensor:
    """A dark synthetic picture (1, 3, H, W) in [0, 1], the same for a given seed.

    Smooth colour gradients, hard-edged bars, a bright lamp (whose enhancement reaches the
    highlight shoulder) and noise, at an odd size by default so the model pads it.

    Examples:
        >>> picture = parity_picture()
        >>> tuple(picture.shape), 0.0 <= float(picture.min()), float(picture.max()) <= 1.0
        ((1, 3, 217, 301), True, True)
    """
    generator = torch.Generator().manual_seed(seed)
    rows = torch.linspace(0.0, 1.0, height)[:, None]
    columns = torch.linspace(0.0, 1.0, width)[None, :]
    red, green = columns.expand(height, width), rows.expand(height, width)
    gradient = torch.stack([red, green, 1.0 - red * green])
    bars = (torch.sin(columns * 6.0 * math.pi) > 0).float().expand(height, width)
    lamp = torch.exp(-((rows - 0.3) ** 2 + (columns - 0.7) ** 2) / 0.005)
    picture = 0.08 * gradient + 0.04 * bars + 0.9 * lamp
    noise = 0.01 * torch.randn(3, height, width, generator=generator)
    return (picture + noise).clamp(0.0, 1.0)[None]


def max_difference(
    reference: Callable[..., torch.Tensor],
    candidate: Callable[..., torch.Tensor],
    picture: torch.Tensor,
) -> float:
    """The largest absolute difference between two runners' results on ``picture``.

    Each runner is called as ``runner(picture, exposure=..., strength=...)`` under every
    setting of ``CONTROL_SETTINGS``; results are (B, 3, H, W) in [0, 1].
    """
    differences = []
    for exposure, strength in CONTROL_SETTINGS:
        expected = reference(picture, exposure=exposure, strength=strength)
        result = candidate(picture, exposure=exposure, strength=strength)
        differences.append(float((result - expected).abs().max()))
    return max(differences)
