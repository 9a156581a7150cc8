"""Turning a device name from the command line or a config file into a usable torch device."""

from __future__ import annotations

import torch

from lowlight.errors import LowlightError

__all__ = ["parse_device"]


def parse_device(text: str) -> torch.device:
    """The ``torch.device`` named by ``text``, checked to exist on this machine.

    Raises:
        LowlightError: ``text`` is not a device name (``gpu7``), or names a CUDA device this
            machine does not have.

    Examples:
        >>> parse_device("cpu")
        device(type='cpu')
    """
    try:
        device = torch.device(text)
    except (RuntimeError, TypeError) as exc:
        raise LowlightError(f"unknown device {text!r}; use cpu, cuda or cuda:N") from exc
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise LowlightError(f"device {text!r}: CUDA is not available here; use cpu")
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise LowlightError(
                f"device {text!r}: this machine has {count} CUDA device(s), cuda:0 to "
                f"cuda:{count - 1}"
            )
    return device
