"""How predictable is the right exposure on LOL-v1? The limit exposure puts on eval15 PSNR.

Measures, on the training pairs only (eval15's targets are never read):

* how the targets' mean grey level relates to the inputs' (correlation);
* on the trainer's validation split (scene split, seed 0, 10 %), the error of predicting each
  target's mean grey level by the training mean, and by the level of the most similar
  training picture (nearest neighbour on normalised 24x16 thumbnails, i.e. memorising scenes);
* how much the target level differs between near-duplicate training frames;
* by similarity band (leave one out over all training pairs): the error of taking the most
  similar other frame's target level, against the constant, i.e. what memorising scenes buys;
* how many eval15 inputs have a near-duplicate (and a near-identical) frame among the training
  inputs;
* with ``--weights``, whether a global gain on the model's outputs would raise validation PSNR;
  and, on every ``MEMORY_STRIDE``-th training pair, whether the model's output level follows
  the targets (RMS error against the constant's) and what scaling its output to the most
  similar other frame's target level (memorising scenes) would do to PSNR.

Writes ``exposure_predictability.json`` into ``--out`` and prints a table.

    python benchmarks/exposure_predictability.py [--weights FILE] [--data DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from data_location import RESULTS, lol_root, pairs_missing, read_batch
from PIL import Image

from lowlight.data import find_pairs, split_by_scene
from lowlight.imageio import read_rgb
from lowlight.inference import enhance_tensor
from lowlight.metrics import psnr
from lowlight.weights import load_model

# Thumbnails whose normalised correlation is at least this are the same view of one scene.
NEAR_DUPLICATE = 0.98
# ... and at least this, the same view at (almost) the same input exposure.
NEAR_IDENTICAL = 0.995
# Similarity bands for the leave-one-out memorisation table.
BANDS = ((0.999, 1.01), (0.995, 0.999), (0.98, 0.995), (0.95, 0.98), (-1.0, 0.95))
GAINS = (0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.15)
MEMORY_STRIDE = 5


def thumbnail_signature(path: Path) -> np.ndarray:
    """A unit vector describing what is where in a picture, whatever its brightness."""
    with Image.open(path) as image:
        small = np.asarray(image.convert("RGB").resize((24, 16), Image.BILINEAR), np.float64)
    signature = (small / (small.mean() + 1e-3)).ravel()
    signature -= signature.mean()
    return signature / np.linalg.norm(signature)


def rmse(predicted: np.ndarray, actual: np.ndarray) -> float:
    return float(np.sqrt(np.mean((predicted - actual) ** 2)))


def similarity_to_others(signature: np.ndarray) -> np.ndarray:
    """(N, N) thumbnail similarities between the pictures, -1 on the diagonal (itself)."""
    between = signature @ signature.T
    np.fill_diagonal(between, -1.0)
    return between


def memorisation_by_band(between: np.ndarray, level: np.ndarray) -> dict[str, dict]:
    """Leave one out: RMS error of each pair's target level taken from its most similar
    other frame, against the training mean, per band of that frame's similarity."""
    nearest, similarity = between.argmax(axis=1), between.max(axis=1)
    table = {}
    for low, high in BANDS:
        members = (similarity >= low) & (similarity < high)
        if members.any():
            table[f"{max(low, 0.0):.3f}-{min(high, 1.0):.3f}"] = {
                "pairs": int(members.sum()),
                "rmse_nearest_frame": rmse(level[nearest][members], level[members]),
                "rmse_training_mean": rmse(level.mean(), level[members]),
            }
    return table


def gain_sweep(model: torch.nn.Module, pairs: list) -> dict[str, float]:
    """Mean validation PSNR of the model's outputs scaled by each of ``GAINS``."""
    totals = dict.fromkeys(GAINS, 0.0)
    for pair in pairs:
        high = read_batch(pair.high)
        output = enhance_tensor(model, read_batch(pair.low))
        for gain in GAINS:
            totals[gain] += float(psnr((output * gain).clamp(0, 1), high))
    return {f"{gain:.2f}": total / len(pairs) for gain, total in totals.items()}


