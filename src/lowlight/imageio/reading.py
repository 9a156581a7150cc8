"""Reading image files into float RGB arrays with what writing a result needs."""

from __future__ import annotations

import contextlib
import errno
import io
import logging
import os
import stat
import struct
import warnings
from collections.abc import Callable
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageCms, UnidentifiedImageError

from lowlight.errors import LowlightError
from lowlight.imageio.avif import decode_wide_avif
from lowlight.imageio.camera_raw import is_camera_raw, read_camera_raw
from lowlight.imageio.exif import orientation_of, portable_exif
from lowlight.imageio.heif import HeifPicture, read_heif
from lowlight.imageio.heif_boxes import coding_facts, container_kind
from lowlight.imageio.image_data import ImageData
from lowlight.imageio.orientation import apply_orientation
from lowlight.imageio.pil_convert import pil_to_float
from lowlight.imageio.samples import to_float
from lowlight.imageio.webp import is_lossless_webp
from lowlight.imageio.wide import decode_wide, wide_rawmode

__all__ = ["read_image", "read_image_bytes", "read_rgb"]

log = logging.getLogger("lowlight.imageio")

# What Pillow, libheif and libavif raise for files that are damaged or not what they claim to be.
_DECODE_ERRORS = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    struct.error,
    IndexError,
    RuntimeError,
)
_HEAD_BYTES = 64  # enough of a file's start to see a HEIF container's brands


def read_image(path: str | os.PathLike, max_pixels: int | None = None) -> ImageData:
    """Read an image file (PNG, JPEG, WebP, TIFF, AVIF, and whatever else Pillow opens; HEIC
    and camera RAW with ``lowlight[formats]``).

    16-bit files (greyscale and colour) keep their precision, and so do 10- and 12-bit HEIC
    and AVIF (AVIF at 8 bits without the extra); EXIF orientation is applied to the pixels
    and reset to 1 in the kept EXIF; greyscale, palette, CMYK and alpha are handled (CMYK
    with an embedded profile is converted to sRGB through it). Only the first frame of a
    multi-frame file is read. Camera RAW files (by extension, ``camera_raw.RAW_EXTENSIONS``)
    are demosaiced by LibRaw from 16-bit linear light (see ``lowlight.imageio.camera_raw``).

    Args:
        path: the file to read.
        max_pixels: refuse images with more pixels than this, before decoding them (a
            guard against decompression bombs). None means Pillow's own hard limit, twice
            ``PIL.Image.MAX_IMAGE_PIXELS`` (about 179 megapixels unless changed), which lets
            100-megapixel camera files through; Pillow refuses anything above it regardless.

    Returns:
        An ``ImageData``; ``rgb`` is float32 (H, W, 3) in [0, 1].

    Raises:
        LowlightError: the file is missing, unreadable, not an image, damaged or too large;
            the message starts with the path.
    """

    def read_special(limit: int | None) -> ImageData | None:
        if is_camera_raw(path):
            return read_camera_raw(path, limit)
        if _head_kind(path) == "heif":
            return _from_heif(read_heif(path, limit))
        return None

    return _read(
        path,
        lambda: _check_file(path),
        lambda: _open(path),
        lambda: open(path, "rb"),
        max_pixels,
        read_special,
    )


def read_image_bytes(data: bytes, name: str, max_pixels: int | None = None) -> ImageData:
    """Read an image from the bytes of its file, exactly as ``read_image`` reads the file.

    For files that do not live on a local disk (an object store's ``s3://`` keys).

    Args:
        data: the whole file's content.
        name: what the file is called in messages (its URI).
        max_pixels: as for ``read_image``.

    Raises:
        LowlightError: the bytes are empty, not an image, damaged or too large; the message
            starts with ``name``.
    """

    def check() -> None:
        if not data:
            raise LowlightError("the file is empty (0 bytes)")

    return _read(name, check, lambda: _open(io.BytesIO(data)), lambda: io.BytesIO(data), max_pixels)


