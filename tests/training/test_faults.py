"""A run killed with SIGKILL and resumed repeats the uninterrupted run of the same seed, on
pairs and on photos without targets."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file

from lowlight.cli import main
from lowlight.training.checkpoint import LAST, PREVIOUS, load_checkpoint

# Killed after its second checkpoint, the run resumes in the middle of stage 2, where the
# mask predictor is already unfrozen and its state must come back from the checkpoint.
STAGE_EPOCHS = "1,2,1"
TOTAL_EPOCHS = 4
# Timing columns differ between any two runs.
TIMING = {"train_seconds", "images_per_second"}
TOLERANCE = 1e-5

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")


def train_args(data: list[str], out: Path, options: Path) -> list[str]:
    return [
        "train",
        *data,
        "--out",
        str(out),
        "--config",
        str(options),
        "--stage-epochs",
        STAGE_EPOCHS,
        "--image-size",
        "32",
        "--batch-size",
        "2",
        "--seed",
        "3",
    ]


def assert_same_rows(got: list[dict[str, str]], expected: list[dict[str, str]]) -> None:
    assert len(got) == len(expected)
    for index, (a, b) in enumerate(zip(got, expected, strict=True)):
        assert a.keys() == b.keys()
        for key in a.keys() - TIMING:
            x, y = float(a[key]), float(b[key])
            same = (math.isnan(x) and math.isnan(y)) or math.isclose(
                x, y, rel_tol=TOLERANCE, abs_tol=TOLERANCE
            )
            assert same, f"epoch {index + 1}, {key}: resumed {a[key]} != uninterrupted {b[key]}"


def assert_same_tensors(got: dict, expected: dict, what: str) -> None:
    assert got.keys() == expected.keys()
    for key in got:
        difference = (got[key].float() - expected[key].float()).abs().max().item()
        assert difference <= TOLERANCE, f"{what} {key} differs by {difference}"


@pytest.mark.parametrize("kind", ["pairs", "photos"])
def test_killed_run_resumes_to_the_same_result(
    kind: str, pair_data: Path, photo_data: Path, weights_file: Path, tmp_path: Path, read_metrics
) -> None:
    if kind == "pairs":
        data = ["--data", str(pair_data)]
    else:  # fine-tuning, which also keeps its starting model in the checkpoint
        data = ["--unpaired", str(photo_data), "--init-weights", str(weights_file)]
    options = tmp_path / "tiny.yaml"
    options.write_text(
        yaml.safe_dump(
            {
                "samples_per_epoch": 4,
                "max_val_images": 2,
                "val_fraction": 0.4,
                "threads": 1,
                "warmup_iterations": 3,
            }
        )
    )
    killed = tmp_path / "killed"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "lowlight", *train_args(data, killed, options)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        # The second checkpoint is complete once both files exist (last.pt is briefly absent
        # between moving the first aside and putting the second in place).
        while not ((killed / PREVIOUS).exists() and (killed / LAST).exists()):
            if process.poll() is not None:
                pytest.fail(f"training exited early: {process.stderr.read().decode()[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail("no checkpoint within 120 s")
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    interrupted_at = load_checkpoint(killed)["epoch"]
    assert 2 <= interrupted_at < TOTAL_EPOCHS, "the run was not interrupted mid-way"

    # Resumed and reference runs in this process (on one thread too): the killed process is
    # gone, so all the resumed run knows comes from the run folder.
    assert main([*train_args(data, killed, options), "--resume"]) == 0
    reference = tmp_path / "reference"
    assert main(train_args(data, reference, options)) == 0

    assert_same_rows(read_metrics(killed), read_metrics(reference))
    for name in ("split.json", "config.yaml"):
        expected = (reference / name).read_text().replace(str(reference), str(killed))
        assert (killed / name).read_text() == expected, name
    assert_same_tensors(
        load_file(str(killed / "best.safetensors")),
        load_file(str(reference / "best.safetensors")),
        "best",
    )
    last, expected_last = load_checkpoint(killed), load_checkpoint(reference)
    assert last["epoch"] == expected_last["epoch"] == TOTAL_EPOCHS
    assert last["global_step"] == expected_last["global_step"]
    assert_same_tensors(last["model"], expected_last["model"], "last")
    if kind == "photos":
        assert_same_tensors(last["teacher"], expected_last["teacher"], "teacher")
    assert torch.equal(last["torch_rng"], expected_last["torch_rng"])
