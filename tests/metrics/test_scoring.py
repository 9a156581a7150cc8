"""The per-image scorer: the same numbers as the metrics it gathers, and the colour flag."""

from __future__ import annotations

import math

import pytest
import torch

from lowlight.metrics import (
    COLOR_FLAGS,
    clipped_fraction,
    color_flag,
    colourfulness,
    crushed_fraction,
    mean_grey,
    niqe,
    psnr,
    psnr_gt_mean,
    score_image,
    score_no_reference,
    ssim,
    ssim_gt_mean,
)
from lowlight.models.colour import image_saturation
from lowlight.training.loss_weights import COLOR_THRESHOLDS


def _pair(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    target = torch.rand(1, 3, 24, 31, generator=generator)
    output = (target * 0.6 + 0.1 * torch.rand(1, 3, 24, 31, generator=generator)).clamp(0, 1)
    return output, target


def test_scores_are_the_metrics_of_the_image() -> None:
    output, target = _pair()
    scores = score_image(output, target, COLOR_THRESHOLDS)
    assert scores.psnr == float(psnr(output, target)[0])
    assert scores.ssim == float(ssim(output, target)[0])
    assert scores.psnr_gt_mean == float(psnr_gt_mean(output, target)[0])
    assert scores.ssim_gt_mean == float(ssim_gt_mean(output, target)[0])
    assert scores.saturation == float(image_saturation(output)[0])
    assert scores.color_flag == color_flag(scores.saturation, COLOR_THRESHOLDS)


def test_gt_mean_ssim_can_be_left_out() -> None:
    output, target = _pair(1)
    full = score_image(output, target, COLOR_THRESHOLDS)
    light = score_image(output, target, COLOR_THRESHOLDS, gt_mean_ssim=False)
    assert light.ssim_gt_mean is None
    assert (light.psnr, light.ssim, light.psnr_gt_mean) == (full.psnr, full.ssim, full.psnr_gt_mean)


def test_a_grey_image_identical_to_its_target() -> None:
    grey = torch.full((1, 3, 16, 16), 0.5)
    scores = score_image(grey, grey, COLOR_THRESHOLDS)
    assert math.isinf(scores.psnr) and scores.ssim == pytest.approx(1.0)
    assert scores.saturation == 0.0 and scores.color_flag == "CRITICAL_COLOR"


def test_one_image_at_a_time() -> None:
    output, target = _pair()
    message = r"expected one image \(1, 3, H, W\), got \(2, 3, 24, 31\)"
    with pytest.raises(ValueError, match=message):
        score_image(output.expand(2, -1, -1, -1), target.expand(2, -1, -1, -1), COLOR_THRESHOLDS)


@pytest.mark.parametrize("saturation", [0.0, 0.039, 0.04, 0.0999, 0.1, 1.0])
def test_color_flag_uses_the_thresholds_it_is_given(saturation: float) -> None:
    strict = {"critical_saturation": 1.5, "min_saturation": 2.0}
    assert color_flag(saturation, strict) == "CRITICAL_COLOR"
    assert color_flag(saturation, COLOR_THRESHOLDS) in COLOR_FLAGS


def test_no_reference_scores_are_the_metrics_of_the_image() -> None:
    generator = torch.Generator().manual_seed(3)
    image = torch.rand(1, 3, 100, 130, generator=generator) ** 3
    image[..., :10, :] = 1.0
    scores = score_no_reference(image)
    assert scores.niqe == float(niqe(image)[0])
    assert scores.mean_grey == float(mean_grey(image)[0])
    assert scores.clipped == float(clipped_fraction(image)[0]) >= 0.1
    assert scores.crushed == float(crushed_fraction(image)[0]) > 0.0
    assert scores.colourfulness == float(colourfulness(image)[0])


def test_no_reference_scores_of_a_flat_image_have_no_niqe() -> None:
    scores = score_no_reference(torch.full((1, 3, 96, 96), 0.5))
    assert math.isnan(scores.niqe)
    assert scores.clipped == scores.crushed == scores.colourfulness == 0.0


@pytest.mark.parametrize(
    ("shape", "message"),
    [((2, 3, 96, 96), "one image"), ((1, 3, 95, 200), "96x96"), ((1, 3, 200, 64), "96x96")],
)
def test_no_reference_scores_refuse_what_cannot_be_scored(shape, message) -> None:
    with pytest.raises(ValueError, match=message):
        score_no_reference(torch.zeros(shape))
