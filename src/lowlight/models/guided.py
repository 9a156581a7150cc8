"""Carrying a coarse map to full resolution along the picture's edges (a fast guided filter)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from kornia.filters import box_blur

from lowlight.models.colour import luminance

__all__ = ["exposure_guide", "guided_upsample"]

# The guide works in stops; this floor (a quarter of an 8-bit level) keeps log2 finite on black.
_GUIDE_FLOOR = 2.0**-10
# Stops per unit of the guide, so that the guide spans about [0, 1] over 8-bit pictures.
_GUIDE_STOPS = 10.0


def exposure_guide(rgb: torch.Tensor) -> torch.Tensor:
    """The guide of ``guided_upsample``: log2 luma in [0, 1], (B, 1, H, W) from (B, 3, H, W).

    In stops, an edge between a dark room and a lit window is as strong whether the picture
    is dark or bright, which is what carrying exposure decisions needs.
    """
    stops = torch.log2(luminance(rgb).clamp_min(0.0) + _GUIDE_FLOOR)
    return 1.0 + stops / _GUIDE_STOPS


def guided_upsample(
    coarse: torch.Tensor,
    coarse_guide: torch.Tensor,
    guide: torch.Tensor,
    radius: int = 2,
    eps: float = 1e-3,
) -> torch.Tensor:
    """Upsample ``coarse`` to ``guide``'s size so that it changes where ``guide`` has edges.

    The fast guided filter (He & Sun 2015; Wu et al. 2018): at the coarse size, each window
    of ``2 * radius + 1`` cells fits ``coarse`` as a linear function of ``coarse_guide``,
    ``a * guide + b``; the window-averaged ``a`` and ``b`` are upsampled bilinearly and
    applied to the full-resolution ``guide``. Where the guide is flat this is a bilinear
    upsampling; across an edge of the guide the result steps with it, so a decision made
    coarsely (how much to lift a dark room) does not spill over the window beside it.

    Args:
        coarse: (B, C, h, w) the map to upsample.
        coarse_guide: (B, 1, h, w) the guide at the coarse size.
        guide: (B, 1, H, W) the guide at the target size.
        radius: the window's radius in coarse cells.
        eps: regularisation: guide variations well below ``sqrt(eps)`` count as flat.

    Returns:
        (B, C, H, W).
    """
    size = (2 * radius + 1, 2 * radius + 1)

    def mean(x: torch.Tensor) -> torch.Tensor:
        return box_blur(x, size, border_type="replicate")

    mean_guide = mean(coarse_guide)
    mean_coarse = mean(coarse)
    covariance = mean(coarse_guide * coarse) - mean_guide * mean_coarse
    variance = mean(coarse_guide * coarse_guide) - mean_guide * mean_guide
    slope = covariance / (variance + eps)
    offset = mean_coarse - slope * mean_guide
    height, width = guide.shape[-2:]
    slope, offset = (
        F.interpolate(mean(t), size=(height, width), mode="bilinear", align_corners=False)
        for t in (slope, offset)
    )
    return slope * guide + offset
