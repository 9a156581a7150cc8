"""Reading and writing: every format, mode and bit depth round-trips; metadata survives."""

from __future__ import annotations

import dataclasses
import io
import logging
import os
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms, ImageOps

from lowlight.errors import LowlightError
from lowlight.imageio import (
    ImageData,
    atomic_path,
    atomic_write,
    encode_image,
    output_format,
    read_image,
    read_image_bytes,
    read_rgb,
    wide,
    write_image,
)

ORIENTATION = 0x0112
MAKE = 271
EXIF_IFD = 0x8769
ISO = 0x8827
LOSSLESS = (".png", ".tif")


def _samples(shape: tuple[int, ...], dtype=np.uint8, seed: int = 0) -> np.ndarray:
    peak = np.iinfo(dtype).max
    return np.random.default_rng(seed).integers(0, peak + 1, shape, dtype=dtype)


def _png16(path: Path, samples: np.ndarray) -> None:
    """A 16-bit PNG written without lowlight's encoder (no filtering), as a reference file."""
    height, width, channels = samples.shape
    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    rows = samples.astype(">u2").reshape(height, -1).view(np.uint8)
    data = b"".join(b"\x00" + row.tobytes() for row in rows)

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        return struct.pack(">I", len(body)) + kind + body + crc

    header = struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(data))
        + chunk(b"IEND", b"")
    )


