"""``lowlight export`` of weights from ``lowlight train``: one checked ONNX graph for every
size, the controls as inputs, parity with PyTorch, metadata; refusals in one line."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import lowlight
from lowlight.cli import main
from lowlight.export import MIN_OPSET, onnx_metadata
from lowlight.weights import load_model, read_metadata

onnx = pytest.importorskip("onnx")
onnxruntime = pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def model(trained_weights: Path):
    return load_model(trained_weights)


@pytest.fixture(scope="module")
def session(exported_onnx):
    return onnxruntime.InferenceSession(str(exported_onnx[0]), providers=["CPUExecutionProvider"])


def run_onnx(session, image: torch.Tensor, exposure, strength) -> np.ndarray:
    feed = {
        "image": image.numpy(),
        "exposure": np.asarray(exposure, dtype=np.float32),
        "strength": np.asarray(strength, dtype=np.float32),
    }
    return session.run(["enhanced"], feed)[0]


def run_torch(model, image: torch.Tensor, exposure, strength) -> np.ndarray:
    with torch.inference_mode():
        result = model(image, exposure=torch.tensor(exposure), strength=torch.tensor(strength))
    return result.image.numpy()


def test_the_command_checks_the_file_and_prints_its_parity(exported_onnx) -> None:
    path, printed = exported_onnx
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    wrote, parity = printed.strip().splitlines()
    assert wrote.startswith(f"wrote {path} (") and wrote.endswith("checked by onnx.checker")
    figure = re.fullmatch(
        r"parity: max abs difference against PyTorch (\S+) on a 301x217 .*", parity
    )
    assert figure and float(figure.group(1)) <= 1e-4, parity


def test_height_width_and_batch_are_symbolic_and_the_names_documented(exported_onnx) -> None:
    graph = onnx.load(str(exported_onnx[0])).graph
    assert [value.name for value in graph.input] == ["image", "exposure", "strength"]
    assert [value.name for value in graph.output] == ["enhanced"]
    dims = [dim for dim in graph.input[0].type.tensor_type.shape.dim]
    assert dims[1].dim_value == 3
    assert all(dims[i].dim_param for i in (0, 2, 3)), dims  # N, H, W: any size


@pytest.mark.parametrize(
    "shape", [(1, 3, 64, 96), (1, 3, 37, 53), (2, 3, 23, 141), (1, 3, 5, 3), (1, 3, 1, 1)]
)
def test_onnx_runtime_matches_pytorch_at_every_size(model, session, shape) -> None:
    image = torch.rand(shape, generator=torch.Generator().manual_seed(sum(shape))) * 0.3
    count = shape[0]
    expected = run_torch(model, image, [0.0] * count, [1.0] * count)
    result = run_onnx(session, image, [0.0] * count, [1.0] * count)
    assert result.shape == shape
    assert np.abs(result - expected).max() <= 1e-4


def test_exposure_and_strength_are_inputs_one_per_image(model, session) -> None:
    image = torch.rand(3, 3, 40, 36, generator=torch.Generator().manual_seed(1)) * 0.2
    exposure, strength = [0.0, 1.0, -0.5], [1.0, 0.5, 0.0]
    result = run_onnx(session, image, exposure, strength)
    assert np.abs(result - run_torch(model, image, exposure, strength)).max() <= 1e-4
    assert np.abs(result[2] - image[2].numpy()).max() <= 1e-6  # strength 0: the input back
    plain = run_onnx(session, image[:2], [0.0, 0.0], [1.0, 1.0])
    brighter = run_onnx(session, image[:2], [1.0, 1.0], [1.0, 1.0])
    assert (brighter.mean(axis=(1, 2, 3)) > plain.mean(axis=(1, 2, 3))).all()


def test_the_metadata_says_what_the_model_is_and_takes(exported_onnx, model, trained_weights):
    props = {entry.key: entry.value for entry in onnx.load(str(exported_onnx[0])).metadata_props}
    assert props["lowlight_version"] == lowlight.__version__
    data = json.loads(read_metadata(trained_weights)["train_config"])["data"]
    assert props["training_data"] == f"the data folder {data} of lowlight train"
    assert json.loads(props["model_config"]) == model.config
    assert "(N, 3, H, W)" in props["input_image"] and "[0, 1]" in props["input_image"]
    assert "stops" in props["input_exposure"] and "unchanged" in props["input_strength"]
    assert "[0, 1]" in props["output_enhanced"]


@pytest.mark.parametrize(
    ("weights_metadata", "training_data"),
    [
        ({}, "unknown"),
        ({"training_data": "LOL-v1 train, 455 pairs"}, "LOL-v1 train, 455 pairs"),
        (
            {"train_config": json.dumps({"data": "lol/train", "init_weights": "a.safetensors"})},
            "the data folder lol/train of lowlight train, starting from the weights a.safetensors",
        ),
        ({"train_config": "{not json"}, "unknown"),
    ],
)
def test_training_data_is_read_from_the_weights_metadata(model, weights_metadata, training_data):
    assert onnx_metadata(model, weights_metadata)["training_data"] == training_data


def test_an_opset_below_the_exporters_is_refused(weights_file, tmp_path, capsys) -> None:
    out = tmp_path / "model.onnx"
    assert main(["export", "-o", str(out), "--weights", str(weights_file), "--opset", "12"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"lowlight export: error: opset 12 is not available: use --opset {MIN_OPSET} or higher"
    )
    assert not out.exists()


def test_the_weights_file_is_never_overwritten(weights_file, tmp_path, capsys) -> None:
    before = weights_file.read_bytes()
    assert main(["export", "-o", str(weights_file), "--weights", str(weights_file)]) == 2
    assert "is the weights file; choose another -o" in capsys.readouterr().err
    assert weights_file.read_bytes() == before


@pytest.mark.parametrize("missing", ["onnx", "onnxscript", "onnxruntime", "platformdirs"])
def test_without_the_extra_export_says_what_to_install(
    weights_file, tmp_path, capsys, monkeypatch, missing
) -> None:
    monkeypatch.setitem(sys.modules, missing, None)  # as if it were not installed
    assert main(["export", "-o", str(tmp_path / "m.onnx"), "--weights", str(weights_file)]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    hint = 'pip install "lowlight[onnx]"'
    assert line == f"lowlight export: error: exporting to ONNX needs the onnx extra: {hint}"
