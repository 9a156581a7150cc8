"""Speed and peak memory of ``lowlight.enhance``, fast against full, per backend; and the
quality of the fast rendering against the full one (``fast_quality.py``), in one run.

Every measurement runs in a fresh child process (so its peak resident memory is its own): it
loads the runner of one backend (``lowlight.load_runner``), makes one untimed warm-up call
(on the whole picture for the fast quality, on one tile of it where the full quality tiles
it), then times one enhancement. The cases (backend x quality) take turns, in alternating
order from one repeat to the next, so that they share whatever else the machine is running;
the table gives each case's median time over the repeats, the median CPU time (user and
system, all threads: less sensitive than wall time to a machine shared with other work,
though waiting threads that spin count too) and the largest peak resident memory of the
child's own (``peak_memory.py``). The picture is random
dark noise; 6000x4000 is tiled automatically in full quality. Below 1.5 working sizes
``--quality fast`` renders in full (there is little to reduce), so 600x400 is the same both
ways. The ONNX model is exported into the cache (``$LOWLIGHT_CACHE``) before any timing.

    python benchmarks/enhance_speed.py [--weights FILE] [--threads 2] [--runs 3]
        [--large-runs 1] [--backends pytorch,onnxruntime] [--qualities fast,full]
        [--sizes 600x400,1920x1080,4032x3024,6000x4000] [--working-size 768]
        [--no-quality-figures]

Prints Markdown tables and writes JSON (``--json``, default
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
from peak_memory import PEAK_MB_CODE

DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "enhance_speed.json"
SIZES = ("600x400", "1920x1080", "4032x3024", "6000x4000")
NAMES = {"pytorch": "PyTorch", "onnxruntime": "ONNX Runtime"}
# Pictures above this many pixels are slow in full quality: they get --large-runs repeats.
LARGE = 2**22

_CHILD = (
    PEAK_MB_CODE
    + """
import json, resource, sys, time
import numpy as np, torch
import lowlight
from lowlight.inference import AUTO_TILE_PIXELS, DEFAULT_TILE, choose_quality
width, height, threads, weights, backend, quality, side = sys.argv[1:8]
width, height, side = int(width), int(height), int(side)
torch.set_num_threads(int(threads))
runner = lowlight.load_runner(weights or None, backend=backend)
rng = np.random.default_rng(0)
image = (rng.random((height, width, 3)) * 40).astype(np.uint8)
rendered = choose_quality(height, width, quality, side)
options = {"model": runner, "quality": quality, "working_size": side}
if rendered == "full" and width * height > AUTO_TILE_PIXELS:
    lowlight.enhance(image[:DEFAULT_TILE, :DEFAULT_TILE], **options)
else:
    lowlight.enhance(image, **options)
before = resource.getrusage(resource.RUSAGE_SELF)
start = time.perf_counter()
lowlight.enhance(image, **options)
seconds = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_SELF)
cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
result = {"seconds": seconds, "cpu_s": cpu, "peak_rss_mb": peak_mb(),
          "runner": runner.description, "rendered": rendered}
print(json.dumps(result))
"""
)


def measure(size: str, backend: str, quality: str, args: argparse.Namespace) -> dict:
    """One child process: time and peak memory of one enhancement at ``size``."""
    width, height = size.split("x")
    options = [str(args.threads), args.weights, backend, quality, str(args.working_size)]
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, width, height, *options],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{size} with {backend}, {quality}, failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def speed_rows(args: argparse.Namespace) -> list[dict]:
    """Every size, backend and quality: median seconds, CPU seconds, peak memory."""
    cases = [(b, q) for b in args.backends.split(",") for q in args.qualities.split(",")]
    rows = []
    for size in args.sizes.split(","):
        width, height = map(int, size.split("x"))
        results: dict[tuple, list[dict]] = {case: [] for case in cases}
        for repeat in range(args.large_runs if width * height > LARGE else args.runs):
            for case in cases if repeat % 2 == 0 else cases[::-1]:
                results[case].append(measure(size, *case, args))
        medians = {case: statistics.median(r["seconds"] for r in results[case]) for case in cases}
        for (backend, quality), measured in results.items():
            full = medians.get((backend, "full"))
            rows.append(
                {
                    "size": size,
                    "backend": backend,
                    "quality": quality,
                    "rendered": measured[0]["rendered"],
                    "runner": measured[0]["runner"],
                    "median_s": medians[(backend, quality)],
                    "median_cpu_s": statistics.median(r["cpu_s"] for r in measured),
                    "times_s": [r["seconds"] for r in measured],
                    "peak_rss_mb": max(r["peak_rss_mb"] for r in measured),
                    "speedup_over_full": full / medians[(backend, quality)] if full else None,
                }
            )
    return rows


def print_speed(rows: list[dict], args: argparse.Namespace, machine: dict, load: dict) -> None:
    print(
        f"lowlight.enhance on {summary(machine)} before, {load['after'][0]:.1f} after; "
        f"working size {args.working_size}"
    )
    print("| size | backend | quality | median s | x faster than full | CPU s | runs | peak MB |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        quality = row["quality"] + ("" if row["rendered"] == row["quality"] else " (= full)")
        speedup = f"{row['speedup_over_full']:.1f}" if row["speedup_over_full"] else ""
        print(
            f"| {row['size']} | {NAMES[row['backend']]} | {quality} | {row['median_s']:.3f} | "
            f"{speedup} | {row['median_cpu_s']:.2f} | {len(row['times_s'])} | "
            f"{row['peak_rss_mb']:.0f} |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default="", help="safetensors file (default: shipped)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3, help="repeats below 4 megapixels")
    parser.add_argument("--large-runs", type=int, default=1, help="repeats above")
    parser.add_argument("--backends", default="pytorch,onnxruntime")
    parser.add_argument("--qualities", default="fast,full")
    parser.add_argument("--sizes", default=",".join(SIZES))
    parser.add_argument("--working-size", type=int, default=768)
    parser.add_argument("--no-quality-figures", action="store_true", help="speed and memory only")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args(argv)
    if "onnxruntime" in args.backends.split(","):
        import lowlight

        lowlight.load_runner(args.weights or None, backend="onnxruntime")  # export, untimed
    machine = describe(args.threads)
    rows = speed_rows(args)
    load = {"before": machine["load_average"], "after": os.getloadavg()}
    print_speed(rows, args, machine, load)
    report = {
        "threads": args.threads,
        "weights": args.weights or "default",
        "working_size": args.working_size,
        "machine": machine,
        "load_average": load,
        "cases": rows,
    }
    if not args.no_quality_figures:
        import fast_quality

        report["quality"] = fast_quality.measure_all(args.weights, args.threads)
        fast_quality.print_all(report["quality"])
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
