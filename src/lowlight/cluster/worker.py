"""What each Ray worker runs: a callable class that loads the model once, when Ray starts the
worker, then enhances the files of every batch of tasks it is given."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lowlight.cluster.locations import read_bytes, write_bytes
from lowlight.cluster.planning import LOCAL, Task
from lowlight.errors import LowlightError
from lowlight.image_files import (
    Controls,
    enhance_image_data,
    enhance_image_file,
    folders_for,
    writable_format,
)
from lowlight.imageio import encode_image, read_image, read_image_bytes, write_image
from lowlight.models import UnifiedLowLightEnhancer
from lowlight.runners import runner_for

__all__ = ["FileEnhancer", "TASK_COLUMNS", "task_row"]

TASK_COLUMNS = (
    "index",
    "source_path",
    "source_filesystem",
    "source_shown",
    "target_path",
    "target_filesystem",
    "target_shown",
)
"""The columns of a batch of tasks (see ``lowlight.cluster.planning.Place``): the task's number,
then each file's path, file system and name in messages."""


def task_row(index: int, task: Task) -> dict[str, Any]:
    """The row of task number ``index`` in a batch: a value for each of ``TASK_COLUMNS``."""
    row = {"index": index}
    row |= {f"source_{key}": value for key, value in asdict(task.source).items()}
    row |= {f"target_{key}": value for key, value in asdict(task.target).items()}
    return {name: row[name] for name in TASK_COLUMNS}


class FileEnhancer:
    """Enhances files on a Ray worker, for ``ray.data.Dataset.map_batches``.

    Each picture is read, enhanced on its own at its own size (no padding into a shared
    tensor) and written by the functions ``lowlight enhance`` itself uses, so a result is the
    same file either way.

    Args:
        model: the network, loaded once by the driver and sent to every worker.
        backend: "pytorch" or "onnxruntime", as the driver chose.
        device: where the network runs on the worker ("cpu", or "cuda" for a GPU worker).
        threads: the CPU threads the network may use (the worker's share of CPUs).
        controls: tiling, exposure and strength for every picture.
        filesystems: the pyarrow file systems the tasks' places index.
    """

    def __init__(
        self,
        model: UnifiedLowLightEnhancer,
        backend: str,
        device: str,
        threads: int,
        controls: Controls,
        filesystems: list[Any],
    ) -> None:
        if torch.device(device).type == "cuda" and not torch.cuda.is_available():
            raise LowlightError("a Ray worker given a GPU finds none that PyTorch can use")
        torch.set_num_threads(threads)
        self.runner = runner_for(model.to(device), backend, threads)
        self.controls = controls
        self.filesystems = filesystems

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Enhance every task of ``batch`` (columns ``TASK_COLUMNS``).

        Returns:
            ``index`` and ``error``: an empty string for a picture written, else the reason
            it failed.
        """
        columns = (batch[name] for name in TASK_COLUMNS[1:])
        errors = [self._attempt(*places) for places in zip(*columns, strict=True)]
        return {"index": np.asarray(batch["index"]), "error": np.array(errors, dtype=object)}

    def _attempt(self, *places: Any) -> str:
        """Enhance one task; its failure's reason, or an empty string."""
        source_path, source_fs, source_shown, target_path, target_fs, target_shown = places
        try:
            self._enhance(*places)
        except LowlightError as exc:
            message = str(exc)
        except (RuntimeError, ValueError, OSError, MemoryError) as exc:
            message = f"{type(exc).__name__}: {exc}"
        else:
            return ""
        # Messages name files on the disk as the command line did, not by the absolute paths
        # the workers were given (files behind URIs are named by their URIs already).
        if source_fs == LOCAL:
            message = message.replace(str(source_path), str(source_shown))
        if target_fs == LOCAL:
            message = message.replace(str(target_path), str(target_shown))
        prefix = f"{source_shown}: "
        return message[len(prefix) :] if message.startswith(prefix) else message

    def _enhance(
        self,
        source_path: str,
        source_filesystem: int,
        source_shown: str,
        target_path: str,
        target_filesystem: int,
        target_shown: str,
    ) -> None:
        if source_filesystem == LOCAL and target_filesystem == LOCAL:
            enhance_image_file(Path(source_path), Path(target_path), self.runner, self.controls)
            return
        image_format = writable_format(target_path)  # before any work, as on a disk
        if source_filesystem == LOCAL:
            image = read_image(source_path)
        else:
            data = read_bytes(self.filesystems[source_filesystem], source_path)
            image = read_image_bytes(data, source_shown)
        enhanced = enhance_image_data(image, self.runner, self.controls)
        if target_filesystem == LOCAL:
            with folders_for(Path(target_path)):
                write_image(target_path, enhanced)
            return
        content = encode_image(enhanced, image_format)
        try:
            write_bytes(self.filesystems[target_filesystem], target_path, content)
        except OSError as exc:
            raise LowlightError(f"{target_shown}: cannot write ({exc})") from exc
