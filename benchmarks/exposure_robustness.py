"""Exposure robustness: does a model leave good light alone, follow the picture, never clip?

For each model (the shipped default, or several side by side):

(a) well exposed: eval15's targets as inputs; PSNR of the result against the input itself, and
    the clipped fraction it adds (points of pixels with a channel at 254 or 255);
(b) sweep: eval15's inputs scaled in linear light by 0.5x to 8x (then 8-bit sRGB, as a camera
    stores them); PSNR against the target and the result's mean grey level at each scale;
(c) real-dark: ``real-dark/``'s photos; clipped and crushed (every channel <= 2) fractions of
    inputs and results;
(d) inside, on eval15's inputs: the curve image's mean level against the result's, the curve
    image's PSNR against the target, the decoder's mean absolute residual on the curve image,
    and the mask's mean in three bands of the SNR map (low < 0.05 <= mid < 0.15 <= high).

    python benchmarks/exposure_robustness.py [--weights LABEL=FILE ...] [--data DIR]
        [--real DIR] [--threads N] [--json FILE]

Without ``--weights`` it measures the shipped default.
Writes ``benchmarks/results/exposure_robustness.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
from data_location import RESULTS, data_root, lol_root, pairs_missing, read_batch
from kornia.color import linear_rgb_to_rgb, rgb_to_linear_rgb
from weights_option import parse_weights

from lowlight.data import find_pairs
from lowlight.imageio import find_inputs
from lowlight.metrics import clipped_fraction, crushed_fraction, mean_grey, psnr
from lowlight.weights import load_model

SCALES = (0.5, 1.0, 2.0, 4.0, 8.0)
# Bands of the SNR map (normalised to its per-image maximum) for the mask's means.
SNR_BANDS = {"low": (0.0, 0.05), "mid": (0.05, 0.15), "high": (0.15, 1.01)}


def rescale_exposure(rgb: torch.Tensor, scale: float) -> torch.Tensor:
    """``rgb`` with ``scale`` times the light, clipped and stored as 8-bit sRGB."""
    linear = (rgb_to_linear_rgb(rgb) * scale).clamp(0.0, 1.0)
    return torch.round(linear_rgb_to_rgb(linear) * 255.0) / 255.0


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def well_exposed(model, pairs) -> dict:
    """(a): targets in, PSNR against themselves and added clipping, in points."""
    scores, added = [], []
    for pair in pairs:
        target = read_batch(pair.high)
        result = model(target).image
        scores.append(float(psnr(result, target)))
        added.append(100 * float(clipped_fraction(result) - clipped_fraction(target)))
    return {"psnr": mean(scores), "added_clipped_points": mean(added)}


def sweep(model, pairs) -> dict:
    """(b): per scale, PSNR against the target and the result's mean grey level."""
    rows = {}
    for scale in SCALES:
        scores, levels = [], []
        for pair in pairs:
            low, target = read_batch(pair.low), read_batch(pair.high)
            result = model(rescale_exposure(low, scale) if scale != 1.0 else low).image
            scores.append(float(psnr(result, target)))
            levels.append(float(mean_grey(result)))
        rows[f"{scale:g}x"] = {"psnr": mean(scores), "level": mean(levels)}
    return rows


def real_photos(model, paths) -> dict:
    """(c): clipped and crushed percentages of the photos and of the results."""
    figures = {"clipped_in": [], "clipped_out": [], "crushed_in": [], "crushed_out": []}
    for path in paths:
        photo = read_batch(path)
        result = model(photo).image
        figures["clipped_in"].append(100 * float(clipped_fraction(photo)))
        figures["clipped_out"].append(100 * float(clipped_fraction(result)))
        figures["crushed_in"].append(100 * float(crushed_fraction(photo)))
        figures["crushed_out"].append(100 * float(crushed_fraction(result)))
    return {key: mean(values) for key, values in figures.items()}


