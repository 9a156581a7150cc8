"""Input checks and working precision shared by the metrics."""

from __future__ import annotations

import torch

__all__ = ["check_image", "work_dtype", "out_dtype"]


def check_image(image: torch.Tensor, name: str = "image", channels: tuple[int, ...] = (3,)) -> None:
    """Refuse what is not a float (B, C, H, W) tensor with C in ``channels``.

    Raises:
        TypeError: not a tensor, or not floating.
        ValueError: another shape.
    """
    if not isinstance(image, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(image).__name__}")
    if not image.is_floating_point():
        raise TypeError(f"{name} must be a float tensor in [0, 1], got {image.dtype}")
    if image.ndim != 4 or image.shape[1] not in channels:
        expected = " or ".join(f"(B, {count}, H, W)" for count in channels)
        raise ValueError(f"{name}: expected {expected}, got {tuple(image.shape)}")


def work_dtype(x: torch.Tensor) -> torch.dtype:
    """float64 where the device has it (MPS has not): sums over whole images stay exact."""
    return torch.float32 if x.device.type == "mps" else torch.float64


def out_dtype(x: torch.Tensor) -> torch.dtype:
    """The dtype results are returned in: the input's, at least float32."""
    return torch.promote_types(x.dtype, torch.float32)
