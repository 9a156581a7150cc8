"""Reading a video clip with PyAV: its description, then its frames and sound in file order.

Frames are decoded one at a time as packets arrive, so a clip of any length is read in the
memory of a few frames. Sound packets are passed on undecoded, for the writer to copy.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from lowlight.errors import LowlightError
from lowlight.imageio.pyav import conversion_flags, import_av

__all__ = ["VideoInfo", "DecodedFrame", "VideoReader"]

# Assumed when a clip states no frame rate (for timestamps missing from frames).
_FALLBACK_RATE = Fraction(25)


@dataclass(frozen=True)
class VideoInfo:
    """What a clip's video stream says about itself.

    Attributes:
        width, height: frame size in stored pixels (before any rotation on display).
        time_base: the unit of the frames' timestamps, in seconds.
        frame_rate: the average frame rate, or None where the clip does not state one.
        frames: how many frames the clip holds, as stated or estimated from its duration;
            None where neither is known.
        display_matrix: the 3x3 display transformation (rotation, flips) as FFmpeg stores
            it, nine integers; None for none.
        colour: the stream's colour description (``colorspace``, ``color_primaries``,
            ``color_trc``, ``color_range``; FFmpeg's codes, 2 or 0 for unspecified).
        audio_codec: the sound track's codec, or None for a silent clip.
    """

    width: int
    height: int
    time_base: Fraction
    frame_rate: Fraction | None
    frames: int | None
    display_matrix: tuple[int, ...] | None
    colour: dict[str, int]
    audio_codec: str | None


@dataclass(frozen=True)
class DecodedFrame:
    """One decoded frame.

    Attributes:
        rgb: uint8 (H, W, 3), sRGB-encoded as stored (not rotated).
        pts: its presentation timestamp in ``VideoInfo.time_base`` units.
        seconds: the same in seconds.
    """

    rgb: np.ndarray
    pts: int
    seconds: float


class VideoReader:
    """A video file opened for reading; use as a context manager, then iterate.

    Iterating yields ``DecodedFrame`` objects for the first video stream and, in between,
    the first sound stream's packets (``av.Packet``) in file order; other streams are
    skipped.

    Args:
        path: the clip.

    Raises:
        LowlightError: PyAV is missing, or the file cannot be opened or holds no video
            stream (also while iterating: a frame that cannot be decoded).
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._av = import_av()
        try:
            self._container = self._av.open(str(self.path))
        except (self._av.FFmpegError, OSError, UnicodeDecodeError) as exc:
            raise self._error("cannot open video", exc) from exc
        try:
            if not self._container.streams.video:
                raise LowlightError(f"{self.path}: no video stream in the file")
            self.video_stream = self._container.streams.video[0]
            self.video_stream.thread_type = "AUTO"
            audio = self._container.streams.audio
            self.audio_stream = audio[0] if audio else None
            self._first_frame: Any = None
            self._items = self._demuxed()
            # Frames carry the display matrix; read up to the first one to describe the clip.
            self._buffered: deque[Any] = deque()
            for item in self._items:
                self._buffered.append(item)
                if isinstance(item, DecodedFrame):
                    break
            else:
                raise LowlightError(f"{self.path}: the video stream holds no frames")
            self.info = self._describe()
        except BaseException:
            self._container.close()
            raise

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._container.close()

    def __iter__(self) -> Iterator[DecodedFrame | Any]:
        while self._buffered:
            yield self._buffered.popleft()
        yield from self._items

    def _demuxed(self) -> Iterator[DecodedFrame | Any]:
        streams = [s for s in (self.video_stream, self.audio_stream) if s is not None]
        rate = self.video_stream.average_rate or _FALLBACK_RATE
        time_base = self.video_stream.time_base or 1 / rate
        step = max(1, round(1 / (rate * time_base)))
        # AVI stores no presentation times, only a frame rate: its frames are numbered (what
        # its demuxer reports for reordered frames is out of order).
        numbered = "avi" in self._container.format.name.split(",")
        last: int | None = None
        try:
            for packet in self._container.demux(streams):
                if packet.stream.type == "audio":
                    if packet.dts is not None and packet.size:
                        yield packet
                    continue
                for frame in packet.decode():
                    if self._first_frame is None:
                        self._first_frame = frame
                    last = _presentation_time(frame.pts, last, step, numbered)
                    rgb = _rgb(frame, conversion_flags(self._av))
                    yield DecodedFrame(rgb, last, float(last * time_base))
        except self._av.FFmpegError as exc:
            raise self._error("cannot decode video", exc) from exc

    def _describe(self) -> VideoInfo:
        stream = self.video_stream
        context = stream.codec_context
        first = self._first_frame
        rate = stream.average_rate or stream.guessed_rate
        frames = stream.frames or None
        if frames is None and stream.duration and rate:
            frames = round(stream.duration * stream.time_base * rate)
        elif frames is None and self._container.duration and rate:
            frames = round(self._container.duration / 1_000_000 * rate)
        colour = {
            "colorspace": first.colorspace,
            "color_primaries": context.color_primaries,
            "color_trc": context.color_trc,
            "color_range": first.color_range,
        }
        return VideoInfo(
            width=first.width,
            height=first.height,
            time_base=stream.time_base or 1 / Fraction(rate or _FALLBACK_RATE),
            frame_rate=Fraction(rate) if rate else None,
            frames=frames,
            display_matrix=_display_matrix(first),
            colour=colour,
            audio_codec=self.audio_stream.codec_context.name if self.audio_stream else None,
        )

    def _error(self, what: str, exc: Exception) -> LowlightError:
        reason = getattr(exc, "strerror", None) or str(exc)
        return LowlightError(f"{self.path}: {what} ({reason}); is it a complete video file?")


def _presentation_time(pts: int | None, last: int | None, step: int, numbered: bool) -> int:
    """A frame's timestamp: its own, unless it has none, the clip is ``numbered`` or it would
    not come after the last one (decoders emit frames in presentation order); then one
    frame interval (``step``) after the last.

    Examples:
        >>> [_presentation_time(p, l, 1, False) for p, l in [(5, None), (None, 5), (3, 6)]]
        [5, 6, 7]
    """
    if last is None:
        return pts or 0
    if numbered or pts is None or pts <= last:
        return last + step
    return pts


def _rgb(frame: Any, flags: int) -> np.ndarray:
    """The frame as uint8 (H, W, 3) RGB, converted with its own colour matrix and range."""
    options = {"src_color_range": frame.color_range} if frame.color_range else {}
    return frame.to_ndarray(format="rgb24", interpolation=flags, **options)


def _display_matrix(frame: Any) -> tuple[int, ...] | None:
    from av.sidedata.sidedata import Type

    for data in frame.side_data:
        if data.type == Type.DISPLAYMATRIX:
            return tuple(int(v) for v in np.frombuffer(bytes(data), dtype="<i4"))
    return None
