"""Whole-image training (image_size 0), training at reduced size (downscale), init_weights."""

from __future__ import annotations

import logging

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


def test_downscaled_items_keep_every_second_pixel_from_each_offset(pair_data):
    pairs = find_pairs(pair_data)
    full = PairedCropDataset(pairs, image_size=0)
    half = PairedCropDataset(pairs, image_size=0, samples_per_epoch=64, downscale=2)
    height, width = full.images[0][0].shape[-2:]
    assert half.sizes == {(height // 2, width // 2)}
    offsets = set()
    for low, high in (half[i] for i in range(len(half))):
        assert low.shape == high.shape == (3, height // 2, width // 2)
        # each item is one of the 4 decimations of some pair (possibly flipped), low and
        # high taken at the same pixels
        matches = {
            (top, left)
            for full_low, full_high in full.images
            for top in range(2)
            for left in range(2)
            for flipped_low, flipped_high in _flips(
                full_low[..., top::2, left::2].float(), full_high[..., top::2, left::2].float()
            )
            if torch.equal(flipped_low, low) and torch.equal(flipped_high, high)
        }
        assert matches
        offsets |= matches
    assert len(offsets) == 4


def _flips(low, high):
    for flip_h in (False, True):
        for flip_v in (False, True):
            a, b = low, high
            if flip_h:
                a, b = a.flip(-1), b.flip(-1)
            if flip_v:
                a, b = a.flip(-2), b.flip(-2)
            yield a, b


def test_downscale_below_one_or_beyond_the_pictures_is_refused(pair_data):
    pairs = find_pairs(pair_data)
    with pytest.raises(LowlightError, match="downscale must be 1 or more"):
        PairedCropDataset(pairs, image_size=0, downscale=0)
    with Image.open(pairs[0].low) as picture:
        too_big = min(picture.size) + 1
    with pytest.raises(LowlightError, match=f"pair 1 .* is too small for downscale {too_big}"):
        PairedCropDataset(pairs, image_size=0, downscale=too_big)


def test_a_downscaled_run_validates_at_full_size(make_config):
    trainer = Trainer(make_config(image_size=0, downscale=2, stage_epochs=(1, 0, 0)))
    height, width = trainer.val_data.images[0][0].shape[-2:]
    assert trainer.train_data.sizes == {(height // 2, width // 2)}
    rows = trainer.fit()
    assert len(rows) == 1 and rows[0]["val_psnr"] > 0
    assert "whole images at 1/2 size" in trainer.banner()


def test_cli_downscale_reaches_the_saved_config(train_one_epoch, tmp_path):
    run = tmp_path / "run"
    assert train_one_epoch(run, "--image-size", "0", "--downscale", "2") == 0
    assert "downscale: 2" in (run / "config.yaml").read_text()


def test_init_weights_start_from_the_file(make_config, tmp_path):
    torch.manual_seed(123)
    source = UnifiedLowLightEnhancer(widths=(8, 16, 32), heads=(1, 1, 2))
    path = tmp_path / "start.safetensors"
    save_weights(source, path)
    trainer = Trainer(make_config(init_weights=str(path)))
    assert trainer.config.model["widths"] == [8, 16, 32]
    for name, tensor in source.state_dict().items():
        assert torch.equal(trainer.model.state_dict()[name], tensor), name


def test_a_resumed_run_says_its_weights_come_from_the_checkpoint(make_config, tmp_path, caplog):
    path = tmp_path / "start.safetensors"
    save_weights(UnifiedLowLightEnhancer(widths=(8, 16, 32), heads=(1, 1, 2)), path)
    config = make_config(init_weights=str(path), stage_epochs=(1, 1, 0))
    first = Trainer(config)
    first._run_epoch()
    trained = {k: v.clone() for k, v in first.model.state_dict().items()}
    with caplog.at_level(logging.INFO, logger="lowlight.train"):
        resumed = Trainer(config, resume=True)
    assert "weights from the checkpoint" in caplog.text
    assert "initialised from" not in caplog.text
    assert all(torch.equal(resumed.model.state_dict()[k], v) for k, v in trained.items())


def test_restart_renews_a_component_of_the_init_weights(make_config, tmp_path, caplog):
    start = UnifiedLowLightEnhancer()
    with torch.no_grad():
        start.mask_predictor.body[-1].bias.fill_(-20.0)
    save_weights(start, tmp_path / "start.safetensors")
    config = make_config(
        init_weights=str(tmp_path / "start.safetensors"), restart=["mask_predictor"]
    )
    assert config.restart == ("mask_predictor",)
    with caplog.at_level(logging.INFO, logger="lowlight.train"):
        trainer = Trainer(config)
    assert torch.all(trainer.model.mask_predictor.body[-1].bias == -4.0)
    assert "mask_predictor restarted" in caplog.text
    with pytest.raises(LowlightError, match="set init_weights"):
        make_config(restart=["mask_predictor"])
    bad = make_config(
        out=tmp_path / "run-2", init_weights=str(tmp_path / "start.safetensors"), restart=["x"]
    )
    with pytest.raises(LowlightError, match="no component 'x'"):
        Trainer(bad)
