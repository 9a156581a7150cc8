"""Quality of the fast rendering against the full one: eval15, real dark photos, and noise.

- LOL-v1 eval15 (600x400; PSNR and SSIM against the targets, the field's protocol): full;
  fast at half working size (the network on 300x200); the same with each channel's mean
  level scaled to the full result's, which leaves out the tone the network settles on at
  the smaller size; and the renderer alone: fast rendered from the full result reduced to
  300x200, which leaves out the network's own behaviour on a smaller picture. The lowest
  and highest ratio of a picture's fast mean level to its full one go with them.
- ``real-dark/`` (26 photos, 500 to 1080 pixels long; NIQE, lower is better): full; fast at
  the default working size (a reduction of up to 1.4 times, as ``--quality fast`` gives); and
  fast at half size (each photo's working size half its longer side). The mean level of the
  fast results over the full ones' says whether they agree in tone.
- Noise: ``well-exposed/kodak/`` photos enlarged 3 times (2304x1536), taken to linear light,
  darkened 20 times with fresh shot and read noise (``video_stability.py``'s camera), then
  enhanced; how much of the input's noise reaches the result is the RMS difference between
  the result of the noisy picture and that of the same picture without noise, in 8-bit
  levels: full; fast; and a plain gain (the network's reduced result over the reduced
  input, upsampled, times the full-resolution input), which brings all the noise back.

    python benchmarks/fast_quality.py [--weights FILE] [--threads 1]

``enhance_speed.py`` runs it after the speed table; alone it prints its tables and writes
``benchmarks/results/fast_quality.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from data_location import RESULTS, data_root, lol_root, read_batch
from kornia.color import linear_rgb_to_rgb, rgb_to_linear_rgb

import lowlight.imageio.full_resolution as full_resolution
from lowlight.imageio import find_inputs
from lowlight.inference import WORKING_SIZE, enhance_tensor
from lowlight.metrics import niqe, psnr, quantize, ssim
from lowlight.weights import load_model

NOISE_PHOTOS = ("kodim03", "kodim07", "kodim23")
ENLARGE = 3
EXPOSURE, FULL_WELL, READ_NOISE = 1 / 20, 3000.0, 2.5  # as video_stability.py


def eval15(model) -> dict:
    """Mean PSNR and SSIM on eval15: full, fast from 300x200, the renderer alone."""
    folder = lol_root() / "eval15"
    paths = sorted((folder / "low").glob("*.png"))
    if not paths:
        return {}
    names = ("full", "fast", "fast, level of full", "renderer")
    scores: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    levels = []
    for path in paths:
        low, target = read_batch(path), read_batch(folder / "high" / path.name)
        full = enhance_tensor(model, low, quality="full")
        half = max(low.shape[-2:]) // 2
        fast = enhance_tensor(model, low, quality="fast", working_size=half)
        levels.append(float(fast.mean() / full.mean()))
        level = full.mean(dim=(2, 3), keepdim=True) / fast.mean(dim=(2, 3), keepdim=True)

        def reduced_full(reduced: torch.Tensor, full: torch.Tensor = full) -> torch.Tensor:
            return F.interpolate(full, size=reduced.shape[-2:], mode="area")

        renderer = full_resolution.render_reduced(reduced_full, low, half)
        results = (full, fast, (fast * level).clamp(0, 1), renderer)
        for name, result in zip(names, results, strict=True):
            scores[name].append((float(psnr(result, target)), float(ssim(result, target))))
    figures = {
        name: {"psnr": _mean(s[0] for s in values), "ssim": _mean(s[1] for s in values)}
        for name, values in scores.items()
    }
    figures["fast"]["level_over_full"] = [min(levels), max(levels)]
    return figures


def real_dark(model) -> dict:
    """Mean NIQE and mean level on real-dark: full, fast at the default and at half size."""
    folder = data_root() / "real-dark"
    if not folder.is_dir():
        return {}
    figures: dict[str, dict[str, list[float]]] = {}
    for path in (found.path for found in find_inputs([str(folder)], videos=False)):
        photo = read_batch(path)
        half = max(photo.shape[-2:]) // 2
        results = {
            "full": enhance_tensor(model, photo, quality="full"),
            f"fast, working size {WORKING_SIZE}": enhance_tensor(model, photo, quality="fast"),
            "fast, half size": enhance_tensor(model, photo, quality="fast", working_size=half),
        }
        for name, result in results.items():
            entry = figures.setdefault(name, {"niqe": [], "level": []})
            entry["niqe"].append(float(niqe(quantize(result))))
            entry["level"].append(float(result.mean()))
    full_level = figures["full"]["level"]
    return {
        name: {
            "photos": len(values["niqe"]),
            "niqe": _mean(values["niqe"]),
            "level_over_full": _mean(
                a / b for a, b in zip(values["level"], full_level, strict=True)
            ),
        }
        for name, values in figures.items()
    }


def noise(model) -> dict:
    """RMS (8-bit levels) of the input's noise in each rendering's result."""
    folder = data_root() / "well-exposed" / "kodak"
    found = find_inputs([str(folder)], videos=False)
    paths = [entry.path for entry in found if entry.path.stem in NOISE_PHOTOS]
    if not paths:
        return {}
    generator = torch.Generator().manual_seed(0)
    rms: dict[str, list[float]] = {}
    for path in sorted(paths):
        clean = F.interpolate(read_batch(path), scale_factor=ENLARGE, mode="bicubic").clamp(0, 1)
        linear = rgb_to_linear_rgb(clean) * EXPOSURE
        electrons = torch.poisson(linear * FULL_WELL, generator=generator)
        electrons += torch.randn(linear.shape, generator=generator) * READ_NOISE
        noisy = linear_rgb_to_rgb((electrons / FULL_WELL).clamp(0, 1))
        quiet = linear_rgb_to_rgb(linear)
        for name, render in renderings(model).items():
            difference = (quantize(render(noisy)) - quantize(render(quiet))) * 255
            rms.setdefault(name, []).append(float(difference.square().mean().sqrt()))
        rms.setdefault("input, times the mean gain", []).append(
            float((noisy - quiet).square().mean().sqrt() * 255)
            * float(renderings(model)["full"](quiet).mean() / quiet.mean())
        )
    return {name: _mean(values) for name, values in rms.items()}


def renderings(model) -> dict:
    """The ways the noise is measured through: full, fast and a plain gain."""

    def plain_gain(picture: torch.Tensor) -> torch.Tensor:
        height, width = picture.shape[-2:]
        size = full_resolution.reduced_shape(height, width, WORKING_SIZE)
        reduced = full_resolution.reduce_to(picture, size)
        with torch.inference_mode():
            gain = model(reduced).image / reduced.clamp_min(1 / 255)
        gain = F.interpolate(gain, size=(height, width), mode="bilinear", align_corners=False)
        return (picture * gain).clamp(0, 1)

    return {
        "full": lambda picture: enhance_tensor(model, picture, quality="full"),
        "fast": lambda picture: enhance_tensor(model, picture, quality="fast"),
        "plain gain of the reduced result": plain_gain,
    }


def measure_all(weights: str, threads: int) -> dict:
    torch.set_num_threads(threads)
    model = load_model(weights or None)
    with torch.inference_mode():
        return {
            "threads": threads,
            "eval15": eval15(model),
            "real_dark": real_dark(model),
            "noise_rms_levels": noise(model),
        }


def print_all(results: dict) -> None:
    if results["eval15"]:
        print("\nLOL-v1 eval15, PSNR / SSIM against the targets (uint8, SSIM 11x11 Gaussian)")
        print("| rendering | PSNR | SSIM |\n|---|---|---|")
        names = {
            "full": "full",
            "fast": "fast, network on 300x200",
            "fast, level of full": "the same, each channel's mean level scaled to the full one's",
            "renderer": "the full result reduced to 300x200, rendered fast",
        }
        for name, scores in results["eval15"].items():
            print(f"| {names[name]} | {scores['psnr']:.2f} | {scores['ssim']:.3f} |")
        low, high = results["eval15"]["fast"]["level_over_full"]
        print(f"Mean level of fast over full, per picture: {low:.3f} to {high:.3f}")
    if results["real_dark"]:
        print("\nreal-dark (26 photos), NIQE (lower is better) and mean level over the full one")
        print("| rendering | NIQE | level / full |\n|---|---|---|")
        for name, figures in results["real_dark"].items():
            print(f"| {name} | {figures['niqe']:.3f} | {figures['level_over_full']:.4f} |")
    if results["noise_rms_levels"]:
        print(
            f"\nNoise reaching the result: Kodak {', '.join(NOISE_PHOTOS)} at "
            f"{768 * ENLARGE}x{512 * ENLARGE}, 20x darker with shot and read noise; RMS of "
            "result(noisy) - result(noise-free), 8-bit levels"
        )
        print("| rendering | noise RMS |\n|---|---|")
        for name, value in results["noise_rms_levels"].items():
            print(f"| {name} | {value:.2f} |")


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default="", help="safetensors file (default: shipped)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, default=RESULTS / "fast_quality.json")
    args = parser.parse_args(argv)
    results = measure_all(args.weights, args.threads)
    print_all(results)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
