"""Whole-image training (image_size 0) and starting from saved weights (init_weights)."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from lowlight.data import PairedCropDataset, find_pairs
from lowlight.errors import LowlightError
from lowlight.models import UnifiedLowLightEnhancer
from lowlight.training.trainer import Trainer
from lowlight.weights import save_weights


def test_whole_image_items_are_full_size_and_flipped_together(pair_data):
    dataset = PairedCropDataset(find_pairs(pair_data), image_size=0, samples_per_epoch=8)
    dataset.set_epoch(seed=0, epoch=0)
    with Image.open(pair_data / "low" / "1.png") as picture:
        width, height = picture.size
    for low, high in (dataset[i] for i in range(len(dataset))):
        assert low.shape == high.shape == (3, height, width)
    assert dataset.sizes == {(height, width)}


def test_image_size_between_zero_and_sixteen_is_refused(pair_data):
    with pytest.raises(LowlightError, match="0 \\(whole images\\) or at least 16"):
        PairedCropDataset(find_pairs(pair_data), image_size=8)


def test_whole_image_run_trains_and_validates(make_config):
    trainer = Trainer(make_config(image_size=0, stage_epochs=(1, 0, 0)))
    rows = trainer.fit()
    assert len(rows) == 1 and rows[0]["train_skipped"] == 0
    assert "whole images" in trainer.banner()


def test_init_weights_start_from_the_file(make_config, tmp_path):
    torch.manual_seed(123)
    source = UnifiedLowLightEnhancer(widths=(8, 16, 32), heads=(1, 1, 2))
    path = tmp_path / "start.safetensors"
    save_weights(source, path)
    trainer = Trainer(make_config(init_weights=str(path)))
    assert trainer.config.model["widths"] == [8, 16, 32]
    for name, tensor in source.state_dict().items():
        assert torch.equal(trainer.model.state_dict()[name], tensor), name
