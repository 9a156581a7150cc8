"""The app's fixtures: the fresh model."""

from __future__ import annotations

from pathlib import Path

import pytest

import lowlight
from lowlight.models import UnifiedLowLightEnhancer


@pytest.fixture(scope="module")
def model(weights_file: Path) -> UnifiedLowLightEnhancer:
    return lowlight.load_model(weights_file)
