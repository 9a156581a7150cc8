"""Wrong paths, unwritable folders, full disks and invalid config values: one clear line,
the right exit status, nothing half-written.

Exit statuses: 2 for a problem with the run as a whole (its output folder, its config, a disk
full before any result or during training, which cannot go on); 1 when single files fail
while the others carry on (a full disk while writing one result of ``enhance``).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from lowlight.cli import main
from lowlight.training.checkpoint import load_checkpoint


def run(capsys, *argv: str | Path) -> tuple[int, list[str]]:
    """The exit status and the lines on stderr; ``enhance`` runs with PyTorch, and the notes
    naming its backend and the quality ``auto`` chose are left out."""
    command, *options = [str(arg) for arg in argv]
    if command == "enhance":
        options = ["--backend", "pytorch", *options]
    status = main([command, *options])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    notes = ("lowlight enhance: backend ", "lowlight enhance: quality auto: ")
    return status, [line for line in lines if not line.startswith(notes)]


def temporary_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.endswith(".tmp"))


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    """in/a.png, in/b.jpg and in/sub/c.png: small dark images."""
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in ("a.png", "b.jpg", "sub/c.png"):
        Image.fromarray(rng.integers(0, 40, (12, 16, 3), dtype=np.uint8)).save(root / name)
    return root


def fail_mkdir_of(monkeypatch, folder: Path, error: OSError) -> None:
    real_mkdir = Path.mkdir

    def mkdir(self, *args, **kwargs):
        if self == folder:
            raise error
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)


# ------------------------------------------------------------------------------- enhance
def test_enhance_output_below_a_file_is_a_usage_error_exit_2(
    photos, weights_file, tmp_path, capsys
) -> None:
    (tmp_path / "file").write_text("in the way")
    out = tmp_path / "file" / "results"
    status, lines = run(capsys, "enhance", photos, "-o", out, "--weights", weights_file)
    assert status == 2 and len(lines) == 1
    assert lines[0].startswith(f"lowlight enhance: error: cannot create output folder {out}")


def test_enhance_output_folder_that_cannot_be_created_is_a_usage_error_exit_2(
    photos, weights_file, tmp_path, capsys, monkeypatch
) -> None:
    out = tmp_path / "locked" / "results"
    fail_mkdir_of(monkeypatch, out, PermissionError(errno.EACCES, "Permission denied"))
    status, lines = run(capsys, "enhance", photos, "-o", out, "--weights", weights_file)
    assert status == 2
    assert lines == [
        f"lowlight enhance: error: cannot create output folder {out}: Permission denied"
    ]


def test_enhance_existing_read_only_output_folder_is_a_usage_error_exit_2(
    photos, weights_file, tmp_path, capsys, monkeypatch, files_below
) -> None:
    out = tmp_path / "read-only"
    out.mkdir()
    real_access = os.access
    # What a user other than root sees on a 0o500 folder (the tests run as root).
    monkeypatch.setattr(
        os, "access", lambda path, mode: False if Path(path) == out else real_access(path, mode)
    )
    status, lines = run(capsys, "enhance", photos, "-o", out, "--weights", weights_file)
    assert status == 2
    assert lines == [
        f"lowlight enhance: error: output folder {out} is not writable; choose another -o"
    ]
    assert files_below(out) == set()


def test_enhance_full_disk_creating_the_output_folder_is_a_usage_error_exit_2(
    photos, weights_file, tmp_path, capsys, monkeypatch, no_space
) -> None:
    out = tmp_path / "out"
    fail_mkdir_of(monkeypatch, out, no_space(out))
    status, lines = run(capsys, "enhance", photos, "-o", out, "--weights", weights_file)
    assert status == 2
    assert lines == [
        f"lowlight enhance: error: cannot create output folder {out}: No space left on device"
    ]


def test_enhance_full_disk_while_writing_is_a_per_file_error_exit_1_leaving_no_partial_file(
    photos, weights_file, tmp_path, capsys, fill_disk, fingerprint
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.png").write_bytes(b"an earlier result")  # must survive a failed rewrite
    before = fingerprint(photos)
    fill_disk(room=100)  # the first result gets 100 bytes into its temporary file

    status, lines = run(capsys, "enhance", photos, "-o", out, "--weights", weights_file)

    assert status == 1
    assert lines[-1] == "lowlight enhance: 3 of 3 images failed"
    for name in ("a.png", "b.jpg", "sub/c.png"):
        [line] = [line for line in lines if line.startswith(f"{photos / name}: ")]
        assert line.endswith("cannot write image ([Errno 28] No space left on device)")
        assert str(out / name) in line
    assert sorted(p.name for p in out.rglob("*") if p.is_file()) == ["a.png"]
    assert (out / "a.png").read_bytes() == b"an earlier result"
    assert fingerprint(photos) == before


def test_enhance_a_file_where_a_result_folder_should_be_is_a_per_file_error_exit_1(
    photos, weights_file, tmp_path, capsys, files_below
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "sub").write_text("in the way of out/sub/c.png")
    status, lines = run(capsys, "enhance", photos, "-o", out, "--weights", weights_file)
    assert status == 1
    assert lines[0].startswith(f"{photos / 'sub' / 'c.png'}: cannot create folder {out / 'sub'}")
    assert files_below(out) == {"a.png", "b.jpg", "sub"}


def test_enhance_a_missing_input_is_a_usage_error_exit_2_before_any_work(
    photos, weights_file, tmp_path, capsys
) -> None:
    out = tmp_path / "out"
    missing = tmp_path / "typo.png"
    status, lines = run(
        capsys, "enhance", photos / "a.png", missing, "-o", out, "--weights", weights_file
    )
    assert status == 2
    assert lines == [f"lowlight enhance: error: input not found: {missing}"]
    assert not out.exists()


# ------------------------------------------------------------------------------ evaluate
@pytest.fixture
def pairs(tmp_path: Path) -> Path:
    """data/low and data/high: four 40x48 pairs (distinct scenes)."""
    root = tmp_path / "data"
    rng = np.random.default_rng(1)
    for side in ("low", "high"):
        (root / side).mkdir(parents=True)
    for name in ("1", "2", "3", "4"):
        high = rng.integers(40, 255, (40, 48, 3), dtype=np.uint8)
        Image.fromarray(high).save(root / "high" / f"{name}.png")
        Image.fromarray((high // 8).astype(np.uint8)).save(root / "low" / f"{name}.png")
    return root


def test_evaluate_full_disk_writing_the_json_is_exit_2_without_a_partial_file(
    pairs, tmp_path, capsys, fill_disk
) -> None:
    result = tmp_path / "reports" / "result.json"
    result.parent.mkdir()
    fill_disk(room=10)
    status, lines = run(capsys, "evaluate", "--data", pairs, "--identity", "--json", result)
    assert status == 2
    assert lines == [f"lowlight evaluate: error: cannot write {result}: No space left on device"]
    assert list(result.parent.iterdir()) == []


def test_evaluate_full_disk_saving_outputs_is_a_per_pair_error_exit_1(
    pairs, tmp_path, capsys, fill_disk
) -> None:
    outputs = tmp_path / "outputs"
    fill_disk(room=0)
    argv = ("evaluate", "--data", pairs, "--identity", "--save-outputs", outputs)
    status, lines = run(capsys, *argv)
    assert status == 1
    assert len(lines) == 4
    for name, line in zip(("1", "2", "3", "4"), lines, strict=True):
        assert line == (
            f"lowlight evaluate: skipped {name}: cannot write {outputs / name}.png: "
            "No space left on device"
        )
    assert list(outputs.iterdir()) == []


# --------------------------------------------------------------------------------- train
def train(capsys, data: Path, run_dir: Path, config: Path, epochs: str = "1,0,0", *extra):
    """Run a tiny ``lowlight train``; its status and stderr lines other than progress bars."""
    status, lines = run(
        capsys,
        "train",
        "--data",
        data,
        "--out",
        run_dir,
        "--config",
        config,
        "--stage-epochs",
        epochs,
        "--image-size",
        "32",
        "--batch-size",
        "2",
        *extra,
    )
    return status, [line for line in lines if line.startswith("lowlight train:")]


def test_train_full_disk_saving_a_checkpoint_exits_2_keeping_the_last_one_to_resume(
    pairs, tiny_config, tmp_path, capsys, monkeypatch, fill_disk
) -> None:
    run_dir = tmp_path / "run"
    last = run_dir / "last.pt"
    fill_disk(room=100, name="last.pt", after=1)  # epoch 1's checkpoint fits, epoch 2's not

    status, lines = train(capsys, pairs, run_dir, tiny_config, "2,0,0")

    assert status == 2
    assert lines == [
        f"lowlight train: error: training stopped: cannot write checkpoint {last}: "
        f"No space left on device; the previous checkpoint is kept; {last} holds the last "
        "complete epoch: fix this, then --resume"
    ]
    assert temporary_files(run_dir) == []
    assert load_checkpoint(run_dir)["epoch"] == 1
    assert len((run_dir / "metrics.csv").read_text().splitlines()) == 2  # header + epoch 1

    monkeypatch.undo()  # space freed: the run goes on from epoch 1
    status, _ = train(capsys, pairs, run_dir, tiny_config, "2,0,0", "--resume")
    assert status == 0
    assert load_checkpoint(run_dir)["epoch"] == 2


def test_train_full_disk_saving_the_best_weights_exits_2_without_a_partial_file(
    pairs, tiny_config, tmp_path, capsys, fill_disk
) -> None:
    run_dir = tmp_path / "run"
    fill_disk(room=100, name="best.safetensors")
    status, lines = train(capsys, pairs, run_dir, tiny_config)
    assert status == 2
    assert lines == [
        "lowlight train: error: training stopped: cannot write weights to "
        f"{run_dir / 'best.safetensors'}: No space left on device"
    ]
    assert not (run_dir / "best.safetensors").exists()
    assert temporary_files(run_dir) == []


@pytest.mark.parametrize("written", ["metrics.csv", "config.yaml"])
def test_train_full_disk_writing_metrics_or_config_exits_2_without_a_temporary_file(
    pairs, tiny_config, tmp_path, capsys, fill_disk, written
) -> None:
    run_dir = tmp_path / "run"
    fill_disk(room=10, name=written)
    status, lines = train(capsys, pairs, run_dir, tiny_config)
    assert status == 2 and len(lines) == 1
    assert lines[0].startswith(
        f"lowlight train: error: training stopped: {run_dir / written}: No space left on device"
    )
    assert temporary_files(run_dir) == []
    assert not (run_dir / written).exists()


def test_train_full_disk_creating_the_run_folder_is_a_usage_error_exit_2(
    pairs, tiny_config, tmp_path, capsys, monkeypatch, no_space
) -> None:
    run_dir = tmp_path / "run"
    fail_mkdir_of(monkeypatch, run_dir, no_space(run_dir))
    status, lines = train(capsys, pairs, run_dir, tiny_config)
    assert status == 2
    assert lines == [
        f"lowlight train: error: cannot write to run folder {run_dir}: No space left on device"
    ]


def test_train_run_folder_that_is_a_file_is_a_usage_error_exit_2(
    pairs, tiny_config, tmp_path, capsys
) -> None:
    taken = tmp_path / "taken"
    taken.write_text("a file")
    status, lines = train(capsys, pairs, taken, tiny_config)
    assert status == 2 and len(lines) == 1
    assert lines[0].startswith(f"lowlight train: error: cannot write to run folder {taken}")
    assert taken.read_text() == "a file"


# Values that no run can use, beyond those tests/training/test_config.py already covers
# (negative batch size, unknown keys, wrong types).
BAD_VALUES = [
    pytest.param({"val_fraction": 1.5}, "val_fraction must be in [0, 1)", id="val_fraction"),
    pytest.param({"perceptual_weights": "/no/vgg.pth"}, "/no/vgg.pth", id="perceptual_weights"),
    pytest.param({"init_weights": "/no/model.safetensors"}, "/no/model", id="init_weights"),
    pytest.param({"threads": -1}, "threads must be positive", id="threads"),
    pytest.param({"num_workers": -1}, "num_workers must be 0", id="num_workers"),
    pytest.param({"device": "gpu7"}, "unknown device 'gpu7'", id="device"),
    pytest.param(
        {"device": "cuda"},
        "CUDA is not available",
        id="cuda",
        marks=pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here"),
    ),
    pytest.param({"model": {"wide": 1}}, "unknown model key(s): wide", id="model"),
    pytest.param({"model": {"widths": 7}}, "cannot build", id="model_value"),
    pytest.param({"weight_decay": -1.0}, "weight_decay must be 0 or positive", id="weight_decay"),
    pytest.param({"warmup_iterations": -5}, "warmup_iterations must be 0", id="warmup"),
    pytest.param({"ramp_warmup_epochs": -1}, "ramp_warmup_epochs must be 0", id="ramp"),
    pytest.param({"max_val_images": -1}, "max_val_images must be 1 or more", id="max_val_images"),
    pytest.param({"max_val_images": 0}, "max_val_images must be 1 or more", id="max_val_0"),
]


@pytest.mark.parametrize(("values", "message"), BAD_VALUES)
def test_train_invalid_config_values_are_one_line_exit_2(
    pairs, tmp_path, capsys, values, message
) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(yaml.safe_dump({"samples_per_epoch": 4, "threads": 1, **values}))
    run_dir = tmp_path / "run"
    status, lines = train(capsys, pairs, run_dir, config)
    assert status == 2 and len(lines) == 1, lines
    assert lines[0].startswith("lowlight train: error: ") and message in lines[0]
    assert not run_dir.exists()


def test_train_config_that_is_not_utf8_text_is_one_line_exit_2(pairs, tmp_path, capsys) -> None:
    config = tmp_path / "latin1.yaml"
    config.write_bytes("batch_size: 2  # café\n".encode("latin-1"))
    status, lines = train(capsys, pairs, tmp_path / "run", config)
    assert status == 2 and len(lines) == 1
    assert str(config) in lines[0] and "not UTF-8 text" in lines[0]
    assert not (tmp_path / "run").exists()


def test_train_missing_data_folder_leaves_no_run_folder(tiny_config, tmp_path, capsys) -> None:
    missing, run_dir = tmp_path / "no-data", tmp_path / "run"
    status, lines = train(capsys, missing, run_dir, tiny_config)
    assert status == 2
    assert lines[0].startswith("lowlight train: error: data folder not found")
    assert not run_dir.exists()
