"""Zero-DCE light-enhancement curves, estimated cheaply at reduced resolution."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from lowlight.models.guided import exposure_guide, guided_upsample

__all__ = ["ImprovedCurveEstimator", "apply_curves"]


def apply_curves(rgb: torch.Tensor, curve_params: torch.Tensor, iterations: int) -> torch.Tensor:
    """Iterate the Zero-DCE curve ``x <- x + alpha * x * (1 - x)`` on RGB.

    Args:
        rgb: (B, 3, H, W) in [0, 1].
        curve_params: (B, 3, H, W) alphas in [-1, 1], shared by every iteration.
        iterations: how many times the curve is applied.

    Returns:
        (B, 3, H, W) in [0, 1] (the curve maps [0, 1] onto itself for |alpha| <= 1).
    """
    enhanced = rgb
    for _ in range(iterations):
        enhanced = enhanced + curve_params * enhanced * (1.0 - enhanced)
    return enhanced


class _SeparableConv(nn.Sequential):
    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(
            nn.Conv2d(in_channels, in_channels, 3, padding=1, groups=in_channels),
            nn.Conv2d(in_channels, out_channels, 1),
        )


class ImprovedCurveEstimator(nn.Module):
    """Estimates per-pixel curve parameters from RGB + SNR and brightens the RGB channels.

    As in Zero-DCE++, the parameters are estimated on an image ``scale`` times smaller and
    upsampled, so the cost barely grows with image size. A global-average branch lets every
    pixel's curve depend on the exposure of the whole (crop of the) image. The SNR channel
    guides the estimate but is never itself passed through the curve.

    With ``scene_channels`` the estimate also takes another network's features of the
    picture (the decoder's bottleneck, at half this estimator's resolution), added to its own
    through a 1x1 convolution that starts at zero: how bright a scene should be depends on
    what it shows, which a network this small cannot see by itself.

    With ``curves`` 1 one curve per pixel serves R, G and B alike: the curves then set the
    tone and keep the input's colour balance, leaving colour to another branch; with 3 (as in
    Zero-DCE) each channel has its own.

    With ``guided`` the coarse parameters are carried to full resolution by a guided filter
    on the input's log luma (``guided_upsample``) instead of bilinearly: a dark room and the
    lit window in it get their own curves right up to the window's frame, with no halo of
    one's lift over the other. The parameters stay in [-1, 1], so the curves stay monotone and
    bounded.

    Args:
        width: feature channels of the estimator.
        iterations: curve iterations (Zero-DCE uses 8).
        scale: downsampling factor for the estimate.
        scene_channels: channels of the scene features ``forward`` is given, or None.
        curves: 3 (one per channel) or 1 (shared).
        guided: upsample the parameters along the input's edges (see above).
    """

    def __init__(
        self,
        width: int = 24,
        iterations: int = 8,
        scale: int = 4,
        scene_channels: int | None = None,
        curves: int = 3,
        guided: bool = False,
    ) -> None:
        super().__init__()
        self.iterations = iterations
        self.guided = guided
        self.scale = scale
        self.stem = nn.Conv2d(4, width, 3, padding=1)
        self.scene = None
        if scene_channels is not None:
            self.scene = nn.Conv2d(scene_channels, width, 1)
            nn.init.zeros_(self.scene.weight)
            nn.init.zeros_(self.scene.bias)
        self.body = nn.ModuleList([_SeparableConv(width, width) for _ in range(3)])
        self.global_context = nn.Sequential(nn.Linear(width, width), nn.ReLU(inplace=True))
        if curves not in (1, 3):
            raise ValueError(f"curves must be 1 (shared) or 3 (one per channel), got {curves}")
        self.head = _SeparableConv(2 * width, curves)

    def estimate(self, rgb_snr: torch.Tensor, scene: torch.Tensor | None = None) -> torch.Tensor:
        """Curve parameters (B, 3, H, W) in [-1, 1] from the (B, 4, H, W) input, H, W >= scale.

        ``scene``: (B, scene_channels, h, w) features, resized to the estimate's grid; only
        with ``scene_channels``.
        """
        height, width = rgb_snr.shape[-2:]
        small = F.interpolate(
            rgb_snr, size=(height // self.scale, width // self.scale), mode="area"
        )
        features = F.relu(self.stem(small))
        if self.scene is not None:
            if scene is None:
                raise ValueError("this estimator was built to take scene features")
            view = F.interpolate(scene, size=small.shape[-2:], mode="bilinear", align_corners=False)
            features = features + self.scene(view)
        for layer in self.body:
            features = F.relu(layer(features)) + features
        context = self.global_context(features.mean(dim=(2, 3)))[:, :, None, None]
        context = context.expand_as(features)
        params = torch.tanh(self.head(torch.cat([features, context], dim=1)))
        if self.guided:
            guide = exposure_guide(rgb_snr[:, :3])
            params = guided_upsample(params, exposure_guide(small[:, :3]), guide).clamp(-1.0, 1.0)
        else:
            params = F.interpolate(
                params, size=(height, width), mode="bilinear", align_corners=False
            )
        return params.expand(-1, 3, -1, -1)

    def forward(
        self, rgb_snr: torch.Tensor, scene: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns ``(curve_image, curve_params)``, both (B, 3, H, W); see ``estimate``."""
        curve_params = self.estimate(rgb_snr, scene)
        curve_image = apply_curves(rgb_snr[:, :3], curve_params, self.iterations)
        return curve_image, curve_params
