"""A training run's data: the datasets of its split, and the loader over each epoch's items."""

from __future__ import annotations

import logging

from torch.utils.data import DataLoader, DistributedSampler

from lowlight.data import ExposureMixDataset, ImagePair, PairedCropDataset, PairedImageDataset
from lowlight.errors import LowlightError
from lowlight.training.config import TrainConfig
from lowlight.training.distributed import DistributedContext

__all__ = ["make_datasets", "make_loader", "images_per_epoch"]

log = logging.getLogger("lowlight.train")


def make_datasets(
    config: TrainConfig, train_pairs: list[ImagePair], val_pairs: list[ImagePair]
) -> tuple[PairedCropDataset | ExposureMixDataset, PairedImageDataset]:
    """The training items (crops or whole images, with the ``exposure_mix`` if any) and at
    most ``max_val_images`` validation pairs, each read once into memory.

    Raises:
        LowlightError: whole images of several sizes asked for in batches of more than one.
    """
    if config.max_val_images is not None:
        val_pairs = val_pairs[: config.max_val_images]
    log.info("data: %d training pairs, %d validation pairs", len(train_pairs), len(val_pairs))
    train = PairedCropDataset(
        train_pairs, config.image_size, config.samples_per_epoch, config.downscale
    )
    if config.image_size == 0 and config.batch_size > 1 and len(train.sizes) > 1:
        raise LowlightError(
            "whole-image training (image_size 0) with batch_size > 1 needs images of one "
            f"size, found {len(train.sizes)} sizes; use batch_size 1 or crops"
        )
    mix = config.mix()
    if mix is not None:
        train = ExposureMixDataset(train, mix)
    return train, PairedImageDataset(val_pairs)


def make_loader(
    data: PairedCropDataset | ExposureMixDataset, config: TrainConfig, dist: DistributedContext
) -> tuple[DataLoader, DistributedSampler | None]:
    """Batches of ``batch_size`` items in the dataset's own (seeded) order; under ``torchrun``
    each process gets its shard through the returned sampler (None otherwise)."""
    sampler = (
        DistributedSampler(data, dist.world_size, dist.rank, shuffle=False)
        if dist.enabled
        else None
    )
    loader = DataLoader(
        data,
        batch_size=config.batch_size,
        shuffle=False,
        sampler=sampler,
        drop_last=len(data) >= config.batch_size * dist.world_size,
        num_workers=config.num_workers,
    )
    return loader, sampler


def images_per_epoch(loader: DataLoader, dist: DistributedContext) -> int:
    """How many items an epoch of ``loader`` trains on, over all processes."""
    if loader.drop_last:
        per_process = len(loader) * (loader.batch_size or 1)
    else:
        per_process = len(loader.sampler)  # type: ignore[arg-type]
    return per_process * dist.world_size
