"""Cost of the enhancer: parameters per component, MACs, and CPU time per image.

Usage::

    python benchmarks/model_cost.py                     # the shipped default, 2 threads
    python benchmarks/model_cost.py --weights new=model.safetensors old=other.safetensors \
        --threads 2 --runs 10

Prints a table (one column per model, and each model's CPU time as a multiple of the first's)
and writes the same figures as JSON (``--json``, default ``benchmarks/results/model_cost.json``).

Protocol: MACs are counted by ``torch.utils.flop_counter.FlopCounterMode`` (convolutions and
matrix products; element-wise work is not counted) as FLOPs / 2, for one image. CPU time is the
median wall time of ``--runs`` forward passes of one image, after one warm-up pass, with the
model in eval mode under ``torch.inference_mode`` and ``torch.set_num_threads(--threads)``.
Several models are timed in turn, run by run, so that whatever else the machine is doing
weighs on each alike. Sizes are width x height.
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
from weights_option import parse_weights

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


def time_forwards(
    models: dict[str, nn.Module], width: int, height: int, runs: int
) -> dict[str, float]:
    """Median seconds per forward pass of one image for each model, after a warm-up pass;
    the models take turns, run by run."""
    image = torch.rand(1, 3, height, width)
    times: dict[str, list[float]] = {label: [] for label in models}
    with torch.inference_mode():
        for model in models.values():
            model(image)
        for _ in range(runs):
            for label, model in models.items():
                start = time.perf_counter()
                model(image)
                times[label].append(time.perf_counter() - start)
    return {label: statistics.median(seconds) for label, seconds in times.items()}


def build_model(weights: str | None) -> UnifiedLowLightEnhancer:
    """The model in ``weights``, or the shipped default when None."""
    from lowlight.weights import load_model

    return load_model(weights)


def measure(models: dict[str, UnifiedLowLightEnhancer], threads: int, runs: int) -> dict:
    """Parameters, MACs and CPU seconds per image of each model, keyed by its label."""
    torch.set_num_threads(threads)
    results = {
        label: {
            "parameters": parameter_counts(model),
            "macs": {f"{w}x{h}": count_macs(model, w, h) for w, h in MAC_SIZES},
            "cpu_seconds_per_image": {},
        }
        for label, model in models.items()
    }
    for w, h in TIME_SIZES:
        for label, seconds in time_forwards(models, w, h, runs).items():
            results[label]["cpu_seconds_per_image"][f"{w}x{h}"] = seconds
    return results


def format_table(results: dict[str, dict]) -> str:
    """One row per quantity, one column per model; CPU time also as a multiple of the first's."""
    labels = list(results)
    first = results[labels[0]]

    def row(name: str, value) -> tuple[str, list[str]]:
        return name, [value(results[label]) for label in labels]

    rows = [row("parameters, total", lambda r: f"{r['parameters']['total']:,}")]
    rows += [row(f"parameters, {n}", lambda r, n=n: f"{r['parameters'][n]:,}") for n in COMPONENTS]
    rows += [
        row(f"GMACs at {s}", lambda r, s=s: f"{r['macs'][s] / 1e9:.3f}") for s in first["macs"]
    ]
    for size, base in first["cpu_seconds_per_image"].items():
        rows.append(
            row(f"CPU s/image at {size}", lambda r, s=size: f"{r['cpu_seconds_per_image'][s]:.3f}")
        )
        if len(labels) > 1:
            rows.append(
                row(
                    f"  x {labels[0]}'s at {size}",
                    lambda r, s=size, b=base: f"{r['cpu_seconds_per_image'][s] / b:.2f}x",
                )
            )
    width = max(len(name) for name, _ in rows)
    columns = [max(12, len(label)) for label in labels]

    def line(name: str, cells: list[str]) -> str:
        padded = (f"{cell:>{c}}" for cell, c in zip(cells, columns, strict=True))
        return f"{name:<{width}}  " + "  ".join(padded)

    lines = [line("quantity", labels), line("-" * width, ["-" * c for c in columns])]
    lines += [line(name, values) for name, values in rows]
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--weights",
        nargs="*",
        default=[],
        metavar="[LABEL=]FILE",
        help="safetensors files of trained models (default: the shipped default)",
    )
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--runs", type=int, default=10, help="timed runs per size (default 10)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write JSON")
    args = parser.parse_args(argv)
    if args.threads < 1 or args.runs < 1:
        parser.error("--threads and --runs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    paths = parse_weights(args.weights)
    try:
        models = {label: build_model(path).eval() for label, path in paths.items()}
    except LowlightError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    measured = measure(models, args.threads, args.runs)
    result = {
        "threads": args.threads,
        "runs": args.runs,
        "machine": describe(args.threads),
        "models": {
            label: {
                "weights": paths[label] or "shipped default",
                "config": models[label].config,
                **measured[label],
            }
            for label in models
        },
    }
    print(summary(result["machine"]))
    print(format_table(measured))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwritten {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
