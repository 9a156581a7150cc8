"""Properties of image I/O and tiling at any size, mode and tile, beyond what tests/imageio
already checks (round trips of ``ImageData`` written by lowlight, pointwise tiling of
single 3-channel images): files written by Pillow itself in every mode, EXIF rotation at any
size, tiling of batches, other channel counts and dtypes, and the model's own tiling."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageOps

from lowlight.imageio import read_image, tile_process, write_image
from lowlight.inference import MIN_TILE, enhance_tensor
from lowlight.weights import load_model

ORIENTATION = 0x0112
SIZES = st.integers(1, 64)
# The formats Pillow stores each mode in (and reads back in that mode).
FORMATS_OF_MODE = {
    "L": (".png", ".tif", ".jpg"),
    "LA": (".png", ".tif"),
    "RGB": (".png", ".tif", ".jpg", ".webp"),
    "RGBA": (".png", ".tif", ".webp"),
    "P": (".png", ".tif"),
    "I;16": (".png", ".tif"),
    "CMYK": (".tif", ".jpg"),
}
MODE_AND_FORMAT = st.sampled_from(
    [(mode, extension) for mode, formats in FORMATS_OF_MODE.items() for extension in formats]
)
OUTPUT_FORMATS = st.sampled_from([".png", ".jpg", ".tif", ".webp", ".bmp"])


def pillow_image(mode: str, height: int, width: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    if mode == "I;16":
        return Image.fromarray(rng.integers(0, 65536, (height, width), dtype=np.uint16))
    rgba = rng.integers(0, 256, (height, width, 4), dtype=np.uint8)
    source = Image.fromarray(rgba if "A" in mode else np.ascontiguousarray(rgba[..., :3]))
    return source.convert(mode)


@settings(max_examples=25, deadline=None)
@given(
    height=SIZES,
    width=SIZES,
    case=MODE_AND_FORMAT,
    target=OUTPUT_FORMATS,
    transparent_palette=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_files_of_any_mode_and_size_read_and_round_trip(
    tmp_path_factory: pytest.TempPathFactory,
    height: int,
    width: int,
    case: tuple[str, str],
    target: str,
    transparent_palette: bool,
    seed: int,
) -> None:
    mode, extension = case
    folder = tmp_path_factory.mktemp("modes")
    source = folder / f"source{extension}"
    image = pillow_image(mode, height, width, seed)
    options = (
        {"transparency": 0} if mode == "P" and extension == ".png" and transparent_palette else {}
    )
    image.save(source, **options)

    data = read_image(source)
    assert data.rgb.shape == (height, width, 3) and data.rgb.dtype == np.float32
    assert np.isfinite(data.rgb).all() and 0 <= data.rgb.min() and data.rgb.max() <= 1
    assert data.bit_depth == (16 if mode == "I;16" else 8)
    assert data.is_greyscale == (mode in ("L", "LA", "I;16"))
    if extension == ".png":
        assert (data.alpha is not None) == (mode in ("LA", "RGBA") or bool(options))
    if data.alpha is not None:
        assert data.alpha.shape == (height, width)

    for output in {extension, target}:
        written = folder / f"written{output}"
        write_image(written, data)
        again = read_image(written)
        assert (again.height, again.width) == (height, width), output
        if output != ".webp":  # WebP has no greyscale: Pillow stores grey as RGB
            assert again.is_greyscale == data.is_greyscale


@settings(max_examples=25, deadline=None)
@given(
    height=SIZES,
    width=SIZES,
    orientation=st.integers(1, 8),
    extension=st.sampled_from([".png", ".jpg"]),
    seed=st.integers(0, 2**16),
)
def test_exif_orientation_is_applied_at_any_size(
    tmp_path_factory: pytest.TempPathFactory,
    height: int,
    width: int,
    orientation: int,
    extension: str,
    seed: int,
) -> None:
    path = tmp_path_factory.mktemp("oriented") / f"oriented{extension}"
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    pillow_image("RGB", height, width, seed).save(path, exif=exif)

    data = read_image(path)
    upright = (width, height) if orientation >= 5 else (height, width)
    assert (data.height, data.width) == upright
    with Image.open(path) as stored:
        expected = np.asarray(ImageOps.exif_transpose(stored), np.float32) / 255
    np.testing.assert_array_equal(data.rgb, expected)

    written = path.with_name(f"written{extension}")
    write_image(written, data)
    with Image.open(written) as result:  # stored upright, so it must not be rotated again
        assert (result.height, result.width) == upright
        assert result.getexif().get(ORIENTATION, 1) == 1


TILES = st.integers(1, 64).flatmap(lambda tile: st.tuples(st.just(tile), st.integers(0, tile - 1)))


@settings(max_examples=25, deadline=None)
@given(
    batch=st.integers(1, 2),
    channels=st.integers(1, 4),
    height=SIZES,
    width=SIZES,
    tile_and_overlap=TILES,
    dtype=st.sampled_from([torch.float32, torch.float64]),
    seed=st.integers(0, 2**16),
)
def test_tiling_keeps_shape_and_dtype_covers_every_pixel_and_is_exact_pointwise(
    batch: int,
    channels: int,
    height: int,
    width: int,
    tile_and_overlap: tuple[int, int],
    dtype: torch.dtype,
    seed: int,
) -> None:
    tile, overlap = tile_and_overlap
    generator = torch.Generator().manual_seed(seed)
    image = torch.rand(batch, channels, height, width, generator=generator, dtype=dtype)

    def local_mean(piece: torch.Tensor) -> torch.Tensor:  # depends on its neighbourhood
        return F.avg_pool2d(piece, 3, stride=1, padding=1, count_include_pad=False)

    smoothed = tile_process(local_mean, image, tile, overlap)
    assert smoothed.shape == image.shape and smoothed.dtype == dtype
    assert torch.isfinite(smoothed).all()
    assert smoothed.min() >= image.min() - 1e-6 and smoothed.max() <= image.max() + 1e-6
    # Every output pixel is written (the output starts uninitialised) and agreeing tiles
    # blend to exactly their value.
    assert torch.equal(tile_process(torch.ones_like, image, tile, overlap), torch.ones_like(image))
    pointwise = tile_process(lambda piece: torch.sqrt(piece) * 0.5 + 0.25, image, tile, overlap)
    assert torch.equal(pointwise, torch.sqrt(image) * 0.5 + 0.25)


@pytest.fixture(scope="module")
def model(weights_file):
    return load_model(weights_file)


@settings(max_examples=25, deadline=None)
@given(
    height=SIZES,
    width=SIZES,
    tile=st.one_of(st.none(), st.just(0), st.integers(MIN_TILE, 64)),
    seed=st.integers(0, 2**16),
)
def test_the_model_keeps_any_size_whatever_the_tile(
    model, height: int, width: int, tile: int | None, seed: int
) -> None:
    generator = torch.Generator().manual_seed(seed)
    image = torch.rand(1, 3, height, width, generator=generator) * 0.2
    result = enhance_tensor(model, image, tile=tile)
    assert result.shape == image.shape and result.dtype == image.dtype
    assert torch.isfinite(result).all() and 0 <= result.min() and result.max() <= 1
