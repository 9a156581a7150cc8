"""Carrying coarse decisions to full resolution along the picture's edges (guided filters).

``guided_upsample`` carries one coarse map along a one-channel guide (the curve estimator's
parameters along log luma); ``fit_colour_affine`` fits a result computed on a reduced picture
as local affine colour transforms of that picture, from which
``lowlight.imageio.full_resolution`` renders the full-resolution picture. Both average window
statistics with ``window_mean``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

from lowlight.models.colour import luminance

__all__ = [
    "exposure_guide",
    "fit_colour_affine",
    "guided_upsample",
    "solve_affine",
    "uncentre",
    "window_mean",
    "window_moments",
]

# The guide works in stops; this floor (a quarter of an 8-bit level) keeps log2 finite on black.
_GUIDE_FLOOR = 2.0**-10
# Stops per unit of the guide, so that the guide spans about [0, 1] over 8-bit pictures.
_GUIDE_STOPS = 10.0
# The guide's channel pairs whose products a colour fit needs (the upper triangle).
_PAIRS = ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))


def exposure_guide(rgb: torch.Tensor) -> torch.Tensor:
    """The guide of ``guided_upsample``: log2 luma in [0, 1], (B, 1, H, W) from (B, 3, H, W).

    In stops, an edge between a dark room and a lit window is as strong whether the picture
    is dark or bright, which is what carrying exposure decisions needs.
    """
    stops = torch.log2(luminance(rgb).clamp_min(0.0) + _GUIDE_FLOOR)
    return 1.0 + stops / _GUIDE_STOPS


def window_mean(x: torch.Tensor, radius: int) -> torch.Tensor:
    """The mean of each ``2 * radius + 1`` square window of ``x`` (B, C, H, W), edges replicated.

    Separable sums of shifted copies: several times faster on a CPU than a pooling or a
    convolution for the small windows used here, and exported to ONNX as plain additions.

    Example:
        >>> window_mean(torch.arange(5.0).view(1, 1, 1, 5), 1)
        tensor([[[[0.3333, 1.0000, 2.0000, 3.0000, 3.6667]]]])
    """
    side = 2 * radius + 1
    if side == 1:
        return x
    padded = F.pad(x, (radius, radius, radius, radius), mode="replicate")
    height, width = x.shape[-2:]
    # Sums kept in place: the working memory is three copies of x, however many channels.
    rows = padded[..., :height, :] + padded[..., 1 : 1 + height, :]
    for offset in range(2, side):
        rows += padded[..., offset : offset + height, :]
    del padded
    total = rows[..., :width] + rows[..., 1 : 1 + width]
    for offset in range(2, side):
        total += rows[..., offset : offset + width]
    return total.div_(side * side)


def guided_upsample(
    coarse: torch.Tensor,
    coarse_guide: torch.Tensor,
    guide: torch.Tensor,
    radius: int = 2,
    eps: float = 1e-3,
) -> torch.Tensor:
    """Upsample ``coarse`` to ``guide``'s size so that it changes where ``guide`` has edges.

    The fast guided filter (He & Sun 2015; Wu et al. 2018): at the coarse size, each window
    of ``2 * radius + 1`` cells fits ``coarse`` as a linear function of ``coarse_guide``,
    ``a * guide + b``; the window-averaged ``a`` and ``b`` are upsampled bilinearly and
    applied to the full-resolution ``guide``. Where the guide is flat this is a bilinear
    upsampling; across an edge of the guide the result steps with it, so a decision made
    coarsely (how much to lift a dark room) does not spill over the window beside it.

    Args:
        coarse: (B, C, h, w) the map to upsample.
        coarse_guide: (B, 1, h, w) the guide at the coarse size.
        guide: (B, 1, H, W) the guide at the target size.
        radius: the window's radius in coarse cells.
        eps: regularisation: guide variations well below ``sqrt(eps)`` count as flat.

    Returns:
        (B, C, H, W).
    """

    def mean(x: torch.Tensor) -> torch.Tensor:
        return window_mean(x, radius)

    mean_guide = mean(coarse_guide)
    mean_coarse = mean(coarse)
    covariance = mean(coarse_guide * coarse) - mean_guide * mean_coarse
    variance = mean(coarse_guide * coarse_guide) - mean_guide * mean_guide
    slope = covariance / (variance + eps)
    offset = mean_coarse - slope * mean_guide
    height, width = guide.shape[-2:]
    slope, offset = (
        F.interpolate(mean(t), size=(height, width), mode="bilinear", align_corners=False)
        for t in (slope, offset)
    )
    return slope * guide + offset


def fit_colour_affine(
    guide: torch.Tensor,
    result: torch.Tensor,
    weight: torch.Tensor | None = None,
    radius: int = 1,
    eps: float = 1e-5,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Local affine colour transforms that take ``guide`` to ``result``, one per window.

    The colour guided filter's fit (He, Sun & Tang 2013, section 3.5), optionally weighted:
    in the window of ``2 * radius + 1`` pixels around each pixel, each channel of ``result``
    is fitted by weighted least squares as ``A[c] . guide + b[c]``, with a ridge of ``eps``
    on ``A``. Where the result is smooth and the guide is not (noise the result no longer
    has), ``A`` tends to 0: the transform smooths as the result does.

    Args:
        guide: (B, 3, h, w), the picture the result was computed from.
        result: (B, 3, h, w), what became of it.
        weight: (B, 1, h, w) >= 0, each pixel's weight in the fits (None: 1).
        radius: the window's radius in pixels.
        eps: the ridge: guide variations well below ``sqrt(eps)`` count as flat.

    Returns:
        ``(coefficients, mass)``: (B, 12, h, w), ``A`` row by row (``A[c, k]`` in channel
        ``3 * c + k``) then ``b`` (channels 9 to 11), for the window around each pixel; and
        (B, 1, h, w), each window's mean weight.
    """
    if guide.shape != result.shape or guide.ndim != 4 or guide.shape[1] != 3:
        raise ValueError(
            f"guide and result must both be (B, 3, h, w), got {tuple(guide.shape)} and "
            f"{tuple(result.shape)}"
        )
    weight = torch.ones_like(guide[:, :1]) if weight is None else weight
    # Centred on each picture's mean, the second moments keep float32's precision on
    # bright pictures, where a window's variance is a small difference of large numbers.
    guide_level = guide.mean(dim=(2, 3), keepdim=True)
    result_level = result.mean(dim=(2, 3), keepdim=True)
    [moments] = window_moments(guide - guide_level, result - result_level, [weight], radius)
    coefficients = solve_affine(moments, eps)
    return uncentre(coefficients, guide_level, result_level), moments[:, :1]


