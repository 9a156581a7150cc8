"""Saving weights: a round trip, atomic replacement and the permissions of a new file."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from lowlight.models import UnifiedLowLightEnhancer
from lowlight.weights import load_model, read_metadata, save_weights


def test_save_then_load_gives_the_same_model(weights_file: Path, tmp_path: Path) -> None:
    model = load_model(weights_file)
    copy = tmp_path / "copy.safetensors"
    save_weights(model, copy, {"epoch": "3"})
    assert read_metadata(copy)["epoch"] == "3"
    again = load_model(copy)
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, again.state_dict()[name]), name
    assert os.listdir(tmp_path) == ["copy.safetensors"]  # no temporary file


def test_new_files_get_the_usual_permissions(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        save_weights(UnifiedLowLightEnhancer(), tmp_path / "new.safetensors")
    finally:
        os.umask(umask)
    assert (tmp_path / "new.safetensors").stat().st_mode & 0o777 == 0o644


def test_a_replaced_file_keeps_its_permissions(weights_file: Path, tmp_path: Path) -> None:
    path = tmp_path / "shared.safetensors"
    path.write_bytes(b"old")
    path.chmod(0o664)
    save_weights(load_model(weights_file), path)
    assert path.stat().st_mode & 0o777 == 0o664
