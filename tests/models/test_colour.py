"""Global colour modules (hard bounds, no white balance) and the final saturation boost."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.autograd import gradcheck

from lowlight.models import EnhancedGlobalColorCorrection, GlobalColourAffine, saturation_boost
from lowlight.models.colour import (
    BOOST_MAX_GAIN,
    BOOST_SATURATION_THRESHOLD,
    LUMA_WEIGHTS,
    apply_saturation_boost,
    image_saturation,
    luminance,
    saturation_boost_factor,
)

EYE = torch.eye(3)
OFF_DIAGONAL = ~torch.eye(3, dtype=torch.bool)
STEPS = 50


def cast_image() -> torch.Tensor:
    """A scene with a strong orange cast: red far above blue everywhere."""
    torch.manual_seed(0)
    base = torch.rand(2, 1, 16, 16) * 0.5 + 0.2
    return torch.cat([base * 1.4, base * 0.9, base * 0.3], dim=1).clamp(0.0, 1.0)


def record_forward_values(module: torch.nn.Module, names: list[str]) -> list[dict]:
    """Record each parameter as the forward pass sees it (after the clamping pre-hook)."""
    seen: list[dict] = []

    def hook(mod: torch.nn.Module, args: tuple) -> None:
        seen.append({name: getattr(mod, name).detach().clone() for name in names})

    module.register_forward_pre_hook(hook)
    return seen


def uniform_image(pixel: tuple[float, float, float], dtype=torch.float64) -> torch.Tensor:
    return torch.tensor(pixel, dtype=dtype).view(1, 3, 1, 1).expand(1, 3, 4, 4).contiguous()


def greyish(saturation_spread: float, seed: int, dtype=torch.float64) -> torch.Tensor:
    """Grey 0.5 plus a small random colour offset of amplitude ``saturation_spread``."""
    generator = torch.Generator().manual_seed(seed)
    offset = (torch.rand(1, 3, 6, 6, generator=generator, dtype=dtype) - 0.5) * saturation_spread
    return 0.5 + offset


def expected_gain(saturation: float) -> float:
    """The documented boost, ``1 + clamp(2 * relu(0.15 - s) / 0.15, 0, 1)``, by hand."""
    return 1.0 + min(1.0, max(0.0, 2.0 * (0.15 - saturation) / 0.15))


def chroma(rgb: torch.Tensor) -> torch.Tensor:
    return rgb - luminance(rgb)


# --------------------------------------------------------------------------- helpers


def test_luminance_and_saturation_known_values() -> None:
    red = uniform_image((1.0, 0.0, 0.0))
    assert torch.allclose(luminance(red), torch.tensor(0.299, dtype=torch.float64))
    assert LUMA_WEIGHTS == (0.299, 0.587, 0.114)
    # (max - min) / (max + 1e-3)
    assert image_saturation(red).item() == pytest.approx(1.0 / 1.001, abs=1e-12)
    pixel = uniform_image((0.6, 0.4, 0.3))
    assert image_saturation(pixel).item() == pytest.approx(0.3 / 0.601, abs=1e-12)
    assert image_saturation(torch.zeros(2, 3, 4, 4)).tolist() == [0.0, 0.0]


# --------------------------------------------------------------------------- GlobalColourAffine


def test_affine_init_is_identity() -> None:
    affine = GlobalColourAffine()
    assert affine.identity_clamp == 0.15
    assert affine.vibrance is None
    assert torch.equal(affine.weight.view(3, 3), EYE)
    with_vibrance = GlobalColourAffine(enable_vibrance=True)
    assert with_vibrance.vibrance.tolist() == [1.0]


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("enable_vibrance", [False, True])
def test_affine_at_init_keeps_a_colour_cast(mode: str, enable_vibrance: bool) -> None:
    # No gray-world white balance (seed fix #4 A): the cast must survive, in both modes.
    affine = GlobalColourAffine(enable_vibrance=enable_vibrance)
    getattr(affine, mode)()
    rgb = cast_image()
    out = affine(rgb)
    assert (out - rgb).abs().max() < 1e-6
    means = out.mean(dim=(0, 2, 3))
    assert means[0] > 2.0 * means[2]


def test_affine_train_equals_eval_after_training_steps() -> None:
    torch.manual_seed(1)
    affine = GlobalColourAffine(enable_vibrance=True)
    with torch.no_grad():
        affine.weight.add_(torch.randn(3, 3, 1, 1) * 0.05)
        affine.vibrance.fill_(1.1)
    rgb = cast_image()
    assert torch.equal(affine.train()(rgb), affine.eval()(rgb))


def test_affine_clamp_keeps_identity() -> None:
    # The old flat clamp_(0.95, 1.05) of all 9 entries turned the zero off-diagonals into 0.95.
    affine = GlobalColourAffine()
    affine.clamp_parameters_()
    assert torch.equal(affine.weight.view(3, 3), EYE)
    old_flat_clamp = EYE.clamp(0.95, 1.05)
    assert not torch.equal(old_flat_clamp, EYE)


def test_affine_clamp_is_identity_relative() -> None:
    affine = GlobalColourAffine(enable_vibrance=True)
    with torch.no_grad():
        values = torch.tensor([[5.0, -2.0, 0.1], [0.3, -1.0, -0.05], [-9.0, 2.0, 1.1]])
        affine.weight.copy_(values.view(3, 3, 1, 1))
        affine.vibrance.fill_(0.2)
    affine.clamp_parameters_()
    expected = torch.tensor([[1.15, -0.15, 0.1], [0.15, 0.85, -0.05], [-0.15, 0.15, 1.1]])
    assert torch.allclose(affine.weight.view(3, 3), expected)
    assert affine.vibrance.item() == pytest.approx(0.85)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
@pytest.mark.parametrize("direction", [1.0, -1.0])
def test_affine_bounds_hold_under_large_steps(optimizer: str, direction: float) -> None:
    # direction +1 rewards a large diagonal and negative off-diagonals (impossible under the
    # old flat clamp, whose lower bound was 0.95); -1 the opposite.
    torch.manual_seed(2)
    affine = GlobalColourAffine(enable_vibrance=True, identity_clamp=0.15)
    seen = record_forward_values(affine, ["weight", "vibrance"])
    params = list(affine.parameters())
    opt = torch.optim.Adam(params, lr=0.5) if optimizer == "adam" else torch.optim.SGD(params, lr=5)
    sign = (2.0 * torch.eye(3) - 1.0).view(3, 3, 1, 1) * direction
    rgb = torch.rand(1, 3, 8, 8)
    for _ in range(STEPS):
        opt.zero_grad()
        out = affine(rgb)
        loss = -(affine.weight * sign).sum() - direction * affine.vibrance.sum() + 0 * out.sum()
        loss.backward()
        opt.step()
    out = affine(rgb)  # the last step's values, as the forward sees them
    assert len(seen) == STEPS + 1
    for values in seen:
        matrix = values["weight"].view(3, 3)
        assert (matrix.diagonal() >= 0.85).all() and (matrix.diagonal() <= 1.15).all()
        assert (matrix[OFF_DIAGONAL] >= -0.15).all() and (matrix[OFF_DIAGONAL] <= 0.15).all()
        assert 0.85 <= values["vibrance"].item() <= 1.15
    matrix = affine.weight.view(3, 3)
    assert torch.allclose(matrix.diagonal(), torch.full((3,), 1.0 + 0.15 * direction))
    assert torch.allclose(matrix[OFF_DIAGONAL], torch.full((6,), -0.15 * direction))
    assert affine.vibrance.item() == pytest.approx(1.0 + 0.15 * direction)
    # And the forward used exactly these bounded values.
    mixed = F.conv2d(rgb, matrix.view(3, 3, 1, 1))
    luma = luminance(mixed)
    assert torch.allclose(out, luma + (mixed - luma) * (1.0 + 0.15 * direction), atol=1e-6)


def test_affine_identity_clamp_is_configurable() -> None:
    affine = GlobalColourAffine(identity_clamp=0.05)
    with torch.no_grad():
        affine.weight.fill_(-1.0)
    affine(torch.rand(1, 3, 4, 4))
    matrix = affine.weight.view(3, 3)
    assert torch.allclose(matrix.diagonal(), torch.full((3,), 0.95))
    assert torch.allclose(matrix[OFF_DIAGONAL], torch.full((6,), -0.05))


def test_affine_forward_has_no_train_only_branch() -> None:
    source = inspect.getsource(GlobalColourAffine.forward)
    assert "training" not in source
    assert "mean(" not in source  # no gray-world channel means


# --------------------------------------------------------------------------- colour correction


def test_correction_init_and_ranges() -> None:
    module = EnhancedGlobalColorCorrection()
    assert module.WEIGHT_RANGE == (0.98, 1.02)
    assert module.BIAS_RANGE == (-0.01, 0.01)
    assert module.VIBRANCE_RANGE == (0.98, 1.05)
    assert module.GAMMA_RANGE == (0.95, 1.05)
    assert module.VIBRANCE_INIT == 1.2
    assert module.vibrance_factor.item() == pytest.approx(1.2)
    assert torch.equal(module.weight, torch.ones(1, 3, 1, 1))
    assert torch.equal(module.bias, torch.zeros(1, 3, 1, 1))
    assert torch.equal(module.channel_gamma, torch.ones(1, 3, 1, 1))
    # The initial 1.2 lies above the band, so the first forward uses its top, 1.05.
    module(torch.rand(1, 3, 4, 4))
    assert module.vibrance_factor.item() == pytest.approx(1.05)


def test_correction_known_values_at_init() -> None:
    module = EnhancedGlobalColorCorrection()
    rgb = torch.tensor([0.6, 0.4, 0.2]).view(1, 3, 1, 1)
    luma = 0.299 * 0.6 + 0.587 * 0.4 + 0.114 * 0.2
    expected = torch.tensor([luma + (v - luma) * 1.05 for v in (0.6, 0.4, 0.2)])
    assert torch.allclose(module(rgb).view(3), expected, atol=1e-6)
    grey = torch.full((1, 3, 4, 4), 0.37)
    assert (module(grey) - grey).abs().max() < 1e-6


def test_correction_output_is_clamped() -> None:
    module = EnhancedGlobalColorCorrection()
    out = module(torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1))
    assert out.min() >= 0.0 and out.max() <= 1.0


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
@pytest.mark.parametrize("direction", [1.0, -1.0])
def test_correction_bounds_hold_under_large_steps(optimizer: str, direction: float) -> None:
    torch.manual_seed(3)
    module = EnhancedGlobalColorCorrection()
    names = ["weight", "bias", "vibrance_factor", "channel_gamma"]
    seen = record_forward_values(module, names)
    params = list(module.parameters())
    opt = (
        torch.optim.Adam(params, lr=1.0) if optimizer == "adam" else torch.optim.SGD(params, lr=10)
    )
    rgb = torch.rand(1, 3, 8, 8)
    for _ in range(STEPS):
        opt.zero_grad()
        out = module(rgb)
        loss = -direction * sum(p.sum() for p in params) + 0 * out.sum()
        loss.backward()
        opt.step()
    out = module(rgb)
    ranges = {
        "weight": (0.98, 1.02),
        "bias": (-0.01, 0.01),
        "vibrance_factor": (0.98, 1.05),
        "channel_gamma": (0.95, 1.05),
    }
    assert len(seen) == STEPS + 1
    for values in seen:
        for name, (low, high) in ranges.items():
            assert values[name].min() >= low - 1e-7, name
            assert values[name].max() <= high + 1e-7, name
    for name, (low, high) in ranges.items():
        bound = high if direction > 0 else low
        assert torch.allclose(getattr(module, name), torch.tensor(bound)), name
    # The forward used the bounded values.
    corrected = (rgb * module.weight + module.bias).clamp(1e-4, 1.0).pow(module.channel_gamma)
    luma = luminance(corrected)
    expected = (luma + (corrected - luma) * module.vibrance_factor).clamp(0.0, 1.0)
    assert torch.allclose(out, expected, atol=1e-6)


def test_correction_gradients_reach_every_parameter() -> None:
    torch.manual_seed(4)
    module = EnhancedGlobalColorCorrection()
    out = module(torch.rand(2, 3, 8, 8) * 0.8 + 0.1)
    out.mean().backward()
    for name, p in module.named_parameters():
        assert torch.isfinite(p.grad).all() and p.grad.abs().max() > 0, name


# --------------------------------------------------------------------------- saturation boost


def test_boost_constants() -> None:
    assert BOOST_SATURATION_THRESHOLD == 0.15
    assert BOOST_MAX_GAIN == 1.0


def test_boost_smoke_and_shape() -> None:
    rgb = torch.rand(3, 3, 5, 7)
    out = saturation_boost(rgb)
    assert out.shape == rgb.shape and out.dtype == rgb.dtype


@pytest.mark.parametrize("seed", range(4))
def test_boost_leaves_saturated_images_alone(seed: int) -> None:
    torch.manual_seed(seed)
    rgb = torch.rand(2, 3, 16, 16)
    assert (image_saturation(rgb) >= 0.15).all()
    out = saturation_boost(rgb)
    # luma + (rgb - luma) * 1: equal up to one rounding of the subtraction and addition.
    assert (out - rgb).abs().max() <= 1e-7


def test_boost_leaves_an_image_at_the_threshold_alone() -> None:
    # (1 - x) / (1 + 1e-3) = 0.15 exactly at the top of the ramp.
    rgb = uniform_image((1.0, 1.0 - 0.15 * 1.001, 1.0 - 0.15 * 1.001))
    assert image_saturation(rgb).item() == pytest.approx(0.15, abs=1e-12)
    assert torch.allclose(saturation_boost(rgb), rgb, atol=1e-12)


def test_boost_leaves_an_exactly_grey_image_alone() -> None:
    for level in (0.0, 0.2, 0.5, 1.0):
        grey = torch.full((1, 3, 8, 8), level)
        assert (saturation_boost(grey) - grey).abs().max() < 1e-6


@pytest.mark.parametrize(("spread", "seed"), [(0.04, 0), (0.1, 1), (0.14, 2), (0.2, 3), (0.3, 4)])
def test_boost_scales_chroma_by_the_documented_gain(spread: float, seed: int) -> None:
    rgb = greyish(spread, seed)
    array = rgb[0].numpy()
    saturation = float(np.mean((array.max(0) - array.min(0)) / (array.max(0) + 1e-3)))
    gain = expected_gain(saturation)
    out = saturation_boost(rgb)
    assert out.min() >= 0.0 and out.max() <= 1.0
    # Nothing clips at grey 0.5, so chroma is scaled by exactly the gain, luma kept.
    assert torch.allclose(chroma(out), chroma(rgb) * gain, atol=1e-12)
    assert torch.allclose(luminance(out), luminance(rgb), atol=1e-12)
    assert 1.0 <= gain <= 2.0


def test_boost_gain_is_two_below_half_the_threshold() -> None:
    rgb = greyish(0.04, seed=5)
    assert image_saturation(rgb).item() < 0.075
    assert torch.allclose(chroma(saturation_boost(rgb)), 2.0 * chroma(rgb), atol=1e-12)


def test_boost_output_stays_in_range_near_black_and_white() -> None:
    torch.manual_seed(6)
    near_white = (0.97 + 0.03 * torch.rand(2, 3, 8, 8)).clamp(max=1.0)
    near_black = 0.02 + 0.002 * torch.rand(2, 3, 8, 8)
    for rgb in (near_white, near_black):
        out = saturation_boost(rgb)
        assert out.min() >= 0.0 and out.max() <= 1.0
        assert torch.isfinite(out).all()


def test_boost_is_continuous_across_the_threshold() -> None:
    below = uniform_image((1.0, 1.0 - 0.1499 * 1.001, 1.0 - 0.1499 * 1.001))
    above = uniform_image((1.0, 1.0 - 0.1501 * 1.001, 1.0 - 0.1501 * 1.001))
    assert (saturation_boost(below) - below).abs().max() < 2e-4
    assert (saturation_boost(above) - above).abs().max() < 1e-12


def test_boost_is_per_image_in_a_mixed_batch() -> None:
    torch.manual_seed(7)
    saturated = torch.rand(1, 3, 6, 6, dtype=torch.float64)
    grey_ish = greyish(0.1, seed=8)
    batch = torch.cat([saturated, grey_ish])
    out = saturation_boost(batch)
    assert (out[0] - saturated[0]).abs().max() < 1e-12
    assert (out[1] - grey_ish[0]).abs().max() > 1e-3
    assert torch.allclose(out[1:], saturation_boost(grey_ish))


@pytest.mark.parametrize("saturation", [0.15, 0.075])
def test_boost_gradient_is_finite_at_the_ramp_edges(saturation: float) -> None:
    low = 1.0 - saturation * 1.001
    rgb = uniform_image((1.0, low, low)).requires_grad_()
    assert image_saturation(rgb.detach()).item() == pytest.approx(saturation, abs=1e-12)
    saturation_boost(rgb).sum().backward()
    assert torch.isfinite(rgb.grad).all()
    assert rgb.grad.abs().max() > 0


@pytest.mark.parametrize(
    ("spread", "seed", "low", "high"),
    [(0.12, 0, 0.075, 0.15), (0.5, 1, 0.15, 1.0), (0.02, 2, 0.0, 0.075)],
    ids=["ramp", "saturated", "full_boost"],
)
def test_boost_gradcheck(spread: float, seed: int, low: float, high: float) -> None:
    rgb = greyish(spread, seed).requires_grad_()
    assert low < image_saturation(rgb.detach()).item() < high
    assert gradcheck(saturation_boost, (rgb,))


def test_boost_is_its_factor_applied() -> None:
    # The factor and its application are separate so that a video can average the factor
    # across frames; together they are the boost, bit for bit.
    torch.manual_seed(6)
    rgb = torch.rand(3, 3, 8, 8) * torch.tensor([0.02, 0.3, 1.0]).view(3, 1, 1, 1)
    factor = saturation_boost_factor(rgb)
    assert factor.shape == (3,)
    assert torch.equal(saturation_boost(rgb), apply_saturation_boost(rgb, factor))
    assert torch.equal(saturation_boost(rgb, None), apply_saturation_boost(rgb, factor, None))
    grey_ish = torch.full((1, 3, 4, 4), 0.5)
    grey_ish[:, 0] = 0.55  # saturation about 0.09
    expected = 2 * (0.15 - image_saturation(grey_ish)) / 0.15
    assert saturation_boost_factor(grey_ish).item() == pytest.approx(expected.item(), abs=1e-6)
    assert torch.equal(apply_saturation_boost(grey_ish, torch.zeros(1)), grey_ish)
