"""The computed texture gate: noise read from the picture, open for texture, shut for noise."""

from __future__ import annotations

import pytest
import torch

from lowlight.models import UnifiedLowLightEnhancer
from lowlight.models.detail import bounded_texture
from lowlight.models.texture_gate import noise_sigma, texture_gate


@pytest.mark.parametrize("sigma", [0.002, 0.01, 0.05])
def test_noise_sigma_reads_white_noise_within_five_percent(sigma: float) -> None:
    torch.manual_seed(0)
    grey = 0.5 + sigma * torch.randn(2, 1, 128, 128)
    estimate = noise_sigma(grey.expand(2, 3, 128, 128))
    assert estimate.shape == (2, 1, 1, 1)
    assert torch.allclose(estimate, torch.full_like(estimate, sigma), rtol=0.05)


def test_noise_sigma_ignores_smooth_gradients() -> None:
    ramp = torch.linspace(0, 1, 64).view(1, 1, 1, 64).expand(1, 3, 64, 64)
    assert float(noise_sigma(ramp)) < 1e-6


def _curve_of(rgb: torch.Tensor, gain: float) -> torch.Tensor:
    return (rgb * gain).clamp(0, 1)


def test_the_gate_passes_clean_texture_and_shuts_amplified_noise() -> None:
    torch.manual_seed(1)
    base = torch.full((1, 3, 64, 64), 0.05)
    # Clean: stripes of a real structure, no noise. Noisy: the same level of white noise only.
    stripes = torch.zeros(1, 3, 64, 64)
    stripes[..., ::4, :] = 0.01
    clean_input = base + stripes
    noisy_input = base + 0.004 * torch.randn(1, 1, 64, 64).expand(1, 3, 64, 64)
    gates = []
    for rgb in (clean_input, noisy_input):
        curve = _curve_of(rgb, 8.0)
        smooth = torch.full_like(curve, float(curve.mean()))
        texture = bounded_texture(curve, smooth, 2.0)
        gates.append(float(texture_gate(texture, curve, rgb, margin=1.0).mean()))
    assert gates[0] > 0.9
    assert gates[1] < 0.1


def test_a_larger_margin_closes_the_gate_further() -> None:
    torch.manual_seed(2)
    rgb = 0.05 + 0.02 * torch.rand(1, 3, 64, 64)
    curve = _curve_of(rgb, 6.0)
    texture = bounded_texture(curve, torch.full_like(curve, 0.35), 2.0)
    loose = texture_gate(texture, curve, rgb, margin=0.5)
    strict = texture_gate(texture, curve, rgb, margin=4.0)
    assert bool((strict <= loose).all())
    assert float(loose.mean()) > float(strict.mean())


def test_the_gate_has_no_gradient_and_stays_in_range() -> None:
    torch.manual_seed(3)
    rgb = torch.rand(1, 3, 32, 32, requires_grad=True)
    curve = rgb.clamp(0, 1) ** 0.5
    texture = bounded_texture(curve, curve.detach().mean().expand_as(curve), 2.0)
    gate = texture_gate(texture, curve, rgb, margin=1.0)
    assert not gate.requires_grad
    assert 0.0 <= float(gate.min()) and float(gate.max()) <= 1.0


def test_the_enhancer_opens_its_mask_on_a_clean_picture_and_not_on_a_noisy_one() -> None:
    torch.manual_seed(4)
    model = UnifiedLowLightEnhancer(
        mask_texture_sigma=2.0, mask_initial_bias=-30.0, texture_gate_margin=1.0
    ).eval()
    clean = torch.full((1, 3, 64, 64), 0.08)
    clean[..., ::4, :] = 0.12
    noisy = 0.1 + 0.03 * torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        clean_mask = model(clean).mask
        noisy_mask = model(noisy.clamp(0, 1)).mask
    assert float(clean_mask.mean()) > 0.5
    assert float(noisy_mask.mean()) < 0.1


def test_the_gated_enhancer_trains_and_matches_in_train_and_eval() -> None:
    torch.manual_seed(5)
    model = UnifiedLowLightEnhancer(mask_texture_sigma=2.0, texture_gate_margin=1.0).train()
    rgb = torch.rand(2, 3, 32, 32) * 0.3
    (model(rgb).image - torch.rand(2, 3, 32, 32)).abs().mean().backward()
    grads = model.mask_predictor.body[-1].weight.grad
    assert grads is not None and float(grads.abs().max()) > 0
    with torch.no_grad():
        difference = (model.train()(rgb).image - model.eval()(rgb).image).abs().max()
    assert difference < 1e-6


@pytest.mark.parametrize(
    "keys",
    [{"texture_gate_margin": 1.0}, {"mask_texture_sigma": 2.0, "texture_gate_margin": 0.0}],
)
def test_a_gate_needs_a_texture_mask_and_a_positive_margin(keys: dict) -> None:
    with pytest.raises(ValueError, match="texture_gate_margin"):
        UnifiedLowLightEnhancer(**keys)
