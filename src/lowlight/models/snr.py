"""Signal-to-noise map of a low-light image (after SNR-Aware, Xu et al. 2022)."""

from __future__ import annotations

import torch
from kornia.filters import box_blur

__all__ = ["snr_map"]


def snr_map(rgb: torch.Tensor, kernel_size: int = 5, eps: float = 1e-4) -> torch.Tensor:
    """Per-pixel SNR estimate, normalised per image.

    The signal is the locally averaged grey level, the noise its absolute deviation from
    that average; their ratio is divided by its per-image maximum.

    Args:
        rgb: (B, 3, H, W) in [0, 1], H and W at least ``kernel_size // 2 + 1``.

    Returns:
        (B, 1, H, W) in [0, 1]; high where the image is bright and smooth.
    """
    grey = rgb.mean(dim=1, keepdim=True)
    signal = box_blur(grey, (kernel_size, kernel_size), border_type="replicate")
    noise = (grey - signal).abs()
    ratio = signal / (noise + eps)
    peak = ratio.amax(dim=(2, 3), keepdim=True).clamp_min(eps)
    return ratio / peak
