"""Images held in memory for training, and random aligned crops of them.

What pairs (a low image and its target) and single photos share: loading every usable item
once, each unusable one reported and left out, and drawing crops, flips, turns and half-size
offsets from a seed and an epoch, so that a resumed run repeats an uninterrupted one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from lowlight.errors import LowlightError

__all__ = ["CropDataset", "Named", "load_usable", "decimate", "MIN_CROP"]

# Skipped items are reported where the trainer reports everything else.
log = logging.getLogger("lowlight.train")

MIN_CROP = 16
"""The smallest crop side: the network's 1/8-scale stages and SSIM's 11x11 window need room."""


class Named(Protocol):
    """A training item found on disk: a pair or a photo, known by its name."""

    @property
    def name(self) -> str: ...


Item = TypeVar("Item", bound=Named)
Images = tuple[torch.Tensor, ...]


def load_usable(
    items: Sequence[Item], load: Callable[[Item], Images], kind: str, kinds: str
) -> tuple[list[str], list[Images], list[tuple[str, str]]]:
    """Load every item that can be loaded: ``(names, images, skipped)``.

    Each unusable item (``load`` raised ``LowlightError``) is logged as one warning on the
    ``lowlight.train`` logger, ``skipped KIND NAME: reason``, and listed in ``skipped`` as
    ``(name, reason)``.

    Args:
        items: what to load, each with a ``name``.
        load: reads one item into a tuple of (3, H, W) tensors.
        kind: what an item is called, in the singular ("pair").
        kinds: what items are called, in the plural ("image pairs").

    Raises:
        LowlightError: items were given but none of them could be loaded.
    """
    names, images, skipped = [], [], []
    for item in items:
        try:
            images.append(load(item))
        except LowlightError as exc:
            reason = str(exc).removeprefix(f"{kind} {item.name}: ")
            skipped.append((item.name, reason))
            log.warning("skipped %s %s: %s", kind, item.name, reason)
            continue
        names.append(item.name)
    if skipped and not images:
        more = f" (and {len(skipped) - 1} more, each reported above)" if len(skipped) > 1 else ""
        raise LowlightError(
            f"none of the {len(skipped)} {kinds} can be used: {kind} {skipped[0][0]}: "
            f"{skipped[0][1]}{more}; fix or remove the files"
        )
    return names, images, skipped


def decimate(image: torch.Tensor, factor: int, phase: int) -> torch.Tensor:
    """Every ``factor``-th pixel of a (3, H, W) image from offset ``divmod(phase, factor)``.

    Always (3, H // factor, W // factor), whatever the offset.
    """
    if factor == 1:
        return image
    top, left = divmod(phase, factor)
    height, width = (side // factor * factor for side in image.shape[-2:])
    return image[..., top : top + height : factor, left : left + width : factor]


class CropDataset(Dataset):
    """Random aligned crops of groups of same-size images, with flips and 90-degree rotations.

    Each item of ``items`` is loaded once into memory as a tuple of (3, H, W) tensors (a pair:
    low and target; a photo: itself), and every dataset item is the same crop of each tensor
    of one group. ``image_size == 0`` gives whole images instead, with flips only: the network
    then sees exactly the global statistics (overall exposure, colour, noise level) it sees
    when enhancing a whole photo. A batch of whole images needs images of one size
    (``sizes``).

    ``downscale`` > 1 trains on pictures ``downscale`` times smaller: each item keeps every
    ``downscale``-th pixel, starting at a random one of the ``downscale**2`` offsets. Keeping
    pixels rather than averaging them keeps each pixel's noise as strong as in the full-size
    picture.

    Held in memory, an item costs a crop and a few flips: on a 2-core machine, loading keeps up
    without worker processes. Images smaller than ``image_size`` are padded (replicated edges)
    up to it.

    Randomness comes from ``set_epoch(seed, epoch)``: the same seed and epoch give the same
    crops, which makes resumed runs repeat an uninterrupted run exactly. ``__len__`` is
    ``samples_per_epoch`` (by default the number of usable items).

    Items that cannot be loaded are each logged as one warning, listed in ``skipped`` as
    ``(name, reason)`` and left out; if none is left, ``LowlightError``.

    Items are tuples of (3, image_size, image_size) float32 tensors in [0, 1] (or (3, H, W)
    for whole images).

    A subclass says what it crops: ``load`` reads one item into a tuple of same-size (3, H, W)
    tensors, ``kind`` and ``kinds`` name an item in messages, in the singular and the plural.

    Args:
        items: what to load, each with a ``name``.
        image_size: the crop side (at least ``MIN_CROP``), or 0 for whole images.
        samples_per_epoch: items per epoch; None for one per usable item.
        downscale: keep every ``downscale``-th pixel (1 keeps them all).
    """

    load: Callable[[Any], Images]
    kind: str
    kinds: str

    def __init__(
        self,
        items: Sequence[Named],
        image_size: int,
        samples_per_epoch: int | None = None,
        downscale: int = 1,
    ) -> None:
        kind = self.kind
        if image_size != 0 and image_size < MIN_CROP:
            raise LowlightError(
                f"image_size must be 0 (whole images) or at least {MIN_CROP}, got {image_size}"
            )
        if downscale < 1:
            raise LowlightError(f"downscale must be 1 or more, got {downscale}")
        if not items:
            raise LowlightError(f"no training {kind}s")
        self.image_size = image_size
        names, self.images, self.skipped = load_usable(items, self.load, kind, self.kinds)
        for name, (first, *_) in zip(names, self.images, strict=True):
            if min(first.shape[-2:]) < downscale:
                raise LowlightError(
                    f"{kind} {name} ({first.shape[-1]}x{first.shape[-2]}) is too small for "
                    f"downscale {downscale}"
                )
        self.downscale = downscale
        self.samples_per_epoch = samples_per_epoch or len(self.images)
        self.sizes = {tuple(decimate(group[0], downscale, 0).shape[-2:]) for group in self.images}
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

    def __getitem__(self, item: int) -> Images:
        index, y_draw, x_draw, flip_h, flip_v, quarter_turns, phase = self._plan[item].tolist()
        group = [decimate(t, self.downscale, phase) for t in self.images[index]]
        if self.image_size == 0:
            group = [t.float() for t in group]
        else:
            group = [self._padded(t) for t in group]
            height, width = group[0].shape[-2:]
            top = y_draw % (height - self.image_size + 1)
            left = x_draw % (width - self.image_size + 1)
            window = (..., slice(top, top + self.image_size), slice(left, left + self.image_size))
            group = [t[window].float() for t in group]
        if flip_h:
            group = [t.flip(-1) for t in group]
        if flip_v:
            group = [t.flip(-2) for t in group]
        if quarter_turns and self.image_size != 0:
            group = [torch.rot90(t, quarter_turns, dims=(-2, -1)) for t in group]
        return tuple(t.contiguous() for t in group)
