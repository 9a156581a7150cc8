"""A minimal 16-bit PNG encoder (Pillow writes 16-bit PNG only for single-channel grey)."""

from __future__ import annotations

import struct
import zlib
from typing import BinaryIO

import numpy as np

__all__ = ["write_png16"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> grey, grey+alpha, RGB, RGBA
_EXIF_HEADER = b"Exif\x00\x00"
_ROWS_PER_CHUNK = 64  # rows filtered and compressed at a time: bounds the temporary memory
_PAETH_FILTER = 4


def write_png16(
    handle: BinaryIO,
    samples: np.ndarray,
    icc_profile: bytes | None = None,
    exif: bytes | None = None,
) -> None:
    """Write uint16 samples as a 16-bit PNG.

    Args:
        handle: a binary file open for writing.
        samples: uint16 (H, W, C), C = 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA).
        icc_profile: embedded as an iCCP chunk when given.
        exif: embedded as an eXIf chunk when given (with or without the ``Exif\\0\\0`` header).
    """
    if samples.dtype != np.uint16 or samples.ndim != 3 or samples.shape[2] not in _COLOUR_TYPES:
        raise ValueError(f"expected uint16 (H, W, 1-4), got {samples.dtype} {samples.shape}")
    height, width, channels = samples.shape
    handle.write(_SIGNATURE)
    header = struct.pack(">IIBBBBB", width, height, 16, _COLOUR_TYPES[channels], 0, 0, 0)
    _chunk(handle, b"IHDR", header)
    if icc_profile:
        _chunk(handle, b"iCCP", b"ICC profile\x00\x00" + zlib.compress(icc_profile))
    if exif:
        _chunk(handle, b"eXIf", exif.removeprefix(_EXIF_HEADER))
    compressor = zlib.compressobj(6)
    pixel_bytes = 2 * channels
    previous = np.zeros(width * pixel_bytes, dtype=np.int16)
    for top in range(0, height, _ROWS_PER_CHUNK):
        rows = samples[top : top + _ROWS_PER_CHUNK].astype(">u2").reshape(-1, width * channels)
        rows = rows.view(np.uint8).astype(np.int16)
        filtered = _paeth_filter(rows, previous, pixel_bytes)
        lines = np.concatenate([np.full((len(rows), 1), _PAETH_FILTER, np.uint8), filtered], 1)
        _chunk(handle, b"IDAT", compressor.compress(lines.tobytes()))
        previous = rows[-1]
    _chunk(handle, b"IDAT", compressor.flush())
    _chunk(handle, b"IEND", b"")


def _paeth_filter(rows: np.ndarray, previous: np.ndarray, pixel_bytes: int) -> np.ndarray:
    """PNG Paeth filtering of byte rows (int16, values 0-255) given the row above them."""
    above = np.concatenate([previous[None], rows[:-1]], 0)
    left = np.zeros_like(rows)
    left[:, pixel_bytes:] = rows[:, :-pixel_bytes]
    above_left = np.zeros_like(rows)
    above_left[:, pixel_bytes:] = above[:, :-pixel_bytes]
    estimate = left + above - above_left
    to_left, to_above, to_corner = (np.abs(estimate - v) for v in (left, above, above_left))
    predictor = np.where(
        (to_left <= to_above) & (to_left <= to_corner),
        left,
        np.where(to_above <= to_corner, above, above_left),
    )
    return ((rows - predictor) & 0xFF).astype(np.uint8)


def _chunk(handle: BinaryIO, kind: bytes, data: bytes) -> None:
    if kind == b"IDAT" and not data:
        return
    handle.write(struct.pack(">I", len(data)) + kind + data)
    handle.write(struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
