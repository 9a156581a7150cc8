"""The machine a benchmark ran on, recorded beside its figures: the CPU and the vector
instructions that decide its speed (AVX2, AVX-512, AMX), its cores, the threads used, the load
from other work, the GPU when one was used, and the versions of the libraries that ran the
model. Timings, and the margin between the backends, change from one kind of machine to
another, so every table names its machine."""

from __future__ import annotations

import os
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import torch

# CPU flags (as /proc/cpuinfo names them) that change how fast the model runs, and their names.
VECTOR_EXTENSIONS = (("avx2", "AVX2"), ("avx512f", "AVX-512"), ("amx_tile", "AMX"))


def _cpuinfo() -> dict[str, str]:
    """The first processor's fields in /proc/cpuinfo; empty where there is none (not Linux)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    fields: dict[str, str] = {}
    for line in text.split("\n\n")[0].splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def _installed(distribution: str) -> str | None:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def describe(threads: int, device: str = "cpu") -> dict:
    """What ran the benchmark, as JSON-ready values.

    Args:
        threads: the CPU threads the benchmark let the model use.
        device: "cpu", or the CUDA device it ran on ("cuda", "cuda:1").
    """
    info = _cpuinfo()
    flags = set(info.get("flags", "").split())
    machine = {
        "cpu": info.get("model name") or platform.processor() or platform.machine(),
        "vector_extensions": [name for flag, name in VECTOR_EXTENSIONS if flag in flags],
        "cores": os.cpu_count(),
        "threads": threads,
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "system": f"{platform.system()} {platform.machine()}",
        "python": platform.python_version(),
        "torch": torch.__version__,
        "onnxruntime": _installed("onnxruntime"),
    }
    if device != "cpu" and torch.cuda.is_available():
        machine["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return machine


def summary(machine: dict) -> str:
    """One line for the top of a printed table, e.g. "Intel(R) Xeon(R) Processor (AVX2,
    AVX-512, AMX), 2 cores, 2 threads; PyTorch 2.13.0+cpu, ONNX Runtime 1.23.2; load average
    0.7" (the load average over the last minute when ``describe`` was called)."""
    extensions = ", ".join(machine["vector_extensions"])
    line = f"{machine['cpu']}" + (f" ({extensions})" if extensions else "")
    line += f", {machine['cores']} cores, {machine['threads']} threads"
    if "gpu" in machine:
        line += f", GPU {machine['gpu']}"
    line += f"; PyTorch {machine['torch']}"
    if machine.get("onnxruntime"):
        line += f", ONNX Runtime {machine['onnxruntime']}"
    return line + f"; load average {machine['load_average'][0]:.1f}"
