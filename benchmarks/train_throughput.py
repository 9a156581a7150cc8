"""Training throughput: images per second of ``lowlight train`` for each way of feeding it.

For each setting, one short stage-3 epoch of the real trainer on LOL-v1's training pairs
(starting from the packaged model, no validation), and the images per second the trainer
itself logs for it (loading the pairs is not counted).

    python benchmarks/train_throughput.py [--threads 2] [--samples 24]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from data_location import RESULTS, lol_root, pairs_missing
from machine import describe, summary

from lowlight.training.config import TrainConfig
from lowlight.training.trainer import Trainer
from lowlight.weights import default_weights_path

# (name, image_size, downscale, batch_size): the settings the default model was trained with.
SETTINGS = (
    ("256x256 crops", 256, 1, 4),
    ("whole 600x400 images", 0, 1, 2),
    ("whole images at half size (300x200)", 0, 2, 4),
)


def images_per_second(data: Path, image_size: int, downscale: int, batch: int, args) -> float:
    with tempfile.TemporaryDirectory() as run:
        config = TrainConfig(
            data=str(data),
            out=run,
            val_fraction=0.0,
            stage_epochs=(0, 0, 1),
            image_size=image_size,
            downscale=downscale,
            batch_size=batch,
            samples_per_epoch=args.samples,
            threads=args.threads,
            init_weights=str(default_weights_path()),
        )
        trainer = Trainer(config)
        rows = trainer.fit()
    return rows[-1]["images_per_second"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=lol_root() / "train")
    parser.add_argument("--samples", type=int, default=24, help="images timed per setting")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if pairs_missing(args.data, "LOL-v1 training pairs"):
        return 2
    machine = describe(args.threads)
    print(summary(machine))
    rows = []
    for name, image_size, downscale, batch in SETTINGS:
        rate = images_per_second(args.data, image_size, downscale, batch, args)
        rows.append(
            {
                "setting": name,
                "image_size": image_size,
                "downscale": downscale,
                "batch_size": batch,
                "images_per_second": rate,
            }
        )
        print(f"{name:38s} batch {batch}: {rate:5.2f} images/s", flush=True)
    result = {
        "threads": args.threads,
        "samples": args.samples,
        "machine": machine,
        "rows": rows,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "train_throughput.json").write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