def memorised_levels(
    model: torch.nn.Module, pairs: list, between: np.ndarray, level: np.ndarray
) -> dict:
    """On every ``MEMORY_STRIDE``-th pair: the model's level error, and the PSNR of its output
    as is and scaled to the target level of the most similar other frame, split by whether
    that frame is nearly identical."""
    rows = []
    for i in range(0, len(pairs), MEMORY_STRIDE):
        high = read_batch(pairs[i].high)
        output = enhance_tensor(model, read_batch(pairs[i].low))
        own = float(output.mean())
        nearest = int(between[i].argmax())
        scaled = (output * (level[nearest] / own)).clamp(0, 1)
        rows.append(
            (
                between[i, nearest],
                own,
                level[i],
                float(psnr(output, high)),
                float(psnr(scaled, high)),
            )
        )
    table = np.array(rows)
    identical = table[:, 0] >= NEAR_IDENTICAL
    result = {
        "pairs": len(rows),
        "output_level_rmse": rmse(table[:, 1], table[:, 2]),
        "training_mean_rmse": rmse(level.mean(), table[:, 2]),
    }
    for name, members in (("near_identical", identical), ("others", ~identical)):
        result[name] = {
            "pairs": int(members.sum()),
            "psnr": float(table[members, 3].mean()),
            "psnr_scaled_to_nearest_level": float(table[members, 4].mean()),
        }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=lol_root())
    parser.add_argument("--weights", help="also sweep a global gain on this model's outputs")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    if pairs_missing(args.data / "train", "LOL-v1"):
        return 2

    pairs = find_pairs(args.data / "train")
    low_level = np.array([read_rgb(p.low).mean() for p in pairs])
    high_level = np.array([read_rgb(p.high).mean() for p in pairs])
    signature = np.stack([thumbnail_signature(p.low) for p in pairs])
    index = {p.name: i for i, p in enumerate(pairs)}
    train, val = split_by_scene(pairs, 0.1, 0)
    train_idx = np.array([index[p.name] for p in train])
    val_idx = np.array([index[p.name] for p in val])

    similarity = signature[val_idx] @ signature[train_idx].T
    nearest = train_idx[similarity.argmax(axis=1)]
    near_val = similarity.max(axis=1) >= NEAR_DUPLICATE
    between = similarity_to_others(signature)
    first, second = np.nonzero(np.triu(between >= NEAR_DUPLICATE))
    eval_pairs = find_pairs(args.data / "eval15")
    eval_signatures = np.stack([thumbnail_signature(p.low) for p in eval_pairs])
    eval_similarity = (eval_signatures @ signature.T).max(axis=1)

    result = {
        "pairs": len(pairs),
        "target_level_range": [float(high_level.min()), float(high_level.max())],
        "corr_input_target_level": float(np.corrcoef(low_level, high_level)[0, 1]),
        "val_pairs": len(val),
        "val_rmse_training_mean": rmse(high_level[train_idx].mean(), high_level[val_idx]),
        "val_rmse_nearest_scene": rmse(high_level[nearest], high_level[val_idx]),
        "val_near_duplicates": int(near_val.sum()),
        "val_rmse_nearest_scene_near_duplicates": rmse(
            high_level[nearest][near_val], high_level[val_idx][near_val]
        ),
        "near_duplicate_training_pairs": len(first),
        "near_duplicate_level_ratio_std": float(
            np.std(np.log(high_level[first] / high_level[second]))
        ),
        "eval15_inputs_with_near_duplicate": int((eval_similarity >= NEAR_DUPLICATE).sum()),
        "eval15_inputs_with_near_identical": int((eval_similarity >= NEAR_IDENTICAL).sum()),
        "memorisation_by_similarity": memorisation_by_band(between, high_level),
    }
    if args.weights:
        torch.set_num_threads(args.threads)
        model = load_model(args.weights)
        result["val_psnr_by_global_gain"] = gain_sweep(model, val)
        result["training_pairs_memorised_level"] = memorised_levels(
            model, pairs, between, high_level
        )

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "exposure_predictability.json").write_text(json.dumps(result, indent=1) + "\n")
    width = max(map(len, result))
    for key, value in result.items():
        if key == "memorisation_by_similarity":
            continue
        print(f"{key:<{width}}  {value}")
    print("\nsimilarity band  pairs  RMS nearest frame  RMS training mean")
    for band, row in result["memorisation_by_similarity"].items():
        print(
            f"{band:<15}  {row['pairs']:>5}  {row['rmse_nearest_frame']:>17.3f}"
            f"  {row['rmse_training_mean']:>17.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
