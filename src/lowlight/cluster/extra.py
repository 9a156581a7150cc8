"""The optional ``ray`` extra: Ray Data, and pyarrow's file systems that come with it."""

from __future__ import annotations

import importlib
from types import ModuleType

from lowlight.errors import LowlightError

__all__ = ["INSTALL_HINT", "import_ray_extra"]

INSTALL_HINT = 'pip install "lowlight[ray]"'
"""The command that installs Ray, as the messages about a missing Ray give it."""


def import_ray_extra(name: str, purpose: str) -> ModuleType:
    """Import ``name`` (``"ray"``, ``"ray.data"``, ``"pyarrow.fs"``) for ``purpose``.

    Raises:
        LowlightError: it is not installed; the message says what to install.

    Example:
        >>> import_ray_extra("not_installed_here", "this example")
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
