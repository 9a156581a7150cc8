"""``lowlight enhance``: enhance image and video files, folders and globs into an output folder."""

from __future__ import annotations

import argparse
import functools
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tqdm import tqdm

from lowlight.cluster.locations import is_uri
from lowlight.commands.closing_line import summary
from lowlight.commands.enhance_on_ray import add_ray_options, check_ray_options, run_on_ray
from lowlight.commands.options import add_model_options, add_quality_options, working_size_of
from lowlight.commands.quality_note import QualityNote
from lowlight.devices import parse_device
from lowlight.errors import LowlightError
from lowlight.image_files import (
    Controls,
    check_output_folder,
    enhance_image_file,
    folders_for,
    output_extension,
)
from lowlight.imageio import Job, find_inputs, plan_jobs
from lowlight.imageio.batch import is_video
from lowlight.imageio.pyav import import_av
from lowlight.imageio.video_writer import DEFAULT_CRF, DEFAULT_PRESET, PRESETS
from lowlight.inference import check_controls, check_working_size, choose_tile
from lowlight.models import UnifiedLowLightEnhancer
from lowlight.runners import BACKENDS, Runner, TorchRunner, load_runner

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``lowlight enhance`` (images and videos) to the CLI's subparsers, handled by ``run``."""
    parser = subparsers.add_parser(
        "enhance",
        help="enhance dark images and videos into an output folder",
        description="Enhance image and video files, folders (searched recursively) and glob "
        "patterns. Results keep their names relative to each input folder, their bit depth "
        "(16-bit PNG and TIFF, 10- and 12-bit HEIC and AVIF), alpha, ICC profile and EXIF "
        "where the format allows; each is written atomically and no input is ever "
        "overwritten. HEIC/HEIF, AVIF at 10 and 12 bits and camera RAW (dng, cr2, cr3, nef, "
        "arw, raf, orf, rw2, ...; developed from linear light, results 16-bit TIFF) need "
        "lowlight[formats]. Videos (mp4, mov, mkv, avi, "
        "webm; needs lowlight[video]) become H.264 in the same container (WebM: MP4) with "
        "their frame timing, rotation and sound, and a tone held steady from frame to frame. "
        "A file that fails is reported on one line and the rest carry on; the exit status is "
        "then 1. On a terminal a progress bar runs over the files (and the frames of a "
        "video); the last line of output counts the results. --engine ray spreads the "
        "images over the workers of a Ray cluster (needs lowlight[ray]).",
    )
    parser.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="image or video file, folder or glob pattern"
    )
    parser.add_argument(
        "-o", "--output", required=True, metavar="OUTDIR", help="folder to write results to"
    )
    add_model_options(parser)
    add_quality_options(parser, clips=True)
    parser.add_argument(
        "--exposure",
        type=float,
        default=0.0,
        metavar="EV",
        help="stops relative to the model's own exposure (default 0: automatic; +1 doubles "
        "the result's light, -1 halves it)",
    )
    parser.add_argument(
        "--strength",
        type=float,
        default=1.0,
        metavar="S",
        help="from 0 (the input unchanged) to 1 (the full enhancement, the default)",
    )
    parser.add_argument(
        "--crf",
        type=int,
        default=DEFAULT_CRF,
        metavar="Q",
        help=f"video quality: x264's constant rate factor, 0 (lossless) to 51 (default "
        f"{DEFAULT_CRF}, close to transparent; +6 about halves the size)",
    )
    parser.add_argument(
        "--preset",
        choices=PRESETS,
        default=DEFAULT_PRESET,
        metavar="NAME",
        help=f"video encoding speed: x264's preset, {', '.join(PRESETS)} (default "
        f"{DEFAULT_PRESET}, made for real time; slower ones make smaller files at the same "
        "--crf)",
    )
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default cpu)")
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="auto",
        help="what runs the model: onnxruntime (the onnx extra, CPU only; the model is "
        "exported to ONNX once per weights into $LOWLIGHT_CACHE or the user cache folder), "
        "pytorch, or auto (the default): onnxruntime on the CPU when installed, else pytorch",
    )
    parser.add_argument(
        "--format",
        metavar="EXT",
        help="write every image in this format (png, jpg, tif, webp, avif, heic, ...); "
        "default: the input's own, and 16-bit tif for camera RAW",
    )
    parser.add_argument(
        "--allow-same-folder",
        action="store_true",
        help="allow OUTDIR to be an input folder; results whose name an input already has "
        "get an '-enhanced' suffix",
    )
    parser.add_argument(
        "--skip-existing",
        action="store_true",
        help="leave out inputs whose result is already in OUTDIR (results are written "
        "atomically, so one that is there is complete): a stopped run resumes",
    )
    add_ray_options(parser)
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress bar and no summary line (failures are still reported)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Enhance every input; 0 if all succeeded, 1 if any file failed.

    Unless ``--quiet``, one line on stderr names the backend (``lowlight enhance: backend
    ONNX Runtime 1.20.1 (cpu, 2 threads)``), a bar over the files is shown on a terminal
    (stderr) and a summary line ends the output on stdout: ``73 enhanced, 0 failed -> out/
    in 56 s``.
    """
    start = time.perf_counter()
    check_ray_options(args)
    if args.engine == "ray":
        return run_on_ray(args, _say(args.quiet))
    uris = [name for name in (*args.inputs, args.output) if is_uri(name)]
    if uris:
        raise LowlightError(f"{uris[0]} is a URI: URIs are read and written with --engine ray")
    choose_tile(1, 1, args.tile)  # reject a bad --tile or control before any work
    check_controls(args.exposure, args.strength)
    if args.working_size is not None:  # the defaults are in range
        check_working_size(args.working_size)
    if not 0 <= args.crf <= 51:
        raise LowlightError(f"--crf must be between 0 and 51, got {args.crf}")
    extension = output_extension(args.format)
    output = Path(args.output)
    jobs = plan_jobs(
        find_inputs(args.inputs, exclude=output), output, extension, args.allow_same_folder
    )
    skipped = 0
    if args.skip_existing:
        unfinished = [job for job in jobs if not job.target.is_file()]
        jobs, skipped = unfinished, len(jobs) - len(unfinished)
        if not jobs:
            if not args.quiet:
                print(summary(0, 0, output, time.perf_counter() - start, skipped))
            return 0
    videos = sum(is_video(job.source) for job in jobs)
    if videos:
        import_av()  # without PyAV, one line saying how to install it, before any work
    say = _say(args.quiet)
    # Videos run on PyTorch (``_video_model``): without images, no other backend is loaded.
    backend = args.backend if videos < len(jobs) else "pytorch"
    check_output_folder(output)
    runner = load_runner(args.weights, backend, parse_device(args.device), say=say)
    video_model = _video_model(runner, args) if videos else None
    say(f"backend {runner.description}")
    note = QualityNote(args.quality, say)
    failed = 0
    # disable=None: the bar is drawn on a terminal only. It advances when a file is done.
    unit = "file" if videos else "image"
    bar = tqdm(total=len(jobs), desc="enhance", unit=unit, disable=True if args.quiet else None)
    with bar:
        for job in jobs:
            try:
                _enhance_file(job, runner, video_model, args, note)
            except LowlightError as exc:
                failed += 1
                _report(job, str(exc))
            except (RuntimeError, ValueError, OSError, MemoryError) as exc:
                failed += 1
                _report(job, f"{type(exc).__name__}: {exc}")
            bar.update()
    if failed:
        print(f"lowlight enhance: {failed} of {len(jobs)} {unit}s failed", file=sys.stderr)
    if not args.quiet:
        seconds = time.perf_counter() - start
        print(summary(len(jobs) - failed, failed, output, seconds, skipped))
    return 1 if failed else 0


def _say(quiet: bool) -> Callable[[str], None]:
    """Where notes go: one line each on stderr, or nowhere with ``--quiet``."""

    def say(line: str) -> None:
        if not quiet:
            tqdm.write(f"lowlight enhance: {line}", file=sys.stderr)

    return say


def _video_model(runner: Runner, args: argparse.Namespace) -> UnifiedLowLightEnhancer:
    """The PyTorch network that videos run on, whatever the backend: their steady tone
    averages the network's inner global decisions, which an ONNX graph does not expose."""
    if isinstance(runner, TorchRunner):
        return runner.model
    from lowlight.weights import load_model

    return load_model(args.weights, device=parse_device(args.device))


