"""A minimal TIFF encoder for 8- and 16-bit samples.

Why not a library: a TIFF result keeps its source's EXIF, camera settings and GPS included,
which TIFF stores in sub-directories (the Exif and GPS IFDs, tags 34665 and 34853), and no
maintained writer at hand writes them. tifffile says so ("ExifIFD and GPSIFD tags are not
supported"): given tag 34665 among its ``extratags`` (tifffile 2026.3.3) it logs "not writing
extratag 34665" and leaves it out, so ``tests/imageio``'s EXIF-survives test fails for TIFF.
Pillow cannot write 16-bit colour TIFF, and its compressed (libtiff) TIFF writer cannot carry
the sub-IFDs either.

So lowlight writes its TIFFs itself: little-endian, deflate-compressed strips with horizontal
differencing (predictor 2), which libtiff and every mainstream reader support. The directory
is built by Pillow's own ``ImageFileDirectory_v2``, so the EXIF sub-IFDs are written the way
Pillow writes them.
"""

from __future__ import annotations

import struct
import zlib
from typing import BinaryIO

import numpy as np
from PIL import Image, TiffImagePlugin

__all__ = ["write_tiff"]

_STRIP_BYTES = 1 << 18  # aim for strips of about 256 KiB before compression
_EXIF_SUB_IFDS = (0x8769, 0x8825)
_DEFLATE, _HORIZONTAL_PREDICTOR, _UNASSOCIATED_ALPHA = 8, 2, 2
_MIN_IS_BLACK, _RGB = 1, 2


def write_tiff(
    handle: BinaryIO,
    samples: np.ndarray,
    icc_profile: bytes | None = None,
    exif: bytes | None = None,
) -> None:
    """Write uint8 or uint16 samples as an 8- or 16-bit TIFF.

    Args:
        handle: a binary file open for writing.
        samples: uint8 or uint16 (H, W, C), C = 1 (grey), 2 (grey + alpha), 3 (RGB) or 4
            (RGBA). 16-bit grey + alpha is written as RGBA: Pillow cannot open it otherwise.
        icc_profile: embedded (tag 34675) when given.
        exif: EXIF block (``Exif\\0\\0`` + TIFF structure) whose tags are merged into the
            image's directory, when given.
    """
    if samples.dtype not in (np.uint8, np.uint16) or samples.ndim != 3:
        raise ValueError(f"expected uint8 or uint16 (H, W, C), got {samples.dtype} {samples.shape}")
    if not 1 <= samples.shape[2] <= 4:
        raise ValueError(f"expected 1 to 4 channels, got {samples.shape[2]}")
    if samples.shape[2] == 2 and samples.dtype == np.uint16:
        samples = samples[..., [0, 0, 0, 1]]
    height, width, channels = samples.shape
    bits = samples.dtype.itemsize * 8
    rows_per_strip = max(1, min(height, _STRIP_BYTES // (width * channels * samples.itemsize)))
    strips = [
        zlib.compress(_difference(samples[top : top + rows_per_strip]).tobytes(), 6)
        for top in range(0, height, rows_per_strip)
    ]
    # Pillow's directory writer treats strip offsets as relative to the end of the directory
    # and its out-of-line data, which is where the strips go.
    offsets, position = [], 0
    for strip in strips:
        offsets.append(position)
        position += len(strip)

    directory = TiffImagePlugin.ImageFileDirectory_v2(prefix=b"II")
    if exif:
        _merge_exif(directory, exif)
    directory[256] = width
    directory[257] = height
    directory[258] = (bits,) * channels
    directory[259] = _DEFLATE
    directory[262] = _RGB if channels >= 3 else _MIN_IS_BLACK
    directory[273] = tuple(offsets)
    directory[277] = channels
    directory[278] = rows_per_strip
    directory[279] = tuple(len(strip) for strip in strips)
    directory[284] = 1  # chunky: samples of a pixel stored together
    directory[317] = _HORIZONTAL_PREDICTOR
    if channels in (2, 4):
        directory[338] = (_UNASSOCIATED_ALPHA,)
    if icc_profile:
        directory[34675] = icc_profile

    directory_offset = 8  # right after the header
    handle.write(b"II*\x00" + struct.pack("<I", directory_offset))
    handle.write(directory.tobytes(directory_offset))
    for strip in strips:
        handle.write(strip)


def _difference(rows: np.ndarray) -> np.ndarray:
    """Predictor 2: each sample minus its left neighbour (same channel), modulo 2**bits."""
    differences = rows.astype(rows.dtype.newbyteorder("<"))
    differences[:, 1:] -= rows[:, :-1]
    return differences


def _merge_exif(directory: TiffImagePlugin.ImageFileDirectory_v2, exif_block: bytes) -> None:
    exif = Image.Exif()
    exif.load(exif_block)
    for tag, value in exif.items():
        if tag not in _EXIF_SUB_IFDS:
            directory[tag] = value
    for tag in _EXIF_SUB_IFDS:
        sub_ifd = exif.get_ifd(tag)
        if sub_ifd:
            directory[tag] = sub_ifd
