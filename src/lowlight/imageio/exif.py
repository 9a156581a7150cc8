"""EXIF metadata carried from a source image to its enhanced copy."""

from __future__ import annotations

from collections.abc import Callable

from PIL import Image

from lowlight.imageio.orientation import ORIENTATION_TAG

__all__ = ["orientation_of", "portable_exif", "camera_exif"]

EXIF_IFD_TAG = 0x8769
GPS_IFD_TAG = 0x8825
INTEROP_IFD_TAG = 0xA005

# Tags describing how the source file stored its pixels (a TIFF's IFD0 doubles as its EXIF),
# its thumbnail, or metadata blocks that may contradict the new pixels (XMP can hold its own
# orientation, Photoshop blocks hold layers and thumbnails). None of it is true of the output.
_NOT_PORTABLE = frozenset(
    {254, 255, 256, 257, 258, 259, 262, 263, 266, 273, 277, 278, 279, 280, 281, 284, 317}
    | {318, 319, 320, 322, 323, 324, 325, 330, 338, 339, 340, 341, 347}
    | set(range(512, 522))
    | {529, 530, 531, 532, 700, 34377, 34675, 37724}
)
# What a camera RAW file's main directory says of its sensor data rather than of a picture: the
# colour filter array (TIFF/EP), and DNG's calibration, levels and crops (50706 on).
_SENSOR_TAGS = frozenset({33421, 33422, 33423, 37399})
_FIRST_DNG_TAG, _LAST_DNG_TAG = 50706, 52999


def orientation_of(exif: Image.Exif) -> int:
    """The EXIF orientation (1-8; 1 when absent or invalid)."""
    value = exif.get(ORIENTATION_TAG, 1)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def camera_exif(exif: Image.Exif) -> bytes | None:
    """The EXIF block to attach to a picture developed from a camera RAW file: as
    ``portable_exif``, without the tags that describe the sensor data (CFA layout, DNG
    colour calibration, black and white levels)."""
    return portable_exif(exif, drop=_describes_sensor)


def _describes_sensor(tag: int) -> bool:
    return tag in _SENSOR_TAGS or _FIRST_DNG_TAG <= tag <= _LAST_DNG_TAG


def portable_exif(exif: Image.Exif, drop: Callable[[int], bool] | None = None) -> bytes | None:
    """The EXIF block to attach to a re-encoded, upright copy of the image.

    Keeps descriptive tags and the Exif and GPS sub-IFDs (camera settings, date, location);
    drops storage-layout tags, thumbnails and XMP; sets the orientation to 1 when present.

    Args:
        exif: the source's EXIF, as from ``Image.getexif()``.
        drop: also leaves out the main directory's tags for which this is true.

    Returns:
        ``b"Exif\\x00\\x00"`` followed by a TIFF structure, or None when nothing is left.
    """
    portable = Image.Exif()
    for tag, value in exif.items():
        if tag in _NOT_PORTABLE or tag in (EXIF_IFD_TAG, GPS_IFD_TAG):
            continue
        if drop is None or not drop(tag):
            portable[tag] = value
    for tag in (EXIF_IFD_TAG, GPS_IFD_TAG):
        # The interop pointer is an offset into the source file; it cannot be carried.
        sub_ifd = {k: v for k, v in exif.get_ifd(tag).items() if k != INTEROP_IFD_TAG}
        if sub_ifd:
            portable[tag] = sub_ifd
    if ORIENTATION_TAG in portable:
        portable[ORIENTATION_TAG] = 1
    if not len(portable):
        return None
    return portable.tobytes()
