"""Zero-DCE curves: the formula by hand, range, gradients; the estimator touches RGB only."""

from __future__ import annotations

import pytest
import torch
from torch.autograd import gradcheck

from lowlight.models import ImprovedCurveEstimator, apply_curves


def constant(value: float, shape=(1, 3, 2, 2), dtype=torch.float32) -> torch.Tensor:
    return torch.full(shape, value, dtype=dtype)


@pytest.fixture(scope="module")
def estimator() -> ImprovedCurveEstimator:
    torch.manual_seed(0)
    return ImprovedCurveEstimator()


# --------------------------------------------------------------------------- apply_curves


def test_apply_curves_known_values() -> None:
    # x <- x + alpha * x * (1 - x): 0.5 -> 0.5 + 0.5 * 0.25 = 0.625
    #                                0.625 -> 0.625 + 0.5 * 0.625 * 0.375 = 0.7421875
    x, alpha = constant(0.5), constant(0.5)
    assert torch.equal(apply_curves(x, alpha, 1), constant(0.625))
    assert torch.equal(apply_curves(x, alpha, 2), constant(0.7421875))


def test_apply_curves_known_values_per_pixel() -> None:
    rgb = torch.tensor([0.2, 0.5, 0.9], dtype=torch.float64).view(1, 3, 1, 1)
    alpha = torch.tensor([1.0, -1.0, 0.25], dtype=torch.float64).view(1, 3, 1, 1)
    expected = []
    for x, a in zip((0.2, 0.5, 0.9), (1.0, -1.0, 0.25), strict=True):
        for _ in range(3):
            x = x + a * x * (1.0 - x)
        expected.append(x)
    assert torch.allclose(apply_curves(rgb, alpha, 3).view(3), torch.tensor(expected).double())
    # alpha = 1 is 1 - (1 - x)^2, alpha = -1 is x^2.
    assert apply_curves(rgb, alpha, 1).view(3)[0].item() == pytest.approx(1 - 0.8**2)
    assert apply_curves(rgb, alpha, 1).view(3)[1].item() == pytest.approx(0.25)


def test_apply_curves_identities() -> None:
    torch.manual_seed(1)
    rgb = torch.rand(2, 3, 5, 7)
    assert torch.equal(apply_curves(rgb, torch.zeros_like(rgb), 8), rgb)
    assert torch.equal(apply_curves(rgb, torch.rand_like(rgb), 0), rgb)
    # 0 and 1 are fixed points of every curve.
    alphas = torch.rand(1, 3, 2, 2) * 2 - 1
    assert torch.equal(apply_curves(constant(0.0), alphas, 8), constant(0.0))
    assert torch.equal(apply_curves(constant(1.0), alphas, 8), constant(1.0))


@pytest.mark.parametrize("iterations", [1, 2, 8])
def test_apply_curves_maps_unit_interval_into_itself(iterations: int) -> None:
    x = torch.linspace(0, 1, 501).view(1, 1, -1, 1).expand(1, 3, 501, 81)
    alpha = torch.linspace(-1, 1, 81).view(1, 1, 1, -1).expand(1, 3, 501, 81)
    out = apply_curves(x, alpha, iterations)
    assert out.min() >= 0.0 and out.max() <= 1.0


def test_apply_curves_brightens_for_positive_alpha_and_is_monotone() -> None:
    x = torch.linspace(0.01, 0.99, 50).view(1, 1, -1, 1).expand(1, 3, 50, 1)
    darker = apply_curves(x, torch.full_like(x, -0.5), 8)
    brighter = apply_curves(x, torch.full_like(x, 0.5), 8)
    assert (darker < x).all() and (brighter > x).all()
    # Monotone in x for |alpha| <= 1: order of pixel values is preserved.
    assert (brighter.diff(dim=2) > 0).all()


def test_apply_curves_gradcheck() -> None:
    torch.manual_seed(2)
    rgb = torch.rand(1, 3, 3, 2, dtype=torch.float64, requires_grad=True)
    alpha = (torch.rand(1, 3, 3, 2, dtype=torch.float64) * 2 - 1).requires_grad_()
    assert gradcheck(lambda x, a: apply_curves(x, a, 4), (rgb, alpha))


# --------------------------------------------------------------------------- estimator


