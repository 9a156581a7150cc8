"""Uneven light for synthetic training inputs: scenes dark in one place and lit in another.

A real night photo is rarely dark by one factor everywhere: a street lamp, a lit window or a
screen stays bright while the rest of the scene falls into shadow. Darkening a well-exposed
photo by one gain teaches a network one global answer; darkening it by a smooth random field
of gains, with its light sources left bright, teaches it to lift each region by what that
region needs (local tone).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from kornia.color import rgb_to_linear_rgb

from lowlight.models.colour import luminance

__all__ = ["illumination_field", "light_sources", "uneven_gain"]

# The field is drawn on a grid this many cells on its longer side and smoothly upsampled:
# light falls off over a fraction of the picture, not pixel to pixel.
FIELD_CELLS = 4
# Linear luma where a pixel starts to count as a light source, and where it fully does.
LIGHT_START, LIGHT_FULL = 0.55, 0.9


def illumination_field(
    height: int, width: int, stops: float, generator: torch.Generator
) -> torch.Tensor:
    """A smooth random field of exposure changes in stops, (1, H, W), in [-stops, 0].

    A few random values on a coarse grid, upsampled bicubically and rescaled so that the
    brightest place is 0 (unchanged) and the darkest ``-stops``.

    Args:
        height: the picture's height in pixels.
        width: the picture's width in pixels.
        stops: the spread between the brightest and the darkest region, >= 0.
        generator: the source of the field.
    """
    if stops < 0:
        raise ValueError(f"stops must be >= 0, got {stops}")
    longer = max(height, width)
    cells = (
        max(2, round(FIELD_CELLS * height / longer)),
        max(2, round(FIELD_CELLS * width / longer)),
    )
    coarse = torch.randn((1, 1, *cells), generator=generator)
    field = F.interpolate(coarse, size=(height, width), mode="bicubic", align_corners=True)[0]
    low, high = field.amin(), field.amax()
    return (field - high) / (high - low).clamp_min(1e-6) * stops


def light_sources(target: torch.Tensor) -> torch.Tensor:
    """Where ``target`` (3, H, W) sRGB in [0, 1] emits light: (1, H, W) weights in [0, 1].

    A smooth step of the linear luma from ``LIGHT_START`` to ``LIGHT_FULL``: lamps, windows
    and sky keep their light when the scene around them darkens.
    """
    linear = luminance(rgb_to_linear_rgb(target.float()[None]))[0]
    ramp = ((linear - LIGHT_START) / (LIGHT_FULL - LIGHT_START)).clamp(0.0, 1.0)
    return ramp * ramp * (3.0 - 2.0 * ramp)


def uneven_gain(
    target: torch.Tensor,
    gain: float,
    stops: float,
    keep_lights: bool,
    generator: torch.Generator,
) -> torch.Tensor:
    """Per-pixel linear exposure gains (1, H, W) in (0, 1] for darkening ``target``.

    ``gain`` times ``2 ** illumination_field(stops)``; with ``keep_lights`` each light source
    (``light_sources``) keeps its exposure (gain 1) in proportion to its weight.

    Args:
        target: (3, H, W) sRGB in [0, 1], the well-exposed picture.
        gain: the overall linear exposure factor in (0, 1].
        stops: the field's spread in stops (0: one gain everywhere).
        keep_lights: leave the light sources bright.
        generator: the source of the field.
    """
    height, width = target.shape[-2:]
    if stops > 0:
        gains = gain * torch.exp2(illumination_field(height, width, stops, generator))
    else:
        gains = torch.full((1, height, width), gain)
    if keep_lights:
        gains = torch.lerp(gains, torch.ones_like(gains), light_sources(target))
    return gains
