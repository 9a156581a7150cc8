"""Datasets of paired images held in memory: random training crops and whole images."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from lowlight.data.pairs import ImagePair
from lowlight.errors import LowlightError
from lowlight.imageio import read_rgb
from lowlight.imageio.arrays import to_batch

__all__ = ["PairedCropDataset", "PairedImageDataset", "load_pair"]

# Skipped pairs are reported where the trainer reports everything else.
log = logging.getLogger("lowlight.train")


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


def _load_usable(
    pairs: Sequence[ImagePair],
) -> tuple[list[str], list[tuple[torch.Tensor, torch.Tensor]], list[tuple[str, str]]]:
    """Load every pair that can be loaded: ``(names, images, skipped)``.

    Each unusable pair (unreadable file, sizes that differ) is logged as one warning on the
    ``lowlight.train`` logger and listed in ``skipped`` as ``(name, reason)``.

    Raises:
        LowlightError: pairs were given but none of them could be loaded.
    """
    names, images, skipped = [], [], []
    for pair in pairs:
        try:
            images.append(load_pair(pair))
        except LowlightError as exc:
            reason = str(exc).removeprefix(f"pair {pair.name}: ")
            skipped.append((pair.name, reason))
            log.warning("skipped pair %s: %s", pair.name, reason)
            continue
        names.append(pair.name)
    if skipped and not images:
        more = f" (and {len(skipped) - 1} more, each reported above)" if len(skipped) > 1 else ""
        raise LowlightError(
            f"none of the {len(skipped)} image pairs can be used: pair {skipped[0][0]}: "
            f"{skipped[0][1]}{more}; "
            "fix or remove the files"
        )
    return names, images, skipped


def _decimate(image: torch.Tensor, factor: int, phase: int) -> torch.Tensor:
    """Every ``factor``-th pixel of a (3, H, W) image from offset ``divmod(phase, factor)``.

    Always (3, H // factor, W // factor), whatever the offset.
    """
    if factor == 1:
        return image
    top, left = divmod(phase, factor)
    height, width = (side // factor * factor for side in image.shape[-2:])
    return image[..., top : top + height : factor, left : left + width : factor]


class PairedImageDataset(Dataset):
    """Whole image pairs for validation: items are ``(name, low, high)``, (3, H, W) float32.

    Pairs that cannot be loaded are logged, listed in ``skipped`` as ``(name, reason)`` and
    left out; ``LowlightError`` if pairs were given and none can be loaded.
    """

    def __init__(self, pairs: list[ImagePair]) -> None:
        self.names, self.images, self.skipped = _load_usable(pairs)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[str, torch.Tensor, torch.Tensor]:
        low, high = self.images[index]
        return self.names[index], low.float(), high.float()


class PairedCropDataset(Dataset):
    """Random aligned crops of paired images, with flips and 90-degree rotations.

    ``image_size == 0`` gives whole images instead, with flips only: the network then sees
    exactly the global statistics (overall exposure, colour, noise level) it sees when
    enhancing a whole photo. A batch of whole images needs images of one size (``sizes``).

    ``downscale`` > 1 trains on pictures ``downscale`` times smaller: each item keeps every
    ``downscale``-th pixel of the pair, starting at a random one of the ``downscale**2``
    offsets. Whole images at half size cost a quarter of the compute per sample and still
    show the whole scene's exposure, so a run makes about three times as many passes over the
    data in the same time; keeping pixels rather than averaging them keeps each pixel's noise
    as strong as in the full-size picture, which the network must still remove at full size.

    All pairs are decoded once and held in memory (float16), so an item costs a crop and
    a few flips: on a 2-core machine, loading keeps up without worker processes. Images
    smaller than ``image_size`` are padded (replicated edges) up to it.

    Randomness comes from ``set_epoch(seed, epoch)``: the same seed and epoch give the same
    crops, which makes resumed runs repeat an uninterrupted run exactly. ``__len__`` is
    ``samples_per_epoch`` (by default the number of usable pairs).

    Pairs that cannot be loaded (unreadable, or low and high of different sizes) are each
    logged as one warning, listed in ``skipped`` as ``(name, reason)`` and left out; if none
    is left, ``LowlightError``.

    Items are ``(low, high)``, each (3, image_size, image_size) float32 in [0, 1]
    (or (3, H, W) for whole images).
    """

    def __init__(
        self,
        pairs: list[ImagePair],
        image_size: int,
        samples_per_epoch: int | None = None,
        downscale: int = 1,
    ) -> None:
        if image_size != 0 and image_size < 16:
            raise LowlightError(
                f"image_size must be 0 (whole images) or at least 16, got {image_size}"
            )
        if downscale < 1:
            raise LowlightError(f"downscale must be 1 or more, got {downscale}")
        if not pairs:
            raise LowlightError("no training pairs")
        self.image_size = image_size
        names, self.images, self.skipped = _load_usable(pairs)
        for name, (low, _) in zip(names, self.images, strict=True):
            if min(low.shape[-2:]) < downscale:
                raise LowlightError(
                    f"pair {name} ({low.shape[-1]}x{low.shape[-2]}) is too small for "
                    f"downscale {downscale}"
                )
        self.downscale = downscale
        self.samples_per_epoch = samples_per_epoch or len(self.images)
        self.sizes = {tuple(_decimate(low, downscale, 0).shape[-2:]) for low, _ in self.images}
        self._plan = torch.zeros(self.samples_per_epoch, 7, dtype=torch.long)
        self.set_epoch(0, 0)

    def set_epoch(self, seed: int, epoch: int) -> None:
        """Draw the choices of epoch ``epoch``: image, crop, flips, rotation, offset."""
        generator = torch.Generator().manual_seed(seed * 100_003 + epoch)
        n = self.samples_per_epoch
        index = torch.randint(len(self.images), (n,), generator=generator)
        self._plan = torch.stack(
            [
                index,
                torch.randint(2**31 - 1, (n,), generator=generator),
                torch.randint(2**31 - 1, (n,), generator=generator),
                torch.randint(2, (n,), generator=generator),
                torch.randint(2, (n,), generator=generator),
                torch.randint(4, (n,), generator=generator),
                torch.randint(self.downscale**2, (n,), generator=generator),
            ],
            dim=1,
        )

    def __len__(self) -> int:
        return self.samples_per_epoch

    def _padded(self, image: torch.Tensor) -> torch.Tensor:
        height, width = image.shape[-2:]
        pad_h, pad_w = max(0, self.image_size - height), max(0, self.image_size - width)
        if pad_h or pad_w:
            image = F.pad(image[None].float(), (0, pad_w, 0, pad_h), mode="replicate")[0]
        return image

    def __getitem__(self, item: int) -> tuple[torch.Tensor, torch.Tensor]:
        index, y_draw, x_draw, flip_h, flip_v, quarter_turns, phase = self._plan[item].tolist()
        pair = [_decimate(t, self.downscale, phase) for t in self.images[index]]
        if self.image_size == 0:
            low, high = (t.float() for t in pair)
            if flip_h:
                low, high = low.flip(-1), high.flip(-1)
            if flip_v:
                low, high = low.flip(-2), high.flip(-2)
            return low.contiguous(), high.contiguous()
        low, high = (self._padded(t) for t in pair)
        height, width = low.shape[-2:]
        top = y_draw % (height - self.image_size + 1)
        left = x_draw % (width - self.image_size + 1)
        window = (..., slice(top, top + self.image_size), slice(left, left + self.image_size))
        low, high = low[window].float(), high[window].float()
        if flip_h:
            low, high = low.flip(-1), high.flip(-1)
        if flip_v:
            low, high = low.flip(-2), high.flip(-2)
        if quarter_turns:
            low = torch.rot90(low, quarter_turns, dims=(-2, -1))
            high = torch.rot90(high, quarter_turns, dims=(-2, -1))
        return low.contiguous(), high.contiguous()