def test_estimator_smoke_and_cardinality(estimator: ImprovedCurveEstimator) -> None:
    torch.manual_seed(3)
    for shape in [(1, 4, 32, 32), (2, 4, 37, 53), (3, 4, 8, 12)]:
        rgb_snr = torch.rand(shape)
        curve_image, curve_params = estimator(rgb_snr)
        expected = (shape[0], 3, shape[2], shape[3])
        assert curve_image.shape == expected
        assert curve_params.shape == expected
        assert curve_params.min() >= -1.0 and curve_params.max() <= 1.0
        assert curve_image.min() >= 0.0 and curve_image.max() <= 1.0


def test_estimator_curve_image_is_apply_curves_of_rgb(estimator: ImprovedCurveEstimator) -> None:
    torch.manual_seed(4)
    rgb_snr = torch.rand(2, 4, 24, 32)
    curve_image, curve_params = estimator(rgb_snr)
    expected = apply_curves(rgb_snr[:, :3], curve_params, estimator.iterations)
    assert torch.equal(curve_image, expected)
    assert estimator.iterations == 8 and estimator.scale == 4


def test_estimator_snr_guides_but_is_not_curved(estimator: ImprovedCurveEstimator) -> None:
    torch.manual_seed(5)
    rgb = torch.rand(1, 3, 16, 16)
    low_snr = torch.cat([rgb, torch.zeros(1, 1, 16, 16)], dim=1)
    high_snr = torch.cat([rgb, torch.ones(1, 1, 16, 16)], dim=1)
    image_low, params_low = estimator(low_snr)
    image_high, params_high = estimator(high_snr)
    # The SNR channel changes the estimate...
    assert (params_low - params_high).abs().max() > 1e-4
    # ...but only through the parameters: each image is the curve of the same RGB.
    assert torch.equal(image_low, apply_curves(rgb, params_low, 8))
    assert torch.equal(image_high, apply_curves(rgb, params_high, 8))


def test_estimator_black_rgb_stays_black_whatever_the_snr(
    estimator: ImprovedCurveEstimator,
) -> None:
    # 0 is a fixed point of the curve; a curved SNR channel (ones) would not be.
    rgb_snr = torch.cat([torch.zeros(1, 3, 16, 16), torch.ones(1, 1, 16, 16)], dim=1)
    curve_image, _ = estimator(rgb_snr)
    assert torch.equal(curve_image, torch.zeros(1, 3, 16, 16))


def test_estimator_gradients_reach_every_parameter() -> None:
    torch.manual_seed(6)
    estimator = ImprovedCurveEstimator(width=8)
    curve_image, _ = estimator(torch.rand(2, 4, 16, 16) * 0.5)
    (curve_image - 0.6).pow(2).mean().backward()
    for name, p in estimator.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().max() > 0, name


def test_a_shared_curve_keeps_the_colour_balance() -> None:
    torch.manual_seed(5)
    estimator = ImprovedCurveEstimator(width=8, curves=1)
    rgb = torch.rand(1, 3, 32, 32) * 0.2
    grey = rgb.mean(dim=1, keepdim=True).expand(-1, 3, -1, -1)
    with torch.no_grad():
        image, params = estimator(torch.cat([grey, torch.rand(1, 1, 32, 32)], dim=1))
    assert params.shape == (1, 3, 32, 32)
    assert torch.equal(params[:, 0], params[:, 1]) and torch.equal(params[:, 1], params[:, 2])
    # A grey input stays grey: one curve for all three channels adds no cast.
    assert torch.equal(image[:, 0], image[:, 2])


def test_scene_features_reach_the_curves_and_start_silent() -> None:
    torch.manual_seed(6)
    estimator = ImprovedCurveEstimator(width=8, scene_channels=5)
    rgb_snr = torch.rand(1, 4, 32, 32)
    scene = torch.rand(1, 5, 4, 4)
    with torch.no_grad():
        silent = estimator(rgb_snr, scene)[1]
        assert torch.equal(silent, estimator(rgb_snr, torch.zeros_like(scene))[1])
        estimator.scene.weight.normal_()
        assert not torch.equal(silent, estimator(rgb_snr, scene)[1])
    with pytest.raises(ValueError, match="scene features"):
        estimator(rgb_snr)
    with pytest.raises(ValueError, match="curves must be"):
        ImprovedCurveEstimator(curves=2)
