"""How far the model can fit a few training pairs, under the schedule's objective and without it.

Fine-tunes ``--weights`` on ``--pairs`` whole LOL-v1 training pairs (spread over the folder) for
``--steps`` steps of batch 2 (AdamW, one learning rate for every parameter, gradient clipping as in
training) and scores PSNR, SSIM and GT-mean PSNR on those same pairs before and after. Objectives:

* ``schedule``: stage 3's weights with the colour ramp complete, as the trainer uses them;
* ``pixels``: stage 3's reconstruction and SSIM terms only;
* ``reconstruction``: the Charbonnier term only.

If ``pixels`` or ``reconstruction`` fit the pairs much better than ``schedule``, the colour,
exposure and perceptual terms cap PSNR; if none of them fits, the network does.

    python benchmarks/fit_capacity.py --objective schedule [--pairs 8 --steps 150]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from data_location import RESULTS, lol_root, pairs_missing, read_batch

from lowlight.data import find_pairs
from lowlight.metrics import psnr, psnr_gt_mean, ssim
from lowlight.training.loss_weights import TRAINING_DEFAULTS, stage_loss_weights
from lowlight.training.objective import TrainingObjective
from lowlight.weights import load_model

OBJECTIVES = ("schedule", "pixels", "reconstruction")


def objective_weights(name: str) -> dict[str, float]:
    """The loss weights of objective ``name`` (see the module docstring)."""
    schedule = stage_loss_weights(3, 10_000)
    if name == "schedule":
        return schedule
    if name == "pixels":
        return {k: schedule[k] for k in ("w_reconstruction", "w_ssim")}
    return {"w_reconstruction": 1.0}


@torch.no_grad()
def scores(model, lows: torch.Tensor, highs: torch.Tensor) -> dict[str, float]:
    """Mean PSNR, SSIM and GT-mean PSNR of ``model`` on (N, 3, H, W) pairs."""
    model.eval()
    outputs = torch.cat([model(low[None]).image.clamp(0, 1) for low in lows])
    return {
        "psnr": float(psnr(outputs, highs).mean()),
        "ssim": float(ssim(outputs, highs).mean()),
        "psnr_gt_mean": float(psnr_gt_mean(outputs, highs).mean()),
    }


def fit(args: argparse.Namespace, lows: torch.Tensor, highs: torch.Tensor) -> dict:
    model = load_model(args.weights)
    for parameter in model.parameters():
        parameter.requires_grad_(True)
    before = scores(model, lows, highs)
    objective = TrainingObjective()
    weights = objective_weights(args.objective)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    generator = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(args.steps):
        batch = torch.randperm(len(lows), generator=generator)[:2]
        total, _ = objective(model(lows[batch]), highs[batch], weights)
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), TRAINING_DEFAULTS["grad_clip_norm"])
        optimizer.step()
    return {"before": before, "after": scores(model, lows, highs)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objective", choices=OBJECTIVES, required=True)
    parser.add_argument("--weights", help="safetensors file (default: the packaged model)")
    parser.add_argument("--data", type=Path, default=lol_root() / "train")
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if pairs_missing(args.data, "LOL-v1 training pairs"):
        return 2
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    pairs = find_pairs(args.data)
    chosen = pairs[:: max(len(pairs) // args.pairs, 1)][: args.pairs]
    lows = torch.cat([read_batch(p.low) for p in chosen])
    highs = torch.cat([read_batch(p.high) for p in chosen])
    result = {
        "objective": args.objective,
        "weights": args.weights or "packaged default",
        "pairs": [p.low.name for p in chosen],
        "steps": args.steps,
        "lr": args.lr,
        **fit(args, lows, highs),
    }

    before, after = result["before"], result["after"]
    print(f"{args.objective}: {len(chosen)} pairs, {args.steps} steps of batch 2")
    print("          PSNR    SSIM  GT-mean PSNR")
    for name, row in (("before", before), ("after", after)):
        print(f"{name:8s} {row['psnr']:6.2f}  {row['ssim']:.4f}  {row['psnr_gt_mean']:12.2f}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"fit_capacity-{args.objective}.json").write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
