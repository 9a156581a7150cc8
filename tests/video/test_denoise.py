"""Temporal denoising: still pixels averaged over frames, moving ones left alone."""

from __future__ import annotations

import pytest
import torch

from lowlight.video.denoise import TemporalDenoiser, frame_noise


def _noisy(picture: torch.Tensor, sigma: float, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return picture + sigma * torch.randn(picture.shape, generator=generator)


def _scene(seed: int) -> torch.Tensor:
    """A textured (1, 3, 64, 96) picture: smooth blobs and a sharp bar."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, 3, 8, 12, generator=generator) * 0.4 + 0.1
    picture = torch.nn.functional.interpolate(coarse, size=(64, 96), mode="bicubic")
    picture[..., 20:44, 40:48] = 0.8
    return picture


def test_the_noise_estimate_is_each_channels_noise() -> None:
    flat = (
        _noisy(torch.full((1, 3, 120, 160), 0.3), 0.02, 0)
        * torch.tensor([1, 2, 0.5])[:, None, None]
    )
    assert frame_noise(flat).tolist() == pytest.approx([0.02, 0.04, 0.01], rel=0.08)
    assert float(frame_noise(torch.full((1, 3, 8, 8), 0.3)).min()) > 0  # clean: rounding's


def test_a_still_scene_loses_most_of_its_noise() -> None:
    scene, sigma = _scene(0), 0.02
    denoise = TemporalDenoiser()
    frames = [denoise(_noisy(scene, sigma, seed)) for seed in range(12)]
    left = float((frames[-1] - scene).std())
    assert left < 0.65 * sigma  # (1 - 0.5) / (1 + 0.5) of the variance: 0.58 sigma
    assert abs(float((frames[-1] - scene).mean())) < 0.002


def test_what_moves_is_not_smeared_and_a_cut_restarts_the_average() -> None:
    denoise = TemporalDenoiser()
    for seed in range(4):
        denoise(_noisy(_scene(0), 0.01, seed))
    moved = _noisy(torch.roll(_scene(0), 12, dims=-1), 0.01, 9)
    out = denoise(moved)
    bar = (slice(None), slice(None), slice(24, 40), slice(54, 58))  # inside the moved bar
    assert torch.equal(out[bar], moved[bar])
    # A new scene: only where it happens to match the last one within the noise is it averaged.
    cut = _noisy(_scene(1), 0.01, 10)
    changed = (out - cut).abs().amax(dim=1, keepdim=True) > 0.1
    assert float((denoise(cut) - cut).abs().amax(dim=1, keepdim=True)[changed].max()) < 0.02


def test_strength_zero_and_new_sizes_pass_frames_through() -> None:
    frame = _noisy(_scene(0), 0.02, 0)
    off = TemporalDenoiser(0.0)
    off(frame)
    second = _noisy(_scene(0), 0.02, 1)
    assert torch.equal(off(second), second)
    on = TemporalDenoiser()
    on(frame)
    small = frame[..., :32, :48].contiguous()
    assert torch.equal(on(small), small)
    with pytest.raises(ValueError, match="strength"):
        TemporalDenoiser(1.0)
