"""Conversions between integer samples and float intensities in [0, 1]."""

from __future__ import annotations

import numpy as np

__all__ = ["to_float", "quantize", "luma"]

# Rec. 601 luma weights: what Pillow's convert("L") uses, so grey results match Pillow's.
LUMA_WEIGHTS = (0.299, 0.587, 0.114)


def to_float(samples: np.ndarray) -> np.ndarray:
    """uint8, uint16 or float samples as float32 in [0, 1] (floats are clipped).

    Args:
        samples: array of any shape; integer samples use their dtype's full range.

    Returns:
        float32 array of the same shape.

    Raises:
        TypeError: for any other dtype.
    """
    if samples.dtype == np.uint8:
        return samples.astype(np.float32) / np.float32(255.0)
    if samples.dtype == np.uint16:
        return samples.astype(np.float32) / np.float32(65535.0)
    if np.issubdtype(samples.dtype, np.floating):
        return np.clip(np.nan_to_num(samples.astype(np.float32, copy=False)), 0.0, 1.0)
    raise TypeError(f"expected uint8, uint16 or float samples, got {samples.dtype}")


def quantize(values: np.ndarray, bit_depth: int) -> np.ndarray:
    """Float values in [0, 1] rounded to uint8 (``bit_depth`` 8) or uint16 (16).

    Values outside [0, 1] are clipped; the input is not modified.
    """
    if bit_depth == 8:
        peak, dtype = 255.0, np.uint8
    elif bit_depth == 16:
        peak, dtype = 65535.0, np.uint16
    else:
        raise ValueError(f"bit_depth must be 8 or 16, got {bit_depth}")
    scaled = np.multiply(values, peak, dtype=np.float32)
    np.clip(scaled, 0.0, peak, out=scaled)
    np.rint(scaled, out=scaled)
    return scaled.astype(dtype)


def luma(rgb: np.ndarray) -> np.ndarray:
    """Rec. 601 luma (H, W) float32 of a float RGB image (H, W, 3)."""
    red, green, blue = (rgb[..., index] for index in range(3))
    grey = red * np.float32(LUMA_WEIGHTS[0])
    grey += green * np.float32(LUMA_WEIGHTS[1])
    grey += blue * np.float32(LUMA_WEIGHTS[2])
    return grey
