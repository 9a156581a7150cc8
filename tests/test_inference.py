"""The Python API: ``lowlight.enhance`` returns the same kind of image; tiling is automatic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from kornia.color import rgb_to_linear_rgb
from PIL import Image

import lowlight
from lowlight import inference, weights
from lowlight.errors import LowlightError
from lowlight.imageio.tiling import tile_process
from lowlight.imageio.tone import match_level, match_low_frequencies
from lowlight.models import UnifiedLowLightEnhancer

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


@pytest.fixture(scope="module")
def model(weights_file: Path) -> UnifiedLowLightEnhancer:
    return lowlight.load_model(weights_file)


def _dark(shape: tuple[int, ...], dtype=np.uint8, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = rng.uniform(0.0, 0.15, shape)
    if dtype == np.uint8:
        return np.round(values * 255).astype(np.uint8)
    if dtype == np.uint16:
        return np.round(values * 65535).astype(np.uint16)
    return values.astype(dtype)


ARRAY_CASES = [
    ((24, 31, 3), np.uint8),
    ((24, 31, 3), np.uint16),
    ((24, 31, 3), np.float32),
    ((24, 31, 3), np.float64),
    ((24, 31), np.uint8),
    ((24, 31), np.float32),
    ((24, 31, 1), np.uint16),
    ((24, 31, 4), np.uint8),
    ((1, 1, 3), np.float16),
]


@pytest.mark.parametrize(("shape", "dtype"), ARRAY_CASES)
def test_arrays_come_back_with_their_shape_and_dtype(model, shape, dtype) -> None:
    image = _dark(shape, dtype)
    result = lowlight.enhance(image, model=model)
    assert isinstance(result, np.ndarray)
    assert result.shape == image.shape and result.dtype == image.dtype
    if np.issubdtype(dtype, np.floating):
        assert 0 <= result.min() and result.max() <= 1
    if len(shape) == 3 and shape[2] == 4:
        np.testing.assert_array_equal(result[..., 3], image[..., 3])  # alpha untouched


def test_array_result_is_the_model_output_quantised(model) -> None:
    image = _dark((20, 28, 3))
    tensor = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
    with torch.inference_mode():
        expected = model(tensor).image[0].permute(1, 2, 0).numpy()
    result = lowlight.enhance(image, model=model)
    np.testing.assert_array_equal(result, np.round(expected * 255).astype(np.uint8))
    assert np.abs(result.astype(int) - image).mean() > 1  # the network ran: the picture changed


@pytest.mark.parametrize(
    ("mode", "result_mode"),
    [
        ("RGB", "RGB"),
        ("RGBA", "RGBA"),
        ("L", "L"),
        ("LA", "LA"),
        ("P", "RGB"),
        ("PA", "RGBA"),
        ("I;16", "I;16"),
        ("I", "I"),
        ("F", "F"),
        ("CMYK", "CMYK"),
        ("1", "L"),
    ],
)
def test_pil_images_come_back_in_their_mode_family(model, mode: str, result_mode: str) -> None:
    rgba = _dark((18, 25, 4))
    rgba[..., 3] = np.arange(25, dtype=np.uint8)[None] * 10
    image = Image.fromarray(rgba if "A" in mode else rgba[..., :3]).convert(mode)
    image.info["dpi"] = (300, 300)
    result = lowlight.enhance(image, model=model)
    assert isinstance(result, Image.Image)
    assert result.mode == result_mode and result.size == image.size
    assert result.info.get("dpi") == (300, 300)
    if "A" in mode:
        np.testing.assert_array_equal(
            np.asarray(result.getchannel("A")), np.asarray(image.getchannel("A"))
        )


@pytest.mark.parametrize(
    ("image", "message"),
    [
        ([[0, 1], [1, 0]], "takes a NumPy array or a PIL image"),
        (np.zeros((4, 4, 2), np.uint8), "shape"),
        (np.zeros((0, 4, 3), np.uint8), "empty"),
        (np.zeros((4, 4, 3), np.int32), "uint8, uint16 or float"),
        (np.full((4, 4, 3), 200.0), r"values in \[0, 1\]"),
        (np.full((4, 4, 3), np.nan), r"values in \[0, 1\]"),
    ],
)
def test_unsupported_inputs_raise_lowlight_error(model, image, message: str) -> None:
    with pytest.raises(LowlightError, match=message):
        lowlight.enhance(image, model=model)


def test_default_model_is_loaded_when_none_is_given(monkeypatch, weights_file, tmp_path) -> None:
    monkeypatch.setattr(weights, "default_weights_path", lambda: weights_file)
    assert lowlight.enhance(_dark((8, 8, 3)), backend="pytorch").shape == (8, 8, 3)
    monkeypatch.setattr(weights, "default_weights_path", lambda: tmp_path / "absent.safetensors")
    with pytest.raises(LowlightError, match="default weights are missing"):
        lowlight.enhance(_dark((8, 8, 3)), backend="pytorch")


def test_choose_tile() -> None:
    assert inference.choose_tile(1000, 1000) is None
    assert inference.choose_tile(4000, 6000) == inference.DEFAULT_TILE == 1536
    assert inference.choose_tile(4000, 6000, 0) is None
    assert inference.choose_tile(10, 10, 256) == 256
    assert inference.tile_overlap(1024) == inference.DEFAULT_OVERLAP == 64
    assert inference.tile_overlap(128) == 32
    with pytest.raises(LowlightError, match="at least 32"):
        inference.choose_tile(10, 10, 8)


def test_large_images_are_tiled_automatically(model, monkeypatch) -> None:
    monkeypatch.setattr(inference, "AUTO_TILE_PIXELS", 40 * 40)
    monkeypatch.setattr(inference, "DEFAULT_TILE", 32)
    sizes = []
    handle = model.register_forward_pre_hook(lambda _, args: sizes.append(args[0].shape[-2:]))
    try:
        lowlight.enhance(_dark((50, 70, 3)), model=model, quality="full", working_size=32)
        assert len(sizes) > 1 and all(h <= 32 and w <= 32 for h, w in sizes)
        sizes.clear()
        lowlight.enhance(_dark((30, 40, 3)), model=model)
        assert sizes == [torch.Size([30, 40])]
    finally:
        handle.remove()


def test_enhance_tensor_tiles_as_asked_and_keeps_dtype(model) -> None:
    batch = torch.rand(2, 3, 40, 52, dtype=torch.float64) * 0.2
    result = inference.enhance_tensor(model, batch, tile=32, quality="full", working_size=32)
    assert result.dtype == torch.float64 and result.shape == batch.shape
    assert result.is_inference() and not result.requires_grad
    with torch.inference_mode():
        tiled = tile_process(lambda t: model(t.float()).image.double(), batch, 32, 8)
        reduced = inference.working_picture(batch, 32)
        assert reduced.shape[-2:] == (25, 32)
        assert (reduced - F.interpolate(batch, size=(25, 32), mode="area")).abs().max() < 1e-6
        tone = model(reduced.float()).image.double()
        expected = match_level(match_low_frequencies(tiled, tone), tone)
    assert torch.equal(result, expected)


def test_the_tone_pass_comes_first_at_the_working_size(model) -> None:
    sizes = []
    handle = model.register_forward_pre_hook(lambda _, args: sizes.append(args[0].shape[-2:]))
    try:
        picture = torch.rand(1, 3, 60, 80) * 0.2
        inference.enhance_tensor(model, picture, tile=32, quality="full", working_size=48)
        assert sizes[0] == torch.Size([36, 48]) and len(sizes) == 1 + 3 * 3
        sizes.clear()
        inference.enhance_tensor(model, torch.rand(1, 3, 40, 44) * 0.2, tile=32)
        assert sizes[0] == torch.Size([40, 44])  # never enlarged: the whole picture
    finally:
        handle.remove()


def test_tiles_take_the_tone_of_the_whole_picture() -> None:
    # With the shipped model, tiles a third of the picture's width each find their own
    # brightness; matching them to a reduced whole-picture pass brings the result closer to
    # what one pass over the whole picture gives. Each sample is enlarged to 1.5 times the
    # working size (600, the size the model learnt its exposure at), so that the pass is a
    # real reduction. The reduced pass renders at another scale than the whole pass, and the
    # model's tone moves a little with the scale (on chelsea_dark, 14/255 of mean level between
    # 600 and 900 pixels), so on a sample the matched tiles can be almost as far from the whole
    # pass as plain ones, never further; over the samples they are less than half as far.
    shipped = lowlight.load_model()
    side = 600
    tile = side // 2
    overlap = inference.tile_overlap(tile)
    plain_gaps, matched_gaps = [], []
    for sample in sorted(SAMPLES.glob("*.png")):
        picture = torch.from_numpy(np.array(Image.open(sample).convert("RGB"))).permute(2, 0, 1)
        picture = picture[None].float() / 255
        scale = 1.5 * side / max(picture.shape[-2:])
        picture = F.interpolate(picture, scale_factor=scale, mode="bilinear").clamp(0, 1)
        with torch.inference_mode():
            whole = shipped(picture).image
            plain = tile_process(lambda t: shipped(t).image, picture, tile, overlap)
        matched = inference.enhance_tensor(
            shipped, picture, tile=tile, quality="full", working_size=side
        )
        plain_gaps.append(float((plain - whole).abs().mean()))
        matched_gaps.append(float((matched - whole).abs().mean()))
        assert matched_gaps[-1] < plain_gaps[-1], sample.stem
    assert sum(matched_gaps) < 0.5 * sum(plain_gaps)


def test_enhance_tensor_rejects_bad_shapes(model) -> None:
    with pytest.raises(LowlightError, match=r"\(B, 3, H, W\)"):
        inference.enhance_tensor(model, torch.zeros(3, 8, 8))


def test_package_exports_and_import_stays_light() -> None:
    assert {"enhance", "load_model", "LowlightError", "__version__"} <= set(lowlight.__all__)
    assert lowlight.enhance is inference.enhance and lowlight.load_model is weights.load_model
    code = "import sys, lowlight; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False"


def test_tile_progress_counts_every_tile_and_the_tone_pass(model, monkeypatch) -> None:
    bars = []

    class RecordingBar:
        def __init__(self, total: int, disable: bool | None, **_: object) -> None:
            self.total, self.disable, self.steps = total, disable, 0
            bars.append(self)

        def __enter__(self) -> RecordingBar:
            return self

        def __exit__(self, *_: object) -> None:
            pass

        def update(self) -> None:
            self.steps += 1

    monkeypatch.setattr(inference, "tqdm", RecordingBar)
    batch = torch.rand(1, 3, 40, 70) * 0.2
    inference.enhance_tensor(model, batch, tile=32, progress=True)
    # 40 rows and 70 columns in 32-pixel tiles overlapping by 8: 2 x 3 tiles, then the tone pass.
    assert [(bar.total, bar.steps, bar.disable) for bar in bars] == [(7, 7, None)]
    inference.enhance_tensor(model, batch, tile=32)
    assert bars[-1].disable is True
    bars.clear()
    inference.enhance_tensor(model, batch[..., :32, :32], tile=32, progress=True)
    assert bars == []  # one tile: no bar


def test_on_pass_reports_every_pass_of_the_model(model) -> None:
    calls: list[tuple[int, int]] = []
    batch = torch.rand(1, 3, 40, 70) * 0.2
    tiled = inference.enhance_tensor(model, batch, tile=32, on_pass=lambda *c: calls.append(c))
    # 2 x 3 tiles, then the tone pass; the bar's progress is the same with or without it.
    assert calls == [(done, 7) for done in range(1, 8)]
    assert torch.equal(tiled, inference.enhance_tensor(model, batch, tile=32))
    calls.clear()
    lowlight.enhance(_dark((20, 30, 3)), model=model, on_pass=lambda *c: calls.append(c))
    assert calls == [(1, 1)]


def test_strength_zero_gives_the_input_back(model) -> None:
    image = _dark((40, 52, 3))
    assert np.array_equal(lowlight.enhance(image, model=model, strength=0.0), image)


def test_one_stop_more_doubles_the_linear_light(model) -> None:
    image = _dark((48, 64, 3))
    plain = lowlight.enhance(image, model=model)
    brighter = lowlight.enhance(image, model=model, exposure=1.0)

    def linear_mean(array: np.ndarray) -> float:
        return float(rgb_to_linear_rgb(torch.from_numpy(array / 255.0).permute(2, 0, 1)).mean())

    assert linear_mean(brighter) / linear_mean(plain) == pytest.approx(2.0, rel=0.05)


def test_controls_act_alike_on_tiled_and_whole_pictures(model) -> None:
    picture = torch.from_numpy(_dark((96, 128, 3), np.float32)).permute(2, 0, 1)[None]
    full = {"quality": "full", "working_size": 64}
    for controls in ({"exposure": 1.0}, {"strength": 0.5}, {"exposure": -0.5, "strength": 0.7}):
        whole = inference.enhance_tensor(model, picture, tile=0, **full, **controls)
        tiled = inference.enhance_tensor(model, picture, tile=64, **full, **controls)
        plain_whole = inference.enhance_tensor(model, picture, tile=0, **full)
        plain_tiled = inference.enhance_tensor(model, picture, tile=64, **full)
        # Tiling changes the controlled result, relative to its level, no more than it
        # changes the plain one.
        change = (tiled - whole).abs().mean() / whole.mean()
        plain_change = (plain_tiled - plain_whole).abs().mean() / plain_whole.mean()
        assert change <= plain_change * 1.05


@pytest.mark.parametrize(
    ("controls", "message"),
    [
        ({"exposure": float("nan")}, "exposure must be between"),
        ({"exposure": 9.0}, "exposure must be between"),
        ({"strength": -0.1}, "strength must be between 0 and 1"),
        ({"strength": 1.5}, "strength must be between 0 and 1"),
    ],
)
def test_controls_out_of_range_are_refused(model, controls: dict, message: str) -> None:
    with pytest.raises(LowlightError, match=message):
        lowlight.enhance(_dark((8, 8, 3)), model=model, **controls)
