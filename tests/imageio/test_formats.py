"""HEIC, AVIF at 10 bits, camera RAW and lossless WebP: reading and writing real files made
here, with their bit depth, metadata and tone checked in numbers."""

from __future__ import annotations

import builtins
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from photo_files import (
    DATE_TAG,
    MAKE,
    MAKE_TAG,
    MODEL,
    MODEL_TAG,
    ORIENTATION,
    TAKEN,
    camera_exif,
    gradient,
    srgb_profile,
    write_avif_samples,
    write_dng,
    write_heic,
)
from PIL import Image

from lowlight.errors import LowlightError
from lowlight.imageio import ImageData, find_inputs, output_format, plan_jobs, read_image
from lowlight.imageio.camera_raw import srgb_encode
from lowlight.imageio.heif_boxes import coding_facts, container_kind
from lowlight.imageio.webp import is_lossless_webp
from lowlight.imageio.writing import write_image

pillow_heif = pytest.importorskip("pillow_heif", reason="needs lowlight[formats]")
rawpy = pytest.importorskip("rawpy", reason="needs lowlight[formats]")
imagecodecs = pytest.importorskip("imagecodecs", reason="needs lowlight[formats]")


def exif_of(path: Path) -> Image.Exif:
    with Image.open(path) as image:
        return image.getexif()


def pillow_exif(data: ImageData) -> Image.Exif:
    exif = Image.Exif()
    exif.load(data.exif)
    return exif


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / np.mean((a.astype(np.float64) - b) ** 2)))


# ----------------------------------------------------------------------------------- HEIC
def test_an_8_bit_heic_keeps_exif_icc_and_is_turned_upright(tmp_path) -> None:
    rgb = gradient(24, 40, 0.05, 0.6)
    path = write_heic(tmp_path / "IMG_0001.HEIC", rgb, 8, camera_exif(6), srgb_profile(), True)

    data = read_image(path)

    # Stored 40 wide and 24 high with orientation 6: shown (and read) 24 wide, 40 high.
    assert (data.height, data.width) == (40, 24)
    assert data.format == "HEIF" and data.bit_depth == 8 and data.sample_bits is None
    assert data.icc_profile == srgb_profile()
    exif = pillow_exif(data)
    assert exif[MAKE_TAG] == MAKE and exif[ORIENTATION] == 1
    upright = np.rot90(np.round(rgb * 255) / 255, k=-1)
    assert np.abs(data.rgb - upright).max() < 0.5 / 255 + 1e-6  # lossless: the same levels


def test_a_lossless_heic_is_known_as_lossless_where_it_says_so(tmp_path) -> None:
    # libheif states RGB coding (identity matrix) in the nclx colour box, which it writes
    # when there is no ICC profile; with one, the matrix is inside the HEVC stream.
    rgb = gradient(16, 24, 0.05, 0.6)
    assert read_image(write_heic(tmp_path / "a.heic", rgb, lossless=True)).lossless
    assert not read_image(write_heic(tmp_path / "b.heic", rgb)).lossless


@pytest.mark.parametrize("bits", [10, 12])
def test_a_deep_heic_is_read_at_its_bits_and_written_back_at_them(tmp_path, bits) -> None:
    rgb = gradient(32, 48, 0.0, 1.0, texture=0.005)
    path = write_heic(tmp_path / "deep.heic", rgb, bits, lossless=True)
    data = read_image(path)
    peak = 2**bits - 1
    assert data.bit_depth == 16 and data.sample_bits == bits
    assert np.abs(data.rgb * peak - np.round(rgb * peak)).max() < 0.01  # every level exact
    assert len(np.unique(np.round(data.rgb[..., 0] * peak))) > 256  # more than 8 bits' worth

    write_image(tmp_path / "again.heic", replace(data, lossless=False))
    again = read_image(tmp_path / "again.heic")
    assert again.sample_bits == bits and not again.lossless
    assert psnr(again.rgb, data.rgb) > 35  # quality 90, 4:2:0 chroma, on a tiny picture


def test_a_16_bit_png_becomes_a_10_bit_heic_and_a_heic_a_16_bit_png(tmp_path) -> None:
    rgb = gradient(20, 30, 0.1, 0.9, texture=0.005)
    write_image(tmp_path / "a.heic", ImageData(rgb=rgb, bit_depth=16))
    assert coding_facts((tmp_path / "a.heic").read_bytes()).bits == 10
    heic = read_image(tmp_path / "a.heic")
    write_image(tmp_path / "a.png", heic)
    png = read_image(tmp_path / "a.png")
    assert png.bit_depth == 16 and np.abs(png.rgb - heic.rgb).max() < 1 / 65535


