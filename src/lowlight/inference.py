"""Enhancing images with a loaded model: arrays, PIL images and tensors, tiled when large,
rendered from a reduced copy when fast.

Two qualities: "full" puts every pixel through the network (in tiles when the picture is
large); "fast" runs it on the picture reduced to a working size and renders its result at full
resolution with local colour transforms (``lowlight.imageio.full_resolution``). Pictures much
larger than the working size take their tone from the network's pass over the reduced picture
in either quality, so fast, whole and tiled results agree in tone. Tiling, the reduced pass,
the rendering and the controls run over a runner (``lowlight.runners``), so the PyTorch and
ONNX Runtime backends enhance alike.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from lowlight.errors import LowlightError
from lowlight.imageio.arrays import ImageLike, from_batch, image_to_rgb, rgb_like, to_batch
from lowlight.imageio.full_resolution import (
    fit_full_resolution,
    reduce_to,
    reduce_with_variance,
    reduced_shape,
    render_with,
)
from lowlight.imageio.tiling import tile_process, tile_starts
from lowlight.imageio.tone import match_level, match_low_frequencies
from lowlight.models import UnifiedLowLightEnhancer
from lowlight.models.finishing import blend_strength, per_image
from lowlight.runners import Runner, TorchRunner, choose_backend, load_runner, runner_for

__all__ = [
    "enhance",
    "enhance_tensor",
    "render_fast",
    "check_controls",
    "check_working_size",
    "choose_quality",
    "choose_tile",
    "takes_reduced_tone",
    "working_picture",
    "tile_overlap",
    "AUTO_FAST_RATIO",
    "AUTO_TILE_PIXELS",
    "DEFAULT_TILE",
    "DEFAULT_OVERLAP",
    "MIN_TILE",
    "MAX_EXPOSURE_STOPS",
    "QUALITIES",
    "WORKING_SIZE",
    "WORKING_SIZE_RANGE",
]

AUTO_TILE_PIXELS = 2**22
"""Images with more pixels than this are tiled automatically (about 4 megapixels, so 1080p and most
phone photos run whole: peak memory about 1.9 GB at 2 threads)."""
DEFAULT_TILE = 1536
"""The network's channel attention sees each tile's global statistics, so on its own each tile would
find its own overall brightness; a tiled result therefore takes its low frequencies from one pass
over the whole picture reduced to the working size (``match_low_frequencies``). 1536 keeps a
6000x4000 photo under 3 GB."""
QUALITIES = ("auto", "fast", "full")
"""The qualities ``enhance`` accepts: fast, full, or auto (fast above a size threshold)."""
WORKING_SIZE = 768
"""The longer side (pixels) of the reduced picture the network sees in the fast quality, and whose
pass sets the tone of large pictures in either quality: 768x512 (0.39 megapixels) for a 3:2 photo,
768x576 for 4:3, 768x432 for 16:9. The shipped model learnt its exposure on 600x400 pictures; on a
much smaller one it settles on another tone."""
WORKING_SIZE_RANGE = (32, 2048)
"""Working sizes allowed: the network's smallest useful picture, and a pass that still runs whole
(2048x2048 is ``AUTO_TILE_PIXELS``)."""
AUTO_FAST_RATIO = 1.5
"""The quality "auto" renders pictures whose longer side exceeds this many working sizes the fast
way (with 768: above 1152 pixels, so 1280x720 video and every phone photo; the network then sees at
most 44 % of the pixels). Such pictures take their tone from the reduced pass in "full" quality
too."""
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


def check_working_size(side: int) -> None:
    """Raise ``LowlightError`` unless ``side`` is in ``WORKING_SIZE_RANGE``."""
    low, high = WORKING_SIZE_RANGE
    if not low <= side <= high:
        raise LowlightError(f"the working size must be between {low} and {high}, got {side}")


def choose_quality(height: int, width: int, quality: str = "auto", side: int = WORKING_SIZE) -> str:
    """How a picture is rendered: "fast" or "full".

    Args:
        height: the picture's height in pixels.
        width: the picture's width in pixels.
        quality: "full" or "fast" as asked, or "auto": fast when the longer side exceeds
            ``AUTO_FAST_RATIO`` working sizes. A picture no larger than the working size is
            always rendered in full (there is nothing to reduce).
        side: the working size (longer side, pixels).

    Raises:
        LowlightError: an unknown quality.

    Examples:
        >>> choose_quality(3024, 4032), choose_quality(400, 600), choose_quality(400, 600, "fast")
        ('fast', 'full', 'full')
    """
    if quality not in QUALITIES:
        raise LowlightError(f"unknown quality {quality!r}; use one of {', '.join(QUALITIES)}")
    longer = max(height, width)
    if quality == "full" or longer <= side:
        return "full"
    if quality == "fast":
        return "fast"
    return "fast" if takes_reduced_tone(height, width, side) else "full"


def takes_reduced_tone(height: int, width: int, side: int = WORKING_SIZE) -> bool:
    """Whether a picture takes its tone from the network's pass over it reduced to ``side``,
    whatever the quality: its longer side exceeds ``AUTO_FAST_RATIO`` working sizes."""
    return max(height, width) > AUTO_FAST_RATIO * side


def working_picture(tensor: torch.Tensor, side: int = WORKING_SIZE) -> torch.Tensor:
    """``tensor`` (B, C, H, W) reduced by area averaging to a longer side of ``side`` (never
    enlarged): what the fast quality and the tone of large pictures come from."""
    height, width = tensor.shape[-2:]
    return reduce_to(tensor, reduced_shape(height, width, side))


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
    quality: str = "auto",
    working_size: int = WORKING_SIZE,
) -> torch.Tensor:
    """Enhance a batch of images with ``model``: in full or fast, tile by tile when large.

    In full quality every pixel goes through the network, whole or (when large) in tiles sent
    to the backend one at a time, so a large image can stay on the CPU while a GPU enhances
    it. In fast quality the network sees the picture reduced to ``working_size`` and its
    result is rendered at full resolution (``lowlight.imageio.full_resolution``). Pictures
    for which ``takes_reduced_tone`` holds, and tiled ones, take their tone from the
    network's pass over the reduced picture in either quality: a tiled result its low
    frequencies (``match_low_frequencies``), so tiles do not differ in brightness or colour,
    and a whole one and a tiled one their mean level per channel (``match_level``), which
    the fast rendering keeps by itself. That pass comes first. Runs under
    ``torch.inference_mode``.

    Args:
        model: the enhancer (see ``lowlight.load_model``), run with PyTorch where its
            parameters are; or a runner of any backend (see ``lowlight.load_runner``).
        tensor: float (B, 3, H, W) in [0, 1] on any device.
        tile: see ``choose_tile``; tiles overlap by ``tile_overlap(tile)``. Full quality only.
        progress: show a progress bar over the tiles (on a terminal) when the image is tiled.
        exposure: stops relative to the model's own exposure (0: automatic, +1 doubles the
            result's linear light); applied to the whole picture alike, tiled or not.
        strength: 0 returns the input unchanged, 1 the full enhancement.
        on_pass: called after each pass of the model with (passes done, passes in all):
            once with (1, 1) for an image enhanced whole on its own tone; otherwise after
            the reduced pass and after the whole picture or every tile (a web page's
            progress bar).
        quality: "auto", "fast" or "full" (see ``choose_quality``).
        working_size: the longer side of the reduced picture (``WORKING_SIZE_RANGE``).

    Returns:
        float (B, 3, H, W) in [0, 1], with ``tensor``'s dtype and device.
    """
    if tensor.ndim != 4 or tensor.shape[1] != 3 or not tensor.is_floating_point():
        raise LowlightError(
            f"expected a float (B, 3, H, W) tensor, got {tensor.dtype} {tuple(tensor.shape)}"
        )
    check_controls(exposure, strength)
    check_working_size(working_size)
    height, width = tensor.shape[-2:]
    rendering = choose_quality(height, width, quality, working_size)
    chosen = choose_tile(height, width, tile)
    tiled = rendering == "full" and chosen is not None and (height > chosen or width > chosen)
    runner = TorchRunner(model) if isinstance(model, nn.Module) else model

    def run(piece: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
        return runner(piece, exposure=exposure, strength=strength)

    with torch.inference_mode():
        if (
            rendering == "full"
            and not tiled
            and not takes_reduced_tone(height, width, working_size)
        ):
            whole = run(tensor, strength)
            if on_pass is not None:
                on_pass(1, 1)
            return whole
        if tiled:
            overlap = tile_overlap(chosen)
            rows, columns = (tile_starts(side, chosen, overlap) for side in (height, width))
            passes = 1 + len(rows) * len(columns)
        else:
            passes = 1 if rendering == "fast" else 2
        # tqdm's disable=None shows the bar on a terminal only; only tiles get one.
        disable = None if progress and tiled else True
        with tqdm(total=passes, desc="tiles", unit="tile", leave=False, disable=disable) as bar:
            done = 0

            def run_counted(piece: torch.Tensor) -> torch.Tensor:
                nonlocal done
                result = run(piece)
                bar.update()
                done += 1
                if on_pass is not None:
                    on_pass(done, passes)
                return result

            if rendering == "fast":
                result, _ = render_fast(run_counted, tensor, working_size)
            else:
                tone = run_counted(working_picture(tensor, working_size))
                if tiled:
                    pieces = tile_process(run_counted, tensor, tile=chosen, overlap=overlap)
                    result = match_level(match_low_frequencies(pieces, tone), tone)
                else:
                    result = match_level(run_counted(tensor), tone)
        if strength == 1.0:
            return result
        return blend_strength(tensor, result, per_image(strength, result))


def render_fast(
    run: Callable[[torch.Tensor], torch.Tensor],
    tensor: torch.Tensor,
    working_size: int,
    clean: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The fast quality: ``run`` (the network) on ``tensor`` reduced to ``working_size``,
    its result rendered at full resolution (``lowlight.imageio.full_resolution``).

    Args:
        run: maps (B, 3, h, w) in [0, 1] to its enhancement.
        tensor: (B, 3, H, W) in [0, 1].
        working_size: the longer side of the reduced picture.
        clean: the same picture with less noise (a video frame denoised over time), to
            render instead of ``tensor``; the network still sees ``tensor``, so that its
            decisions do not depend on how much noise was taken out.

    Returns:
        ``(result, transforms)``: the (B, 3, H, W) result in [0, 1], and the transforms it
        was rendered with (``fit_full_resolution``), which ``render_with`` can apply to a
        picture much like ``tensor`` (the next frame of a clip) without running the network.
    """
    height, width = tensor.shape[-2:]
    shown = tensor if clean is None else clean
    reduced, variance = reduce_with_variance(tensor, reduced_shape(height, width, working_size))
    transforms = fit_full_resolution(shown, reduced, run(reduced), variance)
    return render_with(shown, transforms), transforms


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
    quality: str = "auto",
    working_size: int = WORKING_SIZE,
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
        quality: "full" puts every pixel through the network; "fast" runs it on the
            picture reduced to ``working_size`` and renders the result at full resolution
            (a 12-megapixel photo in about a second); "auto" (the default) is fast for
            pictures longer than ``AUTO_FAST_RATIO`` working sizes. ``choose_quality``
            says which a picture gets.
        working_size: the longer side, in pixels, of the reduced picture (default 768).

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
    check_working_size(working_size)
    choose_quality(1, 1, quality)
    options = {
        "tile": tile,
        "progress": progress,
        "exposure": exposure,
        "strength": strength,
        "on_pass": on_pass,
        "quality": quality,
        "working_size": working_size,
    }
    enhanced, alpha = _enhance_rgb(image, _runner(model, backend, device), options)
    return rgb_like(from_batch(enhanced), alpha, image)


def _enhance_rgb(
    image: ImageLike, runner: Runner, options: dict
) -> tuple[torch.Tensor, np.ndarray | None]:
    """The enhanced (1, 3, H, W) batch of ``image``'s RGB, and its alpha. The float copy of the
    picture lives only in here, so it is gone before the result is converted back."""
    rgb, alpha = image_to_rgb(image)
    return enhance_tensor(runner, to_batch(rgb), **options), alpha


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
