"""Rendering at full resolution what was decided on a reduced picture: sizes, reduction,
upsampling, edges without halos, noise."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from lowlight.imageio.full_resolution import (
    detail_noise,
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
    assert torch.allclose(whole, banded, atol=1e-6)


def test_the_detail_noise_is_measured_robustly() -> None:
    torch.manual_seed(3)
    clean = step_picture(512, 768, 300)
    noisy = clean + 0.01 * torch.randn(clean.shape)
    reduced = reduce_to(noisy, reduced_shape(512, 768, 128))
    # The detail is the noise less what survives the sixfold reduction (1/36 of its variance).
    expected = 0.01 * (1 - 1 / 36) ** 0.5
    assert detail_noise(noisy, reduced).flatten().tolist() == pytest.approx(
        [expected] * 3, rel=0.05
    )
    assert float(detail_noise(clean, reduce_to(clean, (128, 192))).max()) < 1e-6


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
