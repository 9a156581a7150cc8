"""The staged trainer on tiny synthetic pairs: files, resume, mask unfreeze, guards, clipping."""

from __future__ import annotations

import logging
import math
import re
from pathlib import Path

import pytest
import torch
import yaml
from tqdm import tqdm

from lowlight.cli import main
from lowlight.data import ExposureMixDataset
from lowlight.models import UnifiedLowLightEnhancer
from lowlight.models.colour import EnhancedGlobalColorCorrection
from lowlight.training import trainer as trainer_module
from lowlight.training.checkpoint import load_checkpoint
from lowlight.training.loss_weights import TRAINING_DEFAULTS, WEIGHT_KEYS, stage_loss_weights
from lowlight.training.objective import term_name
from lowlight.training.trainer import Trainer
from lowlight.weights import load_model, read_metadata, save_weights

MASK_LR = TRAINING_DEFAULTS["lr_mask"]
ROW_COLUMNS = (
    "epoch",
    "stage",
    "epoch_in_stage",
    "train_loss",
    *(f"train_{term_name(key)}" for key in WEIGHT_KEYS),
    "train_skipped",
    "val_psnr",
    "val_ssim",
    "val_psnr_gt_mean",
    "val_saturation",
    "val_low_color",
    "val_critical_color",
    "val_skipped",
    "lr_decoder",
    "lr_curve",
    "lr_mask",
    "lr_other",
)


def snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def trained_snapshot(trainer: Trainer) -> dict[str, torch.Tensor]:
    """The weights as used: the colour vibrance starts at 1.2, above its band, and every
    forward pass clamps it to 1.05, which is no training step."""
    trainer.model.clamp_parameters_()
    return snapshot(trainer.model)


