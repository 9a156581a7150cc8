"""Backends that enhance a batch: the PyTorch model, or its ONNX export under ONNX Runtime.

A runner is a callable ``runner(batch, exposure, strength) -> image`` on float (B, 3, H, W)
batches in [0, 1]; ``lowlight.inference`` tiles pictures and matches their tone over any
runner, so both backends enhance alike. ONNX Runtime runs on the CPU only, on the graph
``lowlight.export`` writes, exported once per weights into a cache folder.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Protocol

import numpy as np
import torch

import lowlight.weights
from lowlight.errors import LowlightError
from lowlight.export import INSTALL_HINT, OUTPUT_NAME, cached_onnx, extra_installed, import_extra
from lowlight.models import UnifiedLowLightEnhancer

__all__ = [
    "BACKENDS",
    "Runner",
    "TorchRunner",
    "OnnxRuntimeRunner",
    "choose_backend",
    "load_runner",
    "model_device",
    "runner_for",
]

BACKENDS = ("auto", "pytorch", "onnxruntime")
"""The names ``backend`` accepts: "auto" chooses between the other two (``choose_backend``)."""


class Runner(Protocol):
    """Enhances a float (B, 3, H, W) batch in [0, 1] with one backend."""

    description: str  # the backend, its version and where it runs, for a status line

    def __call__(
        self, batch: torch.Tensor, exposure: float = 0.0, strength: float = 1.0
    ) -> torch.Tensor:
        """The enhanced batch, (B, 3, H, W) in [0, 1], on ``batch``'s device and dtype."""
        ...


class TorchRunner:
    """Runs the PyTorch model where its parameters are, under ``torch.inference_mode``.

    Examples:
        >>> runner = TorchRunner(UnifiedLowLightEnhancer().eval())
        >>> runner(torch.rand(1, 3, 20, 30, dtype=torch.float64) * 0.2, exposure=0.5).dtype
        torch.float64
    """

    def __init__(self, model: UnifiedLowLightEnhancer) -> None:
        self.model = model
        self.device = model_device(model, torch.device("cpu"))
        threads = f", {_threads(torch.get_num_threads())}" if self.device.type == "cpu" else ""
        self.description = f"PyTorch {torch.__version__} ({self.device}{threads})"

    def __call__(
        self, batch: torch.Tensor, exposure: float = 0.0, strength: float = 1.0
    ) -> torch.Tensor:
        # The defaults leave the model's own result untouched, bit for bit.
        controls = {"exposure": exposure or None, "strength": None if strength == 1.0 else strength}
        with torch.inference_mode():
            result = self.model(batch.to(self.device, torch.float32), **controls).image
        return result.to(batch.device, batch.dtype)


class OnnxRuntimeRunner:
    """Runs an exported model (``lowlight export``) with ONNX Runtime on the CPU.

    Args:
        path: the ONNX file.
        threads: intra-op threads; None uses as many as PyTorch (``torch.get_num_threads``).

    Raises:
        LowlightError: onnxruntime is not installed, or the file cannot be loaded.
    """

    def __init__(self, path: str | os.PathLike, threads: int | None = None) -> None:
        onnxruntime = import_extra("onnxruntime", "the onnxruntime backend")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        # Without its memory arena ONNX Runtime gives memory back after each run: a 12-megapixel
        # photo rendered fast peaks about 150 MB lower (1080p in full: 250-450 MB lower), at a
        # cost of about 5 % in time.
        options.enable_cpu_mem_arena = False
        try:
            self.session = onnxruntime.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime's errors share no base class but Exception
            raise LowlightError(f"cannot load the ONNX model {path}: {exc}") from exc
        threads = _threads(options.intra_op_num_threads)
        self.description = f"ONNX Runtime {onnxruntime.__version__} (cpu, {threads})"

    def __call__(
        self, batch: torch.Tensor, exposure: float = 0.0, strength: float = 1.0
    ) -> torch.Tensor:
        count = batch.shape[0]
        feed = {
            "image": np.ascontiguousarray(batch.detach().cpu().numpy(), dtype=np.float32),
            "exposure": np.full(count, exposure, dtype=np.float32),
            "strength": np.full(count, strength, dtype=np.float32),
        }
        try:
            [enhanced] = self.session.run([OUTPUT_NAME], feed)
        except Exception as exc:  # as above; a failed run is a failed image, not a crash
            raise RuntimeError(f"ONNX Runtime: {exc}") from exc
        return torch.from_numpy(enhanced).to(batch.device, batch.dtype)


