"""Make the small dark, noisy sample images in ``samples/`` from scikit-image's free pictures.

Each picture is shrunk, taken to linear light, under-exposed by a seeded factor between 1/15
and 1/30, given sensor noise (Poisson shot noise on the photo-electrons, Gaussian read noise)
and turned back into 8-bit sRGB, as a short exposure from a small sensor would look::

    python scripts/make_samples.py            # writes samples/*.png and samples/README.md

The output is the same on every run (fixed seeds). Needs scikit-image (a test dependency).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from lowlight.imageio.atomic import atomic_write

REPO_ROOT = Path(__file__).resolve().parents[1]
SEED = 20240611
# Longest side of a sample: small enough that five noisy PNGs stay well under 1 MB.
LONG_SIDE = 320
# Photo-electrons a pixel collects at full (well-exposed) white: the noise level of a small
# sensor at high ISO once the exposure is cut.
FULL_WELL_ELECTRONS = 3000.0
READ_NOISE_ELECTRONS = 2.5
EXPOSURE_RANGE = (1 / 30, 1 / 15)


@dataclass(frozen=True)
class Source:
    """A picture from ``skimage.data`` and what its docstring says about its licence."""

    name: str
    description: str
    credit: str
    licence: str


SOURCES = (
    Source("astronaut", "astronaut Eileen Collins", "NASA Great Images database", "public domain"),
    Source("coffee", "a cup of coffee", "Rachel Michetti", "CC0"),
    Source("chelsea", "Chelsea the cat", "Stefan van der Walt", "CC0"),
    Source("rocket", "a SpaceX rocket launch", "SpaceX", "public domain"),
    Source("camera", "a photographer with a camera (greyscale)", "Lav Varshney", "CC0"),
)


def srgb_to_linear(srgb: np.ndarray) -> np.ndarray:
    """The sRGB transfer function inverted: encoded values in [0, 1] to linear light."""
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    """Linear light in [0, 1] to sRGB-encoded values in [0, 1]."""
    linear = np.clip(linear, 0.0, 1.0)
    return np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)


def darken(picture: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """A dark, noisy uint8 version of a uint8 picture, and the exposure factor used.

    Args:
        picture: uint8 (H, W) or (H, W, 3), sRGB.
        rng: the source of the exposure factor and the noise.
    """
    exposure = float(np.exp(rng.uniform(*np.log(EXPOSURE_RANGE))))
    linear = srgb_to_linear(picture.astype(np.float64) / 255.0)
    electrons = rng.poisson(linear * exposure * FULL_WELL_ELECTRONS).astype(np.float64)
    electrons += rng.normal(0.0, READ_NOISE_ELECTRONS, electrons.shape)
    dark = linear_to_srgb(electrons / FULL_WELL_ELECTRONS)
    return np.round(dark * 255.0).astype(np.uint8), exposure


def shrink(picture: np.ndarray, long_side: int) -> np.ndarray:
    """Downscale (Lanczos) so that the longer side is at most ``long_side``."""
    image = Image.fromarray(picture)
    scale = long_side / max(image.size)
    if scale < 1:
        size = (round(image.width * scale), round(image.height * scale))
        image = image.resize(size, Image.Resampling.LANCZOS)
    return np.asarray(image)


def readme(rows: list[tuple[Source, str, float]]) -> str:
    lines = [
        "# Sample low-light images",
        "",
        "Small dark, noisy images for trying `lowlight enhance` and for tests, made by",
        "`scripts/make_samples.py` (run it again to rebuild them; the output is the same every",
        "time). Each is a picture shipped in scikit-image's `skimage.data`, shrunk to at most",
        f"{LONG_SIDE} px on its long side, converted to linear light, under-exposed by the factor",
        "shown, given Poisson shot noise (full white = "
        f"{FULL_WELL_ELECTRONS:.0f} photo-electrons) and Gaussian read noise",
        f"({READ_NOISE_ELECTRONS} electrons), and re-encoded as 8-bit sRGB PNG.",
        "",
        "| file | picture | `skimage.data` | by | licence | exposure |",
        "|---|---|---|---|---|---|",
    ]
    for source, file_name, exposure in rows:
        lines.append(
            f"| {file_name} | {source.description} | `{source.name}()` | {source.credit} "
            f"| {source.licence} | 1/{1 / exposure:.0f} |"
        )
    lines += [
        "",
        "The licences are as stated in the `skimage.data` docstrings: no known copyright",
        "restrictions (public domain) or CC0. The darkened versions here are released under",
        "CC0 as well.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "samples", help="output folder")
    args = parser.parse_args(argv)

    import skimage.data  # a test dependency, needed only here

    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for index, source in enumerate(SOURCES):
        rng = np.random.default_rng([SEED, index])
        picture = shrink(getattr(skimage.data, source.name)(), LONG_SIDE)
        dark, exposure = darken(picture, rng)
        file_name = f"{source.name}_dark.png"
        with atomic_write(args.out / file_name) as handle:
            Image.fromarray(dark).save(handle, format="PNG", optimize=True)
        rows.append((source, file_name, exposure))
        print(f"{file_name}: {dark.shape[1]}x{dark.shape[0]}, exposure 1/{1 / exposure:.0f}")
    with atomic_write(args.out / "README.md") as handle:
        handle.write(readme(rows).encode("utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
