"""Pictures for the Ray engine's tests: dark samples, a folder of mixed sizes and formats, and
fingerprints of folders to compare byte for byte."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms

from lowlight.imageio import ImageData, write_image

MAKE = 271  # EXIF tag


def dark(shape: tuple[int, ...], seed: int, dtype=np.uint8) -> np.ndarray:
    """Dark noisy samples of ``shape`` (below 15% of the range)."""
    peak = np.iinfo(dtype).max
    values = np.random.default_rng(seed).uniform(0, 0.15, shape)
    return np.round(values * peak).astype(dtype)


def write_mixed_photos(root: Path) -> Path:
    """``root`` with pictures of six sizes in PNG (8-bit, 16-bit with alpha, palette), JPEG
    (greyscale, with EXIF), TIFF (16-bit, with an ICC profile) and WebP, in two folders."""
    (root / "sub").mkdir(parents=True)
    Image.fromarray(dark((40, 60, 3), 1)).save(root / "a.png")
    exif = Image.Exif()
    exif[MAKE] = "LowlightCam"
    Image.fromarray(dark((123, 77), 2)).save(root / "sub" / "b.jpg", exif=exif.tobytes())
    rgba = dark((48, 64, 4), 3, np.uint16) / np.float32(65535)
    alpha = rgba[..., 3] + 0.5
    write_image(
        root / "sub" / "c.png",
        ImageData(rgb=rgba[..., :3], alpha=alpha, bit_depth=16, mode="RGBA"),
    )
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    rgb16 = dark((31, 45, 3), 4, np.uint16) / np.float32(65535)
    write_image(root / "d.tif", ImageData(rgb=rgb16, bit_depth=16, icc_profile=profile))
    Image.fromarray(dark((90, 120, 3), 5)).save(root / "e.webp", quality=90)
    Image.fromarray(dark((50, 50, 3), 6)).convert("P").save(root / "sub" / "f.png")
    return root


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file below ``folder`` (hidden ones too) and the SHA-256 of its bytes."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }
