"""SNR map: against a NumPy reference, range, per-image normalisation, gradcheck."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.autograd import gradcheck

from lowlight.models import snr_map


def reference_snr(rgb: np.ndarray, kernel_size: int = 5, eps: float = 1e-4) -> np.ndarray:
    """(B, 3, H, W) -> (B, 1, H, W), written out with NumPy: box mean with edge padding."""
    grey = rgb.mean(axis=1)
    radius = kernel_size // 2
    padded = np.pad(grey, ((0, 0), (radius, radius), (radius, radius)), mode="edge")
    height, width = grey.shape[1:]
    signal = np.zeros_like(grey)
    for dy in range(kernel_size):
        for dx in range(kernel_size):
            signal += padded[:, dy : dy + height, dx : dx + width]
    signal /= kernel_size**2
    ratio = signal / (np.abs(grey - signal) + eps)
    peak = np.maximum(ratio.max(axis=(1, 2), keepdims=True), eps)
    return (ratio / peak)[:, None]


def test_smoke_and_cardinality() -> None:
    torch.manual_seed(0)
    for shape in [(1, 3, 16, 16), (2, 3, 17, 31), (3, 3, 5, 9)]:
        snr = snr_map(torch.rand(shape))
        assert snr.shape == (shape[0], 1, shape[2], shape[3])
        assert snr.min() >= 0.0 and snr.max() <= 1.0


@pytest.mark.parametrize("shape", [(2, 3, 12, 19), (1, 3, 6, 6)])
def test_matches_numpy_reference(shape) -> None:
    rng = np.random.default_rng(1)
    rgb = rng.random(shape) * 0.3
    ours = snr_map(torch.from_numpy(rgb)).numpy()
    np.testing.assert_allclose(ours, reference_snr(rgb), rtol=1e-9, atol=1e-12)


def test_every_image_peaks_at_one() -> None:
    torch.manual_seed(2)
    batch = torch.rand(3, 3, 16, 16) * torch.tensor([0.05, 0.3, 1.0]).view(3, 1, 1, 1)
    peaks = snr_map(batch).amax(dim=(1, 2, 3))
    assert torch.allclose(peaks, torch.ones(3))


def test_known_values_flat_images() -> None:
    # A flat image has no noise: the ratio is the same everywhere, so the map is all ones.
    assert torch.equal(snr_map(torch.full((1, 3, 8, 8), 0.3)), torch.ones(1, 1, 8, 8))
    # All black: the signal is 0 and the peak is floored at eps, so the map is all zeros.
    black = snr_map(torch.zeros(2, 3, 8, 8))
    assert torch.equal(black, torch.zeros(2, 1, 8, 8))


def test_bright_smooth_beats_dark_noisy() -> None:
    torch.manual_seed(3)
    rgb = torch.full((1, 3, 16, 32), 0.5)
    rgb[..., 16:] = 0.05 + 0.04 * torch.rand(1, 3, 16, 16)
    snr = snr_map(rgb)[0, 0]
    assert snr[4:12, 4:12].mean() > 10 * snr[4:12, 20:28].mean()


def test_per_image_normalisation() -> None:
    torch.manual_seed(4)
    first = torch.rand(1, 3, 12, 12, dtype=torch.float64)
    second = torch.rand(1, 3, 12, 12, dtype=torch.float64) * 0.1
    together = snr_map(torch.cat([first, second]))
    assert torch.allclose(together[0:1], snr_map(first))
    assert torch.allclose(together[1:2], snr_map(second))


def test_gradcheck() -> None:
    torch.manual_seed(5)
    rgb = torch.rand(1, 3, 6, 7, dtype=torch.float64, requires_grad=True)
    assert gradcheck(snr_map, (rgb,))
    assert gradcheck(lambda x: snr_map(x, kernel_size=3), (rgb,))
