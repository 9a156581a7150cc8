"""Stage bookkeeping and the learning-rate curve, as pure functions of epoch and step."""

from __future__ import annotations

import math
from collections.abc import Sequence

from lowlight.errors import LowlightError

__all__ = ["stage_of_epoch", "cosine_with_warmup", "check_replanned"]


def stage_of_epoch(epoch: int, stage_epochs: Sequence[int]) -> tuple[int, int]:
    """``(stage, epoch_in_stage)`` for a 0-based run epoch; stages are numbered from 1.

    Epochs past the last boundary belong to the last stage (a resumed run given more epochs).
    Stages of length 0 are skipped.
    """
    start = 0
    for stage, length in enumerate(stage_epochs, start=1):
        if epoch < start + length:
            return stage, epoch - start
        start += length
    last = max(i for i, length in enumerate(stage_epochs, start=1) if length > 0)
    return last, epoch - sum(stage_epochs[: last - 1])


def check_replanned(rows: Sequence[dict], stage_epochs: Sequence[int]) -> None:
    """Refuse stage lengths that would move an epoch already trained (rows of a resumed run,
    each with its ``epoch`` from 1 and its ``stage``) to another stage.

    Raises:
        LowlightError: naming the first such epoch.
    """
    for row in rows:
        planned, _ = stage_of_epoch(row["epoch"] - 1, stage_epochs)
        if planned != row["stage"]:
            raise LowlightError(
                f"stage_epochs {list(stage_epochs)} would put the finished epoch "
                f"{row['epoch']} (stage {row['stage']}) in stage {planned}; a resumed run may "
                "only re-plan epochs it has not trained yet"
            )


def cosine_with_warmup(
    step: int, total_steps: int, warmup_steps: int, floor: float = 0.02
) -> float:
    """LR factor: linear warm-up to 1, then cosine decay to ``floor`` at ``total_steps``."""
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    span = max(1, total_steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / span)
    return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))
