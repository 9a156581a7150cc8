"""NIQE, the Natural Image Quality Evaluator: a no-reference score, lower is better.

Mittal, Soundararajan, Bovik, "Making a 'Completely Blind' Image Quality Analyzer", IEEE Signal
Processing Letters 20(3), 2013. The score is the distance between a multivariate Gaussian fitted
to natural-scene features of the image's 96x96 blocks and one fitted by the authors to pristine
photographs.

The pristine model (``data/niqe_pris_params.npz``: mean 1x36, covariance 36x36 and the 7x7
Gaussian window) is the one of the authors' MATLAB release (LIVE, The University of Texas at
Austin), as redistributed by BasicSR (XPixelGroup/BasicSR, Apache License 2.0,
``basicsr/metrics/niqe_pris_params.npz``); see ``data/README.md``.

Protocol, as pyiqa's ``niqe`` metric computes it (within 1e-4 of pyiqa 0.1.16 on the shared
reference photos):
Y of YIQ (Rec. 601 luma) of the RGB input scaled to 0-255 and rounded; no border crop; the
image cropped at its bottom and right to whole 96x96 blocks; 18 features per block (shape and
scales of an asymmetric generalised Gaussian fitted to the normalised luminance and to its
products with its four neighbours, circularly within the block) at full scale on 96x96 blocks
and at half scale (MATLAB bicubic with antialiasing) on 48x48 blocks; blocks with an undefined
feature (a side with no samples, as in a flat block) are left out of the covariance and that
feature out of the mean; the distance uses the pseudo-inverse of the mean of both covariances.
Where only one block has every feature, its covariance is taken as zero (as MATLAB's ``cov`` of
one observation), where pyiqa answers NaN.

Tall images are worked through in strips of ``STRIP_BLOCK_ROWS`` block rows, each with
``STRIP_CONTEXT`` rows of the picture above and below it, which the local normalisation and the
half-scale resize read: every block gets exactly the features it gets from the whole picture at
once, so the score is the same, while the working memory is the strip's (about 0.2 GB at 6000
pixels wide, against 1.2 GB for a 6000x4000 picture at once). The time stays proportional to
the pixels: about 15 s at 6000x4000 on one core.

pyiqa holds the Gaussian window in float32, so its weights sum to 1 + 1.1e-8 rather than 1; a
flat area at a grey level c > 0 then normalises to about -1.1e-8 c, which the shape fit counts
as negative samples, rather than to rounding noise of either sign. This module uses the window
rounded the same way: scores then agree with pyiqa's to 1e-4 and do not depend on the order of
floating-point sums, which with an exact window moves dark pictures with flat areas by up to
0.01.

BRISQUE is not provided: it needs a support-vector regressor trained on rated images (the
authors' ``allmodel``), which this package does not ship and may not download.
"""

from __future__ import annotations

import functools
from importlib import resources

import numpy as np
import torch

from lowlight.metrics.checks import check_image, out_dtype, work_dtype
from lowlight.metrics.matlab_resize import imresize
from lowlight.metrics.nss import fit_aggd, mscn
from lowlight.models.colour import luminance

__all__ = ["niqe", "pristine_model", "NIQE_BLOCK"]

NIQE_BLOCK = 96
"""Block size of the MATLAB release, in pixels at full scale."""
PARAMS_FILE = "niqe_pris_params.npz"
# Neighbour offsets (rows, columns) of the pairwise products: horizontal, vertical, diagonals.
NEIGHBOURS = ((0, 1), (1, 0), (1, 1), (1, -1))
# Block rows scored at a time (768 pixel rows), so that memory does not grow with the height.
STRIP_BLOCK_ROWS = 8
# Pixel rows of the picture read above and below a strip: the normalisation's 7x7 window reaches
# 3 rows, the half-scale resize 4 rows plus the window's 3 half-scale rows (10 in all); even, so
# that the strip's half-scale rows fall on the picture's.
STRIP_CONTEXT = 16


@functools.lru_cache(maxsize=1)
def _pristine_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    source = resources.files("lowlight.metrics").joinpath("data", PARAMS_FILE)
    with source.open("rb") as handle, np.load(handle, allow_pickle=False) as params:
        arrays = (
            params["mu_pris_param"].reshape(-1),
            params["cov_pris_param"],
            params["gaussian_window"],
        )
    for array in arrays:
        array.setflags(write=False)
    return arrays