def window_moments(
    guide: torch.Tensor,
    result: torch.Tensor,
    weights: Sequence[torch.Tensor],
    radius: int,
    gather: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> list[torch.Tensor]:
    """The weighted moments a fit needs, averaged over each window, for each of ``weights``.

    Channel 0 is the mean weight; 1-3 and 4-6 the weighted means of ``guide`` and ``result``
    times it; then the products of the guide's channels (00, 01, 02, 11, 12, 22) and of each
    result channel with each guide channel (``3 * c + k``), all times the mean weight.
    Moments of disjoint weights add up: the fit to their sum is the fit to both.

    Args:
        guide: (B, 3, h, w).
        result: (B, 3, h, w).
        weights: each (B, 1, h, w) >= 0.
        radius: the window's radius, in cells.
        gather: gathers pixels into cells (averaging their moments), (B, 22, h, w) to
            (B, 22, h', w'), before the windows are taken, so that the fits are made per
            cell; None fits every pixel.

    Returns:
        One (B, 22, h', w') per weight ((B, 22, h, w) without ``gather``).
    """
    channels = [torch.ones_like(guide[:, 0])]
    channels += [guide[:, k] for k in range(3)] + [result[:, c] for c in range(3)]
    channels += [guide[:, i] * guide[:, j] for i, j in _PAIRS]
    channels += [result[:, c] * guide[:, k] for c in range(3) for k in range(3)]
    products = torch.stack(channels, dim=1)
    moments = []
    for number, weight in enumerate(weights, start=1):
        # The last weight may take the products' own memory.
        weighted = products.mul_(weight) if number == len(weights) else products * weight
        if gather is not None:
            weighted = gather(weighted)
        moments.append(window_mean(weighted, radius))
    return moments


def solve_affine(moments: torch.Tensor, eps: float | torch.Tensor) -> torch.Tensor:
    """The ridge least-squares transforms of ``window_moments``: (B, 12, h, w), laid out as
    ``fit_colour_affine``'s (an empty window gives the transform 0); ``eps`` is one number or
    one per picture, (B, 1, 1)."""
    mass = moments[:, :1]
    normalised = (moments[:, 1:] / mass.clamp_min(torch.finfo(mass.dtype).tiny)).unbind(1)
    mean_guide, mean_result, products = normalised[:3], normalised[3:6], normalised[6:]
    sigma = {
        pair: products[n]
        - mean_guide[pair[0]] * mean_guide[pair[1]]
        + (eps if pair[0] == pair[1] else 0.0)
        for n, pair in enumerate(_PAIRS)
    }
    inverse = _symmetric_inverse(sigma)
    coefficients, offsets = [], []
    for c in range(3):
        covariance = [products[6 + 3 * c + k] - mean_result[c] * mean_guide[k] for k in range(3)]
        row = [sum(covariance[j] * inverse[j][k] for j in range(3)) for k in range(3)]
        coefficients += row
        offsets.append(mean_result[c] - sum(row[k] * mean_guide[k] for k in range(3)))
    return torch.stack(coefficients + offsets, dim=1)


def uncentre(
    coefficients: torch.Tensor, guide_level: torch.Tensor, result_level: torch.Tensor
) -> torch.Tensor:
    """Transforms fitted to ``guide - guide_level`` and ``result - result_level`` (levels
    (B, 3, 1, 1)) made to act on the pictures themselves: ``b += result_level - A
    guide_level``."""
    transforms = coefficients[:, :9].unflatten(1, (3, 3))
    shift = (transforms * guide_level.view(-1, 1, 3, 1, 1)).sum(dim=2)
    offsets = coefficients[:, 9:] + result_level - shift
    return torch.cat([coefficients[:, :9], offsets], dim=1)


def _symmetric_inverse(
    sigma: dict[tuple[int, int], torch.Tensor],
) -> list[list[torch.Tensor]]:
    """The inverse of symmetric 3 x 3 matrices given by their upper triangle, element-wise
    over maps, by cofactors (the exporters to ONNX have no batched solver)."""
    a, b, c = sigma[0, 0], sigma[0, 1], sigma[0, 2]
    d, e, f = sigma[1, 1], sigma[1, 2], sigma[2, 2]
    m00, m01, m02 = d * f - e * e, c * e - b * f, b * e - c * d
    m11, m12, m22 = a * f - c * c, b * c - a * e, a * d - b * b
    scale = 1.0 / (a * m00 + b * m01 + c * m02)
    m00, m01, m02, m11, m12, m22 = (m * scale for m in (m00, m01, m02, m11, m12, m22))
    return [[m00, m01, m02], [m01, m11, m12], [m02, m12, m22]]
