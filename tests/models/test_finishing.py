"""The final per-pixel steps: soft highlight shoulder, exposure in stops, strength blend."""

from __future__ import annotations

import pytest
import torch
from kornia.color import rgb_to_linear_rgb
from torch.autograd import gradcheck

from lowlight.models.finishing import blend_strength, expose, per_image, soft_shoulder


def test_shoulder_is_the_identity_below_the_knee() -> None:
    values = torch.linspace(0.0, 0.9, 101)
    assert torch.equal(soft_shoulder(values, 0.9), values)


def test_shoulder_never_reaches_one_and_keeps_gradations() -> None:
    values = torch.linspace(0.9, 1.3, 401, dtype=torch.float64)
    out = soft_shoulder(values, 0.9)
    assert out.max() < 1.0
    # Strictly increasing: overshooting values stay distinct instead of one clipped band.
    assert (out.diff() > 0).all()
    # 1.0 lands at 0.976 (249/255), 1.3 just below 1.
    assert soft_shoulder(torch.tensor(1.0), 0.9) == pytest.approx(0.97616, abs=1e-5)


def test_shoulder_clips_negative_values_to_zero() -> None:
    assert torch.equal(soft_shoulder(torch.tensor([-0.5, -1e-6]), 0.9), torch.zeros(2))


def test_shoulder_is_smooth_at_the_knee() -> None:
    knee = torch.tensor([0.9 - 1e-6, 0.9 + 1e-6], dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(soft_shoulder(knee, 0.9).sum(), knee)
    assert torch.allclose(grad, torch.ones(2, dtype=torch.float64), atol=1e-6)


def test_shoulder_gradcheck() -> None:
    values = torch.tensor([0.2, 0.85, 0.95, 1.2, 3.0], dtype=torch.float64, requires_grad=True)
    assert gradcheck(lambda x: soft_shoulder(x, 0.9), (values,))


@pytest.mark.parametrize("knee", [0.0, 1.0, -0.1, 1.5])
def test_shoulder_refuses_a_knee_outside_the_unit_interval(knee: float) -> None:
    with pytest.raises(ValueError, match="knee"):
        soft_shoulder(torch.zeros(1), knee)


def test_one_stop_doubles_the_linear_light() -> None:
    rgb = torch.rand(2, 3, 8, 8)
    brighter = expose(rgb, per_image(1.0, rgb))
    assert torch.allclose(rgb_to_linear_rgb(brighter), 2 * rgb_to_linear_rgb(rgb), atol=1e-5)


def test_zero_stops_change_nothing_and_minus_one_halves() -> None:
    rgb = torch.rand(1, 3, 8, 8)
    assert torch.allclose(expose(rgb, per_image(0.0, rgb)), rgb, atol=1e-6)
    darker = expose(rgb, per_image(-1.0, rgb))
    assert torch.allclose(rgb_to_linear_rgb(darker), rgb_to_linear_rgb(rgb) / 2, atol=1e-6)


def test_exposure_can_differ_per_image() -> None:
    rgb = torch.full((2, 3, 4, 4), 0.5)
    out = expose(rgb, per_image(torch.tensor([0.0, 1.0]), rgb))
    assert torch.allclose(out[0], rgb[0], atol=1e-6)
    assert (out[1] > out[0]).all()


def test_per_image_refuses_a_count_that_is_not_the_batch() -> None:
    with pytest.raises(ValueError, match="one per image"):
        per_image(torch.tensor([0.0, 1.0, 2.0]), torch.zeros(2, 3, 4, 4))


def test_strength_zero_is_the_input_and_one_the_enhancement() -> None:
    original, enhanced = torch.rand(2, 1, 3, 4, 4)
    assert torch.equal(blend_strength(original, enhanced, per_image(0.0, original)), original)
    assert torch.equal(blend_strength(original, enhanced, per_image(1.0, original)), enhanced)
    half = blend_strength(original, enhanced, per_image(0.5, original))
    assert torch.allclose(half, (original + enhanced) / 2)
    # Out-of-range strengths are held to [0, 1].
    assert torch.equal(blend_strength(original, enhanced, per_image(2.0, original)), enhanced)
