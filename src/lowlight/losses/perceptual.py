"""Perceptual loss: VGG16 features from a local weights file, or a weight-free fallback.

Supplying VGG weights: save torchvision's ImageNet VGG16 state dict once, on a machine that
has it (``torch.save(torchvision.models.vgg16(weights="DEFAULT").state_dict(), "vgg16.pth")``
or as ``.safetensors``), then point ``perceptual_weights`` in the training config, or the
``LOWLIGHT_VGG_WEIGHTS`` environment variable, at the file. Nothing is ever downloaded.
Without a file the term is ``multiscale_structural_loss``; the trainer logs and saves which.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from lowlight.errors import LowlightError
from lowlight.losses.pixel import ssim_loss

__all__ = ["PerceptualLoss", "multiscale_structural_loss", "VGG_WEIGHTS_ENV"]

VGG_WEIGHTS_ENV = "LOWLIGHT_VGG_WEIGHTS"
"""The environment variable naming a local VGG16 weights file for the perceptual term, when the
config's ``perceptual_weights`` does not."""
# VGG16 ``features`` up to relu3_3; "M" is a 2x2 max-pool.
_VGG16_LAYERS = (64, 64, "M", 128, 128, "M", 256, 256, 256)
# Indices (in torchvision's ``features``) of relu1_2, relu2_2 and relu3_3.
_FEATURE_TAPS = (3, 8, 15)
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


def multiscale_structural_loss(
    pred: torch.Tensor, target: torch.Tensor, scales: int = 3
) -> torch.Tensor:
    """Mean of ``1 - SSIM`` at full, 1/2 and 1/4 resolution (weight-free perceptual proxy).

    Coarser scales are skipped once the image is smaller than the 11-pixel SSIM window.
    """
    losses = []
    for _ in range(scales):
        if min(pred.shape[-2:]) < 11:
            break
        losses.append(ssim_loss(pred, target))
        pred, target = F.avg_pool2d(pred, 2), F.avg_pool2d(target, 2)
    if not losses:
        raise ValueError(f"images of {tuple(pred.shape[-2:])} are too small for SSIM (11x11)")
    return torch.stack(losses).mean()


def _vgg16_features() -> nn.Sequential:
    layers: list[nn.Module] = []
    channels = 3
    for spec in _VGG16_LAYERS:
        if spec == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            layers += [nn.Conv2d(channels, int(spec), 3, padding=1), nn.ReLU(inplace=False)]
            channels = int(spec)
    return nn.Sequential(*layers)


def _load_state(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise LowlightError(f"VGG16 weights not found: {path} (see lowlight.losses.perceptual)")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # any failure to parse the file is the user's to fix
        raise LowlightError(f"cannot load VGG16 weights from {path}: {exc}") from exc


class PerceptualLoss(nn.Module):
    """L1 distance between VGG16 relu1_2/relu2_2/relu3_3 features, or the weight-free fallback.

    Args:
        weights_path: VGG16 state dict (torchvision key names, ``features.N.*``); when None,
            the ``LOWLIGHT_VGG_WEIGHTS`` environment variable is tried, then the fallback.

    Attributes:
        kind: ``"vgg16"`` or ``"multiscale_structural"``, for logs and saved configs.
    """

    def __init__(self, weights_path: str | os.PathLike | None = None) -> None:
        super().__init__()
        path = weights_path or os.environ.get(VGG_WEIGHTS_ENV) or None
        self.features: nn.Sequential | None = None
        self.kind = "multiscale_structural"
        if path is not None:
            state = _load_state(Path(path))
            state = {k.removeprefix("features."): v for k, v in state.items()}
            features = _vgg16_features()
            wanted = features.state_dict().keys()
            try:
                features.load_state_dict({k: state[k] for k in wanted})
            except KeyError as exc:
                raise LowlightError(f"{path} lacks VGG16 layer {exc}") from exc
            features.requires_grad_(False).eval()
            self.features = features
            self.kind = "vgg16"
            self.register_buffer("mean", torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1))
            self.register_buffer("std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1))

    def _taps(self, rgb: torch.Tensor) -> list[torch.Tensor]:
        x = (rgb - self.mean) / self.std
        taps = []
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index in _FEATURE_TAPS:
                taps.append(x)
        return taps

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.features is None:
            return multiscale_structural_loss(pred, target)
        with torch.no_grad():
            target_taps = self._taps(target)
        return torch.stack(
            [F.l1_loss(p, t) for p, t in zip(self._taps(pred), target_taps, strict=True)]
        ).mean()
