"""Full-precision decoding of 16-bit colour images, which Pillow reduces to 8 bits.

Pillow has no 16-bit RGB mode: it decodes 16-bit RGB(A) and grey+alpha files keeping only
the high byte of each sample. The file's own decoder (zlib + PNG unfiltering, libtiff, ...)
still runs in C; only the final unpacking step picks bytes. So the file is decoded twice,
the second time with an unpacker that reads the other byte of each sample (``;16B`` and
``;16L`` unpack the same 6- or 8-byte pixels, taking opposite bytes), and the two 8-bit
results are joined. Grey+alpha (4 bytes a pixel) is unpacked as 8-bit RGBA, whose four
channels are then exactly the four bytes.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable

import numpy as np
from PIL import Image

__all__ = ["wide_rawmode", "decode_wide"]

_WIDE_COLOUR = re.compile(r"^(RGB|RGBA|RGBX);16([BLN])$")
_WIDE_GREY_ALPHA = "LA;16B"
_NATIVE = "L" if sys.byteorder == "little" else "B"
_OTHER_BYTE = {"B": "L", "L": "B", "N": "B" if _NATIVE == "L" else "L"}


def _rawmodes(image: Image.Image) -> list[str]:
    modes = []
    for tile in getattr(image, "tile", None) or []:
        args = tile[3]
        rawmode = args if isinstance(args, str) else args[0] if args else None
        if not isinstance(rawmode, str):
            return []
        modes.append(rawmode)
    return modes


def wide_rawmode(image: Image.Image) -> str | None:
    """The 16-bit raw mode whose low bytes Pillow would drop, or None if it drops nothing.

    Ask before the image is loaded: loading clears what this looks at.
    """
    rawmodes = set(_rawmodes(image))
    if len(rawmodes) != 1:
        return None
    rawmode = rawmodes.pop()
    return rawmode if _WIDE_COLOUR.match(rawmode) or rawmode == _WIDE_GREY_ALPHA else None


def _decode_with(image: Image.Image, rawmode: Callable[[str], str]) -> np.ndarray:
    tiles = []
    for tile in image.tile:
        args = tile[3]
        args = rawmode(args) if isinstance(args, str) else (rawmode(args[0]), *args[1:])
        tiles.append(tile._replace(args=args))
    image.tile = tiles
    image.load()
    return np.asarray(image)


def _other_byte(rawmode: str) -> str:
    return rawmode[:-1] + _OTHER_BYTE[rawmode[-1]]


def decode_wide(image: Image.Image, rawmode: str, reopen: Callable[[], Image.Image]) -> np.ndarray:
    """Decode a 16-bit colour or grey + alpha image at full precision.

    Args:
        image: the opened image; it gets loaded.
        rawmode: what ``wide_rawmode`` said of it before it was loaded.
        reopen: opens the same file again (the altered decoding pass needs a fresh reader).

    Returns:
        uint16 (H, W, C): C is 3 for RGB, 4 for RGBA, 2 for grey + alpha. Should Pillow's
        internals ever refuse the altered pass, the high bytes alone are returned (scaled).
    """
    grey_alpha = rawmode == _WIDE_GREY_ALPHA
    image.load()
    high = np.asarray(image).astype(np.uint16)
    if grey_alpha:  # Pillow's own decoding gives (L, L, L, A), high bytes only
        high = high[..., [0, 3]]
    try:
        with reopen() as again:
            if grey_alpha:
                quad = _decode_with(again, lambda _: "RGBA").astype(np.uint16)
                return np.stack(
                    [quad[..., 0] << 8 | quad[..., 1], quad[..., 2] << 8 | quad[..., 3]], 2
                )
            low = _decode_with(again, _other_byte)
    except (AttributeError, TypeError, ValueError, OSError):
        return high * np.uint16(257)
    if low.shape != high.shape:
        return high * np.uint16(257)
    return high << 8 | low
