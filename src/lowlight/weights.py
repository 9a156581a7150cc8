"""Saving and loading enhancer weights as safetensors, and the shipped default model."""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path

import safetensors.torch
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file

from lowlight.errors import LowlightError
from lowlight.imageio.atomic import atomic_write
from lowlight.models import UnifiedLowLightEnhancer

__all__ = ["save_weights", "load_model", "default_weights_path", "read_metadata"]

CONFIG_KEY = "lowlight_model_config"
DEFAULT_WEIGHTS = "default.safetensors"
# What files written before these architecture options existed were built with: an unbounded
# decoder residual and a hard clip at 1.
LEGACY_ARCHITECTURE = {"tone_sigma": None, "highlight_knee": None}


def default_weights_path() -> Path:
    """Where the pretrained default model ships inside the package."""
    return Path(str(resources.files("lowlight") / "pretrained" / DEFAULT_WEIGHTS))


def save_weights(
    model: UnifiedLowLightEnhancer, path: str | os.PathLike, metadata: dict[str, str] | None = None
) -> None:
    """Write the model's weights and architecture to ``path`` atomically (safetensors).

    A new file gets the permissions the umask gives any new file (0644 under umask 022); a
    replaced file keeps its own.

    Raises ``LowlightError`` when the file cannot be written (a full disk, a missing or
    read-only folder); ``path`` is then unchanged and no temporary file is left.
    """
    path = Path(path)
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    meta = {CONFIG_KEY: json.dumps(model.config), **(metadata or {})}
    try:
        content = safetensors.torch.save(tensors, metadata=meta)
        with atomic_write(path) as handle:
            handle.write(content)
    except (OSError, SafetensorError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise LowlightError(f"cannot write weights to {path}: {reason}") from exc


def read_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The string metadata stored in a safetensors weights file."""
    try:
        with safe_open(str(path), framework="pt") as handle:
            return dict(handle.metadata() or {})
    except (SafetensorError, OSError, ValueError) as exc:
        raise LowlightError(
            f"cannot read weights file {path}: {exc}; expected a complete safetensors file "
            "(lowlight never loads pickled .pt or .pth weights, which can run code)"
        ) from exc


def load_model(
    weights: str | os.PathLike | None = None,
    device: str | torch.device = "cpu",
    architecture: dict | None = None,
) -> UnifiedLowLightEnhancer:
    """Build the enhancer from a safetensors file (the shipped default when ``weights`` is None).

    The architecture is read from the file's metadata; ``architecture`` overrides keys of it
    whose change keeps every weight's shape (``tone_sigma``, ``highlight_knee``), to continue
    training a file under another design. Returns the model in eval mode on ``device``.
    Raises ``LowlightError`` for a missing, corrupt or incompatible file.
    """
    path = Path(weights) if weights is not None else default_weights_path()
    if not path.is_file():
        if weights is None:
            raise LowlightError(
                f"the default weights are missing from the installation ({path}); "
                "reinstall lowlight or pass --weights FILE"
            )
        raise LowlightError(f"weights file not found: {path}")
    metadata = read_metadata(path)
    try:
        config = json.loads(metadata[CONFIG_KEY])
    except (KeyError, json.JSONDecodeError) as exc:
        raise LowlightError(f"{path} is not a lowlight weights file (no model config)") from exc
    if not isinstance(config, dict):
        raise LowlightError(
            f"{path} describes a model this lowlight cannot build: its model config is a "
            f"{type(config).__name__}, not a mapping"
        )
    config = {**LEGACY_ARCHITECTURE, **config, **(architecture or {})}
    try:
        model = UnifiedLowLightEnhancer(**config)
    except (TypeError, ValueError) as exc:
        raise LowlightError(f"{path} describes a model this lowlight cannot build: {exc}") from exc
    try:
        state = load_file(str(path))
        model.load_state_dict(state)
    except (SafetensorError, RuntimeError, OSError) as exc:
        raise LowlightError(f"cannot load weights from {path}: {exc}") from exc
    return model.to(device).eval()
