"""Validation during training on pairs: each validation image scored, the scores reduced over
ranks, and which epoch is best (the highest PSNR)."""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import AbstractContextManager

import torch
from torch.utils.data import Dataset

from lowlight.data import PairedImageDataset
from lowlight.metrics import score_image
from lowlight.models import EnhancerOutput, UnifiedLowLightEnhancer
from lowlight.training.distributed import DistributedContext
from lowlight.training.loss_weights import COLOR_THRESHOLDS

__all__ = ["Validation", "PairedValidation", "validate", "mixed_precision", "float_output"]

# The scores averaged over the validation images, each kept as ``val_<name>``.
AVERAGED = ("psnr", "psnr_gt_mean", "saturation", "ssim")


def mixed_precision(device: torch.device) -> AbstractContextManager:
    """bfloat16 autocast on CUDA, a no-op elsewhere: how training runs the model."""
    return torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda")


def float_output(output: EnhancerOutput) -> EnhancerOutput:
    """``output`` with every tensor in float32 (a no-op outside mixed precision)."""
    for name, value in vars(output).items():
        setattr(output, name, value.float())
    return output


@torch.no_grad()
def validate(
    model: UnifiedLowLightEnhancer,
    images: PairedImageDataset,
    dist: DistributedContext,
    device: torch.device,
) -> dict:
    """PSNR, SSIM, GT-mean PSNR, saturation and colour flags over the validation images.

    GT-mean PSNR (each output scaled to its target's mean grey level) separates structure
    from overall brightness, which on small datasets drifts between epochs. Each image is
    scored by ``lowlight.metrics.score_image``, as ``lowlight evaluate`` scores it.

    Each rank scores its share of the images; sums and counts are reduced over ranks. An
    output that is not finite is skipped and counted.

    Returns:
        ``val_psnr``, ``val_psnr_gt_mean``, ``val_saturation``, ``val_ssim`` (means; NaN when
        nothing was scored), ``val_low_color``, ``val_critical_color``, ``val_skipped``.
    """
    model.eval()
    scores: dict[str, list[float]] = {name: [] for name in AVERAGED}
    flags = {"LOW_COLOR": 0, "CRITICAL_COLOR": 0}
    skipped = 0
    for index in range(dist.rank, len(images), dist.world_size):
        _, low, high = images[index]
        with mixed_precision(device):
            image = model(low[None].to(device)).image.float()
        if not torch.isfinite(image).all():
            skipped += 1
            continue
        target = high[None].to(device)
        scored = score_image(image, target, COLOR_THRESHOLDS, gt_mean_ssim=False)
        for name, values in scores.items():
            values.append(getattr(scored, name))
        if scored.color_flag in flags:
            flags[scored.color_flag] += 1
    local = [sum(scores[name]) for name in AVERAGED]
    local += [len(scores["psnr"]), flags["LOW_COLOR"], flags["CRITICAL_COLOR"], skipped]
    *totals, count, low_color, critical_color, skipped = dist.sum(local, device)
    means = {
        f"val_{name}": (total / count if count else math.nan)
        for name, total in zip(AVERAGED, totals, strict=True)
    }
    return {
        **means,
        "val_low_color": int(low_color),
        "val_critical_color": int(critical_color),
        "val_skipped": int(skipped),
    }


class Validation:
    """Scores the kept weights after every epoch and ranks the epochs by it.

    A subclass says how: ``validate(model, images, dist, device)`` gives the epoch's
    ``val_`` figures, ``rank(row)`` a tuple (higher is better, None when nothing was
    scored), ``describe(row)`` the figures in words and ``label_keys`` the figures
    ``best.safetensors`` records.

    Args:
        images: the validation images, each scored whole.
    """

    validate: Callable[..., dict]
    rank: Callable[[dict], tuple[float, ...] | None]
    describe: Callable[[dict], str]
    label_keys: tuple[str, ...]

    def __init__(self, images: Dataset) -> None:
        self.images = images

    def score(
        self, model: UnifiedLowLightEnhancer, dist: DistributedContext, device: torch.device
    ) -> dict:
        return self.validate(model, self.images, dist, device)

    def summary(self, row: dict) -> str:
        """The validation part of an epoch's log line; says so when nothing was scored."""
        return "no validation scores" if self.rank(row) is None else self.describe(row)

    def labels(self, row: dict) -> dict[str, float]:
        """What ``best.safetensors`` records of its epoch: the ``label_keys`` figures."""
        return {key: row[key] for key in self.label_keys}


class PairedValidation(Validation):
    """Validation on whole image pairs (``validate``); the best epoch has the highest PSNR."""

    validate = staticmethod(validate)
    label_keys = ("val_psnr", "val_ssim")

    @staticmethod
    def rank(row: dict) -> tuple[float] | None:
        """Higher is better; None when nothing was scored."""
        return None if math.isnan(row["val_psnr"]) else (row["val_psnr"],)

    @staticmethod
    def describe(row: dict) -> str:
        return (
            f"val PSNR {row['val_psnr']:.2f} dB (GT-mean {row['val_psnr_gt_mean']:.2f}), "
            f"SSIM {row['val_ssim']:.4f}, saturation {row['val_saturation']:.3f}, "
            f"low/critical colour {row['val_low_color']}/{row['val_critical_color']}"
        )
