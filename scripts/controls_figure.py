"""Render one sample at several exposure and strength settings, side by side, for the README.

    python scripts/controls_figure.py [--sample samples/astronaut_dark.png]
        [--weights FILE] [--out docs/images/controls.jpg]

Panels, left to right: the input, then ``lowlight.enhance`` at exposure -1, 0 and +1 stop
(strength 1), then strength 0.5 (exposure 0). The same every time for the same weights.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

import lowlight

REPO = Path(__file__).resolve().parents[1]
PANELS = (
    ("input", None),
    ("exposure -1", {"exposure": -1.0}),
    ("exposure 0, strength 1", {}),
    ("exposure +1", {"exposure": 1.0}),
    ("strength 0.5", {"strength": 0.5}),
)
LABEL_HEIGHT = 16


def render(sample: Path, weights: Path | None) -> Image.Image:
    """The labelled strip of panels for ``sample``."""
    model = lowlight.load_model(weights)
    source = np.asarray(Image.open(sample).convert("RGB"))
    height, width = source.shape[:2]
    strip = Image.new("RGB", (width * len(PANELS), height + LABEL_HEIGHT), "white")
    draw = ImageDraw.Draw(strip)
    for index, (label, controls) in enumerate(PANELS):
        picture = source if controls is None else lowlight.enhance(source, model=model, **controls)
        strip.paste(Image.fromarray(picture), (index * width, LABEL_HEIGHT))
        draw.text((index * width + 4, 2), label, fill="black")
    return strip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=Path, default=REPO / "samples" / "astronaut_dark.png")
    parser.add_argument("--weights", type=Path, help="default: the shipped model")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images" / "controls.jpg")
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    render(args.sample, args.weights).save(args.out, quality=90)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
