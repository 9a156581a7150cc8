"""Rendering at full resolution what was decided on a reduced picture: sizes, reduction,
upsampling, edges without halos, noise."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from lowlight.imageio.full_resolution import (
    fit_cell,
    gather_cells,
    reduce_to,
    reduced_shape,
    render_full_resolution,
    render_reduced,
    upsample_rows,
)
from lowlight.models.curve_estimator import apply_curves

# One level of an 8-bit picture.
LEVEL = 1 / 255


def brighten(rgb: torch.Tensor) -> torch.Tensor:
    """A per-pixel tone curve with no halo of its own, as the enhancer's curves: dark values
    lifted about 10 times, bright ones rolled off towards white."""
    return apply_curves(rgb, torch.full_like(rgb, 0.9), iterations=4)


def step_picture(height: int = 300, width: int = 451, edge: int = 227) -> torch.Tensor:
    """A dark room (left) beside a lit window (right), the edge between two columns."""
    rgb = torch.empty(1, 3, height, width)
    rgb[..., :edge] = torch.tensor([0.03, 0.035, 0.025]).view(1, 3, 1, 1)
    rgb[..., edge:] = torch.tensor([0.55, 0.5, 0.45]).view(1, 3, 1, 1)
    return rgb


@pytest.mark.parametrize(
    ("size", "side", "expected"),
    [
        ((3024, 4032), 768, (576, 768)),
        ((4000, 6000), 768, (512, 768)),
        ((1080, 1920), 768, (432, 768)),
        ((400, 600), 768, (400, 600)),  # never enlarged
        ((4000, 10), 100, (100, 1)),  # at least one pixel
    ],
)
def test_reduced_shape(size, side, expected) -> None:
    assert reduced_shape(*size, side) == expected


@pytest.mark.parametrize(
    ("size", "reduced", "expected"),
    [
        ((400, 600), (200, 300), 1),  # a reduction of 2
        ((768, 1024), (569, 759), 1),
        ((400, 601), (200, 300), 2),  # just beyond
        ((3024, 4032), (576, 768), 2),
    ],
)
def test_fit_cell(size, reduced, expected) -> None:
    assert fit_cell(*size, *reduced) == expected


def test_gathering_cells_for_the_exported_graph_is_pooling() -> None:
    torch.manual_seed(5)
    pixels = torch.rand(2, 4, 7, 10)
    assert torch.equal(gather_cells(pixels, 1), pixels)
    assert torch.equal(gather_cells(pixels, 1, traceable=True), pixels)
    pooled = F.avg_pool2d(pixels, 2, ceil_mode=True)
    assert torch.allclose(gather_cells(pixels, 2, traceable=True), pooled, atol=1e-6)


def test_the_traceable_reduction_is_area_averaging() -> None:
    torch.manual_seed(0)
    image = torch.rand(2, 3, 61, 97)
    for size in ((20, 31), (61, 50), (13, 97)):
        expected = F.interpolate(image, size=size, mode="area")
        assert torch.equal(reduce_to(image, size), expected)
        assert torch.allclose(reduce_to(image, size, traceable=True), expected, atol=1e-5)


def test_upsampling_some_rows_gives_those_rows_of_bilinear_upsampling() -> None:
    torch.manual_seed(1)
    coarse = torch.rand(1, 4, 9, 13)
    expected = F.interpolate(coarse, size=(40, 57), mode="bilinear", align_corners=False)
    rows = torch.tensor([0, 1, 17, 38, 39])
    assert torch.allclose(upsample_rows(coarse, rows, 40, 57), expected[:, :, rows], atol=1e-6)
    assert torch.allclose(upsample_rows(coarse, torch.arange(40), 40, 57), expected, atol=1e-6)


def test_a_per_pixel_tone_curve_is_rendered_as_if_applied_at_full_resolution() -> None:
    rows = torch.linspace(0.0, 1.0, 240)[:, None]
    columns = torch.linspace(0.0, 1.0, 360)[None, :]
    red, green, blue = 0.02 + 0.08 * columns * rows, 0.03 + 0.05 * rows, 0.06 - 0.04 * columns
    picture = torch.stack(torch.broadcast_tensors(red, green, blue))[None]
    rendered = render_reduced(brighten, picture, side=72)
    assert rendered.shape == picture.shape
    error = (rendered - brighten(picture)).abs()
    # Within a cell of transforms (2 reduced pixels, 10 pixels here) and a half of the border
    # the transforms are held, not extended.
    assert float(error[..., 15:-15, 15:-15].max()) < 0.5 * LEVEL
    assert float(error.max()) < 6 * LEVEL


def test_a_sharp_step_keeps_its_edge_with_no_halo() -> None:
    # Reduced about 6 times, the edge falls inside a reduced pixel; at full resolution
    # every pixel beside it still gets its own side's tone, within 2 levels.
    picture = step_picture()
    rendered = render_reduced(brighten, picture, side=75)
    exact = brighten(picture)
    error = (rendered - exact).abs().amax(dim=(0, 1, 2)) / LEVEL
    assert float(error.max()) <= 2.0, (
        f"{float(error.max()):.1f} levels at column {int(error.argmax())}"
    )
    # The step itself: from one column to the next, the full difference between the sides.
    jump = rendered[..., 227] - rendered[..., 226]
    assert float(jump.min()) > 0.9 * float((exact[..., 227] - exact[..., 226]).min())


def test_bands_and_one_pass_render_alike() -> None:
    torch.manual_seed(2)
    picture = (step_picture(130, 170, 77) + 0.01 * torch.randn(1, 3, 130, 170)).clamp(0, 1)
    reduced = reduce_to(picture, reduced_shape(130, 170, 40))
    result = brighten(reduced)
    whole = render_full_resolution(picture, reduced, result, band_rows=None)
    banded = render_full_resolution(picture, reduced, result, band_rows=32)
    # One pass gathers the reduced pixels into cells by running sums (as the exported graph
    # does), bands by pooling: the two agree to float32's rounding.
    assert torch.allclose(whole, banded, atol=0.01 * LEVEL)


def test_fine_texture_that_the_result_keeps_is_rendered() -> None:
    # A dark picture with texture at a scale of two or three pixels and noise of about a
    # level, reduced 1.35 times, brightened by a per-pixel curve that keeps the texture: the
    # rendering keeps most of it (fits per reduced pixel, a ridge that the texture does not
    # raise). Fits per 2 x 2 cell with a ridge of the detail's spread kept 38 %.
    generator = torch.Generator().manual_seed(6)
    field = F.avg_pool2d(torch.randn(1, 1, 242, 362, generator=generator), 3, stride=1)
    clean = torch.tensor([0.05, 0.045, 0.04]).view(1, 3, 1, 1) * (1 + 0.3 * field)
    noisy = (clean + 0.004 * torch.randn(1, 3, 240, 360, generator=generator)).clamp(0, 1)
    rendered = render_reduced(brighten, noisy, side=267)
    exact = brighten(clean)

    def detail(rgb: torch.Tensor) -> torch.Tensor:
        return rgb - F.avg_pool2d(F.pad(rgb, (2, 2, 2, 2), mode="replicate"), 5, stride=1)

    kept = (detail(rendered) * detail(exact)).sum() / detail(exact).square().sum()
    assert float(kept) > 0.55


def test_noise_is_not_brought_back_where_the_reduced_result_is_smooth() -> None:
    # A dark, noisy, flat picture, brightened 8 times by a function that also smooths (as
    # the network denoises): the rendered result keeps its smoothness at full resolution,
    # where a plain gain would brighten the noise 8 times.
    torch.manual_seed(4)
    noisy = (0.05 + 0.01 * torch.randn(1, 3, 360, 480)).clamp(0, 1)

    def smooth_brighten(rgb: torch.Tensor) -> torch.Tensor:
        return 8 * F.avg_pool2d(F.pad(rgb, (2, 2, 2, 2), mode="replicate"), 5, stride=1)

    rendered = render_reduced(smooth_brighten, noisy, side=120)
    assert float(rendered.mean()) == pytest.approx(0.4, rel=0.02)
    assert float(rendered.std()) < 0.1 * 8 * 0.01


def test_inputs_that_do_not_belong_together_are_refused() -> None:
    with pytest.raises(ValueError, match="expected image"):
        render_full_resolution(
            torch.rand(1, 3, 20, 20), torch.rand(1, 3, 5, 5), torch.rand(1, 3, 5, 6)
        )
