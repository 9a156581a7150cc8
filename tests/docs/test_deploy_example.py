"""The deployment page's example runs as printed, with ONNX Runtime, NumPy and Pillow alone,
and gives PyTorch's result."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
from markdown_blocks import DOCS, blocks_of
from PIL import Image

import lowlight
from lowlight.weights import load_model

PAGE = DOCS / "deployment.md"


def deploy_example() -> str:
    """The Python block of the deployment page: running the exported file."""
    [block] = [block for block in blocks_of(PAGE) if block.language == "python"]
    return block.code


def test_the_deploy_example_runs_without_lowlight(exported_onnx, trained_weights, tmp_path):
    code = deploy_example()
    assert "lowlight" not in code.replace("lowlight.onnx", "")  # the file name only
    shutil.copyfile(exported_onnx[0], tmp_path / "lowlight.onnx")
    dark = np.random.default_rng(0).integers(0, 40, (45, 67, 3), dtype=np.uint8)
    Image.fromarray(dark).save(tmp_path / "dark.png")
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    bright = np.array(Image.open(tmp_path / "bright.png"), dtype=int)
    expected = lowlight.enhance(dark, model=load_model(trained_weights), backend="pytorch")
    assert np.abs(bright - expected).max() <= 1  # within one level of 255
