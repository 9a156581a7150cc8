"""Small clips made here with PyAV (no binary fixtures): dark, noisy scenes that pan, cut,
carry a sine tone or a rotation, in several containers; and what a test reads back."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch

av = pytest.importorskip("av", reason="video tests need PyAV: pip install 'lowlight[video]'")

TONE_HZ = 440.0
SAMPLE_RATE = 48000
# Photo-electrons at full white and read noise: a small sensor at high gain (as in samples/).
FULL_WELL = 3000.0
READ_NOISE = 2.5


def scene(seed: int, height: int, width: int) -> np.ndarray:
    """A well-exposed picture in linear light, (height, width, 3) in [0, 1]: smooth colour
    fields with a few sharp rectangles, different for every seed."""
    rng = np.random.default_rng(seed)
    coarse = torch.from_numpy(rng.uniform(0.05, 0.8, (1, 3, 4, 6)).astype(np.float32))
    picture = (
        torch.nn.functional.interpolate(
            coarse, size=(height, width), mode="bilinear", align_corners=False
        )[0]
        .permute(1, 2, 0)
        .numpy()
        .copy()
    )
    for _ in range(4):
        top, left = rng.integers(0, height - 4), rng.integers(0, width - 4)
        picture[top : top + height // 4, left : left + width // 5] = rng.uniform(0, 1, 3)
    return picture


def darken(linear: np.ndarray, exposure: float, rng: np.random.Generator) -> np.ndarray:
    """A short exposure of ``linear``: shot and read noise, then 8-bit sRGB (H, W, 3) uint8."""
    electrons = rng.poisson(linear * exposure * FULL_WELL) + rng.normal(0, READ_NOISE, linear.shape)
    light = np.clip(electrons / FULL_WELL, 0.0, 1.0)
    encoded = np.where(light <= 0.0031308, 12.92 * light, 1.055 * light ** (1 / 2.4) - 0.055)
    return np.round(encoded * 255).astype(np.uint8)


def dark_frames(
    frames: int,
    size: tuple[int, int] = (48, 64),
    pan: int = 0,
    cut_at: int | None = None,
    exposure: float = 0.05,
    seed: int = 0,
) -> np.ndarray:
    """uint8 (frames, H, W, 3): a dark, noisy view panning ``pan`` pixels a frame over one
    scene, then from frame ``cut_at`` over another, three times as brightly lit."""
    height, width = size
    rng = np.random.default_rng(seed + 1000)
    wide = [scene(seed + k, height, width + pan * frames) for k in range(2)]
    views = []
    for index in range(frames):
        second = cut_at is not None and index >= cut_at
        view = wide[second][:, index * pan : index * pan + width]
        views.append(darken(view, exposure * (3 if second else 1), rng))
    return np.stack(views)


def write_clip(
    path: Path,
    frames: np.ndarray,
    rate: Fraction = Fraction(24),
    audio: str | None = None,
    rotation: float | None = None,
    pts: Sequence[int] | None = None,
    codec: str = "libx264",
) -> Path:
    """Encode ``frames`` (uint8 (N, H, W, 3)) at ``rate``, near-losslessly, with a sine tone
    in ``audio`` codec as long as the video, a display rotation and timestamps (in units of
    1 / rate) when given. The container follows the extension."""
    options = {"crf": "4"} if codec == "libx264" else {}
    with av.open(str(path), "w") as container:
        video = container.add_stream(codec, rate=rate, options=options)
        video.height, video.width = frames.shape[1:3]
        video.pix_fmt = "yuv420p"
        if rotation is not None:
            video.set_display_rotation(rotation)
        sound = container.add_stream(audio, rate=SAMPLE_RATE) if audio else None
        if sound is not None:
            sound.layout = "mono"
        for index, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = index if pts is None else pts[index]
            frame.time_base = 1 / rate
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        if sound is not None:
            _write_tone(container, sound, len(frames) / rate)
    return path


def _write_tone(container, stream, seconds: Fraction) -> None:
    samples = np.arange(int(SAMPLE_RATE * seconds))
    tone = (0.3 * np.sin(2 * np.pi * TONE_HZ * samples / SAMPLE_RATE)).astype(np.float32)
    frame = av.AudioFrame.from_ndarray(tone[None], format="flt", layout="mono")
    frame.sample_rate, frame.pts = SAMPLE_RATE, 0
    context = stream.codec_context
    resampler = av.AudioResampler(
        format=context.format.name,
        layout="mono",
        rate=SAMPLE_RATE,
        frame_size=context.frame_size or None,
    )
    for piece in [*resampler.resample(frame), *resampler.resample(None)]:
        container.mux(stream.encode(piece))
    container.mux(stream.encode(None))


def read_clip(path: Path) -> dict:
    """What a test checks of a clip: frames (uint8), timestamps in seconds, rate, rotation,
    the sound's codec and its samples (float, mono mix), and the container's format."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        decoded = list(container.decode(stream))
        result = {
            "frames": np.stack([_rgb(frame) for frame in decoded]),
            "seconds": [float(frame.pts * frame.time_base) for frame in decoded],
            "rate": stream.average_rate,
            "rotation": decoded[0].rotation,
            "codec": stream.codec_context.name,
            "pix_fmt": stream.codec_context.pix_fmt,
            "format": container.format.name,
            "audio_codec": None,
            "sound": None,
        }
    with av.open(str(path)) as container:
        if container.streams.audio:
            result["audio_codec"] = container.streams.audio[0].codec_context.name
            pieces = [f.to_ndarray().mean(axis=0) for f in container.decode(audio=0)]
            result["sound"] = np.concatenate(pieces).astype(np.float64)
    return result


def _rgb(frame) -> np.ndarray:
    flag = av.video.reformatter.Interpolation  # FFmpeg's default is about a level dark
    flags = flag.BILINEAR | flag.ACCURATE_RND | flag.FULL_CHR_H_INT | flag.FULL_CHR_H_INP
    return frame.to_ndarray(format="rgb24", interpolation=flags)


def dominant_frequency(sound: np.ndarray) -> float:
    """The frequency (Hz) of the strongest component of ``sound`` sampled at SAMPLE_RATE."""
    spectrum = np.abs(np.fft.rfft(sound * np.hanning(len(sound))))
    return float(np.fft.rfftfreq(len(sound), 1 / SAMPLE_RATE)[spectrum.argmax()])
