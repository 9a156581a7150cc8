"""ONNX files exported on first use, kept in a cache folder under a key of what made them."""

from __future__ import annotations

import copy
import hashlib
import json
import os
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import safetensors.torch
import torch

from lowlight import __version__
from lowlight.errors import LowlightError
from lowlight.export.extra import import_extra
from lowlight.export.to_onnx import onnx_bytes
from lowlight.imageio.atomic import atomic_write
from lowlight.models import UnifiedLowLightEnhancer

__all__ = ["CACHE_VARIABLE", "cache_folder", "cached_onnx_path", "cached_onnx", "model_key"]

CACHE_VARIABLE = "LOWLIGHT_CACHE"
"""Overrides the platform's cache folder (``~/.cache/lowlight`` on Linux)."""


def cache_folder() -> Path:
    """``$LOWLIGHT_CACHE``, else the platform's user cache folder for lowlight."""
    override = os.environ.get(CACHE_VARIABLE)
    if override:
        return Path(override).expanduser()
    platformdirs = import_extra("platformdirs", "the ONNX Runtime backend's cache")
    return Path(platformdirs.user_cache_dir("lowlight", appauthor=False))


def model_key(model: UnifiedLowLightEnhancer) -> str:
    """A hex digest that changes with anything that changes the exported graph.

    It covers the weights and architecture (their safetensors bytes), the network's source
    code and lowlight's and torch's versions, so a cached file never outlives the code or
    the weights it came from.
    """
    # Every forward pass first clamps the colour parameters into their bounds (a fresh model's
    # vibrance starts above its band); keying the clamped values gives a model that has run
    # the key of the file it was loaded from.
    clamped = copy.deepcopy(model).cpu()
    clamped.clamp_parameters_()
    tensors = {name: value.contiguous() for name, value in clamped.state_dict().items()}
    config = json.dumps(model.config, sort_keys=True)
    digest = hashlib.sha256(safetensors.torch.save(tensors, metadata={"config": config}))
    digest.update(f"lowlight {__version__} torch {torch.__version__}".encode())
    for package in ("lowlight.models", "lowlight.export"):
        for source in sorted(resources.files(package).iterdir(), key=lambda entry: entry.name):
            if source.name.endswith(".py"):
                digest.update(source.read_bytes())
    return digest.hexdigest()[:32]


def cached_onnx_path(model: UnifiedLowLightEnhancer) -> Path:
    """Where the ONNX export of ``model`` is cached (the file may not exist yet)."""
    return cache_folder() / "onnx" / f"enhancer-{model_key(model)}.onnx"


def cached_onnx(model: UnifiedLowLightEnhancer, say: Callable[[str], None]) -> Path:
    """The cached ONNX export of ``model``, exported and written atomically if need be.

    Args:
        model: the enhancer.
        say: called with one line before a first export, which takes a while.

    Raises:
        LowlightError: the export fails, or the cache folder cannot be written (the message
            then names it and ``$LOWLIGHT_CACHE``).
    """
    path = cached_onnx_path(model)
    if path.is_file():
        return path
    say(f"exporting the model to ONNX for ONNX Runtime, once for these weights: {path}")
    content = onnx_bytes(model)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path) as handle:
            handle.write(content)
    except OSError as exc:
        raise LowlightError(
            f"cannot write the ONNX model to the cache folder {path.parent}: "
            f"{exc.strerror or exc}; set {CACHE_VARIABLE} to a writable folder"
        ) from exc
    return path
