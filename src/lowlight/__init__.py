"""lowlight: turn dark, noisy photographs into clean, well-exposed ones.

Python API::

    import lowlight
    bright = lowlight.enhance(pil_image_or_array)
    model = lowlight.load_model()          # the shipped default network
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from lowlight.errors import LowlightError

try:
    __version__ = version("lowlight")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["LowlightError", "__version__"]
