"""The optional libraries behind HEIC/HEIF, 10- and 12-bit AVIF and camera RAW:
``lowlight[formats]``."""

from __future__ import annotations

from types import ModuleType

from lowlight.errors import LowlightError

__all__ = ["FORMATS_EXTRA", "import_pillow_heif", "import_rawpy", "import_imagecodecs"]

FORMATS_EXTRA = 'pip install "lowlight[formats]"'
"""The command that installs the formats extra, as the messages about a missing library give it."""


def import_pillow_heif() -> ModuleType:
    """The ``pillow_heif`` module (libheif), which reads and writes HEIC/HEIF.

    Raises:
        LowlightError: it is not installed (the message names the extra).
    """
    try:
        import pillow_heif
    except ImportError as exc:
        raise LowlightError(
            f"HEIC/HEIF files need pillow-heif, which is not installed: {FORMATS_EXTRA}"
        ) from exc
    return pillow_heif


def import_rawpy() -> ModuleType:
    """The ``rawpy`` module (LibRaw), which decodes camera RAW files.

    Raises:
        LowlightError: it is not installed (the message names the extra).
    """
    try:
        import rawpy
    except ImportError as exc:
        raise LowlightError(
            f"camera RAW files need rawpy, which is not installed: {FORMATS_EXTRA}"
        ) from exc
    return rawpy


def import_imagecodecs() -> ModuleType | None:
    """The ``imagecodecs`` module (libavif) when installed with AVIF support, else None.

    Without it AVIF is still read and written, by Pillow, at 8 bits.
    """
    try:
        import imagecodecs
    except ImportError:
        return None
    return imagecodecs if getattr(imagecodecs.AVIF, "available", False) else None