def inside(model, pairs) -> dict:
    """(d): curve and result levels, curve PSNR, residual size, mask mean per SNR band."""
    curve_levels, levels, curve_scores, residuals = [], [], [], []
    band_sums = {name: [0.0, 0.0] for name in SNR_BANDS}
    for pair in pairs:
        low, target = read_batch(pair.low), read_batch(pair.high)
        out = model(low)
        curve_levels.append(float(mean_grey(out.curve_image)))
        levels.append(float(mean_grey(out.image)))
        curve_scores.append(float(psnr(out.curve_image, target)))
        residuals.append(float((out.decoder_image - out.curve_image).abs().mean()))
        for name, (low_snr, high_snr) in SNR_BANDS.items():
            inside_band = (out.snr >= low_snr) & (out.snr < high_snr)
            band_sums[name][0] += float(out.mask[inside_band].sum())
            band_sums[name][1] += float(inside_band.sum())
    return {
        "curve_level": mean(curve_levels),
        "level": mean(levels),
        "curve_to_output_level": mean(curve_levels) / mean(levels),
        "curve_psnr": mean(curve_scores),
        "residual": mean(residuals),
        "mask_by_snr": {
            name: (total / count if count else float("nan"))
            for name, (total, count) in band_sums.items()
        },
        "snr_band_share": {
            name: count / sum(c for _, c in band_sums.values())
            for name, (_, count) in band_sums.items()
        },
    }


def measure(model, pairs, photos) -> dict:
    with torch.inference_mode():
        return {
            "well_exposed": well_exposed(model, pairs),
            "sweep": sweep(model, pairs),
            "real_dark": real_photos(model, photos) if photos else None,
            "inside": inside(model, pairs),
        }


def markdown(results: dict[str, dict]) -> str:
    scales = [f"{s:g}x" for s in SCALES]
    lines = [
        "| model | well-exposed PSNR | added clipping | "
        + " | ".join(f"PSNR / level at {s}" for s in scales)
        + " | real-dark clipped (in -> out) | crushed (in -> out) | curve / output level "
        "| curve PSNR | residual | mask low / mid / high SNR |",
        "|---" * (9 + len(scales)) + "|",
    ]
    for label, result in results.items():
        a, b, c, d = (result[k] for k in ("well_exposed", "sweep", "real_dark", "inside"))
        real = (
            f"{c['clipped_in']:.1f} % -> {c['clipped_out']:.1f} % | "
            f"{c['crushed_in']:.1f} % -> {c['crushed_out']:.1f} %"
            if c
            else "- | -"
        )
        masks = " / ".join(f"{d['mask_by_snr'][n]:.3f}" for n in SNR_BANDS)
        lines.append(
            f"| {label} | {a['psnr']:.2f} dB | {a['added_clipped_points']:+.2f} pts | "
            + " | ".join(f"{b[s]['psnr']:.2f} / {b[s]['level']:.3f}" for s in scales)
            + f" | {real} | {d['curve_level']:.3f} / {d['level']:.3f} "
            f"({d['curve_to_output_level']:.2f}x) | {d['curve_psnr']:.2f} dB | "
            f"{d['residual']:.3f} | {masks} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", nargs="*", metavar="LABEL=FILE")
    parser.add_argument("--data", type=Path, default=lol_root() / "eval15")
    parser.add_argument("--real", type=Path, default=data_root() / "real-dark")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, default=RESULTS / "exposure_robustness.json")
    args = parser.parse_args(argv)
    if pairs_missing(args.data, "eval15"):
        return 2
    torch.set_num_threads(args.threads)
    pairs = find_pairs(args.data)
    photos = find_inputs([str(args.real)], videos=False) if args.real.is_dir() else []
    results = {}
    for label, weights in parse_weights(args.weights).items():
        results[label] = measure(load_model(weights), pairs, [p.path for p in photos])
        results[label]["weights"] = weights or "shipped default"
    table = markdown(results)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1))
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
