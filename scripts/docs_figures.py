"""Make the documentation's pictures (``docs/images/``) with the shipped models.

    python scripts/docs_figures.py [--data DIR] [--out docs/images] [--weights FILE]

- ``before-after.jpg``: one bundled sample before and after (the README's picture);
- ``samples.jpg``: every bundled sample, inputs above and results below;
- ``controls.jpg``: one sample at exposures of -2 to +2 stops, and at strengths of 0 to 1;
- ``real-dark.jpg``: photos of the data folder's ``real-dark/``: input, default model,
  exposure-aware model;
- ``well-exposed.jpg``: Kodak photos of ``well-exposed/kodak/``, the same three columns.

The model is the shipped default unless ``--weights`` names another; the exposure-aware one is
``weights/lol-v1-exposure.safetensors``. The last two pictures need the data folder
(``$LOWLIGHT_DATA``, else ``shared/data`` beside the repository) and are left out, with a line
saying so, where it is absent. Everything runs in PyTorch on the CPU; the pictures are the same
every time for the same weights.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

import lowlight
from lowlight.imageio.atomic import atomic_path
from lowlight.models import UnifiedLowLightEnhancer

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
BEFORE_AFTER_SAMPLE = "chelsea_dark.png"
CONTROLS_SAMPLE = "astronaut_dark.png"
EXPOSURES = (-2.0, -1.0, 0.0, 1.0, 2.0)
STRENGTHS = (0.0, 0.25, 0.5, 0.75, 1.0)
# Real dark photos from each of real-dark/'s sources and difficulties, and well-exposed ones.
REAL_DARK = (
    "easy_0534.webp",
    "medium_3008.jpg",
    "medium_NPE_71.webp",
    "difficult_1482.webp",
    "difficult_2015_02057.jpg",
    "difficult_NPE_89.webp",
)
KODAK = ("kodim03.webp", "kodim05.webp", "kodim23.webp")
PHOTO_WIDTH = 300  # each photo of the contact sheets, in pixels
LABEL_HEIGHT = 16
JPEG_QUALITY = 88

Cell = tuple[str, np.ndarray]  # a label and an (H, W, 3) uint8 picture


def data_root() -> Path:
    """``$LOWLIGHT_DATA``, else ``shared/data`` beside the repository (it may not exist)."""
    root = os.environ.get("LOWLIGHT_DATA")
    return Path(root) if root else REPO.parent / "shared" / "data"


def read(path: Path) -> np.ndarray:
    """The picture at ``path`` as (H, W, 3) uint8 RGB."""
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def shrink(picture: np.ndarray, width: int) -> np.ndarray:
    """``picture`` scaled to ``width`` pixels wide (never enlarged), aspect kept."""
    height, old_width = picture.shape[:2]
    if old_width <= width:
        return picture
    size = (width, round(height * width / old_width))
    return np.asarray(Image.fromarray(picture).resize(size, Image.Resampling.LANCZOS))


def grid(rows: Sequence[Sequence[Cell]]) -> Image.Image:
    """The cells in rows, each under its label, on white; cells of a row share its height."""
    widths = [max(row[i][1].shape[1] for row in rows) for i in range(len(rows[0]))]
    heights = [LABEL_HEIGHT + max(picture.shape[0] for _, picture in row) for row in rows]
    sheet = Image.new("RGB", (sum(widths), sum(heights)), "white")
    draw = ImageDraw.Draw(sheet)
    top = 0
    for row, height in zip(rows, heights, strict=True):
        left = 0
        for (label, picture), width in zip(row, widths, strict=True):
            draw.text((left + 4, top + 2), label, fill="black")
            sheet.paste(Image.fromarray(picture), (left, top + LABEL_HEIGHT))
            left += width
        top += height
    return sheet


def save(sheet: Image.Image, path: Path) -> None:
    with atomic_path(path) as temporary:
        sheet.save(temporary, format="JPEG", quality=JPEG_QUALITY)
    print(f"wrote {path}")


def sample_figures(model: UnifiedLowLightEnhancer, out: Path) -> None:
    """``before-after.jpg``, ``samples.jpg`` and ``controls.jpg``, from ``samples/``."""
    dark = read(SAMPLES / BEFORE_AFTER_SAMPLE)
    after = lowlight.enhance(dark, model=model)
    save(grid([[("before", dark), ("after", after)]]), out / "before-after.jpg")
    names = sorted(SAMPLES.glob("*.png"))
    inputs = [(path.stem.removesuffix("_dark"), read(path)) for path in names]
    results = [(f"{name}, enhanced", lowlight.enhance(dark, model=model)) for name, dark in inputs]
    save(grid([inputs, results]), out / "samples.jpg")
    source = read(SAMPLES / CONTROLS_SAMPLE)
    exposures = [
        (
            f"exposure {ev:+g}" if ev else "exposure 0",
            lowlight.enhance(source, model=model, exposure=ev),
        )
        for ev in EXPOSURES
    ]
    strengths = [
        (f"strength {s:g}", lowlight.enhance(source, model=model, strength=s)) for s in STRENGTHS
    ]
    save(grid([exposures, strengths]), out / "controls.jpg")


def photo_sheet(
    paths: Sequence[Path],
    model: tuple[str, UnifiedLowLightEnhancer],
    out: Path,
    anchors: Path | None = None,
) -> None:
    """One row per photo: the photo, the model's result and, where ``anchors`` holds a picture
    of the same name, Zero-DCE's; each shrunk to ``PHOTO_WIDTH``."""
    label, network = model
    rows = []
    for path in paths:
        photo = read(path)
        row = [(path.name, shrink(photo, PHOTO_WIDTH))]
        row.append((label, shrink(lowlight.enhance(photo, model=network), PHOTO_WIDTH)))
        anchor = next(anchors.glob(f"{path.stem}.*"), None) if anchors else None
        if anchor is not None:
            row.append(("Zero-DCE", shrink(read(anchor), PHOTO_WIDTH)))
        rows.append(row)
    save(grid(rows), out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=data_root())
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images")
    parser.add_argument("--weights", type=Path, help="default: the shipped model")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    default = lowlight.load_model(args.weights)
    sample_figures(default, args.out)
    label = args.weights.stem if args.weights else "default"
    sheets = {
        "real-dark.jpg": [args.data / "real-dark" / name for name in REAL_DARK],
        "well-exposed.jpg": [args.data / "well-exposed" / "kodak" / name for name in KODAK],
    }
    anchors = {"real-dark.jpg": args.data / "anchors" / "real-dark-zerodce"}
    for name, paths in sheets.items():
        missing = [path for path in paths if not path.is_file()]
        if missing:
            print(f"left out {name}: {missing[0]} not found (pass --data)", file=sys.stderr)
            continue
        photo_sheet(paths, (label, default), args.out / name, anchors.get(name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
