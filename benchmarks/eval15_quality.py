"""Quality on LOL-v1 eval15: per-image and mean PSNR/SSIM, standard and GT-mean.

Writes ``eval15_quality.json`` and ``eval15_quality.md`` (a Markdown table) into ``--out``
and prints the table. The data folder defaults to ``$LOWLIGHT_DATA/lol-v1/eval15`` or the
repository's sibling ``shared/data/lol-v1/eval15``.

    python benchmarks/eval15_quality.py [--weights FILE] [--data DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
from data_location import REPO, RESULTS, lol_root, pairs_missing
from machine import describe, summary

from lowlight.evaluation import evaluate_folder
from lowlight.weights import default_weights_path, load_model


def markdown(result: dict, weights: str) -> str:
    lines = [
        f"LOL-v1 eval15, weights `{weights}`; PSNR/SSIM on uint8 RGB (SSIM: 11x11 Gaussian, "
        "sigma 1.5); GT-mean: output scaled to the target's mean grey level first.",
        "",
        f"s/image: the forward pass alone, on {summary(result['machine'])}.",
        "",
        "| image | PSNR | SSIM | GT-mean PSNR | GT-mean SSIM | s/image |",
        "|---|---|---|---|---|---|",
    ]
    rows = [*result["images"], {"name": "**mean**", **result["mean"]}]
    for row in rows:
        lines.append(
            f"| {row['name']} | {row['psnr']:.2f} | {row['ssim']:.3f} | "
            f"{row['psnr_gt_mean']:.2f} | {row['ssim_gt_mean']:.3f} | {row['seconds']:.3f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", help="safetensors weights (default: the shipped model)")
    parser.add_argument("--data", type=Path, default=lol_root() / "eval15")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    if pairs_missing(args.data, "eval15"):
        return 2
    torch.set_num_threads(args.threads)
    model = load_model(args.weights)
    machine = describe(args.threads)
    result = {**evaluate_folder(model, args.data), "machine": machine}
    weights = args.weights or str(default_weights_path().relative_to(REPO / "src"))
    table = markdown(result, weights)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "eval15_quality.json").write_text(json.dumps(result, indent=1))
    (args.out / "eval15_quality.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
