"""``lowlight enhance --engine ray``: its options, and the run on Ray workers
(``lowlight.cluster``), which ends as the one-machine run does."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from lowlight.commands.closing_line import summary
from lowlight.commands.options import working_size_of
from lowlight.commands.quality_note import auto_rule
from lowlight.errors import LowlightError

__all__ = ["ENGINES", "add_ray_options", "check_ray_options", "run_on_ray"]

ENGINES = ("local", "ray")
"""The choices of ``--engine``: one file after another here, or on Ray workers."""
# The options only --engine ray reads, by their destination, with the flag that sets each.
_RAY_OPTIONS = {
    "ray_address": "--ray-address",
    "workers": "--workers",
    "num_cpus_per_worker": "--num-cpus-per-worker",
    "num_gpus_per_worker": "--num-gpus-per-worker",
}


def add_ray_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--engine`` and the options of Ray runs."""
    group = parser.add_argument_group(
        "Ray", "spreading the images over the workers of a Ray cluster (needs lowlight[ray])"
    )
    group.add_argument(
        "--engine",
        choices=ENGINES,
        default="local",
        help="local: enhance on this machine, one file after another (the default); ray: on "
        "Ray workers, each loading the model once. Inputs and OUTDIR may then be URIs "
        "pyarrow opens (s3://, gs://); the results are the same files",
    )
    group.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="the Ray cluster to join (default: $RAY_ADDRESS if set, else a Ray instance "
        "started on this machine for the run)",
    )
    group.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="at most N workers (default: as many as the cluster's CPUs or GPUs hold)",
    )
    group.add_argument(
        "--num-cpus-per-worker",
        type=float,
        metavar="N",
        help="CPUs each worker reserves; the model runs on that many threads (default 1). "
        "PyTorch's results agree with the local engine's to the bit when the thread "
        "counts agree; ONNX Runtime's always do",
    )
    group.add_argument(
        "--num-gpus-per-worker",
        type=float,
        metavar="N",
        help="GPUs each worker reserves (default 0: workers run on CPUs); fractions share one",
    )


def check_ray_options(args: argparse.Namespace) -> None:
    """Refuse Ray options without ``--engine ray``, and ``--device`` with it."""
    if args.engine != "ray":
        given = [flag for name, flag in _RAY_OPTIONS.items() if getattr(args, name) is not None]
        if given:
            raise LowlightError(f"{given[0]} is an option of --engine ray; add --engine ray")
    elif args.device != "cpu":
        raise LowlightError(
            "with --engine ray, workers run on GPUs with --num-gpus-per-worker N, not --device"
        )


def run_on_ray(args: argparse.Namespace, say: Callable[[str], None]) -> int:
    """Enhance the inputs on Ray workers; 0 if every image succeeded, 1 if any failed.

    The failures are listed at the end, one line each on stderr (the file and the reason),
    and unless ``--quiet`` the closing line is the one-machine run's. With ``--quality
    auto``, a line says the rule first (the workers, not this process, see the pictures).
    """
    from lowlight.cluster import enhance_on_ray

    if args.quality == "auto":
        say(f"quality auto: {auto_rule(working_size_of(args))}")

    result = enhance_on_ray(
        args.inputs,
        args.output,
        address=args.ray_address,
        weights=args.weights,
        backend=args.backend,
        tile=args.tile,
        exposure=args.exposure,
        strength=args.strength,
        quality=args.quality,
        working_size=working_size_of(args),
        format=args.format,
        allow_same_folder=args.allow_same_folder,
        skip_existing=args.skip_existing,
        workers=args.workers,
        cpus_per_worker=1.0 if args.num_cpus_per_worker is None else args.num_cpus_per_worker,
        gpus_per_worker=args.num_gpus_per_worker or 0.0,
        progress=not args.quiet,
        say=say,
    )
    for failure in result.failures:
        print(f"{failure.file}: {failure.reason}", file=sys.stderr)
    failed = len(result.failures)
    if failed:
        total = result.enhanced + failed
        print(f"lowlight enhance: {failed} of {total} images failed", file=sys.stderr)
    if not args.quiet:
        print(summary(result.enhanced, failed, result.output, result.seconds, result.skipped))
    return 1 if failed else 0
