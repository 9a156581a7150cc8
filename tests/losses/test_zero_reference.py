"""Zero-DCE's spatial consistency and illumination smoothness: zeros, known values, gradients."""

from __future__ import annotations

import pytest
import torch
from torch.autograd import gradcheck

from lowlight.losses import illumination_smoothness_loss, spatial_consistency_loss


def dark(seed: int, height: int = 16, width: int = 24) -> torch.Tensor:
    return torch.rand(2, 3, height, width, generator=torch.Generator().manual_seed(seed)) * 0.2


def test_spatial_consistency_is_zero_for_the_input_and_for_a_shift_of_it() -> None:
    low = dark(0)
    assert float(spatial_consistency_loss(low, low)) == 0.0
    assert float(spatial_consistency_loss(low + 0.4, low)) == pytest.approx(0.0, abs=1e-12)
    # Only the size of the steps counts, so a negative keeps it as well.
    assert float(spatial_consistency_loss(0.5 - low, low)) == pytest.approx(0.0, abs=1e-12)


def test_spatial_consistency_known_value() -> None:
    # 2x2 regions of 4x4 pixels: the left column at grey 0.1, the right at 0.3; enhanced,
    # at 0.2 and 0.8.
    low, pred = torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 8)
    low[..., :4], low[..., 4:] = 0.1, 0.3
    pred[..., :4], pred[..., 4:] = 0.2, 0.8
    # Each region has one horizontal neighbour, at a step of 0.6 where it was 0.2, and one
    # vertical neighbour at a step of 0 as before: 4 regions x 0.4^2 / 4 regions.
    assert float(spatial_consistency_loss(pred, low)) == pytest.approx(0.16, rel=1e-6)


def test_spatial_consistency_needs_two_regions_a_side() -> None:
    with pytest.raises(ValueError, match="two 4x4 regions a side"):
        spatial_consistency_loss(torch.zeros(1, 3, 7, 16), torch.zeros(1, 3, 7, 16))


def test_spatial_consistency_grows_with_stretched_contrast() -> None:
    low = dark(1)
    mild, strong = (spatial_consistency_loss(low * gain, low) for gain in (2.0, 4.0))
    assert 0.0 < float(mild) < float(strong)


def test_spatial_consistency_is_the_mean_over_images() -> None:
    low, pred = dark(2), dark(3)
    both = spatial_consistency_loss(pred, low)
    each = [spatial_consistency_loss(pred[i : i + 1], low[i : i + 1]) for i in range(2)]
    assert float(both) == pytest.approx(float(sum(each)) / 2, rel=1e-6)


def test_spatial_consistency_refuses_shapes_that_differ() -> None:
    with pytest.raises(ValueError, match="differ in shape"):
        spatial_consistency_loss(dark(0), dark(0, width=16))


def test_spatial_consistency_gradcheck() -> None:
    low = dark(4, 8, 12).double()
    pred = (low * 2.5 + 0.05).requires_grad_()
    assert gradcheck(lambda p: spatial_consistency_loss(p, low), (pred,))


def test_illumination_smoothness_is_zero_for_flat_curves_and_known_for_ramps() -> None:
    assert float(illumination_smoothness_loss(torch.full((2, 3, 5, 7), 0.4))) == 0.0
    rows = torch.arange(5.0).view(1, 1, 5, 1).expand(2, 3, 5, 7) * 0.2
    columns = torch.arange(7.0).view(1, 1, 1, 7).expand(2, 3, 5, 7) * 0.1
    assert float(illumination_smoothness_loss(rows)) == pytest.approx(0.04)
    assert float(illumination_smoothness_loss(rows + columns)) == pytest.approx(0.05)


def test_illumination_smoothness_refuses_what_has_no_neighbours() -> None:
    with pytest.raises(ValueError, match="at least 2x2"):
        illumination_smoothness_loss(torch.zeros(1, 3, 1, 8))
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        illumination_smoothness_loss(torch.zeros(3, 8, 8))


def test_illumination_smoothness_gradcheck() -> None:
    params = torch.rand(1, 3, 4, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    assert gradcheck(illumination_smoothness_loss, (params.requires_grad_(),))
