"""Training on pairs with well-exposed photos mixed in (``exposure_mix`` photos)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from conftest import write_photos

from lowlight.errors import LowlightError
from lowlight.training.trainer import Trainer


def photo_mix(folder: Path) -> dict:
    return {
        "paired": 0.3,
        "synthetic": 0.5,
        "identity": 0.2,
        "photos": 0.7,
        "photo_folders": [str(folder)],
        "illumination": [0.0, 2.0],
        "keep_lights": 0.5,
    }


def test_a_run_with_photos_in_its_mix_trains_and_says_so(make_config, tmp_path, caplog):
    photos = write_photos(tmp_path / "photos")
    with caplog.at_level(logging.INFO, logger="lowlight.train"):
        trainer = Trainer(make_config(stage_epochs=(1, 0, 0), exposure_mix=photo_mix(photos)))
        rows = trainer.fit()
    assert len(rows) == 1 and rows[0]["train_skipped"] == 0
    assert "6 well-exposed photos" in caplog.text
    assert "photos 0.7" in trainer.banner() and "uneven light 0-2 stops" in trainer.banner()


def test_whole_photos_train_one_at_a_time(make_config, tmp_path):
    photos = write_photos(tmp_path / "photos")
    config = make_config(
        stage_epochs=(1, 0, 0), image_size=0, batch_size=1, exposure_mix=photo_mix(photos)
    )
    assert len(Trainer(config).fit()) == 1
    with pytest.raises(LowlightError, match="batch_size 1"):
        Trainer(
            make_config(
                out=tmp_path / "run-2", image_size=0, batch_size=2, exposure_mix=photo_mix(photos)
            )
        )


def test_held_out_photos_are_never_trained_on(make_config, tmp_path, caplog):
    photos = write_photos(tmp_path / "photos")
    (photos / "1.png").rename(photos / "kodim03.png")
    (photos / "2.png").rename(photos / "kodim23.png")
    with caplog.at_level(logging.INFO, logger="lowlight.train"):
        Trainer(make_config(stage_epochs=(1, 0, 0), exposure_mix=photo_mix(photos))).fit()
    assert "4 well-exposed photos" in caplog.text
