"""Rec. 601 luma, the grey level every metric of this package uses."""

from __future__ import annotations

import torch

__all__ = ["GREY_WEIGHTS", "luma"]

# Rec. 601 luma: the grey level OpenCV's RGB2GRAY (and the field's GT-mean code) uses; it is
# also the Y of YIQ, the channel NIQE scores.
GREY_WEIGHTS = (0.299, 0.587, 0.114)


def luma(rgb: torch.Tensor) -> torch.Tensor:
    """Rec. 601 luma ``0.299 R + 0.587 G + 0.114 B`` of each pixel.

    Args:
        rgb: (B, 3, H, W), any range; computed in its dtype.

    Returns:
        (B, 1, H, W) in the range and dtype of ``rgb``.

    Example:
        >>> luma(torch.ones(1, 3, 2, 2)).squeeze()
        tensor([[1., 1.],
                [1., 1.]])
    """
    weights = torch.tensor(GREY_WEIGHTS, dtype=rgb.dtype, device=rgb.device).view(1, 3, 1, 1)
    return (rgb * weights).sum(dim=1, keepdim=True)
