"""Writing images atomically, keeping the source's bit depth, alpha, ICC profile and EXIF."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image

from lowlight.errors import LowlightError
from lowlight.imageio.atomic import atomic_write
from lowlight.imageio.avif import write_avif
from lowlight.imageio.extras import import_pillow_heif
from lowlight.imageio.heif import HEIF_EXTENSIONS, write_heif
from lowlight.imageio.image_data import ImageData
from lowlight.imageio.pil_convert import float_to_pil
from lowlight.imageio.png16 import write_png16
from lowlight.imageio.samples import luma, to_samples
from lowlight.imageio.tiff import write_tiff

__all__ = [
    "write_image",
    "encode_image",
    "output_format",
    "ALPHA_FORMATS",
    "SIXTEEN_BIT_FORMATS",
    "DEEP_FORMATS",
    "HEIF_FORMAT",
]

HEIF_FORMAT = "HEIF"
"""Pillow's name of HEIC/HEIF, written by pillow-heif (Pillow has no HEIF writer of its own)."""
ALPHA_FORMATS = frozenset({"PNG", "TIFF", "WEBP", "AVIF", HEIF_FORMAT})
"""Pillow's names of the output formats that keep an alpha channel."""
SIXTEEN_BIT_FORMATS = frozenset({"PNG", "TIFF"})
"""Pillow's names of the output formats that keep 16 bits per sample."""
DEEP_FORMATS = frozenset({"AVIF", HEIF_FORMAT})
"""Pillow's names of the output formats that keep 10 or 12 bits of a 16-bit source (AVIF's
need imagecodecs)."""
_DEEP_DEFAULT_BITS = 10  # what a 16-bit source of another format is written at in those
# Lossy formats at near-transparent quality: the output is a finished photograph.
_SAVE_OPTIONS: dict[str, dict[str, object]] = {
    "JPEG": {"quality": 95},
    "WEBP": {"quality": 95},
}
_JPEG_MAX_EXIF = 65533  # one APP1 segment
_ICC_SPACE = slice(16, 20)  # the profile header's data colour space field


def output_format(path: str | os.PathLike, format: str | None = None) -> str:
    """The Pillow format name to write ``path`` in.

    Args:
        path: the output file; its extension decides unless ``format`` is given.
        format: an extension (``"png"``, ``".jpg"``) or a Pillow format name (``"JPEG"``).

    Returns:
        A Pillow format name, or ``HEIF_FORMAT`` for HEIC/HEIF.

    Raises:
        LowlightError: the format is unknown or Pillow cannot write it; HEIC/HEIF without
            pillow-heif installed (the message names the extra).
    """
    wanted = format if format is not None else Path(path).suffix
    if "." + wanted.lower().lstrip(".") in HEIF_EXTENSIONS or wanted.upper() == HEIF_FORMAT:
        import_pillow_heif()
        return HEIF_FORMAT
    extensions = Image.registered_extensions()
    name = extensions.get("." + wanted.lower().lstrip("."))
    if name is None and wanted.upper() in Image.SAVE:
        name = wanted.upper()
    if name is None or name not in Image.SAVE:
        shown = wanted or "(no extension)"
        raise LowlightError(
            f"cannot write {shown} files; choose another format, such as png, jpg, tif or webp"
        )
    return name


def write_image(path: str | os.PathLike, image: ImageData, format: str | None = None) -> None:
    """Write ``image`` to ``path`` atomically, as much like its source as the format allows.

    Greyscale sources are written as greyscale (Rec. 601 luma); 16-bit sources as 16-bit
    PNG or TIFF, and as HEIC or AVIF at the source's 10 or 12 bits (10 for a source of
    another format; AVIF needs imagecodecs for it, and has no alpha then); alpha is kept in
    PNG, TIFF, WebP, AVIF and HEIC; the ICC profile is attached when its colour space fits
    the output (RGB or grey); EXIF is attached where the format holds it. JPEG and WebP are
    written at quality 95, AVIF and HEIC at 90, TIFF with deflate compression; a source
    coded losslessly (``image.lossless``) is written losslessly in WebP, AVIF and HEIC. The
    file appears complete or not at all.

    Args:
        path: the output file (its folder must exist).
        image: what to write; ``image.rgb`` is float (H, W, 3) in [0, 1].
        format: overrides the format the extension implies (see ``output_format``).

    Raises:
        LowlightError: unknown format, or the file cannot be written; the message starts
            with the path.
    """
    name = output_format(path, format)
    try:
        with atomic_write(path) as handle:
            _encode(handle, image, name)
    except FileNotFoundError as exc:
        raise LowlightError(f"{path}: the folder does not exist") from exc
    except PermissionError as exc:
        raise LowlightError(f"{path}: permission denied") from exc
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise LowlightError(f"{path}: cannot write image ({exc})") from exc