def _enhance_file(
    job: Job,
    runner: Runner,
    video_model: UnifiedLowLightEnhancer | None,
    args: argparse.Namespace,
    note: QualityNote,
) -> None:
    if video_model is not None and is_video(job.source):
        if not note.said:
            from lowlight.imageio.video_reader import VideoReader

            with VideoReader(job.source) as reader:
                size = working_size_of(args, clip=True)
                note(job.source, reader.info.height, reader.info.width, size)
        _enhance_video(job, video_model, args)
        return
    controls = Controls(
        args.tile,
        args.exposure,
        args.strength,
        progress=not args.quiet,
        quality=args.quality,
        working_size=working_size_of(args),
    )
    on_read = functools.partial(note, working_size=controls.working_size)
    enhance_image_file(job.source, job.target, runner, controls, on_read=on_read)


def _enhance_video(job: Job, model: UnifiedLowLightEnhancer, args: argparse.Namespace) -> None:
    from lowlight.video import enhance_video

    with folders_for(job.target):
        result = enhance_video(job.source, job.target, crf=args.crf, **_options(model, args))
    if result.audio == "re-encoded to AAC" and not args.quiet:
        tqdm.write(
            f"{job.source}: sound re-encoded to AAC ({job.target.suffix} cannot hold it as it is)",
            file=sys.stderr,
        )


def _options(model: UnifiedLowLightEnhancer, args: argparse.Namespace) -> dict:
    """What videos are enhanced with: the network, tiling, bar and controls."""
    return {
        "model": model,
        "tile": args.tile,
        "progress": not args.quiet,
        "exposure": args.exposure,
        "strength": args.strength,
        "quality": args.quality,
        "working_size": working_size_of(args, clip=True),
        "preset": args.preset,
    }


def _report(job: Job, message: str) -> None:
    prefix = f"{job.source}: "
    reason = message[len(prefix) :] if message.startswith(prefix) else message
    tqdm.write(f"{job.source}: {reason}", file=sys.stderr)