def pristine_model(
    dtype: torch.dtype = torch.float64, device: torch.device | str = "cpu"
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The shipped pristine model: ``(mean (36,), covariance (36, 36), window (7, 7))``."""
    return tuple(torch.tensor(array, dtype=dtype, device=device) for array in _pristine_arrays())


def _check_image(image: torch.Tensor) -> None:
    check_image(image, channels=(3, 1))
    height, width = image.shape[-2:]
    if height < NIQE_BLOCK or width < NIQE_BLOCK:
        raise ValueError(
            f"NIQE needs images of at least {NIQE_BLOCK}x{NIQE_BLOCK} pixels (one block), "
            f"got {height}x{width}"
        )
    if not torch.isfinite(image).all():
        raise ValueError("image holds NaN or infinite values")


def _grey_levels(image: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Luma on the 0-255 scale rounded to whole levels, in ``dtype``.

    The luma is computed in the input's precision (at least float32), as pyiqa does, so that
    a pixel whose luma falls halfway between two levels rounds the same way.
    """
    values = image.to(out_dtype(image))
    grey = luminance(values) if values.shape[1] == 3 else values
    return torch.round(grey * 255.0).clamp(0.0, 255.0).to(dtype)


def _block_features(normalised: torch.Tensor, block: int) -> torch.Tensor:
    """(B, 1, H, W) normalised luminance -> (B, blocks, 18) features, H and W multiples of block."""
    batch, _, height, width = normalised.shape
    blocks = normalised.reshape(batch, height // block, block, width // block, block)
    blocks = blocks.transpose(2, 3).reshape(batch, -1, block, block)
    shape, left, right = fit_aggd(blocks.flatten(-2))
    features = [shape, (left + right) / 2.0]
    for offset in NEIGHBOURS:
        products = blocks * torch.roll(blocks, offset, dims=(-2, -1))
        shape, left, right = fit_aggd(products.flatten(-2))
        mean = (right - left) * torch.exp(torch.lgamma(2.0 / shape) - torch.lgamma(1.0 / shape))
        features += [shape, mean, left, right]
    return torch.stack(features, dim=-1)


def _features(grey: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) grey levels, H and W whole blocks -> (B, blocks, 36), blocks row by row.

    Strip by strip (see the module's docstring); a picture of at most ``STRIP_BLOCK_ROWS``
    block rows is one strip without context.
    """
    height = grey.shape[-2]
    strips = []
    for first in range(0, height, STRIP_BLOCK_ROWS * NIQE_BLOCK):
        last = min(first + STRIP_BLOCK_ROWS * NIQE_BLOCK, height)
        top, bottom = max(first - STRIP_CONTEXT, 0), min(last + STRIP_CONTEXT, height)
        context = grey[..., top:bottom, :]
        start, stop = first - top, last - top
        full = mscn(context, window)[..., start:stop, :]
        half = mscn(imresize(context, 0.5), window)[..., start // 2 : stop // 2, :]
        strips.append(
            torch.cat(
                [_block_features(full, NIQE_BLOCK), _block_features(half, NIQE_BLOCK // 2)],
                dim=-1,
            )
        )
    return torch.cat(strips, dim=1)


def _distance(features: torch.Tensor, mean: torch.Tensor, covariance: torch.Tensor) -> torch.Tensor:
    """NIQE of one image from its (blocks, 36) features: Eq. 10 of the paper."""
    complete = features[~features.isnan().any(dim=1)]
    if complete.shape[0] == 0:
        return torch.tensor(float("nan"), dtype=features.dtype, device=features.device)
    centred = complete - complete.mean(dim=0)
    image_covariance = centred.T @ centred / max(complete.shape[0] - 1, 1)
    difference = mean - features.nanmean(dim=0)
    inverse = torch.linalg.pinv((covariance + image_covariance) / 2.0)
    return torch.sqrt(difference @ inverse @ difference)


def niqe(image: torch.Tensor) -> torch.Tensor:
    """NIQE of each image (lower is better), matching pyiqa's ``niqe`` metric.

    Args:
        image: (B, 3, H, W) RGB or (B, 1, H, W) grey, float in [0, 1], H and W >= 96. Values
            are rounded to 256 grey levels first, so uint8 sources score as their files do.

    Returns:
        (B,) in the dtype of ``image`` (at least float32); NaN for an image without a single
        textured block (a flat image, e.g. all black).

    Raises:
        TypeError: ``image`` is not a float tensor.
        ValueError: wrong shape, smaller than one 96x96 block, or not finite.

    Examples:
        >>> noise = torch.rand(1, 3, 96, 192, generator=torch.Generator().manual_seed(0))
        >>> bool(niqe(noise) > 10)  # white noise is far from a natural picture
        True
    """
    _check_image(image)
    work = work_dtype(image)
    grey = _grey_levels(image, work)
    rows, columns = (size // NIQE_BLOCK for size in grey.shape[-2:])
    grey = grey[..., : rows * NIQE_BLOCK, : columns * NIQE_BLOCK]
    mean, covariance, window = pristine_model(work, image.device)
    window = window.float().to(work)  # as pyiqa holds it: see the module's docstring
    features = _features(grey, window)
    scores = torch.stack([_distance(one, mean, covariance) for one in features])
    return scores.to(out_dtype(image))
