"""Saving weights: a round trip, atomic replacement and the permissions of a new file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from lowlight.errors import LowlightError
from lowlight.models import UnifiedLowLightEnhancer
from lowlight.weights import (
    CONFIG_KEY,
    LEGACY_CURVE_GAIN,
    load_model,
    read_metadata,
    save_weights,
)


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


def _file_without_design_keys(path: Path) -> Path:
    """A weights file as written before the bounded-detail design existed."""
    model = UnifiedLowLightEnhancer(tone_sigma=None, highlight_knee=None)
    config = {k: v for k, v in model.config.items() if k not in ("tone_sigma", "highlight_knee")}
    tensors = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(tensors, str(path), metadata={CONFIG_KEY: json.dumps(config)})
    return path


def test_files_from_before_the_design_options_load_as_they_were_trained(tmp_path: Path) -> None:
    model = load_model(_file_without_design_keys(tmp_path / "old.safetensors"))
    assert model.tone_sigma is None and model.highlight_knee is None


def test_new_files_keep_their_design(tmp_path: Path) -> None:
    save_weights(UnifiedLowLightEnhancer(highlight_knee=0.8), tmp_path / "new.safetensors")
    model = load_model(tmp_path / "new.safetensors")
    assert model.tone_sigma == 32 and model.highlight_knee == 0.8


def test_an_old_file_continues_under_the_tone_split(tmp_path: Path) -> None:
    path = _file_without_design_keys(tmp_path / "old.safetensors")
    old = load_model(path)
    model = load_model(path, architecture={"tone_sigma": 32.0, "highlight_knee": 0.9})
    assert model.tone_sigma == 32 and model.highlight_knee == 0.9
    converted = (
        "decoder.embed.1.weight",
        "curve_estimator.head.1.weight",
        "curve_estimator.head.1.bias",
    )
    kept = [name for name in old.state_dict() if name not in converted]
    for name in kept:
        assert torch.equal(old.state_dict()[name], model.state_dict()[name]), name
    # The old decoder's (curve, input, SNR) weights become (gain * curve + input, SNR).
    curve, low, snr = old.decoder.embed[1].weight.split([12, 12, 4], dim=1)
    expected = torch.cat([LEGACY_CURVE_GAIN * curve + low, snr], dim=1)
    assert torch.equal(model.decoder.embed[1].weight, expected)
    head = old.curve_estimator.head[1]
    assert torch.equal(model.curve_estimator.head[1].weight, head.weight.mean(0, keepdim=True))
    # The scene view is new: it starts at zero.
    assert model.curve_estimator.scene.weight.abs().max() == 0
    with pytest.raises(LowlightError, match="cannot load weights"):
        load_model(path, architecture={"widths": [8, 16, 32]})
