"""Resumable training checkpoints, written atomically and loaded safely."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import torch

from lowlight.errors import LowlightError

__all__ = ["save_checkpoint", "load_checkpoint", "CHECKPOINT_VERSION", "LAST", "PREVIOUS"]

CHECKPOINT_VERSION = 1
LAST = "last.pt"
PREVIOUS = "last.prev.pt"

log = logging.getLogger(__name__)


def _read(path: Path) -> dict:
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or state.get("version") != CHECKPOINT_VERSION:
        raise ValueError("not a lowlight training checkpoint of this version")
    return state


def save_checkpoint(state: dict, run_dir: str | os.PathLike) -> Path:
    """Write ``state`` as ``run_dir/last.pt``; the checkpoint it replaces becomes ``last.prev.pt``.

    The new file is written to a temporary name and read back before it replaces anything,
    so a crash or a full disk never leaves ``last.pt`` half-written.
    """
    run_dir = Path(run_dir)
    target = run_dir / LAST
    fd, tmp_name = tempfile.mkstemp(dir=run_dir, prefix=".last.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        torch.save({**state, "version": CHECKPOINT_VERSION}, tmp)
        _read(tmp)
        if target.exists():
            os.replace(target, run_dir / PREVIOUS)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def load_checkpoint(run_dir: str | os.PathLike) -> dict:
    """Load ``last.pt`` (falling back to ``last.prev.pt`` if it is damaged) with weights_only.

    Raises ``LowlightError`` when neither can be loaded.
    """
    run_dir = Path(run_dir)
    problems = []
    for name in (LAST, PREVIOUS):
        path = run_dir / name
        if not path.exists():
            continue
        try:
            state = _read(path)
        except Exception as exc:  # a damaged or foreign file: report it and try the next
            problems.append(f"{path}: {exc}")
            log.warning("checkpoint %s cannot be loaded (%s)", path, exc)
            continue
        if problems:
            log.warning("resuming from the previous good checkpoint %s", path)
        return state
    detail = "; ".join(problems) if problems else f"no {LAST} in {run_dir}"
    raise LowlightError(f"cannot resume: {detail}")
