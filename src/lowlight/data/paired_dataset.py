"""Datasets of paired images held in memory: random training crops and whole images."""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from lowlight.data.crops import CropDataset, load_usable
from lowlight.data.pairs import ImagePair
from lowlight.errors import LowlightError
from lowlight.imageio import read_rgb
from lowlight.imageio.arrays import to_batch

__all__ = ["PairedCropDataset", "PairedImageDataset", "load_pair"]


def load_pair(pair: ImagePair) -> tuple[torch.Tensor, torch.Tensor]:
    """Read a pair as two (3, H, W) float16 tensors in [0, 1] (float16 halves the memory).

    Raises ``LowlightError`` naming the pair when either file is unreadable or the two
    sizes differ.
    """
    low, high = read_rgb(pair.low), read_rgb(pair.high)
    if low.shape != high.shape:
        raise LowlightError(
            f"pair {pair.name}: low is {low.shape[1]}x{low.shape[0]}, "
            f"high is {high.shape[1]}x{high.shape[0]} ({pair.low} and {pair.high} must be the "
            "same size)"
        )
    halves = [to_batch(image)[0].to(torch.float16).contiguous() for image in (low, high)]
    return halves[0], halves[1]


class PairedImageDataset(Dataset):
    """Whole image pairs for validation: items are ``(name, low, high)``, (3, H, W) float32.

    Pairs that cannot be loaded are logged, listed in ``skipped`` as ``(name, reason)`` and
    left out; ``LowlightError`` if pairs were given and none can be loaded.
    """

    def __init__(self, pairs: list[ImagePair]) -> None:
        self.names, self.images, self.skipped = load_usable(pairs, load_pair, "pair", "image pairs")

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[str, torch.Tensor, torch.Tensor]:
        low, high = self.images[index]
        return self.names[index], low.float(), high.float()


class PairedCropDataset(CropDataset):
    """Random aligned crops of paired images (``CropDataset``): items are ``(low, high)``.

    Whole images at half size (``image_size`` 0, ``downscale`` 2) cost a quarter of the
    compute per sample and still show the whole scene's exposure, so a run makes about three
    times as many passes over the data in the same time, while each pixel's noise stays as
    strong as the network must remove at full size.

    Pairs that cannot be loaded (unreadable, or low and high of different sizes) are each
    logged as one warning, listed in ``skipped`` as ``(name, reason)`` and left out; if none
    is left, ``LowlightError``.

    Items are ``(low, high)``, each (3, image_size, image_size) float32 in [0, 1]
    (or (3, H, W) for whole images).
    """

    load = staticmethod(load_pair)
    kind, kinds = "pair", "image pairs"
