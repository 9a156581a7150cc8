"""Fast and full quality: which a picture gets, what the fast one runs, and that it agrees
with the full one in tone and keeps sharp edges without halos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

import lowlight
from lowlight import inference
from lowlight.errors import LowlightError
from lowlight.imageio.full_resolution import reduce_to, reduced_shape
from lowlight.models import UnifiedLowLightEnhancer

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
LEVEL = 1 / 255


@pytest.fixture(scope="module")
def model(weights_file: Path) -> UnifiedLowLightEnhancer:
    return lowlight.load_model(weights_file)


@pytest.fixture(scope="module")
def shipped() -> UnifiedLowLightEnhancer:
    return lowlight.load_model()


def _sample(name: str, longer_side: int) -> torch.Tensor:
    """A bundled dark sample enlarged to ``longer_side``, with a little noise: (1, 3, H, W)."""
    picture = np.array(Image.open(SAMPLES / f"{name}.png").convert("RGB"))
    tensor = torch.from_numpy(picture).permute(2, 0, 1)[None].float() / 255
    scale = longer_side / max(tensor.shape[-2:])
    tensor = F.interpolate(tensor, scale_factor=scale, mode="bicubic")
    noise = torch.randn(tensor.shape, generator=torch.Generator().manual_seed(0)) * LEVEL
    return (tensor + noise).clamp(0, 1)


@pytest.mark.parametrize(
    ("size", "quality", "side", "expected"),
    [
        ((3024, 4032), "auto", 768, "fast"),
        ((720, 1280), "auto", 768, "fast"),  # 1280 > 1.5 x 768
        ((720, 1080), "auto", 768, "full"),
        ((400, 600), "fast", 768, "full"),  # nothing to reduce
        ((400, 600), "fast", 300, "fast"),
        ((3024, 4032), "full", 768, "full"),
    ],
)
def test_choose_quality(size, quality, side, expected) -> None:
    assert inference.choose_quality(*size, quality, side) == expected


def test_unknown_qualities_and_working_sizes_are_refused(model) -> None:
    image = np.zeros((20, 30, 3), np.uint8)
    with pytest.raises(LowlightError, match="unknown quality 'best'; use one of auto, fast, full"):
        lowlight.enhance(image, model=model, quality="best")
    with pytest.raises(LowlightError, match="working size must be between 32 and 2048, got 8"):
        lowlight.enhance(image, model=model, working_size=8)


def test_the_fast_quality_runs_the_network_once_on_the_reduced_picture(model) -> None:
    sizes = []
    handle = model.register_forward_pre_hook(lambda _, args: sizes.append(args[0].shape[-2:]))
    try:
        image = (np.random.default_rng(0).random((120, 200, 3)) * 40).astype(np.uint8)
        result = lowlight.enhance(image, model=model, quality="fast", working_size=64)
    finally:
        handle.remove()
    assert sizes == [torch.Size([38, 64])]
    assert result.shape == image.shape and result.dtype == np.uint8


def test_auto_renders_large_pictures_fast_and_small_ones_in_full(model) -> None:
    sizes = []
    handle = model.register_forward_pre_hook(lambda _, args: sizes.append(args[0].shape[-2:]))
    try:
        picture = torch.rand(1, 3, 60, 100) * 0.2
        inference.enhance_tensor(model, picture, working_size=64)  # 100 > 1.5 x 64: fast
        assert sizes == [torch.Size([38, 64])]
        sizes.clear()
        inference.enhance_tensor(model, picture[..., :90], working_size=64)  # 90 <= 96: full
        assert sizes == [torch.Size([60, 90])]
    finally:
        handle.remove()


def test_the_fast_quality_keeps_the_controls(model) -> None:
    image = (np.random.default_rng(1).random((90, 150, 3)) * 40).astype(np.uint8)
    options = {"model": model, "quality": "fast", "working_size": 48}
    assert np.array_equal(lowlight.enhance(image, strength=0.0, **options), image)
    plain = lowlight.enhance(image, **options).astype(float)
    half = lowlight.enhance(image, strength=0.5, **options).astype(float)
    assert np.abs(half - (image + plain) / 2).max() <= 1.0
    brighter = lowlight.enhance(image, exposure=1.0, **options)
    assert brighter.mean() > plain.mean()


def test_large_full_quality_results_take_the_tone_of_the_reduced_pass(model) -> None:
    picture = torch.rand(1, 3, 80, 120) * 0.2
    reduced = reduce_to(picture, reduced_shape(80, 120, 48))
    with torch.inference_mode():
        tone = model(reduced).image
    whole = inference.enhance_tensor(model, picture, quality="full", working_size=48)
    assert whole.shape == picture.shape
    assert float(whole.mean()) == pytest.approx(float(tone.mean()), rel=0.01)


@pytest.mark.parametrize("sample", ["chelsea_dark", "rocket_dark"])
def test_tiled_whole_and_fast_results_agree_in_tone(shipped, sample: str) -> None:
    # With the shipped model, on a picture 2.5 times the working size: the mean level of each
    # channel within 1 % of the others'.
    picture = _sample(sample, 640)
    options = {"working_size": 256}
    whole = inference.enhance_tensor(shipped, picture, quality="full", tile=0, **options)
    tiled = inference.enhance_tensor(shipped, picture, quality="full", tile=256, **options)
    fast = inference.enhance_tensor(shipped, picture, quality="fast", **options)
    levels = torch.stack([result.mean(dim=(0, 2, 3)) for result in (whole, tiled, fast)])
    spread = (levels.amax(dim=0) - levels.amin(dim=0)) / levels.mean(dim=0)
    assert float(spread.max()) < 0.01, levels


def test_the_fast_quality_keeps_a_sharp_step_without_a_halo(shipped) -> None:
    # A dark room beside a lit window, the edge inside a reduced pixel (6 times smaller): every
    # full-resolution pixel on either side stays within 2 levels of the values the network
    # gave that side, and the step stays one pixel wide.
    height, width, edge, side = 300, 451, 227, 75
    picture = torch.empty(1, 3, height, width)
    picture[..., :edge] = torch.tensor([0.03, 0.035, 0.025]).view(1, 3, 1, 1)
    picture[..., edge:] = torch.tensor([0.3, 0.27, 0.24]).view(1, 3, 1, 1)
    fast = inference.enhance_tensor(shipped, picture, quality="fast", working_size=side)
    reduced = reduce_to(picture, reduced_shape(height, width, side))
    with torch.inference_mode():
        network = shipped(reduced).image
    factor = width / reduced.shape[-1]
    columns = torch.arange(reduced.shape[-1])
    sides = {
        "room": (fast[..., :edge], network[..., (columns + 1) * factor <= edge]),
        "window": (fast[..., edge:], network[..., columns * factor >= edge]),
    }
    for name, (rendered, own) in sides.items():
        low = own.amin(dim=(0, 2, 3)).view(1, 3, 1, 1) - 2 * LEVEL
        high = own.amax(dim=(0, 2, 3)).view(1, 3, 1, 1) + 2 * LEVEL
        outside = torch.maximum(low - rendered, rendered - high).clamp_min(0)
        assert float(outside.max()) == 0.0, f"{name}: {float(outside.max()) / LEVEL:.1f} levels"
    room_side, window_side = fast[..., edge - 1], fast[..., edge]
    assert float((window_side - room_side).min()) > 0.9 * float(
        sides["window"][1].amin() - sides["room"][1].amax()
    )