def _read(
    name: str | os.PathLike,
    check: Callable[[], None],
    open_image: Callable[[], Image.Image],
    open_bytes: Callable[[], BinaryIO],
    max_pixels: int | None,
    read_special: Callable[[int | None], ImageData | None] | None = None,
) -> ImageData:
    """``check`` the source, then decode it with ``read_special`` (camera RAW and HEIF
    files, given the pixel limit; None for any other file) or else with Pillow (``open_bytes``
    opens the source as a binary stream, for what Pillow does not say of it); every failure
    becomes a ``LowlightError`` whose message starts with ``name``."""
    if max_pixels is not None:
        limit = max_pixels
    else:
        limit = None if Image.MAX_IMAGE_PIXELS is None else 2 * Image.MAX_IMAGE_PIXELS
    try:
        check()
        special = read_special(limit) if read_special is not None else None
        if special is not None:
            return special
        with open_image() as image:
            _check_size(image, limit)
            return _decode(image, open_image, open_bytes, name)
    except LowlightError as exc:
        raise LowlightError(f"{name}: {exc}") from exc
    except FileNotFoundError as exc:
        raise LowlightError(f"{name}: file not found") from exc
    except IsADirectoryError as exc:
        raise LowlightError(f"{name}: is a directory, not an image") from exc
    except PermissionError as exc:
        raise LowlightError(f"{name}: permission denied") from exc
    except UnidentifiedImageError as exc:
        raise LowlightError(f"{name}: not an image file Pillow can read") from exc
    except Image.DecompressionBombError as exc:
        raise LowlightError(f"{name}: refused as a possible decompression bomb ({exc})") from exc
    except _DECODE_ERRORS as exc:
        raise LowlightError(f"{name}: cannot read image ({exc})") from exc


def read_rgb(path: str | os.PathLike) -> np.ndarray:
    """Read any image Pillow opens as float32 RGB (H, W, 3) in [0, 1].

    EXIF orientation is applied; 16-bit images keep their precision; greyscale is
    replicated to three channels and alpha is dropped. Raises ``LowlightError`` naming the
    file and the reason when it cannot be read.
    """
    return read_image(path).rgb


def _check_file(path: str | os.PathLike) -> None:
    """Refuse what is not a non-empty regular file before Pillow opens it (a pipe would block)."""
    try:
        status = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise LowlightError("symbolic link loop; point the link at an image file") from exc
        if exc.errno == errno.ENOENT and os.path.islink(path):
            raise LowlightError(f"broken symbolic link to {os.readlink(path)}") from exc
        raise
    if stat.S_ISDIR(status.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), os.fspath(path))
    if not stat.S_ISREG(status.st_mode):
        raise LowlightError("not a regular file (a device, pipe or socket)")
    if status.st_size == 0:
        raise LowlightError("the file is empty (0 bytes)")


def _head_kind(path: str | os.PathLike) -> str | None:
    """``"heif"`` or ``"avif"`` for a HEIF container, by its first bytes; else None."""
    with open(path, "rb") as handle:
        return container_kind(handle.read(_HEAD_BYTES))


def _from_heif(picture: HeifPicture) -> ImageData:
    """A HEIF file's ``ImageData`` (libheif has turned it upright already)."""
    samples = picture.samples
    channels = samples.shape[2]
    rgb = samples[..., :3] if channels >= 3 else np.repeat(samples[..., :1], 3, axis=2)
    alpha = samples[..., -1] if channels in (2, 4) else None
    exif = None
    if picture.exif:
        with contextlib.suppress(*_DECODE_ERRORS):  # damaged metadata should not cost the pixels
            loaded = Image.Exif()
            loaded.load(picture.exif)
            exif = portable_exif(loaded)
    wide = picture.bits > 8
    return ImageData(
        rgb=np.ascontiguousarray(rgb),
        alpha=None if alpha is None else np.ascontiguousarray(alpha),
        bit_depth=16 if wide else 8,
        mode=("L" if channels <= 2 else "RGB") + ("A" if alpha is not None else ""),
        format="HEIF",
        icc_profile=picture.icc_profile,
        exif=exif,
        sample_bits=picture.bits if wide and picture.bits < 16 else None,
        lossless=picture.lossless,
    )


