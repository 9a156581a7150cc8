"""16-bit PNG files, written by pypng (Pillow writes 16-bit PNG only for single-channel grey).

pypng stores every row unfiltered. Measured on a 1800x1200 16-bit RGB photograph (2 shared
cores, best of 3), its file is 5.46 MB against the 4.67 MB (+17 %) of the Paeth-filtered
encoder lowlight used to carry, and is written in 0.21 s against 0.55 s; the pixels are the
same. pypng has no option for the ICC profile or EXIF, so ``_WriterWithMetadata`` adds their
chunks after its header through pypng's own chunk writer.
"""

from __future__ import annotations

import zlib
from typing import BinaryIO

import numpy as np
import png

__all__ = ["write_png16"]

_EXIF_HEADER = b"Exif\x00\x00"
# iCCP: a profile name, its terminating zero, then compression method 0 (zlib).
_ICC_NAME = b"ICC profile\x00\x00"


class _WriterWithMetadata(png.Writer):
    """pypng's writer, with iCCP and eXIf chunks before the image data when given."""

    def __init__(self, *args, icc_profile: bytes | None, exif: bytes | None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.chunks = []
        if icc_profile:
            self.chunks.append((b"iCCP", _ICC_NAME + zlib.compress(icc_profile)))
        if exif:
            self.chunks.append((b"eXIf", exif.removeprefix(_EXIF_HEADER)))

    def write_preamble(self, outfile: BinaryIO) -> None:
        super().write_preamble(outfile)
        for kind, data in self.chunks:
            png.write_chunk(outfile, kind, data)


def write_png16(
    handle: BinaryIO, samples: np.ndarray, *, icc_profile: bytes | None, exif: bytes | None
) -> None:
    """Write uint16 (H, W, C) samples, C from 1 to 4 (grey, grey + alpha, RGB, RGBA), as PNG.

    ``icc_profile`` (as iCCP) and ``exif`` (as eXIf, with or without its ``Exif\\0\\0``
    header) are embedded unless None.
    """
    if samples.dtype != np.uint16 or samples.ndim != 3 or not 1 <= samples.shape[2] <= 4:
        raise ValueError(f"expected uint16 (H, W, 1-4), got {samples.dtype} {samples.shape}")
    height, width, channels = samples.shape
    writer = _WriterWithMetadata(
        width,
        height,
        greyscale=channels <= 2,
        alpha=channels in (2, 4),
        bitdepth=16,
        icc_profile=icc_profile,
        exif=exif,
    )
    # PNG stores 16-bit samples big-endian; one row is converted at a time.
    writer.write_packed(handle, (row.astype(">u2").tobytes() for row in samples))
