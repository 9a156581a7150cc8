"""MATLAB-style bicubic imresize: known outputs, hand-computed weights and edges."""

from __future__ import annotations

import pytest
import torch

from lowlight.metrics.matlab_resize import imresize

# Weights of the cubic (a = -0.5) stretched by 2 at the offsets -3.5 ... 3.5 of the input
# samples around an output sample when halving, worked out by hand: 0.5 * cubic(offset / 2).
HALVING_WEIGHTS = torch.tensor(
    [
        -0.01171875,
        -0.03515625,
        0.11328125,
        0.43359375,
        0.43359375,
        0.11328125,
        -0.03515625,
        -0.01171875,
    ],
    dtype=torch.float64,
)


def test_matches_matlab_on_a_4x4_ramp() -> None:
    # MATLAB's imresize(reshape(0:15, 4, 4)', [3 3]) as quoted by S. Son's PyTorch port,
    # except 6.1505, a slip there: the ramp 4 r + c makes it 4 * 1.5 + 0.7506 / 5 = 6.1501.
    # The first entry by hand: 5 * 0.19922 / 1.32715 (cubic weights stretched by 4/3).
    image = torch.arange(16, dtype=torch.float64).view(1, 1, 4, 4)
    expected = torch.tensor(
        [[0.7506, 2.1004, 3.4503], [6.1501, 7.5000, 8.8499], [11.5497, 12.8996, 14.2494]],
        dtype=torch.float64,
    )
    torch.testing.assert_close(imresize(image, 0.75)[0, 0], expected, atol=1e-4, rtol=0)


def test_halving_weights_inside_the_image() -> None:
    impulse = torch.zeros(1, 1, 1, 32, dtype=torch.float64)
    impulse[..., 15] = 1.0
    # Output i is centred on input position 2 i + 0.5, so sample 15 lies at offsets
    # -2.5, -0.5, 1.5 and 3.5 from outputs 6 ... 9 (HALVING_WEIGHTS[k] is offset 3.5 - k).
    row = imresize(impulse, 0.5)[0, 0, 0]
    torch.testing.assert_close(row[6:10], HALVING_WEIGHTS[[6, 4, 2, 0]])
    torch.testing.assert_close(row[:6], torch.zeros(6, dtype=torch.float64))
    torch.testing.assert_close(row[10:], torch.zeros(6, dtype=torch.float64))


def test_halving_mirrors_the_edge_sample() -> None:
    impulse = torch.zeros(1, 1, 8, 1, dtype=torch.float64)
    impulse[0, 0, 0, 0] = 1.0
    column = imresize(impulse, 0.5)[0, 0, :, 0]
    # Output 0 (centre 0.5) reads positions -3 ... 4, and -1, -2, -3 mirror to 0, 1, 2:
    # sample 0 counts at offset 0.5 and, as position -1, at offset 1.5.
    assert float(column[0]) == pytest.approx(0.43359375 + 0.11328125)
    # Output 1 (centre 2.5): sample 0 at offset 2.5 and, as position -1, at 3.5.
    assert float(column[1]) == pytest.approx(-0.03515625 - 0.01171875)


def test_keeps_constants_and_interior_ramps() -> None:
    constant = torch.full((2, 3, 20, 30), 7.25, dtype=torch.float64)
    torch.testing.assert_close(
        imresize(constant, 0.5), torch.full((2, 3, 10, 15), 7.25, dtype=torch.float64)
    )
    ramp = torch.arange(40, dtype=torch.float64).view(1, 40).expand(4, 40)
    halved = imresize(ramp, 0.5)
    # Cubic weights reproduce straight lines: output i is the ramp at 2 i + 0.5.
    torch.testing.assert_close(
        halved[:, 2:-2], (2.0 * torch.arange(2, 18) + 0.5).expand(2, 16).double()
    )


def test_output_size_rounds_up() -> None:
    assert imresize(torch.rand(97, 50), 0.5).shape == (49, 25)
    assert imresize(torch.rand(3, 5, 8, 9), 2.0).shape == (3, 5, 16, 18)


def test_rejects_bad_input() -> None:
    with pytest.raises(TypeError, match="floating tensor, got torch.uint8"):
        imresize(torch.zeros(8, 8, dtype=torch.uint8), 0.5)
    with pytest.raises(ValueError, match="scale must be positive, got 0"):
        imresize(torch.zeros(8, 8), 0)
    with pytest.raises(ValueError, match=r"expected \(\.\.\., H, W\)"):
        imresize(torch.zeros(8), 0.5)