def test_heic_output_format_and_alpha(tmp_path) -> None:
    assert output_format("x.HEIC") == output_format("x.heif") == output_format("x", "heic")
    rgb, alpha = gradient(16, 16, 0.2, 0.8), np.linspace(0, 1, 256, dtype=np.float32)
    write_image(tmp_path / "a.heic", ImageData(rgb=rgb, alpha=alpha.reshape(16, 16)))
    assert np.abs(read_image(tmp_path / "a.heic").alpha - alpha.reshape(16, 16)).max() < 0.02


# ----------------------------------------------------------------------------------- AVIF
def test_a_10_bit_avif_is_read_at_10_bits(tmp_path) -> None:
    rgb = gradient(32, 48, 0.0, 1.0)
    samples = np.round(rgb * 1023).astype(np.uint16)
    path = write_avif_samples(tmp_path / "deep.avif", samples, 10)
    data = read_image(path)
    assert data.format == "AVIF" and data.bit_depth == 16 and data.sample_bits == 10
    decoded = imagecodecs.avif_decode(path.read_bytes())
    assert np.array_equal(np.round(data.rgb * 1023), decoded)  # the file's own 10-bit levels
    assert len(np.unique(decoded[..., 0])) > 256


def test_a_16_bit_result_is_written_as_10_bit_avif_with_exif_and_icc(tmp_path) -> None:
    rgb = gradient(32, 48, 0.05, 0.95, texture=0.005)
    source = ImageData(rgb=rgb, bit_depth=16, icc_profile=srgb_profile())
    source = replace(source, exif=camera_exif(1).tobytes())
    write_image(tmp_path / "a.avif", source)

    data = (tmp_path / "a.avif").read_bytes()
    assert container_kind(data[:64]) == "avif" and coding_facts(data).bits == 10
    with Image.open(tmp_path / "a.avif") as pillow:  # Pillow reads the metadata ...
        assert pillow.info["icc_profile"] == srgb_profile()
        assert pillow.getexif()[MODEL_TAG] == MODEL
    decoded = imagecodecs.avif_decode(data)  # ... and libavif the 10-bit samples
    assert decoded.dtype == np.uint16 and decoded.max() > 255
    assert psnr(decoded / 1023.0, rgb) > 40


def test_a_lossless_avif_stays_lossless(tmp_path) -> None:
    rgb = np.round(gradient(24, 24, 0.0, 1.0) * 1023) / 1023
    source = ImageData(rgb=rgb, bit_depth=16, sample_bits=10, lossless=True)
    write_image(tmp_path / "a.avif", source)
    data = read_image(tmp_path / "a.avif")
    assert data.lossless and data.sample_bits == 10
    assert np.abs(data.rgb - rgb).max() < 1e-6


# ----------------------------------------------------------------------------------- WebP
def test_a_lossless_webp_comes_back_lossless_and_a_lossy_one_lossy(tmp_path) -> None:
    rgb = np.round(gradient(40, 60, 0.0, 1.0) * 255).astype(np.uint8)
    Image.fromarray(rgb).save(tmp_path / "vp8l.webp", lossless=True)
    Image.fromarray(rgb).save(tmp_path / "vp8.webp", quality=80)
    assert is_lossless_webp(tmp_path / "vp8l.webp")
    assert not is_lossless_webp(tmp_path / "vp8.webp")

    for name, lossless in (("vp8l.webp", True), ("vp8.webp", False)):
        data = read_image(tmp_path / name)
        assert data.lossless is lossless
        write_image(tmp_path / f"out-{name}", data)
        assert is_lossless_webp(tmp_path / f"out-{name}") is lossless
    again = read_image(tmp_path / "out-vp8l.webp")
    assert np.array_equal(again.rgb, read_image(tmp_path / "vp8l.webp").rgb)


