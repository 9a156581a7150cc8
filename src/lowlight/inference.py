"""Enhancing images with a loaded model: arrays, PIL images and tensors, tiled when large.

Tiling, the tone pass and the controls run over a runner (``lowlight.runners``), so the
PyTorch and ONNX Runtime backends enhance alike.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from lowlight.errors import LowlightError
from lowlight.imageio.arrays import ImageLike, from_batch, image_to_rgb, rgb_like, to_batch
from lowlight.imageio.tiling import tile_process, tile_starts
from lowlight.imageio.tone import match_low_frequencies, reduced_size
from lowlight.models import UnifiedLowLightEnhancer
from lowlight.runners import Runner, TorchRunner, choose_backend, load_runner, runner_for

__all__ = [
    "enhance",
    "enhance_tensor",
    "check_controls",
    "choose_tile",
    "tone_pass_input",
    "tile_overlap",
    "AUTO_TILE_PIXELS",
    "DEFAULT_TILE",
    "DEFAULT_OVERLAP",
    "MIN_TILE",
    "TONE_PASS_MIN_SIDE",
    "MAX_EXPOSURE_STOPS",
]

AUTO_TILE_PIXELS = 2**22
"""Images with more pixels than this are tiled automatically (about 4 megapixels, so 1080p and most
phone photos run whole: peak memory about 1.9 GB at 2 threads)."""
DEFAULT_TILE = 1536
"""The network's channel attention sees each tile's global statistics, so on its own each tile would
find its own overall brightness; a tiled result therefore takes its low frequencies from one pass
over the whole picture reduced to a tile's size (``match_low_frequencies``). 1536 keeps a
6000x4000 photo under 3 GB."""
TONE_PASS_MIN_SIDE = 600
"""The reduced pass is never smaller than this (longer side, pixels): the shipped model learnt its
exposure on 600x400 pictures, and on a much smaller one it settles on another tone, which the
whole tiled result would then take. A 600x400 pass needs about 0.1 GB."""
DEFAULT_OVERLAP = 64
"""The cross-fade between neighbouring tiles."""
MIN_TILE = 32
"""The smallest tile side ``tile`` accepts, in pixels."""
MAX_EXPOSURE_STOPS = 8.0
"""The exposure control's range, in stops either way (2**8: far past any useful correction)."""


def choose_tile(height: int, width: int, tile: int | None = None) -> int | None:
    """The tile size to enhance an image with, or None to enhance it whole.

    Args:
        height: the image's height in pixels.
        width: the image's width in pixels.
        tile: None chooses automatically (``DEFAULT_TILE`` above ``AUTO_TILE_PIXELS``
            pixels, else whole); 0 never tiles; a positive value (>= ``MIN_TILE``) tiles
            with that size whenever the image is larger than it.

    Raises:
        LowlightError: ``tile`` is negative or between 1 and ``MIN_TILE - 1``.
    """
    if tile is None:
        return DEFAULT_TILE if height * width > AUTO_TILE_PIXELS else None
    if tile == 0:
        return None
    if tile < MIN_TILE:
        raise LowlightError(f"tile size must be 0 (no tiling) or at least {MIN_TILE}, got {tile}")
    return tile


