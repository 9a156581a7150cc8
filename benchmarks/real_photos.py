"""Real photos: does a model lift dark photos naturally and leave well-exposed ones alone?

For each model, beside Zero-DCE's figures on the same pictures (``anchors/real-dark-zerodce.json``):

(a) ``real-dark/`` (26 real dark photos, no references), grouped by the *input's* mean grey
    (dark < 0.15 <= mid <= 0.30 < bright): NIQE, mean grey, clipped (any channel >= 254),
    near-white (any channel >= 250) and crushed (every channel <= 2), in and out;
(b) ``well-exposed/kodak/`` (24 good photos), the same figures, and the PSNR of each result
    against its input with the clipping it adds; the photos that training leaves out
    (``lowlight.data.KODAK_HELD_OUT``) are reported on their own, as the identity check;
(c) a contact sheet: one row per photo, input | each model | Zero-DCE where the anchor has a
    picture, written as one JPEG to look at;
(d) with ``--photos``, photos kept outside the project's data (the field's DICM and LIME, say),
    scored as (a) with the bright group too and the clipping each result adds, beside
    Zero-DCE run here from the authors' weights (``--zero-dce``, ``zero_dce.py``); their
    contact sheet goes to ``--photos-sheet``.

    python benchmarks/real_photos.py [--weights LABEL=FILE ...] [--data DIR] [--threads N]
        [--json FILE] [--sheet FILE] [--photos DIR ... [--zero-dce FILE] [--photos-sheet FILE]]

Without ``--weights`` it measures the shipped default. Writes
``benchmarks/results/real_photos.json`` and ``benchmarks/results/real_photos.jpg`` and prints
Markdown tables.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import torch
from data_location import RESULTS, data_root, read_batch
from photo_figures import figures, group_of
from PIL import Image
from weights_option import parse_weights
from zero_dce import DceNet, enhance_zero_dce, load_zero_dce

from lowlight.data import KODAK_HELD_OUT
from lowlight.imageio import find_inputs
from lowlight.inference import enhance_tensor
from lowlight.metrics import clipped_fraction, psnr
from lowlight.weights import load_model

ANCHOR = "Zero-DCE"
GROUPS = ("dark", "mid", "bright", "all")
SHEET_HEIGHT = 200


def enhance_all(model, paths: list[Path]) -> dict[str, torch.Tensor]:
    """Each photo's result, by file stem, enhanced the way ``lowlight enhance`` does it."""
    return {path.stem: enhance_tensor(model, read_batch(path)) for path in paths}


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def group_means(per_image: dict[str, dict], groups: dict[str, str]) -> dict[str, dict]:
    """Per group (and ``all``): the image count and each figure's mean; images missing from
    ``groups`` count in ``all`` only."""
    summary = {}
    for group in GROUPS:
        names = [n for n in per_image if group == "all" or groups.get(n) == group]
        if not names:
            continue
        summary[group] = {"images": len(names)}
        for key in per_image[names[0]]:
            values = [per_image[n][key] for n in names if not math.isnan(per_image[n][key])]
            summary[group][key] = mean(values) if values else float("nan")
    return summary


def identity_figures(inputs: dict[str, torch.Tensor], results: dict[str, torch.Tensor]) -> dict:
    """Per photo: PSNR of the result against its input, and clipped points it adds."""
    rows = {}
    for name, photo in inputs.items():
        result = results[name]
        rows[name] = {
            "psnr_vs_input": float(psnr(result, photo)),
            "added_clipped_points": 100 * float(clipped_fraction(result) - clipped_fraction(photo)),
        }
    return rows


def thumbnail(image: torch.Tensor | Image.Image) -> Image.Image:
    if isinstance(image, torch.Tensor):
        array = (image[0].clamp(0, 1).permute(1, 2, 0).numpy() * 255.0).round()
        image = Image.fromarray(array.astype(np.uint8))
    width = round(image.width * SHEET_HEIGHT / image.height)
    return image.convert("RGB").resize((width, SHEET_HEIGHT), Image.Resampling.LANCZOS)


def contact_sheet(rows: list[list[Image.Image | None]], path: Path) -> None:
    """One JPEG of ``rows`` of pictures side by side (None leaves a grey gap)."""
    cell = max(t.width for row in rows for t in row if t is not None)
    columns = max(len(row) for row in rows)
    sheet = Image.new("RGB", (columns * (cell + 4), len(rows) * (SHEET_HEIGHT + 4)), (40, 40, 40))
    for r, row in enumerate(rows):
        for c, picture in enumerate(row):
            if picture is not None:
                sheet.paste(picture, (c * (cell + 4), r * (SHEET_HEIGHT + 4)))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, quality=88)


