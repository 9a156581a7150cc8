"""Scoring an enhancer on a folder of low/high image pairs under the field's LOL protocol, or on
a folder of photos without references with the no-reference figures (NIQE and others)."""

from __future__ import annotations

import dataclasses
import os
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import nn

from lowlight.data.pairs import ImagePair, find_pairs
from lowlight.data.photos import Photo, find_photos
from lowlight.errors import LowlightError
from lowlight.imageio import read_rgb
from lowlight.imageio.arrays import from_batch, to_batch
from lowlight.imageio.atomic import atomic_write
from lowlight.imageio.samples import to_samples
from lowlight.inference import AUTO_FAST_RATIO, AUTO_TILE_PIXELS, WORKING_SIZE, enhance_tensor
from lowlight.metrics import no_reference_protocol, protocol, score_image, score_no_reference
from lowlight.metrics.niqe import NIQE_BLOCK
from lowlight.training.loss_weights import COLOR_THRESHOLDS

__all__ = [
    "evaluate_folder",
    "evaluation_protocol",
    "no_reference_evaluation_protocol",
    "METRICS",
    "NO_REFERENCE_METRICS",
]

# Side of the SSIM window: smaller images cannot be scored the way the field does.
SSIM_WINDOW = 11
METRICS = ("psnr", "ssim", "psnr_gt_mean", "ssim_gt_mean", "seconds")
"""The per-image scores averaged into the result's "mean"."""
NO_REFERENCE_METRICS = ("niqe", "mean_grey", "clipped", "crushed", "colourfulness", "seconds")
"""The per-image figures of ``--no-reference`` averaged into the result's "mean" (a photo
without a NIQE, a flat one, is left out of its mean)."""


def _output_folder(
    save_outputs: str | os.PathLike | None, data_dir: Path, inputs: list[Path]
) -> Path | None:
    """Create the output folder, refusing the data folder and anything inside ``inputs``."""
    if save_outputs is None:
        return None
    folder = Path(save_outputs)
    resolved = folder.resolve()
    data = data_dir.resolve()
    if resolved == data or any(resolved.is_relative_to(side.resolve()) for side in inputs):
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
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path) as handle:
            Image.fromarray(levels).save(handle, format="PNG")
    except OSError as exc:
        raise LowlightError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _run_model(
    model: nn.Module | None, low: torch.Tensor, device: torch.device, tiled: bool = False
) -> tuple[torch.Tensor, float]:
    """The enhanced image (1, 3, H, W) and the seconds enhancing it took.

    ``tiled`` enhances as ``lowlight enhance --quality full`` does (``enhance_tensor``:
    every pixel through the network, tiles above ``AUTO_TILE_PIXELS``); otherwise the model
    runs once on the whole image.
    """
    if model is None:
        return low, 0.0
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    if tiled:
        image = enhance_tensor(model, low, quality="full")
    else:
        output = model(low.to(device))
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
    output, seconds = _run_model(model, to_batch(low_rgb), device)
    output = output.float().cpu()
    high = to_batch(high_rgb)
    if output_dir is not None:
        _save_png(output, output_dir / f"{pair.name}.png")
    scores = score_image(output, high, COLOR_THRESHOLDS)
    return {"name": pair.name, **dataclasses.asdict(scores), "seconds": seconds}


def _score_photo(
    photo: Photo, model: nn.Module | None, device: torch.device, output_dir: Path | None
) -> dict[str, Any]:
    """Read, enhance and score one photo. Raises ``LowlightError`` for a bad photo."""
    rgb = read_rgb(photo.path)
    if min(rgb.shape[:2]) < NIQE_BLOCK:
        raise LowlightError(
            f"{photo.path}: {rgb.shape[1]}x{rgb.shape[0]} is smaller than NIQE's "
            f"{NIQE_BLOCK}x{NIQE_BLOCK} block"
        )
    output, seconds = _run_model(model, to_batch(rgb), device, tiled=True)
    output = output.float().cpu()
    if output_dir is not None:
        _save_png(output, output_dir / _png_name(photo))
    scores = score_no_reference(output)
    return {"name": photo.name, **dataclasses.asdict(scores), "seconds": seconds}


def _png_name(photo: Photo) -> Path:
    """Where a photo's output goes below the output folder: its name, as PNG."""
    return Path(photo.name).with_suffix(".png")


def _check_png_names(photos: list[Photo]) -> None:
    """Refuse photos whose outputs would share a name (``a.jpg`` and ``a.webp``)."""
    counts = Counter(_png_name(photo) for photo in photos)
    shared = sorted(str(name) for name, count in counts.items() if count > 1)
    if shared:
        raise LowlightError(
            f"several photos would be saved as {', '.join(shared)}; rename them or save the "
            "outputs of some of them elsewhere"
        )


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


