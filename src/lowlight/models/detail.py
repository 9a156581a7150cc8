"""The decoder's contribution: detail on top of the curve image's tone, kept inside [0, 1]."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from lowlight.models.colour import luminance

__all__ = ["low_frequencies", "bounded_detail"]

# Keeps ``bounded_detail``'s divisions finite where a curve pixel is exactly 0 or 1.
_ROOM_FLOOR = 1e-4


def low_frequencies(image: torch.Tensor, scale: int) -> torch.Tensor:
    """A smooth low-pass of ``image``: ``scale`` x ``scale`` block means, upsampled bilinearly.

    Args:
        image: (B, C, H, W), H and W divisible by ``scale``.
        scale: block size in pixels (structures smaller than about twice this are removed).

    Returns:
        (B, C, H, W).
    """
    blocks = F.avg_pool2d(image, scale)
    return F.interpolate(blocks, size=image.shape[-2:], mode="bilinear", align_corners=False)


def bounded_detail(estimate: torch.Tensor, base: torch.Tensor, scale: int) -> torch.Tensor:
    """What ``estimate`` adds to ``base`` but exposure, bounded so ``base + detail`` is in [0, 1].

    The raw detail is ``estimate - base`` with the low frequencies of its luma (Rec. 601)
    removed: it carries no exposure, so the brightness at scales above ``scale`` is
    ``base``'s alone, while fine detail at every level and colour at every scale (chroma has
    no luma) pass. It is then squashed smoothly into the room the base pixel leaves,
    ``d -> r * tanh(d / r)`` with ``r = 1 - base`` above and ``r = base`` below: the identity
    for small ``d`` (slope 1 on both sides of 0) and never beyond the range, so the decoder
    can neither clip nor crush.

    Args:
        estimate: (B, 3, H, W) the decoder's image estimate, any range.
        base: (B, 3, H, W) in [0, 1], the curve image.
        scale: the high-pass block size (H and W divisible by it).

    Returns:
        (B, 3, H, W) detail with ``base + detail`` in [0, 1].

    Example:
        >>> base = torch.full((1, 3, 8, 8), 0.9)
        >>> estimate = base.clone()
        >>> estimate[..., 3, 3] = 5.0
        >>> bool(((base + bounded_detail(estimate, base, 4)) <= 1.0).all())
        True
    """
    difference = estimate - base
    detail = difference - low_frequencies(luminance(difference), scale)
    up, down = 1.0 - base, base
    raised = up * torch.tanh(detail / up.clamp_min(_ROOM_FLOOR))
    lowered = down * torch.tanh(detail / down.clamp_min(_ROOM_FLOOR))
    return torch.where(detail > 0, raised, lowered)
