"""The decoder's bounded detail: no exposure, never out of range, the identity when small."""

from __future__ import annotations

import torch
from torch.autograd import gradcheck

from lowlight.models.colour import luminance
from lowlight.models.detail import bounded_detail, bounded_texture, low_frequencies


def test_low_frequencies_keep_a_constant_and_remove_fine_texture() -> None:
    flat = torch.full((1, 3, 32, 32), 0.3)
    assert torch.allclose(low_frequencies(flat, 8), flat)
    checker = (torch.arange(32)[:, None] + torch.arange(32)[None, :]) % 2
    texture = checker.float().expand(1, 3, 32, 32)
    assert torch.allclose(low_frequencies(texture, 8), torch.full_like(texture, 0.5))


def test_detail_carries_no_exposure() -> None:
    torch.manual_seed(0)
    base = torch.rand(2, 3, 64, 64) * 0.2 + 0.3
    # An estimate four times brighter than the base: the exposure gap is not the decoder's.
    brighter = base * 4
    detail = bounded_detail(brighter, base, 8)
    assert detail.mean().abs() < 0.02
    assert (base + detail).mean() < base.mean() + 0.02


def test_detail_corrects_colour_at_every_scale() -> None:
    base = torch.full((1, 3, 32, 32), 0.5)
    # A warmer estimate of the same brightness (no change of luma): a colour cast the
    # curves left behind.
    red, green = 0.06, -0.02
    blue = -(0.299 * red + 0.587 * green) / 0.114
    estimate = base + torch.tensor([red, green, blue]).view(1, 3, 1, 1)
    detail = bounded_detail(estimate, base, 8)
    assert torch.allclose(base + detail, estimate, atol=1e-3)


def test_detail_restores_fine_structure() -> None:
    torch.manual_seed(1)
    clean = torch.rand(1, 3, 64, 64) * 0.2 + 0.4
    noisy = clean + 0.05 * torch.randn_like(clean)
    restored = noisy + bounded_detail(clean, noisy, 8)
    assert (restored - clean).abs().mean() < 0.3 * (noisy - clean).abs().mean()


def test_base_plus_detail_stays_in_range_for_any_estimate() -> None:
    torch.manual_seed(2)
    base = torch.rand(2, 3, 32, 32)
    base[0, :, :4] = 0.0
    base[1, :, :4] = 1.0
    estimate = torch.randn(2, 3, 32, 32) * 100
    out = base + bounded_detail(estimate, base, 8)
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert torch.isfinite(out).all()


def test_a_ceiling_bounds_what_detail_lifts_and_leaves_what_it_lowers() -> None:
    torch.manual_seed(3)
    base = torch.rand(2, 3, 32, 32)
    estimate = torch.randn(2, 3, 32, 32) * 100
    detail = bounded_detail(estimate, base, 8, ceiling=0.9)
    out = base + detail
    assert float(out[detail > 0].max()) <= 0.9
    # Above the ceiling there is no room to lift at all; lowering is as without one.
    assert float(detail[base >= 0.9].max()) <= 0.0
    lowered = detail < 0
    free = bounded_detail(estimate, base, 8)
    assert torch.equal(detail[lowered], free[lowered])


def test_small_detail_passes_unchanged() -> None:
    base = torch.full((1, 3, 16, 16), 0.5)
    estimate = base.clone()
    estimate[..., 5, 5] += 1e-3
    detail = bounded_detail(estimate, base, 8)
    expected = estimate - base
    expected = expected - low_frequencies(luminance(expected), 8)
    assert torch.allclose(detail, expected, atol=1e-8)


def test_gradcheck() -> None:
    torch.manual_seed(3)
    base = (torch.rand(1, 3, 16, 16, dtype=torch.float64) * 0.8 + 0.1).requires_grad_()
    estimate = torch.rand(1, 3, 16, 16, dtype=torch.float64, requires_grad=True)
    assert gradcheck(lambda e, b: bounded_detail(e, b, 8), (estimate, base))


def test_large_regions_keep_the_base_brightness_small_ones_follow_the_estimate() -> None:
    base = torch.full((1, 3, 256, 256), 0.3)
    estimate = base.clone()
    estimate[..., 100:104, 100:104] = 0.9  # a small highlight the base lacks
    estimate[..., :, 128:] += 0.2  # half the picture brighter: tone, not detail
    out = base + bounded_detail(estimate, base, 16)
    assert out[..., 101, 101].min() > 0.75
    assert (out[..., :, 200:].mean() - base[..., :, 200:].mean()).abs() < 0.02


def test_bounded_texture_is_the_fine_difference_and_keeps_the_range() -> None:
    torch.manual_seed(3)
    base = torch.rand(1, 3, 32, 32) * 0.6
    # A difference of tone alone (the same over the picture) is no texture.
    assert float(bounded_texture(base + 0.2, base, 2.0).abs().max()) < 1e-6
    source = torch.rand(1, 3, 32, 32)
    texture = bounded_texture(source, base, 2.0)
    combined = base + texture
    assert float(combined.min()) >= 0.0 and float(combined.max()) <= 1.0
