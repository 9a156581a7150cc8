"""Photos without references: discovery, scene split, training crops and whole photos."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from lowlight.data import PhotoCropDataset, PhotoDataset, find_photos, split_by_scene
from lowlight.errors import LowlightError
from lowlight.imageio import read_rgb

CROP = 32


def write_photo(path: Path, height: int, width: int, seed: int) -> np.ndarray:
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return pixels


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """``photos/`` with 10.png, 2.png, sub/1.jpg (20x24, smaller than a crop), a hidden file,
    a text file and a video; 2.png is 40x60, 10.png 48x40."""
    root = tmp_path / "photos"
    write_photo(root / "10.png", 48, 40, 1)
    write_photo(root / "2.png", 40, 60, 2)
    write_photo(root / "sub" / "1.jpg", 20, 24, 3)
    write_photo(root / ".hidden.png", 40, 40, 4)
    (root / "notes.txt").write_text("not a photo")
    (root / "clip.mp4").write_bytes(b"a video is not a photo")
    return root


def test_photos_are_found_below_the_folder_in_natural_order(folder: Path) -> None:
    photos = find_photos(folder)
    assert [photo.name for photo in photos] == ["2.png", "10.png", "sub/1.jpg"]
    assert photos[2].path == folder / "sub" / "1.jpg"


def test_a_missing_or_empty_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LowlightError, match="photo folder not found"):
        find_photos(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(LowlightError, match="empty: no image files found"):
        find_photos(tmp_path / "empty")
    (tmp_path / "empty" / "clip.mov").write_bytes(b"")
    with pytest.raises(LowlightError, match="empty: no image files found"):
        find_photos(tmp_path / "empty")  # videos are not photos


def test_a_photo_linked_twice_is_found_once_and_the_split_keeps_every_photo(
    folder: Path,
) -> None:
    os.symlink("2.png", folder / "3.png")
    photos = find_photos(folder)
    assert [photo.name for photo in photos] == ["2.png", "10.png", "sub/1.jpg"]
    for seed in range(4):
        train, val = split_by_scene(photos, 0.3, seed)
        assert len(val) == 1
        assert sorted(p.name for p in train + val) == sorted(p.name for p in photos)


def test_crops_of_photos_of_any_size(folder: Path) -> None:
    dataset = PhotoCropDataset(find_photos(folder), CROP, samples_per_epoch=12)
    assert len(dataset) == 12
    assert dataset.sizes == {(40, 60), (48, 40), (20, 24)}
    for epoch in range(2):
        dataset.set_epoch(0, epoch)
        for item in (dataset[i] for i in range(len(dataset))):
            assert len(item) == 1
            assert item[0].shape == (3, CROP, CROP) and item[0].dtype == torch.float32
    batch = next(iter(torch.utils.data.DataLoader(dataset, batch_size=4)))
    assert len(batch) == 1 and batch[0].shape == (4, 3, CROP, CROP)


def test_crops_hold_the_photo_s_pixels_and_repeat_with_the_seed(folder: Path) -> None:
    photos = find_photos(folder)[:1]  # 2.png only
    pixels = torch.from_numpy(read_rgb(photos[0].path)).permute(2, 0, 1)
    first = PhotoCropDataset(photos, CROP, samples_per_epoch=6)
    second = PhotoCropDataset(photos, CROP, samples_per_epoch=6)
    first.set_epoch(5, 2)
    second.set_epoch(5, 2)
    for index in range(6):
        (crop,) = first[index]
        assert torch.equal(crop, second[index][0])
        # Every crop is a window of the photo, possibly flipped and turned: its values are.
        values = pixels.to(torch.float16).float().unique()
        assert torch.isin(crop.unique(), values).all()


def test_an_unreadable_photo_is_skipped_with_a_warning(folder: Path, caplog) -> None:
    (folder / "broken.png").write_bytes(b"not a png")
    with caplog.at_level(logging.WARNING, logger="lowlight.train"):
        dataset = PhotoCropDataset(find_photos(folder), CROP)
    assert [name for name, _ in dataset.skipped] == ["broken.png"]
    assert len(dataset.images) == 3
    assert any("skipped photo broken.png" in message for message in caplog.messages)


def test_no_usable_photo_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"")
    with pytest.raises(LowlightError, match="none of the 1 photos can be used: photo a.png"):
        PhotoCropDataset(find_photos(tmp_path), CROP)


def test_whole_photos_below_the_smallest_side_are_skipped(folder: Path) -> None:
    dataset = PhotoDataset(find_photos(folder), min_side=30)
    assert dataset.names == ["2.png", "10.png"]
    assert [name for name, _ in dataset.skipped] == ["sub/1.jpg"]
    name, photo = dataset[0]
    assert name == "2.png" and photo.shape == (3, 40, 60) and photo.dtype == torch.float32
