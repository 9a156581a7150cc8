"""How far tiled and fast results are from one pass over the whole picture.

Each bundled sample (``samples/*.png``) is enlarged to 3000x2000 with a little noise, then
enhanced four ways: whole in full quality, as ``lowlight enhance --quality full --tile 0``
gives it (the reference: one pass of the network, its mean level per channel taken from the
pass over the picture reduced to the working size); in tiles of the default size alone; in
tiles matched to that reduced pass (``--quality full``); and fast (``--quality fast``). For
each of the last three it reports the mean absolute difference from the reference and the
standard deviation of that difference after a 32-pixel box blur (tone that varies across the
picture, as tiles that disagree in brightness would show), both in 1/255 steps, and the
ratio of its mean level to the reference's.

Writes ``tile_consistency.json`` into ``--out`` and prints a table.

    python benchmarks/tile_consistency.py [--weights FILE] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from data_location import REPO, RESULTS
from PIL import Image

from lowlight.imageio.tiling import tile_process
from lowlight.inference import DEFAULT_TILE, enhance_tensor, tile_overlap
from lowlight.weights import load_model

SIZE = (2000, 3000)


def enlarged(path: Path, seed: int) -> torch.Tensor:
    """The sample as a (1, 3, 2000, 3000) tensor with sensor-like noise of 1/255."""
    picture = torch.from_numpy(np.array(Image.open(path).convert("RGB"))).permute(2, 0, 1)
    big = F.interpolate(picture[None].float() / 255, size=SIZE, mode="bicubic")
    noise = torch.randn(big.shape, generator=torch.Generator().manual_seed(seed)) / 255
    return (big + noise).clamp(0, 1)


def differences(result: torch.Tensor, whole: torch.Tensor) -> dict[str, float]:
    difference = (result - whole) * 255
    return {
        "mean_abs": float(difference.abs().mean()),
        "low_frequency_std": float(F.avg_pool2d(difference, 32).std()),
        "level": float(result.mean() / whole.mean()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", help="safetensors weights (default: the shipped model)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    model = load_model(args.weights)
    rows = []
    print(
        f"{SIZE[1]}x{SIZE[0]}, tile {DEFAULT_TILE}; differences from the whole picture in 1/255: "
        "mean / varying tone / level over the whole's"
    )
    print("| sample | tiles alone | tiles matched | fast |")
    print("|---|---|---|---|")
    for seed, path in enumerate(sorted((REPO / "samples").glob("*.png"))):
        picture = enlarged(path, seed)
        whole = enhance_tensor(model, picture, tile=0, quality="full")
        with torch.inference_mode():
            tiles = tile_process(
                lambda t: model(t).image, picture, DEFAULT_TILE, tile_overlap(DEFAULT_TILE)
            )
        results = {
            "tiles": tiles,
            "matched": enhance_tensor(model, picture, tile=DEFAULT_TILE, quality="full"),
            "fast": enhance_tensor(model, picture, quality="fast"),
        }
        row = {"sample": path.stem}
        row.update({name: differences(result, whole) for name, result in results.items()})
        rows.append(row)
        cells = " | ".join(
            f"{row[name]['mean_abs']:.2f} / {row[name]['low_frequency_std']:.2f} / "
            f"{row[name]['level']:.3f}"
            for name in results
        )
        print(f"| {path.stem} | {cells} |", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "tile_consistency.json").write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
