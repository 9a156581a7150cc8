"""Shared fixtures: a weights file of a fresh model, and where the LOL data lives, if it is
present on this machine.

The data is not part of the project. It is looked for in ``$LOWLIGHT_DATA`` (a folder holding
``lol-v1/``) and otherwise in ``../shared/data`` next to the repository; tests that need it skip
cleanly where it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from lowlight.models import UnifiedLowLightEnhancer
from lowlight.weights import save_weights

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def weights_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A freshly initialised model (seed 0) saved as safetensors; read it, never change it."""
    with torch.random.fork_rng():  # the seed stays out of the other tests' random state
        torch.manual_seed(0)
        model = UnifiedLowLightEnhancer()
    path = tmp_path_factory.mktemp("weights") / "fresh.safetensors"
    save_weights(model, path)
    return path


def data_root() -> Path:
    """The folder that holds the datasets (it may not exist)."""
    override = os.environ.get("LOWLIGHT_DATA")
    if override:
        return Path(override).expanduser()
    return (REPO_ROOT / ".." / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def lol_root() -> Path:
    """The ``lol-v1`` folder (with ``eval15/`` and ``train/``), or skip the test."""
    root = data_root() / "lol-v1"
    if not root.is_dir():
        pytest.skip(f"LOL-v1 data not found at {root} (set LOWLIGHT_DATA to the data folder)")
    return root


@pytest.fixture(scope="session")
def eval15_root(lol_root: Path) -> Path:
    """The LOL-v1 test set folder ``eval15/`` (``low/`` and ``high/``), or skip the test."""
    root = lol_root / "eval15"
    if not (root / "low").is_dir() or not (root / "high").is_dir():
        pytest.skip(f"LOL-v1 eval15 not found at {root}")
    return root


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    """Tests run tiny forward passes: they gain nothing from threads and lose much on a
    shared machine. Code under test that sets its own thread count (the trainer's
    ``threads``) still does."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
