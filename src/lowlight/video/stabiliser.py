"""Smoothing the enhancer's global tone decisions across the frames of a clip.

See ``lowlight.video`` for the design. ``TemporalStabiliser`` hooks into a loaded
``UnifiedLowLightEnhancer`` (PyTorch forward hooks, removed again on exit) and keeps one
exponential moving average per global quantity, reset at scene cuts.
"""

from __future__ import annotations

import contextlib
import math

import torch
from kornia.color import rgb_to_linear_rgb
from torch import nn

from lowlight.imageio.full_resolution import render_with
from lowlight.inference import (
    WORKING_SIZE,
    check_controls,
    check_working_size,
    choose_quality,
    enhance_tensor,
    render_fast,
)
from lowlight.models import UnifiedLowLightEnhancer
from lowlight.models.finishing import blend_strength, expose, per_image
from lowlight.runners import TorchRunner
from lowlight.video.denoise import TEMPORAL_DENOISE, TemporalDenoiser
from lowlight.video.scene_cut import SceneCutDetector

__all__ = ["TemporalStabiliser", "TONE_TIME_CONSTANT"]

TONE_TIME_CONSTANT = 0.25
"""Each moving average's time constant in seconds: a frame's own decisions weigh 1 - exp(-frame
interval / this), 0.15 at 24 frames per second."""
# Averages in cascade, each smoothing the one before. Two halve the frame-to-frame jitter
# of one average of the same lag (on dark 64x96 pans, flicker 2.2 instead of 3.0 times the
# input's change times the gain, against 21 frame by frame); a drift within a scene (a pan
# into a darker street) is still followed within about a second (90% after 1 s).
SMOOTHING_STAGES = 2
# Keeps the gain of a black frame (or channel) finite.
_LEVEL_FLOOR = 1e-4


