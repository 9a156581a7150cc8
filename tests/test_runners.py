"""Backends: ONNX Runtime enhances as PyTorch does (tiles, tone pass, controls, CLI and API),
``auto`` picks it on the CPU when installed, and its absence costs one line."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import lowlight
from lowlight import inference, runners
from lowlight.cli import main
from lowlight.errors import LowlightError
from lowlight.export import cache
from lowlight.runners import OnnxRuntimeRunner, TorchRunner, choose_backend, load_runner
from lowlight.weights import load_model

HINT = 'pip install "lowlight[onnx]"'


@pytest.fixture(scope="module")
def model(trained_weights: Path):
    return load_model(trained_weights)


@pytest.fixture(scope="module")
def onnx_runner(trained_onnx_cached: Path) -> OnnxRuntimeRunner:
    return OnnxRuntimeRunner(trained_onnx_cached)


def _dark(height: int, width: int, seed: int = 0) -> np.ndarray:
    values = np.random.default_rng(seed).uniform(0.0, 0.15, (height, width, 3))
    return np.round(values * 255).astype(np.uint8)


@pytest.fixture
def no_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if the onnx extra were not installed."""
    monkeypatch.setitem(sys.modules, "onnxruntime", None)


@pytest.mark.parametrize("controls", [{}, {"exposure": 1.0, "strength": 0.6}])
def test_tiled_enhancement_through_onnx_runtime_matches_pytorch(
    model, onnx_runner, controls
) -> None:
    picture = torch.from_numpy(_dark(50, 83)).permute(2, 0, 1)[None].float() / 255
    options = {"tile": 32, "quality": "full", "working_size": 32, **controls}
    expected = inference.enhance_tensor(model, picture, **options)
    result = inference.enhance_tensor(onnx_runner, picture, **options)
    assert result.shape == picture.shape and result.dtype == picture.dtype
    assert (result - expected).abs().max() <= 1e-4


def test_the_api_takes_the_backend_by_name_or_as_a_runner(model, onnx_runner, trained_weights):
    image = _dark(45, 61)
    expected = lowlight.enhance(image, model=model, backend="pytorch")
    by_name = lowlight.enhance(image, model=model, backend="onnxruntime")
    assert np.abs(by_name.astype(int) - expected).max() <= 1  # within one level of 255
    runner = lowlight.load_runner(trained_weights, backend="onnxruntime")
    assert runner.description.startswith("ONNX Runtime")
    assert np.array_equal(lowlight.enhance(image, model=runner), by_name)
    assert np.array_equal(lowlight.enhance(image, model=model), expected)  # a module: PyTorch
    with pytest.raises(LowlightError, match="a runner keeps the backend it was loaded with"):
        lowlight.enhance(image, model=runner, backend="pytorch")


def test_the_cli_backend_option_gives_pytorchs_results(
    trained_onnx_cached, trained_weights, tmp_path
):
    photos = tmp_path / "in"
    photos.mkdir()
    Image.fromarray(_dark(37, 53, 1)).save(photos / "odd.png")
    Image.fromarray(_dark(70, 90, 2)).save(photos / "tiled.png")
    results = {}
    for backend in ("pytorch", "onnxruntime"):
        out = tmp_path / backend
        options = ["--weights", str(trained_weights), "--tile", "48", "--exposure", "0.5"]
        assert main(["enhance", str(photos), "-o", str(out), "--backend", backend, *options]) == 0
        results[backend] = {p.name: np.array(Image.open(p), int) for p in out.iterdir()}
    for name, expected in results["pytorch"].items():
        assert np.abs(results["onnxruntime"][name] - expected).max() <= 1, name


@pytest.mark.parametrize(
    ("options", "extra", "backend"),
    [
        ([], True, "ONNX Runtime"),
        ([], False, "PyTorch"),
        (["--backend", "pytorch"], True, "PyTorch"),
        (["--quiet"], True, None),
    ],
)
def test_enhance_says_which_backend_it_uses(
    trained_onnx_cached, trained_weights, tmp_path, capsys, monkeypatch, options, extra, backend
) -> None:
    if not extra:
        monkeypatch.setitem(sys.modules, "onnxruntime", None)
    Image.fromarray(_dark(20, 24)).save(tmp_path / "a.png")
    argv = ["enhance", str(tmp_path / "a.png"), "-o", str(tmp_path / "out")]
    assert main([*argv, "--weights", str(trained_weights), *options]) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if "quality" not in line]
    if backend is None:
        assert lines == []
    else:
        assert lines == [f"lowlight enhance: backend {backend} {_version(backend)} (cpu, 1 thread)"]


def _version(backend: str) -> str:
    return torch.__version__ if backend == "PyTorch" else __import__("onnxruntime").__version__


def test_without_the_extra_onnxruntime_is_one_line_saying_what_to_install(
    weights_file, tmp_path, capsys, no_extra
) -> None:
    Image.fromarray(_dark(8, 8)).save(tmp_path / "a.png")
    argv = ["enhance", str(tmp_path / "a.png"), "-o", str(tmp_path / "out")]
    assert main([*argv, "--weights", str(weights_file), "--backend", "onnxruntime"]) == 2
    message = f"the onnxruntime backend is not installed: {HINT}"
    assert capsys.readouterr().err.splitlines() == [f"lowlight enhance: error: {message}"]
    assert not (tmp_path / "out").exists()
    with pytest.raises(LowlightError, match="not installed"):
        lowlight.enhance(_dark(8, 8), backend="onnxruntime")


def test_auto_falls_back_to_pytorch_saying_why(weights_file, tmp_path, monkeypatch) -> None:
    pytest.importorskip("onnxruntime")
    blocked = tmp_path / "a file"
    blocked.write_text("where the cache folder should be")
    monkeypatch.setenv("LOWLIGHT_CACHE", str(blocked))
    monkeypatch.setattr(cache, "onnx_bytes", lambda model: b"never written")
    said: list[str] = []
    runner = load_runner(weights_file, backend="auto", say=said.append)
    assert isinstance(runner, TorchRunner)
    assert said[-1].startswith("using PyTorch: cannot write the ONNX model to the cache folder")
    with pytest.raises(LowlightError, match="set LOWLIGHT_CACHE"):
        load_runner(weights_file, backend="onnxruntime", say=said.append)


def test_choose_backend() -> None:
    assert choose_backend("auto") == ("onnxruntime" if runners.extra_installed() else "pytorch")
    assert choose_backend("auto", "cuda") == "pytorch"
    with pytest.raises(LowlightError, match="runs on the CPU"):
        choose_backend("onnxruntime", "cuda")
    with pytest.raises(LowlightError, match="unknown backend 'tensorrt'"):
        choose_backend("tensorrt")


def test_onnx_runtime_threads_follow_pytorch_or_the_option(trained_onnx_cached) -> None:
    assert OnnxRuntimeRunner(trained_onnx_cached).description.endswith("(cpu, 1 thread)")
    assert OnnxRuntimeRunner(trained_onnx_cached, threads=2).description.endswith("2 threads)")


def test_a_file_that_is_not_onnx_is_refused(tmp_path) -> None:
    pytest.importorskip("onnxruntime")
    (tmp_path / "broken.onnx").write_bytes(b"not a model")
    with pytest.raises(LowlightError, match="cannot load the ONNX model"):
        OnnxRuntimeRunner(tmp_path / "broken.onnx")
