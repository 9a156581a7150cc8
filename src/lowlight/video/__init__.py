"""Enhancing video clips: frames streamed through the enhancer, their tone held steady.

Why frame-by-frame enhancement flickers: the enhancer makes a few global decisions for each
picture from that picture alone, and on a dark, noisy clip those decisions wobble from frame
to frame with the noise, even where nothing in the scene changes. Each wobble shifts the
whole frame's tone, which the eye sees as flicker.

The decisions, and how ``TemporalStabiliser`` holds them steady (PyTorch forward hooks on
the model, removed afterwards; the model's only change for this is one identity module the
saturation boost passes through, so that a hook can reach it):

- the curve estimator's global context (``ImprovedCurveEstimator.global_context``, a vector
  computed from the mean of its features, which sets every pixel's curve: the exposure);
- the saturation boost of washed-out pictures (``UnifiedLowLightEnhancer.saturation_factor``);
- the overall level and colour balance: each channel's gain in linear light (mean output
  over mean input, measured after the colour stages). It also carries what the decoder's
  channel attention, which sees global statistics, does to the tone; the colour matrices
  themselves are fixed parameters, the same for every frame.

Each is replaced by a moving average over the frames of the current scene: two exponential
averages in cascade, each weighing a frame shown ``dt`` seconds after the last by
``1 - exp(-dt / time_constant)`` (0.15 at 24 frames per second with the default 0.25 s).
Frame-to-frame estimation noise is averaged away, while a slow change within a scene (a
pan into a darker street) is followed within about a second. The gain is held by an
exposure correction of the difference between the frame's own gain and the average
(``lowlight.models.finishing.expose``, in linear light, before the saturation boost and
the highlight shoulder): the output follows the input's real changes of brightness in
proportion, and only the model's wobble is removed.

A scene cut restarts every average from the new frame's own decisions, so the result
follows a cut at once. Cuts are found from the input alone (``SceneCutDetector``): the
histogram of a 64-pixel-wide thumbnail's luma relative to its mean, and the mean level;
noise barely moves either, panning little, a cut a lot.

Frames are rendered as pictures are (``lowlight.enhance``'s ``quality``), with a working size of
their own, ``VIDEO_WORKING_SIZE`` (384): with "auto", frames longer than 576 pixels (1280x720
and up) are rendered the fast way. The network then sees a frame reduced to the working size;
that pass makes the frame's decisions, which the averages steady as above, and its result is
carried to full resolution along the frame's edges (``lowlight.imageio.full_resolution``). It
runs on every second such frame (``NETWORK_INTERVAL``) and on the first of each scene; the
frame between is rendered through the transforms fitted on the one before, which change
little in a 24th of a second. In full quality, frames that large or tiled take their decisions
from the same reduced pass, and the whole frame or its tiles then use the averaged ones.

Per-pixel noise: the network denoises each frame on its own, so what noise it leaves differs
from frame to frame and shimmers. Before a fast frame is rendered, ``TemporalDenoiser``
averages it with the denoised frame before it wherever the two agree to within the noise (a
motion-adaptive recursive filter); where something moved, the frame keeps its own pixels, and a
scene cut restarts the average by itself. The network's pass, which sets the tone, sees the
frame as it is. ``benchmarks/video_stability.py`` measures what is
left (temporal standard deviation on a static clip) and what motion costs.
"""

from lowlight.video.pipeline import VideoResult, enhance_video
from lowlight.video.scene_cut import SceneCutDetector
from lowlight.video.stabiliser import TemporalStabiliser

__all__ = ["SceneCutDetector", "TemporalStabiliser", "VideoResult", "enhance_video"]