def _exif(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[MAKE] = "LowlightCam"
    if orientation is not None:
        exif[ORIENTATION] = orientation
    exif[EXIF_IFD] = {ISO: 3200}
    return exif


def _srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _channels(data: ImageData) -> np.ndarray:
    """What the file holds: grey or RGB, plus alpha, as float."""
    colour = data.rgb[..., :1] if data.is_greyscale else data.rgb
    return colour if data.alpha is None else np.concatenate([colour, data.alpha[..., None]], 2)


# (extension, Pillow mode of the source file, expected ImageData.mode, has alpha)
EIGHT_BIT_CASES = [
    (".png", "L", "L", False),
    (".png", "LA", "LA", True),
    (".png", "RGB", "RGB", False),
    (".png", "RGBA", "RGBA", True),
    (".png", "P", "P", False),
    (".png", "P", "P", True),  # palette with transparency
    (".png", "1", "1", False),
    (".tif", "L", "L", False),
    (".tif", "RGB", "RGB", False),
    (".tif", "RGBA", "RGBA", True),
    (".tif", "CMYK", "CMYK", False),
    (".webp", "RGB", "RGB", False),
    (".webp", "RGBA", "RGBA", True),
    (".jpg", "L", "L", False),
    (".jpg", "RGB", "RGB", False),
    (".jpg", "CMYK", "CMYK", False),
]


@pytest.mark.parametrize(("extension", "mode", "expected_mode", "has_alpha"), EIGHT_BIT_CASES)
def test_8bit_read_matches_pillow_and_round_trips(
    tmp_path: Path, extension: str, mode: str, expected_mode: str, has_alpha: bool
) -> None:
    rgba = _samples((12, 17, 4))
    rgba[..., 3] = np.where(rgba[..., 3] > 40, rgba[..., 3], 0)
    source = Image.fromarray(rgba if has_alpha else rgba[..., :3]).convert(mode)
    path = tmp_path / f"source{extension}"
    source.save(path, **({"lossless": True} if extension == ".webp" else {}))

    data = read_image(path)
    with Image.open(path) as reference:
        expected = np.asarray(reference.convert("RGBA" if has_alpha else "RGB"), np.float32)
    assert data.mode == expected_mode and data.bit_depth == 8
    assert data.rgb.dtype == np.float32 and data.rgb.shape == (12, 17, 3)
    np.testing.assert_array_equal(data.rgb, expected[..., :3] / 255)
    assert (data.alpha is not None) == has_alpha
    if has_alpha:
        np.testing.assert_array_equal(data.alpha, expected[..., 3] / 255)

    written = tmp_path / f"written{extension}"
    write_image(written, data)
    again = read_image(written)
    assert again.bit_depth == 8 and again.is_greyscale == data.is_greyscale
    assert (again.alpha is not None) == (has_alpha and extension != ".jpg")
    assert again.rgb.shape == data.rgb.shape
    if extension in LOSSLESS:  # JPEG and WebP of noise are far from exact; see the next test
        np.testing.assert_allclose(_channels(again), _channels(data), atol=1e-6)


@pytest.mark.parametrize("extension", [".jpg", ".webp"])
def test_lossy_formats_are_close_on_smooth_images(tmp_path: Path, extension: str) -> None:
    ramp = np.linspace(0, 1, 64, dtype=np.float32)
    rgb = np.stack(np.broadcast_arrays(ramp[None], ramp[:, None], 0.5 * ramp[None]), -1)
    write_image(tmp_path / f"smooth{extension}", ImageData(rgb=np.ascontiguousarray(rgb)))
    assert np.abs(read_rgb(tmp_path / f"smooth{extension}") - rgb).mean() < 2 / 255


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
@pytest.mark.parametrize("extension", [".png", ".tif"])
def test_16bit_is_read_exactly_and_kept(tmp_path: Path, extension: str, channels: int) -> None:
    samples = _samples((9, 13, channels), np.uint16, seed=channels)
    source = tmp_path / f"source{extension}"
    if extension == ".png":
        _png16(source, samples)
    else:
        tifffile = pytest.importorskip("tifffile")
        if channels == 2:
            pytest.skip("Pillow cannot open 16-bit grey + alpha TIFFs")
        extra = {"extrasamples": ["unassalpha"]} if channels == 4 else {}
        photometric = "rgb" if channels >= 3 else "minisblack"
        tifffile.imwrite(source, samples.squeeze(), photometric=photometric, **extra)

    data = read_image(source)
    assert data.bit_depth == 16
    assert data.is_greyscale == (channels <= 2)
    assert (data.alpha is not None) == (channels in (2, 4))
    np.testing.assert_array_equal(np.round(_channels(data) * 65535), samples)

    written = tmp_path / f"written{extension}"
    write_image(written, data)
    again = read_image(written)
    assert again.bit_depth == 16
    np.testing.assert_array_equal(np.round(_channels(again)[..., -channels:] * 65535), samples)
    if extension == ".tif" and channels != 2:
        tifffile = pytest.importorskip("tifffile")
        np.testing.assert_array_equal(tifffile.imread(written).reshape(samples.shape), samples)


def test_a_16bit_file_read_at_8_bits_says_so(tmp_path: Path, monkeypatch, caplog) -> None:
    samples = _samples((5, 7, 3), np.uint16, seed=9)
    _png16(tmp_path / "wide.png", samples)

    def refuse(*args: object) -> None:
        raise ValueError("no such unpacker")

    monkeypatch.setattr(wide, "_decode_with", refuse)
    with caplog.at_level(logging.WARNING, logger="lowlight.imageio"):
        data = read_image(tmp_path / "wide.png")
    assert data.bit_depth == 8
    np.testing.assert_array_equal(np.round(data.rgb * 255), samples >> 8)
    expected = f"{tmp_path / 'wide.png'}: read at 8 bits, not 16: Pillow refused the low bytes'"
    assert expected in caplog.text


def test_16bit_is_written_as_8bit_where_the_format_has_no_16bit(tmp_path: Path) -> None:
    data = ImageData(rgb=np.full((4, 5, 3), 0.5, np.float32), bit_depth=16)
    write_image(tmp_path / "out.jpg", data)
    assert read_image(tmp_path / "out.jpg").bit_depth == 8


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_and_reset(tmp_path: Path, orientation: int) -> None:
    pixels = _samples((5, 8, 3), seed=orientation)
    path = tmp_path / "oriented.png"
    Image.fromarray(pixels).save(path, exif=_exif(orientation))

    data = read_image(path)
    with Image.open(path) as image:
        upright = np.asarray(ImageOps.exif_transpose(image), np.float32) / 255
    np.testing.assert_array_equal(data.rgb, upright)
    exif = Image.Exif()
    exif.load(data.exif)
    assert exif[ORIENTATION] == 1 and exif[MAKE] == "LowlightCam"

    write_image(tmp_path / "out.png", data)
    with Image.open(tmp_path / "out.png") as written:
        assert written.getexif()[ORIENTATION] == 1
        assert written.size == (upright.shape[1], upright.shape[0])


def test_exif_orientation_of_a_16bit_image(tmp_path: Path) -> None:
    samples = _samples((3, 7, 3), np.uint16)
    path = tmp_path / "rotated.png"
    write_image(path, ImageData(rgb=samples / np.float32(65535), bit_depth=16, exif=None))
    data = dataclasses.replace(read_image(path), exif=_exif(6).tobytes())
    write_image(path, data)
    rotated = read_image(path)
    np.testing.assert_array_equal(np.round(rotated.rgb * 65535), np.rot90(samples, k=-1))
    assert rotated.bit_depth == 16


@pytest.mark.parametrize("extension", [".png", ".jpg", ".webp", ".tif"])
@pytest.mark.parametrize("bit_depth", [8, 16])
def test_icc_profile_and_exif_survive(tmp_path: Path, extension: str, bit_depth: int) -> None:
    profile = _srgb_profile()
    source = ImageData(
        rgb=np.full((6, 6, 3), 0.25, np.float32),
        bit_depth=bit_depth,
        icc_profile=profile,
        exif=_exif(1).tobytes(),
    )
    write_image(tmp_path / f"out{extension}", source)
    data = read_image(tmp_path / f"out{extension}")
    assert data.icc_profile == profile
    exif = Image.Exif()
    exif.load(data.exif)
    assert exif[MAKE] == "LowlightCam" and exif.get_ifd(EXIF_IFD)[ISO] == 3200


def test_a_tiff_source_keeps_descriptive_exif_but_not_its_layout_tags(tmp_path: Path) -> None:
    path = tmp_path / "source.tif"
    Image.fromarray(_samples((4, 4, 3))).save(path, exif=_exif(1).tobytes())
    exif = Image.Exif()
    exif.load(read_image(path).exif)
    assert exif[MAKE] == "LowlightCam" and exif.get_ifd(EXIF_IFD)[ISO] == 3200
    assert not {256, 257, 273, 279} & set(exif)  # width, height, strip offsets and sizes


def test_a_profile_for_another_colour_space_is_dropped(tmp_path: Path) -> None:
    grey = ImageData(rgb=np.zeros((4, 4, 3), np.float32), mode="L", icc_profile=_srgb_profile())
    write_image(tmp_path / "grey.png", grey)
    assert read_image(tmp_path / "grey.png").icc_profile is None


def test_read_rgb_keeps_its_contract(tmp_path: Path) -> None:
    path = tmp_path / "grey16.png"
    Image.fromarray(_samples((5, 6), np.uint16)).save(path)
    rgb = read_rgb(path)
    assert rgb.dtype == np.float32 and rgb.shape == (5, 6, 3) and rgb.flags.c_contiguous
    assert 0 <= rgb.min() and rgb.max() <= 1
    np.testing.assert_array_equal(rgb[..., 0], rgb[..., 2])


def test_decompression_bomb_is_refused(tmp_path: Path) -> None:
    # A PNG that claims 40000 x 40000 pixels: refused from its header, before any decoding.
    header = struct.pack(">IIBBBBB", 40000, 40000, 8, 2, 0, 0, 0)
    body = b"IHDR" + header
    bomb = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + body
    bomb += struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    (tmp_path / "bomb.png").write_bytes(bomb + b"\x00" * 64)
    with pytest.raises(LowlightError, match="bomb"):
        read_image(tmp_path / "bomb.png")


def test_default_limit_is_pillows_hard_limit(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    Image.new("RGB", (12, 10)).save(tmp_path / "above_warning.png")
    Image.new("RGB", (20, 15)).save(tmp_path / "above_error.png")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DecompressionBombWarning leaks out
        assert read_image(tmp_path / "above_warning.png").width == 12
    with pytest.raises(LowlightError, match="above_error.png: .*decompression bomb"):
        read_image(tmp_path / "above_error.png")


def test_max_pixels_limit(tmp_path: Path) -> None:
    Image.new("RGB", (20, 10)).save(tmp_path / "small.png")
    assert read_image(tmp_path / "small.png", max_pixels=200).width == 20
    with pytest.raises(LowlightError, match="small.png: refused: 20x10.*max_pixels"):
        read_image(tmp_path / "small.png", max_pixels=199)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not an image at all", "not an image file"),
        (None, "file not found"),
    ],
)
def test_unreadable_files_raise_lowlight_error(tmp_path: Path, content, message: str) -> None:
    path = tmp_path / "broken.png"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(LowlightError, match=f"broken.png: {message}"):
        read_image(path)


