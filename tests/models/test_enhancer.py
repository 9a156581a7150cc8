"""UnifiedLowLightEnhancer: shapes of every output, ranges, gradients, train == eval."""

from __future__ import annotations

import dataclasses
import inspect

import pytest
import torch
import torch.nn.functional as F

from lowlight.models import (
    EnhancedGlobalColorCorrection,
    EnhancerOutput,
    GlobalColourAffine,
    ImprovedCurveEstimator,
    MaskPredictor,
    TransformerDecoder,
    UnifiedLowLightEnhancer,
    saturation_boost,
)

FIELDS = [field.name for field in dataclasses.fields(EnhancerOutput)]
# Channels of each output field.
FIELD_CHANNELS = {
    "image": 3,
    "curve_image": 3,
    "decoder_image": 3,
    "mask": 1,
    "curve_params": 3,
    "snr": 1,
}


@pytest.fixture(scope="module")
def model() -> UnifiedLowLightEnhancer:
    torch.manual_seed(0)
    return UnifiedLowLightEnhancer().eval()


def test_smoke(model: UnifiedLowLightEnhancer) -> None:
    torch.manual_seed(1)
    rgb = torch.rand(1, 3, 64, 64) * 0.2
    with torch.no_grad():
        out = model(rgb)
    assert isinstance(out, EnhancerOutput)
    assert sorted(FIELDS) == sorted(FIELD_CHANNELS)
    assert out.image.shape == (1, 3, 64, 64)
    assert out.image.dtype == torch.float32
    # A dark image comes out brighter: the curves alone start near the Zero-DCE result.
    assert out.image.mean() > rgb.mean()


def test_default_size_is_about_half_a_million_parameters(model: UnifiedLowLightEnhancer) -> None:
    count = sum(p.numel() for p in model.parameters())
    assert 400_000 < count < 600_000


@pytest.mark.parametrize(
    "shape",
    [(1, 3, 123, 77), (3, 3, 40, 56), (1, 3, 1, 1), (1, 3, 5, 9), (2, 3, 17, 16), (1, 3, 64, 64)],
)
def test_cardinality_every_field_has_input_size(model: UnifiedLowLightEnhancer, shape) -> None:
    torch.manual_seed(2)
    rgb = torch.rand(shape)
    batch, _, height, width = shape
    with torch.no_grad():
        out = model(rgb)
    for name in FIELDS:
        value = getattr(out, name)
        assert value.shape == (batch, FIELD_CHANNELS[name], height, width), name
        assert torch.isfinite(value).all(), name
    assert out.image.min() >= 0.0 and out.image.max() <= 1.0
    assert out.curve_image.min() >= 0.0 and out.curve_image.max() <= 1.0
    assert out.mask.min() >= 0.0 and out.mask.max() <= 1.0
    assert out.curve_params.min() >= -1.0 and out.curve_params.max() <= 1.0
    assert out.snr.min() >= 0.0 and out.snr.max() <= 1.0


@pytest.mark.parametrize("fill", ["black", "white", "random", "dark_noise"])
def test_finite_and_in_range_for_extreme_inputs(model: UnifiedLowLightEnhancer, fill: str) -> None:
    torch.manual_seed(3)
    rgb = {
        "black": torch.zeros(2, 3, 32, 40),
        "white": torch.ones(2, 3, 32, 40),
        "random": torch.rand(2, 3, 32, 40),
        "dark_noise": (torch.rand(2, 3, 32, 40) * 0.02),
    }[fill]
    with torch.no_grad():
        out = model(rgb)
    for name in FIELDS:
        assert torch.isfinite(getattr(out, name)).all(), name
    assert out.image.min() >= 0.0 and out.image.max() <= 1.0


def test_odd_size_is_the_crop_of_the_replicate_padded_image(
    model: UnifiedLowLightEnhancer,
) -> None:
    # 37x45 is padded (replicate) to the network multiple 40x48 and cropped back.
    torch.manual_seed(4)
    rgb = torch.rand(1, 3, 37, 45)
    padded = F.pad(rgb, (0, 3, 0, 3), mode="replicate")
    with torch.no_grad():
        odd = model(rgb)
        full = model(padded)
    assert model.pad_multiple == 8
    for name in FIELDS:
        crop = getattr(full, name)[..., :37, :45]
        assert (getattr(odd, name) - crop).abs().max() < 1e-6, name


def test_batch_items_are_independent(model: UnifiedLowLightEnhancer) -> None:
    # No batch statistics anywhere: an image's output does not depend on its batch-mates.
    torch.manual_seed(5)
    batch = torch.rand(3, 3, 32, 32)
    with torch.no_grad():
        together = model(batch).image
        alone = torch.cat([model(batch[i : i + 1]).image for i in range(3)])
    assert (together - alone).abs().max() < 1e-5


