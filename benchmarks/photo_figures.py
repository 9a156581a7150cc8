"""How the real-photo benchmarks score one picture: NIQE, mean grey, clipped, near-white and
crushed shares of the 8-bit result, and its brightness group by the input's mean grey."""

from __future__ import annotations

import torch

from lowlight.metrics import (
    clipped_fraction,
    crushed_fraction,
    mean_grey,
    near_white_fraction,
    niqe,
)


def group_of(grey: float) -> str:
    """The brightness group of a picture by its mean grey (the input's, never the result's)."""
    return "dark" if grey < 0.15 else "mid" if grey <= 0.30 else "bright"


def figures(image: torch.Tensor) -> dict[str, float]:
    """NIQE, mean grey and the clipped, near-white and crushed shares of a (1, 3, H, W) image
    in [0, 1], rounded to 8 bits first as a saved result would be."""
    quantised = torch.round(image.clamp(0.0, 1.0) * 255.0) / 255.0
    return {
        "niqe": float(niqe(quantised)),
        "grey": float(mean_grey(quantised)),
        "clipped": float(clipped_fraction(quantised)),
        "near_white": float(near_white_fraction(quantised)),
        "crushed": float(crushed_fraction(quantised)),
    }
