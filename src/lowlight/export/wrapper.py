"""The enhancer as graphs to export: the image and both controls in, the enhanced image out;
in full (``ImageOnlyEnhancer``) or fast quality (``FastEnhancer``)."""

from __future__ import annotations

import torch
from torch import nn

from lowlight.imageio.full_resolution import (
    reduce_with_variance,
    reduced_shape,
    render_full_resolution,
)
from lowlight.models import UnifiedLowLightEnhancer
from lowlight.models.finishing import blend_strength, per_image

__all__ = ["FastEnhancer", "ImageOnlyEnhancer"]


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


class FastEnhancer(nn.Module):
    """The enhancer's fast quality as one graph: the image in, its enhancement at full size out.

    The network runs on the image reduced to a longer side of ``working_size``, and its result
    is rendered at full resolution (``lowlight.imageio.full_resolution``), all in the graph:
    what ``lowlight.enhance(..., quality="fast")`` computes, for pictures longer than the
    working size (smaller ones come back as the rendering of the network's own result at
    their size, close to it). The controls act as in ``ImageOnlyEnhancer``.

    Args:
        model: the enhancer, used as it is.
        working_size: the reduced picture's longer side, in pixels.

    Example:
        >>> wrapper = FastEnhancer(UnifiedLowLightEnhancer().eval(), working_size=32)
        >>> image = torch.rand(1, 3, 60, 90) * 0.2
        >>> wrapper(image, torch.zeros(1), torch.ones(1)).shape
        torch.Size([1, 3, 60, 90])
    """

    def __init__(self, model: UnifiedLowLightEnhancer, working_size: int) -> None:
        super().__init__()
        self.model = model
        self.working_size = working_size

    def forward(
        self, image: torch.Tensor, exposure: torch.Tensor, strength: torch.Tensor
    ) -> torch.Tensor:
        """Enhance a batch: as ``ImageOnlyEnhancer.forward``."""
        height, width = image.shape[-2:]
        size = reduced_shape(height, width, self.working_size)
        reduced, variance = reduce_with_variance(image, size, traceable=True)
        result = self.model(reduced, exposure=exposure).image
        rendered = render_full_resolution(image, reduced, result, variance, band_rows=None)
        return blend_strength(image, rendered, per_image(strength, rendered))
