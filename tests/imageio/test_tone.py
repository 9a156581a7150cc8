"""Matching a result to a reduced whole-picture pass: a tiled one's low frequencies, a whole
one's level."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from lowlight.imageio.tone import match_level, match_low_frequencies, reduced_size


def _smooth_picture(height: int = 96, width: int = 128, seed: int = 0) -> torch.Tensor:
    """Smooth colour gradients plus fine texture, in [0.1, 0.9]."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, 3, 4, 5, generator=generator)
    base = F.interpolate(coarse, size=(height, width), mode="bicubic", align_corners=False)
    texture = 0.05 * torch.rand(1, 3, height, width, generator=generator)
    return (0.1 + 0.75 * base.clamp(0, 1) + texture).clamp(0, 1)


def test_reduced_size_fits_the_longer_side_and_never_enlarges() -> None:
    assert reduced_size(4000, 6000, 1536) == (1024, 1536)
    assert reduced_size(6000, 4000, 1536) == (1536, 1024)
    assert reduced_size(100, 50, 1536) == (100, 50)
    assert reduced_size(10000, 3, 1000) == (1000, 1)


def test_a_guide_that_agrees_changes_nothing() -> None:
    image = _smooth_picture()
    guide = F.adaptive_avg_pool2d(image, (24, 32))
    assert (match_low_frequencies(image, guide) - image).abs().max() < 1e-5


def test_tile_brightness_differences_are_removed_and_detail_kept() -> None:
    image = _smooth_picture()
    tiled = image.clone()
    tiled[..., :64] *= 1.15  # as if the left tile found itself brighter ...
    tiled[..., 64:] *= 0.88  # ... and the right one darker
    tiled = tiled.clamp(0, 1)
    guide = F.adaptive_avg_pool2d(image, (48, 64))
    matched = match_low_frequencies(tiled, guide, sigma=2.0)
    before = (tiled - image).abs().mean()
    after = (matched - image).abs().mean()
    assert before > 0.05 and after < before / 4
    # Fine texture (what a 4x4 box blur removes) survives the match.
    detail = image - F.avg_pool2d(image, 5, 1, 2, count_include_pad=False)
    kept = matched - F.avg_pool2d(matched, 5, 1, 2, count_include_pad=False)
    inner = (slice(None), slice(None), slice(8, -8), slice(8, 56))
    assert torch.corrcoef(torch.stack([detail[inner].flatten(), kept[inner].flatten()]))[0, 1] > 0.9


def test_ratios_are_bounded_and_black_stays_black() -> None:
    black = torch.zeros(1, 3, 40, 40)
    bright_guide = torch.full((1, 3, 10, 10), 0.8)
    assert torch.equal(match_low_frequencies(black, bright_guide), black)
    grey = torch.full((1, 3, 40, 40), 0.2)
    matched = match_low_frequencies(grey, bright_guide, max_ratio=2.0)
    assert torch.allclose(matched, torch.full_like(grey, 0.4))


def test_keeps_dtype_and_device_and_refuses_mismatched_batches() -> None:
    image = _smooth_picture().double()
    assert match_low_frequencies(image, image[..., ::4, ::4].float()).dtype == torch.float64
    with pytest.raises(ValueError, match="same batch and channels"):
        match_low_frequencies(image, torch.rand(2, 3, 8, 8))


def test_match_level_gives_each_channel_the_guides_level() -> None:
    torch.manual_seed(2)
    image = torch.rand(2, 3, 40, 60) * 0.5
    guide = torch.rand(2, 3, 10, 15) * 0.6
    matched = match_level(image, guide)
    assert torch.allclose(matched.mean(dim=(2, 3)), guide.mean(dim=(2, 3)), rtol=1e-5)
    # One gain per channel: every pixel keeps its place among the others.
    assert torch.allclose(matched / image, (matched / image)[..., :1, :1], rtol=1e-5)


def test_match_level_keeps_its_gain_within_bounds() -> None:
    dark = torch.full((1, 3, 8, 8), 0.1)
    bright = torch.full((1, 3, 2, 2), 0.9)
    assert torch.allclose(match_level(dark, bright, max_ratio=2.0), 2 * dark)
