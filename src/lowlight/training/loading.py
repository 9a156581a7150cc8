"""A training run's data: what it finds, the datasets of its split, the validation they make,
and the loader over each epoch's items."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from torch.utils.data import DataLoader, DistributedSampler

from lowlight.data import (
    ExposureMix,
    ExposureMixDataset,
    ImagePair,
    PairedCropDataset,
    PairedImageDataset,
    Photo,
    PhotoCropDataset,
    PhotoDataset,
    find_pairs,
    find_photos,
    is_held_out,
)
from lowlight.errors import LowlightError
from lowlight.training.config import TrainConfig
from lowlight.training.distributed import DistributedContext
from lowlight.training.no_reference_validation import NoReferenceValidation
from lowlight.training.validation import PairedValidation

__all__ = [
    "FoundData",
    "find_data",
    "make_datasets",
    "make_training_data",
    "make_loader",
    "images_per_epoch",
]

log = logging.getLogger("lowlight.train")

TrainingData = PairedCropDataset | ExposureMixDataset | PhotoCropDataset
Validation = PairedValidation | NoReferenceValidation


@dataclass(frozen=True)
class FoundData:
    """What a run trains and validates on, before the split.

    Attributes:
        items: the training pairs, or photos for an unpaired run.
        val_items: the pairs or photos of ``val_data``; None to split them off ``items``.
        val_paired: whether validation scores pairs (else photos, without references).
    """

    items: list[ImagePair] | list[Photo]
    val_items: list[ImagePair] | list[Photo] | None
    val_paired: bool


def find_data(config: TrainConfig) -> FoundData:
    """The training items of ``data`` and the validation items of ``val_data``, if given.

    ``data`` holds pairs (``low/`` and ``high/``), or photos for an unpaired run. ``val_data``
    holding ``low/`` and ``high/`` folders is validated on as pairs, any other folder as
    photos without references, whatever the run trains on.

    Raises:
        LowlightError: a folder is missing or holds nothing usable.
    """
    items = find_photos(config.data) if config.unpaired else find_pairs(config.data)
    if config.val_data is None:
        return FoundData(items, None, not config.unpaired)
    folder = Path(config.val_data)
    if not folder.is_dir():
        raise LowlightError(
            f"validation folder not found: {folder}; pass a folder with low/ and high/ pairs, "
            "or a folder of photos"
        )
    paired = (folder / "low").is_dir() and (folder / "high").is_dir()
    return FoundData(items, find_pairs(folder) if paired else find_photos(folder), paired)


def make_training_data(config: TrainConfig, items: list[ImagePair] | list[Photo]) -> TrainingData:
    """The training items: crops (or whole images) of pairs, with the ``exposure_mix`` if any,
    or crops of photos for an unpaired run; each read once into memory.

    Raises:
        LowlightError: whole images of several sizes asked for in batches of more than one.
    """
    dataset = PhotoCropDataset if config.unpaired else PairedCropDataset
    train = dataset(items, config.image_size, config.samples_per_epoch, config.downscale)
    if config.image_size == 0 and config.batch_size > 1 and len(train.sizes) > 1:
        raise LowlightError(
            "whole-image training (image_size 0) with batch_size > 1 needs images of one "
            f"size, found {len(train.sizes)} sizes; use batch_size 1 or crops"
        )
    mix = config.mix()
    if mix is not None:
        photos = well_exposed_photos(config, mix, len(train)) if mix.photos > 0 else None
        train = ExposureMixDataset(train, mix, photos)
    return train


def well_exposed_photos(config: TrainConfig, mix: ExposureMix, count: int) -> PhotoCropDataset:
    """Crops of the photos of ``mix.photo_folders`` (``count`` per epoch, the pairs' crop size
    and downscale), leaving out those that checks keep out of training (``is_held_out``).

    Raises:
        LowlightError: whole images in batches of more than one (photos come in many
            sizes), or no photos.
    """
    if config.image_size == 0 and config.batch_size > 1:
        raise LowlightError(
            "exposure_mix photos come in many sizes: train on whole images with batch_size 1, "
            "or on crops (image_size > 0)"
        )
    photos = [
        photo
        for folder in mix.photo_folders
        for photo in find_photos(folder)
        if not is_held_out(photo.path.stem)
    ]
    log.info("data: %d well-exposed photos from %s", len(photos), ", ".join(mix.photo_folders))
    return PhotoCropDataset(photos, config.image_size, count, config.downscale)


def make_datasets(
    config: TrainConfig,
    train_items: list[ImagePair] | list[Photo],
    val_items: list[ImagePair] | list[Photo],
    val_paired: bool,
) -> tuple[TrainingData, Validation]:
    """The training data (``make_training_data``) and the validation on at most
    ``max_val_images`` whole pairs, or photos, each read once into memory."""
    if config.max_val_images is not None:
        val_items = val_items[: config.max_val_images]
    log.info(
        "data: %d training %s, %d validation %s",
        len(train_items),
        "photos" if config.unpaired else "pairs",
        len(val_items),
        "pairs" if val_paired else "photos",
    )
    train = make_training_data(config, train_items)
    if val_paired:
        return train, PairedValidation(PairedImageDataset(val_items))
    return train, NoReferenceValidation(PhotoDataset(val_items, NoReferenceValidation.min_side))


def make_loader(
    data: TrainingData, config: TrainConfig, dist: DistributedContext
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
