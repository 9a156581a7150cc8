"""Training crops (size, padding, alignment, seeded per epoch) and whole validation images."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from lowlight.data import ImagePair, PairedCropDataset, PairedImageDataset, find_pairs
from lowlight.errors import LowlightError
from lowlight.imageio import read_rgb

CROP = 32


def write_pair(root: Path, name: str, height: int, width: int, seed: int) -> None:
    """A textured target and, as its low image, the exact negative (low + high == 1)."""
    high = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    for side, pixels in (("high", high), ("low", 255 - high)):
        (root / side).mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels).save(root / side / f"{name}.png")


@pytest.fixture
def pairs(tmp_path: Path) -> list[ImagePair]:
    write_pair(tmp_path, "1", 40, 48, 1)
    write_pair(tmp_path, "2", 48, 40, 2)
    write_pair(tmp_path, "3", 64, 36, 3)
    return find_pairs(tmp_path)


def items(dataset: PairedCropDataset) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return [dataset[i] for i in range(len(dataset))]


def same_items(a: list, b: list) -> bool:
    pairs = zip(a, b, strict=True)
    return all(torch.equal(x[0], y[0]) and torch.equal(x[1], y[1]) for x, y in pairs)


def test_crops_have_the_right_size_and_stay_aligned(pairs: list[ImagePair]) -> None:
    dataset = PairedCropDataset(pairs, CROP, samples_per_epoch=24)
    assert len(dataset) == 24
    for epoch in range(3):
        dataset.set_epoch(0, epoch)
        for low, high in items(dataset):
            assert low.shape == high.shape == (3, CROP, CROP)
            assert low.dtype == high.dtype == torch.float32
            assert 0.0 <= float(low.min()) and float(low.max()) <= 1.0
            # the same window, flips and rotation for both: low is the negative of high
            assert torch.allclose(low + high, torch.ones_like(low), atol=2e-3)


def test_length_defaults_to_the_number_of_pairs(pairs: list[ImagePair]) -> None:
    assert len(PairedCropDataset(pairs, CROP)) == len(pairs)


def test_crops_cover_different_windows(pairs: list[ImagePair]) -> None:
    dataset = PairedCropDataset(pairs, CROP, samples_per_epoch=16)
    crops = items(dataset)
    distinct = {tuple(low.flatten()[:16].tolist()) for low, _ in crops}
    assert len(distinct) > 8


def test_small_images_are_padded(tmp_path: Path) -> None:
    write_pair(tmp_path, "small", 20, 24, 4)
    write_pair(tmp_path, "narrow", 40, 12, 5)
    pairs = find_pairs(tmp_path)
    dataset = PairedCropDataset(pairs, CROP, samples_per_epoch=12)
    originals = {p.name: torch.from_numpy(read_rgb(p.low)).reshape(-1, 3) for p in pairs}
    seen = set()
    for epoch in range(2):
        dataset.set_epoch(1, epoch)
        for index, (low, high) in enumerate(items(dataset)):
            assert low.shape == high.shape == (3, CROP, CROP)
            assert torch.allclose(low + high, torch.ones_like(low), atol=2e-3)
            name = pairs[int(dataset._plan[index, 0])].name
            seen.add(name)
            source = originals[name]
            # distance from every crop pixel to its nearest source pixel, and back
            distances = torch.cdist(low.permute(1, 2, 0).reshape(-1, 3), source, p=float("inf"))
            assert distances.min(dim=1).values.max() < 2e-3  # padding adds no new colours
            if name == "small":  # smaller than the crop both ways: all of it is in the crop
                assert distances.min(dim=0).values.max() < 2e-3
    assert seen == {"small", "narrow"}


def test_same_seed_and_epoch_give_the_same_crops(pairs: list[ImagePair]) -> None:
    first = PairedCropDataset(pairs, CROP, samples_per_epoch=8)
    second = PairedCropDataset(pairs, CROP, samples_per_epoch=8)
    first.set_epoch(7, 3)
    second.set_epoch(7, 3)
    reference = items(first)
    assert same_items(reference, items(second))
    first.set_epoch(7, 4)
    assert not same_items(reference, items(first))  # another epoch, other crops
    first.set_epoch(8, 3)
    assert not same_items(reference, items(first))  # another seed, other crops
    first.set_epoch(7, 3)
    assert same_items(reference, items(first))  # and back again
    assert same_items(reference, items(first))  # reading twice changes nothing


def test_the_global_rng_plays_no_part(pairs: list[ImagePair]) -> None:
    dataset = PairedCropDataset(pairs, CROP, samples_per_epoch=6)
    dataset.set_epoch(0, 1)
    torch.manual_seed(1)
    reference = items(dataset)
    dataset.set_epoch(0, 1)
    torch.manual_seed(2)
    assert same_items(reference, items(dataset))


def test_invalid_arguments(pairs: list[ImagePair]) -> None:
    with pytest.raises(
        LowlightError, match=r"image_size must be 0 \(whole images\) or at least 16"
    ):
        PairedCropDataset(pairs, 8)
    with pytest.raises(LowlightError, match="no training pairs"):
        PairedCropDataset([], CROP)


def test_a_corrupt_image_is_skipped_naming_the_file(tmp_path: Path, caplog) -> None:
    write_pair(tmp_path, "1", 40, 48, 1)
    write_pair(tmp_path, "2", 40, 48, 2)
    broken = tmp_path / "low" / "2.png"
    broken.write_bytes(broken.read_bytes()[:60])  # a truncated PNG
    pairs = find_pairs(tmp_path)
    with caplog.at_level(logging.WARNING, logger="lowlight.train"):
        crops = PairedCropDataset(pairs, CROP)
        whole = PairedImageDataset(pairs)
    for dataset in (crops, whole):
        assert len(dataset.images) == 1
        ((name, reason),) = dataset.skipped
        assert name == "2" and "2.png" in reason
    assert whole.names == ["1"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2 and all("2.png" in w for w in warnings)


def test_only_corrupt_images_is_an_error_naming_the_file(tmp_path: Path) -> None:
    write_pair(tmp_path, "1", 40, 48, 1)
    broken = tmp_path / "low" / "1.png"
    broken.write_bytes(broken.read_bytes()[:60])
    pairs = find_pairs(tmp_path)
    with pytest.raises(LowlightError, match="1.png"):
        PairedCropDataset(pairs, CROP)
    with pytest.raises(LowlightError, match="1.png"):
        PairedImageDataset(pairs)


def test_not_an_image_at_all_names_the_file(tmp_path: Path) -> None:
    write_pair(tmp_path, "1", 40, 48, 1)
    (tmp_path / "high" / "1.png").write_bytes(b"\x89PNG but not really" * 10)
    with pytest.raises(LowlightError, match="1.png"):
        PairedCropDataset(find_pairs(tmp_path), CROP)


def test_pairs_of_different_sizes_are_refused(tmp_path: Path) -> None:
    write_pair(tmp_path, "1", 40, 48, 1)
    Image.fromarray(np.zeros((40, 40, 3), dtype=np.uint8)).save(tmp_path / "low" / "1.png")
    with pytest.raises(LowlightError, match="pair 1: low is 40x40, high is 48x40"):
        PairedCropDataset(find_pairs(tmp_path), CROP)


def test_whole_images_for_validation(pairs: list[ImagePair]) -> None:
    dataset = PairedImageDataset(pairs)
    assert len(dataset) == 3
    name, low, high = dataset[2]
    assert name == "3"
    assert low.shape == high.shape == (3, 64, 36)
    assert low.dtype == torch.float32
    assert torch.allclose(low + high, torch.ones_like(low), atol=2e-3)