def test_truncated_file_raises_lowlight_error(tmp_path: Path) -> None:
    Image.fromarray(_samples((64, 64, 3))).save(tmp_path / "whole.png")
    (tmp_path / "cut.png").write_bytes((tmp_path / "whole.png").read_bytes()[:300])
    with pytest.raises(LowlightError, match="cut.png: cannot read image"):
        read_image(tmp_path / "cut.png")


@pytest.mark.parametrize("extension", [".png", ".jpg", ".webp", ".tif"])
@pytest.mark.parametrize("bit_depth", [8, 16])
def test_bytes_read_and_encode_as_files_do(tmp_path: Path, extension: str, bit_depth: int) -> None:
    # For object stores: the same pixels and metadata from bytes, the same bytes from encoding.
    samples = _samples((7, 9, 4), np.uint16, seed=bit_depth) / np.float32(65535)
    source = ImageData(
        rgb=samples[..., :3],
        alpha=samples[..., 3],
        bit_depth=bit_depth,
        mode="RGBA",
        icc_profile=_srgb_profile(),
        exif=_exif(6).tobytes(),
    )
    path = tmp_path / f"out{extension}"
    write_image(path, source)
    assert encode_image(source, extension) == path.read_bytes()

    from_file, from_bytes = read_image(path), read_image_bytes(path.read_bytes(), "s3://b/k")
    np.testing.assert_array_equal(from_bytes.rgb, from_file.rgb)
    np.testing.assert_array_equal(from_bytes.alpha, from_file.alpha)
    fields = ("bit_depth", "mode", "format", "icc_profile", "exif")
    assert [getattr(from_bytes, name) for name in fields] == [
        getattr(from_file, name) for name in fields
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"not an image", "not an image file"),
        ("cut", "cannot read image"),
    ],
)
def test_unreadable_bytes_raise_lowlight_error_naming_them(content, message: str) -> None:
    if content == "cut":  # a PNG cut short after its header
        content = encode_image(ImageData(rgb=_samples((64, 64, 3)) / np.float32(255)), "png")[:300]
    with pytest.raises(LowlightError, match=f"^s3://bucket/night/1.png: {message}"):
        read_image_bytes(content, "s3://bucket/night/1.png")


