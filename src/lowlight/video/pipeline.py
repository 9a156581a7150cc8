"""``enhance_video``: decode, enhance and encode a clip one frame at a time."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from lowlight.errors import LowlightError
from lowlight.imageio.arrays import from_batch, to_batch
from lowlight.imageio.samples import to_float, to_samples
from lowlight.imageio.video_reader import DecodedFrame, VideoReader
from lowlight.imageio.video_writer import DEFAULT_CRF, DEFAULT_PRESET, VideoWriter
from lowlight.inference import (
    check_controls,
    check_working_size,
    choose_quality,
    choose_tile,
)
from lowlight.models import UnifiedLowLightEnhancer
from lowlight.video.denoise import TEMPORAL_DENOISE
from lowlight.video.stabiliser import TONE_TIME_CONSTANT, TemporalStabiliser

__all__ = ["enhance_video", "VideoResult", "VIDEO_WORKING_SIZE", "NETWORK_INTERVAL"]

VIDEO_WORKING_SIZE = 384
"""The working size of clips, half that of pictures: a 1280x720 frame is rendered from 384x216, so
that a clip keeps up with its frame rate (the rendering keeps the frame's own edges and detail;
the network's decisions, which this size sets, are steadied across frames anyway). At 1280x720 the
network's pass took 66 ms at this size against 234 ms at 768, on 2 threads."""
NETWORK_INTERVAL = 2
"""The network runs on every second frame of a clip rendered fast, and the frame between reuses its
transforms: at 1280x720 a frame then took 203 CPU ms on average against 279 (1 PyTorch thread)."""


@dataclass(frozen=True)
class VideoResult:
    """What ``enhance_video`` wrote.

    Attributes:
        path: the clip written.
        frames: how many frames it holds.
        cuts: how many scenes the stabiliser found (1 for a single shot).
        audio: ``"copied"``, ``"re-encoded to AAC"`` or ``"none"``.
    """

    path: Path
    frames: int
    cuts: int
    audio: str


def enhance_video(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    model: UnifiedLowLightEnhancer | None = None,
    crf: int = DEFAULT_CRF,
    tile: int | None = None,
    device: str | torch.device = "cpu",
    progress: bool = False,
    exposure: float = 0.0,
    strength: float = 1.0,
    time_constant: float = TONE_TIME_CONSTANT,
    quality: str = "auto",
    working_size: int = VIDEO_WORKING_SIZE,
    network_interval: int = NETWORK_INTERVAL,
    preset: str = DEFAULT_PRESET,
    temporal_denoise: float = TEMPORAL_DENOISE,
) -> VideoResult:
    """Enhance a video clip into an H.264 (yuv420p) file, frame by frame with steady tone.

    Frames are decoded, enhanced and encoded one at a time, so memory does not grow with the
    clip's length. The frame count, timestamps (and so the frame rate), rotation metadata
    and colour description are kept; the sound track is copied as it is where the
    container can hold it, else re-encoded to AAC (``VideoResult.audio`` says which).
    Global tone decisions are smoothed across frames and restart at scene cuts
    (``lowlight.video``). The result is written under a temporary name and renamed when
    complete.

    Args:
        src: the clip (anything FFmpeg reads: MP4, MOV, MKV, AVI, WebM, ...).
        dst: the result: ``.mp4``, ``.m4v``, ``.mov``, ``.mkv`` or ``.avi``; not ``src``.
        model: the enhancer; None loads the shipped default on ``device``.
        crf: x264's constant rate factor (0 lossless ... 51; 18 is near transparent).
        tile: see ``lowlight.inference.choose_tile``: large frames are tiled as images are.
        device: where to load the default model when ``model`` is None.
        progress: show a progress bar over the frames (on a terminal), with frames per
            second and the time left.
        exposure: as for ``lowlight.enhance``, applied to every frame.
        strength: as for ``lowlight.enhance``, applied to every frame.
        time_constant: seconds over which global decisions are averaged; 0 enhances every
            frame on its own (flickers).
        quality: as for ``lowlight.enhance``: with "auto", frames longer than 1.5 working
            sizes (over 576 pixels, with the default 384) are rendered fast.
        working_size: as for ``lowlight.enhance``; smaller by default than for pictures
            (``VIDEO_WORKING_SIZE``).
        network_interval: frames rendered fast run the network on every this many frames and
            on the first of each scene; the frames between reuse the last one's transforms
            (``TemporalStabiliser``). 1 runs it on every frame.
        temporal_denoise: how much of the previous denoised frame is averaged into each
            frame rendered fast, where nothing moved, before it is rendered
            (``TemporalDenoiser``), 0 to below 1; 0 for none.
        preset: x264's preset (``lowlight.imageio.video_writer.PRESETS``); slower ones make
            smaller files at the same ``crf``.

    Returns:
        A ``VideoResult``.

    Raises:
        LowlightError: PyAV is not installed, ``src`` cannot be read or decoded, ``dst``
            cannot be written or is ``src``, or a control or ``preset`` is out of range.
            Nothing is then left under ``dst``.
    """
    check_controls(exposure, strength)
    choose_tile(1, 1, tile)
    choose_quality(1, 1, quality)
    check_working_size(working_size)
    if not 0.0 <= temporal_denoise < 1.0:
        raise LowlightError(f"temporal_denoise must be in [0, 1), got {temporal_denoise}")
    if network_interval < 1:
        raise LowlightError(
            f"the network interval must be at least 1 frame, got {network_interval}"
        )
    source, target = Path(src), Path(dst)
    if target.exists() and source.exists() and os.path.samefile(source, target):
        raise LowlightError(f"{target} is the input clip; write the result to another file")
    if model is None:
        from lowlight.weights import load_model

        model = load_model(device=device)
    with VideoReader(source) as reader:
        info = reader.info
        bar = tqdm(
            total=info.frames,
            desc=source.name,
            unit="frame",
            leave=False,
            disable=None if progress else True,
        )
        stabiliser = TemporalStabiliser(
            model,
            time_constant=time_constant,
            network_interval=network_interval,
            temporal_denoise=temporal_denoise,
        )
        options = {
            "tile": tile,
            "exposure": exposure,
            "strength": strength,
            "quality": quality,
            "working_size": working_size,
        }
        writer = VideoWriter(target, info, reader.audio_stream, crf=crf, preset=preset)
        frames = 0
        with writer, stabiliser, bar:
            for item in reader:
                if not isinstance(item, DecodedFrame):
                    writer.write_audio(item)
                    continue
                batch = to_batch(to_float(item.rgb))
                enhanced = stabiliser.enhance(batch, item.seconds, **options)
                writer.write_frame(to_samples(from_batch(enhanced), 8), item.pts)
                frames += 1
                bar.update()
    return VideoResult(path=target, frames=frames, cuts=stabiliser.cuts, audio=writer.audio)
