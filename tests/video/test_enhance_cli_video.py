"""``lowlight enhance`` with video clips beside images: names, bars, errors, exit codes."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from video_clips import dark_frames, read_clip, write_clip

from lowlight import cli
from lowlight.video import pipeline


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """in/a.png, in/clips/night.mp4 (with sound) and in/web.webm."""
    root = tmp_path / "in"
    (root / "clips").mkdir(parents=True)
    Image.fromarray(dark_frames(1)[0]).save(root / "a.png")
    write_clip(root / "clips" / "night.mp4", dark_frames(6, pan=1), audio="aac")
    write_clip(root / "web.webm", dark_frames(4), codec="libvpx")
    return root


def _run(*args: str | Path) -> int:
    return cli.main(["enhance", *map(str, args)])


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def test_folders_hold_videos_beside_images(mixed, weights_file, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    assert _run(mixed, "-o", out, "--weights", weights_file, "--crf", "28") == 0
    assert _files(out) == {"a.png", "clips/night.mp4", "web.mp4"}
    night = read_clip(out / "clips" / "night.mp4")
    assert len(night["frames"]) == 6 and night["audio_codec"] == "aac"
    source = read_clip(mixed / "clips" / "night.mp4")["frames"]
    assert np.abs(night["frames"].astype(int) - source).mean() > 5  # the network ran
    assert capsys.readouterr().out.startswith("3 enhanced, 0 failed")


def test_files_and_globs_name_videos_too(mixed, weights_file, tmp_path) -> None:
    out = tmp_path / "out"
    clip = mixed / "clips" / "night.mp4"
    assert _run(clip, f"{mixed}/*.webm", "-o", out, "--weights", weights_file, "-q") == 0
    assert _files(out) == {"night.mp4", "web.mp4"}


def test_videos_alone_load_no_other_backend(
    mixed, weights_file, tmp_path, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("LOWLIGHT_CACHE", str(tmp_path / "cache"))
    clip = mixed / "clips" / "night.mp4"
    assert _run(clip, "-o", tmp_path / "out", "--weights", weights_file) == 0
    assert "lowlight enhance: backend PyTorch" in capsys.readouterr().err
    assert not (tmp_path / "cache").exists()  # nothing exported to ONNX


def test_exposure_and_strength_reach_videos(mixed, weights_file, tmp_path) -> None:
    clip = mixed / "clips" / "night.mp4"
    levels = {}
    for name, options in {"plain": (), "brighter": ("--exposure", "1")}.items():
        assert _run(clip, "-o", tmp_path / name, "--weights", weights_file, *options) == 0
        levels[name] = read_clip(tmp_path / name / "night.mp4")["frames"].mean()
    assert levels["brighter"] > levels["plain"] + 5
    assert _run(clip, "-o", tmp_path / "same", "--weights", weights_file, "--strength", "0") == 0
    unchanged = read_clip(tmp_path / "same" / "night.mp4")["frames"].astype(float)
    source = read_clip(clip)["frames"]
    # What differs is the encoder's loss on noise (crf 18), not the tone.
    assert abs(unchanged.mean() - source.mean()) < 0.5
    assert np.abs(unchanged - source).mean() < 4


def test_a_corrupt_clip_gets_one_line_and_leaves_nothing(mixed, weights_file, tmp_path, capsys):
    (mixed / "broken.mov").write_bytes(b"\0" * 2048)
    out = tmp_path / "out"
    assert _run(mixed, "-o", out, "--weights", weights_file) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in lines if not line.startswith("lowlight enhance: ")]  # not notes
    assert len(errors) == 1 and "broken.mov" in errors[0]
    assert lines[-1] == "lowlight enhance: 1 of 4 files failed"
    assert _files(out) == {"a.png", "clips/night.mp4", "web.mp4"}  # no partial, no temporary


def test_without_pyav_a_video_input_exits_2_with_one_line(
    mixed, weights_file, tmp_path, capsys, monkeypatch
) -> None:
    monkeypatch.setitem(sys.modules, "av", None)
    assert _run(mixed, "-o", tmp_path / "out", "--weights", weights_file) == 2
    message = capsys.readouterr().err
    assert message.count("\n") == 1 and 'pip install "lowlight[video]"' in message
    assert not (tmp_path / "out").exists()
    # Images alone do not need PyAV.
    assert _run(mixed / "a.png", "-o", tmp_path / "images", "--weights", weights_file) == 0


@pytest.mark.parametrize("crf", ["-1", "52"])
def test_a_crf_out_of_range_exits_2(mixed, weights_file, tmp_path, capsys, crf) -> None:
    assert _run(mixed, "-o", tmp_path / "out", "--weights", weights_file, "--crf", crf) == 2
    assert "crf" in capsys.readouterr().err


def test_a_bar_runs_over_the_frames_with_their_rate(mixed, weights_file, tmp_path, record_bars):
    bars = record_bars(pipeline)
    clip = mixed / "clips" / "night.mp4"
    assert _run(clip, "-o", tmp_path / "out", "--weights", weights_file) == 0
    [settings] = bars
    assert settings["disable"] is None and settings["unit"] == "frame"
    assert settings["total"] == 6 and settings["bar"].n == 6
    # tqdm's default format shows the rate (frame/s) and the time left.
    assert "frame/s" in str(settings["bar"]) and "<" in str(settings["bar"])
