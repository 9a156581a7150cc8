"""Checkpoints: atomic writes, fallback to the previous one, refusal of code-running pickles."""

from __future__ import annotations

import logging
import pathlib
from pathlib import Path

import pytest
import torch

from lowlight.errors import LowlightError
from lowlight.training.checkpoint import (
    CHECKPOINT_VERSION,
    LAST,
    PREVIOUS,
    load_checkpoint,
    save_checkpoint,
)
from lowlight.training.trainer import Trainer


def state(epoch: int) -> dict:
    return {"epoch": epoch, "weights": torch.full((4,), float(epoch)), "rows": [{"a": 1.5}]}


def test_save_then_load(tmp_path: Path) -> None:
    save_checkpoint(state(1), tmp_path)
    loaded = load_checkpoint(tmp_path)
    assert loaded["epoch"] == 1 and loaded["version"] == CHECKPOINT_VERSION
    assert torch.equal(loaded["weights"], torch.full((4,), 1.0))
    save_checkpoint(state(2), tmp_path)
    assert load_checkpoint(tmp_path)["epoch"] == 2
    assert torch.load(tmp_path / PREVIOUS, weights_only=True)["epoch"] == 1
    assert {p.name for p in tmp_path.iterdir()} == {LAST, PREVIOUS}


def test_a_failed_write_leaves_the_old_checkpoint(tmp_path: Path, fill_disk) -> None:
    save_checkpoint(state(1), tmp_path)
    save_checkpoint(state(2), tmp_path)
    last, previous = (tmp_path / LAST).read_bytes(), (tmp_path / PREVIOUS).read_bytes()
    # The temporary file is opened with os.fdopen; torch.save to a path would instead fail
    # on a full disk with "RuntimeError: ... unexpected pos".
    fill_disk(room=len(last) // 2)
    with pytest.raises(LowlightError) as caught:
        save_checkpoint(state(3), tmp_path)
    assert str(caught.value) == (
        f"cannot write checkpoint {tmp_path / LAST}: No space left on device; "
        "the previous checkpoint is kept"
    )
    assert (tmp_path / LAST).read_bytes() == last
    assert (tmp_path / PREVIOUS).read_bytes() == previous
    assert {p.name for p in tmp_path.iterdir()} == {LAST, PREVIOUS}  # no temporary files
    assert load_checkpoint(tmp_path)["epoch"] == 2


def test_a_missing_run_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LowlightError, match=r"cannot write checkpoint .*gone.*last\.pt: No such"):
        save_checkpoint(state(1), tmp_path / "gone")


def test_a_state_that_does_not_read_back_writes_nothing(tmp_path: Path, monkeypatch) -> None:
    save_checkpoint(state(1), tmp_path)
    last = (tmp_path / LAST).read_bytes()
    real_save = torch.save

    def silently_truncated(obj, f, *args, **kwargs):
        real_save(obj, f, *args, **kwargs)
        f.truncate(100)

    monkeypatch.setattr(torch, "save", silently_truncated)
    with pytest.raises(Exception):  # noqa: B017 - whatever the reader raises for a torn file
        save_checkpoint(state(2), tmp_path)
    monkeypatch.undo()
    assert (tmp_path / LAST).read_bytes() == last
    assert sorted(p.name for p in tmp_path.iterdir()) == [LAST]


def test_truncated_last_falls_back_to_previous(tmp_path: Path, caplog) -> None:
    save_checkpoint(state(1), tmp_path)
    save_checkpoint(state(2), tmp_path)
    data = (tmp_path / LAST).read_bytes()
    (tmp_path / LAST).write_bytes(data[: len(data) // 3])
    with caplog.at_level(logging.WARNING):
        loaded = load_checkpoint(tmp_path)
    assert loaded["epoch"] == 1
    warnings = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert str(tmp_path / LAST) in warnings and "cannot be loaded" in warnings
    assert str(tmp_path / PREVIOUS) in warnings


def test_garbage_last_falls_back_to_previous(tmp_path: Path) -> None:
    save_checkpoint(state(1), tmp_path)
    save_checkpoint(state(2), tmp_path)
    (tmp_path / LAST).write_bytes(b"\x00not a checkpoint" * 50)
    assert load_checkpoint(tmp_path)["epoch"] == 1


def test_foreign_checkpoint_is_not_used(tmp_path: Path) -> None:
    torch.save({"epoch": 5}, tmp_path / LAST)  # no version: not ours
    with pytest.raises(LowlightError, match="not a lowlight training checkpoint"):
        load_checkpoint(tmp_path)


def test_both_damaged_is_an_error(tmp_path: Path) -> None:
    save_checkpoint(state(1), tmp_path)
    save_checkpoint(state(2), tmp_path)
    for name in (LAST, PREVIOUS):
        data = (tmp_path / name).read_bytes()
        (tmp_path / name).write_bytes(data[:200])
    with pytest.raises(LowlightError, match="cannot resume") as caught:
        load_checkpoint(tmp_path)
    assert LAST in str(caught.value) and PREVIOUS in str(caught.value)


def test_nothing_to_load_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(LowlightError, match=f"no {LAST}"):
        load_checkpoint(tmp_path)


class _Exploit:
    """Unpickling this calls ``Path.touch(marker)``: code execution on load."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (self.marker,))


def test_code_running_pickle_is_refused(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    marker = tmp_path / "pwned"
    torch.save({"version": CHECKPOINT_VERSION, "epoch": 1, "payload": _Exploit(marker)}, run / LAST)

    with pytest.raises(LowlightError, match="cannot resume"):
        load_checkpoint(run)
    assert not marker.exists()

    # The file really is an exploit: an unsafe load would have run it.
    probe = tmp_path / "probe"
    torch.save({"payload": _Exploit(probe)}, tmp_path / "unsafe.pt")
    torch.load(tmp_path / "unsafe.pt", weights_only=False)
    assert probe.exists()


def test_code_running_last_falls_back_without_running(tmp_path: Path) -> None:
    save_checkpoint(state(1), tmp_path)
    marker = tmp_path / "pwned"
    (tmp_path / LAST).replace(tmp_path / PREVIOUS)
    torch.save({"version": CHECKPOINT_VERSION, "payload": _Exploit(marker)}, tmp_path / LAST)
    assert load_checkpoint(tmp_path)["epoch"] == 1
    assert not marker.exists()


def test_trainer_resumes_from_previous_when_last_is_damaged(make_config, caplog) -> None:
    config = make_config(stage_epochs=(1, 1, 0))
    Trainer(config).fit()
    run = Path(config.out)
    data = (run / LAST).read_bytes()
    (run / LAST).write_bytes(data[: len(data) // 2])
    with caplog.at_level(logging.WARNING):
        trainer = Trainer(config, resume=True)
    assert trainer.epoch == 1 and trainer.current_stage == 1
    assert len(trainer.rows) == 1
    assert any("previous good checkpoint" in r.getMessage() for r in caplog.records)
    rows = trainer.fit()
    assert [row["epoch"] for row in rows] == [1, 2]
