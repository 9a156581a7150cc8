"""Detail laid on a base picture and kept inside [0, 1]: the decoder's on the curve image's
tone, and the curve image's fine texture on the decoder's image."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from kornia.filters import gaussian_blur2d

from lowlight.models.colour import luminance

__all__ = ["low_frequencies", "bounded_detail", "bounded_texture"]

# The low-pass works on block means of this size: its cost is then negligible.
_BLOCK = 8
# Keeps ``bounded_detail``'s divisions finite where a curve pixel is exactly 0 or 1.
_ROOM_FLOOR = 1e-4


def low_frequencies(image: torch.Tensor, sigma: float) -> torch.Tensor:
    """A Gaussian low-pass of ``image`` with standard deviation ``sigma`` pixels, computed cheaply.

    The image is averaged over 8 x 8 blocks, blurred there with ``sigma / 8`` (replicated
    borders) and upsampled bilinearly: what remains are structures larger than about
    ``2 * sigma`` pixels.

    Args:
        image: (B, C, H, W), H and W divisible by 8.
        sigma: in pixels of ``image``, at least 8.

    Returns:
        (B, C, H, W).
    """
    blocks = F.avg_pool2d(image, _BLOCK)
    small_sigma = sigma / _BLOCK
    size = 2 * math.ceil(3 * small_sigma) + 1
    blurred = gaussian_blur2d(blocks, (size, size), (small_sigma, small_sigma), "replicate")
    return F.interpolate(blurred, size=image.shape[-2:], mode="bilinear", align_corners=False)


def bounded_detail(
    estimate: torch.Tensor, base: torch.Tensor, sigma: float, ceiling: float = 1.0
) -> torch.Tensor:
    """What ``estimate`` adds to ``base`` but exposure, bounded so ``base + detail`` is in [0, 1].

    The raw detail is ``estimate - base`` with the low frequencies of its luma (Rec. 601)
    removed (``low_frequencies`` with ``sigma``): it carries no exposure, so the brightness of
    regions larger than about ``2 * sigma`` is ``base``'s alone, while detail, local contrast
    and colour at every scale (chroma has no luma) pass. It is then squashed smoothly into the
    room the base pixel leaves, ``d -> r * tanh(d / r)`` with ``r = 1 - base`` above and
    ``r = base`` below: the identity for small ``d`` (slope 1 on both sides of 0) and never
    beyond the range, so the decoder can neither clip nor crush. With a ``ceiling`` below 1
    the room above is ``ceiling - base`` (none where ``base`` is above it): detail cannot lift
    a pixel past the ceiling, and what lies above it is ``base``'s alone.

    Args:
        estimate: (B, 3, H, W) the decoder's image estimate, any range.
        base: (B, 3, H, W) in [0, 1], the curve image.
        sigma: the low-pass's standard deviation in pixels (H and W divisible by 8).
        ceiling: the highest value detail may lift a pixel to, in (0, 1].

    Returns:
        (B, 3, H, W) detail with ``base + detail`` in [0, 1].

    Examples:
        >>> base = torch.full((1, 3, 8, 8), 0.9)
        >>> estimate = base.clone()
        >>> estimate[..., 3, 3] = 5.0
        >>> bool(((base + bounded_detail(estimate, base, 8)) <= 1.0).all())
        True
    """
    difference = estimate - base
    detail = difference - low_frequencies(luminance(difference), sigma)
    return _into_room(detail, base, ceiling)


def bounded_texture(source: torch.Tensor, base: torch.Tensor, sigma: float) -> torch.Tensor:
    """The fine texture ``source`` has and ``base`` lacks, bounded so ``base + texture`` is in
    [0, 1].

    ``source - base`` less its Gaussian blur of ``sigma`` pixels, in every channel: only
    structures finer than a few pixels (grain of gravel, leaves, fabric, and noise), never
    tone or colour; then squashed into the room each base pixel leaves, as in
    ``bounded_detail``.

    Args:
        source: (B, 3, H, W) in [0, 1], the picture whose texture is wanted (the curve image).
        base: (B, 3, H, W) in [0, 1] (the decoder's image).
        sigma: the blur's standard deviation in pixels, > 0.

    Returns:
        (B, 3, H, W) texture with ``base + texture`` in [0, 1].

    Example:
        >>> base = torch.full((1, 3, 8, 8), 0.5)
        >>> source = base.clone()
        >>> source[..., ::2, :] = 0.9  # stripes the base has lost
        >>> texture = bounded_texture(source, base, 1.0)
        >>> bool(texture[..., 2, 4].min() > 0.1), bool(texture[..., 3, 4].max() < -0.1)
        (True, True)
    """
    difference = source - base
    size = 2 * math.ceil(3 * sigma) + 1
    fine = difference - gaussian_blur2d(difference, (size, size), (sigma, sigma), "replicate")
    return _into_room(fine, base)


def _into_room(detail: torch.Tensor, base: torch.Tensor, ceiling: float = 1.0) -> torch.Tensor:
    """``detail`` squashed smoothly into the room each ``base`` pixel leaves in [0, ceiling]:
    ``d -> r * tanh(d / r)`` with ``r = ceiling - base`` (at least 0) above and ``r = base``
    below."""
    up, down = (ceiling - base).clamp_min(0.0), base
    raised = up * torch.tanh(detail / up.clamp_min(_ROOM_FLOOR))
    lowered = down * torch.tanh(detail / down.clamp_min(_ROOM_FLOOR))
    return torch.where(detail > 0, raised, lowered)
