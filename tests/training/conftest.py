"""Fixtures for the trainer tests: tiny run configs, and runs on ``pair_data``."""

from __future__ import annotations

from pathlib import Path

import pytest

from lowlight.cli import main
from lowlight.training.config import TrainConfig, load_config


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
