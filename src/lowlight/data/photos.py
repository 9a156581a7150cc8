"""Photos without references: finding them in a folder, and holding them in memory for
fine-tuning (random crops) and validation (whole photos)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import Dataset

from lowlight.data.crops import CropDataset, load_usable
from lowlight.data.pairs import natural_key
from lowlight.errors import LowlightError
from lowlight.imageio import find_inputs, read_rgb
from lowlight.imageio.arrays import to_batch

__all__ = ["Photo", "find_photos", "load_photo", "PhotoCropDataset", "PhotoDataset"]


@dataclass(frozen=True)
class Photo:
    """An image file without a reference.

    Attributes:
        name: its path relative to the folder it was found in, with ``/`` between folders.
        path: the file.
    """

    name: str
    path: Path

    @property
    def scene(self) -> str:
        """The file's real path: links to one file are one scene (``split_by_scene``)."""
        return os.path.realpath(self.path)


def find_photos(root: str | os.PathLike) -> list[Photo]:
    """The image files below ``root`` (searched recursively), in natural name order.

    Hidden files and folders are skipped; files are recognised by their extension
    (``lowlight.imageio.batch.IMAGE_EXTENSIONS``); symbolic links are followed.

    Raises:
        LowlightError: ``root`` is not a folder or holds no image files.
    """
    root = Path(root)
    if not root.is_dir():
        raise LowlightError(f"photo folder not found: {root}; pass a folder of images")
    try:
        found = find_inputs([os.fspath(root)], videos=False)
    except LowlightError as exc:
        raise LowlightError(f"{root}: {exc}") from exc
    photos = [Photo(item.relative.as_posix(), item.path) for item in found]
    return sorted(photos, key=lambda photo: natural_key(photo.name))


def load_photo(photo: Photo) -> tuple[torch.Tensor]:
    """Read a photo as a one-tuple of a (3, H, W) float16 tensor in [0, 1].

    Raises ``LowlightError`` naming the file when it cannot be read.
    """
    return (to_batch(read_rgb(photo.path))[0].to(torch.float16).contiguous(),)


class PhotoDataset(Dataset):
    """Whole photos for validation: items are ``(name, photo)``, (3, H, W) float32 in [0, 1].

    Photos that cannot be read, or are smaller than ``min_side`` on a side, are logged, listed
    in ``skipped`` as ``(name, reason)`` and left out; ``LowlightError`` if photos were given
    and none can be used.

    Args:
        photos: from ``find_photos``.
        min_side: the smallest side scored (NIQE needs a 96x96 block).
    """

    def __init__(self, photos: list[Photo], min_side: int = 1) -> None:
        def load(photo: Photo) -> tuple[torch.Tensor]:
            (image,) = load_photo(photo)
            if min(image.shape[-2:]) < min_side:
                raise LowlightError(
                    f"photo {photo.name}: {image.shape[-1]}x{image.shape[-2]} is smaller than "
                    f"{min_side}x{min_side}"
                )
            return (image,)

        self.names, images, self.skipped = load_usable(photos, load, "photo", "photos")
        self.images = [image for (image,) in images]

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[str, torch.Tensor]:
        return self.names[index], self.images[index].float()


class PhotoCropDataset(CropDataset):
    """Random crops of photos without references (``CropDataset``): items are one-tuples
    ``(photo,)`` of (3, image_size, image_size) float32 in [0, 1] (or (3, H, W) for whole
    photos).

    Crops let photos of any sizes share a batch and keep each pixel's noise as it is; photos
    smaller than the crop are padded with their edges. Unreadable photos are each logged as
    one warning, listed in ``skipped`` and left out; if none is left, ``LowlightError``.
    """

    load = staticmethod(load_photo)
    kind, kinds = "photo", "photos"
