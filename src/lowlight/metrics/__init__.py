"""Image quality metrics: the field's LOL evaluation protocol (PSNR, SSIM, GT-mean), the
per-image scorer, and no-reference figures (NIQE, mean grey level, clipped, near-white and
crushed fractions, colourfulness)."""

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
from lowlight.metrics.no_reference import (
    clipped_fraction,
    colourfulness,
    crushed_fraction,
    mean_grey,
    near_white_fraction,
    no_reference_protocol,
)
from lowlight.metrics.scoring import (
    COLOR_FLAGS,
    ImageScores,
    NoReferenceScores,
    color_flag,
    score_image,
    score_no_reference,
)

__all__ = [
    "COLOR_FLAGS",
    "ImageScores",
    "NoReferenceScores",
    "clipped_fraction",
    "color_flag",
    "colourfulness",
    "crushed_fraction",
    "gt_mean_rescale",
    "mean_grey",
    "near_white_fraction",
    "niqe",
    "no_reference_protocol",
    "protocol",
    "psnr",
    "psnr_gt_mean",
    "quantize",
    "score_image",
    "score_no_reference",
    "ssim",
    "ssim_gt_mean",
]
