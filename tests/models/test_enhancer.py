"""UnifiedLowLightEnhancer: shapes of every output, ranges, gradients, train == eval."""

from __future__ import annotations

import dataclasses
import inspect

import pytest
import torch
import torch.nn.functional as F
from kornia.color import rgb_to_linear_rgb

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
from lowlight.models.colour import luminance
from lowlight.models.detail import bounded_detail
from lowlight.models.finishing import soft_shoulder

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
    assert out.image.min() >= 0 and out.image.max() <= 1


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


@pytest.mark.parametrize("design", [{}, {"scene_size": 64}, {"detail_ceiling": 0.9}])
def test_every_parameter_gets_a_finite_nonzero_gradient(design: dict) -> None:
    torch.manual_seed(6)
    model = UnifiedLowLightEnhancer(**design).train()
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


@pytest.mark.parametrize("design", [{}, {"scene_size": 64}, {"detail_ceiling": 0.9}])
def test_train_and_eval_give_the_same_output(design: dict) -> None:
    torch.manual_seed(7)
    model = UnifiedLowLightEnhancer(**design)
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
    # image = shoulder(boost(correction(affine(decoder + mask * (curve - decoder))))).
    torch.manual_seed(9)
    rgb = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        out = model(rgb)
        blended = out.decoder_image + out.mask * (out.curve_image - out.decoder_image)
        coloured = model.colour_correction(model.colour_affine(blended))
        expected = soft_shoulder(saturation_boost(coloured, ceiling=None), 0.9)
    assert (out.image - expected).abs().max() < 1e-5


def test_the_legacy_design_adds_an_unbounded_residual_and_clips() -> None:
    torch.manual_seed(9)
    legacy = UnifiedLowLightEnhancer(tone_sigma=None, highlight_knee=None).eval()
    with torch.no_grad():
        legacy.decoder.head[0].bias.fill_(2.0)  # a residual far past the range
        rgb = torch.rand(1, 3, 32, 32)
        out = legacy(rgb)
        residual = legacy.decoder(torch.cat([out.curve_image, rgb, out.snr], dim=1), out.snr)
        blended = out.decoder_image + out.mask * (out.curve_image - out.decoder_image)
        expected = saturation_boost(legacy.colour_correction(legacy.colour_affine(blended)))
    assert torch.allclose(out.decoder_image, out.curve_image + residual, atol=1e-6)
    assert out.decoder_image.max() > 1.5
    assert torch.allclose(out.image, expected, atol=1e-6)
    assert (out.image == 1.0).float().mean() > 0.5  # hard clipping


def test_the_decoder_cannot_push_the_picture_out_of_range(model: UnifiedLowLightEnhancer) -> None:
    torch.manual_seed(10)
    wild = UnifiedLowLightEnhancer().eval()
    with torch.no_grad():
        for parameter in wild.decoder.parameters():
            parameter.mul_(50.0)
        out = wild(torch.rand(2, 3, 40, 48))
    assert out.decoder_image.min() >= 0.0 and out.decoder_image.max() <= 1.0


def test_the_decoder_does_not_set_the_exposure() -> None:
    # Whatever the decoder predicts, the brightness at large scales is the curve image's.
    torch.manual_seed(11)
    model = UnifiedLowLightEnhancer().eval()
    ramp = torch.linspace(0.05, 0.4, 256).view(1, 1, 1, 256)
    smooth = ramp.expand(1, 3, 256, 256).contiguous()
    with torch.no_grad():
        model.decoder.head[0].weight.zero_()
        model.decoder.head[0].bias.fill_(0.8)  # "make everything much brighter"
        out = model(smooth)
    # Colour may change (here the curves' cast is removed), brightness may not.
    brightness_change = luminance(out.decoder_image).mean() - luminance(out.curve_image).mean()
    assert brightness_change.abs() < 0.01


def test_highlights_roll_off_instead_of_clipping() -> None:
    model = UnifiedLowLightEnhancer().eval()
    ramp = torch.linspace(0.7, 1.0, 64).view(1, 1, 1, 64).expand(1, 3, 16, 64).contiguous()
    with torch.no_grad():
        model.curve_estimator.head[1].weight.zero_()
        model.curve_estimator.head[1].bias.zero_()  # identity curves
        model.decoder.head[0].weight.zero_()
        model.decoder.head[0].bias.zero_()  # no detail on a smooth ramp
        model.colour_affine.weight.copy_(1.15 * torch.eye(3).view(3, 3, 1, 1))
        row = model(ramp).image[0, 0, 8]
    # The colour matrix pushes the bright end to 1.15: it rolls off, keeping its gradations.
    assert row.max() < 1.0
    assert (row[1:] > row[:-1]).all()
    assert (row * 255).round().unique().numel() > 20


