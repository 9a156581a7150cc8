"""``lowlight evaluate``: score a model (or the identity baseline) on low/ + high/ image pairs."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from lowlight.devices import parse_device
from lowlight.errors import LowlightError

__all__ = ["register"]

_HEADER = (
    f"{'image':<16} {'PSNR':>7} {'SSIM':>6} | {'GT-mean PSNR':>12} {'SSIM':>6} | "
    f"{'saturation':>10} {'colour':<14} {'ms':>8}"
)


# What ``lowlight evaluate --help`` says the command does.
_DESCRIPTION = (
    "Enhance every DIR/low image and score it against DIR/high (same file name): PSNR and SSIM "
    "on uint8 RGB as the field reports LOL (11x11 Gaussian SSIM, sigma 1.5), and the same after "
    "GT-mean rescaling, labelled as such. Exit status 1 if any pair failed."
)


def register(subparsers: argparse._SubParsersAction) -> None:
    summary = "score a model on paired low/high images (PSNR, SSIM, GT-mean)"
    parser = subparsers.add_parser("evaluate", help=summary, description=_DESCRIPTION)
    parser.add_argument("--data", required=True, help="folder with low/ and high/ subfolders")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--weights", help="safetensors weights file (default: the shipped model)")
    source.add_argument(
        "--identity",
        action="store_true",
        help="score the low images unchanged (the identity baseline; no model needed)",
    )
    parser.add_argument("--json", help="also write the full results to this JSON file")
    parser.add_argument("--save-outputs", help="folder to write each output as NAME.png")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default cpu)")
    parser.set_defaults(handler=run)


def _row(record: dict[str, Any]) -> str:
    return (
        f"{record['name']:<16} {record['psnr']:7.2f} {record['ssim']:6.3f} | "
        f"{record['psnr_gt_mean']:12.2f} {record['ssim_gt_mean']:6.3f} | "
        f"{record['saturation']:10.3f} {record['color_flag']:<14} {record['seconds'] * 1e3:8.1f}"
    )


def _print_summary(result: dict[str, Any]) -> None:
    mean = result["mean"]
    count = len(result["images"])
    if count == 0:
        print("no pair could be scored")
        return
    print(
        f"mean over {count} images: PSNR {mean['psnr']:.2f} dB, SSIM {mean['ssim']:.3f} "
        "(uint8 RGB, 11x11 Gaussian SSIM)"
    )
    print(
        f"GT-mean (output rescaled to the reference's mean grey level): "
        f"PSNR {mean['psnr_gt_mean']:.2f} dB, SSIM {mean['ssim_gt_mean']:.3f}"
    )
    print(f"time per image: {mean['seconds'] * 1e3:.1f} ms (model forward pass only)")


def _json_safe(value: Any) -> Any:
    """JSON has no inf or NaN (PSNR of identical images): write them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    return value


def _write_json(path: Path, result: dict[str, Any]) -> None:
    from lowlight.imageio.atomic import atomic_write

    if not path.parent.is_dir():
        raise LowlightError(f"cannot write {path}: folder {path.parent} does not exist")
    text = json.dumps(_json_safe(result), indent=2) + "\n"
    try:
        with atomic_write(path) as handle:
            handle.write(text.encode("utf-8"))
    except OSError as exc:
        raise LowlightError(f"cannot write {path}: {exc.strerror or exc}") from exc


def run(args: argparse.Namespace) -> int:
    # Imported here so that the other commands keep working if evaluation cannot be imported.
    from lowlight.evaluation import evaluate_folder, find_pairs
    from lowlight.weights import load_model

    device = parse_device(args.device)
    find_pairs(args.data)  # a wrong folder fails before the model is loaded
    model = None if args.identity else load_model(args.weights, device=device)
    print(_HEADER)
    result = evaluate_folder(
        model,
        args.data,
        save_outputs=args.save_outputs,
        device=device,
        on_image=lambda record: print(_row(record), flush=True),
    )
    result["model"] = "identity" if args.identity else str(args.weights or "default")
    result["data"] = str(args.data)
    _print_summary(result)
    for error in result["errors"]:
        print(f"lowlight evaluate: skipped {error['name']}: {error['message']}", file=sys.stderr)
    if args.json:
        _write_json(Path(args.json), result)
    return 1 if result["errors"] else 0
