"""Without an address, ``lowlight.enhance_on_ray`` starts a Ray instance of its own and stops it
when the batch ends, leaving no process behind."""

from __future__ import annotations

import threading

import pytest
from cluster_photos import dark
from PIL import Image

import lowlight

ray = pytest.importorskip("ray")
psutil = pytest.importorskip("psutil")


def test_a_run_starts_its_own_instance_and_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    assert not ray.is_initialized()
    photos = tmp_path / "photos"
    photos.mkdir()
    for index in range(2):
        Image.fromarray(dark((24, 32, 3), index)).save(photos / f"{index}.png")
    seen: dict[psutil.Process, str] = {}  # every process the run starts, its workers too
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(0.05):
            for process in psutil.Process().children(recursive=True):
                seen[process] = " ".join(_command_line(process)) or seen.get(process, "")

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        result = lowlight.enhance_on_ray([photos], tmp_path / "out", backend="pytorch", workers=1)
    finally:
        stop.set()
        watcher.join()
    assert (result.enhanced, result.failures) == (2, [])
    assert not ray.is_initialized()
    assert any("raylet" in command for command in seen.values())
    assert any("FileEnhancer" in command for command in seen.values())
    _, alive = psutil.wait_procs(seen, timeout=30)
    assert not alive, f"left behind: {[process.pid for process in alive]}"


def _command_line(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return []
