"""AVIF at 10 and 12 bits, and lossless AVIF: imagecodecs (libavif) for the pixels, Pillow for
the container's metadata.

Pillow reads and writes AVIF, with the ICC profile, EXIF and rotation, at 8 bits only. With
``lowlight[formats]`` installed, a 10- or 12-bit file is decoded again by imagecodecs at its
full depth, and a 16-bit result (or a lossless one) is encoded by imagecodecs and moved into
the file Pillow writes with the metadata (``heif_boxes.replace_primary_coding``). Without
imagecodecs both are 8 bits, as Pillow has them.
"""

from __future__ import annotations

import io
from typing import BinaryIO

import numpy as np

from lowlight.imageio.extras import import_imagecodecs
from lowlight.imageio.heif_boxes import coding_facts, replace_primary_coding
from lowlight.imageio.pil_convert import float_to_pil

__all__ = ["decode_wide_avif", "write_avif", "AVIF_QUALITY"]

AVIF_QUALITY = 90
"""Near-transparent quality (libavif's 0-100 scale); the output is a finished photograph."""
_SRGB_PRIMARIES, _SRGB_TRANSFER, _UNSPECIFIED = 1, 13, 2
_BT601_MATRIX, _IDENTITY_MATRIX = 6, 0


def decode_wide_avif(data: bytes) -> tuple[np.ndarray, int] | None:
    """The samples of a 10- or 12-bit AVIF file at full depth, or None when the file has 8
    bits or imagecodecs is not installed.

    Args:
        data: the file's bytes.

    Returns:
        ``(samples, bits)``: float32 (H, W, C) in [0, 1] as stored (before any rotation), C 3
        (RGB) or 4 (RGBA); bits 10 or 12.

    Raises:
        ValueError, RuntimeError: the file is damaged.
    """
    codecs = import_imagecodecs()
    bits = coding_facts(data).bits
    if codecs is None or bits is None or bits <= 8:
        return None
    samples = codecs.avif_decode(data)
    if samples.ndim == 2:
        samples = np.repeat(samples[..., None], 3, axis=2)
    return samples.astype(np.float32) / np.float32(2**bits - 1), bits


def write_avif(
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
    """Write float RGB (H, W, 3) in [0, 1] (and alpha (H, W), if any) as AVIF.

    Args:
        handle: a binary file open for writing.
        greyscale: write the luma alone (at 8 bits; 10 and 12 bits are written as colour).
        bits: 8, 10 or 12; above 8 needs imagecodecs (else 8 is written) and no alpha.
        lossless: code the samples exactly (RGB, 4:4:4) instead of at ``AVIF_QUALITY``.
        icc_profile: an ICC profile, embedded when given.
        exif: an EXIF block, embedded when given.
    """
    codecs = import_imagecodecs()
    full_depth = codecs is not None and alpha is None and (bits > 8 or lossless)
    mode = "RGB" if full_depth or not greyscale else "L"
    mode += "A" if alpha is not None else ""
    options: dict[str, object] = {"quality": 100 if lossless else AVIF_QUALITY}
    if lossless:
        options["subsampling"] = "4:4:4"
    if icc_profile:
        options["icc_profile"] = icc_profile
    if exif:
        options["exif"] = exif
    pillow_file = io.BytesIO()
    float_to_pil(rgb, alpha, mode).save(pillow_file, format="AVIF", **options)
    if not full_depth:
        handle.write(pillow_file.getvalue())
        return
    peak = 2 ** max(bits, 8) - 1
    samples = np.round(np.clip(rgb, 0.0, 1.0) * peak)
    samples = samples.astype(np.uint16 if bits > 8 else np.uint8)
    coded = codecs.avif_encode(
        samples,
        level=None if lossless else AVIF_QUALITY,
        bitspersample=max(bits, 8),
        pixelformat="444" if lossless else "420",
        primaries=_UNSPECIFIED if icc_profile else _SRGB_PRIMARIES,
        transfer=_UNSPECIFIED if icc_profile else _SRGB_TRANSFER,
        matrix=_IDENTITY_MATRIX if lossless else _BT601_MATRIX,
    )
    handle.write(replace_primary_coding(pillow_file.getvalue(), coded))
