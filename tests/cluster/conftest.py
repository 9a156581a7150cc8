"""Shared by the Ray engine's tests: a folder of pictures of mixed sizes and formats, what the
one-machine command makes of it, and one local Ray instance per test module."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from cluster_photos import write_mixed_photos

from lowlight.cli import main


@pytest.fixture(scope="module")
def mixed_photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``write_mixed_photos`` in a folder of the module's; read it, never change it."""
    return write_mixed_photos(tmp_path_factory.mktemp("mixed") / "photos")


@pytest.fixture(scope="module")
def plain_results(mixed_photos: Path, tmp_path_factory: pytest.TempPathFactory):
    """``results(backend, weights=None)``: the folder of what ``lowlight enhance`` (one
    machine, one thread) writes for ``mixed_photos`` on that backend with those weights (the
    shipped model). Made on first use."""
    made: dict[tuple[str, Path | None], Path] = {}

    def results(backend: str, weights: Path | None = None) -> Path:
        if (backend, weights) not in made:
            out = tmp_path_factory.mktemp(f"plain-{backend}")
            command = ["enhance", str(mixed_photos), "-o", str(out), "--backend", backend, "-q"]
            assert main([*command, *(["--weights", str(weights)] if weights else [])]) == 0
            made[backend, weights] = out
        return made[backend, weights]

    return results


@pytest.fixture(scope="module")
def ray_instance():
    """A Ray instance of 2 CPUs on this machine for the module: its address. Shut down at
    the end, and every process it started checked gone."""
    ray = pytest.importorskip("ray")
    psutil = pytest.importorskip("psutil")
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level=logging.ERROR)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        started = psutil.Process().children(recursive=True)
        ray.shutdown()
        _, alive = psutil.wait_procs(started, timeout=30)
        left = [process.pid for process in alive]
        for process in alive:
            process.kill()
        assert not left, f"Ray left processes behind: {left}"
