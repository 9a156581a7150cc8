"""The enhancer as a graph to export: the image and both controls in, the enhanced image out."""

from __future__ import annotations

import torch
from torch import nn

from lowlight.models import UnifiedLowLightEnhancer

__all__ = ["ImageOnlyEnhancer"]


class ImageOnlyEnhancer(nn.Module):
    """``UnifiedLowLightEnhancer`` reduced to what a deployed model gives: the enhanced image.

    Every input is a tensor, so an exported graph takes the exposure and strength controls as
    inputs of its own, one value per image, and leaves out the intermediate images of
    ``EnhancerOutput``. Its results are the wrapped model's.

    Args:
        model: the enhancer, used as it is (its parameters are shared, not copied).

    Examples:
        >>> wrapper = ImageOnlyEnhancer(UnifiedLowLightEnhancer().eval())
        >>> image = torch.rand(2, 3, 21, 30) * 0.2
        >>> wrapper(image, torch.tensor([0.0, 1.0]), torch.tensor([1.0, 0.5])).shape
        torch.Size([2, 3, 21, 30])
    """

    def __init__(self, model: UnifiedLowLightEnhancer) -> None:
        super().__init__()
        self.model = model

    def forward(
        self, image: torch.Tensor, exposure: torch.Tensor, strength: torch.Tensor
    ) -> torch.Tensor:
        """Enhance a batch.

        Args:
            image: float (N, 3, H, W), RGB in [0, 1], any H and W.
            exposure: float (N,), stops relative to the model's own exposure (0: automatic,
                +1 doubles the result's linear light; meant for -8 to +8).
            strength: float (N,) in [0, 1]: 0 returns the input unchanged, 1 the full
                enhancement.

        Returns:
            float (N, 3, H, W) in [0, 1].
        """
        return self.model(image, exposure=exposure, strength=strength).image
