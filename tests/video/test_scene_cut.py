"""Scene cuts from input statistics: noise and panning are not cuts, a new shot is."""

from __future__ import annotations

import pytest
import torch
from video_clips import dark_frames

from lowlight.video.scene_cut import CUT_THRESHOLD, SceneCutDetector


def _cuts(frames) -> list[int]:
    detector = SceneCutDetector()
    batches = (torch.from_numpy(f).permute(2, 0, 1)[None].float() / 255 for f in frames)
    return [index for index, frame in enumerate(batches) if detector.is_cut(frame)]


@pytest.mark.parametrize("seed", range(3))
def test_noise_and_panning_are_not_cuts(seed) -> None:
    assert _cuts(dark_frames(12, size=(72, 128), seed=seed)) == [0]
    assert _cuts(dark_frames(12, size=(72, 128), pan=4, seed=seed)) == [0]


@pytest.mark.parametrize("seed", range(3))
def test_a_new_shot_is_a_cut(seed) -> None:
    assert _cuts(dark_frames(12, size=(72, 128), pan=2, cut_at=5, seed=seed)) == [0, 5]


def test_a_jump_in_level_alone_is_a_cut() -> None:
    frame = torch.from_numpy(dark_frames(1)[0]).permute(2, 0, 1)[None].float() / 255
    detector = SceneCutDetector()
    assert [detector.is_cut(f) for f in (frame, frame * 1.1, frame * 1.6)] == [True, False, True]


def test_the_threshold_is_adjustable() -> None:
    frames = dark_frames(8, cut_at=4)
    never = SceneCutDetector(threshold=float("inf"))
    batches = [torch.from_numpy(f).permute(2, 0, 1)[None].float() / 255 for f in frames]
    assert [never.is_cut(f) for f in batches] == [True] + [False] * 7
    assert CUT_THRESHOLD == SceneCutDetector().threshold
