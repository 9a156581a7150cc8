"""The last, per-pixel steps of the enhancer: exposure, a soft highlight shoulder, strength.

Each is a pure function of the pixel (and one number per image), so it commutes with tiling
and behaves identically in training and evaluation.
"""

from __future__ import annotations

import torch
from kornia.color import linear_rgb_to_rgb, rgb_to_linear_rgb

__all__ = ["soft_shoulder", "expose", "blend_strength", "per_image"]


def soft_shoulder(rgb: torch.Tensor, knee: float) -> torch.Tensor:
    """Roll values above ``knee`` smoothly towards 1 instead of clipping them.

    ``x`` for ``x <= knee``, ``knee + (1 - knee) * tanh((x - knee) / (1 - knee))`` above:
    continuous with slope 1 at the knee and below 1 for every finite ``x``, so a channel that
    overshoots keeps its gradations (no flat bands in skies and lamps) and still gets a
    gradient. Values below 0 are clipped to 0.

    Args:
        rgb: (B, 3, H, W), any range.
        knee: in (0, 1): where the roll-off starts.

    Returns:
        (B, 3, H, W) in [0, 1).

    Examples:
        >>> soft_shoulder(torch.tensor([0.5, 0.9, 1.0, 2.0]), knee=0.9)
        tensor([0.5000, 0.9000, 0.9762, 1.0000])
    """
    if not 0.0 < knee < 1.0:
        raise ValueError(f"knee must be in (0, 1), got {knee}")
    room = 1.0 - knee
    rolled = knee + room * torch.tanh((rgb - knee) / room)
    return torch.where(rgb > knee, rolled, rgb).clamp_min(0.0)


def per_image(value: float | torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """A number, or one per image, as a (B, 1, 1, 1) tensor on ``like``'s device and dtype."""
    value = torch.as_tensor(value, dtype=like.dtype, device=like.device)
    if value.ndim > 1 or (value.ndim == 1 and value.numel() not in (1, like.shape[0])):
        raise ValueError(
            f"expected one value or one per image ({like.shape[0]}), got shape {tuple(value.shape)}"
        )
    return value.reshape(-1, 1, 1, 1)


def expose(rgb: torch.Tensor, stops: torch.Tensor) -> torch.Tensor:
    """Scale sRGB-encoded ``rgb`` by ``2 ** stops`` in linear light (+1 doubles the light).

    Args:
        rgb: (B, 3, H, W) sRGB-encoded, >= 0 (values above 1 are extended, not clipped).
        stops: (B, 1, 1, 1) exposure change in stops.

    Returns:
        (B, 3, H, W) sRGB-encoded, >= 0, not clipped.
    """
    linear = rgb_to_linear_rgb(rgb.clamp_min(0.0))
    return linear_rgb_to_rgb(linear * torch.exp2(stops))


def blend_strength(
    original: torch.Tensor, enhanced: torch.Tensor, strength: torch.Tensor
) -> torch.Tensor:
    """``original + strength * (enhanced - original)``: 0 keeps the input, 1 the enhancement.

    Args:
        original: the input, (B, 3, H, W) in [0, 1].
        enhanced: the full enhancement, (B, 3, H, W) in [0, 1].
        strength: (B, 1, 1, 1), clamped to [0, 1].
    """
    return torch.lerp(original, enhanced, strength.clamp(0.0, 1.0))
