"""MATLAB's ``imresize`` with the bicubic kernel, as NIQE's second scale needs it.

MATLAB resizes separably: each output sample is a weighted sum of nearby input samples, the
weights from Keys' cubic (a = -0.5) centred on the output sample's position in the input.
When shrinking, the kernel is stretched by ``1 / scale`` (antialiasing), so it averages over
the input samples that one output sample covers. Weights are normalised to sum to 1, and
positions past an edge read the input mirrored about that edge with the edge sample repeated
(``[a, b, c] -> [b, a, a, b, c, c, b]``). Output size is ``ceil(scale * size)``.
"""

from __future__ import annotations

import math

import torch

__all__ = ["imresize"]

# Keys' cubic convolution parameter that MATLAB's bicubic uses.
CUBIC_A = -0.5
# Width of the cubic kernel in input samples at scale 1.
CUBIC_WIDTH = 4.0


def _cubic(x: torch.Tensor) -> torch.Tensor:
    ax = x.abs()
    ax2, ax3 = ax * ax, ax * ax * ax
    near = (CUBIC_A + 2.0) * ax3 - (CUBIC_A + 3.0) * ax2 + 1.0
    far = CUBIC_A * (ax3 - 5.0 * ax2 + 8.0 * ax - 4.0)
    return torch.where(ax <= 1.0, near, torch.where(ax <= 2.0, far, torch.zeros_like(ax)))


def _mirror(index: torch.Tensor, length: int) -> torch.Tensor:
    """Fold indices past either edge back inside, repeating the edge sample."""
    folded = index.remainder(2 * length)
    return torch.where(folded < length, folded, 2 * length - 1 - folded)


def _contributions(
    in_len: int, out_len: int, scale: float, dtype: torch.dtype, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """(out_len, taps) input indices and their weights, MATLAB's ``contributions``."""
    stretch = min(scale, 1.0)  # antialiasing: shrinking widens the kernel
    width = CUBIC_WIDTH / stretch
    taps = math.ceil(width) + 2
    # Centre of each output sample in input coordinates (0-based).
    centre = (torch.arange(out_len, dtype=dtype, device=device) + 0.5) / scale - 0.5
    left = torch.floor(centre - width / 2.0)
    index = left[:, None] + torch.arange(taps, dtype=dtype, device=device)
    weights = stretch * _cubic(stretch * (centre[:, None] - index))
    weights = weights / weights.sum(dim=1, keepdim=True)
    return _mirror(index.long(), in_len), weights


def _resize_axis(x: torch.Tensor, dim: int, out_len: int, scale: float) -> torch.Tensor:
    index, weights = _contributions(x.shape[dim], out_len, scale, x.dtype, x.device)
    shape = [1] * x.ndim
    shape[dim] = out_len
    # One gathered slice per tap keeps memory at a few copies of the output.
    taps = range(index.shape[1])
    terms = (x.index_select(dim, index[:, tap]) * weights[:, tap].view(shape) for tap in taps)
    return sum(terms, torch.zeros((), dtype=x.dtype, device=x.device))


def imresize(image: torch.Tensor, scale: float) -> torch.Tensor:
    """Resize like MATLAB's ``imresize(image, scale)`` (bicubic, antialiased when shrinking).

    Args:
        image: (..., H, W) floating tensor, any range; no clamping or rounding is applied.
        scale: positive factor, e.g. 0.5 to halve.

    Returns:
        (..., ceil(scale * H), ceil(scale * W)) in the dtype of ``image``.

    Examples:
        >>> imresize(torch.full((1, 4, 6), 7.0), 0.5)
        tensor([[[7., 7., 7.],
                 [7., 7., 7.]]])
    """
    if not image.is_floating_point():
        raise TypeError(f"imresize needs a floating tensor, got {image.dtype}")
    if image.ndim < 2:
        raise ValueError(f"expected (..., H, W), got {tuple(image.shape)}")
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    height, width = image.shape[-2:]
    resized = _resize_axis(image, image.ndim - 2, math.ceil(scale * height), scale)
    return _resize_axis(resized, image.ndim - 1, math.ceil(scale * width), scale)
