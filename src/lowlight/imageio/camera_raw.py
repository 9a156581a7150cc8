"""Camera RAW files (DNG, CR2, CR3, NEF, ARW, RAF, ...) through rawpy (LibRaw):
``lowlight[formats]``.

A RAW file holds the sensor's linear light, with 2-4 stops more in the shadows than the camera's
JPEG. LibRaw demosaics it with the camera's white balance into 16-bit linear sRGB, with no
automatic brightening and no tone curve, so the enhancer sees the real shadows and makes every
exposure decision itself, in linear light (the model's exposure, and ``--exposure``). The
linear values are encoded with the sRGB curve in floating point (no 8-bit step), since the
model takes sRGB-encoded pictures. LibRaw turns the picture upright.
"""

from __future__ import annotations

import contextlib
import os
import struct
import sys
import tempfile
import warnings
from collections.abc import Iterator

import numpy as np
import torch
from kornia.color import linear_rgb_to_rgb
from PIL import Image

from lowlight.errors import LowlightError
from lowlight.imageio.exif import camera_exif
from lowlight.imageio.extras import import_rawpy
from lowlight.imageio.image_data import ImageData

__all__ = ["read_camera_raw", "is_camera_raw", "RAW_EXTENSIONS", "RAW_RESULT_EXTENSION"]

RAW_EXTENSIONS = frozenset(
    {".dng", ".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".srf", ".sr2", ".raf", ".orf"}
    | {".rw2", ".rwl", ".pef", ".srw", ".x3f", ".3fr", ".fff", ".iiq", ".erf", ".mrw", ".mef"}
    | {".mos", ".kdc", ".dcr"}
)
"""Camera RAW files, recognised by their extension (most are TIFF inside, which Pillow would
open as the small preview they carry)."""
RAW_RESULT_EXTENSION = ".tif"
"""What a RAW file's result is written as unless --format says otherwise: 16 bits, with EXIF."""
_PEAK = 65535.0
_PILLOW_ERRORS = (OSError, ValueError, SyntaxError, EOFError, IndexError, struct.error)
# Where a TIFF-based RAW file's main and Exif directories lie (maker notes may lie beyond).
_EXIF_HEAD_BYTES = 4 << 20
_TIFF_MAGIC = 42


def is_camera_raw(path: str | os.PathLike) -> bool:
    """Whether ``path`` names a camera RAW file (by its extension, any case)."""
    return os.path.splitext(path)[1].lower() in RAW_EXTENSIONS


def read_camera_raw(path: str | os.PathLike, max_pixels: int | None = None) -> ImageData:
    """Demosaic a camera RAW file into sRGB-encoded float RGB from 16-bit linear light.

    Args:
        path: the file.
        max_pixels: refuse sensors with more pixels than this, before demosaicing.

    Returns:
        An ``ImageData`` with ``bit_depth`` 16, ``format`` ``"RAW"`` and the file's EXIF
        (what Pillow finds in TIFF-based RAW files: DNG, CR2, NEF, ARW, ORF, PEF, ...).

    Raises:
        LowlightError: rawpy is not installed, LibRaw cannot read the file, or it is too large.
    """
    rawpy = import_rawpy()
    messages: list[str] = []
    try:
        with _caught_stderr(messages), rawpy.imread(os.fspath(path)) as raw:
            pixels = raw.sizes.width * raw.sizes.height
            if max_pixels is not None and pixels > max_pixels:
                raise LowlightError(
                    f"refused: {raw.sizes.width}x{raw.sizes.height} is {pixels:,} pixels, more "
                    f"than the limit of {max_pixels:,}"
                )
            linear = raw.postprocess(
                use_camera_wb=True,
                no_auto_bright=True,
                gamma=(1.0, 1.0),
                output_bps=16,
                output_color=rawpy.ColorSpace.sRGB,
            )
    except rawpy.LibRawFileUnsupportedError as exc:
        raise LowlightError(
            "not a camera RAW file LibRaw can read (or an unsupported camera)"
        ) from exc
    except rawpy.LibRawError as exc:
        raise LowlightError(_damaged(path, messages, exc)) from exc
    if messages:  # LibRaw reported damage but made a picture of what it could read
        raise LowlightError(_damaged(path, messages, None))
    return ImageData(
        rgb=srgb_encode(linear),
        bit_depth=16,
        mode="RGB",
        format="RAW",
        exif=_exif_of(path),
    )


def _damaged(path: str | os.PathLike, messages: list[str], error: Exception | None) -> str:
    """The one line that says a RAW file is damaged, with what LibRaw said of it."""
    prefix = f"{os.fspath(path)}: "
    said = [message.removeprefix(prefix) for message in messages]
    if error is not None:
        said.append(_text(error))
    details = "; ".join(dict.fromkeys(said)) or "no reason given"
    return f"LibRaw cannot read this camera RAW file: it is cut short or damaged ({details})"


def _text(error: Exception) -> str:
    """rawpy's message (it passes LibRaw's C string on as bytes)."""
    message = error.args[0] if error.args else type(error).__name__
    return message.decode(errors="replace") if isinstance(message, bytes) else str(message)


@contextlib.contextmanager
def _caught_stderr(messages: list[str]) -> Iterator[None]:
    """Catch what the block writes to the process's standard error into ``messages``.

    LibRaw prints the damage it meets ("Unexpected end of file") to standard error itself,
    from C; caught, it becomes part of the file's one line of error instead of stray lines.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with tempfile.TemporaryFile() as caught:
            os.dup2(caught.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
                caught.seek(0)
                text = caught.read().decode(errors="replace")
                messages.extend(line.strip() for line in text.splitlines() if line.strip())
    finally:
        os.close(saved)


def srgb_encode(linear: np.ndarray) -> np.ndarray:
    """uint16 linear-light RGB (H, W, 3) as sRGB-encoded float32 in [0, 1].

    Example:
        >>> srgb_encode(np.array([[[0, 13107, 65535]]], dtype=np.uint16)).round(3)
        array([[[0.   , 0.485, 1.   ]]], dtype=float32)
    """
    light = torch.from_numpy(linear.astype(np.float32) / np.float32(_PEAK)).movedim(-1, 0)
    return linear_rgb_to_rgb(light).clamp_(0.0, 1.0).movedim(0, -1).contiguous().numpy()


def _exif_of(path: str | os.PathLike) -> bytes | None:
    """The RAW file's EXIF as a result should carry it, or None where there is none to read.

    Most RAW formats are TIFF structures, some with their own magic number (Panasonic's RW2,
    Olympus's ORF), whose main directory and Exif directory come first in the file; their
    tags are read from its start as from an EXIF block. CR3 and RAF are not TIFF: None.
    """
    with open(path, "rb") as handle:
        head = bytearray(handle.read(_EXIF_HEAD_BYTES))
    if head[:2] not in (b"II", b"MM") or len(head) < 8:
        return None
    head[2:4] = _TIFF_MAGIC.to_bytes(2, "little" if head[:2] == b"II" else "big")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow warns of tags cut off by the read's end
            exif = Image.Exif()
            exif.load(bytes(head))
            return camera_exif(exif)
    except _PILLOW_ERRORS:  # metadata is a bonus: a RAW file's damaged EXIF is left out
        return None
