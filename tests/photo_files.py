"""Real HEIC, AVIF and camera RAW (DNG) files made in the test, for the formats tests and the
robustness corpus.

The DNG is a synthetic Bayer mosaic (RGGB, 12 bits over a black level) of a linear scene, as a
camera's sensor records it: each channel with its own sensitivity, so only the camera's white
balance (the DNG's AsShotNeutral) makes a grey card grey again. Its colour matrix maps XYZ to
linear sRGB, so the camera's colours after white balance are sRGB's.
"""

from __future__ import annotations

import functools
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms

MAKE, MODEL, TAKEN = "Lowlight", "Synthetic Bayer", "2024:12:24 21:30:00"
# How strongly each channel of the synthetic sensor responds to the same light.
SENSITIVITY = (0.5, 1.0, 0.7)
BLACK, WHITE = 256, 4095
_XYZ_TO_LINEAR_SRGB = (
    (3.2406, -1.5372, -0.4986),
    (-0.9689, 1.8758, 0.0415),
    (0.0557, -0.2040, 1.0570),
)
_D65 = 21  # EXIF LightSource code of the calibration illuminant
ORIENTATION, MAKE_TAG, MODEL_TAG, DATE_TAG = 0x0112, 0x010F, 0x0110, 0x0132


@functools.cache
def srgb_profile() -> bytes:
    """An sRGB ICC profile (LittleCMS's), to embed and find again: made once, as its header
    holds the time it was made."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def camera_exif(orientation: int = 1) -> Image.Exif:
    """EXIF as a camera writes it: make, model, date and the orientation."""
    exif = Image.Exif()
    exif[MAKE_TAG], exif[MODEL_TAG], exif[DATE_TAG] = MAKE, MODEL, TAKEN
    exif[ORIENTATION] = orientation
    return exif


def gradient(
    height: int, width: int, low: float, high: float, seed: int = 0, texture: float = 0.05
) -> np.ndarray:
    """A smooth colourful picture (H, W, 3) in [low, high] with a little random texture
    (``texture`` of the range either way)."""
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x / width, y / height, 1.0 - x / width], axis=-1)
    texture = np.random.default_rng(seed).uniform(-texture, texture, base.shape)
    return (low + (high - low) * np.clip(0.1 + 0.8 * base + texture, 0, 1)).astype(np.float32)


def write_heic(
    path: Path,
    rgb: np.ndarray,
    bits: int = 8,
    exif: Image.Exif | None = None,
    icc_profile: bytes | None = None,
    lossless: bool = False,
) -> Path:
    """``rgb`` (float (H, W, 3) in [0, 1]) as a HEIC file of ``bits`` (8, 10 or 12)."""
    import pillow_heif

    height, width = rgb.shape[:2]
    if bits > 8:  # libheif keeps the high bits of 16-bit samples
        levels = np.round(rgb * (2**bits - 1)).astype(np.uint16)
        samples, mode = levels << (16 - bits), "RGB;16"
    else:
        samples, mode = np.round(rgb * 255).astype(np.uint8), "RGB"
    picture = pillow_heif.from_bytes(mode=mode, size=(width, height), data=samples.tobytes())
    options: dict = {"quality": -1, "chroma": 444, "matrix_coefficients": 0} if lossless else {}
    if bits > 8:
        options["bit_depth"] = bits
    if exif is not None:
        options["exif"] = exif.tobytes()
    if icc_profile is not None:
        options["icc_profile"] = icc_profile
    picture.save(path, **options)
    return path


def write_avif_samples(path: Path, samples: np.ndarray, bits: int) -> Path:
    """uint16 samples (H, W, 3) in [0, 2**bits - 1] as an AVIF file of ``bits``, by libavif
    (imagecodecs) alone: no metadata."""
    import imagecodecs

    path.write_bytes(imagecodecs.avif_encode(samples, level=90, bitspersample=bits))
    return path


def mosaic(scene: np.ndarray, sensitivity=SENSITIVITY, noise: float = 0.0, seed: int = 0):
    """The RGGB Bayer mosaic (H, W) uint16 a 12-bit sensor records of a linear ``scene``
    (float (H, W, 3), 1 = the sensor's white), with Poisson-like noise of ``noise`` (the
    standard deviation at full scale) and read noise of a tenth of it."""
    channel = np.zeros(scene.shape[:2], dtype=int)
    channel[0::2, 1::2] = channel[1::2, 0::2] = 1
    channel[1::2, 1::2] = 2
    rows, columns = np.indices(channel.shape)
    light = scene[rows, columns, channel] * np.asarray(sensitivity)[channel]
    if noise:
        rng = np.random.default_rng(seed)
        light = light + rng.normal(0, 1, light.shape) * noise * np.sqrt(light + (noise / 10) ** 2)
    return np.clip(np.round(BLACK + light * (WHITE - BLACK)), 0, WHITE).astype(np.uint16)


def write_dng(
    path: Path,
    scene: np.ndarray,
    sensitivity=SENSITIVITY,
    orientation: int = 1,
    noise: float = 0.0,
    seed: int = 0,
) -> Path:
    """A DNG of the Bayer mosaic of a linear ``scene`` (see ``mosaic``), written with
    tifffile: CFA layout, levels, colour matrix, as-shot white balance, make, model, date and
    orientation."""
    import tifffile

    neutral = [value / max(sensitivity) for value in sensitivity]
    tags = [
        (50706, "B", 4, (1, 4, 0, 0), True),  # DNGVersion
        (50707, "B", 4, (1, 1, 0, 0), True),  # DNGBackwardVersion
        (50708, "s", 0, f"{MAKE} {MODEL}", True),  # UniqueCameraModel
        (33421, "H", 2, (2, 2), True),  # CFARepeatPatternDim
        (33422, "B", 4, (0, 1, 1, 2), True),  # CFAPattern: RGGB
        (50710, "B", 3, (0, 1, 2), True),  # CFAPlaneColor
        (50714, "H", 1, (BLACK,), True),  # BlackLevel
        (50717, "H", 1, (WHITE,), True),  # WhiteLevel
        (50721, "2i", 9, _rationals(np.ravel(_XYZ_TO_LINEAR_SRGB)), True),  # ColorMatrix1
        (50778, "H", 1, (_D65,), True),  # CalibrationIlluminant1
        (50728, "2I", 3, _rationals(neutral), True),  # AsShotNeutral
        (271, "s", 0, MAKE, True),
        (272, "s", 0, MODEL, True),
        (306, "s", 0, TAKEN, True),
        (274, "H", 1, (orientation,), True),
    ]
    raw = mosaic(scene, sensitivity, noise, seed)
    tifffile.imwrite(path, raw, photometric=32803, extratags=tags, metadata=None)
    return path


def _rationals(values) -> list[int]:
    """Numerators and denominators, flattened, as TIFF (S)RATIONAL tags hold them."""
    pairs = [Fraction(float(value)).limit_denominator(10_000) for value in values]
    return [number for pair in pairs for number in (pair.numerator, pair.denominator)]
