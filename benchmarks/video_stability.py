"""Temporal stability of enhanced video: the stabilised mode against frame-by-frame enhancement.

Synthetic clips, so that the clean truth is known: a well-exposed photograph from
``skimage.data`` (enlarged 1.5x) is taken to linear light, cut into a window that pans two
pixels a frame, under-exposed 20 times and given the sensor noise of ``samples/`` (Poisson
shot noise, full white = 3000 photo-electrons, Gaussian read noise of 2.5 electrons, new in
every frame), then encoded as 8-bit sRGB. Three clips at ``--size`` (default 384x256, 24 fps):

- pan: 48 frames over one photo;
- cut: 16 frames over one photo, then 16 over another (a scene cut at frame 16);
- static: 16 frames of one view, only the noise changing.

Each is enhanced frame by frame (``time_constant=0``, the network on every frame, no
temporal denoising), stabilised with the network on every frame and no temporal denoising,
and stabilised as ``enhance_video`` does by default (on frames rendered fast, the network on
every ``--network-interval``-th frame, the frames between through its transforms; frames
denoised over time), through ``TemporalStabiliser``, quantised to 8 bits (before any video
encoding, which would add its own differences). Reported:

- flicker: mean |change of the mean level| between consecutive frames (levels in [0, 1]),
  and its ratio to the input's flicker times the brightening gain (mean output level over
  mean input level); the bar is 1.5;
- MABD: mean absolute brightness (Rec. 601 luma) difference between consecutive frames, per
  pixel, beside the clean clip's (noise and flicker both raise it);
- after the cut: the level of the first frames of the new scene over their frame-by-frame
  level (1.00 = the new scene's own tone at once), and the frame the cut was found at;
- temporal noise: the per-pixel standard deviation over the static clip, averaged, also
  divided by the gain (the input's own is the reference);
- frames per second of ``lowlight.enhance_video`` on a 1280x720 clip (decoding, enhancing,
  H.264 encoding), modes interleaved in one process so they share the machine's load,
  median of ``--repeats``; and of ``lowlight enhance`` on a 1280x720 clip of
  ``--command-frames`` frames, loading included, as a user runs it (the stabilised mode),
  with its CPU time per frame (all threads; less sensitive than wall time to other work);
- peak memory (the child's own, ``peak_memory.py``) of one child process per run enhancing
  a 320x180 clip of ``--frames`` frames, and one ten times longer; the bar is 1.2x.

    python benchmarks/video_stability.py [--weights FILE] [--threads 2] [--size 384x256]
        [--quality auto|fast|full] [--working-size 384] [--network-interval 2]
        [--stability-only]

``--quality``, ``--working-size`` and ``--network-interval`` are those of ``enhance_video``
(defaults as there) and apply to every clip: at the default 384x256 the clips are rendered in
full (the interval then changes nothing); at ``--size 1280x720`` (the photos are enlarged as
needed) ``auto`` renders them fast.

Prints Markdown tables (with the machine they ran on, ``machine.py``) and writes JSON to
``benchmarks/results/video_stability.json``. Needs PyAV (``lowlight[video]``) and
scikit-image (a test dependency).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import torch
import torch.nn.functional as F
from data_location import RESULTS
from kornia.color import linear_rgb_to_rgb, rgb_to_linear_rgb
from machine import describe, summary
from peak_memory import PEAK_MB_CODE

import lowlight
from lowlight.imageio.arrays import from_batch
from lowlight.imageio.samples import to_samples
from lowlight.video import TemporalStabiliser
from lowlight.video.pipeline import NETWORK_INTERVAL, VIDEO_WORKING_SIZE

RATE = 24
EXPOSURE = 1 / 20
FULL_WELL = 3000.0  # photo-electrons at full white, as scripts/make_samples.py
READ_NOISE = 2.5
PAN_STEP = 2
CUT = 16  # the frame the cut clip's second scene starts at
LUMA = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
# mode -> (time constant, None for the default; the network on every frame, or on as many as
# --network-interval says; temporal denoising at its default, or none)
MODES = {
    "frame by frame": (0.0, True, False),
    "stabilised, network every frame, not denoised": (None, True, False),
    "stabilised": (None, False, True),
}
FLICKER_BAR, MEMORY_BAR = 1.5, 1.2

_MEMORY_CHILD = (
    PEAK_MB_CODE
    + """
