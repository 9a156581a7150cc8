"""A training run's folder and the files kept in it, other than checkpoints.

``split.json`` (which pairs train and which validate), ``metrics.csv`` (one row per epoch),
``train.log``, ``config.yaml`` (the resolved options), ``best.safetensors`` (the best
weights so far) and ``last.safetensors`` (the latest epoch's weights, the run's result when
its last epoch is what counts). Each is written atomically; ``last.pt`` and ``last.prev.pt``
are written by ``lowlight.training.checkpoint``.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TypeVar

from lowlight.data import ImagePair, Photo, split_by_scene
from lowlight.data.crops import Named
from lowlight.errors import LowlightError
from lowlight.imageio.atomic import atomic_write_text
from lowlight.models import UnifiedLowLightEnhancer
from lowlight.training.checkpoint import LAST, PREVIOUS
from lowlight.training.config import TrainConfig
from lowlight.weights import save_weights

__all__ = ["RunFolder", "SPLIT", "METRICS", "LOG", "CONFIG", "BEST", "LATEST"]

SPLIT = "split.json"
"""The run folder's record of which pictures validate (a split of the data by scene)."""
METRICS = "metrics.csv"
"""The run folder's table: one row per epoch with every loss term and metric."""
LOG = "train.log"
"""The run folder's log: a banner of what was used, then one block per epoch."""
CONFIG = "config.yaml"
"""The run folder's options, every one resolved."""
BEST = "best.safetensors"
"""The run folder's weights of the best validated epoch."""
LATEST = "last.safetensors"
"""The run folder's weights of the latest epoch."""

Item = TypeVar("Item", ImagePair, Photo)


class RunFolder:
    """The run folder ``path`` of one training run (see the module for its files)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    def check(self, resume: bool) -> None:
        """Refuse to resume nothing, or to start a new run over an old one."""
        if resume and not (self.path / LAST).exists() and not (self.path / PREVIOUS).exists():
            raise LowlightError(f"nothing to resume in {self.path} (no {LAST})")
        if not resume and (self.path / LAST).exists():
            raise LowlightError(
                f"{self.path} already holds a run; pass --resume to continue it "
                "or choose another --out"
            )

    def create(self) -> None:
        """Create the folder and check that files can be written in it."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            probe = self.path / ".write-test"
            probe.write_text("")
            probe.unlink()
        except OSError as exc:
            raise LowlightError(f"cannot write to run folder {self.path}: {exc.strerror}") from exc

    def split(
        self, pairs: list[Item], config: TrainConfig, resume: bool, save: bool
    ) -> tuple[list[Item], list[Item]]:
        """``(train, val)`` pairs (or photos): a resumed run's come from ``split.json``, a new
        run's from a seeded split by scene (``val_fraction``, ``split_seed``), saved to
        ``split.json`` if ``save``.
        """
        split_file = self.path / SPLIT
        if resume and split_file.exists():
            val_names = set(json.loads(split_file.read_text())["val"])
            train = [p for p in pairs if p.name not in val_names]
            return train, [p for p in pairs if p.name in val_names]
        train, val = split_by_scene(pairs, config.val_fraction, config.held_out_seed)
        if save:
            self.save_split(train, val)
        return train, val

    def save_split(self, train: Sequence[Named], val: Sequence[Named]) -> None:
        split = {"train": [p.name for p in train], "val": [p.name for p in val]}
        atomic_write_text(self.path / SPLIT, json.dumps(split, indent=1))

    def save_metrics(self, rows: Sequence[dict]) -> None:
        """Write every epoch's row to ``metrics.csv``; columns in order of first appearance."""
        fields: list[str] = []
        for row in rows:
            fields.extend(k for k in row if k not in fields)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_text(self.path / METRICS, buffer.getvalue())

    def save_config(self, config: TrainConfig, note: str) -> None:
        config.save(self.path / CONFIG, note)

    def keep_weights(
        self,
        model: UnifiedLowLightEnhancer,
        epoch: int,
        scores: dict[str, float],
        config: TrainConfig,
        names: Sequence[str],
    ) -> None:
        """Save ``model`` under each of ``names`` (``BEST``, ``LATEST``), labelled with its
        epoch, its validation scores (e.g. ``val_psnr``, to 4 decimals) and the config."""
        metadata = {
            "epoch": str(epoch),
            **{name: f"{value:.4f}" for name, value in scores.items()},
            "train_config": json.dumps(config.to_dict()),
        }
        for name in names:
            save_weights(model, self.path / name, metadata)

    @contextlib.contextmanager
    def logging_to_file(self, log: logging.Logger) -> Iterator[None]:
        """Copy ``log``'s records of INFO and above to ``train.log`` while the block runs.

        ``train.log`` gets them even where logging is not configured (the Python API,
        notebooks): the logger's level is lowered to INFO for the block if need be.
        """
        handler = logging.FileHandler(self.path / LOG)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        handler.setLevel(logging.INFO)
        log.addHandler(handler)
        previous_level = log.level
        if log.getEffectiveLevel() > logging.INFO:
            log.setLevel(logging.INFO)
        try:
            yield
        finally:
            log.removeHandler(handler)
            log.setLevel(previous_level)
            handler.close()