# ----------------------------------------------------------------------------- camera RAW
def test_a_dng_of_a_grey_card_is_neutral_16_bit_linear_light_with_its_exif(tmp_path) -> None:
    scene = np.full((48, 64, 3), 0.18, np.float32)  # 18 % grey, as the sensor's linear light
    data = read_image(write_dng(tmp_path / "grey.dng", scene))

    assert data.format == "RAW" and data.bit_depth == 16
    assert (data.height, data.width) == (48, 64)
    card = data.rgb[8:-8, 8:-8].reshape(-1, 3).mean(0)
    assert np.abs(card / card.mean() - 1).max() < 0.02  # the camera's white balance applied
    # No brightening: 18 % linear light is sRGB's 0.46, as a light meter would have it.
    grey = srgb_encode(np.full((1, 1, 3), round(0.18 * 65535), np.uint16))[0, 0, 0]
    assert grey == pytest.approx(0.461, abs=0.001)
    assert card.mean() == pytest.approx(grey, abs=0.01)
    exif = pillow_exif(data)
    assert (exif[MAKE_TAG], exif[MODEL_TAG], exif[DATE_TAG]) == (MAKE, MODEL, TAKEN)
    assert not any(tag >= 50706 or tag in (33421, 33422) for tag in exif)  # no sensor tags


def test_raw_exposure_stays_linear_one_stop_is_twice_the_light(tmp_path) -> None:
    scene = gradient(32, 48, 0.01, 0.2)
    dim = read_image(write_dng(tmp_path / "dim.dng", scene)).rgb
    bright = read_image(write_dng(tmp_path / "bright.dng", scene * 2)).rgb

    def linear(rgb: np.ndarray) -> np.ndarray:
        return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)

    ratio = linear(bright[4:-4, 4:-4]).mean() / linear(dim[4:-4, 4:-4]).mean()
    assert ratio == pytest.approx(2.0, rel=0.02)


def test_libraw_turns_a_raw_upright(tmp_path) -> None:
    path = write_dng(tmp_path / "portrait.dng", gradient(40, 64, 0.05, 0.3), orientation=6)
    data = read_image(path)
    assert (data.height, data.width) == (64, 40)
    assert pillow_exif(data)[ORIENTATION] == 1


def test_raw_results_are_16_bit_tiff_by_default_never_the_input_name(tmp_path) -> None:
    for name in ("IMG_1.DNG", "IMG_2.cr2", "IMG_3.NEF", "IMG_4.arw", "IMG_5.HEIC", "IMG_6.heif"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("not a photo")
    found = find_inputs([str(tmp_path)])
    names = sorted(item.relative.name for item in found)
    assert names == ["IMG_1.DNG", "IMG_2.cr2", "IMG_3.NEF", "IMG_4.arw", "IMG_5.HEIC", "IMG_6.heif"]

    targets = sorted(job.target.name for job in plan_jobs(found, tmp_path / "out"))
    raw_results = ["IMG_1.tif", "IMG_2.tif", "IMG_3.tif", "IMG_4.tif"]
    assert targets == [*raw_results, "IMG_5.HEIC", "IMG_6.heif"]
    as_jpeg = sorted(job.target.name for job in plan_jobs(found, tmp_path / "out", ".jpg"))
    assert as_jpeg == [f"IMG_{number}.jpg" for number in range(1, 7)]


# ------------------------------------------------------------------------- without the extra
@pytest.fixture
def without_formats(monkeypatch):
    """Importing pillow_heif, rawpy and imagecodecs fails, as without lowlight[formats]."""
    real_import = builtins.__import__

    def refusing_import(name, *args, **kwargs):
        if name.split(".")[0] in ("pillow_heif", "rawpy", "imagecodecs"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", refusing_import)


def test_without_the_extra_heic_and_raw_say_which_extra(tmp_path, without_formats) -> None:
    heic, dng = tmp_path / "IMG.HEIC", tmp_path / "a.dng"
    heic.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic")
    dng.write_bytes(b"II*\x00" + bytes(60))
    for path, what in ((heic, "HEIC/HEIF files need pillow-heif"), (dng, "RAW files need rawpy")):
        with pytest.raises(LowlightError, match="lowlight\\[formats\\]") as caught:
            read_image(path)
        assert what in str(caught.value) and str(caught.value).startswith(str(path))
    with pytest.raises(LowlightError, match="lowlight\\[formats\\]"):
        output_format("x.heic")


def test_without_the_extra_avif_is_read_and_written_at_8_bits(tmp_path, without_formats) -> None:
    rgb = gradient(16, 24, 0.1, 0.9)
    write_image(tmp_path / "a.avif", ImageData(rgb=rgb, bit_depth=16))
    data = read_image(tmp_path / "a.avif")
    assert data.bit_depth == 8 and coding_facts((tmp_path / "a.avif").read_bytes()).bits == 8