import json, sys, torch, lowlight
torch.set_num_threads(int(sys.argv[3]))
model = lowlight.load_model(sys.argv[4] or None)
lowlight.enhance_video(sys.argv[1], sys.argv[2], model=model)
print(json.dumps({"peak_rss_mb": peak_mb()}))
"""
)


def photo(name: str, scale: float = 1.5, at_least: tuple[int, int] = (0, 0)) -> torch.Tensor:
    """A ``skimage.data`` photograph in linear light, (3, H, W), enlarged ``scale`` times, or
    more where it must be at least ``at_least`` (H, W)."""
    import skimage.data  # a test dependency, needed only here

    picture = torch.from_numpy(getattr(skimage.data, name)()).permute(2, 0, 1)[None] / 255.0
    needed = max(want / have for want, have in zip(at_least, picture.shape[-2:], strict=True))
    scale = max(scale, needed)
    size = [
        max(round(side * scale), want)
        for side, want in zip(picture.shape[-2:], at_least, strict=True)
    ]
    return rgb_to_linear_rgb(F.interpolate(picture, size=size, mode="bicubic").clamp(0, 1))[0]


def pan(linear: torch.Tensor, frames: int, size: tuple[int, int], step: int) -> torch.Tensor:
    """``frames`` windows of ``size`` (H, W) moving ``step`` pixels right each: (N, 3, H, W)."""
    height, width = size
    if width + step * frames > linear.shape[-1] or height > linear.shape[-2]:
        raise SystemExit(f"the photo {tuple(linear.shape)} is too small for this clip")
    return torch.stack([linear[:, :height, i * step : i * step + width] for i in range(frames)])


def underexpose(clean: torch.Tensor, seed: int) -> torch.Tensor:
    """The short, noisy exposure of linear ``clean`` frames, 8-bit sRGB as floats in [0, 1]."""
    generator = torch.Generator().manual_seed(seed)
    electrons = torch.poisson(clean * EXPOSURE * FULL_WELL, generator=generator)
    electrons += torch.randn(clean.shape, generator=generator) * READ_NOISE
    encoded = linear_rgb_to_rgb((electrons / FULL_WELL).clamp(0, 1))
    return (encoded * 255).round() / 255


def clips(size: tuple[int, int]) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """name -> (clean sRGB frames, dark noisy frames), each (N, 3, H, W) in [0, 1]."""
    height, width = size
    room = (height, width + PAN_STEP * 48)
    coffee, astronaut = photo("coffee", at_least=room), photo("astronaut", at_least=room)
    chelsea = photo("chelsea", at_least=size)
    linear = {
        "pan": pan(coffee, 48, size, PAN_STEP),
        "cut": torch.cat([pan(coffee, CUT, size, PAN_STEP), pan(astronaut, CUT, size, PAN_STEP)]),
        "static": pan(chelsea, 16, size, 0),
    }
    return {
        name: (linear_rgb_to_rgb(frames), underexpose(frames, seed))
        for seed, (name, frames) in enumerate(linear.items())
    }


def mode_options(mode: str, rendering: dict) -> dict:
    """``enhance_video``'s time constant, network interval and denoising for ``mode``."""
    time_constant, every_frame, denoised = MODES[mode]
    options = {} if time_constant is None else {"time_constant": time_constant}
    options["network_interval"] = 1 if every_frame else rendering["network_interval"]
    return options if denoised else options | {"temporal_denoise": 0.0}


def enhance_frames(model, frames: torch.Tensor, mode: str, rendering: dict) -> tuple:
    """Frames enhanced in order as ``enhance_video`` does, quantised to 8 bits; the cuts."""
    options = mode_options(mode, rendering)
    size = {key: rendering[key] for key in ("quality", "working_size")}
    results = []
    with TemporalStabiliser(model, **options) as stabiliser:
        for index, frame in enumerate(frames):
            enhanced = stabiliser.enhance(frame[None], index / RATE, **size)
            results.append(torch.from_numpy(to_samples(from_batch(enhanced), 8)))
    return torch.stack(results).permute(0, 3, 1, 2).float() / 255, stabiliser.cuts


def flicker(frames: torch.Tensor) -> float:
    return float(frames.mean(dim=(1, 2, 3)).diff().abs().mean())


def jitter(frames: torch.Tensor) -> float:
    return float(frames.mean(dim=(1, 2, 3)).diff(n=2).abs().mean())


def mabd(frames: torch.Tensor) -> float:
    luma = (frames * LUMA).sum(dim=1)
    return float((luma[1:] - luma[:-1]).abs().mean())