def test_encoding_in_an_unknown_format_is_refused() -> None:
    with pytest.raises(LowlightError, match="cannot write .xyz files"):
        encode_image(ImageData(rgb=np.zeros((2, 2, 3), np.float32)), ".xyz")


def test_output_format_names() -> None:
    assert output_format("a.JPG") == "JPEG"
    assert output_format("a.tiff") == "TIFF"
    assert output_format("a", "webp") == "WEBP"
    assert output_format("a.png", ".tif") == "TIFF"
    with pytest.raises(LowlightError, match="cannot write .xyz files"):
        output_format("a.xyz")


def test_writing_is_atomic(tmp_path: Path) -> None:
    target = tmp_path / "out.png"
    target.write_bytes(b"previous")
    with pytest.raises(RuntimeError), atomic_write(target) as handle:
        handle.write(b"half")
        raise RuntimeError("failed midway")
    assert target.read_bytes() == b"previous"
    assert os.listdir(tmp_path) == ["out.png"]


def test_writing_by_path_is_atomic(tmp_path: Path) -> None:
    target = tmp_path / "clip.mp4"
    target.write_bytes(b"previous")
    target.chmod(0o640)
    with pytest.raises(RuntimeError), atomic_path(target) as temporary:
        temporary.write_bytes(b"half")
        raise RuntimeError("failed midway")
    assert target.read_bytes() == b"previous"
    assert os.listdir(tmp_path) == ["clip.mp4"]
    with atomic_path(target) as temporary:
        assert temporary.parent == tmp_path and temporary.name.startswith(".clip.mp4.")
        temporary.write_bytes(b"complete")
    assert target.read_bytes() == b"complete" and target.stat().st_mode & 0o777 == 0o640
    assert os.listdir(tmp_path) == ["clip.mp4"]


