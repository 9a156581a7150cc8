"""The objective of fine-tuning on photos without targets: zero-reference losses plus
distillation toward the starting model (see ``unpaired_recipe``)."""

from __future__ import annotations

import torch
from torch import nn

from lowlight.losses import (
    charbonnier_loss,
    color_consistency_loss,
    exposure_loss,
    illumination_smoothness_loss,
    spatial_consistency_loss,
    ssim_loss,
)
from lowlight.models import EnhancerOutput
from lowlight.training.objective import weighted_sum
from lowlight.training.unpaired_recipe import UNPAIRED_TERMS, UnpairedLoss

__all__ = ["UnpairedObjective"]


class UnpairedObjective(nn.Module):
    """``total = sum_k w_k * L_k`` over ``UNPAIRED_TERMS``, with the weights of ``loss``.

    Terms with weight 0 are still evaluated (without gradient) so every epoch logs all of them.
    ``reference`` is the starting model's output on the same crops: the distillation target.

    Args:
        loss: the weights and the exposure level.
    """

    def __init__(self, loss: UnpairedLoss) -> None:
        super().__init__()
        self.loss = loss

    def _term(
        self, name: str, output: EnhancerOutput, photo: torch.Tensor, reference: torch.Tensor
    ) -> torch.Tensor:
        image = output.image
        if name == "spatial_consistency":
            return spatial_consistency_loss(image, photo)
        if name == "exposure":
            return exposure_loss(image, well_exposed=self.loss.exposure_level)
        if name == "colour_constancy":
            return color_consistency_loss(image)
        if name == "illumination_smoothness":
            return illumination_smoothness_loss(output.curve_params)
        if name == "distill_l1":
            return charbonnier_loss(image, reference)
        if name == "distill_ssim":
            return ssim_loss(image, reference)
        raise KeyError(name)

    def forward(
        self, output: EnhancerOutput, photo: torch.Tensor, reference: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The weighted total and each term's detached value.

        Args:
            output: the network's output on ``photo``.
            photo: (B, 3, S, S) the input crops in [0, 1].
            reference: (B, 3, S, S) the starting model's output on the same crops.

        Returns:
            ``(total, terms)``; ``terms`` maps ``UNPAIRED_TERMS`` to scalar values.
        """
        weights = {name: self.loss.weight(name) for name in UNPAIRED_TERMS}
        return weighted_sum(weights, lambda name: self._term(name, output, photo, reference))
