"""The full low-light enhancer: curves, restoration, mask blend, colour, saturation."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from lowlight.models.colour import (
    EnhancedGlobalColorCorrection,
    GlobalColourAffine,
    saturation_boost,
)
from lowlight.models.curve_estimator import ImprovedCurveEstimator
from lowlight.models.decoder import TransformerDecoder
from lowlight.models.mask import MaskPredictor
from lowlight.models.snr import snr_map

__all__ = ["UnifiedLowLightEnhancer", "EnhancerOutput"]

# Smallest padded side: the SNR map's 5x5 filter and the 1/8-scale stages need room.
MIN_SIDE = 16


@dataclass
class EnhancerOutput:
    """What one forward pass produces; every tensor is cropped to the input size.

    Attributes:
        image: the enhanced image (B, 3, H, W) in [0, 1].
        curve_image: the Zero-DCE curve output (B, 3, H, W) in [0, 1].
        decoder_image: curve image plus the decoder's residual (B, 3, H, W), unclamped.
        mask: weight of the curve image in the blend (B, 1, H, W) in [0, 1].
        curve_params: curve alphas (B, 3, H, W) in [-1, 1].
        snr: the SNR map the network saw (B, 1, H, W) in [0, 1].
    """

    image: torch.Tensor
    curve_image: torch.Tensor
    decoder_image: torch.Tensor
    mask: torch.Tensor
    curve_params: torch.Tensor
    snr: torch.Tensor


class UnifiedLowLightEnhancer(nn.Module):
    """Low-light enhancer: RGB in [0, 1] of any size -> enhanced RGB in [0, 1].

    Pipeline, all on the input padded (replicate) to a multiple of the decoder's factor:

    1. SNR map from the RGB input; the network sees RGB + SNR (4 channels).
    2. ``ImprovedCurveEstimator`` brightens the RGB channels with Zero-DCE curves.
    3. ``TransformerDecoder`` denoises and restores, predicting a residual on the curve image.
    4. ``MaskPredictor`` blends the curve image back where it is sharper and clean enough.
    5. ``GlobalColourAffine`` then ``EnhancedGlobalColorCorrection`` adjust colour globally.
    6. A smooth saturation boost lifts washed-out results.

    The same code runs in training and evaluation (no dropout, no batch statistics, no
    train-only branches).
    """

    def __init__(
        self,
        widths: Sequence[int] = (16, 48, 96),
        depths: Sequence[int] = (0, 1, 4),
        decoder_depths: Sequence[int] = (0, 1),
        heads: Sequence[int] = (1, 2, 4),
        curve_iterations: int = 8,
        curve_scale: int = 4,
    ) -> None:
        super().__init__()
        self.config = {
            "widths": list(widths),
            "depths": list(depths),
            "decoder_depths": list(decoder_depths),
            "heads": list(heads),
            "curve_iterations": curve_iterations,
            "curve_scale": curve_scale,
        }
        self.curve_estimator = ImprovedCurveEstimator(
            iterations=curve_iterations, scale=curve_scale
        )
        self.decoder = TransformerDecoder(7, widths, depths, decoder_depths, heads)
        self.mask_predictor = MaskPredictor()
        self.colour_affine = GlobalColourAffine(enable_vibrance=False, identity_clamp=0.15)
        self.colour_correction = EnhancedGlobalColorCorrection()
        # Both the decoder's 1/8 stages and the curve estimate's 1/curve_scale grid must tile.
        self.pad_multiple = math.lcm(self.decoder.factor, curve_scale)

    def clamp_parameters_(self) -> None:
        """Project the bounded colour parameters back into range (call after optimiser steps)."""
        self.colour_affine.clamp_parameters_()
        self.colour_correction.clamp_parameters_()

    def _pad(self, rgb: torch.Tensor) -> torch.Tensor:
        height, width = rgb.shape[-2:]
        m = self.pad_multiple
        pad_h = max(MIN_SIDE, -(-height // m) * m) - height
        pad_w = max(MIN_SIDE, -(-width // m) * m) - width
        if pad_h == 0 and pad_w == 0:
            return rgb
        return F.pad(rgb, (0, pad_w, 0, pad_h), mode="replicate")

    def forward(self, rgb: torch.Tensor) -> EnhancerOutput:
        """Enhance a (B, 3, H, W) batch in [0, 1]; see ``EnhancerOutput``."""
        if rgb.ndim != 4 or rgb.shape[1] != 3:
            raise ValueError(f"expected a (B, 3, H, W) tensor, got {tuple(rgb.shape)}")
        height, width = rgb.shape[-2:]
        padded = self._pad(rgb)
        snr = snr_map(padded)
        curve_image, curve_params = self.curve_estimator(torch.cat([padded, snr], dim=1))
        residual = self.decoder(torch.cat([curve_image, padded, snr], dim=1), snr)
        decoder_image = curve_image + residual
        mask = self.mask_predictor(curve_image, decoder_image, snr)
        blended = decoder_image + mask * (curve_image - decoder_image)
        coloured = self.colour_correction(self.colour_affine(blended))
        image = saturation_boost(coloured)

        def crop(t: torch.Tensor) -> torch.Tensor:
            return t[..., :height, :width]

        return EnhancerOutput(
            image=crop(image),
            curve_image=crop(curve_image),
            decoder_image=crop(decoder_image),
            mask=crop(mask),
            curve_params=crop(curve_params),
            snr=crop(snr),
        )
