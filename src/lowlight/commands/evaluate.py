"""``lowlight evaluate``: score a model (or the identity baseline) on low/ + high/ image pairs,
or with ``--no-reference`` on a folder of photos without targets."""

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
_NO_REFERENCE_HEADER = (
    f"{'photo':<28} {'NIQE':>6} {'grey':>5} {'clipped':>8} {'crushed':>8} {'colourful':>9} "
    f"{'ms':>8}"
)


# What ``lowlight evaluate --help`` says the command does.
_DESCRIPTION = (
    "Enhance every DIR/low image and score it against DIR/high (same file name): PSNR and SSIM "
    "on uint8 RGB as the field reports LOL (11x11 Gaussian SSIM, sigma 1.5), and the same after "
    "GT-mean rescaling, labelled as such. With --no-reference, DIR is a folder of photos without "
    "targets (searched recursively), each enhanced as lowlight enhance does and scored with NIQE "
    "(lower is better), mean grey level, clipped and crushed shares and colourfulness. Exit "
    "status 1 if any image failed."
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``lowlight evaluate`` (scoring a model) to the CLI's subparsers, handled by ``run``."""
    summary = "score a model on paired images (PSNR, SSIM) or on photos without targets (NIQE)"
    parser = subparsers.add_parser("evaluate", help=summary, description=_DESCRIPTION)
    parser.add_argument(
        "--data",
        required=True,
        help="folder with low/ and high/ subfolders (with --no-reference: a folder of photos)",
    )
    no_reference = "score photos without targets (NIQE, grey level, clipping, colourfulness)"
    parser.add_argument("--no-reference", action="store_true", help=no_reference)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--weights", help="safetensors weights file (default: the shipped model)")
    source.add_argument(
        "--identity",
        action="store_true",
        help="score the low images (or photos) unchanged: the identity baseline, no model",
    )
    parser.add_argument("--json", help="also write the full results to this JSON file")
    parser.add_argument("--save-outputs", help="folder to write each output to as PNG")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default cpu)")
    parser.set_defaults(handler=run)


def _row(record: dict[str, Any]) -> str:
    return (
        f"{record['name']:<16} {record['psnr']:7.2f} {record['ssim']:6.3f} | "
        f"{record['psnr_gt_mean']:12.2f} {record['ssim_gt_mean']:6.3f} | "
        f"{record['saturation']:10.3f} {record['color_flag']:<14} {record['seconds'] * 1e3:8.1f}"
    )


def _figure(value: float, width: int, digits: int) -> str:
    """A figure in its column, or "-" where it is undefined (NIQE of a flat picture)."""
    return f"{'-':>{width}}" if math.isnan(value) else f"{value:{width}.{digits}f}"


def _no_reference_row(record: dict[str, Any]) -> str:
    return (
        f"{record['name']:<28} {_figure(record['niqe'], 6, 2)} {record['mean_grey']:5.3f} "
        f"{record['clipped']:8.2%} {record['crushed']:8.2%} {record['colourfulness']:9.1f} "
        f"{record['seconds'] * 1e3:8.1f}"
    )


def _no_reference_summary(mean: dict[str, Any], count: int) -> list[str]:
    return [
        f"mean over {count} photos: NIQE {_figure(mean['niqe'], 0, 3)} (lower is better), "
        f"grey level {mean['mean_grey']:.3f}, clipped {mean['clipped']:.2%}, "
        f"crushed {mean['crushed']:.2%}, colourfulness {mean['colourfulness']:.1f}",
        f"time per photo: {mean['seconds'] * 1e3:.1f} ms (enhancement only)",
    ]


def _paired_summary(mean: dict[str, Any], count: int) -> list[str]:
    return [
        f"mean over {count} images: PSNR {mean['psnr']:.2f} dB, SSIM {mean['ssim']:.3f} "
        "(uint8 RGB, 11x11 Gaussian SSIM)",
        f"GT-mean (output rescaled to the reference's mean grey level): "
        f"PSNR {mean['psnr_gt_mean']:.2f} dB, SSIM {mean['ssim_gt_mean']:.3f}",
        f"time per image: {mean['seconds'] * 1e3:.1f} ms (model forward pass only)",
    ]


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
    from lowlight.evaluation import evaluate_folder, find_pairs, find_photos
    from lowlight.weights import load_model

    device = parse_device(args.device)
    # A wrong folder fails before the model is loaded.
    find_photos(args.data) if args.no_reference else find_pairs(args.data)
    model = None if args.identity else load_model(args.weights, device=device)
    header, row, summary, what = (
        (_NO_REFERENCE_HEADER, _no_reference_row, _no_reference_summary, "photo")
        if args.no_reference
        else (_HEADER, _row, _paired_summary, "pair")
    )
    print(header)
    result = evaluate_folder(
        model,
        args.data,
        save_outputs=args.save_outputs,
        device=device,
        no_reference=args.no_reference,
        on_image=lambda record: print(row(record), flush=True),
    )
    result["model"] = "identity" if args.identity else str(args.weights or "default")
    result["data"] = str(args.data)
    count = len(result["images"])
    print("\n".join(summary(result["mean"], count)) if count else f"no {what} could be scored")
    for error in result["errors"]:
        print(f"lowlight evaluate: skipped {error['name']}: {error['message']}", file=sys.stderr)
    if args.json:
        _write_json(Path(args.json), result)
    return 1 if result["errors"] else 0