def encode_image(image: ImageData, format: str) -> bytes:
    """The bytes ``write_image`` would write for ``image`` in ``format``, for files that do
    not live on a local disk (an object store's ``s3://`` keys).

    Args:
        image: what to encode; ``image.rgb`` is float (H, W, 3) in [0, 1].
        format: an extension (``"png"``, ``".jpg"``) or a Pillow format name.

    Raises:
        LowlightError: unknown format, or the image cannot be encoded in it.

    Example:
        >>> import numpy as np
        >>> encode_image(ImageData(rgb=np.zeros((2, 3, 3), np.float32)), "png")[:4]
        b'\\x89PNG'
    """
    name = output_format("", format)
    buffer = io.BytesIO()
    try:
        _encode(buffer, image, name)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise LowlightError(f"cannot encode image as {name} ({exc})") from exc
    return buffer.getvalue()


def _encode(handle: BinaryIO, image: ImageData, name: str) -> None:
    """Write ``image`` to ``handle`` in the Pillow format ``name`` (see ``write_image``)."""
    alpha = image.alpha if name in ALPHA_FORMATS else None
    icc_profile = _fitting_profile(image.icc_profile, image.is_greyscale)
    exif = image.exif
    if name == "JPEG" and exif is not None and len(exif) > _JPEG_MAX_EXIF:
        exif = None
    bit_depth = 16 if image.bit_depth == 16 and name in SIXTEEN_BIT_FORMATS else 8
    if name in DEEP_FORMATS:
        writer = write_heif if name == HEIF_FORMAT else write_avif
        writer(
            handle,
            image.rgb,
            alpha,
            image.is_greyscale,
            bits=_deep_bits(image),
            lossless=image.lossless,
            icc_profile=icc_profile,
            exif=exif,
        )
    elif name == "TIFF":
        samples = _samples(image.rgb, alpha, image.is_greyscale, bit_depth)
        write_tiff(handle, samples, icc_profile, exif)
    elif bit_depth == 16:
        samples = _samples(image.rgb, alpha, image.is_greyscale, bit_depth)
        write_png16(handle, samples, icc_profile=icc_profile, exif=exif)
    else:
        mode = ("L" if image.is_greyscale else "RGB") + ("A" if alpha is not None else "")
        options = dict(_SAVE_OPTIONS.get(name, {}))
        if name == "WEBP" and image.lossless:
            options = {"lossless": True}
        if icc_profile:
            options["icc_profile"] = icc_profile
        if exif:
            options["exif"] = exif
        float_to_pil(image.rgb, alpha, mode).save(handle, format=name, **options)


def _deep_bits(image: ImageData) -> int:
    """The bits a HEIC or AVIF result is written at: 8, or the source's 10 or 12."""
    if image.bit_depth != 16:
        return 8
    return _DEEP_DEFAULT_BITS if image.sample_bits is None else min(image.sample_bits, 12)


def _fitting_profile(icc_profile: bytes | None, greyscale: bool) -> bytes | None:
    """The profile, if it describes the colour space written (RGB, or grey); else None."""
    if not icc_profile or len(icc_profile) < _ICC_SPACE.stop:
        return None
    wanted = b"GRAY" if greyscale else b"RGB "
    return icc_profile if icc_profile[_ICC_SPACE] == wanted else None


def _samples(
    rgb: np.ndarray, alpha: np.ndarray | None, greyscale: bool, bit_depth: int
) -> np.ndarray:
    """The integer samples (H, W, C) to store: grey or RGB, then alpha if any."""
    colour = luma(rgb)[..., None] if greyscale else rgb
    channels = colour if alpha is None else np.concatenate([colour, alpha[..., None]], -1)
    return to_samples(channels, bit_depth)
