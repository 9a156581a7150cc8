"""Rendering at full resolution what was decided on a reduced copy of a picture.

``render_reduced`` runs an image-to-image function (the enhancer) on the picture reduced to a
working size and carries its result to every pixel as local affine colour transforms of the
picture, fitted at the reduced size (as ``lowlight.models.guided.fit_colour_affine``), upsampled
and applied at full resolution: bilateral guided upsampling (Chen et al. 2016) with two
intensity layers. Each reduced pixel has its own transforms where the reduction is small (up
to ``FINE_FIT_REDUCTION``), so that they follow fine texture; each cell of 2 x 2 reduced
pixels beyond, where the full-resolution pass costs most.

Edges: one affine transform per neighbourhood cannot map both sides of a sharp edge between
a dark room and a lit window through a tone curve, and spreads the error over both sides as
a halo. So each neighbourhood gets two transforms, one fitted on its darker pixels and one on
its brighter ones, split at the middle of the range of log luma around it; each
full-resolution pixel takes the transform of its own side (a smooth step in its log luma),
upsampled from the neighbourhoods where that side has pixels (normalised by their weight).
Reduced pixels that straddle an edge (their full-resolution pixels vary far more than the
noise does) are mixtures of both sides, and are left out of the fits.

Noise: a transform that brightens a dark picture would brighten its full-resolution noise
with it, as a plain gain does. The fit's own regularisation keeps it down: where the reduced
result is smooth (the function removed the noise there), the fitted transform has no slope
and renders a smooth result, whatever the full-resolution pixels do. Where the result keeps
texture, the slope passes it, shrunk about as a Wiener filter of the full-resolution picture
would: the fit's ridge follows the noise of the full-resolution detail (``NOISE_RIDGE``), read
with ``lowlight.imageio.noise_level`` so that the picture's own fine texture is not taken for
noise. On dark Kodak photos with camera noise, enlarged to 2304x1536 and rendered from 768
pixels, less of the input's noise reaches the result than through the network at full
resolution (``benchmarks/fast_quality.py``). Shrinking the fine detail as well removed little
more noise, and took texture with it (NIQE on real dark photos rose by 0.7). Everything at
full resolution is computed in bands of rows, so memory beyond the picture and its result
stays small however large the picture is.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from lowlight.imageio.noise_level import noise_level
from lowlight.models.colour import luminance
from lowlight.models.guided import (
    exposure_guide,
    solve_affine,
    uncentre,
    window_mean,
    window_moments,
)

__all__ = [
    "reduced_shape",
    "reduce_to",
    "render_reduced",
    "render_full_resolution",
    "fit_full_resolution",
    "render_with",
    "upsample_rows",
    "fit_layers",
    "fit_cell",
    "gather_cells",
    "reduce_with_variance",
    "BAND_ROWS",
    "FINE_FIT_REDUCTION",
    "FIT_EPS",
    "FIT_RADIUS",
    "SPLIT_RADIUS",
]

FINE_FIT_REDUCTION = 2
"""Up to this reduction (in each direction) every reduced pixel has its own fit; beyond it,
each cell of 2 x 2 reduced pixels has one: a quarter of the work, where the full-resolution
pass costs most (a 12-megapixel photo from 768 pixels is a reduction of 5.25). Per pixel
rather than per cell, the 46 held-out LOL-v1 training pairs (the trainer's split) rendered
from half size scored SSIM 0.838 against 0.827, and 90 Urban100 and Sun80 photos darkened by
3 to 5 stops with camera noise, rendered from 1.35 times smaller, NIQE 0.14 above the full
rendering against 0.59: the transforms follow fine texture."""
FIT_RADIUS = 1
"""The fits' windows, in cells: 3 x 3 cells (radius 1), the smallest window, keeps the
transforms local."""
SPLIT_RADIUS = 4
"""The darker and brighter pixels are split at the middle of the range of log luma over 9 x 9
cells of 2 x 2 reduced pixels: wider than everything a full-resolution pixel's transform is
made from (3 x 3 windows of cells of up to 2 x 2 pixels, averaged over 3 x 3, interpolated
between 2 x 2), so that near an edge all of it is split at the same level. Taken over cells
whatever the fits' cells, it costs a quarter of taking it over pixels."""
SPLIT_SOFTNESS = 0.02
"""The width of the step from the darker side's transform to the brighter side's, in units of
``exposure_guide`` (a tenth of a stop each 0.01)."""
MIXTURE_NOISE = 3.0
"""A reduced pixel whose full-resolution pixels' luma varies by this many times the noise (or by
one 8-bit level on a clean picture) has half the weight of a flat one in the fits."""
POOLED_WEIGHT = 0.05
"""How much of both sides' data each side's fit takes in: enough that a window with a few of the
side's pixels has a steady fit, too little to move one with many."""
FALLBACK_WEIGHT = 1e-5
"""How strongly each side's transform falls back on its own window's fit (which, pooled, is
then the fit of both sides): only where that side has (almost) no pixels nearby."""
FIT_EPS = 1e-5
"""The fit's ridge, at least: on dark pictures a window's colour variance is about 1e-4; much
below this, its variations count as flat. Lower floors keep more of a clean dark picture's
texture (30 of the same photos darkened without noise: NIQE 3.66 at 3e-6 against 3.80, the
full rendering's 3.53), but let the dark side of a sharp step glow by up to 11 levels (the
step of ``tests/imageio/test_full_resolution.py``, reduced 6 times)."""
NOISE_RIDGE = 2.0
"""The fit's ridge is this many times the variance of the noise in the full-resolution detail
(the picture's noise, less the share 1 / reduction that the reduced picture keeps). The
transforms multiply the full-resolution picture, noise and all: a ridge of about that noise
shrinks each window's slope as a Wiener filter of the full-resolution picture would, and noise
alone then moves no transform, across the colours of a grey patch in particular. 1, 1.5, 2, 3
and 4 times gave SSIM 0.835, 0.837, 0.838, 0.838 and 0.837 on the held-out LOL-v1 pairs from
half size, and NIQE 0.16, 0.13, 0.14, 0.19 and 0.25 above the full rendering on the darkened
Urban100 and Sun80 photos (``FINE_FIT_REDUCTION``); with the noise read from the detail beside
the reduced copy, which takes fine texture for noise, 0.34."""
BAND_ROWS = 64
"""Rows rendered at a time: the upsampled coefficients of one band of a 24-megapixel picture take
about 40 MB. Bands of 64 rows rendered a 12-megapixel picture in 0.60 s on 2 threads against
1.04 s with bands of 256; 16 to 96 rows did about as well."""
# One level of an 8-bit picture: the least variation that counts as an edge.
_LEVEL = 1 / 255


def reduced_shape(height: int, width: int, side: int) -> tuple[int, int]:
    """``(h, w)``: the picture scaled so that its longer side is ``side``, never enlarged.

    Integer arithmetic only, so that the exported graph computes it from the picture's
    symbolic size (``lowlight.export``).

    Example:
        >>> reduced_shape(3024, 4032, 768), reduced_shape(400, 600, 768)
        ((576, 768), (400, 600))
    """
    longer = torch.sym_max(height, width)
    # Rounded to the nearest pixel; a picture no longer than ``side`` keeps its size.
    reduced_height = torch.sym_max(1, (height * side + longer // 2) // longer)
    reduced_width = torch.sym_max(1, (width * side + longer // 2) // longer)
    return torch.sym_min(height, reduced_height), torch.sym_min(width, reduced_width)


def reduce_to(image: torch.Tensor, size: tuple[int, int], traceable: bool = False) -> torch.Tensor:
    """``image`` (B, C, H, W) reduced to ``size`` (h, w) <= (H, W) by area averaging.

    ``F.interpolate(..., mode="area")`` (adaptive average pooling); with ``traceable`` the
    same windows as differences of running sums, which, unlike the former, export to ONNX for
    any size (the two agree to float32's rounding).

    Example:
        >>> image = torch.rand(1, 3, 50, 70)
        >>> area = F.interpolate(image, size=(20, 30), mode="area")
        >>> bool((reduce_to(image, (20, 30), traceable=True) - area).abs().max() < 1e-5)
        True
    """
    if not traceable:
        return F.interpolate(image, size=size, mode="area")
    height, width = size
    narrowed = _area_reduce_rows(image, width)
    # Running sums along the last dimension are the fast ones: the narrowed picture is
    # transposed for its height.
    return _area_reduce_rows(narrowed.transpose(-1, -2).contiguous(), height).transpose(-1, -2)


def _area_reduce_rows(image: torch.Tensor, size: int) -> torch.Tensor:
    """``image`` reduced to ``size`` along its last dimension by adaptive average pooling:
    output ``i`` averages inputs ``floor(i * n / size)`` to ``ceil((i + 1) * n / size) - 1``."""
    length = image.shape[-1]
    index = torch.arange(size, device=image.device)
    start = (index * length) // size
    end = ((index + 1) * length + size - 1) // size
    running = image.cumsum(-1)
    before = running.index_select(-1, (start - 1).clamp_min(0))
    before = torch.where(start > 0, before, torch.zeros_like(before))
    sums = running.index_select(-1, end - 1) - before
    return sums / (end - start).to(image.dtype)


def upsample_rows(
    coarse: torch.Tensor, rows: torch.Tensor, height: int, width: int
) -> torch.Tensor:
    """Rows ``rows`` of ``coarse`` (B, C, h, w) upsampled bilinearly to (H, W) = (height, width).

    The same mapping of pixel centres as ``F.interpolate(..., mode="bilinear",
    align_corners=False)``, for some output rows only, so that a large picture can be
    rendered band by band.

    Returns:
        (B, C, len(rows), width).
    """
    coarse_height = coarse.shape[-2]
    source = ((rows.to(coarse.dtype) + 0.5) * (coarse_height / height) - 0.5).clamp_min(0.0)
    top = source.floor()
    weight = (source - top).view(1, 1, -1, 1)
    top = top.long().clamp_max(coarse_height - 1)
    bottom = (top + 1).clamp_max(coarse_height - 1)
    picked = torch.lerp(coarse.index_select(2, top), coarse.index_select(2, bottom), weight)
    # Along the rows, as one long batch of them: faster than a bilinear interpolation that is
    # the identity vertically.
    along = F.interpolate(picked.flatten(1, 2), size=width, mode="linear", align_corners=False)
    return along.unflatten(1, picked.shape[1:3])


def fit_cell(height: int, width: int, reduced_height: int, reduced_width: int) -> int:
    """The side of the cells the transforms are fitted per, in reduced pixels, for a picture
    of ``height`` x ``width`` reduced to ``reduced_height`` x ``reduced_width``: 1 up to a
    reduction of ``FINE_FIT_REDUCTION``, 2 beyond.

    Integer arithmetic only, so that the exported graph computes it from the picture's
    symbolic size.

    Example:
        >>> fit_cell(400, 600, 200, 300), fit_cell(3024, 4032, 576, 768)
        (1, 2)
    """
    longer = torch.sym_max(height, width)
    side = torch.sym_max(reduced_height, reduced_width)
    return 1 + torch.sym_min(1, longer // (FINE_FIT_REDUCTION * side + 1))


def gather_cells(pixels: torch.Tensor, cell: int, traceable: bool = False) -> torch.Tensor:
    """``pixels`` (B, C, h, w) averaged over cells of ``cell`` x ``cell`` (1 or 2):
    (B, C, ceil(h / cell), ceil(w / cell)); the last row and column of cells may be partial.

    ``F.avg_pool2d``; with ``traceable``, the same by padding to whole cells and averaging
    their pixels, for a ``cell`` computed in the exported graph.

    Example:
        >>> pixels = torch.arange(15.0).view(1, 1, 3, 5)
        >>> gather_cells(pixels, 2).flatten().tolist()
        [3.0, 5.0, 6.5, 10.5, 12.5, 14.0]
        >>> torch.equal(gather_cells(pixels, 2, traceable=True), gather_cells(pixels, 2))
        True
    """
    if not traceable:
        return pixels if cell == 1 else F.avg_pool2d(pixels, cell, ceil_mode=True)
    height, width = pixels.shape[-2:]
    # A partial cell's mean is that of its pixels: the edge repeated fills it out.
    padded = F.pad(pixels, (0, (-width) % cell, 0, (-height) % cell), mode="replicate")
    rows = padded.unflatten(-2, (-1, cell)).mean(dim=-2)
    return rows.unflatten(-1, (-1, cell)).mean(dim=-1)


def fit_layers(
    reduced: torch.Tensor,
    result: torch.Tensor,
    weight: torch.Tensor,
    ridge: torch.Tensor | float = FIT_EPS,
    cell: int = 1,
    traceable: bool = False,
) -> torch.Tensor:
    """The transforms of both sides and the level that splits them, per cell of ``cell`` x
    ``cell`` reduced pixels: (B, 25, ceil(h / cell), ceil(w / cell)).

    Args:
        reduced: (B, 3, h, w), the reduced picture.
        result: (B, 3, h, w), what became of it.
        weight: (B, 1, h, w) in (0, 1], each reduced pixel's weight in the fits.
        ridge: the fits' ridge, one number or (B, 1, 1, 1).
        cell: 1 or 2 (``fit_cell``).
        traceable: gather pixels into cells in a way that exports to ONNX (``gather_cells``).

    Returns:
        Channels 0-11: the darker side's transform (laid out as ``fit_colour_affine``'s),
        12-23: the brighter side's, 24: the split, in units of ``exposure_guide``.
    """

    def to_cells(pixels: torch.Tensor) -> torch.Tensor:
        return gather_cells(pixels, cell, traceable)

    guide = exposure_guide(reduced)
    split = _middle_of_range(guide, SPLIT_RADIUS)
    split = F.interpolate(split, size=guide.shape[-2:], mode="bilinear", align_corners=False)
    brighter = torch.sigmoid((guide - split) / SPLIT_SOFTNESS)
    # Centred on each picture's mean, the second moments keep float32's precision.
    guide_level = reduced.mean(dim=(2, 3), keepdim=True)
    result_level = result.mean(dim=(2, 3), keepdim=True)
    centred = (reduced - guide_level, result - result_level)
    darker_weight = weight * (1.0 - brighter)
    darker, both = window_moments(*centred, [darker_weight, weight], FIT_RADIUS, to_cells)
    masses = (darker[:, :1].clone(), both[:, :1] - darker[:, :1])
    # A little of both sides' data steadies the fit of a window where the side has few
    # pixels (moments of disjoint weights add up, so the brighter side's are both's less the
    # darker's).
    brighter_pooled = both.mul(1.0 + POOLED_WEIGHT).sub_(darker)
    darker_pooled = darker.add_(both, alpha=POOLED_WEIGHT)
    del both
    ridge = torch.as_tensor(ridge, dtype=reduced.dtype, device=reduced.device).reshape(-1, 1, 1)
    layers = []
    for moments, mass in zip((darker_pooled, brighter_pooled), masses, strict=True):
        # Each cell's transform is the mean of its windows', each weighted by how many of the
        # side's own pixels it holds, so that a window without them has no say. Where no
        # window around has any, the cell keeps its own window's fit, which is then the fit
        # of both sides.
        transforms = solve_affine(moments, ridge)
        weighted = window_mean(mass * transforms, FIT_RADIUS) + FALLBACK_WEIGHT * transforms
        layer = weighted / (window_mean(mass, FIT_RADIUS) + FALLBACK_WEIGHT)
        layers.append(uncentre(layer, guide_level, result_level))
    return torch.cat([*layers, to_cells(split)], dim=1)


def _middle_of_range(guide: torch.Tensor, radius: int) -> torch.Tensor:
    """The middle between the lowest and the highest of ``guide`` (B, 1, h, w) over the
    ``2 * radius + 1`` square window of cells of 2 x 2 pixels around each such cell (edges
    replicated): (B, 1, ceil(h / 2), ceil(w / 2))."""
    side = 2 * radius + 1
    extremes = []
    for sign in (1.0, -1.0):
        cells = F.max_pool2d(sign * guide, 2, ceil_mode=True)
        padded = F.pad(cells, (radius,) * 4, mode="replicate")
        rows = F.max_pool2d(padded, (1, side), stride=1)
        extremes.append(sign * F.max_pool2d(rows, (side, 1), stride=1))
    return 0.5 * (extremes[0] + extremes[1])


def render_full_resolution(
    image: torch.Tensor,
    reduced: torch.Tensor,
    result: torch.Tensor,
    variance: torch.Tensor | None = None,
    band_rows: int | None = BAND_ROWS,
) -> torch.Tensor:
    """``result``, computed from ``reduced``, rendered at the size of ``image``: the
    transforms of ``fit_full_resolution`` applied by ``render_with``.

    Args:
        image: (B, 3, H, W) in [0, 1], the full-resolution picture.
        reduced: (B, 3, h, w), ``image`` reduced (``reduce_to``), h <= H and w <= W.
        result: (B, 3, h, w) in [0, 1], what a function made of ``reduced``.
        variance: (B, 1, h, w), the variance of the luma of the full-resolution pixels of
            each reduced pixel (``reduce_with_variance``); None counts every reduced pixel
            as flat.
        band_rows: rows rendered at a time; None renders all at once (the exported graph).

    Returns:
        (B, 3, H, W) in [0, 1], ``image``'s dtype and device.
    """
    layers = fit_full_resolution(image, reduced, result, variance, traceable=band_rows is None)
    return render_with(image, layers, band_rows)


def fit_full_resolution(
    image: torch.Tensor,
    reduced: torch.Tensor,
    result: torch.Tensor,
    variance: torch.Tensor | None = None,
    traceable: bool = False,
) -> torch.Tensor:
    """The transforms that render ``result`` at the size of ``image`` (``fit_layers``'s
    layers, on ``image``'s device and dtype); arguments as for ``render_full_resolution``,
    ``traceable`` as for ``fit_layers`` (True in the exported graph)."""
    if reduced.shape != result.shape or reduced.shape[:2] != image.shape[:2]:
        raise ValueError(
            f"expected image (B, 3, H, W) with reduced and result (B, 3, h, w), got "
            f"{tuple(image.shape)}, {tuple(reduced.shape)} and {tuple(result.shape)}"
        )
    reduced = reduced.to(image.device, image.dtype)
    result = result.to(image.device, image.dtype)
    # The noise of the full-resolution detail: the picture's, less the share 1 / reduction
    # (in pixels) that each reduced pixel keeps of it.
    reduction = image.shape[-2] * image.shape[-1] / (reduced.shape[-2] * reduced.shape[-1])
    noise_variance = noise_level(image).square().mean(dim=1, keepdim=True)
    detail_variance = noise_variance * (1.0 - 1.0 / reduction)
    weight = torch.ones_like(reduced[:, :1])
    if variance is not None:
        spread = MIXTURE_NOISE**2 * detail_variance + _LEVEL**2
        weight = 1.0 / (1.0 + variance.to(image.device, image.dtype) / spread)
    ridge = (NOISE_RIDGE * detail_variance).clamp_min(FIT_EPS)
    cell = fit_cell(*image.shape[-2:], *reduced.shape[-2:])
    return fit_layers(reduced, result, weight, ridge, cell, traceable)


def render_with(
    image: torch.Tensor, layers: torch.Tensor, band_rows: int | None = BAND_ROWS
) -> torch.Tensor:
    """``image`` (B, 3, H, W) in [0, 1] through the transforms ``layers`` fitted on it, or on
    a picture of the same size that looks much like it (the previous frame of a clip), by
    ``fit_full_resolution``: (B, 3, H, W) in [0, 1]. ``band_rows`` as for
    ``render_full_resolution``."""
    height, width = image.shape[-2:]
    rows = torch.arange(height, device=image.device)
    size = (height, width)
    if band_rows is None:
        return _render_rows(image, layers, rows, size)
    rendered = torch.empty_like(image)
    for top in range(0, height, band_rows):
        band = slice(top, top + band_rows)
        rendered[..., band, :] = _render_rows(image[..., band, :], layers, rows[band], size)
    return rendered


def _render_rows(
    image_rows: torch.Tensor, layers: torch.Tensor, rows: torch.Tensor, size: tuple[int, int]
) -> torch.Tensor:
    """The rendered ``rows`` of a picture of ``size`` (H, W): each pixel's side's transform
    (``layers`` as ``fit_layers`` makes them) applied to the picture's rows."""
    upsampled = upsample_rows(layers, rows, *size)
    # Each side's transform is bounded before the two are mixed: a pixel near the split
    # takes a little of the other side's, which may extrapolate far beyond its own pixels.
    darker = _transform(upsampled[:, :12], image_rows).clamp_(0.0, 1.0)
    brighter = _transform(upsampled[:, 12:24], image_rows).clamp_(0.0, 1.0)
    level = (exposure_guide(image_rows) - upsampled[:, 24:25]) / SPLIT_SOFTNESS
    return torch.lerp(darker, brighter, torch.sigmoid(level))


def _transform(coefficients: torch.Tensor, rgb: torch.Tensor) -> torch.Tensor:
    """``A . rgb + b`` per pixel, with ``A`` and ``b`` as ``fit_colour_affine`` lays them out:
    ``b`` plus, for each input channel ``k``, column ``k`` of ``A`` times it."""
    result = coefficients[:, 9:12].clone()
    for k in range(3):
        result.addcmul_(coefficients[:, k:9:3], rgb[:, k : k + 1])
    return result


def reduce_with_variance(
    image: torch.Tensor, size: tuple[int, int], traceable: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """``image`` (B, 3, H, W) reduced to ``size`` (``reduce_to``), and the variance of the
    luma of the full-resolution pixels that make each reduced pixel: (B, 1, h, w), large
    where a reduced pixel straddles an edge."""
    reduced = reduce_to(image, size, traceable)
    luma = luminance(image)
    mean_square = reduce_to(luma.square_(), size, traceable)
    return reduced, (mean_square - luminance(reduced).square()).clamp_min(0.0)


def render_reduced(
    function: Callable[[torch.Tensor], torch.Tensor],
    image: torch.Tensor,
    side: int,
    band_rows: int | None = BAND_ROWS,
) -> torch.Tensor:
    """``function`` applied to ``image`` reduced to a longer side of ``side``, rendered at
    full resolution (``render_full_resolution``).

    Args:
        function: maps (B, 3, h, w) in [0, 1] to (B, 3, h, w) in [0, 1] (the enhancer).
        image: (B, 3, H, W) in [0, 1], larger than ``side``.
        side: the longer side of the reduced picture, in pixels.
        band_rows: see ``render_full_resolution``; None also reduces the picture in a way
            that exports to ONNX (``reduce_to``).

    Returns:
        (B, 3, H, W) in [0, 1].
    """
    height, width = image.shape[-2:]
    traceable = band_rows is None
    reduced, variance = reduce_with_variance(image, reduced_shape(height, width, side), traceable)
    return render_full_resolution(image, reduced, function(reduced), variance, band_rows)
