"""Fixtures of the video tests (which skip cleanly without PyAV: see ``video_clips``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lowlight.models import UnifiedLowLightEnhancer


@pytest.fixture(scope="session")
def fresh_model(weights_file: Path) -> UnifiedLowLightEnhancer:
    """The freshly initialised model of ``weights_file``; never change it."""
    from lowlight.weights import load_model

    return load_model(weights_file)
