"""Uneven light for synthetic inputs: smooth fields of the asked spread, light sources kept."""

from __future__ import annotations

import pytest
import torch

from lowlight.data.illumination import illumination_field, light_sources, uneven_gain


def test_the_field_spans_the_asked_stops_with_its_brightest_place_unchanged() -> None:
    field = illumination_field(60, 90, 3.0, torch.Generator().manual_seed(0))
    assert field.shape == (1, 60, 90)
    assert float(field.max()) == pytest.approx(0.0, abs=1e-6)
    assert float(field.min()) == pytest.approx(-3.0, abs=1e-5)


def test_the_field_is_smooth() -> None:
    field = illumination_field(128, 128, 4.0, torch.Generator().manual_seed(1))
    # Neighbouring pixels differ by a small part of the spread: light falls off over the
    # picture, never pixel to pixel.
    assert float(field.diff(dim=-1).abs().max()) < 4.0 / 20
    assert float(field.diff(dim=-2).abs().max()) < 4.0 / 20


def test_no_spread_darkens_evenly_without_drawing() -> None:
    generator = torch.Generator().manual_seed(2)
    state = generator.get_state()
    gains = uneven_gain(torch.rand(3, 16, 24), 0.25, 0.0, False, generator)
    assert torch.equal(gains, torch.full((1, 16, 24), 0.25))
    assert torch.equal(generator.get_state(), state)


def test_light_sources_are_the_bright_pixels() -> None:
    target = torch.full((3, 8, 8), 0.3)
    target[:, :4] = 1.0
    weights = light_sources(target)
    assert torch.all(weights[:, :4] == 1.0) and torch.all(weights[:, 4:] == 0.0)


def test_kept_lights_stay_bright_while_the_scene_darkens() -> None:
    target = torch.full((3, 32, 32), 0.3)
    target[:, 10:14, 10:14] = 1.0  # a lamp
    gains = uneven_gain(target, 0.05, 2.0, True, torch.Generator().manual_seed(3))
    assert torch.all(gains[:, 10:14, 10:14] == 1.0)
    assert float(gains[:, 20:, 20:].max()) <= 0.05 + 1e-6
    assert float(gains.min()) >= 0.05 * 2.0**-2 - 1e-6


def test_negative_spread_is_refused() -> None:
    with pytest.raises(ValueError, match="stops"):
        illumination_field(8, 8, -1.0, torch.Generator())
