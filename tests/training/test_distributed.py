"""Data-parallel training: 2 CPU processes with gloo agree with each other and with one process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from lowlight.training.config import load_config
from lowlight.training.distributed import DistributedContext
from lowlight.training.trainer import Trainer

WORLD = 2
# Per-process batch 2 on 2 ranks is the same global batch as one process with batch 4.
PER_RANK_BATCH = 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _train_rank(rank: int, port: int, config: dict, weights_dir: str) -> None:
    # The config travels as a plain dict: a spawned child imports this module, not conftest.
    os.environ.update(
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        RANK=str(rank),
        WORLD_SIZE=str(WORLD),
        LOCAL_RANK=str(rank),
    )
    trainer = Trainer(load_config(**config))
    trainer.fit()
    torch.save(trainer.model.state_dict(), Path(weights_dir) / f"rank{rank}.pt")
    torch.save(trainer.rows, Path(weights_dir) / f"rows{rank}.pt")


@pytest.fixture
def ddp_run(make_config, tmp_path: Path) -> Path:
    weights_dir = tmp_path / "ranks"
    weights_dir.mkdir()
    config = make_config(
        out=tmp_path / "ddp",
        stage_epochs=(1, 1, 0),
        batch_size=PER_RANK_BATCH,
        samples_per_epoch=8,
        max_val_images=2,
    )
    args = (_free_port(), config.to_dict(), str(weights_dir))
    mp.spawn(_train_rank, args=args, nprocs=WORLD, join=True)
    return weights_dir


def _timeless(rows: list[dict]) -> list[dict]:
    return [
        {k: v for k, v in row.items() if k not in ("train_seconds", "images_per_second")}
        for row in rows
    ]


def test_ranks_hold_identical_weights_and_match_one_process(ddp_run, make_config, tmp_path):
    rank0 = torch.load(ddp_run / "rank0.pt", weights_only=True)
    rank1 = torch.load(ddp_run / "rank1.pt", weights_only=True)
    for name, tensor in rank0.items():
        assert torch.equal(tensor, rank1[name]), name

    single = Trainer(
        make_config(
            out=tmp_path / "single",
            stage_epochs=(1, 1, 0),
            batch_size=PER_RANK_BATCH * WORLD,
            samples_per_epoch=8,
            max_val_images=2,
        )
    )
    single.fit()
    for name, tensor in single.model.state_dict().items():
        torch.testing.assert_close(rank0[name], tensor, rtol=1e-4, atol=1e-5, msg=name)

    ddp_rows = _timeless(torch.load(ddp_run / "rows0.pt", weights_only=True))
    single_rows = _timeless(single.rows)
    assert [r["stage"] for r in ddp_rows] == [1, 2]
    for ddp_row, single_row in zip(ddp_rows, single_rows, strict=True):
        assert ddp_row.keys() == single_row.keys()
        for key, value in single_row.items():
            assert ddp_row[key] == pytest.approx(value, rel=1e-4, abs=1e-5), key


def test_only_rank_zero_writes_the_run_folder(ddp_run, tmp_path):
    run = tmp_path / "ddp"
    assert {"config.yaml", "split.json", "metrics.csv", "last.pt", "best.safetensors"} <= {
        p.name for p in run.iterdir()
    }
    lines = (run / "metrics.csv").read_text().splitlines()
    assert len(lines) == 3  # header and one row per epoch, written once
    assert "processes 2" in (run / "train.log").read_text()


def _workers_said(launch: subprocess.CompletedProcess) -> str:
    """What a failed launch printed before torchrun's own closing traceback, which only names
    the signal a worker died of."""
    summary = launch.stderr.rfind("Traceback (most recent call last)")
    return launch.stderr[:summary][-8000:] if summary > 0 else launch.stderr[-8000:]


def test_torchrun_launches_the_cli_and_resumes(pair_data, tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text("samples_per_epoch: 8\nmax_val_images: 2\nthreads: 1\nwarmup_iterations: 2\n")
    out = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    launch = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "lowlight",
        "train",
        "--config",
        str(config),
        "--data",
        str(pair_data),
        "--out",
        str(out),
        "--image-size",
        "32",
        "--batch-size",
        "2",
    ]
    first = subprocess.run(
        [*launch, "--stage-epochs", "1,0,0"], env=env, capture_output=True, text=True, timeout=300
    )
    assert first.returncode == 0, _workers_said(first)
    resumed = subprocess.run(
        [*launch, "--resume", "--epochs", "2"], env=env, capture_output=True, text=True, timeout=300
    )
    assert resumed.returncode == 0, _workers_said(resumed)
    rows = (out / "metrics.csv").read_text().splitlines()
    assert len(rows) == 3
    assert rows[2].startswith("2,")


def test_a_finished_rank_waits_for_the_others_before_leaving_and_a_failed_one_does_not(
    monkeypatch,
):
    calls: list[str] = []
    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    monkeypatch.setattr(dist, "barrier", lambda: calls.append("barrier"))
    monkeypatch.setattr(dist, "destroy_process_group", lambda: calls.append("destroy"))
    context = DistributedContext(rank=1, world_size=2)
    context.shutdown()
    assert calls == ["barrier", "destroy"]
    calls.clear()
    context.shutdown(finished=False)
    assert calls == ["destroy"]
