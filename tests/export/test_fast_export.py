"""``lowlight export --quality fast``: the fast quality as one graph for any size, with the
controls, matching ``lowlight.enhance(..., quality="fast")``; and the ONNX Runtime backend
rendering fast as PyTorch does."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from lowlight import inference
from lowlight.cli import main
from lowlight.weights import load_model

onnx = pytest.importorskip("onnx")
onnxruntime = pytest.importorskip("onnxruntime")

# Small, so that the test pictures are several times larger.
WORKING_SIZE = 64
# One level of an 8-bit picture.
LEVEL = 1 / 255


@pytest.fixture(scope="module")
def model(trained_weights: Path):
    return load_model(trained_weights)


@pytest.fixture(scope="module")
def fast_export(trained_weights: Path, tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("onnx") / "fast.onnx"
    printed = io.StringIO()
    argv = ["export", "-o", str(path), "--weights", str(trained_weights), "--quality", "fast"]
    with contextlib.redirect_stdout(printed):
        assert main([*argv, "--working-size", str(WORKING_SIZE)]) == 0
    return path, printed.getvalue()


def _dark(height: int, width: int, batch: int = 1, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    rows = torch.linspace(0, 1, height)[:, None]
    columns = torch.linspace(0, 1, width)[None, :]
    scene = 0.03 + 0.1 * (rows * columns) + 0.3 * ((columns - 0.6).abs() < 0.1)
    noise = 0.01 * torch.randn(batch, 3, height, width, generator=generator)
    return (scene + noise).clamp(0, 1)


def test_the_command_prints_the_fast_graphs_parity(fast_export) -> None:
    path, printed = fast_export
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    parity = printed.strip().splitlines()[-1]
    pattern = r"parity: max abs difference against PyTorch (\S+) on a 96x64 .*working size 64"
    figure = re.fullmatch(pattern, parity)
    assert figure and float(figure.group(1)) < LEVEL, parity


def test_the_fast_graph_renders_as_lowlight_enhance_does(fast_export, model) -> None:
    session = onnxruntime.InferenceSession(str(fast_export[0]), providers=["CPUExecutionProvider"])
    metadata = session.get_modelmeta().custom_metadata_map
    assert metadata["quality"].startswith(
        "fast: the network runs on the image reduced to a longer side of 64"
    )
    # Reductions of 2.4 and 2.0 (transforms fitted per 2 x 2 cell, and per reduced pixel).
    for (height, width, batch), (exposure, strength) in [
        ((97, 151, 1), (0.0, 1.0)),
        ((128, 83, 2), (1.0, 0.6)),
    ]:
        image = _dark(height, width, batch)
        feed = {
            "image": image.numpy(),
            "exposure": np.full(batch, exposure, np.float32),
            "strength": np.full(batch, strength, np.float32),
        }
        [result] = session.run(["enhanced"], feed)
        options = {"exposure": exposure, "strength": strength, "working_size": WORKING_SIZE}
        expected = inference.enhance_tensor(model, image, quality="fast", **options)
        assert result.shape == image.shape
        assert float(np.abs(result - expected.numpy()).max()) < LEVEL


@pytest.mark.parametrize("controls", [{}, {"exposure": 1.0, "strength": 0.6}])
def test_the_onnx_runtime_backend_renders_fast_as_pytorch_does(
    model, trained_onnx_cached, trained_weights, controls
) -> None:
    from lowlight.runners import load_runner

    runner = load_runner(trained_weights, backend="onnxruntime")
    image = _dark(120, 180)
    options = {"quality": "fast", "working_size": WORKING_SIZE, **controls}
    expected = inference.enhance_tensor(model, image, **options)
    result = inference.enhance_tensor(runner, image, **options)
    assert float((result - expected).abs().max()) < LEVEL