def stability(model, size: tuple[int, int], rendering: dict) -> list[dict]:
    rows = []
    for name, (clean, dark) in clips(size).items():
        base = {"clip": name, "frames": len(dark)}
        for mode, frames in (("clean", clean), ("input", dark)):
            rows.append(
                {
                    **base,
                    "mode": mode,
                    "flicker": flicker(frames),
                    "jitter": jitter(frames),
                    "mabd": mabd(frames),
                }
            )
        input_row = rows[-1]
        if name == "static":
            input_row["temporal_std"] = float(dark.std(dim=0).mean())
        levels = {}
        for mode in MODES:
            start = time.perf_counter()
            output, cuts = enhance_frames(model, dark, mode, rendering)
            seconds = time.perf_counter() - start
            levels[mode] = output.mean(dim=(1, 2, 3))
            gain = float(output.mean() / dark.mean())
            row = {**base, "mode": mode, "flicker": flicker(output), "jitter": jitter(output)}
            row |= {"mabd": mabd(output), "gain": gain}
            row |= {"ratio": row["flicker"] / (input_row["flicker"] * gain)}
            row |= {"jitter_ratio": row["jitter"] / (input_row["jitter"] * gain)}
            row |= {"cuts": cuts, "seconds_per_frame": seconds / len(dark)}
            if name == "static":
                row["temporal_std"] = float(output.std(dim=0).mean())
            rows.append(row)
        if name == "cut":
            after = levels["stabilised"][CUT : CUT + 6] / levels["frame by frame"][CUT : CUT + 6]
            rows[-1]["after_cut"] = [round(float(value), 4) for value in after]
    return rows


def write_clip(path: Path, frames: torch.Tensor) -> None:
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=RATE, options={"crf": "12"})
        stream.height, stream.width = frames.shape[-2:]
        stream.pix_fmt = "yuv420p"
        for index, frame in enumerate(frames):
            rgb = (frame.permute(1, 2, 0) * 255).round().byte().numpy()
            video_frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            video_frame.pts, video_frame.time_base = index, Fraction(1, RATE)
            container.mux(stream.encode(video_frame))
        container.mux(stream.encode(None))


def speed(model, folder: Path, frames: int, repeats: int, rendering: dict) -> dict:
    """Median frames per second of enhance_video at 1280x720, modes interleaved."""
    clip, first = folder / "720p.mp4", folder / "first.mp4"
    dark = underexpose(pan(photo("rocket", 2.2), frames, (720, 1280), PAN_STEP), 7)
    write_clip(clip, dark)
    write_clip(first, dark[:1])
    size = {key: rendering[key] for key in ("quality", "working_size")}
    lowlight.enhance_video(first, folder / "warm-up.mp4", model=model, **size)
    rates: dict[str, list[float]] = {mode: [] for mode in MODES}
    for _ in range(repeats):
        for mode in MODES:
            options = mode_options(mode, rendering) | {"quality": rendering["quality"]}
            options["working_size"] = rendering["working_size"]
            start = time.perf_counter()
            lowlight.enhance_video(clip, folder / "out.mp4", model=model, **options)
            rates[mode].append(frames / (time.perf_counter() - start))
    return {mode: statistics.median(values) for mode, values in rates.items()}


def command_speed(folder: Path, frames: int, threads: int, weights: str, rendering: dict) -> dict:
    """Frames per second of ``lowlight enhance`` on a 1280x720 clip, loading included."""
    clip = folder / "command.mp4"
    write_clip(clip, underexpose(pan(photo("rocket", 2.2), frames, (720, 1280), PAN_STEP), 9))
    command = [sys.executable, "-m", "lowlight", "enhance", str(clip), "-o", str(folder / "cli")]
    command += ["--quiet", "--quality", rendering["quality"]]
    command += ["--working-size", str(rendering["working_size"])]
    command += ["--weights", weights] if weights else []
    environment = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=environment)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"lowlight enhance failed:\n{done.stderr}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return {
        "frames": frames,
        "seconds": seconds,
        "frames_per_second": frames / seconds,
        "cpu_s_per_frame": cpu / frames,
    }


def memory(folder: Path, frames: int, threads: int, weights: str) -> dict:
    """Peak resident memory of a child enhancing a 320x180 clip, and one ten times longer."""
    dark = underexpose(pan(photo("rocket", 1.5), 10 * frames, (180, 320), 0), 8)
    result = {}
    for length in (frames, 10 * frames):
        clip = folder / f"clip-{length}.mp4"
        write_clip(clip, dark[:length])
        args = [str(clip), str(folder / "out.mp4"), str(threads), weights]
        done = subprocess.run(
            [sys.executable, "-c", _MEMORY_CHILD, *args], capture_output=True, text=True
        )
        if done.returncode != 0:
            raise SystemExit(f"the memory run failed:\n{done.stderr}")
        result[length] = json.loads(done.stdout.strip().splitlines()[-1])["peak_rss_mb"]
    return result


