"""EXIF orientation: turning stored pixels upright."""

from __future__ import annotations

import numpy as np

__all__ = ["apply_orientation", "ORIENTATION_TAG"]

ORIENTATION_TAG = 0x0112
"""The EXIF tag that says how the camera was held (1 to 8; 1 is upright)."""


def apply_orientation(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Turn pixels stored with EXIF ``orientation`` (1-8) upright, as viewers show them.

    Matches ``PIL.ImageOps.exif_transpose``. Unknown values leave the pixels as they are.

    Args:
        pixels: (H, W) or (H, W, C) array.
        orientation: the EXIF orientation tag's value.

    Returns:
        A view of ``pixels``; (W, H, ...) for orientations 5 to 8.
    """
    swap = (1, 0) + tuple(range(2, pixels.ndim))
    if orientation == 2:
        return pixels[:, ::-1]
    if orientation == 3:
        return pixels[::-1, ::-1]
    if orientation == 4:
        return pixels[::-1]
    if orientation == 5:
        return pixels.transpose(swap)
    if orientation == 6:
        return np.rot90(pixels, k=-1)
    if orientation == 7:
        return pixels.transpose(swap)[::-1, ::-1]
    if orientation == 8:
        return np.rot90(pixels, k=1)
    return pixels
