"""Untrusted weights files: pickles that would run code are refused without being loaded,
damaged safetensors files and foreign model descriptions give a clear ``LowlightError``."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from lowlight.cli import main
from lowlight.errors import LowlightError
from lowlight.models import UnifiedLowLightEnhancer
from lowlight.weights import CONFIG_KEY, load_model


class WritesMarker:
    """Unpickling this creates the file ``path``: what a malicious checkpoint would do."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "code-ran"


def write_evil(path: Path, marker: Path, how: str) -> Path:
    payload = {"model": WritesMarker(marker), "epoch": 1}
    if how == "pickle":
        path.write_bytes(pickle.dumps(payload))
    else:  # torch.save's zip container holding the same pickle
        torch.save(payload, path)
    return path


def test_the_evil_files_really_run_code_when_unpickled(tmp_path: Path, marker: Path) -> None:
    # The control: without this, the refusals below would prove nothing.
    for how in ("pickle", "torch"):
        evil = write_evil(tmp_path / f"evil-{how}.pt", marker, how)
        if how == "pickle":
            pickle.loads(evil.read_bytes())
        else:
            torch.load(evil, weights_only=False)
        assert marker.exists()
        marker.unlink()


@pytest.mark.parametrize("name", ["evil.pt", "evil.pth", "evil.safetensors", "evil.bin"])
@pytest.mark.parametrize("how", ["pickle", "torch"])
def test_code_running_pickles_are_refused_without_running(
    tmp_path: Path, marker: Path, name: str, how: str
) -> None:
    evil = write_evil(tmp_path / name, marker, how)
    with pytest.raises(LowlightError, match="never loads pickled") as caught:
        load_model(evil)
    assert str(evil) in str(caught.value)
    assert not marker.exists()


def test_a_plain_pytorch_state_dict_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    torch.save(UnifiedLowLightEnhancer().state_dict(), path)
    with pytest.raises(LowlightError, match=r"model.pt: .*expected a complete safetensors file"):
        load_model(path)


@pytest.mark.parametrize("keep", [0, 4, 20, 0.5, -1])
def test_truncated_safetensors_files_give_a_clear_error(
    weights_file: Path, tmp_path: Path, keep: float
) -> None:
    content = weights_file.read_bytes()
    size = int(len(content) * keep) if isinstance(keep, float) else keep % len(content)
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(content[:size])
    with pytest.raises(LowlightError, match=r"^cannot (read|load) weights (file|from) .*cut"):
        load_model(cut)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"wide": 1}, "cannot build"),
        ({"widths": 7}, "cannot build"),
        ([1, 2], "cannot build"),
        ({"widths": [8, 8, 8]}, "cannot load weights"),  # buildable, but not these tensors
    ],
)
def test_a_foreign_model_description_gives_a_clear_error(
    tmp_path: Path, config, message: str
) -> None:
    path = tmp_path / "foreign.safetensors"
    tensors = {k: v.contiguous() for k, v in UnifiedLowLightEnhancer().state_dict().items()}
    save_file(tensors, str(path), metadata={CONFIG_KEY: json.dumps(config)})
    with pytest.raises(LowlightError, match=message):
        load_model(path)


@pytest.mark.parametrize("command", ["enhance", "evaluate"])
def test_the_cli_refuses_a_pickle_with_one_line_exit_2(
    tmp_path: Path, marker: Path, capsys, command: str
) -> None:
    evil = write_evil(tmp_path / "evil.pt", marker, "torch")
    data = tmp_path / "data"
    for side in ("low", "high"):
        (data / side).mkdir(parents=True)
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(data / side / "a.png")
    out = tmp_path / "out"
    if command == "enhance":
        argv = ["enhance", str(data / "low"), "-o", str(out), "--weights", str(evil)]
    else:
        argv = ["evaluate", "--data", str(data), "--weights", str(evil)]
    status = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert len(err) == 1 and err[0].startswith(f"lowlight {command}: error: cannot read weights")
    assert str(evil) in err[0] and "never loads pickled" in err[0]
    assert not marker.exists()
    assert not out.exists()  # the weights are refused before the output folder is made
