"""``lowlight export``: the enhancer as an ONNX file, checked, with its parity to PyTorch."""

from __future__ import annotations

import argparse
from pathlib import Path

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
from lowlight.runners import OnnxRuntimeRunner, TorchRunner
from lowlight.weights import default_weights_path, load_model, read_metadata

__all__ = ["register", "run"]


_DESCRIPTION = (
    "Export the enhancer to ONNX: inputs image float32 (N, 3, H, W) in [0, 1] of any height "
    "and width, exposure and strength float32 (N,); output enhanced (N, 3, H, W) in [0, 1]; "
    "lowlight's version, the training data and what the inputs mean in its metadata_props. "
    "The file is checked with onnx.checker and run with ONNX Runtime against PyTorch on a test "
    "picture. Needs the onnx extra: " + INSTALL_HINT
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
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Export, check and measure; prints what was written and the parity figure."""
    if not extra_installed():
        raise LowlightError(f"exporting to ONNX needs the onnx extra: {INSTALL_HINT}")
    weights = Path(args.weights) if args.weights else default_weights_path()
    output = Path(args.output)
    model = load_model(weights)
    if output.exists() and output.resolve() == weights.resolve():
        raise LowlightError(f"{output} is the weights file; choose another -o")
    export_onnx(model, output, args.opset, read_metadata(weights))
    picture = parity_picture()
    difference = max_difference(TorchRunner(model), OnnxRuntimeRunner(output), picture)
    height, width = picture.shape[-2:]
    print(f"wrote {output} ({output.stat().st_size / 1e6:.1f} MB), checked by onnx.checker")
    print(
        f"parity: max abs difference against PyTorch {difference:.1e} on a {width}x{height} "
        "test picture, with and without the controls"
    )
    return 0
