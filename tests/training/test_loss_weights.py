"""Every figure of the seed recipe (docs/seed-training-fixes.md, fix #2), read from the module."""

from __future__ import annotations

import pytest

from lowlight.metrics import color_flag
from lowlight.training import loss_weights
from lowlight.training.loss_weights import (
    COLOR_THRESHOLDS,
    RAMP_KEYS,
    RAMP_WARMUP_EPOCHS,
    STAGE_WEIGHTS,
    TRAINING_DEFAULTS,
    WEIGHT_KEYS,
    ramp_colour,
    stage_loss_weights,
)

# The figures the seed document gives; the weights it leaves out are the module's own choice.
SEED_STAGE_WEIGHTS = {
    1: {
        "w_reconstruction": 1.20,
        "w_color_consistency": 0.20,
        "w_color_diversity": 0.30,
        "w_ssim": 0.60,
    },
    2: {
        "w_edge": 0.12,
        "w_ssim": 0.45,
        "w_color_consistency": 0.07,
        "w_color_diversity": 0.07,
        "w_mask_mean": 0.03,
    },
    3: {
        "w_reconstruction": 0.90,
        "w_exposure": 0.04,
        "w_edge": 0.20,
        "w_ssim": 0.45,
        "w_color_consistency": 0.10,
        "w_color_diversity": 0.12,
        "w_mask_mean": 0.08,
        "w_perceptual": 0.06,
    },
}
STAGES = (1, 2, 3)


def test_weight_keys() -> None:
    assert set(WEIGHT_KEYS) == {
        "w_reconstruction",
        "w_ssim",
        "w_edge",
        "w_color_consistency",
        "w_color_diversity",
        "w_exposure",
        "w_perceptual",
        "w_mask_mean",
    }
    assert len(WEIGHT_KEYS) == 8


@pytest.mark.parametrize("stage", STAGES)
def test_stage_weights_match_the_seed(stage: int) -> None:
    for key, value in SEED_STAGE_WEIGHTS[stage].items():
        assert STAGE_WEIGHTS[stage][key] == pytest.approx(value, abs=1e-12), key


@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_defines_all_keys(stage: int) -> None:
    assert sorted(STAGE_WEIGHTS[stage]) == sorted(WEIGHT_KEYS)
    assert all(value >= 0.0 for value in STAGE_WEIGHTS[stage].values())


def test_only_three_stages() -> None:
    assert sorted(STAGE_WEIGHTS) == [1, 2, 3]


def test_stage_one_trains_reconstruction_only_plus_colour() -> None:
    # The mask is frozen in stage 1 and there is no perceptual term yet.
    assert STAGE_WEIGHTS[1]["w_mask_mean"] == 0.0
    assert STAGE_WEIGHTS[1]["w_perceptual"] == 0.0


def test_ramp_keys() -> None:
    assert RAMP_KEYS == ("w_color_consistency", "w_color_diversity", "w_exposure", "w_edge")
    assert "w_reconstruction" not in RAMP_KEYS
    assert "w_ssim" not in RAMP_KEYS
    assert set(RAMP_KEYS) <= set(WEIGHT_KEYS)


@pytest.mark.parametrize(
    ("epoch", "expected"),
    [(-1, 0.0), (0, 0.0), (1, 0.05), (10, 0.5), (19, 0.95), (20, 1.0), (21, 1.0), (500, 1.0)],
)
def test_ramp_colour_default_warmup(epoch: int, expected: float) -> None:
    assert RAMP_WARMUP_EPOCHS == 20
    assert ramp_colour(epoch) == pytest.approx(expected, abs=1e-12)


def test_ramp_colour_custom_and_disabled_warmup() -> None:
    assert ramp_colour(3, warmup_epochs=4) == 0.75
    assert ramp_colour(4, warmup_epochs=4) == 1.0
    assert ramp_colour(0, warmup_epochs=0) == 1.0
    assert ramp_colour(0, warmup_epochs=-5) == 1.0


