"""Zero-DCE's losses that need no target, besides colour constancy and exposure control
(``lowlight.losses.colour``): spatial consistency and illumination smoothness.

Li, Guo, Loy et al., "Zero-Reference Deep Curve Estimation for Low-Light Image Enhancement",
CVPR 2020, Eqs. 3 and 6.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["spatial_consistency_loss", "illumination_smoothness_loss"]


def _region_grey(image: torch.Tensor, region: int) -> torch.Tensor:
    """(B, 3, H, W) -> (B, 1, H // region, W // region): grey level (RGB mean) per region."""
    return F.avg_pool2d(image.mean(dim=1, keepdim=True), region)


def spatial_consistency_loss(
    pred: torch.Tensor, low: torch.Tensor, region: int = 4
) -> torch.Tensor:
    """Zero-DCE's spatial consistency: neighbouring regions keep the contrast they had.

    With ``Y`` and ``I`` the grey levels (RGB means) of ``pred`` and ``low`` averaged over
    ``region`` x ``region`` regions, the mean over regions ``i`` of the sum over their four
    neighbours ``j`` of ``(|Y_i - Y_j| - |I_i - I_j|)^2``; neighbours past the border are left
    out, and pixels past the last whole region are ignored. 0 when ``pred`` is ``low`` plus
    any constant; brightening that stretches contrast pays for it.

    Args:
        pred: (B, 3, H, W) the enhanced image.
        low: (B, 3, H, W) the input it was enhanced from.
        region: side of the regions in pixels (Zero-DCE: 4); H and W at least twice that.

    Returns:
        A scalar >= 0, the mean over the batch.

    Raises:
        ValueError: shapes that differ, or images smaller than two regions a side.

    Examples:
        >>> low = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(0)) * 0.2
        >>> float(spatial_consistency_loss(low + 0.3, low)) < 1e-12
        True
    """
    if pred.shape != low.shape:
        raise ValueError(f"pred and low differ in shape: {tuple(pred.shape)}, {tuple(low.shape)}")
    if min(pred.shape[-2:]) < 2 * region:
        raise ValueError(
            f"images need at least two {region}x{region} regions a side, got "
            f"{tuple(pred.shape[-2:])}"
        )
    enhanced, original = _region_grey(pred, region), _region_grey(low, region)
    total = pred.new_zeros(pred.shape[0])
    for dim in (-2, -1):
        step_enhanced = enhanced.diff(dim=dim).abs()
        step_original = original.diff(dim=dim).abs()
        total = total + (step_enhanced - step_original).square().sum(dim=(1, 2, 3))
    # Each neighbouring pair is a neighbour of both its regions.
    regions = enhanced.shape[-2] * enhanced.shape[-1]
    return (2.0 * total / regions).mean()


def illumination_smoothness_loss(curve_params: torch.Tensor) -> torch.Tensor:
    """Zero-DCE's illumination smoothness: neighbouring pixels get similar curves.

    ``mean((A[y + 1, x] - A[y, x])^2) + mean((A[y, x + 1] - A[y, x])^2)`` over the batch,
    the channels and the pixels of the curve parameter maps ``A``: squared differences, as the
    authors' code computes it, which keeps the curves from changing sharply across edges and
    so keeps their tone smooth.

    Args:
        curve_params: (B, C, H, W) curve parameters (``EnhancerOutput.curve_params``), H and
            W at least 2.

    Returns:
        A scalar >= 0.

    Raises:
        ValueError: not a (B, C, H, W) tensor of at least 2x2.

    Examples:
        >>> ramp = torch.arange(4.0).view(1, 1, 1, 4).expand(1, 1, 3, 4) * 0.1
        >>> round(float(illumination_smoothness_loss(ramp)), 6)  # steps of 0.1 one way
        0.01
    """
    if curve_params.ndim != 4 or min(curve_params.shape[-2:]) < 2:
        raise ValueError(
            f"expected curve parameters (B, C, H, W) of at least 2x2, got "
            f"{tuple(curve_params.shape)}"
        )
    vertical = curve_params.diff(dim=-2).square().mean()
    horizontal = curve_params.diff(dim=-1).square().mean()
    return vertical + horizontal
