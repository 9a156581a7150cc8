"""Loss functions; each takes (B, 3, H, W) images in [0, 1] and returns a scalar tensor."""

from lowlight.losses.colour import (
    color_consistency_loss,
    color_diversity_loss,
    exposure_loss,
)
from lowlight.losses.perceptual import VGG_WEIGHTS_ENV, PerceptualLoss, multiscale_structural_loss
from lowlight.losses.pixel import (
    charbonnier_loss,
    edge_loss,
    mask_mean_loss,
    ssim_loss,
)
from lowlight.losses.zero_reference import illumination_smoothness_loss, spatial_consistency_loss

__all__ = [
    "PerceptualLoss",
    "VGG_WEIGHTS_ENV",
    "charbonnier_loss",
    "color_consistency_loss",
    "color_diversity_loss",
    "edge_loss",
    "exposure_loss",
    "illumination_smoothness_loss",
    "mask_mean_loss",
    "multiscale_structural_loss",
    "spatial_consistency_loss",
    "ssim_loss",
]
