"""Fixtures for the trainer tests: tiny photos, tiny run configs, and runs on ``pair_data``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lowlight.cli import main
from lowlight.training.config import TrainConfig, load_config

# Sizes of the photos ``write_photos`` writes: at least one 96x96 NIQE block each, and of
# several sizes, as real photos are.
PHOTO_SIZES = ((96, 112), (104, 96), (120, 100), (96, 128), (112, 112), (100, 104))


def write_photos(root: Path, seed: int = 0) -> Path:
    """``root``: dark, noisy, colourful 8-bit PNG photos named 1.png ... of ``PHOTO_SIZES``."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for index, (height, width) in enumerate(PHOTO_SIZES, start=1):
        y, x = np.mgrid[0:height, 0:width] / max(height, width)
        base = np.stack([x, y, 1.0 - x], axis=-1) * 40 + 8
        pixels = np.clip(base + rng.normal(0, 4, base.shape), 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(root / f"{index}.png")
    return root


@pytest.fixture
def photo_data(tmp_path: Path) -> Path:
    """A folder (``tmp_path/photos``) of six dark photos of several sizes, without targets."""
    return write_photos(tmp_path / "photos")


def tiny_config(data: Path, out: Path, **overrides: object) -> TrainConfig:
    """A config for a seconds-long run: 32-pixel crops, batch 2, 4 crops per epoch."""
    values: dict = {
        "data": str(data),
        "out": str(out),
        "stage_epochs": (1, 1, 1),
        "image_size": 32,
        "batch_size": 2,
        "samples_per_epoch": 4,
        "max_val_images": 1,
        "warmup_iterations": 2,
        "threads": 1,
    }
    values.update(overrides)
    return load_config(**values)


@pytest.fixture
def make_config(pair_data: Path, tmp_path: Path):
    """``make_config(**overrides)``: a tiny ``TrainConfig`` on ``pair_data`` in ``tmp_path/run``."""

    def make(**overrides: object) -> TrainConfig:
        overrides.setdefault("out", tmp_path / "run")
        return tiny_config(pair_data, **overrides)

    return make


@pytest.fixture
def train_one_epoch(pair_data: Path):
    """``train_one_epoch(run, *options)``: the exit status of ``lowlight train`` on ``pair_data``
    for one stage-1 epoch of batch 2 on one thread, plus ``options``."""

    def train(run: Path, *options: str) -> int:
        return main(
            [
                "train", "--data", str(pair_data), "--out", str(run), "--stage-epochs", "1,0,0",
                "--batch-size", "2", "--threads", "1", *options,
            ]
        )  # fmt: skip

    return train
