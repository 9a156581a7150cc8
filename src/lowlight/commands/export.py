"""``lowlight export``: the enhancer as an ONNX file, checked, with its parity to PyTorch."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import torch

from lowlight.commands.options import add_weights_option
from lowlight.errors import LowlightError
from lowlight.export import (
    INSTALL_HINT,
    MIN_OPSET,
    export_onnx,
    extra_installed,
    max_difference,
    parity_picture,
)
from lowlight.inference import WORKING_SIZE, WORKING_SIZE_RANGE, check_working_size, enhance_tensor
from lowlight.models import UnifiedLowLightEnhancer
from lowlight.runners import OnnxRuntimeRunner, TorchRunner
from lowlight.weights import default_weights_path, load_model, read_metadata

__all__ = ["register", "run"]


_DESCRIPTION = (
    "Export the enhancer to ONNX: inputs image float32 (N, 3, H, W) in [0, 1] of any height "
    "and width, exposure and strength float32 (N,); output enhanced (N, 3, H, W) in [0, 1]; "
    "lowlight's version, the training data, the quality and what the inputs mean in its "
    "metadata_props. With --quality fast the graph runs the network on the image reduced to "
    "the working size and renders its result at full resolution, as lowlight enhance "
    "--quality fast does. The file is checked with onnx.checker and run with ONNX Runtime "
    "against PyTorch on a test picture. Needs the onnx extra: " + INSTALL_HINT
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``lowlight export`` (the ONNX export) to the CLI's subparsers, handled by ``run``."""
    summary = "export the enhancer to an ONNX file"
    parser = subparsers.add_parser("export", help=summary, description=_DESCRIPTION)
    add_weights_option(parser)
    parser.add_argument("-o", "--output", required=True, metavar="FILE", help="the ONNX file")
    parser.add_argument(
        "--opset",
        type=int,
        metavar="N",
        help=f"ONNX opset, at least {MIN_OPSET} (default: the one torch's exporter chooses)",
    )
    parser.add_argument(
        "--quality",
        choices=("full", "fast"),
        default="full",
        help="full (the default): every pixel through the network; fast: the network on the "
        "image reduced to the working size, its result rendered at full resolution in the "
        "graph (for images longer than the working size)",
    )
    low, high = WORKING_SIZE_RANGE
    parser.add_argument(
        "--working-size",
        type=int,
        default=WORKING_SIZE,
        metavar="N",
        help=f"with --quality fast: the reduced image's longer side in pixels ({low} to "
        f"{high}, default {WORKING_SIZE})",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Export, check and measure; prints what was written and the parity figure."""
    if not extra_installed():
        raise LowlightError(f"exporting to ONNX needs the onnx extra: {INSTALL_HINT}")
    check_working_size(args.working_size)
    fast = args.quality == "fast"
    weights = Path(args.weights) if args.weights else default_weights_path()
    output = Path(args.output)
    model = load_model(weights)
    if output.exists() and output.resolve() == weights.resolve():
        raise LowlightError(f"{output} is the weights file; choose another -o")
    working_size = args.working_size if fast else None
    export_onnx(model, output, args.opset, read_metadata(weights), working_size)
    if fast:
        # A picture half as long again as the working size, rendered the fast way by both.
        side = args.working_size
        picture = parity_picture(side, round(1.5 * side))
        reference = _fast_reference(model, side)
    else:
        picture, reference = parity_picture(), TorchRunner(model)
    difference = max_difference(reference, OnnxRuntimeRunner(output), picture)
    height, width = picture.shape[-2:]
    print(f"wrote {output} ({output.stat().st_size / 1e6:.1f} MB), checked by onnx.checker")
    print(
        f"parity: max abs difference against PyTorch {difference:.1e} on a {width}x{height} "
        "test picture, with and without the controls"
        + (f", fast at working size {args.working_size}" if fast else "")
    )
    return 0


def _fast_reference(model: UnifiedLowLightEnhancer, side: int) -> Callable[..., torch.Tensor]:
    """PyTorch's fast quality as a runner: ``reference(picture, exposure, strength)``."""

    def reference(
        picture: torch.Tensor, exposure: float = 0.0, strength: float = 1.0
    ) -> torch.Tensor:
        options = {"exposure": exposure, "strength": strength, "working_size": side}
        return enhance_tensor(TorchRunner(model), picture, quality="fast", **options)

    return reference
