"""Global colour modules with hard parameter bounds, and the final saturation boost."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "GlobalColourAffine",
    "EnhancedGlobalColorCorrection",
    "saturation_boost",
    "saturation_boost_factor",
    "apply_saturation_boost",
    "image_saturation",
    "luminance",
]

# Rec. 601 luma weights, used by the vibrance and saturation-boost mixes.
LUMA_WEIGHTS = (0.299, 0.587, 0.114)
# The final boost acts on images whose mean saturation is below this.
BOOST_SATURATION_THRESHOLD = 0.15
# Extra chroma gain at full boost: colour differences are scaled by 1 + this.
BOOST_MAX_GAIN = 1.0


def luminance(rgb: torch.Tensor) -> torch.Tensor:
    """Rec. 601 luma (B, 1, H, W) of a (B, 3, H, W) image."""
    r, g, b = rgb.unbind(dim=1)
    return (LUMA_WEIGHTS[0] * r + LUMA_WEIGHTS[1] * g + LUMA_WEIGHTS[2] * b).unsqueeze(1)


def image_saturation(rgb: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    """Mean HSV saturation ``(max - min) / max`` of each image: (B,) in [0, 1]."""
    high = rgb.amax(dim=1)
    low = rgb.amin(dim=1)
    return ((high - low) / (high + eps)).mean(dim=(1, 2))


def saturation_boost(rgb: torch.Tensor, ceiling: float | None = 1.0) -> torch.Tensor:
    """Smooth saturation boost for washed-out images, computed per image.

    ``boost = clamp(2 * relu(0.15 - s) / 0.15, 0, 1)`` for mean saturation ``s``; colour
    differences from the luma are scaled by ``1 + boost``. An image with ``s >= 0.15`` is left
    unchanged; the gain rises smoothly to 2 as ``s`` falls to 0.075. No branch on tensor values.
    The same as ``apply_saturation_boost(rgb, saturation_boost_factor(rgb), ceiling)``.

    Args:
        rgb: (B, 3, H, W) in [0, 1] (above 1 where ``ceiling`` is None).
        ceiling: the result is clamped to ``[0, ceiling]``; None clamps only at 0 and leaves
            highlights to a later soft shoulder.

    Returns:
        (B, 3, H, W) in [0, ceiling].
    """
    return apply_saturation_boost(rgb, saturation_boost_factor(rgb), ceiling)


def saturation_boost_factor(rgb: torch.Tensor) -> torch.Tensor:
    """The boost ``saturation_boost`` gives each image: (B,) in [0, 1], 0 for none.

    Args:
        rgb: (B, 3, H, W), >= 0.
    """
    saturation = image_saturation(rgb)
    return torch.clamp(
        2.0 * F.relu(BOOST_SATURATION_THRESHOLD - saturation) / BOOST_SATURATION_THRESHOLD, 0.0, 1.0
    )


def apply_saturation_boost(
    rgb: torch.Tensor, boost: torch.Tensor, ceiling: float | None = 1.0
) -> torch.Tensor:
    """Scale each image's colour differences from its luma by ``1 + boost``.

    Args:
        rgb: (B, 3, H, W), >= 0.
        boost: (B,) in [0, 1] (``saturation_boost_factor``).
        ceiling: the result is clamped to ``[0, ceiling]``; None clamps only at 0.

    Returns:
        (B, 3, H, W) in [0, ceiling].
    """
    luma = luminance(rgb)
    scale = 1.0 + BOOST_MAX_GAIN * boost.view(-1, 1, 1, 1)
    return torch.clamp(luma + (rgb - luma) * scale, 0.0, ceiling)


def _clamp_before_forward(module: nn.Module, args: tuple) -> None:
    module.clamp_parameters_()


class GlobalColourAffine(nn.Module):
    """A learned 3x3 colour matrix, held near identity.

    Every entry stays within ``identity +/- identity_clamp``: diagonal in
    [1 - c, 1 + c], off-diagonal in [-c, c]. The bound is re-applied before every forward
    pass and by ``clamp_parameters_()`` (which the trainer calls after each optimiser step),
    so whatever the optimiser does the matrix in use is in range. No white balance of any
    kind is applied: the module behaves the same in training and evaluation.

    Args:
        enable_vibrance: also learn a global chroma gain, held within ``1 +/- identity_clamp``.
        identity_clamp: the half-width of the allowed band around identity.
    """

    def __init__(self, enable_vibrance: bool = False, identity_clamp: float = 0.15) -> None:
        super().__init__()
        self.identity_clamp = identity_clamp
        self.weight = nn.Parameter(torch.eye(3).view(3, 3, 1, 1))
        self.register_buffer("identity", torch.eye(3).view(3, 3, 1, 1), persistent=False)
        self.vibrance = nn.Parameter(torch.ones(1)) if enable_vibrance else None
        self.register_forward_pre_hook(_clamp_before_forward)

    @torch.no_grad()
    def clamp_parameters_(self) -> None:
        """Project the matrix (and vibrance) back into their bands, in place."""
        low = self.identity - self.identity_clamp
        high = self.identity + self.identity_clamp
        self.weight.copy_(torch.clamp(self.weight, min=low, max=high))
        if self.vibrance is not None:
            self.vibrance.clamp_(1.0 - self.identity_clamp, 1.0 + self.identity_clamp)

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) -> (B, 3, H, W); not clamped to [0, 1]."""
        out = F.conv2d(rgb, self.weight)
        if self.vibrance is not None:
            luma = luminance(out)
            out = luma + (out - luma) * self.vibrance
        return out


class EnhancedGlobalColorCorrection(nn.Module):
    """Per-channel gain, offset and gamma, and a global vibrance, all tightly bounded.

    Bounds (re-applied before every forward and after each optimiser step):
    weight in [0.98, 1.02], bias in [-0.01, 0.01], vibrance in [0.98, 1.05] (initialised at 1.2,
    so it starts at the top of its band), channel gamma in [0.95, 1.05].

    Input and output (B, 3, H, W); the output is clamped to ``[0, ceiling]`` (None: only at
    0, leaving highlights to a later soft shoulder).
    """

    WEIGHT_RANGE = (0.98, 1.02)
    BIAS_RANGE = (-0.01, 0.01)
    VIBRANCE_RANGE = (0.98, 1.05)
    VIBRANCE_INIT = 1.2
    GAMMA_RANGE = (0.95, 1.05)

    def __init__(self, ceiling: float | None = 1.0) -> None:
        super().__init__()
        self.ceiling = ceiling
        self.weight = nn.Parameter(torch.ones(1, 3, 1, 1))
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))
        self.vibrance_factor = nn.Parameter(torch.tensor(self.VIBRANCE_INIT))
        self.channel_gamma = nn.Parameter(torch.ones(1, 3, 1, 1))
        self.register_forward_pre_hook(_clamp_before_forward)

    @torch.no_grad()
    def clamp_parameters_(self) -> None:
        """Project every parameter back into its range, in place."""
        self.weight.clamp_(*self.WEIGHT_RANGE)
        self.bias.clamp_(*self.BIAS_RANGE)
        self.vibrance_factor.clamp_(*self.VIBRANCE_RANGE)
        self.channel_gamma.clamp_(*self.GAMMA_RANGE)

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        corrected = (rgb * self.weight + self.bias).clamp(1e-4, self.ceiling)
        corrected = corrected.pow(self.channel_gamma)
        luma = luminance(corrected)
        return torch.clamp(luma + (corrected - luma) * self.vibrance_factor, 0.0, self.ceiling)
