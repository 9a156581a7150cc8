"""Exporting the enhancer to ONNX: one graph for any batch, height and width, self-described."""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path

import torch

from lowlight import __version__
from lowlight.errors import LowlightError
from lowlight.export.extra import import_extra
from lowlight.export.wrapper import FastEnhancer, ImageOnlyEnhancer
from lowlight.imageio.atomic import atomic_write
from lowlight.models import UnifiedLowLightEnhancer

__all__ = [
    "INPUT_NAMES",
    "OUTPUT_NAME",
    "MIN_OPSET",
    "export_onnx",
    "onnx_bytes",
    "onnx_metadata",
]

INPUT_NAMES = ("image", "exposure", "strength")
"""The graph's inputs: ``image`` float32 (N, 3, H, W) in [0, 1], ``exposure`` and ``strength``
float32 (N,), one per image."""
OUTPUT_NAME = "enhanced"
"""The graph's output: the enhanced images, float32 (N, 3, H, W) in [0, 1]."""
MIN_OPSET = 18
"""torch's exporter writes opset 18 and above; asked for less, it keeps 18 where the conversion
fails (it does for this model's Pad), so lower versions are refused up front."""
# The graph is traced on two images of an odd size: torch.export fixes any dimension whose
# example is 0 or 1, and the padding must be traced where it is not zero.
_EXAMPLE_SHAPE = (2, 3, 37, 53)
# What the graph's inputs and output mean, stored with it for whoever deploys it.
_DESCRIPTIONS = {
    "input_image": "float32 (N, 3, H, W): RGB in [0, 1] (8-bit sRGB samples / 255), any H and W",
    "input_exposure": "float32 (N,): stops relative to the model's own exposure; 0 automatic, "
    "+1 doubles the result's linear light, -1 halves it; meant for -8 to +8",
    "input_strength": "float32 (N,) in [0, 1]: 0 returns the input unchanged, 1 the full "
    "enhancement",
    "output_enhanced": "float32 (N, 3, H, W): RGB in [0, 1]",
}


def onnx_metadata(
    model: UnifiedLowLightEnhancer,
    weights_metadata: Mapping[str, str] | None = None,
    working_size: int | None = None,
) -> dict[str, str]:
    """The ``metadata_props`` of an exported model: version, provenance, quality, inputs and
    output.

    Args:
        model: the enhancer exported.
        weights_metadata: the metadata of the safetensors file it was loaded from
            (``lowlight.weights.read_metadata``), if any: the training data is read from it.
        working_size: the fast graph's working size; None for the full graph.

    Examples:
        >>> metadata = onnx_metadata(UnifiedLowLightEnhancer())
        >>> metadata["training_data"], metadata["quality"], metadata["input_image"][:28]
        ('unknown', 'full: every pixel through the network', 'float32 (N, 3, H, W): RGB in')
    """
    quality = "full: every pixel through the network"
    if working_size is not None:
        quality = (
            f"fast: the network runs on the image reduced to a longer side of {working_size} "
            "pixels and its result is rendered at full resolution along the image's edges "
            "(lowlight.enhance(..., quality='fast'), for images longer than that)"
        )
    return {
        "lowlight_version": __version__,
        "training_data": _training_data(weights_metadata or {}),
        "model_config": json.dumps(model.config),
        "quality": quality,
        **_DESCRIPTIONS,
    }


def _training_data(weights_metadata: Mapping[str, str]) -> str:
    """What the weights were trained on, as their file says, else "unknown"."""
    if "training_data" in weights_metadata:
        return weights_metadata["training_data"]
    try:
        config = json.loads(weights_metadata.get("train_config", "{}"))
    except json.JSONDecodeError:
        return "unknown"
    if not isinstance(config, dict) or not config.get("data"):
        return "unknown"
    described = f"the data folder {config['data']} of lowlight train"
    if config.get("init_weights"):
        described += f", starting from the weights {config['init_weights']}"
    return described


