"""Training items reduced as the fast rendering reduces a picture (``RandomlyReduced``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from lowlight.data import PairedCropDataset, RandomlyReduced, find_pairs
from lowlight.errors import LowlightError

HEIGHT, WIDTH = 96, 128


@pytest.fixture
def pairs(tmp_path: Path):
    rng = np.random.default_rng(0)
    for folder in ("low", "high"):
        (tmp_path / folder).mkdir()
    for index in range(3):
        high = rng.integers(60, 250, (HEIGHT, WIDTH, 3), dtype=np.uint8)
        Image.fromarray(high).save(tmp_path / "high" / f"{index}.png")
        Image.fromarray((high // 10).astype(np.uint8)).save(tmp_path / "low" / f"{index}.png")
    return find_pairs(tmp_path)


def _base(pairs) -> PairedCropDataset:
    return PairedCropDataset(pairs, image_size=0, samples_per_epoch=40)


def test_reduced_items_are_area_averages_of_the_items_at_a_size_in_range(pairs) -> None:
    base = _base(pairs)
    data = RandomlyReduced(_base(pairs), share=1.0, scale=(0.25, 0.75))
    base.set_epoch(2, 1)
    data.set_epoch(2, 1)
    sides = set()
    for index in range(len(data)):
        low, high = data[index]
        full_low, full_high = base[index]
        height, width = low.shape[-2:]
        assert low.shape == high.shape
        assert 32 <= height <= round(0.75 * HEIGHT) and round(0.25 * WIDTH) <= width
        assert width <= round(0.75 * WIDTH)
        for reduced, full in ((low, full_low), (high, full_high)):
            expected = F.interpolate(full[None], size=(height, width), mode="area")[0]
            torch.testing.assert_close(reduced, expected)
        sides.add(width)
    # The factors are drawn, not fixed: widths from x0.25 (32) to x0.75 (96).
    assert len(sides) > 10 and min(sides) < 48 and max(sides) > 80


def test_a_share_of_the_items_is_reduced_and_the_rest_untouched(pairs) -> None:
    base = _base(pairs)
    data = RandomlyReduced(_base(pairs), share=0.5, scale=(0.25, 0.5))
    base.set_epoch(0, 3)
    data.set_epoch(0, 3)
    reduced = 0
    for index in range(len(data)):
        low, high = data[index]
        if low.shape[-1] == WIDTH:
            assert torch.equal(low, base[index][0]) and torch.equal(high, base[index][1])
        else:
            reduced += 1
    assert 10 <= reduced <= 30
    assert data.sizes == base.sizes and len(data) == len(base) == 40


def test_a_share_of_nothing_changes_nothing(pairs) -> None:
    base = _base(pairs)
    data = RandomlyReduced(_base(pairs), share=0.0, scale=(0.25, 1.0))
    for index in range(len(data)):
        assert all(torch.equal(a, b) for a, b in zip(data[index], base[index], strict=True))


def test_the_same_seed_and_epoch_give_the_same_items(pairs) -> None:
    first = RandomlyReduced(_base(pairs), share=0.5, scale=(0.25, 1.0))
    second = RandomlyReduced(_base(pairs), share=0.5, scale=(0.25, 1.0))
    first.set_epoch(5, 2)
    second.set_epoch(5, 2)
    for index in range(len(first)):
        assert all(torch.equal(a, b) for a, b in zip(first[index], second[index], strict=True))
    second.set_epoch(5, 3)
    shapes = [(first[i][0].shape, second[i][0].shape) for i in range(len(first))]
    assert any(a != b for a, b in shapes)


@pytest.mark.parametrize(
    ("share", "scale", "message"),
    [
        (1.5, (0.25, 1.0), "reduced_share must be a share"),
        (0.5, (0.0, 1.0), "reduced_scale must be a range"),
        (0.5, (0.5, 0.25), "reduced_scale must be a range"),
        (0.5, (0.5, 1.5), "reduced_scale must be a range"),
    ],
)
def test_bad_settings_are_refused(pairs, share, scale, message) -> None:
    with pytest.raises(LowlightError, match=message):
        RandomlyReduced(_base(pairs), share=share, scale=scale)
