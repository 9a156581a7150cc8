"""TransformerDecoder and MaskPredictor: shapes, initial behaviour, validation."""

from __future__ import annotations

import math

import pytest
import torch

from lowlight.models import MaskPredictor, TransformerDecoder


def test_decoder_cardinality() -> None:
    torch.manual_seed(0)
    decoder = TransformerDecoder(7, widths=(8, 16, 32), depths=(0, 1, 1), decoder_depths=(0, 1))
    assert decoder.factor == 8
    for shape in [(1, 7, 16, 16), (2, 7, 24, 40)]:
        batch, _, height, width = shape
        residual = decoder(torch.rand(shape), torch.rand(batch, 1, height, width))
        assert residual.shape == (batch, 3, height, width)
        assert torch.isfinite(residual).all()


def test_the_decoders_scene_is_its_restores_without_the_decoding_half() -> None:
    torch.manual_seed(1)
    decoder = TransformerDecoder(4, widths=(8, 16, 32), depths=(0, 1, 1), decoder_depths=(0, 1))
    features, snr = torch.rand(2, 4, 24, 40), torch.rand(2, 1, 24, 40)
    assert torch.equal(decoder.scene(features, snr), decoder.restore(features, snr)[1])


def test_decoder_two_levels_factor() -> None:
    decoder = TransformerDecoder(
        7, widths=(8, 16), depths=(1, 1), decoder_depths=(1,), heads=(1, 2)
    )
    assert decoder.factor == 4
    assert decoder(torch.rand(1, 7, 12, 20), torch.rand(1, 1, 12, 20)).shape == (1, 3, 12, 20)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"widths": (8, 16, 32), "depths": (1, 1), "decoder_depths": (1, 1)},
        {"widths": (8, 16, 32), "depths": (1, 1, 1), "decoder_depths": (1,)},
        {"widths": (8, 16, 32), "depths": (1, 1, 1), "decoder_depths": (1, 1), "heads": (1,)},
    ],
)
def test_decoder_rejects_mismatched_config(kwargs) -> None:
    with pytest.raises(ValueError, match="one entry per level"):
        TransformerDecoder(7, **kwargs)


def test_mask_starts_near_zero() -> None:
    torch.manual_seed(1)
    predictor = MaskPredictor()
    curve, decoder = torch.rand(2, 3, 16, 24), torch.rand(2, 3, 16, 24)
    mask = predictor(curve, decoder, torch.rand(2, 1, 16, 24))
    assert mask.shape == (2, 1, 16, 24)
    # bias -4 and near-zero last-layer weights: sigmoid(-4) = 0.018 everywhere.
    expected = 1.0 / (1.0 + math.exp(4.0))
    assert (mask - expected).abs().max() < 1e-3


def test_mask_gradients_reach_every_parameter() -> None:
    torch.manual_seed(2)
    predictor = MaskPredictor(width=4)
    predictor(
        torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8), torch.rand(1, 1, 8, 8)
    ).sum().backward()
    for name, p in predictor.named_parameters():
        assert torch.isfinite(p.grad).all() and p.grad.abs().max() > 0, name
