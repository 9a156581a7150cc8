"""The weighted training objective: every loss term, its weight, and its value for the log."""

from __future__ import annotations

from collections.abc import Callable, Mapping

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

__all__ = ["TrainingObjective", "term_name", "weighted_sum"]


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
        total, terms = weighted_sum(
            {key: weights.get(key, 0.0) for key in WEIGHT_KEYS},
            lambda key: self._term(key, output, target),
        )
        return total, {term_name(key): value for key, value in terms.items()}


def weighted_sum(
    weights: Mapping[str, float], compute: Callable[[str], torch.Tensor]
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """``sum_k weights[k] * compute(k)``, and each term's detached value.

    Terms of weight 0 are still computed, without gradient, so that every term is logged.

    Examples:
        >>> values = {"a": torch.tensor(2.0), "b": torch.tensor(5.0)}
        >>> total, terms = weighted_sum({"a": 0.5, "b": 0.0}, values.__getitem__)
        >>> float(total), sorted(terms)
        (1.0, ['a', 'b'])
    """
    total: torch.Tensor | float = 0.0
    terms = {}
    for key, weight in weights.items():
        if weight > 0:
            value = compute(key)
            total = total + weight * value
        else:
            with torch.no_grad():
                value = compute(key)
        terms[key] = value.detach()
    if not isinstance(total, torch.Tensor):  # every weight 0
        total = next(iter(terms.values())).new_zeros(())
    return total, terms
