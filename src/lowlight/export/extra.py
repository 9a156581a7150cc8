"""The optional ``onnx`` extra: whether it is installed, and importing its modules."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from lowlight.errors import LowlightError

__all__ = ["EXTRA_MODULES", "INSTALL_HINT", "extra_installed", "import_extra"]

EXTRA_MODULES = ("onnx", "onnxscript", "onnxruntime", "platformdirs")
"""What ``pip install "lowlight[onnx]"`` adds: the exporter's two, the runtime, and the platform's
cache folder for exports made on first use."""
INSTALL_HINT = 'pip install "lowlight[onnx]"'
"""How to install the ``onnx`` extra, for error messages."""


def extra_installed() -> bool:
    """True when every module of the ``onnx`` extra can be imported (none is imported here)."""
    return all(importlib.util.find_spec(name) is not None for name in EXTRA_MODULES)


def import_extra(name: str, purpose: str) -> ModuleType:
    """Import ``name``, one of ``EXTRA_MODULES``, for ``purpose``.

    Raises:
        LowlightError: it is not installed; the message says what to install.

    Examples:
        >>> import_extra("not_installed_here", "this example")
        Traceback (most recent call last):
        ...
        lowlight.errors.LowlightError: this example needs not_installed_here, ...: pip install ...
    """
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise LowlightError(
            f"{purpose} needs {name}, which is not installed: {INSTALL_HINT}"
        ) from exc
