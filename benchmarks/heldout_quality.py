"""Quality on LOL-v1's held-out training pairs, and where each model's overall brightness sits.

For each ``--weights`` file, on the trainer's default validation split of ``lol-v1/train``
(split by scene, seed 0, 10 %: 46 pairs), the mean PSNR, SSIM and GT-mean PSNR/SSIM and the mean
output level; then, on every ``--every``-th training-side pair, the mean PSNR with the outputs
scaled by each gain in ``GAINS``: the gain that scores best there says whether the model is
darker (> 1) or brighter (< 1) than the training targets want, and how often each gain wins
in random subsets of those pairs as small as the held-out split (how much a held-out set of
that size can prefer a brightness by chance; pairs drawn singly, so a split by scene varies
more). The held-out figures are only held out for models trained on that split (not for a
refit on all pairs). Beside them, the fast rendering with the network on the picture at half
its size (300x200, as ``fast_quality.py`` runs eval15): its PSNR and SSIM, and the spread
(standard deviation over the pairs) of its mean level over the full rendering's, which is 0
for a model whose tone does not depend on the picture's size.

This is the table that chooses between candidate models; eval15 is not read.

    python benchmarks/heldout_quality.py --weights A.safetensors [B.safetensors ...]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from data_location import RESULTS, lol_root, pairs_missing, read_batch

from lowlight.data import find_pairs, split_by_scene
from lowlight.inference import enhance_tensor
from lowlight.metrics import psnr, psnr_gt_mean, ssim, ssim_gt_mean
from lowlight.weights import load_model

GAINS = (0.9, 0.95, 1.0, 1.05, 1.1)
DRAWS = 1000


def score(weights: str, held_out: list, training: list) -> dict:
    model = load_model(weights)
    rows, levels, fast_rows = [], [], []
    for pair in held_out:
        high, low = read_batch(pair.high), read_batch(pair.low)
        output = enhance_tensor(model, low)
        levels.append(float(output.mean()))
        rows.append(
            [
                float(psnr(output, high)),
                float(ssim(output, high)),
                float(psnr_gt_mean(output, high)),
                float(ssim_gt_mean(output, high)),
            ]
        )
        half = max(low.shape[-2:]) // 2
        fast = enhance_tensor(model, low, quality="fast", working_size=half)
        fast_rows.append(
            [float(psnr(fast, high)), float(ssim(fast, high)), float(fast.mean() / output.mean())]
        )
    per_pair = []
    for pair in training:
        high = read_batch(pair.high)
        output = enhance_tensor(model, read_batch(pair.low))
        per_pair.append([float(psnr((output * gain).clamp(0, 1), high)) for gain in GAINS])
    per_pair = np.array(per_pair)
    by_gain = per_pair.mean(axis=0)
    # How much the preferred gain of a set as small as the held-out one varies by chance.
    rng = np.random.default_rng(0)
    draws = [
        int(np.argmax(per_pair[rng.choice(len(per_pair), len(held_out), replace=False)].mean(0)))
        for _ in range(DRAWS)
    ]
    psnr_mean, ssim_mean, psnr_gt, ssim_gt = np.mean(rows, axis=0)
    fast_psnr, fast_ssim, _ = np.mean(fast_rows, axis=0)
    return {
        "weights": weights,
        "psnr": psnr_mean,
        "ssim": ssim_mean,
        "psnr_gt_mean": psnr_gt,
        "ssim_gt_mean": ssim_gt,
        "output_level": float(np.mean(levels)),
        "fast_half_psnr": float(fast_psnr),
        "fast_half_ssim": float(fast_ssim),
        "fast_half_level_spread": float(np.std([row[2] for row in fast_rows])),
        "training_psnr_by_gain": dict(
            zip((f"{g:.2f}" for g in GAINS), map(float, by_gain), strict=True)
        ),
        "training_best_gain": GAINS[int(np.argmax(by_gain))],
        "best_gain_of_random_training_subsets": {
            f"{g:.2f}": draws.count(i) / DRAWS for i, g in enumerate(GAINS)
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", nargs="+", required=True, help="safetensors files")
    parser.add_argument("--data", type=Path, default=lol_root() / "train")
    parser.add_argument("--every", type=int, default=4, help="score every N-th training pair")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    if pairs_missing(args.data, "LOL-v1 training pairs"):
        return 2
    torch.set_num_threads(args.threads)
    training, held_out = split_by_scene(find_pairs(args.data), 0.1, 0)
    training = training[:: args.every]
    results = []
    print(
        f"{len(held_out)} held-out pairs; level check on {len(training)} training pairs\n"
        "PSNR    SSIM    GT-mean PSNR  GT-mean SSIM  level  best training gain  weights"
    )
    for weights in args.weights:
        result = score(weights, held_out, training)
        results.append(result)
        print(
            f"{result['psnr']:.2f}  {result['ssim']:.4f}  {result['psnr_gt_mean']:12.2f}  "
            f"{result['ssim_gt_mean']:12.4f}  {result['output_level']:.3f}  "
            f"{result['training_best_gain']:18.2f}  {weights}",
            flush=True,
        )
        print(
            f"    fast from half size: {result['fast_half_psnr']:.2f}  "
            f"{result['fast_half_ssim']:.4f}, level over full's spread "
            f"{result['fast_half_level_spread']:.3f}"
        )
        print(
            f"    best gain in {DRAWS} random {len(held_out)}-pair training subsets: "
            + ", ".join(
                f"{g} {f:.0%}" for g, f in result["best_gain_of_random_training_subsets"].items()
            )
        )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "heldout_quality.json").write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
