"""PyAV, the optional dependency that decodes and encodes video: ``lowlight[video]``."""

from __future__ import annotations

from types import ModuleType

from lowlight.errors import LowlightError

__all__ = ["import_av", "conversion_flags", "VIDEO_EXTRA"]

VIDEO_EXTRA = 'pip install "lowlight[video]"'
"""How to install the ``video`` extra (PyAV), for error messages."""


def import_av() -> ModuleType:
    """The ``av`` module.

    Raises:
        LowlightError: PyAV is not installed (the message says how to install it).
    """
    try:
        import av
    except ImportError as exc:
        raise LowlightError(
            f"enhancing video needs PyAV, which is not installed: {VIDEO_EXTRA}"
        ) from exc
    return av


def conversion_flags(av: ModuleType) -> int:
    """swscale flags for converting between YUV and RGB without bias: accurate rounding and
    full chroma interpolation. FFmpeg's default fast path turns a flat grey of 40 into 39
    through YUV and back, darkening every frame by about one level."""
    flag = av.video.reformatter.Interpolation
    return flag.BILINEAR | flag.ACCURATE_RND | flag.FULL_CHR_H_INT | flag.FULL_CHR_H_INP
