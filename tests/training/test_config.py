"""Training config: YAML + overrides, validation errors, CLI exit codes, the saved config."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lowlight.cli import main
from lowlight.errors import LowlightError
from lowlight.training.config import DEFAULT_STAGE_EPOCHS, TrainConfig, load_config
from lowlight.training.loss_weights import TRAINING_DEFAULTS
from lowlight.training.trainer import Trainer


def write_yaml(path: Path, values: dict) -> Path:
    path.write_text(yaml.safe_dump(values))
    return path


def test_defaults_come_from_the_recipe() -> None:
    config = TrainConfig()
    assert config.batch_size == TRAINING_DEFAULTS["batch_size"]
    assert config.image_size == TRAINING_DEFAULTS["image_size"]
    assert config.grad_clip_norm == TRAINING_DEFAULTS["grad_clip_norm"] == 0.5
    assert config.lr_mask == TRAINING_DEFAULTS["lr_mask"] == 2e-5
    assert config.lr_other == TRAINING_DEFAULTS["lr_other"] == 2e-5
    assert config.stage_epochs == DEFAULT_STAGE_EPOCHS


def test_yaml_file_then_overrides(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path / "train.yaml",
        {
            "data": "pairs",
            "out": "run",
            "batch_size": 4,
            "stage_epochs": [2, 3, 4],
            "lr_decoder": 1,  # an int where a float is expected is accepted
            "samples_per_epoch": 16,
            "model": {"curve_iterations": 4},
        },
    )
    config = load_config(path, batch_size=2, seed=None, image_size=64)
    assert config.batch_size == 2  # the override wins
    assert config.image_size == 64
    assert config.seed == 0  # a None override leaves the default
    assert config.stage_epochs == (2, 3, 4)
    assert config.lr_decoder == 1.0 and isinstance(config.lr_decoder, float)
    assert config.samples_per_epoch == 16
    assert config.model == {"curve_iterations": 4}
    assert config.epochs == 9


def test_empty_yaml_file_is_all_defaults(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing\n")
    assert load_config(path, data="d", out="o") == TrainConfig(data="d", out="o")


def test_unknown_keys_are_listed(tmp_path: Path) -> None:
    path = write_yaml(tmp_path / "bad.yaml", {"data": "d", "out": "o", "bach_size": 2, "lr": 1})
    with pytest.raises(LowlightError, match="unknown config key.*bach_size, lr"):
        load_config(path)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"batch_size": "eight"}, "batch_size.*int.*'eight'"),
        ({"batch_size": 2.5}, "batch_size.*int"),
        ({"batch_size": True}, "batch_size.*int"),
        ({"lr_mask": "fast"}, "lr_mask.*float"),
        ({"stage_epochs": [1, 2]}, "stage_epochs.*3 values"),
        ({"stage_epochs": "1,2,3"}, "stage_epochs.*3 values"),
        ({"samples_per_epoch": "many"}, "samples_per_epoch.*int"),
    ],
)
def test_wrong_types_are_refused(tmp_path: Path, values: dict, message: str) -> None:
    path = write_yaml(tmp_path / "bad.yaml", {"data": "d", "out": "o", **values})
    with pytest.raises(LowlightError, match=message):
        load_config(path)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"batch_size": -2}, "batch_size must be positive"),
        ({"batch_size": 0}, "batch_size must be positive"),
        ({"image_size": -1}, "image_size must be 0 \\(whole images\\) or positive"),
        ({"stage_epochs": (1, -1, 1)}, "stage_epochs"),
        ({"stage_epochs": (0, 0, 0)}, "no epochs"),
        ({"samples_per_epoch": 0}, "samples_per_epoch"),
        ({"downscale": 0}, "downscale must be 1 or more"),
        ({"lr_mask": 0.0}, "lr_mask must be positive"),
        ({"grad_clip_norm": -0.5}, "grad_clip_norm must be positive"),
        ({"ema_decay": 1.0}, "ema_decay must be in \\[0, 1\\)"),
        ({"ema_decay": -0.1}, "ema_decay must be in \\[0, 1\\)"),
        ({"exposure_mix": {"paired": 2.0}}, "exposure_mix shares"),
        ({"exposure_mix": {"noise": 1}}, "unknown exposure_mix key"),
        ({"data": ""}, "no training data"),
        ({"out": ""}, "no run folder"),
    ],
)
def test_invalid_values_are_refused(values: dict, message: str) -> None:
    with pytest.raises(LowlightError, match=message):
        load_config(**{"data": "d", "out": "o", **values})


def test_unreadable_or_malformed_yaml(tmp_path: Path) -> None:
    with pytest.raises(LowlightError, match="cannot read config"):
        load_config(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("batch_size: [1, 2\n")
    with pytest.raises(LowlightError, match="not valid YAML"):
        load_config(broken)
    listed = tmp_path / "list.yaml"
    listed.write_text("- 1\n- 2\n")
    with pytest.raises(LowlightError, match="mapping"):
        load_config(listed)


# ------------------------------------------------------------------------------ CLI
def run_cli(argv: list[str], capsys) -> tuple[int, str]:
    status = main(argv)
    err = capsys.readouterr().err
    return status, err


def assert_one_line_error(status: int, err: str, *fragments: str) -> None:
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("lowlight train: error: ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0]


def test_cli_unknown_key(pair_data: Path, tmp_path: Path, capsys) -> None:
    config = write_yaml(tmp_path / "c.yaml", {"batchsize": 2})
    status, err = run_cli(
        ["train", "--data", str(pair_data), "--out", str(tmp_path / "r"), "--config", str(config)],
        capsys,
    )
    assert_one_line_error(status, err, "unknown config key", "batchsize")


def test_cli_wrong_type(pair_data: Path, tmp_path: Path, capsys) -> None:
    config = write_yaml(tmp_path / "c.yaml", {"batch_size": "eight"})
    status, err = run_cli(
        ["train", "--data", str(pair_data), "--out", str(tmp_path / "r"), "--config", str(config)],
        capsys,
    )
    assert_one_line_error(status, err, "batch_size", "eight")


def test_cli_negative_batch_size(pair_data: Path, tmp_path: Path, capsys) -> None:
    status, err = run_cli(
        ["train", "--data", str(pair_data), "--out", str(tmp_path / "r"), "--batch-size", "-3"],
        capsys,
    )
    assert_one_line_error(status, err, "batch_size must be positive", "-3")


def test_cli_missing_data_folder(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "no-such-data"
    status, err = run_cli(
        ["train", "--data", str(missing), "--out", str(tmp_path / "r"), "--stage-epochs", "1,1,1"],
        capsys,
    )
    assert_one_line_error(status, err, "data folder not found", str(missing))


def test_cli_missing_data_option(tmp_path: Path, capsys) -> None:
    status, err = run_cli(["train", "--out", str(tmp_path / "r")], capsys)
    assert_one_line_error(status, err, "--data")


def test_cli_resume_with_fewer_epochs_is_refused(make_config, capsys) -> None:
    config = make_config(stage_epochs=(1, 0, 0))
    Trainer(config).fit()
    capsys.readouterr()  # the progress bar of that run
    status, err = run_cli(["train", "--out", config.out, "--resume", "--epochs", "0"], capsys)
    assert_one_line_error(status, err, "--epochs 0")


# ------------------------------------------------------------------- the saved config
def test_saved_config_loads_back(make_config) -> None:
    config = make_config(stage_epochs=(1, 0, 0), model={"curve_iterations": 4})
    trainer = Trainer(config)
    trainer.fit()
    saved = Path(config.out) / "config.yaml"
    first_line = saved.read_text().splitlines()[0]
    assert first_line.startswith("#")
    assert "perceptual loss" in first_line
    assert trainer.objective.perceptual.kind in first_line
    assert load_config(saved) == config
    assert load_config(saved).model == {"curve_iterations": 4}


@pytest.mark.parametrize(
    "path", sorted((Path(__file__).parents[2] / "configs").rglob("*.yaml")), ids=lambda p: p.name
)
def test_shipped_configs_load(path: Path) -> None:
    config = load_config(path, data="pairs", out="run")
    assert config.epochs > 0
