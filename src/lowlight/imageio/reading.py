"""Reading image files into float RGB arrays with what writing a result needs."""

from __future__ import annotations

import errno
import io
import logging
import os
import stat
import struct
import warnings
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageCms, UnidentifiedImageError

from lowlight.errors import LowlightError
from lowlight.imageio.exif import orientation_of, portable_exif
from lowlight.imageio.image_data import ImageData
from lowlight.imageio.orientation import apply_orientation
from lowlight.imageio.pil_convert import pil_to_float
from lowlight.imageio.samples import to_float
from lowlight.imageio.wide import decode_wide, wide_rawmode

__all__ = ["read_image", "read_image_bytes", "read_rgb"]

log = logging.getLogger("lowlight.imageio")

# What Pillow raises for files that are damaged or not what they claim to be.
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, struct.error, IndexError)


def read_image(path: str | os.PathLike, max_pixels: int | None = None) -> ImageData:
    """Read an image file (PNG, JPEG, WebP, TIFF, and whatever else Pillow opens).

    16-bit files (greyscale and colour) keep their precision; EXIF orientation is applied to
    the pixels and reset to 1 in the kept EXIF; greyscale, palette, CMYK and alpha are
    handled (CMYK with an embedded profile is converted to sRGB through it). Only the first
    frame of a multi-frame file is read.

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
    return _read(path, lambda: _check_file(path), lambda: _open(path), max_pixels)


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

    return _read(name, check, lambda: _open(io.BytesIO(data)), max_pixels)


def _read(
    name: str | os.PathLike,
    check: Callable[[], None],
    open_image: Callable[[], Image.Image],
    max_pixels: int | None,
) -> ImageData:
    """``check`` the source, open it and decode it; every failure becomes a ``LowlightError``
    whose message starts with ``name``."""
    if max_pixels is not None:
        limit = max_pixels
    else:
        limit = None if Image.MAX_IMAGE_PIXELS is None else 2 * Image.MAX_IMAGE_PIXELS
    try:
        check()
        with open_image() as image:
            _check_size(image, limit)
            return _decode(image, open_image, name)
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
    image: Image.Image, reopen: Callable[[], Image.Image], path: str | os.PathLike
) -> ImageData:
    rawmode = wide_rawmode(image)  # before anything loads the pixels and clears the tiles
    icc_profile = image.info.get("icc_profile") or None
    try:
        exif = image.getexif()
        orientation, exif_bytes = orientation_of(exif), portable_exif(exif)
    except _DECODE_ERRORS:  # damaged metadata should not cost the pixels
        orientation, exif_bytes = 1, None
    samples = None
    if rawmode is not None:
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
    )


def _cmyk_to_srgb(image: Image.Image, icc_profile: bytes) -> tuple[Image.Image, bytes | None]:
    """Convert CMYK through its embedded profile; keep Pillow's naive conversion on failure."""
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        srgb = ImageCms.createProfile("sRGB")
        return ImageCms.profileToProfile(image, source, srgb, outputMode="RGB"), None
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image, None
