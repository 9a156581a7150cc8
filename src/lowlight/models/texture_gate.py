"""Where the curve image's fine texture stands above its noise: a gate that is computed, not
learnt, from the input's own noise level."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from kornia.filters import gaussian_blur2d

from lowlight.models.colour import luminance
from lowlight.models.detail import low_frequencies

__all__ = ["noise_sigma", "texture_gate"]

# Immerkær's kernel: the difference of two Laplacians, blind to planes and to most edges.
_IMMERKAER = torch.tensor([[1.0, -2.0, 1.0], [-2.0, 4.0, -2.0], [1.0, -2.0, 1.0]])
# The gain of the curves is measured over regions of about this sigma (pixels).
_GAIN_SIGMA = 16.0
# Input luma below this counts as this dark when the gain is measured (a lift of 1/0.002).
_DARK_FLOOR = 2e-3
# The texture's local energy is averaged over this Gaussian sigma (pixels).
_ENERGY_SIGMA = 2.0
# Keeps the ratio finite where a region has no texture at all (the gate is then closed).
_ENERGY_FLOOR = 1e-8


def noise_sigma(rgb: torch.Tensor) -> torch.Tensor:
    """Standard deviation of the white noise in each image's luma (Immerkær, 1996).

    The luma (Rec. 601) is filtered with the difference of two Laplacians, which cancels
    locally planar signal; the mean absolute response, scaled by ``sqrt(pi / 2) / 6``, is
    the noise's standard deviation. Texture adds to it, so a textured picture reads as a
    little noisier than it is: the gate errs towards the decoder's clean image.

    Args:
        rgb: (B, 3, H, W) in [0, 1], H and W at least 3.

    Returns:
        (B, 1, 1, 1) in the units of ``rgb``.

    Example:
        >>> _ = torch.manual_seed(0)
        >>> flat = torch.full((1, 3, 64, 64), 0.5)
        >>> noisy = flat + 0.02 * torch.randn(1, 1, 64, 64)
        >>> round(float(noise_sigma(noisy.expand(1, 3, 64, 64))), 2)
        0.02
    """
    return _luma_noise_sigma(luminance(rgb))


def _luma_noise_sigma(grey: torch.Tensor) -> torch.Tensor:
    """``noise_sigma`` of a luma (B, 1, H, W) already computed: (B, 1, 1, 1)."""
    kernel = _IMMERKAER.to(grey).view(1, 1, 3, 3)
    response = F.conv2d(grey, kernel).abs().mean(dim=(1, 2, 3), keepdim=True)
    return math.sqrt(math.pi / 2) / 6 * response


def texture_gate(
    texture: torch.Tensor, curve: torch.Tensor, rgb: torch.Tensor, margin: float
) -> torch.Tensor:
    """How much of ``texture`` is real rather than amplified noise, per pixel.

    The input's noise (``noise_sigma``) is carried through the curves' local gain (the
    curve image's luma over the input's, both low-passed), which gives the noise the texture
    band would hold in each region; the gate is a Wiener-like ``1 - margin * noise energy /
    texture energy``, clamped to [0, 1]: open where the texture is much stronger than that
    noise (a clean photo's gravel and leaves), closed where it is not (LOL's noise, a night
    sky lifted eight stops). No parameters and no gradient: it follows the picture, so a
    camera's clean photo and a noisy one get different answers from the same network.

    Args:
        texture: (B, 3, H, W) the curve image's fine texture (``bounded_texture``).
        curve: (B, 3, H, W) in [0, 1], the curve image.
        rgb: (B, 3, H, W) in [0, 1], the input; H and W divisible by 8.
        margin: how many times the expected noise energy the texture must exceed to pass
            half-way (> 0; larger closes the gate on more pictures).

    Returns:
        (B, 1, H, W) in [0, 1], detached from the graph.

    Example:
        >>> rgb = torch.full((1, 3, 64, 64), 0.05)
        >>> curve = (rgb * 8).clamp(0, 1)
        >>> stripes = torch.zeros(1, 3, 64, 64)
        >>> stripes[..., ::2, :] = 0.1
        >>> float(texture_gate(stripes, curve, rgb, margin=1.0).mean())
        1.0
    """
    with torch.no_grad():
        luma = luminance(rgb)
        gain = low_frequencies(luminance(curve), _GAIN_SIGMA) / low_frequencies(
            luma, _GAIN_SIGMA
        ).clamp_min(_DARK_FLOOR)
        noise_energy = (gain * _luma_noise_sigma(luma)) ** 2
        grey = luminance(texture)
        size = 2 * math.ceil(3 * _ENERGY_SIGMA) + 1
        energy = gaussian_blur2d(
            grey * grey, (size, size), (_ENERGY_SIGMA, _ENERGY_SIGMA), "replicate"
        )
        return (1.0 - margin * noise_energy / energy.clamp_min(_ENERGY_FLOOR)).clamp(0.0, 1.0)