def no_reference_evaluation_protocol() -> dict[str, str]:
    """The no-reference figures' protocol plus how the model is run and timed."""
    megapixels = AUTO_TILE_PIXELS / 1e6
    return {
        **no_reference_protocol(),
        "inference": "each photo as lowlight enhance --quality full enhances it: whole (batch 1) "
        f"up to {megapixels:.1f} megapixels, in overlapping tiles above; photos longer than "
        f"{AUTO_FAST_RATIO * WORKING_SIZE:.0f} pixels (and tiled ones) toned by a pass over the "
        f"photo reduced to {WORKING_SIZE} pixels; torch.inference_mode, model in eval mode; "
        "output scored as returned",
        "seconds": "wall-clock of the enhancement per photo, excluding reading and scoring; the "
        "first photo includes any warm-up; 0 for the identity baseline",
        "name": "the photo's path relative to the data folder",
    }


def _evaluate(
    items: list,
    score: Callable[[Any], dict[str, Any]],
    model: nn.Module | None,
    device: torch.device,
    on_image: Callable[[dict[str, Any]], None] | None,
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """``score`` each item with the model in eval mode: ``(records, errors)``.

    An item whose scoring raises ``LowlightError`` is recorded under errors and the others
    carry on. The model's training mode is restored afterwards.
    """
    was_training = model.training if model is not None else False
    if model is not None:
        model.to(device).eval()
    images: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    try:
        with torch.inference_mode():
            for item in items:
                try:
                    record = score(item)
                except LowlightError as exc:
                    errors.append({"name": item.name, "message": str(exc)})
                    continue
                images.append(record)
                if on_image is not None:
                    on_image(record)
    finally:
        if model is not None:
            model.train(was_training)
    return images, errors


def evaluate_folder(
    model: nn.Module | None,
    data_dir: str | os.PathLike,
    save_outputs: str | os.PathLike | None = None,
    device: str | torch.device = "cpu",
    *,
    no_reference: bool = False,
    on_image: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Score ``model`` on every ``low/``-``high/`` pair of ``data_dir``, one full image at a
    time, or with ``no_reference`` on every photo below it with the no-reference figures.

    Photos are enhanced as ``lowlight enhance --quality full`` enhances them (tiled above
    ``AUTO_TILE_PIXELS``), then scored by ``lowlight.metrics.score_no_reference``.

    Args:
        model: maps (1, 3, H, W) in [0, 1] to an object with ``.image`` (or, for pairs, a
            tensor) of the same shape in [0, 1]; ``None`` scores the low images (the photos)
            unchanged: the identity baseline. It is moved to ``device`` and run in eval mode;
            its training mode is restored after.
        data_dir: a folder with ``low/`` and ``high/`` subfolders paired by file name stem;
            with ``no_reference``, a folder of photos searched recursively
            (``lowlight.data.find_photos``).
        save_outputs: a folder (created if needed, never inside the input folders) receiving
            each output as ``NAME.png`` (a photo's: its name with ``.png``), 8-bit, written
            atomically; ``None`` writes nothing.
        device: where the model runs; scores are computed on the CPU.
        no_reference: score photos without targets instead of pairs.
        on_image: called with each image's record as soon as it is scored (for progress).

    Returns:
        Pairs: ``{"images": [{"name", "psnr", "ssim", "psnr_gt_mean", "ssim_gt_mean",
        "saturation", "color_flag", "seconds"}], "mean": {"psnr", "ssim", "psnr_gt_mean",
        "ssim_gt_mean", "seconds"}, "protocol": {...}, "errors": [{"name", "message"}]}``;
        PSNR is ``inf`` for an output identical to its target.
        Photos: the same with records ``{"name", "niqe", "mean_grey", "clipped", "crushed",
        "colourfulness", "seconds"}`` and means of all but the name; names are paths
        relative to ``data_dir``; NIQE is NaN for a flat picture and its mean is over the
        photos that have one (NaN if none has).
        Means are None when nothing was scored. An image that cannot be read, is too small
        to score, or (pairs) differs in size from its target is recorded under "errors" and
        the others carry on.

    Raises:
        LowlightError: missing folders, no images, unpaired names, outputs that would share
            a name, or an unusable output folder.
    """
    data_dir = Path(data_dir)
    device = torch.device(device)
    if no_reference:
        items: list = find_photos(data_dir)
        if save_outputs is not None:
            _check_png_names(items)
        inputs, keys, score_one = [data_dir], NO_REFERENCE_METRICS, _score_photo
    else:
        items = find_pairs(data_dir)
        inputs, keys, score_one = [data_dir / "low", data_dir / "high"], METRICS, _score_pair
    output_dir = _output_folder(save_outputs, data_dir, inputs)
    images, errors = _evaluate(
        items, lambda item: score_one(item, model, device, output_dir), model, device, on_image
    )
    # The field's mean for pairs (one exact output's inf PSNR makes it inf); NIQE's mean leaves
    # out the flat pictures that have none.
    average = _mean_of_defined if no_reference else np.mean
    mean = {key: float(average([r[key] for r in images])) if images else None for key in keys}
    protocol = no_reference_evaluation_protocol() if no_reference else evaluation_protocol()
    return {"images": images, "mean": mean, "protocol": protocol, "errors": errors}


def _mean_of_defined(values: list[float]) -> float:
    """The mean of the values that are not NaN; NaN when none is."""
    defined = [value for value in values if not np.isnan(value)]
    return float(np.mean(defined)) if defined else float("nan")
