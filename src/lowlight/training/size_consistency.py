"""A training term that asks the network for one answer to a scene whatever its size.

The fast rendering (``lowlight.inference``) runs the network on the picture reduced by area
averaging and renders that result at full size, so it is as good as the network's answer on
the reduced picture is close to its answer at full size, reduced. A network trained on
pictures at their own size gives a smaller copy another tone (held-out LOL-v1 pictures at
half size came out 0.69 to 1.26 times as bright as at full size). This term shows the network
the batch reduced and scores its result against its own full-size result reduced alike, held
fixed (no gradient through it): the small answer moves towards the full one, while what the
network does at full size is left to the other terms and their targets.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from lowlight.data.reduction import reduced_size
from lowlight.imageio.full_resolution import reduce_to
from lowlight.losses import charbonnier_loss

__all__ = ["draw_factor", "size_consistency_loss"]


def draw_factor(scale: tuple[float, float], generator: torch.Generator) -> float:
    """A reduction factor drawn log-uniformly from ``scale`` (each halving as likely)."""
    low, high = (math.log(s) for s in scale)
    draw = float(torch.rand((), generator=generator, dtype=torch.float64))
    return math.exp(low + (high - low) * draw)


def size_consistency_loss(
    run: Callable[[torch.Tensor], torch.Tensor],
    low: torch.Tensor,
    full_result: torch.Tensor,
    factor: float,
) -> torch.Tensor:
    """Charbonnier distance between ``run`` on ``low`` reduced by ``factor`` and
    ``full_result`` reduced alike (detached).

    Args:
        run: the network, (B, 3, h, w) in [0, 1] -> its enhanced image (B, 3, h, w).
        low: the batch's inputs (B, 3, H, W) in [0, 1].
        full_result: the network's result on ``low`` (B, 3, H, W).
        factor: the reduction, in (0, 1].

    Returns:
        A scalar.
    """
    size = reduced_size(*low.shape[-2:], factor)
    teacher = reduce_to(full_result.detach(), size)
    return charbonnier_loss(run(reduce_to(low, size)), teacher)
