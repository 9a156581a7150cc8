"""Conversions between Pillow images and float RGB (+ alpha) arrays."""

from __future__ import annotations

import numpy as np
from PIL import Image

from lowlight.imageio.samples import luma, to_float, to_samples

__all__ = ["pil_to_float", "float_to_pil", "SIXTEEN_BIT_GREY_MODES"]

SIXTEEN_BIT_GREY_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N"})
"""Pillow's modes of 16-bit greyscale pictures, read and written with their 16 bits."""


def pil_to_float(image: Image.Image) -> tuple[np.ndarray, np.ndarray | None, int]:
    """The pixels of a Pillow image as float RGB, alpha and the samples' bit depth.

    Greyscale is replicated to three channels; palette, CMYK and other modes are converted
    with Pillow; transparency (an alpha band, or a palette or colour-key ``transparency``)
    becomes the alpha array. 32-bit integer greyscale is read as 16-bit samples, 32-bit float
    greyscale as values in [0, 1].

    Args:
        image: any Pillow image (it gets loaded).

    Returns:
        ``(rgb, alpha, bit_depth)``: float32 (H, W, 3) in [0, 1]; float32 (H, W) in [0, 1] or
        None; 8 or 16.
    """
    mode = image.mode
    if mode in SIXTEEN_BIT_GREY_MODES or mode in ("I", "F"):
        samples = np.asarray(image)
        if mode == "I":
            samples = np.clip(samples, 0, 65535).astype(np.uint16)
        elif mode != "F":
            samples = samples.astype(np.uint16)
        grey = to_float(samples)
        return np.repeat(grey[..., None], 3, axis=2), None, 16
    if image.has_transparency_data:
        rgba = to_float(np.asarray(image.convert("RGBA")))
        return np.ascontiguousarray(rgba[..., :3]), np.ascontiguousarray(rgba[..., 3]), 8
    return to_float(np.asarray(image.convert("RGB"))), None, 8


def float_to_pil(rgb: np.ndarray, alpha: np.ndarray | None, mode: str) -> Image.Image:
    """A Pillow image of ``mode`` from float RGB (+ alpha) in [0, 1].

    Greyscale modes (``L``, ``LA``, ``I;16``, ``I``, ``F``) take the Rec. 601 luma; modes with
    alpha take ``alpha`` (opaque when None); other modes (``CMYK``, ``YCbCr``, ...) are
    converted from RGB(A) by Pillow.

    Args:
        rgb: float (H, W, 3) in [0, 1].
        alpha: float (H, W) in [0, 1], or None.
        mode: the Pillow mode wanted.
    """
    if mode in ("L", "LA", "I", "F") or mode in SIXTEEN_BIT_GREY_MODES:
        grey = luma(rgb)
        if mode == "F":
            return Image.fromarray(np.clip(grey, 0.0, 1.0).astype(np.float32))
        if mode == "I":
            return Image.fromarray(to_samples(grey, 16).astype(np.int32))
        if mode in SIXTEEN_BIT_GREY_MODES:
            return Image.fromarray(to_samples(grey, 16)).convert(mode)
        if mode == "L":
            return Image.fromarray(to_samples(grey, 8))
        return Image.fromarray(np.stack([to_samples(grey, 8), _alpha8(alpha, grey.shape)], -1))
    if mode == "RGB":
        return Image.fromarray(to_samples(rgb, 8))
    with_alpha = np.concatenate([to_samples(rgb, 8), _alpha8(alpha, rgb.shape[:2])[..., None]], -1)
    rgba = Image.fromarray(with_alpha)
    return rgba if mode == "RGBA" else rgba.convert(mode)


def _alpha8(alpha: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray:
    if alpha is None:
        return np.full(shape, 255, dtype=np.uint8)
    return to_samples(alpha, 8)