def fmt(summary: dict, group: str) -> str:
    if group not in summary:
        return "-"
    s = summary[group]
    return (
        f"{s['niqe']:.2f} / {s['grey']:.3f} / {100 * s['clipped']:.1f} % / "
        f"{100 * s['near_white']:.1f} % / {100 * s['crushed']:.1f} %"
    )


def group_table(section: dict, title: str) -> list[str]:
    """A Markdown table of one section's group means, a row per model."""
    lines = [
        f"{title}: NIQE / grey / clipped / near-white / crushed",
        "",
        "| model | " + " | ".join(f"{g} ({section['counts'].get(g, 0)})" for g in GROUPS) + " |",
        "|---" * (len(GROUPS) + 1) + "|",
    ]
    for label, summary in section["models"].items():
        lines.append(f"| {label} | " + " | ".join(fmt(summary, g) for g in GROUPS) + " |")
    return lines


def markdown(results: dict) -> str:
    lines = group_table(results["real_dark"], "real-dark, by the input's mean grey")
    kodak = results.get("kodak")
    if kodak:
        lines += [
            "",
            "Kodak: NIQE / grey / clipped / near-white / crushed (all 24); PSNR against the input "
            f"and added clipping (all 24, and the {len(KODAK_HELD_OUT)} kept out of training)",
            "",
            "| model | all 24 | PSNR vs input, all | added clipping, all | PSNR vs input, kept out"
            " | added clipping, kept out |",
            "|---|---|---|---|---|---|",
        ]
        for label, entry in kodak["models"].items():
            identity = (
                f"{entry['psnr_all']:.2f} dB | {entry['added_clipped_all']:+.2f} pts | "
                f"{entry['psnr_held_out']:.2f} dB | {entry['added_clipped_held_out']:+.2f} pts"
                if "psnr_all" in entry
                else "- | - | - | -"
            )
            lines.append(f"| {label} | {fmt(entry['groups'], 'all')} | {identity} |")
    other = results.get("other_photos")
    if other:
        folders = ", ".join(other["folders"])
        lines += [""] + group_table(other, f"{folders}, by the input's mean grey")
        lines += ["", "Clipping added to the input, points: " + ", ".join(GROUPS), ""]
        for label, added in other["added_clipped"].items():
            row = " | ".join(f"{100 * added[g]:+.1f}" if g in added else "-" for g in GROUPS)
            lines.append(f"| {label} | {row} |")
    return "\n".join(lines) + "\n"


def grouped(per_model: dict[str, dict]) -> dict:
    """Per-image figures by model -> the groups of the inputs' mean grey, each model's means per
    group, the image count per group, and the per-image figures themselves."""
    groups = {n: group_of(f["grey"]) for n, f in per_model["input"].items()}
    return {
        "counts": {g: sum(1 for n in groups if g == "all" or groups[n] == g) for g in GROUPS},
        "models": {label: group_means(rows, groups) for label, rows in per_model.items()},
        "per_image": per_model,
        "groups": groups,
    }


def real_dark(models: dict, folder: Path, anchors: dict | None) -> tuple[dict, list]:
    paths = [p.path for p in find_inputs([str(folder)], videos=False)]
    inputs = {p.stem: read_batch(p) for p in paths}
    per_model = {"input": {n: figures(x) for n, x in inputs.items()}}
    outputs = {}
    for label, model in models.items():
        outputs[label] = enhance_all(model, paths)
        per_model[label] = {n: figures(x) for n, x in outputs[label].items()}
    if anchors:
        per_model[ANCHOR] = {n: anchors["zerodce"][n] for n in inputs if n in anchors["zerodce"]}
    anchor_pictures = folder.parent / "anchors" / "real-dark-zerodce"
    sheet = []
    for name, photo in inputs.items():
        row = [thumbnail(photo)] + [thumbnail(outputs[label][name]) for label in models]
        anchor = anchor_pictures / f"{name}.jpg"
        row.append(thumbnail(Image.open(anchor)) if anchor.is_file() else None)
        sheet.append(row)
    return grouped(per_model), sheet


