"""Guided upsampling of coarse maps: bilinear where flat, a clean step at the guide's edges."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.autograd import gradcheck

from lowlight.models import ImprovedCurveEstimator
from lowlight.models.guided import exposure_guide, guided_upsample


def step_picture(height: int = 64, width: int = 96, edge: int = 45) -> torch.Tensor:
    """A dark room (left) beside a lit window (right), with a sharp edge between them."""
    rgb = torch.full((1, 3, height, width), 0.03)
    rgb[..., edge:] = 0.8
    return rgb


def test_the_guide_is_log_luma_in_the_unit_range() -> None:
    levels = torch.tensor([0.0, 2.0**-5, 1.0]).view(1, 1, 1, 3).expand(1, 3, 1, 3)
    guide = exposure_guide(levels)
    assert guide.shape == (1, 1, 1, 3)
    assert float(guide[..., 0]) == pytest.approx(0.0, abs=1e-6)
    assert float(guide[..., 2]) == pytest.approx(1.0 + torch.log2(torch.tensor(1 + 2**-10)) / 10)
    # Five stops are half the guide's range (a stop is a tenth, bar the floor at black).
    assert float(guide[..., 2] - guide[..., 1]) == pytest.approx(0.5, abs=0.01)


def test_a_flat_guide_gives_the_bilinear_upsampling_of_the_window_means() -> None:
    torch.manual_seed(0)
    coarse = torch.rand(1, 2, 8, 12)
    flat_small, flat = torch.full((1, 1, 8, 12), 0.4), torch.full((1, 1, 32, 48), 0.4)

    def window_mean(x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(F.pad(x, (2, 2, 2, 2), mode="replicate"), 5, stride=1)

    # The fit's offset is the window mean, averaged again over the windows around each cell.
    bilinear = F.interpolate(
        window_mean(window_mean(coarse)),
        size=(32, 48),
        mode="bilinear",
        align_corners=False,
    )
    assert torch.allclose(guided_upsample(coarse, flat_small, flat), bilinear, atol=1e-5)


def test_a_map_that_follows_the_guide_steps_at_its_edge_without_a_halo() -> None:
    rgb = step_picture()
    small = F.interpolate(rgb, scale_factor=0.25, mode="area")
    coarse_guide, guide = exposure_guide(small), exposure_guide(rgb)
    # A lift that is strong in the dark room and weak at the window, decided coarsely.
    coarse = 1.0 - coarse_guide
    guided = guided_upsample(coarse, coarse_guide, guide)
    bilinear = F.interpolate(coarse, size=rgb.shape[-2:], mode="bilinear", align_corners=False)
    room, window = float(guided[..., 20].mean()), float(guided[..., 80].mean())
    beside = guided[..., 45:48]  # the three window columns next to the edge
    assert float((beside - window).abs().max()) < 0.05 * (room - window)
    # Bilinear upsampling spills the room's lift over the window's frame.
    assert float((bilinear[..., 45:48] - window).abs().max()) > 0.1 * (room - window)


def test_guided_upsampling_gradcheck() -> None:
    torch.manual_seed(1)
    coarse = torch.rand(1, 1, 6, 6, dtype=torch.float64, requires_grad=True)
    coarse_guide = torch.rand(1, 1, 6, 6, dtype=torch.float64)
    guide = torch.rand(1, 1, 12, 12, dtype=torch.float64)
    assert gradcheck(lambda c: guided_upsample(c, coarse_guide, guide, radius=1), (coarse,))


def test_guided_curve_parameters_stay_in_range_and_get_gradients() -> None:
    torch.manual_seed(2)
    estimator = ImprovedCurveEstimator(width=8, curves=1, guided=True)
    rgb = torch.rand(2, 3, 32, 48) * 0.5
    curve_image, params = estimator(torch.cat([rgb, torch.rand(2, 1, 32, 48)], dim=1))
    assert params.shape == (2, 3, 32, 48)
    assert float(params.detach().abs().max()) <= 1.0
    assert 0.0 <= float(curve_image.detach().min()) and float(curve_image.detach().max()) <= 1.0
    (curve_image - 0.6).pow(2).mean().backward()
    for name, p in estimator.named_parameters():
        assert p.grad is not None and p.grad.abs().max() > 0, name
