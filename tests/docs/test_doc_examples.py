"""Every Python example of the README and the documentation runs, in a folder holding the
files it names: ``python`` blocks as scripts, ``pycon`` blocks as doctests (so what they show
is what they print), and ``yaml`` blocks load as ``lowlight train`` options."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from markdown_blocks import REPO_ROOT, Block, all_blocks
from PIL import Image

from lowlight.training.config import load_config

EXAMPLES = all_blocks("python") + all_blocks("pycon")
SAMPLES = REPO_ROOT / "samples"
APP_ADDRESS = "127.0.0.1:7860"  # where the examples expect `lowlight serve`
CLIP = "night.mp4"
RAY_CALL = "enhance_on_ray"  # an example that starts a Ray instance of its own
ONNX_FILE = "lowlight.onnx"
# Seconds an example may take; the app's first start on a loaded machine is the slowest part.
EXAMPLE_TIMEOUT = 600
SERVER_START_TIMEOUT = 300


@pytest.fixture(scope="session")
def example_files(tmp_path_factory: pytest.TempPathFactory, trained_weights: Path) -> Path:
    """The files the examples name: ``dark.png`` and ``dark.jpg`` (the bundled cat, 320x213),
    ``photos/`` (two samples) and ``runs/mine/best.safetensors`` (a briefly trained model)."""
    folder = tmp_path_factory.mktemp("example-files")
    with Image.open(SAMPLES / "chelsea_dark.png") as dark:
        dark.save(folder / "dark.png")
        dark.save(folder / "dark.jpg", quality=95)
    (folder / "photos").mkdir()
    for name in ("coffee_dark.png", "rocket_dark.png"):
        shutil.copyfile(SAMPLES / name, folder / "photos" / name)
    (folder / "runs" / "mine").mkdir(parents=True)
    shutil.copyfile(trained_weights, folder / "runs" / "mine" / "best.safetensors")
    return folder


def write_clip(path: Path, frames: int = 12, size: tuple[int, int] = (48, 64)) -> None:
    """A silent, dark, noisy H.264 clip of ``frames`` frames at 24 fps."""
    av = pytest.importorskip("av", reason="the video examples need PyAV (lowlight[video])")
    rng = np.random.default_rng(0)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(24))
        stream.height, stream.width = size
        stream.pix_fmt = "yuv420p"
        for _ in range(frames):
            picture = rng.integers(0, 30, (*size, 3), dtype=np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        container.mux(stream.encode())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def app_address(weights_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``lowlight serve`` running in a child process, as the app's examples expect it; its
    address (host:port)."""
    pytest.importorskip("gradio", reason="the app's examples need lowlight[app]")
    address = f"127.0.0.1:{_free_port()}"
    command = [sys.executable, "-m", "lowlight", "serve", "--port", address.split(":")[1]]
    log = tmp_path_factory.mktemp("app") / "serve.log"
    with open(log, "w", encoding="utf-8") as output:
        server = subprocess.Popen(
            [*command, "--weights", str(weights_file)], stdout=output, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            assert server.poll() is None, f"lowlight serve stopped:\n{log.read_text()}"
            try:
                with urllib.request.urlopen(f"http://{address}/", timeout=10):
                    break
            except OSError:
                assert time.monotonic() < deadline, "lowlight serve did not answer in time"
                time.sleep(1)
        yield address
    finally:
        server.terminate()
        server.wait(timeout=60)


def prepare(block: Block, folder: Path, request: pytest.FixtureRequest) -> str:
    """Put the files ``block`` names into ``folder``; its code, pointed at the running app
    where it calls one."""
    shutil.copytree(request.getfixturevalue("example_files"), folder)
    code = block.code
    if RAY_CALL in code:
        pytest.importorskip("ray", reason="the Ray examples need lowlight[ray]")
    if CLIP in code:
        write_clip(folder / CLIP)
    if ONNX_FILE in code:
        exported, _ = request.getfixturevalue("exported_onnx")
        shutil.copyfile(exported, folder / ONNX_FILE)
    if APP_ADDRESS in code:
        code = code.replace(APP_ADDRESS, request.getfixturevalue("app_address"))
    return code


@pytest.mark.parametrize("block", EXAMPLES, ids=lambda block: block.where)
def test_example_runs(block: Block, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    folder = tmp_path / "example"
    code = prepare(block, folder, request)
    if block.language == "python":
        command = [sys.executable, "-c", code]
    else:
        (folder / "example.txt").write_text(code, encoding="utf-8")
        command = [sys.executable, "-m", "doctest", "-o", "ELLIPSIS", "example.txt"]
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        command,
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=EXAMPLE_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"{block.where} failed:\n{done.stdout}\n{done.stderr}"


@pytest.mark.parametrize("block", all_blocks("yaml"), ids=lambda block: block.where)
def test_yaml_examples_are_training_options(block: Block, tmp_path: Path) -> None:
    options = tmp_path / "options.yaml"
    options.write_text(block.code, encoding="utf-8")
    load_config(options, data=str(tmp_path / "data"), out=str(tmp_path / "run"))


def test_the_examples_are_found() -> None:
    assert len(all_blocks("python")) >= 5
    assert len(all_blocks("pycon")) >= 4
    pages = {block.page for block in EXAMPLES}
    assert {"docs/python-api.md", "docs/deployment.md", "docs/video.md", "docs/app.md"} <= pages


def test_a_broken_example_fails(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    broken = Block("docs/example.md", 1, "pycon", ">>> import lowlight\n>>> lowlight.enhanse\n")
    with pytest.raises(AssertionError, match="docs/example.md:1 failed"):
        test_example_runs(broken, tmp_path, request)
    wrong = Block("docs/example.md", 1, "pycon", ">>> 1 + 1\n3\n")
    with pytest.raises(AssertionError, match=r"Expected:\s+3\s+Got:\s+2"):
        test_example_runs(wrong, tmp_path / "wrong", request)
