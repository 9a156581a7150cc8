"""Per-pixel mask that blends the curve branch into the restored image."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["MaskPredictor"]


class MaskPredictor(nn.Module):
    """Predicts where the curve-brightened image can be trusted over the restored one.

    ``final = decoder + mask * (curve - decoder)``. The curve image keeps every full-resolution
    detail but also all of the amplified noise; the decoder output is clean but works at half
    resolution. In bright, high-SNR regions the curve image is the sharper of the two, in dark
    ones it is mostly noise. The mask starts near 0 (bias -4: the decoder decides) and the
    ``w_mask_mean`` loss keeps it there unless the curve branch clearly earns a pixel.

    The mask is predicted at half resolution and upsampled: it only has to follow regions,
    not pixels, and full-resolution convolutions dominate CPU time.

    Input: curve image, decoder image (B, 3, H, W) and SNR map (B, 1, H, W), H and W even.
    Output: mask (B, 1, H, W) in [0, 1].
    """

    def __init__(self, width: int = 16, initial_bias: float = -4.0) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(7, width, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(width, 1, 3, padding=1),
        )
        nn.init.normal_(self.body[-1].weight, std=1e-3)
        nn.init.constant_(self.body[-1].bias, initial_bias)

    def forward(
        self, curve: torch.Tensor, decoder: torch.Tensor, snr: torch.Tensor
    ) -> torch.Tensor:
        features = F.avg_pool2d(torch.cat([curve, decoder, snr], dim=1), 2)
        logits = F.interpolate(self.body(features), scale_factor=2.0, mode="bilinear")
        return torch.sigmoid(logits)