def export_onnx(
    model: UnifiedLowLightEnhancer,
    path: str | os.PathLike,
    opset: int | None = None,
    weights_metadata: Mapping[str, str] | None = None,
    working_size: int | None = None,
) -> None:
    """Write ``model`` to ``path`` as a checked ONNX model (``onnx_bytes``), atomically.

    Raises:
        LowlightError: as ``onnx_bytes``, or ``path`` cannot be written (it is then left as
            it was).
    """
    content = onnx_bytes(model, opset, weights_metadata, working_size)
    try:
        with atomic_write(path) as handle:
            handle.write(content)
    except OSError as exc:
        raise LowlightError(f"cannot write {Path(path)}: {exc.strerror or exc}") from exc


def onnx_bytes(
    model: UnifiedLowLightEnhancer,
    opset: int | None = None,
    weights_metadata: Mapping[str, str] | None = None,
    working_size: int | None = None,
) -> bytes:
    """``model`` exported to a serialised ONNX model that has passed ``onnx.checker``.

    The graph (``ImageOnlyEnhancer``, or ``FastEnhancer`` with a working size) has the inputs
    ``image`` float32 (N, 3, H, W) in [0, 1] with symbolic N, H and W (odd sizes too),
    ``exposure`` and ``strength`` float32 (N,), and the output ``enhanced`` (N, 3, H, W) in
    [0, 1]; ``onnx_metadata`` is stored in its ``metadata_props``. The export is made from a
    float32 copy of the model on the CPU.

    Args:
        model: the enhancer; it is not changed.
        opset: the ONNX opset (at least ``MIN_OPSET``); None takes the exporter's default.
        weights_metadata: see ``onnx_metadata``.
        working_size: export the fast quality with this working size; None: the full one.

    Raises:
        LowlightError: the ``onnx`` extra is missing, the opset is unavailable, or the export
            or its check fails.
    """
    onnx = import_extra("onnx", "exporting to ONNX")
    import_extra("onnxscript", "exporting to ONNX")
    if opset is not None and opset < MIN_OPSET:
        raise LowlightError(f"opset {opset} is not available: use --opset {MIN_OPSET} or higher")
    network = copy.deepcopy(model).to("cpu", torch.float32)
    if working_size is None:
        wrapper = ImageOnlyEnhancer(network).eval()
    else:
        wrapper = FastEnhancer(network, working_size).eval()
    batch = _EXAMPLE_SHAPE[0]
    example = (torch.full(_EXAMPLE_SHAPE, 0.1), torch.zeros(batch), torch.ones(batch))
    sizes = {name: torch.export.Dim(name) for name in ("batch", "height", "width")}
    dynamic_shapes = {
        "image": {0: sizes["batch"], 2: sizes["height"], 3: sizes["width"]},
        "exposure": {0: sizes["batch"]},
        "strength": {0: sizes["batch"]},
    }
    try:
        with _quiet_exporter():
            program = torch.onnx.export(
                wrapper,
                example,
                dynamo=True,
                opset_version=opset,
                input_names=list(INPUT_NAMES),
                output_names=[OUTPUT_NAME],
                dynamic_shapes=dynamic_shapes,
                verbose=False,
            )
        proto = program.model_proto
    except Exception as exc:  # the exporter raises many types; each means "cannot export"
        raise LowlightError(
            f"cannot export the model to ONNX: {type(exc).__name__}: {exc}"
        ) from exc
    written = next(entry.version for entry in proto.opset_import if entry.domain == "")
    if opset is not None and written != opset:
        raise LowlightError(f"opset {opset} is not available: the exporter wrote opset {written}")
    onnx.helper.set_model_props(proto, onnx_metadata(model, weights_metadata, working_size))
    proto.doc_string = "lowlight low-light enhancer: dark RGB in [0, 1] -> enhanced RGB in [0, 1]"
    try:
        onnx.checker.check_model(proto, full_check=True)
    except onnx.checker.ValidationError as exc:
        raise LowlightError(f"the exported ONNX model fails onnx.checker: {exc}") from exc
    return proto.SerializeToString()


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """Silence the exporter's progress lines, warnings and notes for packages it does not need
    (torchvision): an export that works prints nothing; one that fails raises."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(None):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)