class TemporalStabiliser:
    """Enhances the frames of a clip in order, with global decisions smoothed over time.

    Use it as a context manager (the hooks are on the model only inside it) and call
    ``enhance`` once per frame, in presentation order.

    Args:
        model: the enhancer (``lowlight.load_model``); its global decisions are read and
            replaced through forward hooks while the stabiliser is entered.
        time_constant: seconds (each of the ``SMOOTHING_STAGES`` averages); 0 leaves every
            frame's own decisions, bit for bit (frame by frame).
        cut_detector: says where a new scene starts (the averages then restart).
        network_interval: in fast quality, the network runs on every this many frames (and on
            the first frame of each scene); the frames between are rendered through the
            transforms fitted on the last frame it ran on (``render_fast``), which costs
            less than half a frame the network runs on. 1 runs it on every frame.
        temporal_denoise: in fast quality, how much of the denoised frame before each frame
            is averaged in where nothing moved (``TemporalDenoiser``'s strength) before the
            frame is rendered; the network's pass, which sets the tone, sees the frame as it
            is. 0 for none. Frame by frame (``time_constant`` 0), frames are not denoised
            over time either.

    Examples:
        >>> import torch, lowlight
        >>> model = lowlight.load_model()
        >>> frames = torch.rand(3, 1, 3, 32, 48) * 0.1
        >>> with TemporalStabiliser(model) as stabiliser:
        ...     results = [stabiliser.enhance(f, seconds=i / 24) for i, f in enumerate(frames)]
        >>> results[2].shape
        torch.Size([1, 3, 32, 48])
    """

    def __init__(
        self,
        model: UnifiedLowLightEnhancer,
        time_constant: float = TONE_TIME_CONSTANT,
        cut_detector: SceneCutDetector | None = None,
        network_interval: int = 1,
        temporal_denoise: float = TEMPORAL_DENOISE,
    ) -> None:
        if not time_constant >= 0:
            raise ValueError(f"time_constant must be >= 0 seconds, got {time_constant}")
        if network_interval < 1:
            raise ValueError(f"network_interval must be at least 1 frame, got {network_interval}")
        self.network_interval = network_interval
        self._denoiser = TemporalDenoiser(temporal_denoise if time_constant > 0 else 0.0)
        self._transforms: torch.Tensor | None = None
        self._reused = 0
        self._size: tuple[int, int] | None = None
        self.model = model
        self.time_constant = time_constant
        self.cut_detector = cut_detector if cut_detector is not None else SceneCutDetector()
        self.cuts = 0
        self._averages: dict[str, torch.Tensor] = {}
        self._last_seconds: float | None = None
        self._weight = 1.0
        self._pending_update = False
        self._updating = False
        self._input_level: torch.Tensor | None = None
        self._correction: torch.Tensor | None = None
        self._hooks: contextlib.ExitStack | None = None

    def __enter__(self) -> TemporalStabiliser:
        stack = contextlib.ExitStack()
        model = self.model
        stack.callback(model.register_forward_pre_hook(self._on_input).remove)
        context = model.curve_estimator.global_context
        stack.callback(context.register_forward_hook(self._smoothed_hook("context")).remove)
        boost = model.saturation_factor
        stack.callback(boost.register_forward_hook(self._smoothed_hook("boost")).remove)
        stack.callback(model.colour_correction.register_forward_hook(self._on_colour).remove)
        self._hooks = stack
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._hooks is not None:
            self._hooks.close()
            self._hooks = None

    def enhance(
        self,
        frame: torch.Tensor,
        seconds: float,
        tile: int | None = None,
        exposure: float = 0.0,
        strength: float = 1.0,
        quality: str = "auto",
        working_size: int = WORKING_SIZE,
    ) -> torch.Tensor:
        """Enhance the next frame of the clip.

        Args:
            frame: float (1, 3, H, W) in [0, 1].
            seconds: its presentation time (the averages weigh frames by the time between).
            tile: as for ``lowlight.inference.enhance_tensor``.
            exposure: as for ``lowlight.inference.enhance_tensor``.
            strength: as for ``lowlight.inference.enhance_tensor``.
            quality: as for ``lowlight.inference.enhance_tensor``.
            working_size: as for ``lowlight.inference.enhance_tensor``. A frame rendered
                fast, tiled or large takes its decisions from the pass over it reduced to the
                working size, which comes first.

        Returns:
            float (1, 3, H, W) in [0, 1].
        """
        if self._hooks is None:
            raise RuntimeError("use TemporalStabiliser as a context manager: with ... as s:")
        if frame.ndim != 4 or frame.shape[0] != 1:
            raise ValueError(f"expected one frame (1, 3, H, W), got {tuple(frame.shape)}")
        check_controls(exposure, strength)
        check_working_size(working_size)
        cut = self.cut_detector.is_cut(frame)
        self.cuts += cut
        size = tuple(frame.shape[-2:])
        fast = choose_quality(*size, quality, working_size) == "fast"
        reuse = (
            fast
            and not cut
            and self._transforms is not None
            and self._reused + 1 < self.network_interval
            and self._size == size
        )
        if self.time_constant > 0 and not reuse:  # the averages take the frames it runs on
            if cut:
                self._averages.clear()
                self._weight = 1.0
            else:
                interval = max(0.0, seconds - (self._last_seconds or 0.0))
                self._weight = _frame_weight(interval, self.time_constant)
            self._last_seconds = seconds
            self._pending_update = True
        with torch.inference_mode():
            if not fast:
                self._transforms = None
                options = {"tile": tile, "exposure": exposure, "working_size": working_size}
                result = enhance_tensor(self.model, frame, quality=quality, **options)
            elif reuse:
                self._reused += 1
                result = render_with(self._denoiser(frame), self._transforms)
            else:
                runner = TorchRunner(self.model)
                result, self._transforms = render_fast(
                    lambda piece: runner(piece, exposure=exposure),
                    frame,
                    working_size,
                    clean=self._denoiser(frame),
                )
                self._reused, self._size = 0, size
        if strength == 1.0:
            return result
        return blend_strength(frame, result, per_image(strength, result))

    def _on_input(self, module: nn.Module, args: tuple) -> None:
        """The first pass of each frame (the reduced one where there is one) updates the
        averages; later ones (the whole frame, tiles) apply them."""
        self._updating, self._pending_update = self._pending_update, False
        if self._updating:
            self._input_level = _linear_level(args[0])

    def _smoothed_hook(self, name: str):
        def hook(module: nn.Module, args: tuple, output: torch.Tensor) -> torch.Tensor:
            if self._updating:
                self._average(name, output)
            average = self._averages.get(f"{name}/{SMOOTHING_STAGES - 1}")
            return output if average is None else average.expand_as(output)

        return hook

    def _on_colour(self, module: nn.Module, args: tuple, output: torch.Tensor) -> torch.Tensor:
        """Hold each channel's linear-light gain (output level over input level) to its
        average, by an exposure correction of the difference."""
        if self._updating:
            gain = torch.log2(_linear_level(output) / self._input_level)
            correction = self._average("gain", gain) - gain
            # A frame that starts the averages keeps its own result, bit for bit.
            self._correction = None if self._weight == 1.0 else correction
        if self._correction is None:
            return output
        return expose(output, self._correction[:, :, None, None])

    def _average(self, name: str, value: torch.Tensor) -> torch.Tensor:
        """Feed ``value`` through the cascade of averages called ``name``; the last one."""
        value = value.detach()
        for stage in range(SMOOTHING_STAGES):
            key = f"{name}/{stage}"
            average = self._averages.get(key)
            if average is not None:
                value = torch.lerp(average, value, self._weight)
            self._averages[key] = value
        return value


def _frame_weight(interval: float, time_constant: float) -> float:
    """The weight of a frame shown ``interval`` seconds after the last in the averages."""
    return 1.0 - math.exp(-interval / time_constant)


def _linear_level(rgb: torch.Tensor) -> torch.Tensor:
    """Each image's mean linear light per channel, (B, 3), at least ``_LEVEL_FLOOR``; ``rgb``
    is sRGB-encoded, >= 0 (values above 1 are extended)."""
    linear = rgb_to_linear_rgb(rgb.clamp_min(0.0))
    return linear.mean(dim=(2, 3)).clamp_min(_LEVEL_FLOOR)