def report(
    rows: list[dict],
    rates: dict | None,
    command: dict | None,
    peaks: dict | None,
    machine: dict,
    size: tuple,
    rendering: dict,
) -> None:
    quality = f"quality {rendering['quality']}, working size {rendering['working_size']}"
    quality += f", network interval {rendering['network_interval']} (fast frames)"
    print(f"Temporal stability at {size[1]}x{size[0]}, {RATE} fps, {quality}")
    print(f"on {summary(machine)}")
    print(
        "| clip | mode | flicker | gain | flicker / (input's x gain) | jitter "
        "| jitter / (input's x gain) | MABD | cuts |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        ratio = f"{row['ratio']:.2f}" if "ratio" in row else ""
        jitter_ratio = f"{row['jitter_ratio']:.2f}" if "jitter_ratio" in row else ""
        gain = f"{row['gain']:.2f}" if "gain" in row else ""
        print(
            f"| {row['clip']} | {row['mode']} | {row['flicker']:.5f} | {gain} | {ratio} "
            f"| {row['jitter']:.5f} | {jitter_ratio} | {row['mabd']:.4f} | {row.get('cuts', '')} |"
        )
    for row in rows:
        if "after_cut" in row:
            print(f"\nAfter the cut (frame {CUT}), stabilised level / frame-by-frame level, "
                  f"frames {CUT}-{CUT + 5}: {row['after_cut']}")  # fmt: skip
    static = [row for row in rows if "temporal_std" in row]
    print("\n| static clip | temporal std | / gain |\n|---|---|---|")
    for row in static:
        print(f"| {row['mode']} | {row['temporal_std']:.4f} "
              f"| {row['temporal_std'] / row.get('gain', 1.0):.4f} |")  # fmt: skip
    if rates is None:
        return
    print("\n| 1280x720 | frames per second |\n|---|---|")
    for mode, rate in rates.items():
        print(f"| {mode} | {rate:.2f} |")
    print(f"| lowlight enhance, {command['frames']} frames, loading included | "
          f"{command['frames_per_second']:.2f} |")  # fmt: skip
    print(f"\nlowlight enhance: {command['cpu_s_per_frame']:.3f} CPU seconds per frame (user "
          "and system, all threads, loading included)")  # fmt: skip
    short, long = sorted(peaks)
    ratio = peaks[long] / peaks[short]
    print(f"\nPeak memory (320x180): {short} frames {peaks[short]:.0f} MB, {long} frames "
          f"{peaks[long]:.0f} MB: {ratio:.2f}x (bar {MEMORY_BAR}x)")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default="", help="safetensors file (default: shipped)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--size", default="384x256", help="WxH of the stability clips")
    parser.add_argument("--speed-frames", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--frames", type=int, default=6, help="memory: the short clip")
    parser.add_argument("--command-frames", type=int, default=48)
    parser.add_argument("--quality", choices=("auto", "fast", "full"), default="auto")
    parser.add_argument("--working-size", type=int, default=VIDEO_WORKING_SIZE)
    parser.add_argument("--network-interval", type=int, default=NETWORK_INTERVAL)
    parser.add_argument("--stability-only", action="store_true", help="leave out speed and memory")
    parser.add_argument("--json", type=Path, help="default: results/video_stability[-SIZE].json")
    args = parser.parse_args(argv)
    default_size = parser.get_default("size")
    suffix = (
        ""
        if args.size == default_size and args.quality == "auto"
        else f"-{args.size}-{args.quality}"
    )
    args.json = args.json or RESULTS / f"video_stability{suffix}.json"
    torch.set_num_threads(args.threads)
    width, height = (int(side) for side in args.size.split("x"))
    model = lowlight.load_model(args.weights or None)
    rendering = {
        "quality": args.quality,
        "working_size": args.working_size,
        "network_interval": args.network_interval,
    }
    with torch.inference_mode():
        rows = stability(model, (height, width), rendering)
    rates = command = peaks = None
    with tempfile.TemporaryDirectory() as folder:
        if not args.stability_only:
            rates = speed(model, Path(folder), args.speed_frames, args.repeats, rendering)
            command = command_speed(
                Path(folder), args.command_frames, args.threads, args.weights, rendering
            )
            peaks = memory(Path(folder), args.frames, args.threads, args.weights)
    machine = describe(args.threads)
    report(rows, rates, command, peaks, machine, (height, width), rendering)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "weights": args.weights or "default",
        "threads": args.threads,
        "machine": machine,
        "size": args.size,
        "quality": args.quality,
        "working_size": args.working_size,
        "network_interval": args.network_interval,
        "stability": rows,
        "bars": {"flicker_ratio": FLICKER_BAR, "memory_ratio": MEMORY_BAR},
    }
    if rates is not None:
        result |= {
            "frames_per_second_1280x720": rates,
            "command_1280x720": command,
            "peak_rss_mb_320x180": peaks,
        }
    args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