def tile_overlap(tile: int) -> int:
    """The overlap used with ``tile``: ``DEFAULT_OVERLAP``, or a quarter of a smaller tile."""
    return min(DEFAULT_OVERLAP, tile // 4)


def tone_pass_input(tensor: torch.Tensor, tile: int) -> torch.Tensor:
    """The picture a tiled result takes its tone from: ``tensor`` (B, C, H, W) reduced by area
    averaging to a longer side of ``tile``, or of ``TONE_PASS_MIN_SIDE`` if that is larger."""
    height, width = tensor.shape[-2:]
    side = max(tile, TONE_PASS_MIN_SIDE)
    return F.interpolate(tensor, size=reduced_size(height, width, side), mode="area")


def check_controls(exposure: float, strength: float) -> None:
    """Raise ``LowlightError`` unless ``exposure`` (stops) and ``strength`` can be applied."""
    if not math.isfinite(exposure) or abs(exposure) > MAX_EXPOSURE_STOPS:
        raise LowlightError(
            f"exposure must be between -{MAX_EXPOSURE_STOPS} and +{MAX_EXPOSURE_STOPS} stops, "
            f"got {exposure}"
        )
    if not 0.0 <= strength <= 1.0:
        raise LowlightError(f"strength must be between 0 and 1, got {strength}")


def enhance_tensor(
    model: UnifiedLowLightEnhancer | Runner,
    tensor: torch.Tensor,
    tile: int | None = None,
    progress: bool = False,
    exposure: float = 0.0,
    strength: float = 1.0,
    on_pass: Callable[[int, int], None] | None = None,
) -> torch.Tensor:
    """Enhance a batch of images with ``model``, tile by tile when large.

    Tiles go to the backend one at a time and the results come back, so a large image can
    stay on the CPU while a GPU enhances it. A tiled result is then given the tone of the
    model's pass over the whole image reduced to one tile, or to ``TONE_PASS_MIN_SIDE`` if
    that is larger (``match_low_frequencies``), so tiles do not differ in brightness or
    colour. Runs under ``torch.inference_mode``.

    Args:
        model: the enhancer (see ``lowlight.load_model``), run with PyTorch where its
            parameters are; or a runner of any backend (see ``lowlight.load_runner``).
        tensor: float (B, 3, H, W) in [0, 1] on any device.
        tile: see ``choose_tile``; tiles overlap by ``tile_overlap(tile)``.
        progress: show a progress bar over the tiles (on a terminal) when the image is tiled.
        exposure: stops relative to the model's own exposure (0: automatic, +1 doubles the
            result's linear light); applied to the whole picture alike, tiled or not.
        strength: 0 returns the input unchanged, 1 the full enhancement.
        on_pass: called after each pass of the model with (passes done, passes in all):
            once with (1, 1) for an image enhanced whole; for a tiled one after every tile
            and after the reduced pass that sets the tone (a web page's progress bar).

    Returns:
        float (B, 3, H, W) in [0, 1], with ``tensor``'s dtype and device.
    """
    if tensor.ndim != 4 or tensor.shape[1] != 3 or not tensor.is_floating_point():
        raise LowlightError(
            f"expected a float (B, 3, H, W) tensor, got {tensor.dtype} {tuple(tensor.shape)}"
        )
    check_controls(exposure, strength)
    height, width = tensor.shape[-2:]
    chosen = choose_tile(height, width, tile)
    runner = TorchRunner(model) if isinstance(model, nn.Module) else model

    def run(piece: torch.Tensor) -> torch.Tensor:
        return runner(piece, exposure=exposure, strength=strength)

    with torch.inference_mode():
        if chosen is None or (height <= chosen and width <= chosen):
            whole = run(tensor)
            if on_pass is not None:
                on_pass(1, 1)
            return whole
        overlap = tile_overlap(chosen)
        tiles = len(tile_starts(height, chosen, overlap)) * len(tile_starts(width, chosen, overlap))
        done = 0
        # One step per tile and one for the reduced pass that sets the tone; tqdm's
        # disable=None shows the bar on a terminal only.
        disable = None if progress else True
        with tqdm(total=tiles + 1, desc="tiles", unit="tile", leave=False, disable=disable) as bar:

            def run_counted(piece: torch.Tensor) -> torch.Tensor:
                nonlocal done
                result = run(piece)
                bar.update()
                done += 1
                if on_pass is not None:
                    on_pass(done, tiles + 1)
                return result

            tiled = tile_process(run_counted, tensor, tile=chosen, overlap=overlap)
            return match_low_frequencies(tiled, run_counted(tone_pass_input(tensor, chosen)))


def enhance(
    image: ImageLike,
    model: UnifiedLowLightEnhancer | Runner | None = None,
    tile: int | None = None,
    device: str | torch.device = "cpu",
    progress: bool = False,
    exposure: float = 0.0,
    strength: float = 1.0,
    backend: str = "auto",
    on_pass: Callable[[int, int], None] | None = None,
) -> ImageLike:
    """Enhance one image and return it as the same kind of object.

    Args:
        image: a NumPy array (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) of uint8, uint16 or
            float in [0, 1]; or a PIL image of any mode.
        model: None loads the shipped default; a model from ``lowlight.load_model`` or a
            runner from ``lowlight.load_runner``, loaded once, saves loading it for every
            image.
        tile: see ``choose_tile`` (None: automatic, 0: never).
        device: where to load the default model when ``model`` is None; a given model runs
            where its parameters are.
        progress: show a progress bar over the tiles (on a terminal) when the image is tiled.
        exposure: stops relative to the model's own choice: 0 is automatic, +1 doubles the
            result's linear-light level, -1 halves it (highlights still roll off smoothly).
        strength: from 0 (the input unchanged) to 1 (the full enhancement).
        backend: "pytorch", "onnxruntime" (the ``onnx`` extra; the model is exported once
            into a cache folder, see ``lowlight.runners``) or "auto": ONNX Runtime for the
            default model on the CPU when installed, PyTorch for a model you pass. A runner
            keeps the backend it was loaded with.
        on_pass: called with (passes done, passes in all) after each pass of the model (see
            ``enhance_tensor``).

    Returns:
        An array of the same shape and dtype, or a PIL image of the same size and mode
        family: greyscale stays greyscale (luma of the result), alpha is kept unchanged,
        palette ("P") becomes RGB(A) and bilevel ("1") becomes "L".

    Raises:
        LowlightError: an unsupported input, the default model cannot be loaded, or the
            backend is unavailable.

    Examples:
        >>> import numpy as np, lowlight
        >>> model = lowlight.load_model()
        >>> dark = np.zeros((64, 64, 3), dtype=np.uint8)
        >>> bright = lowlight.enhance(dark, model=model)
        >>> bright.shape, bright.dtype
        ((64, 64, 3), dtype('uint8'))
    """
    check_controls(exposure, strength)
    rgb, alpha = image_to_rgb(image)
    enhanced = enhance_tensor(
        _runner(model, backend, device),
        to_batch(rgb),
        tile=tile,
        progress=progress,
        exposure=exposure,
        strength=strength,
        on_pass=on_pass,
    )
    return rgb_like(from_batch(enhanced), alpha, image)


def _runner(
    model: UnifiedLowLightEnhancer | Runner | None, backend: str, device: str | torch.device
) -> Runner:
    """The runner ``enhance`` uses for ``model`` and ``backend`` (see there)."""
    if model is None:
        return load_runner(None, backend, device)
    if not isinstance(model, nn.Module):
        if backend != "auto":
            raise LowlightError(
                f"backend {backend!r} with a runner: a runner keeps the backend it was loaded "
                "with (lowlight.load_runner(..., backend=...))"
            )
        return model
    if backend == "auto":
        return TorchRunner(model)
    parameter = next(model.parameters(), None)
    where = parameter.device if parameter is not None else "cpu"
    return runner_for(model, choose_backend(backend, where))
