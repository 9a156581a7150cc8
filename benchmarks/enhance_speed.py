"""Speed and peak memory of ``lowlight.enhance`` on photos of common sizes.

Each case runs in a fresh child process (so its peak resident memory is its own): the model
is loaded, one warm-up call is made on a small image, then the image is enhanced ``--runs``
times and the median wall time is reported. 6000x4000 is tiled automatically.

    python benchmarks/enhance_speed.py [--weights FILE] [--threads 2] [--runs 3]

Prints a Markdown table and writes JSON (``--json``, default
``benchmarks/results/enhance_speed.json``).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
from pathlib import Path

DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "enhance_speed.json"
SIZES = ((600, 400), (1920, 1080), (6000, 4000))

_CHILD = """
import json, statistics, sys, time
import numpy as np, torch
import lowlight
width, height, runs, threads, weights = sys.argv[1:6]
torch.set_num_threads(int(threads))
model = lowlight.load_model(weights or None)
rng = np.random.default_rng(0)
image = (rng.random((int(height), int(width), 3)) * 40).astype(np.uint8)
lowlight.enhance(image[:64, :64], model=model)
times = []
for _ in range(int(runs)):
    start = time.perf_counter()
    lowlight.enhance(image, model=model)
    times.append(time.perf_counter() - start)
print(json.dumps({"median_s": statistics.median(times), "runs": len(times)}))
"""


def run_case(width: int, height: int, runs: int, threads: int, weights: str) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    args = [str(width), str(height), str(runs), str(threads), weights]
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{width}x{height} failed:\n{done.stderr}")
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = json.loads(done.stdout.strip().splitlines()[-1])
    # ru_maxrss of children is the largest child so far: cases run from small to large.
    result["peak_rss_mb"] = max(peak_kib, before) / 1024
    return {"size": f"{width}x{height}", **result}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default="", help="safetensors file (default: shipped)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args(argv)
    rows = []
    for width, height in SIZES:
        runs = 1 if width * height > 2**22 else args.runs
        rows.append(run_case(width, height, runs, args.threads, args.weights))
    print(f"lowlight.enhance, {args.threads} threads, {platform.processor() or platform.machine()}")
    print("| size | median s | runs | peak RSS MB |\n|---|---|---|---|")
    for row in rows:
        size, seconds, peak = row["size"], row["median_s"], row["peak_rss_mb"]
        print(f"| {size} | {seconds:.3f} | {row['runs']} | {peak:.0f} |")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    report = {"threads": args.threads, "weights": args.weights or "default", "cases": rows}
    args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
