"""What a caller hands lowlight (NumPy arrays, PIL images) as float RGB, and back; and float
RGB arrays as the tensor batches a model takes.

``image_to_rgb`` and ``rgb_like`` are the pair ``lowlight.enhance`` goes through: one call in,
one call out, whatever the kind of image.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from lowlight.errors import LowlightError
from lowlight.imageio.pil_convert import float_to_pil, pil_to_float
from lowlight.imageio.samples import luma, to_float, to_samples

__all__ = ["ImageLike", "image_to_rgb", "rgb_like", "to_batch", "from_batch"]

ImageLike = np.ndarray | Image.Image
"""What ``lowlight.enhance`` takes and gives back: a NumPy array or a PIL image."""

# What a PIL image of each mode comes back as, where that is not its own mode.
_PIL_RESULT_MODES = {"1": "L", "P": "RGB", "PA": "RGBA", "La": "LA", "RGBa": "RGBA"}
_PIL_KEPT_INFO = ("icc_profile", "exif", "dpi")


def to_batch(rgb: np.ndarray) -> torch.Tensor:
    """(H, W, 3) array -> (1, 3, H, W) tensor sharing its memory.

    Examples:
        >>> to_batch(np.zeros((4, 5, 3), np.float32)).shape
        torch.Size([1, 3, 4, 5])
    """
    return torch.from_numpy(rgb).permute(2, 0, 1).unsqueeze(0)


def from_batch(batch: torch.Tensor) -> np.ndarray:
    """The first image of a (B, 3, H, W) tensor as an (H, W, 3) array (a view, on the CPU).

    Examples:
        >>> from_batch(torch.zeros(1, 3, 4, 5)).shape
        (4, 5, 3)
    """
    return batch[0].detach().cpu().permute(1, 2, 0).numpy()


def image_to_rgb(image: ImageLike) -> tuple[np.ndarray, np.ndarray | None]:
    """The float RGB (H, W, 3) in [0, 1] and alpha (H, W) or None of an array or PIL image.

    Arrays keep their alpha channel themselves (``rgb_like`` copies it back), so their alpha
    here is None.

    Raises:
        LowlightError: not an array or PIL image, or an array of an unsupported shape, dtype or
            value range.
    """
    if isinstance(image, Image.Image):
        rgb, alpha, _ = pil_to_float(image)
        return rgb, alpha
    if isinstance(image, np.ndarray):
        return _array_to_rgb(image), None
    raise LowlightError(f"enhance() takes a NumPy array or a PIL image, got {type(image).__name__}")


def rgb_like(rgb: np.ndarray, alpha: np.ndarray | None, like: ImageLike) -> ImageLike:
    """Float RGB (H, W, 3) as the same kind of image as ``like`` (see ``lowlight.enhance``).

    An array comes back in ``like``'s shape and dtype, its alpha copied from ``like``; a PIL
    image in ``like``'s mode family with ``alpha``, and ``like``'s ICC profile, EXIF and dpi.
    """
    if isinstance(like, Image.Image):
        return _pil_like(rgb, alpha, like)
    return _array_like(rgb, like)


def _array_to_rgb(array: np.ndarray) -> np.ndarray:
    """The RGB of an input array as float32 (H, W, 3) in [0, 1]."""
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
        raise LowlightError(
            f"expected an array of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), "
            f"got {array.shape}"
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise LowlightError(f"the image is empty: shape {array.shape}")
    if not (array.dtype in (np.uint8, np.uint16) or np.issubdtype(array.dtype, np.floating)):
        raise LowlightError(f"expected uint8, uint16 or float samples, got {array.dtype}")
    channels = array[..., None] if array.ndim == 2 else array
    colour = channels[..., :3] if channels.shape[2] >= 3 else channels[..., :1]
    if np.issubdtype(array.dtype, np.floating):
        low, high = float(np.min(colour)), float(np.max(colour))
        if not (np.isfinite(low) and np.isfinite(high)) or low < -1e-3 or high > 1 + 1e-3:
            raise LowlightError(
                f"float images must hold values in [0, 1], got [{low:g}, {high:g}]; "
                "divide 8-bit values by 255"
            )
    rgb = to_float(colour)
    return rgb if rgb.shape[2] == 3 else np.repeat(rgb, 3, axis=2)


def _array_like(rgb: np.ndarray, like: np.ndarray) -> np.ndarray:
    """The RGB in the shape and dtype of the input array (alpha copied from it)."""
    colour_channels = 3 if like.ndim == 3 and like.shape[2] >= 3 else 1
    values = rgb if colour_channels == 3 else luma(rgb)[..., None]
    if like.dtype == np.uint8:
        samples = to_samples(values, 8)
    elif like.dtype == np.uint16:
        samples = to_samples(values, 16)
    else:
        samples = np.clip(values, 0.0, 1.0).astype(like.dtype)
    if like.ndim == 2:
        return np.ascontiguousarray(samples[..., 0])
    if like.shape[2] == 4:
        return np.concatenate([samples, like[..., 3:]], axis=2)
    return np.ascontiguousarray(samples)


def _pil_like(rgb: np.ndarray, alpha: np.ndarray | None, like: Image.Image) -> Image.Image:
    mode = _PIL_RESULT_MODES.get(like.mode, like.mode)
    if like.mode == "P" and alpha is not None:
        mode = "RGBA"
    result = float_to_pil(rgb, alpha, mode)
    result.info.update({key: like.info[key] for key in _PIL_KEPT_INFO if key in like.info})
    return result
