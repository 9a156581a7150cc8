"""Temporal stability: global decisions averaged over frames, restarted at scene cuts."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import pytest
import torch
from video_clips import dark_frames

from lowlight.inference import enhance_tensor
from lowlight.models import UnifiedLowLightEnhancer
from lowlight.video import TemporalStabiliser


def _batches(frames: np.ndarray) -> list[torch.Tensor]:
    return [torch.from_numpy(f).permute(2, 0, 1)[None].float() / 255 for f in frames]


def _enhanced(
    model, frames, time_constant=None, network_interval=1, temporal_denoise=None, **controls
) -> list[torch.Tensor]:
    options = {} if time_constant is None else {"time_constant": time_constant}
    if temporal_denoise is not None:
        options["temporal_denoise"] = temporal_denoise
    with TemporalStabiliser(model, network_interval=network_interval, **options) as stabiliser:
        return [stabiliser.enhance(f, i / 24, **controls) for i, f in enumerate(frames)]


def _flicker(frames: list[torch.Tensor]) -> float:
    """Mean absolute change of the mean level between consecutive frames."""
    levels = torch.stack([frame.mean() for frame in frames])
    return float(levels.diff().abs().mean())


@contextlib.contextmanager
def _network_inputs(model: torch.nn.Module) -> Iterator[list[torch.Size]]:
    """The (H, W) of every picture ``model`` is run on inside the ``with`` block."""
    sizes: list[torch.Size] = []
    handle = model.register_forward_pre_hook(lambda _, args: sizes.append(args[0].shape[-2:]))
    try:
        yield sizes
    finally:
        handle.remove()


def _hooks(model: torch.nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


def test_time_constant_zero_is_frame_by_frame_bit_for_bit(fresh_model) -> None:
    frames = _batches(dark_frames(4))
    with torch.inference_mode():
        expected = [enhance_tensor(fresh_model, f) for f in frames]
    for result, alone in zip(_enhanced(fresh_model, frames, 0.0), expected, strict=True):
        assert torch.equal(result, alone)


def test_the_first_frame_is_the_models_own_and_the_hooks_go_away(fresh_model) -> None:
    frames = _batches(dark_frames(3))
    hooks = _hooks(fresh_model)
    with torch.inference_mode():
        alone = enhance_tensor(fresh_model, frames[0])
    smoothed = _enhanced(fresh_model, frames)
    assert torch.equal(smoothed[0], alone)
    assert _hooks(fresh_model) == hooks
    with torch.inference_mode():
        assert torch.equal(enhance_tensor(fresh_model, frames[0]), alone)


def test_a_static_noisy_clip_flickers_less_than_frame_by_frame(fresh_model) -> None:
    # A trained model's global decisions follow the noise; their averages do so far less.
    # A fresh one's curves start near identity, so it has little to steady, but the
    # averages must never make it worse.
    from lowlight.weights import load_model

    frames = _batches(dark_frames(16, size=(48, 64)))
    for model, bar in ((load_model(), 0.75), (fresh_model, 1.0)):
        frame_by_frame = _flicker(_enhanced(model, frames, 0.0))
        assert _flicker(_enhanced(model, frames)) < bar * frame_by_frame


def test_the_averages_restart_at_a_scene_cut() -> None:
    torch.manual_seed(0)
    model = UnifiedLowLightEnhancer().eval()
    frames = _batches(dark_frames(12, cut_at=6))
    with TemporalStabiliser(model) as stabiliser:
        results = [stabiliser.enhance(f, i / 24) for i, f in enumerate(frames)]
    assert stabiliser.cuts == 2
    with torch.inference_mode():
        assert torch.equal(results[6], enhance_tensor(model, frames[6]))
        # Within a few frames the new scene keeps the level frame-by-frame gives it.
        for index in range(6, 9):
            own = enhance_tensor(model, frames[index]).mean()
            assert abs(float(results[index].mean() / own) - 1) < 0.01


def test_real_changes_of_brightness_pass_through(fresh_model) -> None:
    # The input brightens by half over the clip (light coming on slowly, no cut): the
    # output brightens with it instead of being held at the first frame's level.
    frames = _batches(dark_frames(12))
    ramp = [frame * (1 + 0.5 * index / 11) for index, frame in enumerate(frames)]
    results = _enhanced(fresh_model, ramp)
    with torch.inference_mode():
        alone = [enhance_tensor(fresh_model, frame).mean() for frame in ramp]
    assert float(results[-1].mean() / results[0].mean()) > 1.1
    # Only the model's own reaction (a lower gain for a brighter picture) lags behind, by
    # a fraction of the 50% change (a fresh network's gain falls steeply with the level).
    assert 1 <= float(results[-1].mean() / alone[-1]) < 1.25


def test_tiled_frames_share_the_averaged_decisions(fresh_model) -> None:
    frames = _batches(dark_frames(6, size=(48, 64)))
    tiled = _enhanced(fresh_model, frames, tile=32)
    whole = _enhanced(fresh_model, frames)
    assert tiled[-1].shape == (1, 3, 48, 64)
    # Tiles see less of the picture, so they differ in detail, but not in tone.
    assert abs(float(tiled[-1].mean() - whole[-1].mean())) < 0.02


def test_fast_frames_take_their_decisions_from_the_one_reduced_pass() -> None:
    # On the fast path the network sees each frame once, reduced; the shipped model's steadied
    # decisions then hold the rendered frames as steady as whole ones.
    from lowlight.weights import load_model

    model = load_model()
    frames = _batches(dark_frames(16, size=(72, 96)))
    with _network_inputs(model) as sizes:
        fast = _enhanced(model, frames, quality="fast", working_size=48)
    assert sizes == [torch.Size([36, 48])] * 16
    frame_by_frame = _enhanced(model, frames, 0.0, quality="fast", working_size=48)
    assert _flicker(fast) < 0.75 * _flicker(frame_by_frame)


def test_fast_frames_between_network_passes_reuse_its_transforms() -> None:
    from lowlight.weights import load_model

    model = load_model()
    frames = _batches(dark_frames(8, size=(72, 96)))
    fast = {"quality": "fast", "working_size": 40, "temporal_denoise": 0.0}
    every = _enhanced(model, frames, **fast)
    with _network_inputs(model) as sizes:
        second = _enhanced(model, frames, network_interval=2, **fast)
    assert sizes == [torch.Size([30, 40])] * 4  # frames 0, 2, 4 and 6
    # A new scene runs the network at once: frames 0, 1 (the cut) and 5.
    cut = _batches(dark_frames(6, size=(72, 96), cut_at=1))
    with _network_inputs(model) as sizes:
        _enhanced(model, cut, network_interval=4, quality="fast", working_size=48)
    assert len(sizes) == 3
    # A frame rendered through the last one's transforms differs from its own rendering by
    # less than the noise alone moves consecutive frames' own renderings (at most 1.2
    # against at least 2.6 levels of 255), and flickers no more. A reduction of 2.4 fits the
    # transforms per 2 x 2 cell, as a 1280x720 frame at the clips' working size gets.
    own = [float((a - b).abs().mean()) for a, b in zip(every, every[1:], strict=False)]
    reused = [float((a - b).abs().mean()) for a, b in zip(every[1::2], second[1::2], strict=True)]
    assert max(reused) < 2 / 255 and max(reused) < 0.6 * min(own)
    assert _flicker(second) < 1.2 * _flicker(every)
    with pytest.raises(ValueError, match="network_interval"):
        TemporalStabiliser(model, network_interval=0)


def test_controls_apply_to_every_frame(fresh_model) -> None:
    frames = _batches(dark_frames(4))
    plain = _enhanced(fresh_model, frames)
    brighter = _enhanced(fresh_model, frames, exposure=1.0)
    unchanged = _enhanced(fresh_model, frames, strength=0.0)
    assert all(b.mean() > p.mean() + 0.01 for b, p in zip(brighter, plain, strict=True))
    assert all(torch.equal(u, f) for u, f in zip(unchanged, frames, strict=True))


def test_misuse_is_refused(fresh_model) -> None:
    stabiliser = TemporalStabiliser(fresh_model)
    with pytest.raises(RuntimeError, match="context manager"):
        stabiliser.enhance(torch.zeros(1, 3, 16, 16), 0.0)
    with pytest.raises(ValueError, match="time_constant"):
        TemporalStabiliser(fresh_model, time_constant=-1)
    with stabiliser, pytest.raises(ValueError, match="one frame"):
        stabiliser.enhance(torch.zeros(2, 3, 16, 16), 0.0)