def test_strength_zero_returns_the_input_and_one_the_enhancement(
    model: UnifiedLowLightEnhancer,
) -> None:
    torch.manual_seed(12)
    rgb = torch.rand(2, 3, 21, 35) * 0.3
    with torch.no_grad():
        assert torch.equal(model(rgb, strength=0.0).image, rgb)
        assert torch.equal(model(rgb, strength=1.0).image, model(rgb).image)
        half = model(rgb, strength=0.5).image
    assert torch.allclose(half, (rgb + model(rgb).image) / 2, atol=1e-6)


def test_one_stop_doubles_the_linear_light_of_a_dark_result(
    model: UnifiedLowLightEnhancer,
) -> None:
    torch.manual_seed(13)
    rgb = torch.rand(1, 3, 32, 32) * 0.3
    with torch.no_grad():
        plain = rgb_to_linear_rgb(model(rgb).image).mean()
        brighter = rgb_to_linear_rgb(model(rgb, exposure=1.0).image).mean()
        darker = rgb_to_linear_rgb(model(rgb, exposure=-1.0).image).mean()
    assert brighter / plain == pytest.approx(2.0, rel=0.02)
    assert darker / plain == pytest.approx(0.5, rel=0.02)


def test_controls_can_differ_per_image(model: UnifiedLowLightEnhancer) -> None:
    torch.manual_seed(14)
    rgb = torch.rand(2, 3, 16, 16) * 0.3
    with torch.no_grad():
        both = model(rgb, exposure=torch.tensor([0.0, 1.0]), strength=torch.tensor([1.0, 0.0]))
        first = model(rgb[:1]).image
    assert torch.allclose(both.image[:1], first, atol=1e-5)
    assert torch.equal(both.image[1:], rgb[1:])


@pytest.mark.parametrize(
    ("keys", "match"),
    [
        ({"tone_sigma": 0}, "tone_sigma"),
        ({"highlight_knee": 1.0}, "highlight_knee"),
        ({"scene_size": 16}, "scene_size"),
        ({"scene_size": 64, "tone_sigma": None}, "scene_size"),
        ({"detail_ceiling": 0.0}, "detail_ceiling"),
        ({"detail_ceiling": 1.5}, "detail_ceiling"),
        ({"detail_ceiling": 0.9, "tone_sigma": None}, "detail_ceiling"),
    ],
)
def test_bad_design_options_are_refused(keys: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        UnifiedLowLightEnhancer(**keys)


def test_the_scene_view_is_the_same_whatever_the_pictures_size() -> None:
    # The curves' scene features of a picture and of the same picture at twice its size come
    # from the same 64-pixel view (the one enlarged, the other reduced): they agree to
    # resampling's differences, where the pictures' own bottlenecks are 6x9 and 12x18.
    torch.manual_seed(9)
    model = UnifiedLowLightEnhancer(scene_size=64).eval()
    small = F.interpolate(torch.rand(1, 3, 12, 18), size=(48, 72), mode="bilinear") * 0.3
    large = F.interpolate(small, scale_factor=2, mode="bilinear")
    with torch.no_grad():
        views = [model._scene_view(picture) for picture in (small, large)]
    assert views[0].shape == views[1].shape == (1, 96, 5, 8)
    assert (views[0] - views[1]).abs().max() < 0.1 * views[0].abs().max()


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
        soft_shoulder,
        bounded_detail,
    ],
)
def test_forward_has_no_branch_on_tensor_values(function) -> None:
    source = inspect.getsource(function)
    for token in FORBIDDEN:
        assert token not in source, f"{function.__qualname__} contains {token!r}"


