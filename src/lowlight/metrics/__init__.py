"""Image quality metrics: the field's LOL evaluation protocol (PSNR, SSIM, GT-mean) and NIQE."""

from lowlight.metrics.image_quality import (
    gt_mean_rescale,
    protocol,
    psnr,
    psnr_gt_mean,
    quantize,
    ssim,
    ssim_gt_mean,
)
from lowlight.metrics.niqe import niqe

__all__ = [
    "gt_mean_rescale",
    "niqe",
    "protocol",
    "psnr",
    "psnr_gt_mean",
    "quantize",
    "ssim",
    "ssim_gt_mean",
]
