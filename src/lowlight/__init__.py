"""lowlight: turn dark, noisy photographs into clean, well-exposed ones.

Python API::

    import lowlight
    bright = lowlight.enhance(pil_image_or_array)
    model = lowlight.load_model()          # the shipped default network
    bright = lowlight.enhance(pil_image_or_array, model=model)   # reuse a loaded model
    lowlight.enhance_video("night.mp4", "night-bright.mp4")      # needs lowlight[video]
    lowlight.enhance_on_ray(["night/"], "bright/")               # needs lowlight[ray]
    runner = lowlight.load_runner(backend="onnxruntime")         # ... or a loaded backend
    bright = lowlight.enhance(pil_image_or_array, model=runner)
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from lowlight.errors import LowlightError

try:
    __version__ = version("lowlight")
    """The installed lowlight's version ("0.0.0" in a source tree that is not installed)."""
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

if TYPE_CHECKING:
    from lowlight.cluster import enhance_on_ray
    from lowlight.inference import enhance
    from lowlight.runners import load_runner
    from lowlight.video import enhance_video
    from lowlight.weights import load_model

__all__ = [
    "LowlightError",
    "__version__",
    "enhance",
    "enhance_on_ray",
    "enhance_video",
    "load_model",
    "load_runner",
]

# Imported on first use, so that ``import lowlight`` (and ``lowlight --version``) stays fast.
_LAZY = {
    "enhance": "lowlight.inference",
    "enhance_on_ray": "lowlight.cluster",
    "enhance_video": "lowlight.video",
    "load_model": "lowlight.weights",
    "load_runner": "lowlight.runners",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'lowlight' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
