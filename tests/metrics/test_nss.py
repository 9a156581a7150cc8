"""Normalised luminance and the asymmetric generalised Gaussian fit behind NIQE."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import ndimage

from lowlight.metrics.nss import _nearest, _shape_table, fit_aggd, mscn


def test_nearest_is_the_first_argmin() -> None:
    shapes, ratios = _shape_table(torch.float64, torch.device("cpu"))
    generator = torch.Generator().manual_seed(0)
    values = torch.cat(
        [
            torch.rand(2000, generator=generator, dtype=torch.float64),  # also beyond the table
            ratios[::97],  # exactly on entries
            (ratios[:-1:89] + ratios[1::89]) / 2.0,  # halfway between two
            torch.tensor([float("nan"), -1.0, 0.0, 5.0], dtype=torch.float64),
        ]
    )
    brute = (ratios - values[:, None]).abs().argmin(dim=1)  # argmin: all-NaN rows give 0
    assert torch.equal(_nearest(ratios, values), brute)
    assert shapes[0] == pytest.approx(0.2) and shapes[-1] == pytest.approx(10.0)


def test_fit_recovers_gaussian_and_laplacian_shapes() -> None:
    generator = torch.Generator().manual_seed(1)
    gaussian = torch.randn(4, 200_000, generator=generator, dtype=torch.float64) * 3.0
    shape, left, right = fit_aggd(gaussian)
    torch.testing.assert_close(shape, torch.full((4,), 2.0, dtype=torch.float64), atol=0.05, rtol=0)
    # A Gaussian of deviation s is a generalised Gaussian of shape 2 and scale s * sqrt(2).
    for scale in (left, right):
        torch.testing.assert_close(
            scale, torch.full_like(scale, 3.0 * math.sqrt(2.0)), rtol=0.02, atol=0
        )

    uniform = torch.rand(200_000, generator=generator, dtype=torch.float64)
    sign = torch.where(torch.rand(200_000, generator=generator) < 0.5, -1.0, 1.0).double()
    laplacian = sign * -torch.log(uniform)
    shape, _, _ = fit_aggd(laplacian)
    assert float(shape) == pytest.approx(1.0, abs=0.05)


def test_fit_sees_asymmetry() -> None:
    # An asymmetric Gaussian with left scale half the right one puts a third of its mass left.
    generator = torch.Generator().manual_seed(2)
    magnitude = torch.randn(300_000, generator=generator, dtype=torch.float64).abs()
    left_side = torch.rand(300_000, generator=generator, dtype=torch.float64) < 1.0 / 3.0
    samples = torch.where(left_side, -0.5 * magnitude, magnitude)
    shape, left, right = fit_aggd(samples)
    assert float(shape) == pytest.approx(2.0, abs=0.05)
    assert float(left / right) == pytest.approx(0.5, rel=0.02)


def test_fit_one_sided_and_flat_rows_follow_matlab() -> None:
    rows = torch.tensor([[0.5, 1.0, 2.0, 0.0], [0.0, 0.0, 0.0, 0.0]], dtype=torch.float64)
    shape, left, right = fit_aggd(rows)
    # No negative samples: the left scale is 0/0; the shape search then lands on 0.2.
    torch.testing.assert_close(shape, torch.tensor([0.2, 0.2], dtype=torch.float64))
    assert torch.isnan(left).all()
    assert torch.isfinite(right[0]) and torch.isnan(right[1])


def test_mscn_matches_scipy_filtering() -> None:
    taps = torch.exp(-0.5 * (torch.arange(-3, 4, dtype=torch.float64) / (7.0 / 6.0)) ** 2)
    window = torch.outer(taps, taps) / taps.sum() ** 2  # NIQE's: 7x7, sigma 7/6
    rng = np.random.default_rng(3)
    grey = np.round(rng.random((40, 57)) * 255.0)
    grey[:10, :10] = 17.0  # a flat patch
    mean = ndimage.correlate(grey, window.numpy(), mode="nearest")
    deviation = np.sqrt(
        np.abs(ndimage.correlate(grey * grey, window.numpy(), mode="nearest") - mean**2)
    )
    expected = (grey - mean) / (deviation + 1.0)
    result = mscn(torch.from_numpy(grey).view(1, 1, 40, 57), window)[0, 0].numpy()
    np.testing.assert_allclose(result, expected, atol=1e-9)
    assert np.abs(result[:6, :6]).max() < 1e-9  # flat: zero up to rounding


def test_mscn_of_a_flat_area_follows_the_window_weight() -> None:
    taps = torch.exp(-0.5 * (torch.arange(-3, 4, dtype=torch.float64) / (7.0 / 6.0)) ** 2)
    total = 1.0 + 1e-6
    window = torch.outer(taps, taps) / taps.sum() ** 2 * total
    flat = mscn(torch.full((1, 1, 20, 20), 100.0, dtype=torch.float64), window)
    expected = 100.0 * (1.0 - total) / (1.0 + 100.0 * math.sqrt(total * (total - 1.0)))
    torch.testing.assert_close(flat, torch.full_like(flat, expected), rtol=1e-6, atol=0)
