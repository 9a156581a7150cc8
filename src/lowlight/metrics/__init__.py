"""Image quality metrics under the field's LOL evaluation protocol, and the per-image scorer."""

from lowlight.metrics.image_quality import (
    gt_mean_rescale,
    protocol,
    psnr,
    psnr_gt_mean,
    quantize,
    ssim,
    ssim_gt_mean,
)
from lowlight.metrics.scoring import COLOR_FLAGS, ImageScores, color_flag, score_image

__all__ = [
    "COLOR_FLAGS",
    "ImageScores",
    "color_flag",
    "gt_mean_rescale",
    "protocol",
    "psnr",
    "psnr_gt_mean",
    "quantize",
    "score_image",
    "ssim",
    "ssim_gt_mean",
]
