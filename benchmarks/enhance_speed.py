"""Speed and peak memory of ``lowlight.enhance`` on photos of common sizes, per backend.

Every measurement runs in a fresh child process (so its peak resident memory is its own): it
loads the runner of one backend (``lowlight.load_runner``), makes one untimed warm-up call on
the picture (on one tile of it where the picture is tiled), then times one enhancement. The
backends take turns, in alternating order from one repeat to the next, so that they share
whatever else the machine is running; the table gives each backend's median time over the
repeats, the median CPU time (user and system, all threads: less sensitive than wall time to
a machine shared with other work, though waiting threads that spin count too) and the largest
peak. 6000x4000 is tiled automatically. The ONNX model is exported
into the cache (``$LOWLIGHT_CACHE``) before any timing.

    python benchmarks/enhance_speed.py [--weights FILE] [--threads 2] [--runs 5] [--large-runs 2]
        [--backends pytorch,onnxruntime] [--sizes 600x400,1920x1080,6000x4000]

Prints a Markdown table and writes JSON (``--json``, default
``benchmarks/results/enhance_speed.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from machine import describe, summary

DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "enhance_speed.json"
SIZES = ("600x400", "1920x1080", "6000x4000")
NAMES = {"pytorch": "PyTorch", "onnxruntime": "ONNX Runtime"}
# Pictures above this many pixels are enhanced in tiles, slowly: they get --large-runs repeats.
LARGE = 2**22

_CHILD = """
import json, resource, sys, time
import numpy as np, torch
import lowlight
from lowlight.inference import AUTO_TILE_PIXELS, DEFAULT_TILE
width, height, threads, weights, backend = sys.argv[1:6]
width, height = int(width), int(height)
torch.set_num_threads(int(threads))
runner = lowlight.load_runner(weights or None, backend=backend)
rng = np.random.default_rng(0)
image = (rng.random((height, width, 3)) * 40).astype(np.uint8)
side = DEFAULT_TILE if width * height > AUTO_TILE_PIXELS else max(width, height)
lowlight.enhance(image[:side, :side], model=runner)
before = resource.getrusage(resource.RUSAGE_SELF)
start = time.perf_counter()
lowlight.enhance(image, model=runner)
seconds = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_SELF)
cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
peak_mb = after.ru_maxrss / 1024
result = {"seconds": seconds, "cpu_s": cpu, "peak_rss_mb": peak_mb, "runner": runner.description}
print(json.dumps(result))
"""


def measure(size: str, backend: str, threads: int, weights: str) -> dict:
    """One child process: time and peak memory of one enhancement at ``size``."""
    width, height = size.split("x")
    args = [width, height, str(threads), weights, backend]
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{size} with {backend} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default="", help="safetensors file (default: shipped)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5, help="repeats below 4 megapixels")
    parser.add_argument("--large-runs", type=int, default=2, help="repeats above")
    parser.add_argument("--backends", default="pytorch,onnxruntime")
    parser.add_argument("--sizes", default=",".join(SIZES))
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args(argv)
    backends = args.backends.split(",")
    if "onnxruntime" in backends:
        import lowlight

        lowlight.load_runner(args.weights or None, backend="onnxruntime")  # export, untimed
    machine = describe(args.threads)
    rows = []
    for size in args.sizes.split(","):
        width, height = map(int, size.split("x"))
        results: dict[str, list[dict]] = {backend: [] for backend in backends}
        for repeat in range(args.large_runs if width * height > LARGE else args.runs):
            for backend in backends if repeat % 2 == 0 else backends[::-1]:
                results[backend].append(measure(size, backend, args.threads, args.weights))
        first = statistics.median(result["seconds"] for result in results[backends[0]])
        for backend, measured in results.items():
            median = statistics.median(result["seconds"] for result in measured)
            rows.append(
                {
                    "size": size,
                    "backend": backend,
                    "runner": measured[0]["runner"],
                    "median_s": median,
                    "median_cpu_s": statistics.median(result["cpu_s"] for result in measured),
                    "times_s": [result["seconds"] for result in measured],
                    "peak_rss_mb": max(result["peak_rss_mb"] for result in measured),
                    "relative_to_first": median / first,
                }
            )
    load = {"before": machine["load_average"], "after": os.getloadavg()}
    print(f"lowlight.enhance on {summary(machine)} before, {load['after'][0]:.1f} after")
    first = NAMES[backends[0]]
    print(f"| size | backend | median s | x {first} | CPU s | runs | peak RSS MB |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['size']} | {NAMES[row['backend']]} | {row['median_s']:.3f} | "
            f"{row['relative_to_first']:.2f} | {row['median_cpu_s']:.2f} | "
            f"{len(row['times_s'])} | {row['peak_rss_mb']:.0f} |"
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "threads": args.threads,
        "weights": args.weights or "default",
        "machine": machine,
        "load_average": load,
        "cases": rows,
    }
    args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
