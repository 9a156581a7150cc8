"""The moving average of the weights: its update rule, and the trainer keeping and resuming it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from lowlight.training.checkpoint import load_checkpoint
from lowlight.training.ema import WeightAverage
from lowlight.training.trainer import Trainer


def test_update_follows_the_warmed_up_decay() -> None:
    model = nn.Linear(1, 1, bias=False)
    model.weight.data.fill_(0.0)
    average = WeightAverage(model, decay=0.5)
    expected = 0.0
    for step, value in enumerate((1.0, 2.0, 4.0, 8.0)):
        model.weight.data.fill_(value)
        average.update(model)
        decay = min(0.5, (1 + step) / (10 + step))  # 0.1, 0.18..., then 0.5
        expected = decay * expected + (1 - decay) * value
        assert average.model.weight.item() == pytest.approx(expected, rel=1e-6)
    assert average.updates == 4


def test_the_average_trails_the_weights_and_needs_no_gradients() -> None:
    model = nn.Linear(2, 2)
    average = WeightAverage(model, decay=0.99)
    for _ in range(30):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(1.0)
        average.update(model)
    for mine, theirs in zip(average.model.parameters(), model.parameters(), strict=True):
        assert not mine.requires_grad
        assert (mine < theirs).all()  # behind the weights that keep rising ...
        assert (mine > theirs - 30).all()  # ... but well past where they started


@pytest.mark.parametrize("decay", [-0.1, 1.0])
def test_decay_outside_zero_one_is_refused(decay: float) -> None:
    with pytest.raises(ValueError, match="decay must be in"):
        WeightAverage(nn.Linear(1, 1), decay)


def test_trainer_keeps_the_average_as_best(make_config) -> None:
    trainer = Trainer(make_config(stage_epochs=(1, 0, 0), ema_decay=0.9))
    trainer.fit()  # one epoch, so it is the best
    assert trainer.average is not None and trainer.average.updates == trainer.global_step > 0
    kept = load_file(str(Path(trainer.config.out) / "best.safetensors"))
    averaged = trainer.average.model.state_dict()
    trained = trainer.model.state_dict()
    assert all(torch.equal(kept[k], averaged[k]) for k in kept)
    assert any(not torch.equal(kept[k], trained[k]) for k in kept)
    # The colour modules' bounds hold for the average as for the weights it follows.
    colour = trainer.average.model.colour_correction
    low, high = colour.WEIGHT_RANGE
    assert ((colour.weight >= low) & (colour.weight <= high)).all()


def test_validation_scores_the_average(make_config) -> None:
    trainer = Trainer(make_config(stage_epochs=(1, 0, 0), ema_decay=0.9))
    trainer.fit()
    scored = trainer.validate()["val_psnr"]
    with torch.no_grad():
        for p in trainer.model.parameters():
            p.mul_(0.5)  # spoil the trained weights: the score must not move
    assert trainer.validate()["val_psnr"] == scored


def test_resume_restores_the_average(make_config) -> None:
    config = make_config(stage_epochs=(1, 1, 0), ema_decay=0.9)
    first = Trainer(config)
    first._run_epoch()
    saved = load_checkpoint(config.out)["average"]
    resumed = Trainer(config, resume=True)
    assert resumed.average.updates == saved["updates"] == first.average.updates
    restored = resumed.average.model.state_dict()
    assert all(torch.equal(restored[k], first.average.model.state_dict()[k]) for k in restored)


def test_a_run_without_average_saves_none(make_config) -> None:
    trainer = Trainer(make_config(stage_epochs=(1, 0, 0)))
    trainer.fit()
    assert trainer.average is None
    assert "average" not in load_checkpoint(trainer.config.out)


def test_cli_option_reaches_the_saved_config(train_one_epoch, tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert train_one_epoch(run, "--image-size", "32", "--ema-decay", "0.95") == 0
    assert "ema_decay: 0.95" in (run / "config.yaml").read_text()
    assert load_checkpoint(run)["average"]["decay"] == 0.95


def test_an_average_added_on_resume_starts_from_the_restored_weights(make_config) -> None:
    plain = make_config(stage_epochs=(1, 1, 0))
    Trainer(plain)._run_epoch()
    resumed = Trainer(make_config(stage_epochs=(1, 1, 0), ema_decay=0.9), resume=True)
    assert resumed.average is not None and resumed.average.updates == 0
    restored = resumed.model.state_dict()
    averaged = resumed.average.model.state_dict()
    assert all(torch.equal(averaged[k], restored[k]) for k in restored)
