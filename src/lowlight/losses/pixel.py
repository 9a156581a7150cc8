"""Losses that compare a prediction with its target: reconstruction, SSIM, edges; mask mean."""

from __future__ import annotations

import torch
from kornia.filters import sobel
from kornia.metrics import ssim

__all__ = ["charbonnier_loss", "ssim_loss", "edge_loss", "mask_mean_loss"]


def charbonnier_loss(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    """Reconstruction loss ``mean(sqrt((pred - target)^2 + eps^2)) - eps``.

    A smooth L1: 0 for a perfect prediction, with a finite gradient there.
    """
    return (torch.sqrt((pred - target).pow(2) + eps * eps) - eps).mean()


def ssim_loss(pred: torch.Tensor, target: torch.Tensor, window_size: int = 11) -> torch.Tensor:
    """``1 - SSIM``, with Wang et al.'s 11x11 Gaussian window (sigma 1.5) on RGB.

    Computed on the valid interior of the filtered maps, as scikit-image does, and averaged
    over channels, pixels and the batch. Images need at least ``window_size`` pixels a side.
    """
    return 1.0 - ssim(pred, target, window_size, max_val=1.0, padding="valid").mean()


def edge_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``mean(|sobel(pred) - sobel(target)|)``: L1 between Sobel gradient magnitudes."""
    return (sobel(pred) - sobel(target)).abs().mean()


def mask_mean_loss(mask: torch.Tensor) -> torch.Tensor:
    """``mean(mask)`` for a (B, 1, H, W) mask in [0, 1]: keeps the curve branch's share small."""
    return mask.mean()
