"""Giving a result the tone of one reduced pass over the whole picture: locally for a tiled
result (``match_low_frequencies``), overall for a whole one (``match_level``)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from kornia.filters import gaussian_blur2d

__all__ = ["match_level", "match_low_frequencies", "reduced_size"]

# Keeps the level of a black channel finite.
_LEVEL_FLOOR = 1e-4


def reduced_size(height: int, width: int, side: int) -> tuple[int, int]:
    """``(h, w)`` of the picture scaled so that its longer side is ``side`` (never enlarged)."""
    scale = min(1.0, side / max(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale))


def match_low_frequencies(
    image: torch.Tensor,
    guide: torch.Tensor,
    sigma: float = 4.0,
    eps: float = 0.02,
    max_ratio: float = 2.0,
) -> torch.Tensor:
    """``image`` with the low frequencies (tone, colour cast) of ``guide`` and its own detail.

    Each pixel is multiplied by ``(blur(guide) + eps) / (blur(reduce(image)) + eps)``, computed
    per channel at the guide's size (Gaussian blur of ``sigma`` guide pixels), clamped to
    ``[1 / max_ratio, max_ratio]`` and upsampled bilinearly. Enhancing a large picture tile by
    tile lets each tile find its own overall brightness; matching the result to a reduced pass
    over the whole picture removes those tile-to-tile differences. ``eps`` keeps near-black
    regions from amplifying noise.

    Args:
        image: float (B, C, H, W) in [0, 1]: the full-size result.
        guide: float (B, C, h, w) in [0, 1], h <= H and w <= W: the same picture, reduced.

    Returns:
        (B, C, H, W) in [0, 1], ``image``'s dtype and device.
    """
    if image.shape[:2] != guide.shape[:2] or image.ndim != 4:
        raise ValueError(
            f"image {tuple(image.shape)} and guide {tuple(guide.shape)} must be (B, C, H, W) "
            "with the same batch and channels"
        )
    guide = guide.to(image.device, image.dtype)
    reduced = F.adaptive_avg_pool2d(image, guide.shape[-2:])
    size = 2 * math.ceil(3 * sigma) + 1
    guide = gaussian_blur2d(guide, (size, size), (sigma, sigma), border_type="replicate")
    reduced = gaussian_blur2d(reduced, (size, size), (sigma, sigma), border_type="replicate")
    ratio = ((guide + eps) / (reduced + eps)).clamp_(1.0 / max_ratio, max_ratio)
    ratio = F.interpolate(ratio, size=image.shape[-2:], mode="bilinear", align_corners=False)
    return ratio.mul_(image).clamp_(0.0, 1.0)


def match_level(image: torch.Tensor, guide: torch.Tensor, max_ratio: float = 2.0) -> torch.Tensor:
    """``image`` with each channel's mean level set to ``guide``'s, by one gain each.

    One gain per channel moves the overall level and colour balance and leaves every edge and
    gradation where it was (on sRGB-encoded values a gain is close to an exposure change:
    ``g`` there is about ``g ** 2.2`` in linear light). Results above 1 are clipped; the gain
    is kept within ``[1 / max_ratio, max_ratio]``.

    Args:
        image: float (B, 3, H, W) in [0, 1], the full-size result.
        guide: float (B, 3, h, w) in [0, 1], the result of a pass over the reduced picture.

    Returns:
        (B, 3, H, W) in [0, 1], ``image``'s dtype and device.

    Example:
        >>> image = torch.full((1, 3, 8, 8), 0.5)
        >>> matched = match_level(image, torch.full((1, 3, 2, 2), 0.6))
        >>> round(float(matched.mean()), 4)
        0.6
    """
    if image.shape[:2] != guide.shape[:2] or image.ndim != 4:
        raise ValueError(
            f"image {tuple(image.shape)} and guide {tuple(guide.shape)} must be (B, C, H, W) "
            "with the same batch and channels"
        )
    level = image.mean(dim=(2, 3), keepdim=True).clamp_min(_LEVEL_FLOOR)
    target = guide.to(image.device, image.dtype).mean(dim=(2, 3), keepdim=True)
    gain = (target.clamp_min(_LEVEL_FLOOR) / level).clamp(1.0 / max_ratio, max_ratio)
    return (image * gain).clamp_(0.0, 1.0)
