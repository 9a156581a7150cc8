"""Where the benchmarks find LOL-v1: ``$LOWLIGHT_DATA/lol-v1``, else ``shared/data/lol-v1``
beside the repository."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def lol_root() -> Path:
    """The ``lol-v1`` folder (holding ``train/`` and ``eval15/``); it may not exist."""
    root = os.environ.get("LOWLIGHT_DATA")
    base = Path(root) if root else REPO.parent / "shared" / "data"
    return base / "lol-v1"
