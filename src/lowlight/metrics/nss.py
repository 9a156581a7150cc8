"""Natural-scene statistics: normalised luminance and the asymmetric generalised Gaussian fit.

Both follow the MATLAB release of NIQE (Mittal, Soundararajan, Bovik 2013), as pyiqa and
BasicSR port it: ``mscn`` is its ``structdis`` and ``fit_aggd`` its ``estimateaggdparam``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["mscn", "fit_aggd"]

# The moment-matching search of the MATLAB release: shapes 0.2, 0.201, ..., 10.
AGGD_SHAPE_MIN = 0.2
AGGD_SHAPE_STEP = 0.001
AGGD_SHAPE_COUNT = 9801
# Added to the local deviation so that flat regions do not divide by zero.
MSCN_STABILISER = 1.0


def _filter_separable(image: torch.Tensor, taps: torch.Tensor) -> torch.Tensor:
    """Correlate the last two dims with ``outer(taps, taps)``, keeping only full windows.

    Weighted sums of shifted views, accumulated in place: in float64 on a CPU, several times
    faster than ``conv2d``.
    """
    weights = taps.tolist()
    size = len(weights)
    height, width = image.shape[-2] - size + 1, image.shape[-1] - size + 1
    rows = image[..., :height, :] * weights[0]
    for i in range(1, size):
        rows.add_(image[..., i : i + height, :], alpha=weights[i])
    result = rows[..., :width] * weights[0]
    for j in range(1, size):
        result.add_(rows[..., j : j + width], alpha=weights[j])
    return result


def mscn(grey: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
    """Mean-subtracted contrast-normalised coefficients ``(x - mu) / (sigma + 1)``.

    ``mu`` and ``sigma`` are the local mean and standard deviation under ``window``, with the
    image's edge pixels repeated outwards (MATLAB's ``imfilter(..., 'replicate')``).

    Args:
        grey: (B, 1, H, W) floating, on a 0-255 scale.
        window: (K, K), K odd, an outer product ``u u^T`` up to rounding, such as NIQE's
            Gaussian window. It is applied separably, as the outer product of its row sums
            scaled to keep its total weight ``s``.

    Returns:
        (B, 1, H, W) in the dtype of ``grey``. A flat area at level ``c`` gives
        ``c (1 - s) / (1 + c sqrt(s |1 - s|))``: 0 when ``s`` is 1.
    """
    size = window.shape[-1]
    pad = size // 2
    window = window.to(grey)
    # For w = s u u^T with sum(u) = 1 the row sums are s u: dividing by sqrt(s) gives taps t
    # with t t^T = w.
    taps = window.sum(dim=1) / window.sum().sqrt()
    padded = F.pad(grey, (pad, pad, pad, pad), mode="replicate")
    moments = _filter_separable(torch.cat([padded, padded * padded], dim=1), taps)
    mean, mean_square = moments[:, :1], moments[:, 1:]
    # abs: where the image is flat the difference is 0 up to rounding, or negative when s > 1.
    deviation = torch.sqrt((mean_square - mean * mean).abs())
    return (grey - mean) / (deviation + MSCN_STABILISER)


def _shape_table(dtype: torch.dtype, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """The candidate shapes and their ratio ``E[|x|]^2 / E[x^2]``, an increasing function."""
    shapes = AGGD_SHAPE_MIN + AGGD_SHAPE_STEP * torch.arange(
        AGGD_SHAPE_COUNT, dtype=dtype, device=device
    )
    ratios = torch.exp(
        2.0 * torch.lgamma(2.0 / shapes) - torch.lgamma(1.0 / shapes) - torch.lgamma(3.0 / shapes)
    )
    return shapes, ratios


def _nearest(table: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """Index of the entry of increasing ``table`` nearest each value, the lower one on a tie.

    A NaN value gets index 0, as MATLAB's ``min`` and torch's ``argmin`` over all-NaN
    distances answer.
    """
    upper = torch.searchsorted(table, values.contiguous()).clamp(1, table.numel() - 1)
    lower = upper - 1
    nearer_upper = (table[upper] - values).abs() < (table[lower] - values).abs()
    index = torch.where(nearer_upper, upper, lower)
    return torch.where(values.isnan(), torch.zeros_like(index), index)


def fit_aggd(samples: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Fit an asymmetric generalised Gaussian to each row of samples by moment matching.

    The shape is the one of the grid 0.2, 0.201, ..., 10 whose moment ratio is nearest the
    samples' (Lasmar, Stitou, Berthoumieu 2009); the left and right scales follow from the
    standard deviations of the negative and of the positive samples.

    Args:
        samples: (..., N) floating.

    Returns:
        ``(shape, left_scale, right_scale)``, each (...) in the dtype of ``samples``. Rows
        without negative (positive) samples get a NaN left (right) scale and shape 0.2, as in
        the MATLAB release.
    """
    negative = samples < 0
    positive = samples > 0
    square = samples * samples
    left_std = torch.sqrt((square * negative).sum(dim=-1) / negative.sum(dim=-1))
    right_std = torch.sqrt((square * positive).sum(dim=-1) / positive.sum(dim=-1))
    skew = left_std / right_std
    ratio = samples.abs().mean(dim=-1).square() / square.mean(dim=-1)
    ratio = ratio * (skew**3 + 1.0) * (skew + 1.0) / (skew**2 + 1.0).square()
    shapes, ratios = _shape_table(samples.dtype, samples.device)
    shape = shapes[_nearest(ratios, ratio)]
    to_scale = torch.exp(torch.lgamma(1.0 / shape) - torch.lgamma(3.0 / shape)).sqrt()
    return shape, left_std * to_scale, right_std * to_scale
