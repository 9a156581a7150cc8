"""Fine-tuning on photos without targets: the CLI run and its files, resume, the distillation
term, the frozen starting model, validation of either kind, and the config."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import yaml

from lowlight.cli import main
from lowlight.errors import LowlightError
from lowlight.training.checkpoint import load_checkpoint
from lowlight.training.config import load_config
from lowlight.training.loss_weights import TRAINING_DEFAULTS
from lowlight.training.unpaired_recipe import UNPAIRED_DEFAULTS, UNPAIRED_TERMS, UnpairedLoss
from lowlight.training.unpaired_trainer import UnpairedTrainer
from lowlight.weights import default_weights_path, load_model, read_metadata

NO_REFERENCE_COLUMNS = (
    "val_niqe",
    "val_mean_grey",
    "val_clipped",
    "val_crushed",
    "val_colourfulness",
    "val_input_clipped",
)


def tiny_unpaired(photos: Path, out: Path, weights: Path, **overrides: object):
    """A config for a seconds-long unpaired run: 32-pixel crops, batch 2, 4 crops an epoch."""
    values: dict = {
        "data": str(photos),
        "out": str(out),
        "unpaired": True,
        "init_weights": str(weights),
        "stage_epochs": (2, 0, 0),
        "image_size": 32,
        "batch_size": 2,
        "samples_per_epoch": 4,
        "val_fraction": 0.3,
        "threads": 1,
    }
    values.update(overrides)
    return load_config(**values)


def output_on(model: torch.nn.Module, photo: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model.eval()(photo[None]).image


@pytest.fixture
def cli_run(photo_data: Path, weights_file: Path, tmp_path: Path) -> Path:
    """A finished two-epoch ``lowlight train --unpaired`` run in ``tmp_path/run``."""
    options = tmp_path / "tiny.yaml"
    options.write_text(yaml.safe_dump({"samples_per_epoch": 4, "val_fraction": 0.3}))
    run = tmp_path / "run"
    status = main(
        [
            "train", "--unpaired", str(photo_data), "--out", str(run), "--config", str(options),
            "--init-weights", str(weights_file), "--epochs", "2", "--image-size", "32",
            "--batch-size", "2", "--threads", "1",
        ]
    )  # fmt: skip
    assert status == 0
    return run


def test_a_cli_run_writes_every_file(cli_run: Path, weights_file: Path, read_metrics) -> None:
    for name in ("config.yaml", "split.json", "metrics.csv", "last.pt", "best.safetensors"):
        assert (cli_run / name).is_file(), name
    rows = read_metrics(cli_run)
    assert [(row["epoch"], row["stage"]) for row in rows] == [("1", "1"), ("2", "1")]
    for column in ("train_loss", *(f"train_{term}" for term in UNPAIRED_TERMS)):
        assert all(math.isfinite(float(row[column])) for row in rows), column
    for column in NO_REFERENCE_COLUMNS:
        assert all(math.isfinite(float(row[column])) for row in rows), column
    assert "val_psnr" not in rows[0]
    assert all(row["train_skipped"] == "0" and row["val_skipped"] == "0" for row in rows)

    config = yaml.safe_load((cli_run / "config.yaml").read_text())
    assert config["unpaired"] is True and config["init_weights"] == str(weights_file)
    assert config["unpaired_loss"] == UnpairedLoss().to_dict()  # every key, resolved
    assert config["stage_epochs"] == [2, 0, 0] and config["image_size"] == 32
    split = yaml.safe_load((cli_run / "split.json").read_text())
    assert len(split["val"]) == 2 and len(split["train"]) == 4

    metadata = read_metadata(cli_run / "best.safetensors")
    assert float(metadata["val_niqe"]) in [pytest.approx(float(r["val_niqe"])) for r in rows]
    assert isinstance(load_model(cli_run / "best.safetensors"), torch.nn.Module)

    log = (cli_run / "train.log").read_text()
    assert "unpaired objective, distilled toward" in log and "distill_l1 5, " in log
    assert log.count("val NIQE") == 2

    state = load_checkpoint(cli_run)
    # As used: a forward pass clamps the fresh model's colour vibrance into its band.
    start_model = load_model(weights_file)
    start_model.clamp_parameters_()
    start = start_model.state_dict()
    assert state["teacher"].keys() == start.keys()
    assert all(torch.equal(state["teacher"][k], start[k]) for k in start)  # frozen
    assert not all(torch.equal(state["model"][k], start[k]) for k in start)  # trained


def test_resume_with_more_epochs_continues_the_run(cli_run: Path, read_metrics, capsys) -> None:
    before = read_metrics(cli_run)
    capsys.readouterr()
    assert main(["train", "--out", str(cli_run), "--resume", "--epochs", "3"]) == 0
    after = read_metrics(cli_run)
    assert after[:2] == before and after[2]["epoch"] == "3"
    best = min(after, key=lambda row: float(row["val_niqe"]))  # nothing clipped here
    done = capsys.readouterr().out.strip().splitlines()[-1]
    assert done.startswith(f"done: 3 epochs in {cli_run}; best.safetensors from epoch ")
    assert f"from epoch {best['epoch']}: val NIQE {float(best['val_niqe']):.3f}" in done
    assert load_checkpoint(cli_run)["epoch"] == 3
    assert "resumed at epoch 2" in (cli_run / "train.log").read_text()


def test_distillation_keeps_the_output_near_the_starting_model(
    photo_data: Path, weights_file: Path, tmp_path: Path
) -> None:
    """A strong exposure pull moves the tone; with distillation it moves far less."""
    pull = {name: 0.0 for name in UNPAIRED_TERMS} | {"exposure": 1.0, "exposure_level": 0.8}
    moved = {}
    for name, distill in (("free", 0.0), ("distilled", 30.0)):
        config = tiny_unpaired(
            photo_data,
            tmp_path / name,
            weights_file,
            unpaired_loss=pull | {"distill_l1": distill, "distill_ssim": distill / 5},
            lr_curve=3e-3,
            lr_decoder=3e-3,
            warmup_iterations=0,
        )
        trainer = UnpairedTrainer(config)
        trainer.fit()
        _, photo = trainer.val_data[0]
        before, after = output_on(trainer.teacher, photo), output_on(trainer.model, photo)
        moved[name] = float((after - before).abs().mean())
    assert moved["free"] > 0.01
    assert moved["distilled"] < moved["free"] / 3


def test_an_unpaired_run_can_validate_on_pairs(
    photo_data: Path, pair_data: Path, weights_file: Path, tmp_path: Path
) -> None:
    config = tiny_unpaired(photo_data, tmp_path / "run", weights_file, val_data=str(pair_data))
    trainer = UnpairedTrainer(config)
    rows = trainer.fit()
    assert len(trainer.train_data.images) == 6  # no photo held out
    assert all(math.isfinite(row["val_psnr"]) for row in rows) and "val_niqe" not in rows[0]
    best = max(rows, key=lambda row: row["val_psnr"])
    assert read_metadata(Path(config.out) / "best.safetensors")["epoch"] == str(best["epoch"])


def test_a_paired_run_can_validate_on_photos(
    pair_data: Path, photo_data: Path, tmp_path: Path, read_metrics
) -> None:
    status = main(
        [
            "train", "--data", str(pair_data), "--val-data", str(photo_data),
            "--out", str(tmp_path / "run"), "--stage-epochs", "1,0,0", "--batch-size", "2",
            "--image-size", "32", "--threads", "1",
        ]
    )  # fmt: skip
    assert status == 0
    (row,) = read_metrics(tmp_path / "run")
    assert math.isfinite(float(row["val_niqe"])) and "val_psnr" not in row


def test_unpaired_runs_take_the_fine_tuning_defaults(photo_data: Path, tmp_path: Path) -> None:
    config = load_config(data=str(photo_data), out=str(tmp_path / "run"), unpaired=True)
    for key, value in UNPAIRED_DEFAULTS.items():
        assert getattr(config, key) == value, key
    assert config.init_weights == str(default_weights_path())
    assert config.unpaired_loss == UnpairedLoss().to_dict()
    given = load_config(
        data=str(photo_data),
        out=str(tmp_path / "run"),
        unpaired=True,
        image_size=64,
        unpaired_loss={"exposure": 0.0},
    )
    assert given.image_size == 64 and given.batch_size == UNPAIRED_DEFAULTS["batch_size"]
    assert given.unpaired_loss == {**UnpairedLoss().to_dict(), "exposure": 0.0}
    paired = load_config(data=str(photo_data), out=str(tmp_path / "run"))
    assert paired.lr_decoder == TRAINING_DEFAULTS["lr_decoder"] and paired.init_weights is None


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"unpaired_loss": {"brightness": 1.0}}, "unknown unpaired_loss key"),
        ({"unpaired_loss": {"exposure": -1.0}}, "'exposure' must be 0 or more"),
        ({"unpaired_loss": {"exposure": "high"}}, "'exposure' must be a number"),
        ({"unpaired_loss": {"exposure_level": 1.0}}, r"'exposure_level' must be in \(0, 1\)"),
        ({"exposure_mix": {}}, "an unpaired run has none to mix"),
    ],
)
def test_unusable_unpaired_options_are_refused(
    photo_data: Path, tmp_path: Path, values: dict, message: str
) -> None:
    with pytest.raises(LowlightError, match=message):
        load_config(data=str(photo_data), out=str(tmp_path / "run"), unpaired=True, **values)


def test_pairs_and_photos_are_one_or_the_other(
    photo_data: Path, pair_data: Path, tmp_path: Path, capsys
) -> None:
    run = str(tmp_path / "run")
    with pytest.raises(SystemExit):
        main(["train", "--data", str(pair_data), "--unpaired", str(photo_data), "--out", run])
    assert "not allowed with argument" in capsys.readouterr().err
    assert main(["train", "--unpaired", str(tmp_path / "nowhere"), "--out", run]) == 2
    assert "photo folder not found" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
