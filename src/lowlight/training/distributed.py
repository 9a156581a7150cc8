"""Data-parallel training on PyTorch's own engine: torchrun, DistributedDataParallel.

Launched by ``torchrun`` (which sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``
and ``MASTER_PORT``), every process trains on its own shard of each epoch; without those
variables the same code runs as one process and every helper here is a no-op.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

__all__ = ["DistributedContext", "init_distributed"]


@dataclass(frozen=True)
class DistributedContext:
    """Where this process sits in the job. ``world_size == 1`` for a plain single process."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Only the main process writes logs, checkpoints and the progress bar."""
        return self.rank == 0

    def device(self, requested: str) -> torch.device:
        """The device for this rank: ``cuda`` becomes ``cuda:LOCAL_RANK`` under torchrun."""
        device = torch.device(requested)
        if device.type == "cuda" and device.index is None and self.enabled:
            return torch.device("cuda", self.local_rank)
        return device

    def wrap(self, model: nn.Module, device: torch.device) -> nn.Module:
        """``model`` in DistributedDataParallel (its trainable parameters as of now)."""
        if not self.enabled:
            return model
        device_ids = [device.index] if device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=device_ids)

    def all_finite(self, finite: bool, device: torch.device) -> bool:
        """True only if ``finite`` holds on every rank, so all ranks skip a batch together."""
        if not self.enabled:
            return finite
        flag = torch.tensor([1.0 if finite else 0.0], device=device)
        dist.all_reduce(flag, op=dist.ReduceOp.MIN)
        return bool(flag.item() > 0)

    def sum(self, values: list[float], device: torch.device) -> list[float]:
        """Element-wise sum of ``values`` over all ranks."""
        if not self.enabled:
            return values
        tensor = torch.tensor(values, dtype=torch.float64, device=device)
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor.tolist()

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()

    def shutdown(self, finished: bool = True) -> None:
        """Leave the job. After a finished run every rank waits for the others first, so no
        rank tears its connections down while a peer still writes; after a failure it leaves
        at once (a barrier would wait for a peer that may never come).

        Callers drop every other reference to the process group (a DistributedDataParallel
        wrapper) first, so that the group is freed here and its threads stop now, not during
        the interpreter's exit, where a thread that wants Python aborts the process
        ("terminate called without an active exception").
        """
        if self.enabled and dist.is_initialized():
            if finished:
                dist.barrier()
            dist.destroy_process_group()


def init_distributed(device: str) -> DistributedContext:
    """Join the torchrun job described by the environment, if any.

    Backend ``nccl`` for CUDA, ``gloo`` for CPU.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistributedContext()
    context = DistributedContext(
        rank=int(os.environ["RANK"]),
        world_size=world_size,
        local_rank=int(os.environ.get("LOCAL_RANK", "0")),
    )
    backend = "nccl" if torch.device(device).type == "cuda" else "gloo"
    if not dist.is_initialized():
        if backend == "nccl":
            torch.cuda.set_device(context.local_rank)
        dist.init_process_group(backend=backend)
    return context
