"""``lowlight.enhance_video``: what survives the trip, what a bad clip does, streaming."""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
from video_clips import TONE_HZ, dark_frames, dominant_frequency, read_clip, write_clip

import lowlight
from lowlight.errors import LowlightError
from lowlight.imageio import video_reader, video_writer
from lowlight.imageio.pyav import import_av


@pytest.fixture(scope="module")
def panning_clip(tmp_path_factory) -> Path:
    """48 dark frames panning over a scene at 24 fps, with a 440 Hz tone in AAC."""
    folder = tmp_path_factory.mktemp("clips")
    return write_clip(folder / "pan.mp4", dark_frames(48, pan=1), audio="aac")


def _enhance(src: Path, dst: Path, model, **options) -> lowlight.video.VideoResult:
    return lowlight.enhance_video(src, dst, model=model, **options)


def test_a_panning_clip_with_sound_keeps_frames_rate_timing_and_sound(
    panning_clip, fresh_model, tmp_path
) -> None:
    result = _enhance(panning_clip, tmp_path / "bright.mp4", fresh_model)
    source, output = read_clip(panning_clip), read_clip(tmp_path / "bright.mp4")
    assert result.frames == 48 and result.audio == "copied" and result.cuts == 1
    assert len(output["frames"]) == 48
    assert output["rate"] == source["rate"] == 24
    assert output["seconds"] == pytest.approx(source["seconds"], abs=1e-6)
    assert (output["codec"], output["pix_fmt"]) == ("h264", "yuv420p")
    assert output["audio_codec"] == source["audio_codec"] == "aac"
    # The sound is copied: the same samples, decoded.
    np.testing.assert_array_equal(output["sound"], source["sound"])
    assert dominant_frequency(output["sound"]) == pytest.approx(TONE_HZ, abs=2)
    # The network ran: the picture changed far more than H.264 changes it.
    assert np.abs(output["frames"].astype(int) - source["frames"]).mean() > 5


def test_variable_frame_timing_is_kept(fresh_model, tmp_path) -> None:
    stamps = [0, 1, 2, 4, 5, 8, 9, 10]
    clip = write_clip(tmp_path / "vfr.mkv", dark_frames(8), pts=stamps)
    _enhance(clip, tmp_path / "out.mkv", fresh_model)
    expected = [stamp / 24 for stamp in stamps]
    assert read_clip(tmp_path / "out.mkv")["seconds"] == pytest.approx(expected, abs=1e-3)


@pytest.mark.parametrize(("name", "rotation"), [("phone.mp4", 90), ("phone.mov", -90)])
def test_rotation_metadata_is_kept(name, rotation, fresh_model, tmp_path) -> None:
    clip = write_clip(tmp_path / name, dark_frames(3), rotation=rotation)
    _enhance(clip, tmp_path / f"out{clip.suffix}", fresh_model)
    output = read_clip(tmp_path / f"out{clip.suffix}")
    assert output["rotation"] == read_clip(clip)["rotation"] == rotation
    assert output["frames"].shape == (3, 48, 64, 3)  # stored as it was, turned on display


def test_webm_becomes_mp4_with_its_opus_sound_copied(fresh_model, tmp_path) -> None:
    clip = write_clip(tmp_path / "web.webm", dark_frames(6), audio="libopus", codec="libvpx")
    assert video_writer.video_output_path(clip) == tmp_path / "web.mp4"
    result = _enhance(clip, tmp_path / "web.mp4", fresh_model)
    output = read_clip(tmp_path / "web.mp4")
    assert (result.audio, output["audio_codec"], output["format"].split(",")[0]) == (
        "copied",
        "opus",
        "mov",
    )
    assert len(output["frames"]) == 6


def test_sound_the_container_cannot_hold_is_re_encoded_to_aac(fresh_model, tmp_path) -> None:
    clip = write_clip(tmp_path / "opus.mkv", dark_frames(12), audio="libopus")
    result = _enhance(clip, tmp_path / "out.mov", fresh_model)  # MOV takes no Opus
    output = read_clip(tmp_path / "out.mov")
    assert (result.audio, output["audio_codec"]) == ("re-encoded to AAC", "aac")
    assert dominant_frequency(output["sound"]) == pytest.approx(TONE_HZ, abs=2)
    assert len(output["sound"]) == pytest.approx(len(read_clip(clip)["sound"]), rel=0.05)


def test_avi_and_silent_clips(fresh_model, tmp_path) -> None:
    clip = write_clip(tmp_path / "old.avi", dark_frames(8), audio="libmp3lame")
    result = _enhance(clip, tmp_path / "out.avi", fresh_model, crf=30)
    output = read_clip(tmp_path / "out.avi")
    assert (result.audio, len(output["frames"]), output["rate"]) == ("copied", 8, 24)
    silent = write_clip(tmp_path / "silent.mp4", dark_frames(4))
    assert _enhance(silent, tmp_path / "quiet.mp4", fresh_model).audio == "none"
    assert read_clip(tmp_path / "quiet.mp4")["sound"] is None


def test_crf_sets_the_quality(fresh_model, tmp_path) -> None:
    clip = write_clip(tmp_path / "in.mp4", dark_frames(6, size=(96, 128)))
    _enhance(clip, tmp_path / "fine.mp4", fresh_model, crf=10)
    _enhance(clip, tmp_path / "coarse.mp4", fresh_model, crf=40)
    assert (tmp_path / "coarse.mp4").stat().st_size < (tmp_path / "fine.mp4").stat().st_size / 2
    with pytest.raises(LowlightError, match="crf"):
        _enhance(clip, tmp_path / "bad.mp4", fresh_model, crf=60)


