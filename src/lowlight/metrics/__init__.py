"""Image quality metrics under the field's LOL evaluation protocol."""

from lowlight.metrics.image_quality import (
    gt_mean_rescale,
    protocol,
    psnr,
    psnr_gt_mean,
    quantize,
    ssim,
    ssim_gt_mean,
)

__all__ = [
    "gt_mean_rescale",
    "protocol",
    "psnr",
    "psnr_gt_mean",
    "quantize",
    "ssim",
    "ssim_gt_mean",
]
