"""Scoring one enhanced image, against its reference or without one: the records evaluation
and validation keep.

``score_image`` (against a reference) and ``score_no_reference`` (without one) are the one place
where an output is scored: ``lowlight evaluate`` (through ``lowlight.evaluation``) and the
trainer's validation both call them, so their numbers are the same numbers.

The colour flag's rule lives here and its figures do not: the thresholds are part of the
training recipe (``lowlight.training.loss_weights.COLOR_THRESHOLDS``, where every figure of the
seed is kept), and this module sits below training, so callers pass them in. Saturation is the
network's own measure (``lowlight.models.colour.image_saturation``, the one its final boost
acts on), imported from its sibling at the bottom of the package; nothing here imports upward.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch

from lowlight.metrics.image_quality import psnr, psnr_gt_mean, ssim, ssim_gt_mean
from lowlight.metrics.niqe import NIQE_BLOCK, niqe
from lowlight.metrics.no_reference import (
    clipped_fraction,
    colourfulness,
    crushed_fraction,
    mean_grey,
)
from lowlight.models.colour import image_saturation

__all__ = [
    "ImageScores",
    "NoReferenceScores",
    "score_image",
    "score_no_reference",
    "color_flag",
    "COLOR_FLAGS",
]

COLOR_FLAGS = ("CRITICAL_COLOR", "LOW_COLOR", "OK")
"""From worst to best; what ``color_flag`` returns."""


@dataclass(frozen=True)
class ImageScores:
    """The scores of one output against its reference (see ``protocol()`` for how).

    Attributes:
        psnr: dB, uint8 RGB; ``inf`` for an output identical to its reference.
        ssim: in [-1, 1], 11x11 Gaussian window.
        psnr_gt_mean: PSNR after scaling the output to the reference's mean grey (GT-mean).
        ssim_gt_mean: SSIM after the same scaling; None when not asked for.
        saturation: mean HSV saturation of the output, in [0, 1].
        color_flag: ``"CRITICAL_COLOR"``, ``"LOW_COLOR"`` or ``"OK"`` for that saturation.
    """

    psnr: float
    ssim: float
    psnr_gt_mean: float
    ssim_gt_mean: float | None
    saturation: float
    color_flag: str


def color_flag(saturation: float, thresholds: Mapping[str, float]) -> str:
    """``"CRITICAL_COLOR"``, ``"LOW_COLOR"`` or ``"OK"`` for an image's mean saturation.

    Args:
        saturation: mean HSV saturation in [0, 1] (``image_saturation``).
        thresholds: ``critical_saturation`` (below it: CRITICAL_COLOR) and ``min_saturation``
            (below it: LOW_COLOR), as in ``lowlight.training.loss_weights.COLOR_THRESHOLDS``.

    Examples:
        >>> limits = {"critical_saturation": 0.04, "min_saturation": 0.10}
        >>> [color_flag(s, limits) for s in (0.01, 0.05, 0.3)]
        ['CRITICAL_COLOR', 'LOW_COLOR', 'OK']
    """
    if saturation < thresholds["critical_saturation"]:
        return "CRITICAL_COLOR"
    if saturation < thresholds["min_saturation"]:
        return "LOW_COLOR"
    return "OK"


def score_image(
    output: torch.Tensor,
    target: torch.Tensor,
    color_thresholds: Mapping[str, float],
    *,
    gt_mean_ssim: bool = True,
) -> ImageScores:
    """Score one output against its reference, on the device they are on.

    Args:
        output: (1, 3, H, W) float in [0, 1], H and W at least 11 (the SSIM window).
        target: (1, 3, H, W) float in [0, 1].
        color_thresholds: the thresholds of ``color_flag``.
        gt_mean_ssim: also compute ``ssim_gt_mean``; it costs about as much as all the other
            scores together, and validation during training does without it.

    Returns:
        The ``ImageScores`` of the image.

    Raises:
        ValueError: not one image each, or shapes that differ or are too small for SSIM.

    Examples:
        >>> image = torch.full((1, 3, 16, 16), 0.5)
        >>> limits = {"critical_saturation": 0.04, "min_saturation": 0.10}
        >>> scores = score_image(image, image, limits)
        >>> scores.psnr, scores.ssim, scores.color_flag
        (inf, 1.0, 'CRITICAL_COLOR')
    """
    if output.ndim != 4 or output.shape[0] != 1:
        raise ValueError(f"expected one image (1, 3, H, W), got {tuple(output.shape)}")
    saturation = float(image_saturation(output)[0])
    return ImageScores(
        psnr=float(psnr(output, target)[0]),
        ssim=float(ssim(output, target)[0]),
        psnr_gt_mean=float(psnr_gt_mean(output, target)[0]),
        ssim_gt_mean=float(ssim_gt_mean(output, target)[0]) if gt_mean_ssim else None,
        saturation=saturation,
        color_flag=color_flag(saturation, color_thresholds),
    )


@dataclass(frozen=True)
class NoReferenceScores:
    """The figures of one picture without a reference (see ``no_reference_protocol()``).

    Attributes:
        niqe: NIQE, lower is better; NaN for a picture without a textured block (flat).
        mean_grey: mean Rec. 601 luma in [0, 1].
        clipped: share of pixels with a channel at uint8 level 254 or 255, in [0, 1].
        crushed: share of pixels with every channel at uint8 level 2 or below, in [0, 1].
        colourfulness: Hasler & Suesstrunk's, on the 0-255 scale (0 for grey).
    """

    niqe: float
    mean_grey: float
    clipped: float
    crushed: float
    colourfulness: float


def score_no_reference(image: torch.Tensor) -> NoReferenceScores:
    """Score one picture without a reference, on the device it is on.

    Args:
        image: (1, 3, H, W) float in [0, 1], H and W at least 96 (one NIQE block).

    Returns:
        The ``NoReferenceScores`` of the picture.

    Raises:
        ValueError: not one image, smaller than one NIQE block, or not finite.

    Examples:
        >>> scores = score_no_reference(torch.zeros(1, 3, 96, 96))
        >>> scores.niqe, scores.mean_grey, scores.crushed
        (nan, 0.0, 1.0)
    """
    if image.ndim != 4 or image.shape[0] != 1:
        raise ValueError(f"expected one image (1, 3, H, W), got {tuple(image.shape)}")
    if min(image.shape[-2:]) < NIQE_BLOCK:
        raise ValueError(
            f"NIQE needs at least {NIQE_BLOCK}x{NIQE_BLOCK} pixels, got "
            f"{image.shape[-1]}x{image.shape[-2]}"
        )
    return NoReferenceScores(
        niqe=float(niqe(image)[0]),
        mean_grey=float(mean_grey(image)[0]),
        clipped=float(clipped_fraction(image)[0]),
        crushed=float(crushed_fraction(image)[0]),
        colourfulness=float(colourfulness(image)[0]),
    )
