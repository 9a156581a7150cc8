"""``lowlight enhance`` on the files people have: iPhone HEIC, 10-bit AVIF, camera RAW (a DNG
of a synthetic Bayer mosaic) and lossless WebP, made here and read back through the whole
command with the shipped model: sizes, bit depth, metadata and tone in numbers."""

from __future__ import annotations

import builtins
from pathlib import Path

import numpy as np
import pytest
from photo_files import (
    MAKE,
    MAKE_TAG,
    MODEL,
    MODEL_TAG,
    ORIENTATION,
    camera_exif,
    gradient,
    srgb_profile,
    write_avif_samples,
    write_dng,
    write_heic,
)
from PIL import Image

from lowlight import cli
from lowlight.imageio import ImageData, read_image, write_image
from lowlight.imageio.heif_boxes import coding_facts
from lowlight.imageio.webp import is_lossless_webp

pytest.importorskip("pillow_heif", reason="needs lowlight[formats]")
rawpy = pytest.importorskip("rawpy", reason="needs lowlight[formats]")
imagecodecs = pytest.importorskip("imagecodecs", reason="needs lowlight[formats]")


def enhance(capsys, *args: str | Path) -> tuple[int, list[str]]:
    """Run ``lowlight enhance`` with the shipped model on PyTorch, quietly; the exit status
    and the lines written to stderr."""
    status = cli.main(["enhance", "--backend", "pytorch", "-q", *map(str, args)])
    return status, capsys.readouterr().err.strip().splitlines()


def linear(rgb: np.ndarray) -> np.ndarray:
    """sRGB-encoded values as linear light."""
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def test_an_iphone_heic_comes_back_as_heic_with_its_exif_and_icc(tmp_path, capsys) -> None:
    source = write_heic(
        tmp_path / "IMG_0001.HEIC", gradient(24, 40, 0.02, 0.15), 8, camera_exif(6), srgb_profile()
    )
    status, lines = enhance(capsys, source, "-o", tmp_path / "out")
    assert (status, lines) == (0, [])

    data = read_image(tmp_path / "out" / "IMG_0001.HEIC")
    assert data.format == "HEIF" and (data.height, data.width) == (40, 24)  # upright
    assert data.icc_profile == srgb_profile()
    exif = Image.Exif()
    exif.load(data.exif)
    assert (exif[MAKE_TAG], exif[MODEL_TAG], exif[ORIENTATION]) == (MAKE, MODEL, 1)
    assert data.rgb.mean() > 2 * read_image(source).rgb.mean()  # enhanced


def test_a_10_bit_heic_stays_10_bit_or_becomes_16_bit_png(tmp_path, capsys) -> None:
    source = write_heic(tmp_path / "deep.heic", gradient(24, 32, 0.02, 0.2, texture=0.01), 10)
    status, _ = enhance(capsys, source, "-o", tmp_path / "out")
    assert status == 0
    result = (tmp_path / "out" / "deep.heic").read_bytes()
    assert coding_facts(result).bits == 10
    assert read_image(tmp_path / "out" / "deep.heic").sample_bits == 10

    status, _ = enhance(capsys, source, "-o", tmp_path / "png", "--format", "png")
    assert status == 0
    png = read_image(tmp_path / "png" / "deep.png")
    assert png.bit_depth == 16 and len(np.unique(png.rgb[..., 1])) > 256


def test_a_10_bit_avif_round_trips_at_10_bits(tmp_path, capsys) -> None:
    rgb = gradient(24, 32, 0.02, 0.2, texture=0.01)
    source = write_avif_samples(tmp_path / "deep.avif", np.round(rgb * 1023).astype(np.uint16), 10)
    status, _ = enhance(capsys, source, "-o", tmp_path / "out")
    assert status == 0
    result = (tmp_path / "out" / "deep.avif").read_bytes()
    assert coding_facts(result).bits == 10
    levels = imagecodecs.avif_decode(result)
    assert levels.dtype == np.uint16 and len(np.unique(levels[..., 1])) > 256
    assert levels.mean() / 1023 > 2 * rgb.mean()  # enhanced


