"""Exporting the enhancer for deployment: an ONNX graph with the controls as inputs.

``export_onnx`` writes the model to a file (``lowlight export``); ``cached_onnx`` keeps the
export the ONNX Runtime backend runs in a cache folder, made on first use. Everything that
needs the ``onnx`` extra imports it when called, so this package imports without it.
"""

from __future__ import annotations

from lowlight.export.cache import CACHE_VARIABLE, cache_folder, cached_onnx, cached_onnx_path
from lowlight.export.extra import INSTALL_HINT, extra_installed, import_extra
from lowlight.export.parity import CONTROL_SETTINGS, max_difference, parity_picture
from lowlight.export.to_onnx import (
    INPUT_NAMES,
    MIN_OPSET,
    OUTPUT_NAME,
    export_onnx,
    onnx_bytes,
    onnx_metadata,
)
from lowlight.export.wrapper import FastEnhancer, ImageOnlyEnhancer

__all__ = [
    "CACHE_VARIABLE",
    "CONTROL_SETTINGS",
    "FastEnhancer",
    "INPUT_NAMES",
    "INSTALL_HINT",
    "MIN_OPSET",
    "OUTPUT_NAME",
    "ImageOnlyEnhancer",
    "cache_folder",
    "cached_onnx",
    "cached_onnx_path",
    "export_onnx",
    "extra_installed",
    "import_extra",
    "max_difference",
    "parity_picture",
    "onnx_bytes",
    "onnx_metadata",
]
