"""Conversions between integer samples and float intensities in [0, 1], and Rec. 601 luma.

Rounding to levels and luma are defined once, on tensors (``lowlight.metrics.quantize``,
``lowlight.models.colour.luminance``); these functions apply them to NumPy arrays.
"""

from __future__ import annotations

import numpy as np
import torch

from lowlight.metrics import quantize
from lowlight.models.colour import luminance

__all__ = ["to_float", "to_samples", "luma"]

# The largest sample and the integer type of each bit depth written.
_SAMPLE_TYPES = {8: (255.0, np.uint8), 16: (65535.0, np.uint16)}


def to_float(samples: np.ndarray) -> np.ndarray:
    """uint8, uint16 or float samples as float32 in [0, 1] (floats are clipped).

    Args:
        samples: array of any shape; integer samples use their dtype's full range.

    Returns:
        float32 array of the same shape.

    Raises:
        TypeError: for any other dtype.
    """
    if samples.dtype in (np.uint8, np.uint16):
        # Divided in place: one float copy of a large picture, not two.
        values = samples.astype(np.float32)
        values /= np.float32(np.iinfo(samples.dtype).max)
        return values
    if np.issubdtype(samples.dtype, np.floating):
        return np.clip(np.nan_to_num(samples.astype(np.float32, copy=False)), 0.0, 1.0)
    raise TypeError(f"expected uint8, uint16 or float samples, got {samples.dtype}")


def to_samples(values: np.ndarray, bit_depth: int) -> np.ndarray:
    """Float values in [0, 1] as uint8 (``bit_depth`` 8) or uint16 (16) samples.

    The levels of ``quantize`` stored as integers; values outside [0, 1] are clipped and the
    input is not modified.

    Examples:
        >>> to_samples(np.array([0.0, 0.5, 1.2]), 8)
        array([  0, 128, 255], dtype=uint8)
    """
    if bit_depth not in _SAMPLE_TYPES:
        raise ValueError(f"bit_depth must be 8 or 16, got {bit_depth}")
    peak, dtype = _SAMPLE_TYPES[bit_depth]
    levels = quantize(_float32_tensor(values), bit_depth)
    return levels.mul_(peak).round_().numpy().astype(dtype)


def luma(rgb: np.ndarray) -> np.ndarray:
    """Rec. 601 luma (H, W) float32 of a float RGB image (H, W, 3); Pillow's ``convert("L")``."""
    return luminance(_float32_tensor(rgb).movedim(-1, 0)[None])[0, 0].numpy()


def _float32_tensor(values: np.ndarray) -> torch.Tensor:
    """A float32 tensor sharing ``values``' memory where it can (no copy of a float32 array)."""
    array = np.asarray(values, dtype=np.float32)
    # Torch has no negative strides (flipped views) and warns about read-only arrays.
    if not array.flags.writeable or any(stride < 0 for stride in array.strides):
        array = array.copy()
    return torch.from_numpy(array)
