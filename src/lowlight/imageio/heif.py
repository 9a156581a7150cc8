"""HEIC/HEIF files (an iPhone's photos) through pillow-heif (libheif): ``lowlight[formats]``.

libheif turns the picture upright itself (the container's rotation and mirroring), so the
EXIF orientation it leaves in place is not applied again: the kept EXIF says 1. 10- and
12-bit files keep their precision, and a 16-bit result is written at the source's 10 or 12
bits (10 for a source of any other format).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from lowlight.errors import LowlightError
from lowlight.imageio.extras import import_pillow_heif
from lowlight.imageio.heif_boxes import coding_facts
from lowlight.imageio.samples import luma, to_samples

__all__ = ["HeifPicture", "read_heif", "write_heif", "HEIF_QUALITY", "HEIF_EXTENSIONS"]

HEIF_EXTENSIONS = frozenset({".heic", ".heif", ".hif"})
"""HEIC/HEIF files, recognised by their extension (they need the formats extra)."""
HEIF_QUALITY = 90
"""Near-transparent quality (x265 through libheif, 0-100); the output is a finished photograph."""
_LOSSLESS = -1  # pillow-heif's quality for lossless coding
_IDENTITY_MATRIX = 0


@dataclass(frozen=True)
class HeifPicture:
    """A decoded HEIF file: upright samples and what writing a result needs.

    Attributes:
        samples: float32 (H, W, C) in [0, 1], upright; C 1 (grey), 2 (grey + alpha), 3 or 4.
        bits: the samples' bits in the file (8, 10 or 12).
        icc_profile, exif: as stored (the EXIF orientation describes the stored pixels).
        lossless: coded as lossless encoders code it (RGB, 4:4:4).
    """

    samples: np.ndarray
    bits: int
    icc_profile: bytes | None
    exif: bytes | None
    lossless: bool


def read_heif(path: str | os.PathLike, max_pixels: int | None = None) -> HeifPicture:
    """Decode the primary image of a HEIC/HEIF file.

    Args:
        path: the file.
        max_pixels: refuse images with more pixels than this, before decoding them.

    Raises:
        LowlightError: pillow-heif is not installed (the message names the extra), or the
            image is too large.
        ValueError, RuntimeError, OSError: the file is damaged or libheif cannot decode it.
    """
    pillow_heif = import_pillow_heif()
    with open(path, "rb") as handle:
        data = handle.read()
    picture = pillow_heif.open_heif(data, convert_hdr_to_8bit=False)
    width, height = picture.size
    if max_pixels is not None and width * height > max_pixels:
        raise LowlightError(
            f"refused: {width}x{height} is {width * height:,} pixels, more than the limit of "
            f"{max_pixels:,} (a guard against decompression bombs); raise max_pixels if you "
            "trust this file"
        )
    bits = int(picture.info.get("bit_depth", 8))
    stored = np.asarray(picture)
    if stored.ndim == 2:
        stored = stored[..., None]
    if stored.dtype == np.uint16:  # pillow-heif scales 10 and 12 bits up to 16
        samples = (stored >> (16 - bits)).astype(np.float32) / np.float32(2**bits - 1)
    else:
        samples = stored.astype(np.float32) / np.float32(255.0)
    try:
        lossless = coding_facts(data).lossless
    except ValueError:
        lossless = False
    return HeifPicture(
        samples=samples,
        bits=bits,
        icc_profile=picture.info.get("icc_profile") or None,
        exif=picture.info.get("exif") or None,
        lossless=lossless,
    )


def write_heif(
    handle: BinaryIO,
    rgb: np.ndarray,
    alpha: np.ndarray | None,
    greyscale: bool,
    *,
    bits: int,
    lossless: bool,
    icc_profile: bytes | None,
    exif: bytes | None,
) -> None:
    """Write float RGB (H, W, 3) in [0, 1] (and alpha (H, W), if any) as HEIC.

    Args:
        handle: a binary file open for writing.
        greyscale: write the luma alone.
        bits: 8, 10 or 12.
        lossless: code the samples exactly (RGB, 4:4:4) instead of at ``HEIF_QUALITY``.
        icc_profile: an ICC profile, embedded when given.
        exif: an EXIF block, embedded when given.

    Raises:
        LowlightError: pillow-heif is not installed (the message names the extra).
    """
    pillow_heif = import_pillow_heif()
    colour = luma(rgb)[..., None] if greyscale else rgb
    channels = colour if alpha is None else np.concatenate([colour, alpha[..., None]], -1)
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[channels.shape[2]]
    if bits > 8:
        # libheif keeps the high bits of 16-bit samples: give it the levels of ``bits``.
        levels = np.round(np.clip(channels, 0.0, 1.0) * (2**bits - 1)).astype(np.uint16)
        samples, mode = levels << (16 - bits), f"{mode};16"
    else:
        samples = to_samples(channels, 8)
    height, width = samples.shape[:2]
    picture = pillow_heif.from_bytes(mode=mode, size=(width, height), data=samples.tobytes())
    options: dict[str, object] = {"quality": _LOSSLESS if lossless else HEIF_QUALITY}
    if bits > 8:
        options["bit_depth"] = bits
    if lossless:
        options.update(chroma=444, matrix_coefficients=_IDENTITY_MATRIX)
    if icc_profile:
        options["icc_profile"] = icc_profile
    if exif:
        options["exif"] = exif
    picture.save(handle, **options)
