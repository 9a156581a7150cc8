"""The exposure mix: synthetic under-exposures in linear light, identity pairs, exact resume."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from kornia.color import rgb_to_linear_rgb
from PIL import Image

from lowlight.data import (
    ExposureMix,
    ExposureMixDataset,
    PairedCropDataset,
    PhotoCropDataset,
    find_pairs,
    find_photos,
    synthesise_exposure,
)
from lowlight.errors import LowlightError


def test_synthetic_exposure_scales_linear_light() -> None:
    target = torch.full((3, 64, 64), 0.6)
    dark = synthesise_exposure(target, 0.1, 1e-12, 1e-12, torch.Generator().manual_seed(0))
    ratio = rgb_to_linear_rgb(dark).mean() / rgb_to_linear_rgb(target).mean()
    assert ratio == pytest.approx(0.1, rel=0.02)
    # Scaling sRGB values instead would have given 0.06, far darker.
    assert dark.mean() > 0.15


def test_synthetic_noise_grows_relative_to_the_signal_as_light_falls() -> None:
    target = torch.full((3, 128, 128), 0.8)

    def relative_noise(gain: float) -> float:
        out = rgb_to_linear_rgb(
            synthesise_exposure(target, gain, 1e-3, 1e-6, torch.Generator().manual_seed(1))
        )
        return float(out.std() / out.mean())

    assert relative_noise(0.02) > 2 * relative_noise(0.2) > 0


def test_synthetic_output_is_8_bit_and_in_range() -> None:
    torch.manual_seed(2)
    target = torch.rand(3, 32, 32)
    out = synthesise_exposure(target, 0.05, 2e-3, 4e-6, torch.Generator().manual_seed(2))
    assert out.min() >= 0 and out.max() <= 1
    assert torch.allclose(out * 255, (out * 255).round(), atol=1e-4)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"paired": 0.5, "synthetic": 0.2, "identity": 0.2}, "sum to 1"),
        ({"paired": -0.1, "synthetic": 0.9, "identity": 0.2}, "non-negative"),
        ({"gain": [0.5, 0.1]}, "gain"),
        ({"gain": [0.1, 2.0]}, "may not exceed 1"),
        ({"gain": 0.5}, r"\[low, high\]"),
        ({"brightness": 1}, "unknown exposure_mix key"),
        ({"paired": "half"}, "must be a number"),
    ],
)
def test_mix_refuses_bad_settings(values: dict, message: str) -> None:
    with pytest.raises(LowlightError, match=message):
        ExposureMix.from_dict(values)


def test_mix_round_trips_through_a_dict() -> None:
    mix = ExposureMix.from_dict({"paired": 0.6, "synthetic": 0.3, "identity": 0.1})
    assert ExposureMix.from_dict(mix.to_dict()) == mix


@pytest.fixture
def pairs(tmp_path: Path):
    rng = np.random.default_rng(0)
    for folder in ("low", "high"):
        (tmp_path / folder).mkdir()
    for index in range(4):
        high = rng.integers(60, 250, (48, 64, 3), dtype=np.uint8)
        low = (high // 10).astype(np.uint8)
        Image.fromarray(high).save(tmp_path / "high" / f"{index}.png")
        Image.fromarray(low).save(tmp_path / "low" / f"{index}.png")
    return find_pairs(tmp_path)


def _dataset(pairs, mix: ExposureMix) -> ExposureMixDataset:
    return ExposureMixDataset(PairedCropDataset(pairs, 32, samples_per_epoch=60), mix)


def test_the_mix_has_its_shares_and_its_kinds(pairs) -> None:
    data = _dataset(pairs, ExposureMix(paired=0.5, synthetic=0.25, identity=0.25))
    data.set_epoch(0, 0)
    kinds = {"paired": 0, "synthetic": 0, "identity": 0}
    for low, high in (data[i] for i in range(len(data))):
        if torch.equal(low, high):
            kinds["identity"] += 1
        elif low.mean() < 0.12:  # the stored low images are a tenth of their targets
            kinds["paired"] += 1
        else:
            kinds["synthetic"] += 1
    assert sum(kinds.values()) == 60
    assert 15 <= kinds["paired"] <= 45 and kinds["identity"] >= 5 and kinds["synthetic"] >= 5


def test_identity_only_mix_returns_targets_as_inputs(pairs) -> None:
    data = _dataset(pairs, ExposureMix(paired=0.0, synthetic=0.0, identity=1.0))
    for index in range(10):
        low, high = data[index]
        assert torch.equal(low, high)


def test_the_same_seed_and_epoch_give_the_same_items(pairs) -> None:
    first = _dataset(pairs, ExposureMix())
    second = _dataset(pairs, ExposureMix())
    first.set_epoch(3, 5)
    second.set_epoch(3, 5)
    for index in range(0, 60, 7):
        for a, b in zip(first[index], second[index], strict=True):
            assert torch.equal(a, b)
    second.set_epoch(3, 6)
    assert not all(torch.equal(first[i][0], second[i][0]) for i in range(10))


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"photos": 0.5}, "needs photo_folders"),
        ({"photos": 1.5, "photo_folders": ["x"]}, r"share in \[0, 1\]"),
        ({"keep_lights": -0.1}, r"share in \[0, 1\]"),
        ({"photo_folders": "photos/"}, "list of folders"),
        ({"illumination": [2.0, 1.0]}, "illumination"),
    ],
)
def test_mix_refuses_bad_photo_settings(values: dict, message: str) -> None:
    with pytest.raises(LowlightError, match=message):
        ExposureMix.from_dict(values)


def test_a_mix_with_photos_round_trips_through_a_dict() -> None:
    mix = ExposureMix.from_dict(
        {"photos": 0.5, "photo_folders": ["a", "b"], "illumination": [0, 3], "keep_lights": 0.5}
    )
    assert mix.photo_folders == ("a", "b") and mix.illumination == (0.0, 3.0)
    assert ExposureMix.from_dict(mix.to_dict()) == mix


@pytest.fixture
def photos(tmp_path: Path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for index in range(3):
        # Pure blue photos: told apart from the pairs' grey-ish targets by their colour.
        blue = np.zeros((40, 56, 3), dtype=np.uint8)
        blue[..., 2] = 200
        Image.fromarray(blue).save(folder / f"p{index}.png")
    return find_photos(folder)


def _photo_mix_dataset(pairs, photos, mix: ExposureMix) -> ExposureMixDataset:
    base = PairedCropDataset(pairs, 32, samples_per_epoch=60)
    return ExposureMixDataset(base, mix, PhotoCropDataset(photos, 32, 60))


def _is_blue(image: torch.Tensor) -> bool:
    return float(image[2].mean()) > 4 * float(image[:2].mean()) + 1e-3


def test_synthetic_and_identity_items_take_photos_in_their_share(pairs, photos) -> None:
    mix = ExposureMix(paired=0.0, synthetic=0.5, identity=0.5, photos=0.5, photo_folders=("x",))
    data = _photo_mix_dataset(pairs, photos, mix)
    blue = [_is_blue(data[i][1]) for i in range(len(data))]
    assert 15 <= sum(blue) <= 45
    for index in range(len(data)):
        low, high = data[index]
        if _is_blue(high) and not torch.equal(low, high):
            assert _is_blue(low) and low.mean() < high.mean()


def test_paired_items_never_take_photos(pairs, photos) -> None:
    mix = ExposureMix(paired=1.0, synthetic=0.0, identity=0.0, photos=1.0, photo_folders=("x",))
    data = _photo_mix_dataset(pairs, photos, mix)
    assert not any(_is_blue(data[i][1]) for i in range(len(data)))


def test_unevenly_darkened_items_repeat_for_a_seed_and_epoch(pairs, photos) -> None:
    mix = ExposureMix(
        paired=0.0,
        synthetic=1.0,
        identity=0.0,
        photos=0.5,
        photo_folders=("x",),
        illumination=(1.0, 3.0),
        keep_lights=0.5,
    )
    first, second = (_photo_mix_dataset(pairs, photos, mix) for _ in range(2))
    first.set_epoch(1, 2)
    second.set_epoch(1, 2)
    for index in range(0, 60, 7):
        for a, b in zip(first[index], second[index], strict=True):
            assert torch.equal(a, b)


def test_photos_without_a_photo_dataset_are_refused(pairs) -> None:
    mix = ExposureMix(photos=0.5, photo_folders=("x",))
    with pytest.raises(LowlightError, match="dataset of photos"):
        ExposureMixDataset(PairedCropDataset(pairs, 32, samples_per_epoch=8), mix)
