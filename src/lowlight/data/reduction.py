"""Training items at the sizes the fast rendering shows the network.

The fast quality (``lowlight.inference``) runs the network on the picture reduced by area
averaging, so a photo meets the network at a fraction of the size it was taken at: less
noisy (averaging four pixels halves the noise), its objects smaller. A network that has only
seen pictures at their own size answers such a copy with another tone and another amount of
denoising; shown some items reduced the same way, with their targets reduced alike, it learns
one answer for a scene whatever its size.
"""

from __future__ import annotations

import math

import torch
from torch.utils.data import Dataset

from lowlight.errors import LowlightError
from lowlight.imageio.full_resolution import reduce_to

__all__ = ["RandomlyReduced", "reduced_size"]


def reduced_size(height: int, width: int, factor: float, min_side: int = 32) -> tuple[int, int]:
    """``(h, w)``: ``(height, width)`` scaled by ``factor``, but not so far that the shorter
    side falls below ``min_side``, and never enlarged.

    Example:
        >>> reduced_size(400, 600, 0.5), reduced_size(40, 48, 0.5), reduced_size(20, 30, 0.5)
        ((200, 300), (32, 38), (20, 30))
    """
    factor = min(1.0, max(factor, min_side / min(height, width)))
    return round(height * factor), round(width * factor)


class RandomlyReduced(Dataset):
    """Items of ``base`` of which a share comes back reduced, every tensor of an item alike.

    A reduced item is scaled by a factor drawn log-uniformly from ``scale`` (each halving as
    likely as the next) with area averaging, as the fast rendering reduces a picture, but never
    so far that its shorter side falls below ``min_side`` pixels. Every choice comes from
    ``set_epoch(seed, epoch)``, so a resumed run repeats an uninterrupted one.

    Items are tuples of (3, H, W) tensors, as ``base``'s; reduced ones are (3, h, w), so
    batches of more than one item need ``share`` 0.

    Args:
        base: a dataset with ``set_epoch(seed, epoch)``, ``sizes`` and ``skipped``.
        share: share of items reduced, in [0, 1].
        scale: ``(smallest, largest)`` factor, 0 < smallest <= largest <= 1.
        min_side: the smallest side a reduced item keeps.
    """

    def __init__(
        self,
        base: Dataset,
        share: float,
        scale: tuple[float, float],
        min_side: int = 32,
    ) -> None:
        if not 0.0 <= share <= 1.0:
            raise LowlightError(f"reduced_share must be a share in [0, 1], got {share}")
        smallest, largest = scale
        if not 0.0 < smallest <= largest <= 1.0:
            raise LowlightError(
                f"reduced_scale must be a range 0 < smallest <= largest <= 1, got {list(scale)}"
            )
        self.base = base
        self.share = share
        self.scale = (float(smallest), float(largest))
        self.min_side = min_side
        self.sizes = base.sizes
        self.skipped = base.skipped
        self.set_epoch(0, 0)

    def set_epoch(self, seed: int, epoch: int) -> None:
        """Draw the base's choices and, per item, whether and how much it is reduced."""
        self.base.set_epoch(seed, epoch)
        generator = torch.Generator().manual_seed(seed * 100_019 + epoch + 104_729)
        n = len(self.base)
        self._reduced = torch.rand(n, generator=generator) < self.share
        low, high = (math.log(s) for s in self.scale)
        draws = torch.rand(n, generator=generator, dtype=torch.float64)
        self._factors = torch.exp(low + (high - low) * draws)

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, item: int) -> tuple[torch.Tensor, ...]:
        tensors = self.base[item]
        if not bool(self._reduced[item]):
            return tensors
        size = reduced_size(*tensors[0].shape[-2:], float(self._factors[item]), self.min_side)
        return tuple(reduce_to(t[None], size)[0] for t in tensors)