def test_the_saturation_factor_is_a_hook_point_that_changes_nothing_unhooked(
    model: UnifiedLowLightEnhancer,
) -> None:
    # A video reads and replaces each frame's boost here; unhooked, or hooked to pass it
    # on, the result is the same bit for bit, and the weights files do not change.
    torch.manual_seed(12)
    washed_out = torch.rand(2, 1, 32, 32).expand(2, 3, 32, 32) * 0.3
    seen = []

    def passing(module, args, output):
        seen.append(output)
        return output

    with torch.no_grad():
        plain = model(washed_out).image
        handle = model.saturation_factor.register_forward_hook(passing)
        hooked = model(washed_out).image
        handle.remove()
        handle = model.saturation_factor.register_forward_hook(lambda m, a, o: o * 0 + 1)
        boosted = model(washed_out).image
        handle.remove()
    assert torch.equal(plain, hooked)
    assert seen[0].shape == (2,) and ((seen[0] >= 0) & (seen[0] <= 1)).all()
    assert not torch.equal(plain, boosted)
    assert not any("saturation_factor" in key for key in model.state_dict())


def test_a_restarted_component_gets_a_new_models_initial_weights_and_the_rest_stays() -> None:
    torch.manual_seed(11)
    model = UnifiedLowLightEnhancer()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.restart_("mask_predictor")
    # A new model's mask starts almost closed (bias -4), wherever the trained one was.
    assert torch.all(model.mask_predictor.body[-1].bias == -4.0)
    for key, value in model.state_dict().items():
        if key.startswith("mask_predictor."):
            assert not torch.equal(value, before[key]), key
        else:
            assert torch.equal(value, before[key]), key
    with pytest.raises(ValueError, match="no component 'mask'"):
        model.restart_("mask")
    with pytest.raises(ValueError, match="no component 'saturation_factor'"):
        model.restart_("saturation_factor")


def test_a_texture_mask_adds_the_curve_images_fine_texture_and_stays_in_range() -> None:
    torch.manual_seed(12)
    model = UnifiedLowLightEnhancer(mask_texture_sigma=2.0)
    with torch.no_grad():
        model.mask_predictor.body[-1].bias.fill_(10.0)  # the mask fully open
    rgb = torch.rand(1, 3, 48, 64) * 0.4
    with torch.no_grad():
        out = model(rgb)
        closed = UnifiedLowLightEnhancer(mask_texture_sigma=2.0)
        closed.load_state_dict(model.state_dict())
        closed.mask_predictor.body[-1].bias.fill_(-30.0)
        base = closed(rgb)
    assert 0.0 <= float(out.image.min()) and float(out.image.max()) <= 1.0
    # The texture carries no tone: the open mask moves the mean level by a hair only.
    assert abs(float(out.image.mean() - base.image.mean())) < 0.01
    assert float((out.image - base.image).abs().mean()) > 0.005


def test_a_texture_mask_trains_and_matches_in_train_and_eval() -> None:
    torch.manual_seed(13)
    model = UnifiedLowLightEnhancer(mask_texture_sigma=2.0).train()
    rgb = torch.rand(2, 3, 32, 32) * 0.3
    out = model(rgb)
    (out.image - torch.rand(2, 3, 32, 32)).abs().mean().backward()
    grads = model.mask_predictor.body[-1].weight.grad
    assert grads is not None and float(grads.abs().max()) > 0
    with torch.no_grad():
        difference = (model.train()(rgb).image - model.eval()(rgb).image).abs().max()
    assert difference < 1e-6
    with pytest.raises(ValueError, match="mask_texture_sigma"):
        UnifiedLowLightEnhancer(mask_texture_sigma=0.0)


def test_the_mask_starts_where_its_initial_bias_says() -> None:
    torch.manual_seed(14)
    rgb = torch.rand(1, 3, 32, 32) * 0.3
    with torch.no_grad():
        closed = UnifiedLowLightEnhancer()(rgb).mask
        half_open = UnifiedLowLightEnhancer(mask_initial_bias=0.0)(rgb).mask
    assert float(closed.max()) < 0.03
    assert abs(float(half_open.mean()) - 0.5) < 0.02


def test_the_decoder_lifts_no_pixel_past_the_detail_ceiling() -> None:
    torch.manual_seed(12)
    model = UnifiedLowLightEnhancer(detail_ceiling=0.9).eval()
    # A decoder that wants everything far brighter than the curves make it.
    with torch.no_grad():
        model.decoder.head[0].bias.fill_(5.0)
        out = model(torch.rand(1, 3, 32, 48) * 0.9)
    lifted = out.decoder_image > out.curve_image
    assert lifted.any()
    assert float(out.decoder_image[lifted].max()) <= 0.9 + 1e-6
    bright = out.curve_image >= 0.9
    assert bool((out.decoder_image[bright] <= out.curve_image[bright]).all())