@pytest.mark.parametrize("stage", STAGES)
def test_epoch_zero_keeps_reconstruction_and_ssim(stage: int) -> None:
    # Seed fix #2: reconstruction and SSIM were ramped from 0 at every stage transition.
    weights = stage_loss_weights(stage, 0)
    assert weights["w_reconstruction"] == STAGE_WEIGHTS[stage]["w_reconstruction"]
    assert weights["w_ssim"] == STAGE_WEIGHTS[stage]["w_ssim"]
    assert weights["w_reconstruction"] >= 0.9 and weights["w_ssim"] >= 0.45
    for key in RAMP_KEYS:
        assert weights[key] == 0.0, key
    for key in set(WEIGHT_KEYS) - set(RAMP_KEYS):
        assert weights[key] == STAGE_WEIGHTS[stage][key], key


@pytest.mark.parametrize("stage", STAGES)
def test_ramp_is_half_way_at_ten_and_full_from_warmup(stage: int) -> None:
    half = stage_loss_weights(stage, 10)
    for key in RAMP_KEYS:
        assert half[key] == pytest.approx(0.5 * STAGE_WEIGHTS[stage][key]), key
    for epoch in (20, 21, 100):
        assert stage_loss_weights(stage, epoch) == dict(STAGE_WEIGHTS[stage])


def test_stage_loss_weights_custom_warmup() -> None:
    weights = stage_loss_weights(3, 2, warmup_epochs=4)
    assert weights["w_edge"] == pytest.approx(0.10)
    assert weights["w_reconstruction"] == pytest.approx(0.90)


def test_stage_loss_weights_returns_a_fresh_dict() -> None:
    weights = stage_loss_weights(2, 5)
    weights["w_ssim"] = 99.0
    assert STAGE_WEIGHTS[2]["w_ssim"] == 0.45


@pytest.mark.parametrize("stage", [0, 4, -1])
def test_stage_loss_weights_rejects_unknown_stage(stage: int) -> None:
    with pytest.raises(ValueError, match=rf"stage must be one of \[1, 2, 3\], got {stage}"):
        stage_loss_weights(stage, 0)


def test_color_thresholds() -> None:
    assert dict(COLOR_THRESHOLDS) == {
        "min_saturation": 0.10,
        "critical_saturation": 0.04,
        "target_saturation": 0.30,
        "saturation_penalty_factor": 1.0,
    }


@pytest.mark.parametrize(
    ("saturation", "flag"),
    [
        (0.0, "CRITICAL_COLOR"),
        (0.039, "CRITICAL_COLOR"),
        (0.04, "LOW_COLOR"),
        (0.0999, "LOW_COLOR"),
        (0.10, "OK"),
        (0.5, "OK"),
        (1.0, "OK"),
    ],
)
def test_color_flag_boundaries(saturation: float, flag: str) -> None:
    assert color_flag(saturation, COLOR_THRESHOLDS) == flag


def test_training_defaults() -> None:
    assert TRAINING_DEFAULTS["batch_size"] == 8
    assert TRAINING_DEFAULTS["image_size"] == 512
    assert TRAINING_DEFAULTS["lr_mask"] == pytest.approx(2e-5)
    assert TRAINING_DEFAULTS["lr_other"] == pytest.approx(2e-5)
    assert TRAINING_DEFAULTS["grad_clip_norm"] == pytest.approx(0.5)


@pytest.mark.parametrize(
    "mapping",
    [
        STAGE_WEIGHTS,
        STAGE_WEIGHTS[1],
        STAGE_WEIGHTS[2],
        STAGE_WEIGHTS[3],
        COLOR_THRESHOLDS,
        TRAINING_DEFAULTS,
    ],
)
def test_schedule_dicts_are_read_only(mapping) -> None:
    key = next(iter(mapping))
    with pytest.raises(TypeError):
        mapping[key] = 0.0
    with pytest.raises(TypeError):
        del mapping[key]


def test_module_exports() -> None:
    for name in loss_weights.__all__:
        assert hasattr(loss_weights, name), name