def test_a_10_bit_avif_keeps_its_exif_and_icc(tmp_path, capsys) -> None:
    rgb = gradient(24, 32, 0.02, 0.2, texture=0.01)
    exif = camera_exif().tobytes()
    source = tmp_path / "photo.avif"
    write_image(source, ImageData(rgb=rgb, bit_depth=16, icc_profile=srgb_profile(), exif=exif))
    assert coding_facts(source.read_bytes()).bits == 10  # the input is what it should be
    with Image.open(source) as made:
        assert made.info["icc_profile"] == srgb_profile() and made.getexif()[MAKE_TAG] == MAKE

    status, _ = enhance(capsys, source, "-o", tmp_path / "out")
    assert status == 0
    result = tmp_path / "out" / "photo.avif"
    assert coding_facts(result.read_bytes()).bits == 10
    with Image.open(result) as enhanced:
        assert enhanced.info["icc_profile"] == srgb_profile()
        assert enhanced.getexif()[MAKE_TAG] == MAKE


def night_scene(height: int = 96, width: int = 128, shade: float = 0.003) -> np.ndarray:
    """Linear light: a lamp-lit third on the left, the rest a flat shadow about seven stops
    below the sensor's white."""
    scene = np.full((height, width, 3), shade, np.float32)
    scene[:, : width // 3] = gradient(height, width // 3, 0.05, 0.4)
    return scene


def test_a_dng_becomes_a_16_bit_tiff_whose_grey_card_is_neutral(tmp_path, capsys) -> None:
    scene = np.repeat(gradient(64, 96, 0.002, 0.03).mean(-1, keepdims=True), 3, -1)
    scene[16:48, 32:64] = 0.02  # the grey card
    source = write_dng(tmp_path / "card.dng", scene, noise=0.005)

    # Strength 0 writes the developed RAW itself: the decoding and writing alone.
    status, _ = enhance(capsys, source, "-o", tmp_path / "as-shot", "--strength", "0")
    assert status == 0
    with Image.open(tmp_path / "as-shot" / "card.tif") as tiff:
        assert tiff.getexif()[MAKE_TAG] == MAKE
    developed = read_image(tmp_path / "as-shot" / "card.tif")
    assert developed.bit_depth == 16 and (developed.height, developed.width) == (64, 96)
    card = developed.rgb[20:44, 36:60].reshape(-1, 3).mean(0)
    assert np.abs(card / card.mean() - 1).max() < 0.02  # measured: 0.5 %

    # Enhancing the DNG gives what enhancing its developed TIFF gives: the RAW path adds no
    # colour of its own to whatever the model does with a grey card.
    status, _ = enhance(capsys, source, "-o", tmp_path / "out")
    assert status == 0
    status, _ = enhance(capsys, tmp_path / "as-shot" / "card.tif", "-o", tmp_path / "from-tiff")
    assert status == 0
    enhanced = read_image(tmp_path / "out" / "card.tif")
    assert enhanced.bit_depth == 16 and enhanced.rgb.mean() > 2 * developed.rgb.mean()
    card = enhanced.rgb[20:44, 36:60].reshape(-1, 3).mean(0)
    reference = read_image(tmp_path / "from-tiff" / "card.tif").rgb[20:44, 36:60]
    assert np.abs(card / reference.reshape(-1, 3).mean(0) - 1).max() < 0.01


def test_a_dark_raw_enhances_brighter_and_cleaner_shadows_than_its_8_bit_jpeg(
    tmp_path, capsys
) -> None:
    # The JPEG is LibRaw's own 8-bit rendering of the same file (camera white balance, the
    # BT.709 curve, no brightening), saved at quality 90: what a camera's JPEG holds of it.
    (tmp_path / "in").mkdir()
    raw_file = write_dng(tmp_path / "in" / "night.dng", night_scene(), noise=0.005)
    with rawpy.imread(str(raw_file)) as raw:
        rendered = raw.postprocess(use_camera_wb=True, no_auto_bright=True, output_bps=8)
    Image.fromarray(rendered).save(tmp_path / "in" / "night.jpg", quality=90)

    status, _ = enhance(capsys, tmp_path / "in", "-o", tmp_path / "out")
    assert status == 0
    shadow = (slice(8, -8), slice(128 // 3 + 16, -8))  # the flat shadow, away from the edge
    from_raw = read_image(tmp_path / "out" / "night.tif").rgb[shadow]
    from_jpeg = read_image(tmp_path / "out" / "night.jpg").rgb[shadow]
    assert from_raw.mean() > 1.2 * from_jpeg.mean()

    # Noise: each channel's spatial spread over the flat shadow, relative to its level.
    def noise(shadow_rgb: np.ndarray) -> float:
        return float((shadow_rgb.std(axis=(0, 1)) / shadow_rgb.mean(axis=(0, 1))).mean())

    assert noise(from_raw) < 0.9 * noise(from_jpeg)


def test_raw_exposure_is_stops_of_linear_light(tmp_path, capsys) -> None:
    source = write_dng(tmp_path / "night.dng", night_scene(48, 64), noise=0.005)
    for exposure in ("0", "1"):
        status, _ = enhance(capsys, source, "-o", tmp_path / exposure, "--exposure", exposure)
        assert status == 0
    auto = linear(read_image(tmp_path / "0" / "night.tif").rgb)
    plus_one = linear(read_image(tmp_path / "1" / "night.tif").rgb)
    below_shoulder = linear(np.float32(0.5)) > plus_one  # where no highlight rolls off
    ratio = plus_one[below_shoulder] / np.maximum(auto[below_shoulder], 1e-6)
    assert below_shoulder.mean() > 0.5 and np.median(ratio) == pytest.approx(2.0, rel=0.02)


def test_a_raw_as_jpeg_keeps_its_exif(tmp_path, capsys) -> None:
    source = write_dng(tmp_path / "night.dng", night_scene(32, 48))
    status, _ = enhance(capsys, source, "-o", tmp_path / "out", "--format", "jpg")
    assert status == 0
    with Image.open(tmp_path / "out" / "night.jpg") as jpeg:
        assert jpeg.format == "JPEG" and jpeg.getexif()[MODEL_TAG] == MODEL


def test_a_lossless_webp_comes_back_lossless(tmp_path, capsys) -> None:
    rgb = np.round(gradient(24, 32, 0.02, 0.2) * 255).astype(np.uint8)
    Image.fromarray(rgb).save(tmp_path / "shot.webp", lossless=True)
    status, _ = enhance(capsys, tmp_path / "shot.webp", "-o", tmp_path / "out")
    assert status == 0 and is_lossless_webp(tmp_path / "out" / "shot.webp")


def test_without_the_extra_a_heic_gets_one_line_naming_it_and_the_rest_carry_on(
    tmp_path, capsys, monkeypatch
) -> None:
    (tmp_path / "in").mkdir()
    heic = write_heic(tmp_path / "in" / "IMG_0002.HEIC", gradient(16, 16, 0.02, 0.2))
    Image.fromarray(np.full((16, 16, 3), 20, np.uint8)).save(tmp_path / "in" / "other.png")
    real_import = builtins.__import__

    def without_pillow_heif(name, *args, **kwargs):
        if name.split(".")[0] == "pillow_heif":
            raise ImportError("No module named 'pillow_heif'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_pillow_heif)
    status, lines = enhance(capsys, tmp_path / "in", "-o", tmp_path / "out")

    assert status == 1
    assert lines == [
        f"{heic}: HEIC/HEIF files need pillow-heif, which is not installed: "
        'pip install "lowlight[formats]"',
        "lowlight enhance: 1 of 2 images failed",
    ]
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["other.png"]
