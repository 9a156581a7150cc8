"""Reading images into float RGB arrays."""

from __future__ import annotations

import os

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from lowlight.errors import LowlightError

__all__ = ["read_rgb"]


def read_rgb(path: str | os.PathLike) -> np.ndarray:
    """Read any image Pillow opens as float32 RGB (H, W, 3) in [0, 1].

    EXIF orientation is applied; 16-bit images keep their precision; greyscale is
    replicated to three channels and alpha is dropped. Raises ``LowlightError`` naming the
    file and the reason when it cannot be read.
    """
    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image)
            if image.mode in ("I;16", "I;16B", "I;16L", "I"):
                array = np.asarray(image, dtype=np.float32) / 65535.0
                array = np.repeat(array[..., None], 3, axis=2)
            else:
                array = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    except FileNotFoundError as exc:
        raise LowlightError(f"{path}: file not found") from exc
    except IsADirectoryError as exc:
        raise LowlightError(f"{path}: is a directory, not an image") from exc
    except PermissionError as exc:
        raise LowlightError(f"{path}: permission denied") from exc
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise LowlightError(f"{path}: cannot read image ({exc})") from exc
    return np.ascontiguousarray(np.clip(array, 0.0, 1.0))