@pytest.mark.parametrize(
    ("shape", "match"),
    [
        ((2, 4, 64, 64), r"expected a \(B, 3, H, W\) tensor, got \(2, 4, 64, 64\)"),
        ((3, 64, 64), r"expected a \(B, 3, H, W\) tensor, got \(3, 64, 64\)"),
        ((1, 1, 64, 64), r"got \(1, 1, 64, 64\)"),
        ((1, 1, 3, 64, 64), r"got \(1, 1, 3, 64, 64\)"),
    ],
)
def test_exception_on_bad_shape(model: UnifiedLowLightEnhancer, shape, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        model(torch.rand(shape))


def test_every_parameter_gets_a_finite_nonzero_gradient() -> None:
    torch.manual_seed(6)
    model = UnifiedLowLightEnhancer().train()
    rgb = torch.rand(2, 3, 32, 32) * 0.3
    target = torch.rand(2, 3, 32, 32)
    out = model(rgb)
    loss = (out.image - target).abs().mean()
    loss.backward()
    named = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    assert len(named) > 50
    missing = [name for name, p in named if p.grad is None]
    assert missing == []
    not_finite = [name for name, p in named if not torch.isfinite(p.grad).all()]
    assert not_finite == []
    zero = [name for name, p in named if p.grad.abs().max() == 0]
    assert zero == []


def test_train_and_eval_give_the_same_output() -> None:
    torch.manual_seed(7)
    model = UnifiedLowLightEnhancer()
    rgb = torch.rand(2, 3, 48, 40) * 0.25
    with torch.no_grad():
        trained = model.train()(rgb)
        evaluated = model.eval()(rgb)
    for name in FIELDS:
        difference = (getattr(trained, name) - getattr(evaluated, name)).abs().max()
        assert difference < 1e-6, name


def test_deterministic(model: UnifiedLowLightEnhancer) -> None:
    torch.manual_seed(8)
    rgb = torch.rand(1, 3, 24, 24)
    with torch.no_grad():
        assert torch.equal(model(rgb).image, model(rgb).image)


def test_final_image_is_the_documented_pipeline(model: UnifiedLowLightEnhancer) -> None:
    # image = boost(correction(affine(decoder + mask * (curve - decoder)))) on the crop.
    torch.manual_seed(9)
    rgb = torch.rand(2, 3, 32, 32) * 0.3
    with torch.no_grad():
        out = model(rgb)
        blended = out.decoder_image + out.mask * (out.curve_image - out.decoder_image)
        expected = saturation_boost(model.colour_correction(model.colour_affine(blended)))
    assert (out.image - expected).abs().max() < 1e-5


def test_components_and_clamp_parameters(model: UnifiedLowLightEnhancer) -> None:
    assert isinstance(model.curve_estimator, ImprovedCurveEstimator)
    assert isinstance(model.decoder, TransformerDecoder)
    assert isinstance(model.mask_predictor, MaskPredictor)
    assert isinstance(model.colour_affine, GlobalColourAffine)
    assert isinstance(model.colour_correction, EnhancedGlobalColorCorrection)
    assert model.colour_affine.identity_clamp == 0.15
    assert model.colour_affine.vibrance is None

    fresh = UnifiedLowLightEnhancer(widths=(8, 16, 32), depths=(0, 1, 1), decoder_depths=(0, 1))
    with torch.no_grad():
        fresh.colour_affine.weight.fill_(3.0)
        fresh.colour_correction.bias.fill_(-1.0)
    fresh.clamp_parameters_()
    matrix = fresh.colour_affine.weight.view(3, 3)
    assert torch.allclose(matrix, torch.eye(3) + 0.15)
    assert torch.allclose(fresh.colour_correction.bias, torch.tensor(-0.01))


def test_config_round_trips() -> None:
    model = UnifiedLowLightEnhancer(widths=(8, 16, 32), depths=(0, 1, 1), decoder_depths=(0, 1))
    rebuilt = UnifiedLowLightEnhancer(**model.config)
    assert rebuilt.config == model.config
    assert [p.shape for p in rebuilt.parameters()] == [p.shape for p in model.parameters()]


# Branches on tensor values break gradients and differ between train and eval (seed fixes
# #4 B and D); the forward passes must not contain them.
FORBIDDEN = (".item(", "self.training", "if boost", "if saturation", "if final_saturation")


@pytest.mark.parametrize(
    "function",
    [
        UnifiedLowLightEnhancer.forward,
        GlobalColourAffine.forward,
        EnhancedGlobalColorCorrection.forward,
        TransformerDecoder.forward,
        ImprovedCurveEstimator.forward,
        MaskPredictor.forward,
        saturation_boost,
    ],
)
def test_forward_has_no_branch_on_tensor_values(function) -> None:
    source = inspect.getsource(function)
    for token in FORBIDDEN:
        assert token not in source, f"{function.__qualname__} contains {token!r}"
