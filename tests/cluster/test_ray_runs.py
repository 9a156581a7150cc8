"""``lowlight enhance --engine ray`` on a local Ray instance of 2 CPUs: the same files as the
one-machine command, a killed worker's pictures finished by another, broken inputs listed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from cluster_photos import dark, fingerprint
from PIL import Image

from lowlight.cli import main
from lowlight.cluster import enhance_on_ray
from lowlight.imageio import read_image

pytest.importorskip("ray")
psutil = pytest.importorskip("psutil")

SUMMARY = r"(\d+) enhanced, (\d+) failed(, (\d+) already there)? -> (.+) in (\d+ min )?\d+(\.\d)? s"


def closing_line(output: str) -> re.Match:
    """The run's closing summary: the last line of ``output`` that is one (Ray's own
    background threads may still log a line after it)."""
    matches = [re.fullmatch(SUMMARY, line) for line in output.strip().splitlines()]
    found = [match for match in matches if match is not None]
    assert found, output[-2000:]
    return found[-1]


def test_the_results_are_the_one_machine_files(
    ray_instance, mixed_photos, plain_results, tmp_path, capsys
):
    out = tmp_path / "out"
    command = ["enhance", str(mixed_photos), "-o", str(out), "--engine", "ray"]
    assert main([*command, "--backend", "pytorch"]) == 0
    assert fingerprint(out) == fingerprint(plain_results("pytorch"))
    assert len(fingerprint(out)) == 6
    captured = capsys.readouterr()
    assert closing_line(captured.out).group(1, 2, 5) == ("6", "0", f"{out}{os.sep}")
    assert "backend PyTorch" in captured.err and "in each of 2 Ray workers" in captured.err


def test_uris_and_skip_existing(
    ray_instance,
    mixed_photos,
    plain_results,
    trained_weights,
    trained_onnx_cached,
    tmp_path,
    capsys,
):
    # file:// goes through pyarrow's file systems, as s3:// and gs:// do; the default backend
    # (ONNX Runtime, its export of these weights already in the cache).
    out = tmp_path / "out"
    uris = [f"file://{mixed_photos}", "-o", f"file://{out}", "--engine", "ray"]
    assert main(["enhance", *uris, "--weights", str(trained_weights)]) == 0
    expected = fingerprint(plain_results("auto", trained_weights))
    assert fingerprint(out) == expected

    (out / "sub" / "b.jpg").unlink()  # as if the run had stopped before it
    kept = (out / "a.png").stat().st_mtime_ns
    capsys.readouterr()
    assert main(["enhance", *uris, "--weights", str(trained_weights), "--skip-existing"]) == 0
    assert closing_line(capsys.readouterr().out).group(1, 2, 4) == ("1", "0", "5")
    assert fingerprint(out) == expected and (out / "a.png").stat().st_mtime_ns == kept


def test_a_killed_worker_is_replaced_and_every_result_is_complete(ray_instance, tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for index in range(24):
        Image.fromarray(dark((300, 400, 3), index)).save(photos / f"{index:02d}.png")
    out = tmp_path / "out"
    killed: dict[str, int] = {}
    kill_once = threading.Thread(target=_kill_a_worker_once_results_appear, args=(out, killed))
    kill_once.start()
    try:
        result = enhance_on_ray([photos], out, backend="pytorch", progress=False)
    finally:
        kill_once.join()
    assert killed, "no worker was found to kill"
    assert killed["results then"] < 24, "the run had finished before the kill"
    assert (result.enhanced, result.failures) == (24, [])
    assert sorted(os.listdir(out)) == [f"{index:02d}.png" for index in range(24)]  # no temp
    for index in range(24):
        enhanced = read_image(out / f"{index:02d}.png")
        assert enhanced.rgb.shape == (300, 400, 3)
        assert enhanced.rgb.mean() > read_image(photos / f"{index:02d}.png").rgb.mean()


def _kill_a_worker_once_results_appear(out: Path, killed: dict[str, int]) -> None:
    """Once a first result is written, kill one of the workers (SIGKILL, as the kernel's
    out-of-memory killer would); note how many results there were then."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        written = [name for name in _listing(out) if not name.startswith(".")]
        if written:
            workers = [
                process
                for process in psutil.Process().children(recursive=True)
                if "FileEnhancer" in " ".join(_command_line(process))
            ]
            if workers:
                workers[0].kill()
                killed.update({"pid": workers[0].pid, "results then": len(written)})
                return
        time.sleep(0.005)


def _listing(folder: Path) -> list[str]:
    try:
        return os.listdir(folder)
    except FileNotFoundError:
        return []


def _command_line(process) -> list[str]:
    try:
        return process.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return []


def test_a_broken_input_is_named_at_the_end_and_the_exit_status_is_1(
    ray_instance, mixed_photos, tmp_path
):
    # Another process joins the module's Ray instance by its address, as on a cluster.
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "good.png").write_bytes((mixed_photos / "a.png").read_bytes())
    (photos / "broken.png").write_bytes((mixed_photos / "a.png").read_bytes()[:60])
    out = tmp_path / "out"
    command = [sys.executable, "-m", "lowlight", "enhance", str(photos), "-o", str(out)]
    command += ["--engine", "ray", "--ray-address", ray_instance, "--backend", "pytorch"]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 1, finished.stderr
    errors = finished.stderr.strip().splitlines()
    assert errors[-2].startswith(f"{photos / 'broken.png'}: cannot read image ("), errors
    assert errors[-1] == "lowlight enhance: 1 of 2 images failed"
    assert "Traceback" not in finished.stderr
    assert closing_line(finished.stdout).group(1, 2) == ("1", "1")
    assert os.listdir(out) == ["good.png"]
    assert np.array_equal(read_image(out / "good.png").rgb.shape, (40, 60, 3))
