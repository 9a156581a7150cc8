"""Temporal denoising: a clip's frames averaged over time wherever nothing moves."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["TemporalDenoiser", "TEMPORAL_DENOISE"]

TEMPORAL_DENOISE = 0.5
"""The most the previous (denoised) frame weighs in a pixel where nothing moves: a recursive
average then keeps (1 - w) / (1 + w) of a still scene's noise variance, a third. Chosen on the
synthetic clips of ``benchmarks/video_stability.py`` at 1280x720 (working size 384, the network
on every second frame, frames denoised before rendering), against no temporal denoising: the
temporal noise of a still clip fell from 0.0199 to 0.0116, and on pans of 2 and 8 pixels a
frame the RMS difference from the enhanced noise-free clip went from 5.40 and 5.41 levels of
255 to 5.09 and 5.41. A weight of 0.75 left 0.0069 on the still clip but smeared the pans'
texture that lies below the noise (5.35 and 5.76)."""
MOTION_BLOCK = 6
"""Squared frame differences, summed over the colour channels (a red object moving over green of
the same luma changes no luma), are averaged over blocks of about this many pixels square (2 x 2
pixels averaged, then 3 x 3 of those) before they are compared with the noise: texture that
moves differs in the square even where the differences' signs would cancel out, and noise
alone then varies the mean by about a quarter."""
MOTION_NOISE = 3.0
"""A block whose mean squared difference is at most what noise alone gives keeps the full weight;
at this many times that, it is taken as moving and keeps its new values (weight 0); the weight
falls linearly between (2 did as well on the clips above: pans 5.12 and 5.38, still 0.0117)."""
# The frame's noise is estimated on about this many rows spread over it (over 80 000 samples
# per channel at 1280x720).
_NOISE_ROWS = 64
# The median absolute deviation of Gaussian noise is this many standard deviations.
_MAD_PER_SIGMA = 0.6745
# The least noise a frame is taken to have: 8-bit rounding's (a level over sqrt(12)).
_ROUNDING_NOISE = 1 / 255 / 12**0.5
# Frames with a side shorter than this pass through as they are.
_MIN_SIDE = 4


class TemporalDenoiser:
    """Averages each frame with the denoised one before it where the two agree to within the
    noise, and leaves it as it is where something moved (a motion-adaptive recursive filter).

    Frames are sRGB-encoded, where the shot noise of a camera is about as strong in the
    shadows as in the lights (the encoding's slope roughly undoes its growth with the signal),
    so one noise level per channel serves the whole frame: the frame's own (``frame_noise``).
    A scene cut changes every pixel and so restarts the average by itself.

    Args:
        strength: the weight of the past where nothing moves, in [0, 1); 0 passes frames
            through unchanged.

    Example:
        >>> denoise = TemporalDenoiser()
        >>> _ = torch.manual_seed(0)
        >>> still = torch.full((1, 3, 32, 48), 0.2)
        >>> frames = [still + 0.02 * torch.randn(1, 3, 32, 48) for _ in range(8)]
        >>> out = [denoise(frame) for frame in frames]
        >>> bool((out[-1] - still).std() < 0.7 * (frames[-1] - still).std())
        True
    """

    def __init__(self, strength: float = TEMPORAL_DENOISE) -> None:
        if not 0.0 <= strength < 1.0:
            raise ValueError(f"strength must be in [0, 1), got {strength}")
        self.strength = strength
        self._previous: torch.Tensor | None = None

    def __call__(self, frame: torch.Tensor) -> torch.Tensor:
        """The next frame (1, 3, H, W) in [0, 1], denoised: (1, 3, H, W) in [0, 1]."""
        previous = self._previous
        self._previous = frame
        if (
            self.strength == 0.0
            or previous is None
            or previous.shape != frame.shape
            or min(frame.shape[-2:]) < _MIN_SIDE
        ):
            return frame
        difference = frame - previous
        squares = difference.square().sum(dim=1, keepdim=True)
        squares = F.avg_pool2d(squares, 2, ceil_mode=True)
        squares = F.avg_pool2d(squares, 3, stride=1, padding=1, count_include_pad=False)
        squares = F.interpolate(
            squares, size=frame.shape[-2:], mode="bilinear", align_corners=False
        )
        # Noise alone: in both frames (the previous one holds less of it; counted in full).
        noise = 2.0 * frame_noise(frame).square().sum()
        still = (MOTION_NOISE * noise - squares) / ((MOTION_NOISE - 1.0) * noise)
        weight = self.strength * still.clamp(0.0, 1.0)
        denoised = torch.addcmul(frame, weight, difference, value=-1.0)
        self._previous = denoised
        return denoised


def frame_noise(frame: torch.Tensor) -> torch.Tensor:
    """The noise's standard deviation in each channel of a frame (1, C, H, W), robustly: (C,).

    The median absolute difference between horizontally neighbouring pixels on about
    ``_NOISE_ROWS`` rows evenly spread, over 0.6745 and sqrt(2); edges and texture, being
    rarer, barely move a median. At least 8-bit rounding's noise, so that a clean frame's
    motion test stays finite.
    """
    rows = frame[0, :, :: max(1, frame.shape[-2] // _NOISE_ROWS), :]
    neighbours = (rows[..., 1:] - rows[..., :-1]).abs().flatten(1)
    noise = neighbours.median(dim=1).values / (_MAD_PER_SIGMA * 2**0.5)
    return noise.clamp_min(_ROUNDING_NOISE)
