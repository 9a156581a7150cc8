"""Running an image-to-image function on overlapping tiles and blending them without seams."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

__all__ = ["tile_process", "tile_starts", "blend_ramp"]


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Offsets of the tiles covering ``[0, length)`` along one axis.

    The first tile starts at 0 and the last ends at ``length``; the others are spread evenly
    between them, so consecutive tiles overlap by at least ``overlap``.

    Examples:
        >>> tile_starts(1000, 512, 64)
        [0, 244, 488]
        >>> tile_starts(300, 512, 64)
        [0]
    """
    if length <= tile:
        return [0]
    count = math.ceil((length - overlap) / (tile - overlap))
    span, gaps = length - tile, count - 1
    return [(index * span + gaps // 2) // gaps for index in range(count)]


def blend_ramp(length: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """Raised-cosine weights rising from near 0 to near 1 over ``length`` samples.

    Symmetric (``w[k] + w[length - 1 - k] == 1``) with zero slope at both ends, so a blend
    across an overlap has no kink where it starts or stops.
    """
    positions = (torch.arange(length, dtype=torch.float64, device=device) + 0.5) / length
    return (0.5 - 0.5 * torch.cos(math.pi * positions)).to(dtype)


def tile_process(
    fn: Callable[[torch.Tensor], torch.Tensor],
    image: torch.Tensor,
    tile: int,
    overlap: int,
) -> torch.Tensor:
    """Apply ``fn`` to overlapping tiles of ``image`` and blend the results smoothly.

    Tiles are at most ``tile`` x ``tile``; where two tiles overlap, the output cross-fades
    from one to the other with raised-cosine weights over the whole overlap (at least
    ``overlap`` pixels), so there is no seam. Rows of tiles are blended into a band, and bands
    into the output, with ``torch.lerp``; where tiles agree the output equals them exactly (an
    identity or pointwise ``fn`` gives exactly ``fn(image)``). Besides the output, memory
    holds one band (``tile`` rows) and whatever ``fn`` needs for one tile.

    Args:
        fn: maps a float tile (B, C, h, w) to (B, C, h, w); it sees tiles in row-major order.
        image: float (B, C, H, W), any H, W >= 1.
        tile: the largest tile side, >= 1. An image no larger than this is passed whole.
        overlap: the least overlap between neighbouring tiles, 0 <= overlap < tile.

    Returns:
        (B, C, H, W) with ``image``'s dtype and device.

    Examples:
        >>> image = torch.rand(1, 3, 70, 50)
        >>> torch.equal(tile_process(lambda t: t * 2, image, tile=32, overlap=8), image * 2)
        True
    """
    if image.ndim != 4 or not image.is_floating_point():
        raise ValueError(
            f"expected a float (B, C, H, W) tensor, got {image.dtype} {tuple(image.shape)}"
        )
    if tile < 1 or not 0 <= overlap < tile:
        raise ValueError(f"need tile >= 1 and 0 <= overlap < tile, got {tile=}, {overlap=}")
    height, width = image.shape[-2:]
    if height <= tile and width <= tile:
        return _checked(fn, image)
    tile_height, tile_width = min(tile, height), min(tile, width)
    output = torch.empty_like(image)
    rows_done = 0
    for top in tile_starts(height, tile, overlap):
        band = image.new_empty((*image.shape[:2], tile_height, width))
        columns_done = 0
        for left in tile_starts(width, tile, overlap):
            piece = image[..., top : top + tile_height, left : left + tile_width]
            _blend_into(band, _checked(fn, piece), -1, left, columns_done)
            columns_done = left + tile_width
        _blend_into(output, band, -2, top, rows_done)
        rows_done = top + tile_height
    return output


def _checked(fn: Callable[[torch.Tensor], torch.Tensor], piece: torch.Tensor) -> torch.Tensor:
    result = fn(piece)
    if result.shape != piece.shape:
        raise ValueError(
            f"fn must keep the tile's shape: got {tuple(result.shape)} for {tuple(piece.shape)}"
        )
    return result


def _blend_into(
    target: torch.Tensor, piece: torch.Tensor, dim: int, start: int, written_end: int
) -> None:
    """Write ``piece`` into ``target`` at ``start`` along ``dim``, cross-fading from what is
    already written (up to ``written_end``) to ``piece`` across their overlap."""
    size = piece.shape[dim]
    shared = max(0, written_end - start)
    if shared:
        old = target.narrow(dim, start, shared)
        new = piece.narrow(dim, 0, shared).to(target.device, target.dtype)
        shape = [1] * target.ndim
        shape[dim] = shared
        weight = blend_ramp(shared, target.dtype, target.device).view(shape)
        old.copy_(torch.lerp(old, new, weight))
    rest = piece.narrow(dim, shared, size - shared)
    target.narrow(dim, start + shared, size - shared).copy_(rest)
