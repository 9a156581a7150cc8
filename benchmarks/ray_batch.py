"""Throughput of ``lowlight enhance --engine ray`` (one Ray instance on this machine, 2 workers)
against the one-machine command, on the same folder, in one run.

The folder is LOL-v1 eval15's dark pictures (600x400), copied under new names until there are
``--images`` of them (generated dark pictures where the data is absent). Each command runs as a
user runs it, in a fresh process: ``lowlight enhance FOLDER -o OUT -q``, with and without
``--engine ray --workers 2``, on the default backend. Each is timed on the whole folder and on
one picture of it; the difference gives the rate once running (images per second) and the
fixed cost (starting the process, and for Ray its instance and workers, each loading the
model). The two engines take turns, and their results are checked to be the same files.

    python benchmarks/ray_batch.py [--images 60] [--workers 2] [--backend auto]

Prints a Markdown table and writes JSON (``--json``, default
``benchmarks/results/ray_batch.json``).
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from data_location import RESULTS, lol_root
from PIL import Image

DEFAULT_JSON = RESULTS / "ray_batch.json"


def make_folder(folder: Path, images: int) -> str:
    """Fill ``folder`` with ``images`` dark pictures; what they are, in words."""
    folder.mkdir(parents=True)
    sources = sorted((lol_root() / "eval15" / "low").glob("*.png"))
    for index in range(images):
        target = folder / f"{index:04d}.png"
        if sources:
            shutil.copyfile(sources[index % len(sources)], target)
        else:
            dark = np.random.default_rng(index).integers(0, 40, (400, 600, 3), dtype=np.uint8)
            Image.fromarray(dark).save(target)
    if sources:
        return f"LOL-v1 eval15 dark pictures (600x400), {len(sources)} repeated"
    return "generated dark noise pictures (600x400)"


def timed_run(inputs: list[Path], out: Path, options: list[str]) -> float:
    """Wall seconds of one ``lowlight enhance`` process."""
    command = [sys.executable, "-m", "lowlight", "enhance", *map(str, inputs), "-o", str(out)]
    start = time.perf_counter()
    done = subprocess.run([*command, "-q", *options], capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")
    return seconds


def same_files(first: Path, second: Path) -> bool:
    names = sorted(path.name for path in first.iterdir())
    if names != sorted(path.name for path in second.iterdir()):
        return False
    _, mismatch, errors = filecmp.cmpfiles(first, second, names, shallow=False)
    return not mismatch and not errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=60, help="pictures in the folder")
    parser.add_argument("--workers", type=int, default=2, help="Ray workers (1 CPU each)")
    parser.add_argument("--backend", default="auto", help="auto, pytorch or onnxruntime")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args(argv)
    engines = {
        "local": ["--backend", args.backend],
        "ray": ["--backend", args.backend, "--engine", "ray", "--workers", str(args.workers)],
    }
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "photos"
        pictures = make_folder(folder, args.images)
        first = sorted(folder.iterdir())[0]
        # Untimed: the first run of the default backend may export the model to ONNX.
        timed_run([first], Path(scratch) / "warm-up", engines["local"])
        seconds: dict[str, dict[str, float]] = {name: {} for name in engines}
        for turn, name in enumerate(["local", "ray", "ray", "local"]):
            case = "one" if turn < 2 else "all"
            inputs = [first] if case == "one" else [folder]
            out = Path(scratch) / f"{name}-{case}"
            seconds[name][case] = timed_run(inputs, out, engines[name])
        identical = same_files(Path(scratch) / "local-all", Path(scratch) / "ray-all")
    rows = {name: _rates(times, args.images) for name, times in seconds.items()}
    load = {"before": load_before, "after": os.getloadavg()}
    cpu = _cpu_name()
    print(
        f"lowlight enhance on {args.images} {pictures}; {os.cpu_count()} CPUs ({cpu}), load "
        f"average {load['before'][0]:.1f} before and {load['after'][0]:.1f} after; "
        f"backend {args.backend}; same files from both engines: {'yes' if identical else 'NO'}"
    )
    print("| engine | whole folder s | images/s, whole run | images/s, once running | fixed s |")
    print("|---|---|---|---|---|")
    for name, row in rows.items():
        label = "one machine" if name == "local" else f"Ray, {args.workers} workers"
        print(
            f"| {label} | {row['all_s']:.1f} | {row['images_per_s']:.2f} | "
            f"{row['running_images_per_s']:.2f} | {row['fixed_s']:.1f} |"
        )
    report = {
        "images": args.images,
        "pictures": pictures,
        "workers": args.workers,
        "backend": args.backend,
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "load_average": load,
        "identical_files": identical,
        "engines": rows,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1))
    return 0 if identical else 1


def _cpu_name() -> str:
    """The processor's model name (Linux), else its architecture."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def _rates(times: dict[str, float], images: int) -> dict[str, float]:
    """Whole-run and running throughput, and the fixed cost, from the two timings."""
    per_image = (times["all"] - times["one"]) / (images - 1)
    return {
        "one_s": times["one"],
        "all_s": times["all"],
        "images_per_s": images / times["all"],
        "running_images_per_s": 1 / per_image,
        "fixed_s": times["one"] - per_image,
    }


if __name__ == "__main__":
    sys.exit(main())
