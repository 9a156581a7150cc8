"""The decoded image and the facts about its source that writing needs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ImageData", "GREY_MODES"]

GREY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"})
"""Pillow modes whose pixels carry no colour; such images are written back as greyscale."""


@dataclass(frozen=True)
class ImageData:
    """An image as float RGB plus what is needed to write a result like the source.

    Build an enhanced copy with ``dataclasses.replace(data, rgb=enhanced)``; the writer then
    keeps the source's greyscale-ness, bit depth, alpha, ICC profile and EXIF where the output
    format allows.

    Attributes:
        rgb: float32 (H, W, 3) in [0, 1], upright (EXIF orientation already applied).
        alpha: float32 (H, W) in [0, 1], or None when the source has no transparency.
        bit_depth: 8 or 16, the precision of the source's samples (32-bit float sources
            count as 16).
        mode: the source's Pillow mode, e.g. ``"RGB"``, ``"I;16"``, ``"P"``, ``"CMYK"``.
        format: the source's Pillow format name (``"PNG"``, ``"JPEG"``, ...), or None.
        icc_profile: the embedded ICC profile of ``rgb``, or None (then sRGB is assumed).
        exif: EXIF block (``b"Exif\\x00\\x00"`` + TIFF structure) with the orientation set to
            1, or None.
        sample_bits: the bits of the source's samples where ``bit_depth`` 16 stands for fewer:
            10 or 12 (HEIC, AVIF), so a result in the same format keeps them; else None.
        lossless: the source was coded losslessly in a format that also codes lossily (WebP,
            AVIF, HEIC), so a result in such a format is coded losslessly too.
    """

    rgb: np.ndarray
    alpha: np.ndarray | None = None
    bit_depth: int = 8
    mode: str = "RGB"
    format: str | None = None
    icc_profile: bytes | None = None
    exif: bytes | None = None
    sample_bits: int | None = None
    lossless: bool = False

    def __post_init__(self) -> None:
        if self.rgb.ndim != 3 or self.rgb.shape[2] != 3:
            raise ValueError(f"rgb must be (H, W, 3), got {self.rgb.shape}")
        if self.alpha is not None and self.alpha.shape != self.rgb.shape[:2]:
            raise ValueError(f"alpha must be {self.rgb.shape[:2]}, got {self.alpha.shape}")
        if self.bit_depth not in (8, 16):
            raise ValueError(f"bit_depth must be 8 or 16, got {self.bit_depth}")
        if self.sample_bits is not None and not 8 < self.sample_bits < 16:
            raise ValueError(f"sample_bits must be None or 9 to 15, got {self.sample_bits}")

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def is_greyscale(self) -> bool:
        """Whether the source had no colour (then the result is written as greyscale)."""
        return self.mode in GREY_MODES
