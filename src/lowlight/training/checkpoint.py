"""Resumable training checkpoints, written atomically and loaded safely."""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path

import torch

from lowlight.errors import LowlightError
from lowlight.imageio.atomic import atomic_write

__all__ = ["save_checkpoint", "load_checkpoint", "CHECKPOINT_VERSION", "LAST", "PREVIOUS"]

CHECKPOINT_VERSION = 1
"""The layout of ``last.pt``; a file of another version is refused."""
LAST = "last.pt"
"""The run folder's checkpoint: everything ``--resume`` needs."""
PREVIOUS = "last.prev.pt"
"""The checkpoint before ``LAST``, kept when a new one replaces it."""

log = logging.getLogger(__name__)


def _read(source: Path | io.BytesIO) -> dict:
    state = torch.load(source, map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or state.get("version") != CHECKPOINT_VERSION:
        raise ValueError("not a lowlight training checkpoint of this version")
    return state


def save_checkpoint(state: dict, run_dir: str | os.PathLike) -> Path:
    """Write ``state`` as ``run_dir/last.pt``; the checkpoint it replaces becomes ``last.prev.pt``.

    The state is serialised and read back in memory, then written to a temporary file that
    replaces ``last.pt`` only once it is complete, so a crash or a full disk never leaves
    ``last.pt`` half-written.

    Raises:
        LowlightError: the file cannot be written (a full disk, a run folder gone or
            read-only); the previous ``last.pt`` is then kept and no temporary file is left.
    """
    run_dir = Path(run_dir)
    target = run_dir / LAST
    # torch.save reports a failed write to a path as an unclear RuntimeError ("unexpected
    # pos ..."); written through a Python file, the disk's own OSError comes through.
    buffer = io.BytesIO()
    torch.save({**state, "version": CHECKPOINT_VERSION}, buffer)
    buffer.seek(0)
    _read(buffer)
    try:
        with atomic_write(target) as handle:
            handle.write(buffer.getbuffer())
            handle.flush()
            os.fsync(handle.fileno())
            # Only a complete new checkpoint moves the old one aside.
            if target.exists():
                os.replace(target, run_dir / PREVIOUS)
    except OSError as exc:
        kept = "; the previous checkpoint is kept" if target.exists() else ""
        raise LowlightError(
            f"cannot write checkpoint {target}: {exc.strerror or exc}{kept}"
        ) from exc
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
