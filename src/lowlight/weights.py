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

__all__ = [
    "save_weights",
    "load_model",
    "default_weights_path",
    "read_metadata",
    "split_legacy_state",
]

CONFIG_KEY = "lowlight_model_config"
DEFAULT_WEIGHTS = "default.safetensors"
# What files written before these architecture options existed were built with: an unbounded
# decoder residual and a hard clip at 1.
LEGACY_ARCHITECTURE = {"tone_sigma": None, "highlight_knee": None}
# The curve image of those files was about this times their input (least squares over the
# LOL-v1 training inputs, for the last of them): how their decoder's input is carried over.
LEGACY_CURVE_GAIN = 0.52


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
    whose change the weights can follow (``tone_sigma``, ``highlight_knee``), to continue
    training a file under another design: a file from before the tone split is converted by
    ``split_legacy_state``. Returns the model in eval mode on ``device``.
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
    stored = {**LEGACY_ARCHITECTURE, **config}
    config = {**stored, **(architecture or {})}
    try:
        model = UnifiedLowLightEnhancer(**config)
    except (TypeError, ValueError) as exc:
        raise LowlightError(f"{path} describes a model this lowlight cannot build: {exc}") from exc
    try:
        state = load_file(str(path))
        if stored["tone_sigma"] is None and config["tone_sigma"] is not None:
            state = split_legacy_state(state, model)
        model.load_state_dict(state)
    except (SafetensorError, RuntimeError, OSError) as exc:
        raise LowlightError(f"cannot load weights from {path}: {exc}") from exc
    return model.to(device).eval()


def split_legacy_state(
    state: dict[str, torch.Tensor], model: UnifiedLowLightEnhancer
) -> dict[str, torch.Tensor]:
    """Weights from before the tone split, fitted to ``model``'s split design.

    The old decoder saw (curve image, input, SNR); the new one sees (input, SNR) and runs
    before the curves. The old curve image was about ``LEGACY_CURVE_GAIN`` times its input,
    so the input's weights of the first convolution become ``gain * curve + input``, and the
    decoder starts from what it computed before. The old per-channel curves become one shared
    curve (the mean of the head's three outputs). Weights the old design lacks (the curve
    estimator's view of the scene) keep ``model``'s initialisation, which starts at zero.
    """
    converted = dict(state)
    key = "decoder.embed.1.weight"
    unshuffled = 4  # PixelUnshuffle(2) turns each input channel into 4, in order
    old = state[key]
    curve, low, snr = old.split([3 * unshuffled, 3 * unshuffled, unshuffled], dim=1)
    converted[key] = torch.cat([LEGACY_CURVE_GAIN * curve + low, snr], dim=1)
    for name in ("curve_estimator.head.1.weight", "curve_estimator.head.1.bias"):
        converted[name] = state[name].mean(dim=0, keepdim=True)  # three curves become one
    for name, value in model.state_dict().items():
        converted.setdefault(name, value)
    return converted
