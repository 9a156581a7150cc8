"""Where the no-reference metric tests find the shared data: the NIQE reference values and the
real dark photos. Found as ``tests/conftest.py`` finds LOL (``$LOWLIGHT_DATA``, else
``../shared/data``); tests that need them skip cleanly where they are absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder that holds the datasets (it may not exist)."""
    override = os.environ.get("LOWLIGHT_DATA")
    if override:
        return Path(override).expanduser()
    return (REPO_ROOT / ".." / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def niqe_data(shared_data: Path) -> Path:
    """The ``niqe`` folder (reference values and parameters), or skip the test."""
    root = shared_data / "niqe"
    if not (root / "reference-values.json").is_file():
        pytest.skip(f"NIQE reference values not found in {root} (set LOWLIGHT_DATA)")
    return root


@pytest.fixture(scope="session")
def real_dark_photos(shared_data: Path) -> list[Path]:
    """Every fourth of the real dark photos (all sizes, JPEG and WebP), or skip the test."""
    root = shared_data / "real-dark"
    photos = sorted(root.glob("*.*")) if root.is_dir() else []
    if not photos:
        pytest.skip(f"real dark photos not found in {root} (set LOWLIGHT_DATA)")
    return photos[::4]
