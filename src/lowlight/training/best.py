"""Which epoch's weights a run keeps as ``best.safetensors``.

Validation gives each epoch a rank (``PairedValidation.rank``, ``NoReferenceValidation.rank``):
a tuple compared element by element, higher is better, or None when nothing was scored. An
epoch replaces the best so far when its rank is higher; an epoch without scores (no validation
images) always does, so that a run without validation keeps its latest weights.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

__all__ = ["Rank", "improves", "best_row", "saved_rank"]

Rank = tuple[float, ...]
"""A validation result as a tuple that compares better when larger (``saved_rank``)."""


def improves(rank: Rank | None, best: Rank | None) -> bool:
    """Whether an epoch of rank ``rank`` replaces the best so far, of rank ``best``.

    Examples:
        >>> improves((20.5,), (20.1,)), improves((20.0,), (20.1,)), improves(None, (20.1,))
        (True, False, True)
    """
    return rank is None or best is None or rank > best


def best_row(rows: Sequence[dict], rank_of: Callable[[dict], Rank | None]) -> dict | None:
    """The row of the epoch a run with these rows keeps (None for no rows)."""
    best, best_rank = None, None
    for row in rows:
        rank = rank_of(row)
        if improves(rank, best_rank):
            best, best_rank = row, rank if rank is not None else best_rank
    return best


def saved_rank(state: dict) -> Rank | None:
    """The best rank so far of a checkpoint; those written before ranks kept the best PSNR."""
    if "best_rank" in state:
        rank = state["best_rank"]
        return tuple(rank) if rank is not None else None
    return None if math.isinf(state["best_psnr"]) else (state["best_psnr"],)
