"""Full-precision decoding of 16-bit colour images, which Pillow reduces to 8 bits.

Pillow has no 16-bit RGB mode: it decodes 16-bit RGB(A) and grey+alpha files keeping only
the high byte of each sample. The file's own decoder (zlib + PNG unfiltering, libtiff, ...)
still runs in C; only the final unpacking step picks bytes. So the file is decoded twice,
the second time with an unpacker that reads the other byte of each sample (``;16B`` and
``;16L`` unpack the same 6- or 8-byte pixels, taking opposite bytes), and the two 8-bit
results are joined. Grey+alpha (4 bytes a pixel) is unpacked as 8-bit RGBA, whose four
channels are then exactly the four bytes. Should Pillow ever refuse the second pass, the high
bytes alone are kept and ``decode_wide`` says why; the reader then reports 8 bits and logs it.

Why not a library (measured on 2 shared cores, best of 3):

- PNG: pypng reads 16-bit PNG in pure Python. A Paeth-filtered 1920x1080 16-bit RGB PNG
  takes it 2.03 s against 0.16 s here, 13 times as long; other software filters its PNGs (only
  lowlight's own, now written by pypng, are unfiltered). imageio reads PNG through Pillow, at
  8 bits.
- TIFF: tifffile decodes LZW, the usual compression of 16-bit TIFFs from photo software, only
  with the imagecodecs package (a 26 MB wheel): without it, it raises "<COMPRESSION.LZW: 5>
  requires the 'imagecodecs' package", where Pillow's libtiff decoder reads the file here at
  full precision.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from PIL import Image

__all__ = ["wide_rawmode", "decode_wide", "WideDecoding"]

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


class WideDecoding(NamedTuple):
    """What ``decode_wide`` got: the samples, and why they hold 8 bits when they do."""

    samples: np.ndarray  # uint16 when complete, else uint8 (the high bytes)
    lost_precision: str | None  # None when all 16 bits were read


def decode_wide(
    image: Image.Image, rawmode: str, reopen: Callable[[], Image.Image]
) -> WideDecoding:
    """Decode a 16-bit colour or grey + alpha image at full precision.

    Args:
        image: the opened image; it gets loaded.
        rawmode: what ``wide_rawmode`` said of it before it was loaded.
        reopen: opens the same file again (the altered decoding pass needs a fresh reader).

    Returns:
        Samples (H, W, C), C 3 for RGB, 4 for RGBA, 2 for grey + alpha: uint16, or, should
        Pillow refuse the second pass, the uint8 high bytes with the reason in
        ``lost_precision``.
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
                grey = quad[..., 0] << 8 | quad[..., 1]
                return WideDecoding(np.stack([grey, quad[..., 2] << 8 | quad[..., 3]], 2), None)
            low = _decode_with(again, _other_byte)
    except (AttributeError, TypeError, ValueError, OSError) as exc:
        return WideDecoding(high.astype(np.uint8), f"Pillow refused the low bytes' pass ({exc})")
    if low.shape != high.shape:
        reason = f"the low bytes' pass gave {low.shape}, not {high.shape}"
        return WideDecoding(high.astype(np.uint8), reason)
    return WideDecoding(high << 8 | low, None)