def _open(path: str | os.PathLike) -> Image.Image:
    # Pillow warns between its limit and twice it; read_image applies its own limit instead.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        return Image.open(path)


def _check_size(image: Image.Image, limit: int | None) -> None:
    width, height = image.size
    if limit is not None and width * height > limit:
        raise LowlightError(
            f"refused: {width}x{height} is {width * height:,} pixels, more than the limit of "
            f"{limit:,} (a guard against decompression bombs); raise max_pixels if you trust "
            "this file"
        )
    if width < 1 or height < 1:
        raise LowlightError(f"the image is empty ({width}x{height})")


def _decode(
    image: Image.Image,
    reopen: Callable[[], Image.Image],
    open_bytes: Callable[[], BinaryIO],
    path: str | os.PathLike,
) -> ImageData:
    rawmode = wide_rawmode(image)  # before anything loads the pixels and clears the tiles
    icc_profile = image.info.get("icc_profile") or None
    try:
        exif = image.getexif()
        orientation, exif_bytes = orientation_of(exif), portable_exif(exif)
    except _DECODE_ERRORS:  # damaged metadata should not cost the pixels
        orientation, exif_bytes = 1, None
    samples, sample_bits, lossless = _coding(image, open_bytes)
    if samples is not None:
        bit_depth = 16
        rgb = samples[..., :3]
        alpha = samples[..., 3] if samples.shape[2] == 4 else None
    elif rawmode is not None:
        decoded = decode_wide(image, rawmode, reopen)
        bit_depth = 16 if decoded.lost_precision is None else 8
        if decoded.lost_precision is not None:
            log.warning("%s: read at 8 bits, not 16: %s", path, decoded.lost_precision)
        samples = to_float(decoded.samples)
        rgb = samples[..., :3] if samples.shape[2] >= 3 else np.repeat(samples[..., :1], 3, 2)
        alpha = samples[..., -1] if samples.shape[2] in (2, 4) else None
    else:
        pixels = image
        if image.mode == "CMYK" and icc_profile is not None:
            pixels, icc_profile = _cmyk_to_srgb(image, icc_profile)
        rgb, alpha, bit_depth = pil_to_float(pixels)
    # Pillow opens 16-bit grey + alpha as RGBA; the source has no colour.
    mode = "LA" if samples is not None and samples.shape[2] == 2 else image.mode
    if alpha is not None:
        alpha = np.ascontiguousarray(apply_orientation(alpha, orientation))
    return ImageData(
        rgb=np.ascontiguousarray(apply_orientation(rgb, orientation)),
        alpha=alpha,
        bit_depth=bit_depth,
        mode=mode,
        format=image.format,
        icc_profile=icc_profile,
        exif=exif_bytes,
        sample_bits=sample_bits,
        lossless=lossless,
    )


def _coding(
    image: Image.Image, open_bytes: Callable[[], BinaryIO]
) -> tuple[np.ndarray | None, int | None, bool]:
    """What Pillow does not say of AVIF and WebP files: a 10- or 12-bit AVIF's samples at
    full depth (float (H, W, 3 or 4), as stored) and their bits, else None and None; and
    whether the file is coded losslessly."""
    if image.format == "WEBP":
        with open_bytes() as handle:
            return None, None, is_lossless_webp(handle)
    if image.format != "AVIF":
        return None, None, False
    with open_bytes() as handle:
        data = handle.read()
    try:
        lossless = coding_facts(data).lossless
    except ValueError:  # boxes libavif reads but this does not understand: say lossy
        lossless = False
    wide = decode_wide_avif(data)
    return (None, None, lossless) if wide is None else (*wide, lossless)


def _cmyk_to_srgb(image: Image.Image, icc_profile: bytes) -> tuple[Image.Image, bytes | None]:
    """Convert CMYK through its embedded profile; keep Pillow's naive conversion on failure."""
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        srgb = ImageCms.createProfile("sRGB")
        return ImageCms.profileToProfile(image, source, srgb, outputMode="RGB"), None
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image, None
