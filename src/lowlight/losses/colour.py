"""Colour and exposure losses (the Zero-DCE family and colour diversity)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["color_consistency_loss", "color_diversity_loss", "exposure_loss"]


def color_consistency_loss(pred: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Zero-DCE colour constancy: ``mean_b sqrt(D_rg^2 + D_rb^2 + D_gb^2 + eps)``.

    ``D_pq = (mean_p - mean_q)^2`` for the image-mean of channels p and q; small when the
    image's channels are balanced (grey world). ``eps`` keeps the gradient finite at 0.
    """
    means = pred.mean(dim=(2, 3))
    red, green, blue = means.unbind(dim=1)
    d_rg = (red - green).pow(2)
    d_rb = (red - blue).pow(2)
    d_gb = (green - blue).pow(2)
    return torch.sqrt(d_rg.pow(2) + d_rb.pow(2) + d_gb.pow(2) + eps).mean()


def color_diversity_loss(
    pred: torch.Tensor, noise_floor: float = 0.01, brightness_floor: float = 0.05
) -> torch.Tensor:
    """Penalises colour collapse: ``0.5 * exp(-15 * avg_diversity) + 0.5 * exp(-10 * saturation)``.

    Per image, with ``spread`` the per-pixel standard deviation across R, G, B, regularised
    by a noise floor as ``sqrt(var + noise_floor^2)``:

    * ``avg_diversity`` is the mean of ``spread`` over the image's pixels;
    * ``saturation`` is the mean of ``spread / (grey + brightness_floor)`` over its pixels,
      ``grey`` being the pixel's RGB mean: chroma relative to brightness.

    The loss is the mean of the per-image values over the batch (so it splits exactly over
    data-parallel shards). Both terms are smooth everywhere, so the loss is never a constant:
    the saturation term's gradient is non-zero even for a perfectly grey or all-black image.
    Returns a scalar in (0, 1].
    """
    grey = pred.mean(dim=1, keepdim=True)
    spread = torch.sqrt((pred - grey).pow(2).mean(dim=1) + noise_floor**2)
    avg_diversity = spread.mean(dim=(1, 2))
    saturation = (spread / (grey.squeeze(1) + brightness_floor)).mean(dim=(1, 2))
    per_image = 0.5 * torch.exp(-15.0 * avg_diversity) + 0.5 * torch.exp(-10.0 * saturation)
    return per_image.mean()


def exposure_loss(
    pred: torch.Tensor, well_exposed: float = 0.6, patch_size: int = 16
) -> torch.Tensor:
    """Zero-DCE exposure control: ``mean((avgpool_16(grey) - 0.6)^2)``.

    The grey level of each 16x16 patch is pulled towards a well-exposed level.
    """
    grey = pred.mean(dim=1, keepdim=True)
    patches = F.avg_pool2d(grey, patch_size, ceil_mode=True)
    return (patches - well_exposed).pow(2).mean()
