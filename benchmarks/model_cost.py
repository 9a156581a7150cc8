"""Cost of the enhancer: parameters per component, MACs, and CPU time per image.

Usage::

    python benchmarks/model_cost.py                     # default architecture, 2 threads
    python benchmarks/model_cost.py --weights model.safetensors --threads 1 --runs 5

Prints a table and writes the same figures as JSON (``--json``, default
``benchmarks/results/model_cost.json``).

Protocol: MACs are counted by ``torch.utils.flop_counter.FlopCounterMode`` (convolutions and
matrix products; element-wise work is not counted) as FLOPs / 2, for one image. CPU time is the
median wall time of ``--runs`` forward passes of one image, after one warm-up pass, with the
model in eval mode under ``torch.inference_mode`` and ``torch.set_num_threads(--threads)``.
Sizes are width x height. Times depend on whatever else the machine is running.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
from machine import describe, summary
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from lowlight.errors import LowlightError
from lowlight.models import UnifiedLowLightEnhancer

DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "model_cost.json"
# Component name in the table -> attribute(s) of UnifiedLowLightEnhancer.
COMPONENTS = {
    "curve estimator": ("curve_estimator",),
    "decoder": ("decoder",),
    "mask predictor": ("mask_predictor",),
    "colour": ("colour_affine", "colour_correction"),
}
MAC_SIZES = ((256, 256), (600, 400))  # (width, height)
TIME_SIZES = ((600, 400), (1920, 1080))


def parameter_counts(model: UnifiedLowLightEnhancer) -> dict[str, int]:
    """Parameters in total and per component."""
    counts = {"total": sum(p.numel() for p in model.parameters())}
    for name, attributes in COMPONENTS.items():
        counts[name] = sum(
            p.numel() for attribute in attributes for p in getattr(model, attribute).parameters()
        )
    return counts


def count_macs(model: nn.Module, width: int, height: int) -> int:
    """Multiply-accumulates of one forward pass on a (1, 3, height, width) image."""
    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        model(torch.rand(1, 3, height, width))
    return counter.get_total_flops() // 2


def time_forward(model: nn.Module, width: int, height: int, runs: int) -> float:
    """Median seconds per forward pass of one image, after a warm-up pass."""
    image = torch.rand(1, 3, height, width)
    times = []
    with torch.inference_mode():
        model(image)
        for _ in range(runs):
            start = time.perf_counter()
            model(image)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def build_model(weights: Path | None) -> UnifiedLowLightEnhancer:
    if weights is None:
        torch.manual_seed(0)
        return UnifiedLowLightEnhancer().eval()
    from lowlight.weights import load_model

    return load_model(weights)


def measure(model: UnifiedLowLightEnhancer, threads: int, runs: int) -> dict:
    torch.set_num_threads(threads)
    return {
        "parameters": parameter_counts(model),
        "macs": {f"{w}x{h}": count_macs(model, w, h) for w, h in MAC_SIZES},
        "cpu_seconds_per_image": {
            f"{w}x{h}": time_forward(model, w, h, runs) for w, h in TIME_SIZES
        },
    }


def format_table(result: dict) -> str:
    rows = [("parameters, total", f"{result['parameters']['total']:,}")]
    rows += [(f"parameters, {name}", f"{result['parameters'][name]:,}") for name in COMPONENTS]
    rows += [(f"GMACs at {size}", f"{macs / 1e9:.3f}") for size, macs in result["macs"].items()]
    rows += [
        (f"CPU s/image at {size}", f"{seconds:.3f}")
        for size, seconds in result["cpu_seconds_per_image"].items()
    ]
    width = max(len(name) for name, _ in rows)
    lines = [f"{'quantity':<{width}}  value", f"{'-' * width}  {'-' * 12}"]
    lines += [f"{name:<{width}}  {value:>12}" for name, value in rows]
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", type=Path, help="safetensors file of a trained model")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--runs", type=int, default=10, help="timed runs per size (default 10)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write JSON")
    args = parser.parse_args(argv)
    if args.threads < 1 or args.runs < 1:
        parser.error("--threads and --runs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        model = build_model(args.weights)
    except LowlightError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = {
        "model": str(args.weights) if args.weights else "default architecture (untrained)",
        "config": model.config,
        "threads": args.threads,
        "runs": args.runs,
        "machine": describe(args.threads),
        **measure(model, args.threads, args.runs),
    }
    print(summary(result["machine"]))
    print(format_table(result))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwritten {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
