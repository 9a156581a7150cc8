"""The weighted training objective: every loss term, its weight, and its value for the log."""

from __future__ import annotations

import torch
from torch import nn

from lowlight.losses import (
    PerceptualLoss,
    charbonnier_loss,
    color_consistency_loss,
    color_diversity_loss,
    edge_loss,
    exposure_loss,
    mask_mean_loss,
    ssim_loss,
)
from lowlight.models import EnhancerOutput
from lowlight.training.loss_weights import WEIGHT_KEYS

__all__ = ["TrainingObjective", "term_name"]


def term_name(weight_key: str) -> str:
    """``"w_ssim"`` -> ``"ssim"``: the logged name of a weight's loss term."""
    return weight_key.removeprefix("w_")


class TrainingObjective(nn.Module):
    """``total = sum_k w_k * L_k`` over the eight loss terms of the schedule.

    Terms with weight 0 are still evaluated (without gradient) so every epoch logs all of them.

    Args:
        perceptual_weights: VGG16 weights for the perceptual term (see ``PerceptualLoss``).
    """

    def __init__(self, perceptual_weights: str | None = None) -> None:
        super().__init__()
        self.perceptual = PerceptualLoss(perceptual_weights)

    def _term(self, key: str, output: EnhancerOutput, target: torch.Tensor) -> torch.Tensor:
        image = output.image
        if key == "w_reconstruction":
            return charbonnier_loss(image, target)
        if key == "w_ssim":
            return ssim_loss(image, target)
        if key == "w_edge":
            return edge_loss(image, target)
        if key == "w_color_consistency":
            return color_consistency_loss(image)
        if key == "w_color_diversity":
            return color_diversity_loss(image)
        if key == "w_exposure":
            return exposure_loss(image)
        if key == "w_perceptual":
            return self.perceptual(image, target)
        if key == "w_mask_mean":
            return mask_mean_loss(output.mask)
        raise KeyError(key)

    def forward(
        self, output: EnhancerOutput, target: torch.Tensor, weights: dict[str, float]
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Returns ``(total, terms)``; ``terms`` maps term names to detached scalar values."""
        total = output.image.new_zeros(())
        terms = {}
        for key in WEIGHT_KEYS:
            weight = weights.get(key, 0.0)
            if weight > 0:
                value = self._term(key, output, target)
                total = total + weight * value
            else:
                with torch.no_grad():
                    value = self._term(key, output, target)
            terms[term_name(key)] = value.detach()
        return total, terms