def same_tensors(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def all_finite(module: torch.nn.Module) -> bool:
    return all(torch.isfinite(p).all() for p in module.parameters())


def a_batch(trainer: Trainer) -> tuple[torch.Tensor, torch.Tensor]:
    low, high = next(iter(trainer.loader))
    return low, high


@pytest.fixture
def cli_run(pair_data: Path, tmp_path: Path) -> Path:
    """A finished three-stage CLI run (one epoch per stage) in ``tmp_path/run``."""
    options = tmp_path / "tiny.yaml"
    options.write_text(
        yaml.safe_dump(
            {"samples_per_epoch": 4, "max_val_images": 1, "threads": 1, "warmup_iterations": 2}
        )
    )
    run = tmp_path / "run"
    status = main(
        [
            "train",
            "--data",
            str(pair_data),
            "--out",
            str(run),
            "--config",
            str(options),
            "--stage-epochs",
            "1,1,1",
            "--image-size",
            "32",
            "--batch-size",
            "2",
        ]
    )
    assert status == 0
    return run


# ----------------------------------------------------------------------- a whole run, resume
def test_tiny_run_writes_every_file(cli_run: Path, read_metrics) -> None:
    files = ("config.yaml", "split.json", "metrics.csv", "last.pt", "best.safetensors")
    for name in (*files, "last.safetensors"):
        assert (cli_run / name).is_file(), name
    rows = read_metrics(cli_run)
    assert [row["epoch"] for row in rows] == ["1", "2", "3"]
    assert [row["stage"] for row in rows] == ["1", "2", "3"]
    for column in ROW_COLUMNS:
        assert column in rows[0], column
        assert all(row[column] != "" for row in rows), column
    assert all(math.isfinite(float(row["val_psnr"])) for row in rows)
    assert all(row["train_skipped"] == "0" and row["val_skipped"] == "0" for row in rows)

    model = load_model(cli_run / "best.safetensors")
    assert isinstance(model, torch.nn.Module)
    metadata = read_metadata(cli_run / "best.safetensors")
    best = max(float(row["val_psnr"]) for row in rows)
    assert float(metadata["val_psnr"]) == pytest.approx(best, abs=1e-4)

    assert read_metadata(cli_run / "last.safetensors")["epoch"] == "3"  # the final epoch's

    log = (cli_run / "train.log").read_text()
    assert "learning rates: decoder" in log
    assert "mask 2.0e-05" in log
    assert "stage 2: mask predictor unfrozen" in log
    assert log.count("val PSNR") == 3 and "no validation scores" not in log
    assert load_checkpoint(cli_run)["epoch"] == 3


def test_resume_with_more_epochs_extends_the_last_stage(cli_run: Path, read_metrics) -> None:
    before = read_metrics(cli_run)
    assert main(["train", "--out", str(cli_run), "--resume", "--epochs", "4"]) == 0
    after = read_metrics(cli_run)
    assert len(after) == 4
    assert after[:3] == before
    assert (after[3]["epoch"], after[3]["stage"], after[3]["epoch_in_stage"]) == ("4", "3", "2")
    state = load_checkpoint(cli_run)
    assert state["epoch"] == 4
    assert tuple(state["config"]["stage_epochs"]) == (1, 1, 2)
    log = (cli_run / "train.log").read_text()
    assert log.count("learning rates:") == 2
    assert log.count("resumed at epoch") == 1 and "resumed at epoch 3 (stage 3)" in log


def test_resume_of_a_finished_run_trains_nothing(cli_run: Path, monkeypatch) -> None:
    metrics = (cli_run / "metrics.csv").read_bytes()
    last = (cli_run / "last.pt").read_bytes()

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run must not train")

    monkeypatch.setattr(Trainer, "train_step", no_training)
    assert main(["train", "--out", str(cli_run), "--resume"]) == 0
    assert (cli_run / "metrics.csv").read_bytes() == metrics
    assert (cli_run / "last.pt").read_bytes() == last


def test_resume_needs_a_checkpoint_and_a_fresh_run_needs_an_empty_folder(
    cli_run: Path, pair_data: Path, tmp_path: Path, capsys
) -> None:
    assert main(["train", "--data", str(pair_data), "--out", str(cli_run)]) == 2
    assert "--resume" in capsys.readouterr().err
    empty = tmp_path / "empty"
    assert main(["train", "--data", str(pair_data), "--out", str(empty), "--resume"]) == 2
    assert "nothing to resume" in capsys.readouterr().err


def test_every_parameter_is_in_exactly_one_group(make_config) -> None:
    trainer = Trainer(make_config())
    grouped = [id(p) for g in trainer.optimizer.param_groups for p in g["params"]]
    assert len(grouped) == len(set(grouped))
    assert set(grouped) == {id(p) for p in trainer.model.parameters()}
    assert [g["name"] for g in trainer.optimizer.param_groups] == [
        "decoder",
        "curve",
        "mask",
        "other",
    ]


# ---------------------------------------------------------------------- mask predictor
def record_steps(trainer: Trainer, seen: list[dict], on_step=None) -> None:
    """Wrap ``trainer.train_step`` to record the stage and mask state at every step."""
    original = trainer.train_step

    def recording(low, high, weights):
        mask = trainer._group("mask")
        entry = {
            "stage": trainer.current_stage,
            "lr_before": mask["lr"],
            "trainable": all(p.requires_grad for p in trainer.model.mask_predictor.parameters()),
        }
        result = original(low, high, weights)
        entry["lr_after"] = mask["lr"]
        seen.append(entry)
        if on_step is not None:
            on_step(entry)
        return result

    trainer.train_step = recording


@pytest.mark.parametrize(("samples", "batches"), [(2, 1), (10, 5)])
def test_mask_frozen_in_stage_1_then_absolute_lr(make_config, samples: int, batches: int) -> None:
    trainer = Trainer(make_config(samples_per_epoch=samples, stage_epochs=(1, 1, 1)))
    assert trainer.iterations_per_epoch == batches
    seen: list[dict] = []
    record_steps(trainer, seen)
    mask_before = snapshot(trainer.model.mask_predictor)

    trainer._run_epoch()  # stage 1
    assert not any(p.requires_grad for p in trainer.model.mask_predictor.parameters())
    assert same_tensors(snapshot(trainer.model.mask_predictor), mask_before)
    assert all(p.grad is None for p in trainer.model.mask_predictor.parameters())

    trainer._run_epoch()  # stage 2
    trainer._run_epoch()  # stage 3
    assert not same_tensors(snapshot(trainer.model.mask_predictor), mask_before)

    later = [entry for entry in seen if entry["stage"] >= 2]
    assert len(later) == 2 * batches
    assert all(entry["trainable"] for entry in later)
    # Exactly the configured rate at every step: a per-batch "lr *= 0.1" would fail here.
    assert all(entry["lr_before"] == MASK_LR for entry in later)
    assert all(entry["lr_after"] == MASK_LR for entry in later)
    assert [row["lr_mask"] for row in trainer.rows[1:]] == [MASK_LR, MASK_LR]


def test_mask_lr_set_once_per_stage(make_config, caplog) -> None:
    trainer = Trainer(make_config(samples_per_epoch=6, stage_epochs=(1, 2, 1)))
    caplog.set_level(logging.INFO, logger="lowlight.train")
    changed = 1e-3

    def change_lr_once(entry: dict) -> None:
        # A manual change after the first batch of stage 2 must survive the rest of the stage.
        if entry["stage"] == 2 and not change_lr_once.done:
            trainer._group("mask")["lr"] = changed
            change_lr_once.done = True

    change_lr_once.done = False
    seen: list[dict] = []
    record_steps(trainer, seen, change_lr_once)
    trainer.fit()

    stage_2 = [entry for entry in seen if entry["stage"] == 2]
    stage_3 = [entry for entry in seen if entry["stage"] == 3]
    assert len(stage_2) == 2 * trainer.iterations_per_epoch == 6
    assert stage_2[0]["lr_before"] == MASK_LR
    assert all(entry["lr_before"] == changed for entry in stage_2[1:])
    assert all(entry["lr_before"] == MASK_LR for entry in stage_3)
    unfrozen = [r.getMessage() for r in caplog.records if "mask predictor unfrozen" in r.message]
    assert len(unfrozen) == 2 and unfrozen[0].startswith("stage 2") and "stage 3" in unfrozen[1]


def test_enter_epoch_toggles_the_flag(make_config) -> None:
    trainer = Trainer(make_config())
    mask = trainer._group("mask")
    trainer._enter_epoch(1)
    assert not trainer._mask_unfrozen
    assert not any(p.requires_grad for p in trainer.model.mask_predictor.parameters())
    trainer._enter_epoch(2)
    assert trainer._mask_unfrozen
    assert all(p.requires_grad for p in trainer.model.mask_predictor.parameters())
    assert mask["lr"] == MASK_LR
    mask["lr"] = 7e-4
    trainer._enter_epoch(2)  # the next epoch of the same stage leaves the rate alone
    assert mask["lr"] == 7e-4
    trainer._enter_epoch(3)  # a new stage sets it again
    assert trainer._mask_unfrozen and trainer.current_stage == 3
    assert mask["lr"] == MASK_LR


# -------------------------------------------------------------------- NaN / Inf guards
def test_nan_batch_is_skipped_and_leaves_weights_unchanged(make_config) -> None:
    trainer = Trainer(make_config())
    low, high = a_batch(trainer)
    low[0, :, 3, 5] = math.nan
    before = trained_snapshot(trainer)
    result = trainer.train_step(low, high, stage_loss_weights(1, 0))
    assert result.skipped
    assert trainer.global_step == 0
    assert same_tensors(snapshot(trainer.model), before)
    assert all_finite(trainer.model)
    # and a clean batch afterwards trains normally
    clean = trainer.train_step(*a_batch(trainer), stage_loss_weights(1, 0))
    assert not clean.skipped and math.isfinite(clean.loss) and trainer.global_step == 1


def test_nan_batch_counted_in_the_row(make_config) -> None:
    trainer = Trainer(make_config(stage_epochs=(1, 0, 0)))
    original = trainer.train_step

    def poisoned_first(low, high, weights):
        if trainer.global_step == 0 and not poisoned_first.done:
            poisoned_first.done = True
            low = low.clone()
            low[:, :, 0, 0] = math.nan
        return original(low, high, weights)

    poisoned_first.done = False
    trainer.train_step = poisoned_first
    rows = trainer.fit()
    assert rows[0]["train_skipped"] == 1
    assert math.isfinite(rows[0]["train_loss"])
    assert all_finite(trainer.model)


def test_non_finite_losses_mid_run_are_skipped_and_logged(make_config, read_metrics) -> None:
    trainer = Trainer(make_config())
    calls = {"n": 0}
    forward = trainer.objective.forward

    def every_other_step_non_finite(output, target, weights):
        total, terms = forward(output, target, weights)
        calls["n"] += 1
        if calls["n"] % 2 == 0:
            bad = math.nan if calls["n"] % 4 == 0 else math.inf
            total = total * bad
        return total, terms

    trainer.objective.forward = every_other_step_non_finite
    rows = trainer.fit()
    assert len(rows) == 3
    assert [row["train_skipped"] for row in rows] == [1, 1, 1]
    assert all(math.isfinite(row["train_loss"]) for row in rows)
    assert all_finite(trainer.model)
    assert trainer.global_step == 3
    assert [r["train_skipped"] for r in read_metrics(trainer.run_dir)] == ["1", "1", "1"]
    assert "skipped a batch" in (trainer.run_dir / "train.log").read_text()


def test_non_finite_gradients_with_finite_loss_are_skipped(make_config) -> None:
    trainer = Trainer(make_config())
    forward = trainer.objective.forward

    def infinite_gradient(output, target, weights):
        total, terms = forward(output, target, weights)
        # sqrt at 0: a finite (zero) value whose gradient is infinite
        image = output.image
        return total + torch.sqrt(image - image.detach()).mean(), terms

    trainer.objective.forward = infinite_gradient
    before = trained_snapshot(trainer)
    result = trainer.train_step(*a_batch(trainer), stage_loss_weights(1, 0))
    assert math.isfinite(result.loss)
    assert result.skipped and not math.isfinite(result.grad_norm)
    assert same_tensors(snapshot(trainer.model), before)
    assert all(p.grad is None for p in trainer.model.parameters())


def test_non_finite_validation_output_is_counted(make_config) -> None:
    trainer = Trainer(make_config(max_val_images=None, val_fraction=0.5))
    assert len(trainer.val_data) >= 2
    low, high = trainer.val_data.images[0]
    low = low.clone()
    low[:, 1, 1] = math.nan
    trainer.val_data.images[0] = (low, high)
    scores = trainer.validate()
    assert scores["val_skipped"] == 1
    assert math.isfinite(scores["val_psnr"])


# ------------------------------------------------------------- clipping, colour bounds
def test_gradient_norm_is_clipped_to_half(make_config) -> None:
    trainer = Trainer(make_config())
    assert trainer.config.grad_clip_norm == TRAINING_DEFAULTS["grad_clip_norm"] == 0.5
    # Huge weights make huge gradients; the clip must still hold.
    weights = {key: 1e4 for key in WEIGHT_KEYS}
    for _ in range(3):
        low, high = a_batch(trainer)
        result = trainer.train_step(low, high, weights)
        assert not result.skipped
        assert result.grad_norm > 0.5
        grads = [p.grad for p in trainer.model.parameters() if p.grad is not None]
        assert grads
        clipped = torch.linalg.vector_norm(
            torch.stack([torch.linalg.vector_norm(g) for g in grads])
        )
        assert clipped <= 0.5 * (1 + 1e-5)


def test_colour_parameters_stay_in_bounds_after_big_steps(make_config) -> None:
    trainer = Trainer(make_config(lr_other=10.0))
    weights = {key: 1e3 for key in WEIGHT_KEYS}
    affine = trainer.model.colour_affine
    correction = trainer.model.colour_correction
    ranges = EnhancedGlobalColorCorrection
    eye = torch.eye(3).view(3, 3, 1, 1)
    moved = False
    for _ in range(3):
        trainer.train_step(*a_batch(trainer), weights)
        # checked straight after the optimiser step, before any forward re-applies the bounds
        assert ((affine.weight - eye).abs() <= affine.identity_clamp + 1e-6).all()
        assert correction.weight.min() >= ranges.WEIGHT_RANGE[0]
        assert correction.weight.max() <= ranges.WEIGHT_RANGE[1]
        assert correction.bias.min() >= ranges.BIAS_RANGE[0]
        assert correction.bias.max() <= ranges.BIAS_RANGE[1]
        assert ranges.VIBRANCE_RANGE[0] <= correction.vibrance_factor <= ranges.VIBRANCE_RANGE[1]
        assert correction.channel_gamma.min() >= ranges.GAMMA_RANGE[0]
        assert correction.channel_gamma.max() <= ranges.GAMMA_RANGE[1]
        moved |= not torch.equal(affine.weight, eye)
    assert moved  # the big steps really pushed the matrix, so the bounds were exercised


@pytest.mark.parametrize("ema_decay", [None, 0.9])
def test_without_validation_the_last_epoch_is_kept(make_config, ema_decay) -> None:
    trainer = Trainer(make_config(val_fraction=0.0, stage_epochs=(1, 1, 0), ema_decay=ema_decay))
    rows = trainer.fit()
    assert len(trainer.val_data) == 0 and len(trainer.train_data.images) == 6
    assert all(math.isnan(row["val_psnr"]) for row in rows)
    kept = load_model(Path(trainer.config.out) / "best.safetensors").state_dict()
    final = trainer.kept_model.state_dict()
    assert all(torch.equal(kept[k], final[k]) for k in kept)
    assert read_metadata(Path(trainer.config.out) / "best.safetensors")["epoch"] == "2"
    log = (Path(trainer.config.out) / "train.log").read_text()
    assert log.count("no validation scores") == 2 and "nan" not in log


def test_an_exposure_mix_trains_on_synthetic_and_identity_pairs(make_config) -> None:
    trainer = Trainer(
        make_config(
            stage_epochs=(1, 0, 0), exposure_mix={"paired": 0.0, "identity": 1.0, "synthetic": 0.0}
        )
    )
    assert isinstance(trainer.train_data, ExposureMixDataset)
    assert "training items: pairs 0, synthetic exposures 0 (gain 0.008-1), identity 1" in (
        trainer.banner()
    )
    low, high = next(iter(trainer.loader))
    assert torch.equal(low, high)  # identity pairs only
    rows = trainer.fit()
    assert math.isfinite(rows[0]["train_loss"])
    saved = yaml.safe_load((Path(trainer.config.out) / "config.yaml").read_text())
    assert saved["exposure_mix"] == {"paired": 0.0, "identity": 1.0, "synthetic": 0.0}


def test_init_weights_can_take_another_design(make_config, tmp_path: Path) -> None:
    legacy = UnifiedLowLightEnhancer(tone_sigma=None, highlight_knee=None)
    save_weights(legacy, tmp_path / "legacy.safetensors")
    trainer = Trainer(
        make_config(
            init_weights=str(tmp_path / "legacy.safetensors"),
            model={"tone_sigma": 32.0, "highlight_knee": 0.9},
        )
    )
    assert trainer.model.tone_sigma == 32 and trainer.config.model["highlight_knee"] == 0.9
    assert torch.equal(trainer.model.decoder.head[0].weight, legacy.decoder.head[0].weight)


@pytest.mark.parametrize(("samples", "images"), [(4, 4), (5, 4), (1, 1)])
def test_the_progress_bar_counts_images_to_the_end_with_rate_and_time_left(
    make_config, monkeypatch, samples: int, images: int
) -> None:
    """The bar advances with every batch, in images, and ends at N/N: it once sat at 0/N."""
    finished: list[tuple[int, int, str]] = []

    class RecordingBar(tqdm):
        def close(self) -> None:
            if not self.disable:  # close runs again on deletion, after disabling the bar
                finished.append((self.n, self.total, str(self)))
            super().close()

    monkeypatch.setattr(trainer_module, "tqdm", RecordingBar)
    trainer = Trainer(make_config(samples_per_epoch=samples, stage_epochs=(2, 0, 0)))
    assert trainer.images_per_epoch == images  # batch 2: an odd last crop is dropped
    trainer.fit()
    assert [(n, total) for n, total, _ in finished] == [(images, images)] * 2
    for _, _, shown in finished:
        assert f"{images}/{images}" in shown and "img/s" in shown, shown
        assert re.search(r"\[\d\d:\d\d<\d\d:\d\d", shown), shown  # elapsed<left


def test_split_seed_keeps_the_held_out_pairs_while_the_draws_change(make_config) -> None:
    first = Trainer(make_config(val_fraction=0.3, seed=0))
    other_draws = Trainer(make_config(out=first.config.out + "-2", val_fraction=0.3, seed=5,
                                      split_seed=0))  # fmt: skip
    assert [p for p in other_draws.val_data.names] == [p for p in first.val_data.names]
    first.train_data.set_epoch(0, 0)
    other_draws.train_data.set_epoch(5, 0)
    assert not torch.equal(first.train_data._plan, other_draws.train_data._plan)
