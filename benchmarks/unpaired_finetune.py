"""Fine-tuning a model on half of ``real-dark/`` without targets: the figures before and after.

The split is fixed: the 26 photos of ``real-dark/`` in name order are dealt alternately, the
1st, 3rd, ... (13 photos) to fine-tuning and the 2nd, 4th, ... (13) to the held-out half, so
that SCI's easy, medium and difficult groups fall on both sides. ``lowlight train --unpaired``
fine-tunes ``--weights`` (default: the shipped model) on the first half with its own defaults
(its validation photos split off that half, as a user's run would), plus ``--config`` YAML
options if given. The starting model and the run's ``best.safetensors`` are then scored the
way ``lowlight evaluate`` scores them: the no-reference figures on the held-out half (the
photos themselves too, for reference) and PSNR/SSIM on LOL-v1 eval15.

Writes ``unpaired_finetune.json`` (``unpaired_finetune-NAME.json`` with ``--config NAME.yaml``)
into ``--out`` and prints a Markdown table; the run folder is kept with ``--run DIR``.

    python benchmarks/unpaired_finetune.py [--weights FILE] [--config my.yaml] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch
import yaml
from data_location import RESULTS, data_root, pairs_missing
from machine import describe, summary

from lowlight.cli import main as lowlight
from lowlight.data import find_photos
from lowlight.evaluation import evaluate_folder
from lowlight.weights import default_weights_path, load_model

PHOTO_FIGURES = ("niqe", "mean_grey", "clipped", "crushed", "colourfulness")


def split(photos: Path, into: Path) -> tuple[list[str], list[str]]:
    """Link the photos dealt alternately into ``into/train`` and ``into/test``."""
    names = [photo.name for photo in find_photos(photos)]
    halves = {"train": names[0::2], "test": names[1::2]}
    for half, chosen in halves.items():
        (into / half).mkdir(parents=True)
        for name in chosen:
            (into / half / name).symlink_to((photos / name).resolve())
    return halves["train"], halves["test"]


def fine_tune(train: Path, run: Path, weights: Path, config: Path | None, args) -> float:
    """Run ``lowlight train --unpaired``; returns its seconds."""
    command = ["train", "--unpaired", str(train), "--out", str(run), "--init-weights", str(weights)]
    command += ["--threads", str(args.threads)]
    command += ["--config", str(config)] if config else []
    command += ["--epochs", str(args.epochs)] if args.epochs else []
    start = time.perf_counter()
    if lowlight(command) != 0:
        raise SystemExit("fine-tuning failed")
    return time.perf_counter() - start


def scores(weights: Path | None, test: Path, eval15: Path) -> dict:
    """The held-out half's no-reference means and eval15's PSNR/SSIM of one model (None: the
    photos themselves, without eval15)."""
    model = load_model(weights) if weights else None
    photos = evaluate_folder(model, test, no_reference=True)["mean"]
    result = {name: photos[name] for name in PHOTO_FIGURES}
    if model is not None:
        paired = evaluate_folder(model, eval15)["mean"]
        result |= {"eval15_psnr": paired["psnr"], "eval15_ssim": paired["ssim"]}
    return result


def table(rows: dict[str, dict]) -> str:
    lines = [
        "| model | NIQE | grey level | clipped | crushed | colourfulness | eval15 PSNR | SSIM |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, row in rows.items():
        paired = (
            f"{row['eval15_psnr']:.2f} | {row['eval15_ssim']:.3f}" if "eval15_psnr" in row else "|"
        )
        lines.append(
            f"| {label} | {row['niqe']:.3f} | {row['mean_grey']:.3f} | {row['clipped']:.2%} | "
            f"{row['crushed']:.2%} | {row['colourfulness']:.1f} | {paired} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, default=default_weights_path())
    parser.add_argument("--config", type=Path, help="YAML options for lowlight train")
    parser.add_argument("--epochs", type=int, help="fine-tuning epochs (default: the run's)")
    parser.add_argument("--data", type=Path, default=data_root())
    parser.add_argument("--run", type=Path, help="keep the run folder here (default: temporary)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    eval15, photos = args.data / "lol-v1" / "eval15", args.data / "real-dark"
    if pairs_missing(eval15, "eval15") or not photos.is_dir():
        print(f"real-dark/ or lol-v1/eval15 not found in {args.data}; pass --data", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    machine = describe(args.threads)
    with tempfile.TemporaryDirectory() as scratch:
        halves = Path(scratch)
        train_names, test_names = split(photos, halves)
        run = args.run or halves / "run"
        seconds = fine_tune(halves / "train", run, args.weights, args.config, args)
        rows = {
            "held-out photos themselves": scores(None, halves / "test", eval15),
            "before: starting model": scores(args.weights, halves / "test", eval15),
            "after: fine-tuned (best.safetensors)": scores(
                run / "best.safetensors", halves / "test", eval15
            ),
        }
        config = yaml.safe_load((run / "config.yaml").read_text())
    text = table(rows)
    print(f"fine-tuned in {seconds / 60:.1f} min on {len(train_names)} photos; held-out half:")
    print(f"(on {summary(machine)})")
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    result = {
        "weights": str(args.weights),
        "split": {"fine_tune": train_names, "held_out": test_names},
        "fine_tune_seconds": seconds,
        "machine": machine,
        "config": config,
        "results": rows,
        "table": text,
    }
    name = f"unpaired_finetune-{args.config.stem}" if args.config else "unpaired_finetune"
    (args.out / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