def kodak(models: dict, folder: Path) -> tuple[dict, list]:
    paths = [p.path for p in find_inputs([str(folder)], videos=False)]
    inputs = {p.stem: read_batch(p) for p in paths}
    held_out = [n for n in inputs if n in KODAK_HELD_OUT]
    outputs = {label: enhance_all(model, paths) for label, model in models.items()}
    entries = {"input": {"groups": group_means({n: figures(x) for n, x in inputs.items()}, {})}}
    for label, results in outputs.items():
        per_image = {n: figures(x) for n, x in results.items()}
        identity = identity_figures(inputs, results)
        entry = {"groups": group_means(per_image, {}), "per_image": identity}
        for suffix, names in (("all", list(inputs)), ("held_out", held_out)):
            entry[f"psnr_{suffix}"] = mean([identity[n]["psnr_vs_input"] for n in names])
            entry[f"added_clipped_{suffix}"] = mean(
                [identity[n]["added_clipped_points"] for n in names]
            )
        entries[label] = entry
    sheet = [
        [thumbnail(inputs[name])] + [thumbnail(outputs[label][name]) for label in models]
        for name in held_out
    ]
    return {"held_out": held_out, "models": entries}, sheet


def other_photos(models: dict, folders: list[Path], zero_dce: DceNet | None) -> tuple[dict, list]:
    """Photos from elsewhere (the field's DICM and LIME, say), scored as ``real-dark/`` is, with
    Zero-DCE run here from its published weights when given, and the clipping each result adds
    to its input, per group. Pictures are named ``FOLDER/STEM`` by the folder they came from."""
    found = find_inputs([str(folder) for folder in folders], videos=False)
    per_model: dict[str, dict] = {"input": {}}
    sheet = []
    for item in found:
        name = f"{item.folder.name}/{item.relative.with_suffix('').as_posix()}"
        photo = read_batch(item.path)
        results = {label: enhance_tensor(model, photo) for label, model in models.items()}
        if zero_dce is not None:
            results[ANCHOR] = enhance_zero_dce(zero_dce, photo)
        per_model["input"][name] = figures(photo)
        for label, result in results.items():
            per_model.setdefault(label, {})[name] = figures(result)
        sheet.append([thumbnail(photo)] + [thumbnail(result) for result in results.values()])
        print(f"{name}: done", flush=True)
    result = {"folders": [folder.name for folder in folders], **grouped(per_model)}
    summaries = result["models"]
    result["added_clipped"] = {
        label: {
            group: summary[group]["clipped"] - summaries["input"][group]["clipped"]
            for group in summary
        }
        for label, summary in summaries.items()
        if label != "input"
    }
    return result, sheet


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", nargs="*", metavar="LABEL=FILE")
    parser.add_argument("--data", type=Path, default=data_root())
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, default=RESULTS / "real_photos.json")
    parser.add_argument("--sheet", type=Path, default=RESULTS / "real_photos.jpg")
    parser.add_argument("--photos", type=Path, nargs="*", default=[], metavar="DIR")
    parser.add_argument("--zero-dce", type=Path, metavar="FILE")
    parser.add_argument("--photos-sheet", type=Path, metavar="FILE")
    args = parser.parse_args(argv)
    folder = args.data / "real-dark"
    if not folder.is_dir():
        print(f"real-dark photos not found at {folder}; pass --data", flush=True)
        return 2
    torch.set_num_threads(args.threads)
    weights = parse_weights(args.weights)
    models = {label: load_model(path) for label, path in weights.items()}
    anchor_file = args.data / "anchors" / "real-dark-zerodce.json"
    anchors = json.loads(anchor_file.read_text()) if anchor_file.is_file() else None
    results = {"weights": {k: v or "shipped default" for k, v in weights.items()}}
    results["real_dark"], sheet = real_dark(models, folder, anchors)
    kodak_folder = args.data / "well-exposed" / "kodak"
    if kodak_folder.is_dir():
        results["kodak"], kodak_rows = kodak(models, kodak_folder)
        sheet += kodak_rows
    if args.photos:
        zero_dce = load_zero_dce(args.zero_dce) if args.zero_dce else None
        results["other_photos"], other_rows = other_photos(models, args.photos, zero_dce)
        if args.photos_sheet:
            contact_sheet(other_rows, args.photos_sheet)
    contact_sheet(sheet, args.sheet)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1))
    print(markdown(results))
    print(f"contact sheet: {args.sheet}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
