"""Figures of a picture's exposure and colour that need no reference image.

They say whether an enhanced picture is bright enough, blown out, crushed or washed out, next to
NIQE (``lowlight.metrics.niqe``), which says whether it looks natural. Each function takes a batch
(B, 3, H, W) of RGB in [0, 1] and returns one value per image in the input's floating dtype (at
least float32), accumulated in float64 where the device has it. See ``no_reference_protocol()``.
"""

from __future__ import annotations

import torch

from lowlight.metrics.checks import check_image, out_dtype, work_dtype
from lowlight.metrics.image_quality import quantize
from lowlight.models.colour import luminance

__all__ = [
    "mean_grey",
    "clipped_fraction",
    "near_white_fraction",
    "crushed_fraction",
    "colourfulness",
    "no_reference_protocol",
]

# A pixel with any channel at or above this uint8 level is blown out.
CLIPPED_LEVEL = 254
# A pixel with any channel at or above this uint8 level is near white: highlights squeezed
# against the top, clipped or not.
NEAR_WHITE_LEVEL = 250
# A pixel with every channel at or below this uint8 level is crushed to black.
CRUSHED_LEVEL = 2
# Hasler & Suesstrunk's weight of the mean chroma against its spread.
COLOURFULNESS_MEAN_WEIGHT = 0.3


def _levels(image: torch.Tensor) -> torch.Tensor:
    """uint8 levels 0..255 of each channel, as floats in the work dtype."""
    check_image(image)
    return quantize(image.to(work_dtype(image))) * 255.0


def mean_grey(image: torch.Tensor) -> torch.Tensor:
    """Mean Rec. 601 luma (0.299 R + 0.587 G + 0.114 B) of each image.

    Args:
        image: (B, 3, H, W) in [0, 1]; used as given (not rounded).

    Returns:
        (B,) in [0, 1].

    Examples:
        >>> red = torch.zeros(1, 3, 2, 2)
        >>> red[:, 0] = 1.0
        >>> mean_grey(red)
        tensor([0.2990])
    """
    check_image(image)
    return luminance(image.to(work_dtype(image))).mean(dim=(1, 2, 3)).to(out_dtype(image))


def clipped_fraction(image: torch.Tensor) -> torch.Tensor:
    """Share (B,) in [0, 1] of pixels blown out: any channel at uint8 level 254 or 255.

    ``image`` is a (B, 3, H, W) batch in [0, 1], rounded to uint8 levels (``round(x * 255)``)
    first.

    Examples:
        >>> clipped_fraction(torch.tensor([[[[1.0, 0.0]], [[0.0, 0.0]], [[0.0, 0.0]]]]))
        tensor([0.5000])
    """
    return _share_of_pixels((_levels(image) >= CLIPPED_LEVEL).any(dim=1), image)


def near_white_fraction(image: torch.Tensor) -> torch.Tensor:
    """Share (B,) in [0, 1] of pixels near white: any channel at uint8 level 250 or above, in a
    (B, 3, H, W) batch in [0, 1] rounded to uint8 levels first.

    Example:
        >>> near_white_fraction(torch.tensor([[[[0.985, 0.97]], [[0.0, 0.0]], [[0.0, 0.0]]]]))
        tensor([0.5000])
    """
    return _share_of_pixels((_levels(image) >= NEAR_WHITE_LEVEL).any(dim=1), image)


def crushed_fraction(image: torch.Tensor) -> torch.Tensor:
    """Share (B,) in [0, 1] of pixels crushed to black: every channel at uint8 level 2 or
    below, in a (B, 3, H, W) batch in [0, 1] rounded to uint8 levels first.

    Examples:
        >>> crushed_fraction(torch.zeros(2, 3, 4, 4))
        tensor([1., 1.])
    """
    return _share_of_pixels((_levels(image) <= CRUSHED_LEVEL).all(dim=1), image)


def _share_of_pixels(flags: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
    """The mean of (B, H, W) boolean ``flags`` per image, in ``image``'s output dtype."""
    return flags.to(work_dtype(image)).mean(dim=(1, 2)).to(out_dtype(image))


def colourfulness(image: torch.Tensor) -> torch.Tensor:
    """Colourfulness of Hasler & Suesstrunk (2003), on the 0-255 scale.

    With ``rg = R - G`` and ``yb = (R + G) / 2 - B`` over all pixels (0-255 values),
    ``M = sqrt(std(rg)^2 + std(yb)^2) + 0.3 * sqrt(mean(rg)^2 + mean(yb)^2)`` with population
    standard deviations. Grey pictures score 0; the authors call about 15 slightly, 33
    moderately, 59 quite and 82 highly colourful.

    Args:
        image: (B, 3, H, W) in [0, 1]; used as given (not rounded).

    Returns:
        (B,) >= 0.

    Examples:
        >>> colourfulness(torch.full((1, 3, 4, 4), 0.5))
        tensor([0.])
    """
    check_image(image)
    rgb = image.to(work_dtype(image)) * 255.0
    red, green, blue = rgb.unbind(dim=1)
    opponents = torch.stack([red - green, 0.5 * (red + green) - blue], dim=1).flatten(2)
    spread = opponents.var(dim=2, correction=0).sum(dim=1).sqrt()
    centre = opponents.mean(dim=2).square().sum(dim=1).sqrt()
    return (spread + COLOURFULNESS_MEAN_WEIGHT * centre).to(out_dtype(image))


def no_reference_protocol() -> dict[str, str]:
    """How the no-reference figures are computed, to store next to every result."""
    return {
        "niqe": "NIQE (Mittal, Soundararajan, Bovik 2013) with the authors' pristine model, as "
        "pyiqa's niqe: Y of YIQ (Rec. 601 luma) of RGB scaled to 0-255 and rounded, no border "
        "crop, 96x96 blocks at full and half scale (MATLAB bicubic with antialiasing), worked "
        "through in strips of 768 rows with 16 rows of context (the whole picture's score, "
        "bounded memory); lower is better; NaN (null in JSON) for a flat image",
        "mean_grey": "mean Rec. 601 luma (0.299 R + 0.587 G + 0.114 B) in [0, 1]",
        "clipped": f"share of pixels with any channel >= {CLIPPED_LEVEL} of 255 "
        "(uint8 levels round(x*255))",
        "near_white": f"share of pixels with any channel >= {NEAR_WHITE_LEVEL} of 255 "
        "(uint8 levels round(x*255))",
        "crushed": f"share of pixels with all channels <= {CRUSHED_LEVEL} of 255 "
        "(uint8 levels round(x*255))",
        "colourfulness": "Hasler & Suesstrunk 2003 on 0-255 RGB: sqrt(var(rg) + var(yb)) "
        "+ 0.3 * sqrt(mean(rg)^2 + mean(yb)^2), rg = R - G, yb = (R + G) / 2 - B, "
        "population variances",
        "mean": "arithmetic mean over images; NIQE's over the images that have one (not flat)",
    }
