"""Where the benchmarks find LOL-v1 (``$LOWLIGHT_DATA/lol-v1``, else ``shared/data/lol-v1``
beside the repository), how they read its pictures, and where they write their results."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import torch

from lowlight.imageio import read_rgb

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"


def data_root() -> Path:
    """The data folder: ``$LOWLIGHT_DATA``, else ``shared/data`` beside the repository."""
    root = os.environ.get("LOWLIGHT_DATA")
    return Path(root) if root else REPO.parent / "shared" / "data"


def lol_root() -> Path:
    """The ``lol-v1`` folder (holding ``train/`` and ``eval15/``); it may not exist."""
    return data_root() / "lol-v1"


def read_batch(path: Path) -> torch.Tensor:
    """The picture at ``path`` as a float (1, 3, H, W) batch in [0, 1]."""
    return torch.from_numpy(read_rgb(path)).permute(2, 0, 1)[None]


def pairs_missing(folder: Path, what: str) -> bool:
    """True, after saying so on stderr, when ``folder`` has no ``low/`` pictures to read."""
    if (folder / "low").is_dir():
        return False
    print(f"{what} not found at {folder}; pass --data", file=sys.stderr)
    return True
