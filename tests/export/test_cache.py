"""The ONNX Runtime backend's cache: exported on first use, once, under a key of the weights
and the code; a folder that cannot be written is named in the error."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from lowlight.errors import LowlightError
from lowlight.export import cache, cache_folder, cached_onnx, cached_onnx_path
from lowlight.weights import load_model


@pytest.fixture
def exports(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Stands in for the export (seconds each): it records the model and returns bytes."""
    made: list[object] = []

    def fake_onnx_bytes(model, *args, **kwargs) -> bytes:
        made.append(model)
        return b"onnx bytes"

    monkeypatch.setattr(cache, "onnx_bytes", fake_onnx_bytes)
    return made


def test_lowlight_cache_names_the_cache_folder(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("LOWLIGHT_CACHE", str(tmp_path / "mine"))
    assert cache_folder() == tmp_path / "mine"


@pytest.mark.skipif(sys.platform != "linux", reason="XDG_CACHE_HOME is Linux's convention")
def test_without_it_the_users_cache_folder_is_used(monkeypatch, tmp_path) -> None:
    pytest.importorskip("platformdirs")
    monkeypatch.delenv("LOWLIGHT_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_folder() == tmp_path / "xdg" / "lowlight"


def test_a_first_use_exports_once_and_says_so(weights_file, exports, tmp_path, monkeypatch):
    monkeypatch.setenv("LOWLIGHT_CACHE", str(tmp_path))
    model = load_model(weights_file)
    said: list[str] = []
    path = cached_onnx(model, said.append)
    assert path.parent == tmp_path / "onnx" and path.read_bytes() == b"onnx bytes"
    assert exports == [model]
    assert said == [f"exporting the model to ONNX for ONNX Runtime, once for these weights: {path}"]
    assert cached_onnx(load_model(weights_file), said.append) == path  # the same weights
    assert len(exports) == 1 and len(said) == 1
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [path.name]  # no temp file


def test_other_weights_get_another_file(weights_file, exports, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LOWLIGHT_CACHE", str(tmp_path))
    model = load_model(weights_file)
    first = cached_onnx_path(model)
    model(torch.rand(1, 3, 16, 16))  # clamps the colour parameters in place, as every pass does
    assert cached_onnx_path(model) == first
    with torch.no_grad():
        model.mask_predictor.body[0].bias.add_(0.01)
    assert cached_onnx_path(model) != first


def test_a_cache_that_cannot_be_written_is_named(weights_file, exports, tmp_path, monkeypatch):
    blocked = tmp_path / "a file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("LOWLIGHT_CACHE", str(blocked))
    with pytest.raises(LowlightError, match="set LOWLIGHT_CACHE to a writable folder") as error:
        cached_onnx(load_model(weights_file), lambda line: None)
    assert f"cache folder {blocked / 'onnx'}" in str(error.value)


def test_a_full_disk_leaves_no_half_written_export(
    weights_file, exports, tmp_path, monkeypatch, fill_disk
) -> None:
    monkeypatch.setenv("LOWLIGHT_CACHE", str(tmp_path))
    fill_disk(room=3)
    with pytest.raises(LowlightError, match="No space left on device"):
        cached_onnx(load_model(weights_file), lambda line: None)
    assert [p for p in Path(tmp_path).rglob("*") if p.is_file()] == []
