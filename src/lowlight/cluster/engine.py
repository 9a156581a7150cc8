"""Enhancing many image files with Ray Data: ``lowlight enhance --engine ray``.

The driver (this process) plans the batch and loads the model once; Ray Data hands the tasks
to a pool of workers (actors of ``FileEnhancer``), each with its share of CPUs or GPUs, and
brings back one line per picture. Ray restarts a worker that dies and gives its unfinished
tasks to a worker again; results are written atomically, so a picture is never half written.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import torch

from lowlight.cluster.extra import import_ray_extra
from lowlight.cluster.locations import remove_temporaries
from lowlight.cluster.planning import LOCAL, Plan, Task, plan_tasks, unfinished
from lowlight.cluster.worker import FileEnhancer, task_row
from lowlight.errors import LowlightError
from lowlight.export import cached_onnx
from lowlight.image_files import Controls, check_output_folder, output_extension
from lowlight.inference import (
    WORKING_SIZE,
    check_controls,
    check_working_size,
    choose_quality,
    choose_tile,
)
from lowlight.models import UnifiedLowLightEnhancer
from lowlight.runners import choose_backend
from lowlight.weights import load_model

__all__ = ["Failure", "BatchSummary", "enhance_on_ray"]

# Tasks per block of the dataset at most: a block is what a worker takes at a time, so small
# blocks spread the work evenly and a worker that dies takes little unfinished work with it.
_TASKS_PER_BLOCK = 16
# Blocks per worker at least, so that every worker gets some and the bar moves.
_BLOCKS_PER_WORKER = 4
# Blocks in all at most, unless the workers need more: each is an object the driver makes
# (about 2 ms), so a million pictures go in blocks of a few hundred.
_MAX_BLOCKS = 4096
# How long the processes of this run's own Ray instance get to leave after it shuts down,
# before they are killed.
_SHUTDOWN_GRACE_SECONDS = 10


@dataclass(frozen=True)
class Failure:
    """A picture that could not be enhanced: its file, as the inputs named it, and why."""

    file: str
    reason: str


@dataclass(frozen=True)
class BatchSummary:
    """What a batch did.

    Attributes:
        enhanced: pictures written.
        skipped: pictures whose result was already there (``skip_existing``).
        failures: the pictures that failed, in the order of the inputs.
        output: the output folder, as given.
        seconds: the wall time of the whole batch.
    """

    enhanced: int
    skipped: int
    failures: list[Failure]
    output: str
    seconds: float


def enhance_on_ray(
    inputs: Sequence[str | os.PathLike],
    output: str | os.PathLike,
    *,
    address: str | None = None,
    weights: str | os.PathLike | None = None,
    backend: str = "auto",
    tile: int | None = None,
    exposure: float = 0.0,
    strength: float = 1.0,
    quality: str = "auto",
    working_size: int = WORKING_SIZE,
    format: str | None = None,
    allow_same_folder: bool = False,
    skip_existing: bool = False,
    workers: int | None = None,
    cpus_per_worker: float = 1.0,
    gpus_per_worker: float = 0.0,
    progress: bool = True,
    say: Callable[[str], None] | None = None,
) -> BatchSummary:
    """Enhance the image files ``inputs`` name into ``output`` on Ray workers.

    Every result is the file ``lowlight enhance`` writes on one machine with the same
    backend and threads: the same name, format, bit depth and metadata, byte for byte.

    Args:
        inputs: image files, folders (searched recursively) and glob patterns on this
            machine, and URIs of files or folders pyarrow opens (``s3://bucket/night``).
            On a cluster, local paths must name a disk every node shares.
        output: the folder results go to, on this machine's disk or a URI.
        address: the Ray cluster to join; None joins ``$RAY_ADDRESS`` if set, else starts a
            Ray instance on this machine for the batch. When this process is already
            connected to Ray, that connection is used and kept.
        weights: a safetensors file of trained weights; None: the shipped default model.
        backend: what runs the model, "auto", "onnxruntime" or "pytorch", as for
            ``lowlight enhance``; the driver chooses it ("auto": ONNX Runtime on CPU workers
            when installed).
        tile: tile size in pixels (None: automatic above about 4 megapixels, 0: never).
        exposure: stops relative to the model's own exposure, as for ``lowlight enhance``.
        strength: from 0 (the input unchanged) to 1 (the full enhancement).
        quality: "auto", "fast" or "full", as for ``lowlight enhance``.
        working_size: the longer side, in pixels, of the reduced picture the fast quality
            runs the network on.
        format: write every result in this format (``"png"``); default: each input's own.
        allow_same_folder: see ``lowlight.imageio.plan_jobs``.
        skip_existing: leave out pictures whose result is already there, so a stopped
            batch resumes where it stopped.
        workers: at most this many workers; default: as many as the cluster's CPUs (or
            GPUs) hold.
        cpus_per_worker: CPUs each worker reserves; its model runs on that many threads
            (at least one).
        gpus_per_worker: GPUs each worker reserves (0: workers run on CPUs).
        progress: show Ray Data's progress bar.
        say: gets a line on the backend and workers (default: stderr).

    Returns:
        A ``BatchSummary``; failed pictures are listed there, not raised.

    Raises:
        LowlightError: bad arguments, inputs or output, weights or backend, or Ray is not
            installed.
    """
    start = time.perf_counter()
    say = say or _to_stderr
    choose_tile(1, 1, tile)
    check_controls(exposure, strength)
    choose_quality(1, 1, quality)
    check_working_size(working_size)
    _check_resources(workers, cpus_per_worker, gpus_per_worker)
    ray = import_ray_extra("ray", "--engine ray")
    plan = plan_tasks(inputs, output, output_extension(format), allow_same_folder)
    tasks, skipped = unfinished(plan) if skip_existing else (plan.tasks, 0)
    device = "cuda" if gpus_per_worker else "cpu"
    model = load_model(weights)  # here, on the CPU; each worker moves it to its device
    chosen = _backend(model, backend, device, say)
    if plan.output.filesystem == LOCAL:
        check_output_folder(Path(plan.output.shown))  # named as given, in its messages
    failures: list[Failure] = []
    if tasks:
        started = not ray.is_initialized()
        if started:
            _start_ray(ray, address)
        try:
            settings = _Settings(chosen, device, cpus_per_worker, gpus_per_worker, workers)
            controls = Controls(
                tile, exposure, strength, quality=quality, working_size=working_size
            )
            failures = _run(ray, plan, tasks, model, settings, controls, progress, say)
        finally:
            if started:
                _stop_own_instance(ray)
            _remove_temporaries(plan, tasks)
    enhanced = len(tasks) - len(failures)
    seconds = time.perf_counter() - start
    return BatchSummary(enhanced, skipped, failures, plan.output.shown, seconds)


@dataclass(frozen=True)
class _Settings:
    """How the workers run the model, and how many there may be."""

    backend: str
    device: str
    cpus: float
    gpus: float
    workers: int | None

    @property
    def threads(self) -> int:
        return max(1, int(self.cpus))


def _run(
    ray: Any,
    plan: Plan,
    tasks: list[Task],
    model: UnifiedLowLightEnhancer,
    settings: _Settings,
    controls: Controls,
    progress: bool,
    say: Callable[[str], None],
) -> list[Failure]:
    data = import_ray_extra("ray.data", "--engine ray")
    workers = min(settings.workers or _workers_that_fit(ray, settings), len(tasks))
    say(_description(settings, workers))
    rows = [task_row(index, task) for index, task in enumerate(tasks)]
    blocks = _blocks(len(tasks), workers)
    enhanced = data.from_items(rows, override_num_blocks=blocks).map_batches(
        FileEnhancer,
        fn_constructor_kwargs={
            "model": model,
            "backend": settings.backend,
            "device": settings.device,
            "threads": settings.threads,
            "controls": controls,
            "filesystems": plan.filesystems,
        },
        batch_size=1,
        batch_format="numpy",
        compute=data.ActorPoolStrategy(min_size=1, max_size=workers, initial_size=workers),
        num_cpus=settings.cpus,
        num_gpus=settings.gpus or None,
    )
    context = data.DataContext.get_current()
    bars = context.enable_progress_bars
    context.enable_progress_bars = progress
    # Without a bar, Ray Data's notes on the run (its plan, where its logs are) are left out too.
    notes = logging.getLogger("ray.data")
    level = notes.level
    if not progress:
        notes.setLevel(logging.WARNING)
    failed: list[tuple[int, str]] = []
    try:
        for batch in enhanced.iter_batches(batch_size=None, batch_format="numpy"):
            for index, error in zip(batch["index"], batch["error"], strict=True):
                if error:
                    failed.append((int(index), str(error)))
    except ray.exceptions.RayError as exc:  # a worker that cannot start, not a picture
        lines = [line for line in str(exc).splitlines() if line.strip()]
        raise LowlightError(
            f"the Ray run stopped: {lines[-1] if lines else type(exc).__name__} (the "
            "workers' logs, under the Ray session's logs folder, say more)"
        ) from exc
    finally:
        context.enable_progress_bars = bars
        notes.setLevel(level)
    return [Failure(tasks[index].source.shown, reason) for index, reason in sorted(failed)]


def _blocks(tasks: int, workers: int) -> int:
    """How many blocks ``tasks`` are split into for ``workers``.

    Example:
        >>> _blocks(16, 2), _blocks(1000, 2), _blocks(1_000_000, 2), _blocks(10**6, 2000)
        (8, 63, 4096, 8000)
    """
    per_block = min(_TASKS_PER_BLOCK, max(1, tasks // (_BLOCKS_PER_WORKER * workers)))
    most = max(_MAX_BLOCKS, _BLOCKS_PER_WORKER * workers)
    return min(math.ceil(tasks / per_block), most)


def _workers_that_fit(ray: Any, settings: _Settings) -> int:
    """How many workers the cluster's CPUs and GPUs hold now.

    Raises:
        LowlightError: not even one.
    """
    resources = ray.cluster_resources()
    fit = int(resources.get("CPU", 0) // settings.cpus)
    if settings.gpus:
        fit = min(fit, int(resources.get("GPU", 0) // settings.gpus))
    if fit < 1:
        wanted = f"{settings.cpus:g} CPU" + (f" and {settings.gpus:g} GPU" if settings.gpus else "")
        have = f"{resources.get('CPU', 0):g} CPU and {resources.get('GPU', 0):g} GPU"
        raise LowlightError(
            f"no worker of {wanted} fits in the Ray cluster, which has {have} now; ask for "
            "less per worker, or say how many workers to wait for with --workers N (a "
            "cluster that scales up starts them)"
        )
    return fit


def _start_ray(ray: Any, address: str | None) -> None:
    """Join the cluster at ``address`` (or ``$RAY_ADDRESS``), else start one on this machine."""
    target = address or os.environ.get("RAY_ADDRESS") or "local"
    if target == "local":  # this run's own instance: no dashboard, and only Ray's errors
        options = {"include_dashboard": False, "logging_level": logging.ERROR}
    else:
        options = {"logging_level": logging.WARNING}
    try:
        ray.init(address=target, **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise LowlightError(f"cannot join the Ray cluster at {target}: {exc}") from exc


def _stop_own_instance(ray: Any) -> None:
    """Shut down the Ray instance this run started, then end any of its processes that
    outlive it: a worker still starting when its raylet stops is left an orphan."""
    psutil = import_ray_extra("psutil", "stopping a Ray instance")

    def started_by_ray(process: Any) -> bool:
        with contextlib.suppress(psutil.Error):
            return any("ray" in part for part in process.cmdline())
        return False

    processes = [p for p in psutil.Process().children(recursive=True) if started_by_ray(p)]
    ray.shutdown()
    _, alive = psutil.wait_procs(processes, timeout=_SHUTDOWN_GRACE_SECONDS)
    for process in alive:
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(alive, timeout=_SHUTDOWN_GRACE_SECONDS)


def _backend(
    model: UnifiedLowLightEnhancer, backend: str, device: str, say: Callable[[str], None]
) -> str:
    """The backend the workers run, as ``lowlight.load_runner`` chooses it; for ONNX Runtime
    the model is exported into the cache here, once, before the workers look for it."""
    chosen = choose_backend(backend, device)
    if chosen == "onnxruntime":
        try:
            cached_onnx(model, say)
        except LowlightError as exc:
            if backend != "auto":
                raise
            say(f"using PyTorch: {exc}")
            return "pytorch"
    return chosen


def _description(settings: _Settings, workers: int) -> str:
    if settings.backend == "onnxruntime":
        name = f"ONNX Runtime {version('onnxruntime')}"
    else:
        name = f"PyTorch {torch.__version__}"
    threads = "1 thread" if settings.threads == 1 else f"{settings.threads} threads"
    where = f"{settings.gpus:g} GPU" if settings.gpus else threads
    return f"backend {name} ({settings.device}, {where}) in each of {workers} Ray workers"


def _check_resources(workers: int | None, cpus: float, gpus: float) -> None:
    if workers is not None and workers < 1:
        raise LowlightError(f"the number of Ray workers must be at least 1, got {workers}")
    if not cpus > 0:
        raise LowlightError(f"CPUs per Ray worker must be more than 0, got {cpus}")
    if not gpus >= 0:
        raise LowlightError(f"GPUs per Ray worker must be 0 or more, got {gpus}")


def _remove_temporaries(plan: Plan, tasks: list[Task]) -> None:
    """Remove the temporary files a worker killed while writing left behind."""
    output = plan.output
    if output.filesystem == LOCAL:
        filesystem = import_ray_extra("pyarrow.fs", "--engine ray").LocalFileSystem()
    else:
        filesystem = plan.filesystems[output.filesystem]
    with contextlib.suppress(OSError):  # an unreachable store keeps them: they are hidden
        remove_temporaries(filesystem, output.path, (task.target.path for task in tasks))


def _to_stderr(line: str) -> None:
    print(f"lowlight: {line}", file=sys.stderr)