def test_failed_image_write_leaves_nothing(tmp_path: Path) -> None:
    data = ImageData(rgb=np.zeros((4, 4, 3), np.float32))
    with pytest.raises(LowlightError, match="folder does not exist"):
        write_image(tmp_path / "missing" / "out.png", data)
    with pytest.raises(LowlightError, match="cannot write"):
        write_image(tmp_path / "out.xyz", data)
    assert os.listdir(tmp_path) == []


def test_new_files_get_the_usual_permissions(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    os.umask(umask)
    write_image(tmp_path / "out.png", ImageData(rgb=np.zeros((2, 2, 3), np.float32)))
    assert (tmp_path / "out.png").stat().st_mode & 0o777 == 0o666 & ~umask


FORMAT_CASES = st.sampled_from([(".png", 8), (".png", 16), (".tif", 8), (".tif", 16), (".bmp", 8)])


@settings(max_examples=25, deadline=None)
@given(
    height=st.integers(1, 20),
    width=st.integers(1, 20),
    layout=st.sampled_from(["L", "LA", "RGB", "RGBA"]),
    case=FORMAT_CASES,
    seed=st.integers(0, 2**16),
)
def test_lossless_round_trip_at_any_size(
    tmp_path_factory: pytest.TempPathFactory,
    height: int,
    width: int,
    layout: str,
    case: tuple[str, int],
    seed: int,
) -> None:
    extension, bit_depth = case
    peak = 255 if bit_depth == 8 else 65535
    rng = np.random.default_rng(seed)
    channels = rng.integers(0, peak + 1, (height, width, len(layout))) / np.float32(peak)
    grey = layout.startswith("L")
    rgb = np.repeat(channels[..., :1], 3, 2) if grey else channels[..., :3]
    alpha = channels[..., -1] if layout.endswith("A") else None
    data = ImageData(
        rgb=rgb.astype(np.float32),
        alpha=None if alpha is None else alpha.astype(np.float32),
        bit_depth=bit_depth,
        mode=layout,
    )
    path = tmp_path_factory.mktemp("round_trip") / f"image{extension}"
    write_image(path, data)
    again = read_image(path)
    assert (again.height, again.width) == (height, width)
    assert again.bit_depth == bit_depth
    np.testing.assert_allclose(again.rgb, data.rgb, atol=1e-6)
    if alpha is not None and extension != ".bmp":
        np.testing.assert_allclose(again.alpha, data.alpha, atol=1e-6)


def test_image_data_validates_shapes() -> None:
    with pytest.raises(ValueError, match=r"rgb must be \(H, W, 3\)"):
        ImageData(rgb=np.zeros((4, 4), np.float32))
    with pytest.raises(ValueError, match="alpha must be"):
        ImageData(rgb=np.zeros((4, 4, 3), np.float32), alpha=np.zeros((3, 4), np.float32))
    assert io  # keep the import for readers of failing tests that write to BytesIO