def test_large_frames_are_rendered_fast(fresh_model, tmp_path) -> None:
    clip = write_clip(tmp_path / "in.mp4", dark_frames(3, size=(96, 128)))
    sizes = []
    hook = fresh_model.register_forward_pre_hook(lambda _, a: sizes.append(a[0].shape[-2:]))
    try:
        every = _enhance(
            clip, tmp_path / "every.mp4", fresh_model, working_size=64, network_interval=1
        )
        result = _enhance(clip, tmp_path / "out.mp4", fresh_model, working_size=64)
    finally:
        hook.remove()
    # 128 > 1.5 x 64: fast, the network on every frame, then by default on every second one.
    assert every.frames == result.frames == 3
    assert sizes == [torch.Size([48, 64])] * (3 + 2)
    with pytest.raises(LowlightError, match="unknown quality"):
        _enhance(clip, tmp_path / "bad.mp4", fresh_model, quality="best")


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_corrupt_clip_is_one_clear_error_and_leaves_nothing(
    damage, panning_clip, fresh_model, tmp_path
) -> None:
    data = panning_clip.read_bytes()
    bad = tmp_path / "in" / "bad.mp4"
    bad.parent.mkdir()
    bad.write_bytes(b"\0" * 4096 if damage == "garbage" else data[: len(data) // 2])
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(LowlightError) as error:
        _enhance(bad, out / "bad.mp4", fresh_model)
    message = str(error.value)
    assert "\n" not in message and str(bad) in message and "video" in message
    assert list(out.iterdir()) == []


def test_a_failure_while_writing_leaves_nothing(panning_clip, fresh_model, tmp_path, monkeypatch):
    calls = []

    def failing(self, rgb, pts):
        calls.append(pts)
        if len(calls) == 5:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(video_writer.VideoWriter, "write_frame", failing)
    with pytest.raises(OSError, match="No space"):
        _enhance(panning_clip, tmp_path / "out.mp4", fresh_model)
    assert list(tmp_path.iterdir()) == []


def test_the_input_is_never_the_output(panning_clip, fresh_model) -> None:
    before = panning_clip.read_bytes()
    with pytest.raises(LowlightError, match="input clip"):
        _enhance(panning_clip, panning_clip, fresh_model)
    assert panning_clip.read_bytes() == before


def test_unwritable_results_are_one_clear_error(panning_clip, fresh_model, tmp_path) -> None:
    with pytest.raises(LowlightError, match="cannot write .*missing"):
        _enhance(panning_clip, tmp_path / "missing" / "out.mp4", fresh_model)
    with pytest.raises(LowlightError, match=r"cannot write video as out\.flv"):
        _enhance(panning_clip, tmp_path / "out.flv", fresh_model)
    assert list(tmp_path.iterdir()) == []


def test_frames_stream_through_one_at_a_time(panning_clip, fresh_model, tmp_path, monkeypatch):
    # Memory stays bounded by a few frames whatever the clip's length: each frame is
    # written before the decoder is asked for much more.
    decoded, held = [0], []
    iterate = video_reader.VideoReader.__iter__

    def counting(self):
        for item in iterate(self):
            decoded[0] += isinstance(item, video_reader.DecodedFrame)
            yield item

    write = video_writer.VideoWriter.write_frame

    def recording(self, rgb, pts):
        held.append(decoded[0] - len(held))
        write(self, rgb, pts)

    monkeypatch.setattr(video_reader.VideoReader, "__iter__", counting)
    monkeypatch.setattr(video_writer.VideoWriter, "write_frame", recording)
    _enhance(panning_clip, tmp_path / "out.mp4", fresh_model)
    assert len(held) == 48 and max(held) == 1


def test_without_pyav_one_line_says_what_to_install(monkeypatch, tmp_path) -> None:
    monkeypatch.setitem(sys.modules, "av", None)  # import av now raises ImportError
    with pytest.raises(LowlightError, match=r'pip install "lowlight\[video\]"') as error:
        import_av()
    assert "\n" not in str(error.value)
    with pytest.raises(LowlightError, match="PyAV"):
        lowlight.enhance_video(tmp_path / "a.mp4", tmp_path / "b.mp4", model=object())


def test_the_reader_describes_the_clip(panning_clip) -> None:
    with video_reader.VideoReader(panning_clip) as reader:
        info = reader.info
        assert (info.width, info.height, info.frames) == (64, 48, 48)
        assert info.frame_rate == 24 and info.audio_codec == "aac"
        assert info.time_base > 0 and isinstance(info.time_base, Fraction)


def test_the_preset_trades_encoding_time_for_size(fresh_model, tmp_path) -> None:
    clip = write_clip(tmp_path / "in.mp4", dark_frames(6, size=(96, 128)))
    _enhance(clip, tmp_path / "quick.mp4", fresh_model, preset="ultrafast")
    _enhance(clip, tmp_path / "small.mp4", fresh_model, preset="slow")
    assert (tmp_path / "small.mp4").stat().st_size < (tmp_path / "quick.mp4").stat().st_size
    with pytest.raises(LowlightError, match="unknown preset"):
        _enhance(clip, tmp_path / "bad.mp4", fresh_model, preset="instant")
    assert not (tmp_path / "bad.mp4").exists()
