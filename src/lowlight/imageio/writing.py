"""Writing images atomically, keeping the source's bit depth, alpha, ICC profile and EXIF."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from lowlight.errors import LowlightError
from lowlight.imageio.atomic import atomic_write
from lowlight.imageio.image_data import ImageData
from lowlight.imageio.pil_convert import float_to_pil
from lowlight.imageio.png16 import write_png16
from lowlight.imageio.samples import luma, to_samples
from lowlight.imageio.tiff import write_tiff

__all__ = ["write_image", "output_format", "ALPHA_FORMATS", "SIXTEEN_BIT_FORMATS"]

ALPHA_FORMATS = frozenset({"PNG", "TIFF", "WEBP", "AVIF"})
"""Pillow's names of the output formats that keep an alpha channel."""
SIXTEEN_BIT_FORMATS = frozenset({"PNG", "TIFF"})
"""Pillow's names of the output formats that keep 16 bits per sample."""
# Lossy formats at near-transparent quality: the output is a finished photograph.
_SAVE_OPTIONS: dict[str, dict[str, object]] = {
    "JPEG": {"quality": 95},
    "WEBP": {"quality": 95},
    "AVIF": {"quality": 90},
}
_JPEG_MAX_EXIF = 65533  # one APP1 segment
_ICC_SPACE = slice(16, 20)  # the profile header's data colour space field


def output_format(path: str | os.PathLike, format: str | None = None) -> str:
    """The Pillow format name to write ``path`` in.

    Args:
        path: the output file; its extension decides unless ``format`` is given.
        format: an extension (``"png"``, ``".jpg"``) or a Pillow format name (``"JPEG"``).

    Raises:
        LowlightError: the format is unknown or Pillow cannot write it.
    """
    wanted = format if format is not None else Path(path).suffix
    extensions = Image.registered_extensions()
    name = extensions.get("." + wanted.lower().lstrip("."))
    if name is None and wanted.upper() in Image.SAVE:
        name = wanted.upper()
    if name is None or name not in Image.SAVE:
        shown = wanted or "(no extension)"
        raise LowlightError(
            f"cannot write {shown} files; choose another format, such as png, jpg, tif or webp"
        )
    return name


def write_image(path: str | os.PathLike, image: ImageData, format: str | None = None) -> None:
    """Write ``image`` to ``path`` atomically, as much like its source as the format allows.

    Greyscale sources are written as greyscale (Rec. 601 luma); 16-bit sources as 16-bit
    PNG or TIFF; alpha is kept in PNG, TIFF, WebP and AVIF; the ICC profile is attached when
    its colour space fits the output (RGB or grey); EXIF is attached where Pillow supports it.
    JPEG and WebP are written at quality 95, TIFF with deflate compression. The file appears
    complete or not at all.

    Args:
        path: the output file (its folder must exist).
        image: what to write; ``image.rgb`` is float (H, W, 3) in [0, 1].
        format: overrides the format the extension implies (see ``output_format``).

    Raises:
        LowlightError: unknown format, or the file cannot be written; the message starts
            with the path.
    """
    name = output_format(path, format)
    alpha = image.alpha if name in ALPHA_FORMATS else None
    icc_profile = _fitting_profile(image.icc_profile, image.is_greyscale)
    exif = image.exif
    if name == "JPEG" and exif is not None and len(exif) > _JPEG_MAX_EXIF:
        exif = None
    try:
        with atomic_write(path) as handle:
            bit_depth = 16 if image.bit_depth == 16 and name in SIXTEEN_BIT_FORMATS else 8
            if name == "TIFF":
                samples = _samples(image.rgb, alpha, image.is_greyscale, bit_depth)
                write_tiff(handle, samples, icc_profile, exif)
            elif bit_depth == 16:
                samples = _samples(image.rgb, alpha, image.is_greyscale, bit_depth)
                write_png16(handle, samples, icc_profile=icc_profile, exif=exif)
            else:
                mode = ("L" if image.is_greyscale else "RGB") + ("A" if alpha is not None else "")
                options = dict(_SAVE_OPTIONS.get(name, {}))
                if icc_profile:
                    options["icc_profile"] = icc_profile
                if exif:
                    options["exif"] = exif
                float_to_pil(image.rgb, alpha, mode).save(handle, format=name, **options)
    except FileNotFoundError as exc:
        raise LowlightError(f"{path}: the folder does not exist") from exc
    except PermissionError as exc:
        raise LowlightError(f"{path}: permission denied") from exc
    except (OSError, ValueError, KeyError) as exc:
        raise LowlightError(f"{path}: cannot write image ({exc})") from exc


def _fitting_profile(icc_profile: bytes | None, greyscale: bool) -> bytes | None:
    """The profile, if it describes the colour space written (RGB, or grey); else None."""
    if not icc_profile or len(icc_profile) < _ICC_SPACE.stop:
        return None
    wanted = b"GRAY" if greyscale else b"RGB "
    return icc_profile if icc_profile[_ICC_SPACE] == wanted else None


def _samples(
    rgb: np.ndarray, alpha: np.ndarray | None, greyscale: bool, bit_depth: int
) -> np.ndarray:
    """The integer samples (H, W, C) to store: grey or RGB, then alpha if any."""
    colour = luma(rgb)[..., None] if greyscale else rgb
    channels = colour if alpha is None else np.concatenate([colour, alpha[..., None]], -1)
    return to_samples(channels, bit_depth)
