"""Scoring an enhancer on a folder of low/high image pairs under the field's LOL protocol."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import nn

from lowlight.data.pairs import ImagePair, find_pairs
from lowlight.errors import LowlightError
from lowlight.imageio import read_rgb
from lowlight.imageio.arrays import from_batch, to_batch
from lowlight.imageio.atomic import atomic_write
from lowlight.imageio.samples import to_samples
from lowlight.metrics import protocol, score_image
from lowlight.training.loss_weights import COLOR_THRESHOLDS

__all__ = ["evaluate_folder", "evaluation_protocol", "METRICS"]

# Side of the SSIM window: smaller images cannot be scored the way the field does.
SSIM_WINDOW = 11
# The per-image scores averaged into the result's "mean".
METRICS = ("psnr", "ssim", "psnr_gt_mean", "ssim_gt_mean", "seconds")


def _output_folder(save_outputs: str | os.PathLike | None, data_dir: Path) -> Path | None:
    """Create the output folder, refusing the data folder and anything inside low/ or high/."""
    if save_outputs is None:
        return None
    folder = Path(save_outputs)
    resolved = folder.resolve()
    data = data_dir.resolve()
    inputs = [data / "low", data / "high"]
    if resolved == data or any(resolved.is_relative_to(side) for side in inputs):
        raise LowlightError(
            f"refusing to write outputs into the input data ({folder}); "
            "pass a separate folder to --save-outputs"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise LowlightError(f"cannot create output folder {folder}: a file is in the way") from exc
    except OSError as exc:
        raise LowlightError(f"cannot create output folder {folder}: {exc.strerror}") from exc
    return folder


def _save_png(image: torch.Tensor, path: Path) -> None:
    """Write a (1, 3, H, W) image in [0, 1] as an 8-bit PNG, atomically."""
    levels = to_samples(from_batch(image), 8)
    try:
        with atomic_write(path) as handle:
            Image.fromarray(levels).save(handle, format="PNG")
    except OSError as exc:
        raise LowlightError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _run_model(
    model: nn.Module | None, low: torch.Tensor, device: torch.device
) -> tuple[torch.Tensor, float]:
    """The enhanced image (1, 3, H, W) and the seconds its forward pass took."""
    if model is None:
        return low, 0.0
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    output = model(low)
    image = output.image if hasattr(output, "image") else output
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return image, time.perf_counter() - start


def _score_pair(
    pair: ImagePair,
    model: nn.Module | None,
    device: torch.device,
    output_dir: Path | None,
) -> dict[str, Any]:
    """Read, enhance and score one pair. Raises ``LowlightError`` for a bad pair."""
    low_rgb = read_rgb(pair.low)
    high_rgb = read_rgb(pair.high)
    if min(low_rgb.shape[:2]) < SSIM_WINDOW:
        raise LowlightError(
            f"{pair.low}: {low_rgb.shape[1]}x{low_rgb.shape[0]} is smaller than the "
            f"{SSIM_WINDOW}x{SSIM_WINDOW} SSIM window"
        )
    if low_rgb.shape != high_rgb.shape:
        raise LowlightError(
            f"{pair.low}: size {low_rgb.shape[1]}x{low_rgb.shape[0]} differs from its reference "
            f"{pair.high} ({high_rgb.shape[1]}x{high_rgb.shape[0]})"
        )
    output, seconds = _run_model(model, to_batch(low_rgb).to(device), device)
    output = output.float().cpu()
    high = to_batch(high_rgb)
    if output_dir is not None:
        _save_png(output, output_dir / f"{pair.name}.png")
    scores = score_image(output, high, COLOR_THRESHOLDS)
    return {"name": pair.name, **dataclasses.asdict(scores), "seconds": seconds}


def evaluation_protocol() -> dict[str, str]:
    """The metric protocol plus how the model is run and timed."""
    return {
        **protocol(),
        "inference": "each full image on its own (batch 1), torch.inference_mode, model in eval "
        "mode; output scored as returned, clamped to [0, 1]",
        "seconds": "wall-clock of the model's forward pass per image, excluding reading and "
        "scoring; the first image includes any warm-up; 0 for the identity baseline",
        "saturation": "mean HSV saturation (max - min) / max of the output; color_flag from "
        "lowlight.metrics.color_flag with lowlight.training.loss_weights.COLOR_THRESHOLDS",
    }


def evaluate_folder(
    model: nn.Module | None,
    data_dir: str | os.PathLike,
    save_outputs: str | os.PathLike | None = None,
    device: str | torch.device = "cpu",
    *,
    on_image: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Score ``model`` on every ``low/``-``high/`` pair of ``data_dir``, one full image at a time.

    Args:
        model: maps (1, 3, H, W) in [0, 1] to an object with ``.image`` (or a tensor) of the same
            shape in [0, 1]; ``None`` scores the low images unchanged (the identity baseline).
            It is moved to ``device`` and run in eval mode; its training mode is restored after.
        data_dir: a folder with ``low/`` and ``high/`` subfolders paired by file name stem.
        save_outputs: a folder (created if needed, never inside the input folders) receiving
            each output as ``NAME.png`` (8-bit, written atomically); ``None`` writes nothing.
        device: where the model runs; scores are computed on the CPU.
        on_image: called with each image's record as soon as it is scored (for progress).

    Returns:
        ``{"images": [{"name", "psnr", "ssim", "psnr_gt_mean", "ssim_gt_mean", "saturation",
        "color_flag", "seconds"}], "mean": {"psnr", "ssim", "psnr_gt_mean", "ssim_gt_mean",
        "seconds"} (None when no pair was scored), "protocol": {...}, "errors": [{"name",
        "message"}]}``. A pair that cannot be read or whose sizes differ is recorded under
        "errors" and the others carry on. PSNR is ``inf`` for an output identical to its target.

    Raises:
        LowlightError: missing folders, no images, unpaired names, or an unusable output folder.
    """
    data_dir = Path(data_dir)
    pairs = find_pairs(data_dir)
    output_dir = _output_folder(save_outputs, data_dir)
    device = torch.device(device)
    was_training = model.training if model is not None else False
    if model is not None:
        model.to(device).eval()
    images: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    try:
        with torch.inference_mode():
            for pair in pairs:
                try:
                    record = _score_pair(pair, model, device, output_dir)
                except LowlightError as exc:
                    errors.append({"name": pair.name, "message": str(exc)})
                    continue
                images.append(record)
                if on_image is not None:
                    on_image(record)
    finally:
        if model is not None:
            model.train(was_training)
    mean = {key: float(np.mean([r[key] for r in images])) if images else None for key in METRICS}
    return {"images": images, "mean": mean, "protocol": evaluation_protocol(), "errors": errors}
