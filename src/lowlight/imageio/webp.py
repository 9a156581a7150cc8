"""Whether a WebP file is lossless (VP8L) or lossy (VP8), which Pillow does not say."""

from __future__ import annotations

import os
import struct
from typing import BinaryIO

__all__ = ["is_lossless_webp"]

_CHUNK_HEADER = 8


def is_lossless_webp(source: str | os.PathLike | BinaryIO) -> bool:
    """Whether the WebP file's image data (its first ``VP8L`` or ``VP8`` chunk) is lossless.

    ``source`` is the file's path or a binary stream at its start. Walks the RIFF chunks
    without reading their contents; False for anything else.
    """
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as handle:
            return is_lossless_webp(handle)
    handle = source
    header = handle.read(12)
    if len(header) < 12 or header[:4] != b"RIFF" or header[8:] != b"WEBP":
        return False
    while True:
        chunk = handle.read(_CHUNK_HEADER)
        if len(chunk) < _CHUNK_HEADER:
            return False
        kind, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
        if kind in (b"VP8L", b"VP8 "):
            return kind == b"VP8L"
        handle.seek(size + (size & 1), os.SEEK_CUR)