def choose_backend(backend: str, device: str | torch.device = "cpu") -> str:
    """The backend ``backend`` names on ``device``: "pytorch" or "onnxruntime".

    "auto" is ONNX Runtime on the CPU when the ``onnx`` extra is installed, else PyTorch.
    How their speeds compare depends on the CPU and the picture's size:
    ``benchmarks/enhance_speed.py`` measures both on the machine it runs on.

    Raises:
        LowlightError: an unknown name; "onnxruntime" without the extra or off the CPU.

    Examples:
        >>> choose_backend("pytorch"), choose_backend("auto", "cuda")
        ('pytorch', 'pytorch')
    """
    if backend not in BACKENDS:
        raise LowlightError(f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)}")
    on_cpu = torch.device(device).type == "cpu"
    if backend == "auto":
        return "onnxruntime" if on_cpu and extra_installed() else "pytorch"
    if backend == "onnxruntime":
        if not extra_installed():
            raise LowlightError(f"the onnxruntime backend is not installed: {INSTALL_HINT}")
        if not on_cpu:
            raise LowlightError(
                f"the onnxruntime backend runs on the CPU; use --backend pytorch for {device}"
            )
    return backend


def runner_for(
    model: UnifiedLowLightEnhancer,
    backend: str,
    threads: int | None = None,
    say: Callable[[str], None] | None = None,
) -> Runner:
    """A runner of ``model`` with ``backend`` ("pytorch" or "onnxruntime", as chosen by
    ``choose_backend``); ``say`` gets the line announcing a first ONNX export (default:
    stderr)."""
    if backend == "pytorch":
        return TorchRunner(model)
    return OnnxRuntimeRunner(cached_onnx(model, say or _to_stderr), threads)


def load_runner(
    weights: str | os.PathLike | None = None,
    backend: str = "auto",
    device: str | torch.device = "cpu",
    threads: int | None = None,
    say: Callable[[str], None] | None = None,
) -> Runner:
    """Load the enhancer from ``weights`` (None: the shipped default) to run with ``backend``.

    Load it once and pass it as ``model`` to ``lowlight.enhance`` for every image: ONNX
    Runtime's session takes a fraction of a second to set up.

    Args:
        weights: a safetensors file, or None for the shipped model.
        backend: "auto" (ONNX Runtime on the CPU when installed, else PyTorch), "pytorch"
            or "onnxruntime"; see ``choose_backend``.
        device: where PyTorch runs.
        threads: ONNX Runtime's threads (None: as many as PyTorch uses).
        say: gets one line before a first export to ONNX (default: stderr); with "auto",
            also the reason for falling back to PyTorch where the export cannot be cached.

    Raises:
        LowlightError: the weights cannot be loaded, or the backend is unavailable.
    """
    chosen = choose_backend(backend, device)
    model = lowlight.weights.load_model(weights, device=device)
    say = say or _to_stderr
    try:
        return runner_for(model, chosen, threads, say)
    except LowlightError as exc:
        if backend != "auto":
            raise
        say(f"using PyTorch: {exc}")
        return TorchRunner(model)


def _to_stderr(line: str) -> None:
    print(f"lowlight: {line}", file=sys.stderr)


def _threads(count: int) -> str:
    return f"{count} thread" if count == 1 else f"{count} threads"


def model_device(model: torch.nn.Module, fallback: torch.device) -> torch.device:
    """Where ``model``'s parameters are (``fallback`` for a model without any)."""
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else fallback
