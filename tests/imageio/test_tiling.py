"""Tiling: exact where tiles agree, seamless where they do not, bounded tile sizes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lowlight.imageio.tiling import blend_ramp, tile_process, tile_starts
from lowlight.models import UnifiedLowLightEnhancer

# The model comparison: a 160 x 192 image both ways, and in four tiles of at most 128 x 128
# overlapping by at least 48 pixels (here 96 rows and 64 columns).
MODEL_TILE, MODEL_OVERLAP = 128, 48


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny forward passes gain nothing from threads, and lose much on a shared machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _identity(tile: torch.Tensor) -> torch.Tensor:
    return tile.clone()


@pytest.mark.parametrize(
    ("height", "width", "tile", "overlap"),
    [(1, 1, 1, 0), (7, 300, 64, 16), (100, 100, 32, 8), (129, 65, 64, 63), (50, 40, 64, 16)],
)
def test_identity_reproduces_the_input_exactly(height, width, tile, overlap) -> None:
    image = torch.rand(2, 3, height, width, generator=torch.Generator().manual_seed(0))
    assert torch.equal(tile_process(_identity, image, tile=tile, overlap=overlap), image)


def test_pointwise_functions_are_unchanged_by_tiling() -> None:
    image = torch.rand(1, 3, 90, 130, dtype=torch.float64)
    result = tile_process(lambda t: torch.sqrt(t) * 0.5 + 0.1, image, tile=40, overlap=10)
    assert result.dtype == torch.float64
    assert torch.equal(result, torch.sqrt(image) * 0.5 + 0.1)


def test_tiles_never_exceed_the_tile_size_and_cover_the_image() -> None:
    seen = []

    def record(tile: torch.Tensor) -> torch.Tensor:
        seen.append(tuple(tile.shape[-2:]))
        return tile

    tile_process(record, torch.zeros(1, 3, 250, 333), tile=100, overlap=20)
    assert all(h <= 100 and w <= 100 for h, w in seen)
    rows, columns = len(tile_starts(250, 100, 20)), len(tile_starts(333, 100, 20))
    assert len(seen) == rows * columns


def test_tile_starts_span_the_axis_with_enough_overlap() -> None:
    for length in range(1, 400, 7):
        for tile, overlap in [(64, 16), (100, 0), (33, 32)]:
            starts = tile_starts(length, tile, overlap)
            size = min(tile, length)
            assert starts[0] == 0 and starts[-1] + size == length
            assert all(b - a <= tile - overlap for a, b in zip(starts, starts[1:], strict=False))
            assert starts == sorted(set(starts))


def test_blend_ramp_is_symmetric_and_inside_zero_one() -> None:
    ramp = blend_ramp(17, torch.float64, torch.device("cpu"))
    assert torch.all((ramp > 0) & (ramp < 1))
    assert torch.allclose(ramp + ramp.flip(0), torch.ones(17, dtype=torch.float64))
    assert torch.all(ramp[1:] > ramp[:-1])


def test_tiles_that_disagree_are_cross_faded_without_a_seam() -> None:
    # Each tile adds its own constant, 1/99 more than the tile before; the output must move
    # between them no faster than the raised-cosine ramp allows.
    offsets = iter(torch.linspace(0, 1, 100).tolist())
    overlap, jump = 16, 1 / 99

    def shift(tile: torch.Tensor) -> torch.Tensor:
        return tile + next(offsets)

    image = torch.zeros(1, 1, 40, 200)
    result = tile_process(shift, image, tile=64, overlap=overlap)
    steps = result.diff(dim=-1).abs().max().item()
    assert steps <= jump * math.pi / (2 * overlap) * 1.01
    assert result.min() >= 0 and result.max() <= 1


def test_invalid_arguments_are_rejected() -> None:
    image = torch.zeros(1, 3, 8, 8)
    with pytest.raises(ValueError, match="overlap"):
        tile_process(_identity, image, tile=4, overlap=4)
    with pytest.raises(ValueError, match="float"):
        tile_process(_identity, image.to(torch.uint8), tile=4, overlap=1)
    with pytest.raises(ValueError, match="keep the tile's shape"):
        tile_process(lambda t: t[..., :-1], image, tile=4, overlap=1)


def _periodic_dark_texture(height: int, width: int, period: int = 32) -> torch.Tensor:
    """A dark, noisy texture repeating every ``period`` pixels: every tile has the same
    statistics as the whole image, so only tiling itself can make the outputs differ."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:period, 0:period] / period
    base = 0.06 + 0.04 * np.sin(2 * np.pi * x)[..., None] * np.cos(2 * np.pi * y)[..., None]
    patch = base * np.array([1.0, 0.8, 0.6]) + rng.normal(0, 0.01, (period, period, 3))
    texture = np.tile(np.clip(patch, 0, 1), (height // period + 1, width // period + 1, 1))
    return torch.from_numpy(texture[:height, :width].astype(np.float32)).permute(2, 0, 1)[None]


def test_tiled_model_output_matches_the_whole_image_within_one_level() -> None:
    torch.manual_seed(0)
    model = UnifiedLowLightEnhancer().eval()
    image = _periodic_dark_texture(160, 192)
    calls = []

    def enhance(tile: torch.Tensor) -> torch.Tensor:
        calls.append(tile.shape)
        return model(tile).image

    with torch.inference_mode():
        whole = model(image).image
        tiled = tile_process(enhance, image, tile=MODEL_TILE, overlap=MODEL_OVERLAP)
    assert len(calls) == 4
    assert (tiled - whole).abs().max().item() < 1 / 255


@settings(max_examples=30, deadline=None)
@given(
    height=st.integers(1, 70),
    width=st.integers(1, 70),
    tile=st.integers(1, 40),
    overlap_fraction=st.floats(0, 0.99),
    seed=st.integers(0, 2**16),
)
def test_tiling_is_exact_for_pointwise_functions_at_any_size(
    height: int, width: int, tile: int, overlap_fraction: float, seed: int
) -> None:
    overlap = min(tile - 1, int(tile * overlap_fraction))
    generator = torch.Generator().manual_seed(seed)
    image = torch.rand(1, 3, height, width, generator=generator)
    assert torch.equal(tile_process(_identity, image, tile, overlap), image)
    assert torch.equal(tile_process(torch.square, image, tile, overlap), torch.square(image))
