"""Mean grey level, clipped, near-white and crushed fractions and colourfulness, against
values worked out by hand."""

from __future__ import annotations

import math

import pytest
import torch

from lowlight.metrics import (
    clipped_fraction,
    colourfulness,
    crushed_fraction,
    mean_grey,
    near_white_fraction,
    no_reference_protocol,
)

FIGURES = (mean_grey, clipped_fraction, near_white_fraction, crushed_fraction, colourfulness)


def pixels(*levels: tuple[float, float, float]) -> torch.Tensor:
    """One image, one row of pixels given as 0-255 RGB levels: (1, 3, 1, N) in [0, 1]."""
    return (torch.tensor(levels, dtype=torch.float64).T / 255.0).reshape(1, 3, 1, len(levels))


def test_near_white_counts_any_channel_from_level_250() -> None:
    image = pixels((250, 0, 0), (0, 0, 249), (100, 255, 100), (249.4, 249.4, 249.4))
    assert float(near_white_fraction(image)) == pytest.approx(2 / 4)
    # Every clipped pixel is near white.
    assert near_white_fraction(image) >= clipped_fraction(image)


def test_mean_grey_is_rec601_luma() -> None:
    red, blue = pixels((255, 0, 0)), pixels((0, 0, 255))
    assert float(mean_grey(red)) == pytest.approx(0.299)
    assert float(mean_grey(torch.cat([red, blue], dim=3))) == pytest.approx((0.299 + 0.114) / 2)
    assert float(mean_grey(pixels((51, 51, 51)))) == pytest.approx(0.2)


def test_clipped_counts_any_channel_at_254_or_above() -> None:
    image = pixels((255, 0, 0), (10, 254, 10), (253, 253, 253), (0, 0, 0))
    assert float(clipped_fraction(image)) == pytest.approx(2 / 4)
    # Float values count by the uint8 level they round to: 253.5 -> 254, 253.4 -> 253.
    assert float(clipped_fraction(pixels((253.5, 0, 0), (253.4, 0, 0)))) == pytest.approx(1 / 2)


def test_crushed_counts_pixels_with_every_channel_at_2_or_below() -> None:
    image = pixels((0, 0, 0), (2, 2, 2), (2, 3, 0), (1, 1, 1), (200, 0, 0))
    assert float(crushed_fraction(image)) == pytest.approx(3 / 5)


def test_colourfulness_by_hand() -> None:
    # One red and one black pixel: rg = (255, 0), yb = (127.5, 0); both means and both
    # population deviations are 127.5 and 63.75, so M = 1.3 * 63.75 * sqrt(5).
    image = pixels((255, 0, 0), (0, 0, 0))
    assert float(colourfulness(image)) == pytest.approx(1.3 * 63.75 * math.sqrt(5.0))
    # A uniform colour has no spread: M = 0.3 * |(rg, yb)|, rg = 0 - 100, yb = 50 - 20.
    assert float(colourfulness(pixels((0, 100, 20)).expand(1, 3, 4, 4))) == pytest.approx(
        0.3 * math.hypot(-100.0, 30.0)
    )
    grey = pixels((30, 30, 30), (200, 200, 200))
    assert float(colourfulness(grey)) == pytest.approx(0.0, abs=1e-9)


def test_batches_and_dtypes() -> None:
    images = torch.rand(3, 3, 8, 9, generator=torch.Generator().manual_seed(0))
    for figure in FIGURES:
        batch = figure(images)
        assert batch.shape == (3,) and batch.dtype == torch.float32
        single = torch.cat([figure(images[i : i + 1]) for i in range(3)])
        torch.testing.assert_close(batch, single)
        assert figure(images.double()).dtype == torch.float64


@pytest.mark.parametrize(
    ("image", "error", "match"),
    [
        (torch.zeros(1, 1, 4, 4), ValueError, r"expected \(B, 3, H, W\), got \(1, 1, 4, 4\)"),
        (torch.zeros(3, 4, 4), ValueError, r"got \(3, 4, 4\)"),
        (torch.zeros(1, 3, 4, 4, dtype=torch.uint8), TypeError, r"float tensor.*torch\.uint8"),
        ([[0.0]], TypeError, "must be a torch.Tensor, got list"),
    ],
)
def test_rejects_bad_input(image, error, match) -> None:
    for figure in FIGURES:
        with pytest.raises(error, match=match):
            figure(image)


def test_protocol_names_every_figure() -> None:
    assert {"niqe", "mean_grey", "clipped", "crushed", "colourfulness"} <= set(
        no_reference_protocol()
    )
