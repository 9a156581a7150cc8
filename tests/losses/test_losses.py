"""Loss functions: zero at a perfect prediction, known values, references, gradients."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from skimage.metrics import structural_similarity
from torch.autograd import gradcheck

from lowlight.errors import LowlightError
from lowlight.losses import (
    VGG_WEIGHTS_ENV,
    PerceptualLoss,
    charbonnier_loss,
    color_consistency_loss,
    color_diversity_loss,
    edge_loss,
    exposure_loss,
    mask_mean_loss,
    multiscale_structural_loss,
    ssim_loss,
)
from lowlight.losses.perceptual import _vgg16_features

PAIRED = {
    "charbonnier": charbonnier_loss,
    "ssim": ssim_loss,
    "edge": edge_loss,
    "multiscale_structural": multiscale_structural_loss,
    # Built per call, after ``no_vgg_env`` has cleared the environment variable.
    "perceptual_fallback": lambda pred, target: PerceptualLoss()(pred, target),
}


@pytest.fixture(autouse=True)
def no_vgg_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(VGG_WEIGHTS_ENV, raising=False)


def pair(seed: int = 0, shape=(2, 3, 32, 32)) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    target = torch.rand(shape, generator=generator)
    noise = 0.1 * torch.randn(shape, generator=generator)
    return (target + noise).clamp(0, 1), target


def to_tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(image).permute(2, 0, 1)[None].float()


@pytest.fixture
def vgg_weights(tmp_path: Path) -> Path:
    """Random VGG16 ``features`` weights under torchvision's key names (``features.N.*``)."""
    torch.manual_seed(0)
    state = {f"features.{k}": v for k, v in _vgg16_features().state_dict().items()}
    path = tmp_path / "vgg16.pth"
    torch.save(state, path)
    return path


# --------------------------------------------------------------------------- paired losses


@pytest.mark.parametrize("name", list(PAIRED))
def test_zero_for_perfect_prediction(name: str) -> None:
    _, target = pair()
    loss = PAIRED[name](target.clone(), target)
    assert loss.ndim == 0
    assert loss.item() == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("name", list(PAIRED))
def test_positive_and_gradient_flows(name: str) -> None:
    pred, target = pair(seed=1)
    pred.requires_grad_()
    loss = PAIRED[name](pred, target)
    assert loss.item() > 1e-3
    loss.backward()
    assert torch.isfinite(pred.grad).all()
    assert pred.grad.abs().max() > 0


@pytest.mark.parametrize("name", list(PAIRED))
def test_worse_prediction_costs_more(name: str) -> None:
    _, target = pair(seed=2)
    generator = torch.Generator().manual_seed(3)
    noise = torch.randn(target.shape, generator=generator)
    small = PAIRED[name]((target + 0.02 * noise).clamp(0, 1), target)
    large = PAIRED[name]((target + 0.2 * noise).clamp(0, 1), target)
    assert large > small > 0


def test_charbonnier_known_value() -> None:
    target = torch.zeros(1, 3, 4, 4)
    pred = torch.full((1, 3, 4, 4), 0.1)
    expected = math.sqrt(0.1**2 + 1e-6) - 1e-3
    assert charbonnier_loss(pred, target).item() == pytest.approx(expected, rel=1e-5)


def test_charbonnier_gradcheck() -> None:
    pred, target = (t.double() for t in pair(seed=4, shape=(1, 3, 3, 3)))
    pred.requires_grad_()
    assert gradcheck(charbonnier_loss, (pred, target))


@pytest.mark.parametrize(("height", "width"), [(11, 11), (20, 31), (48, 64)])
@pytest.mark.parametrize("seed", [0, 1])
def test_ssim_matches_scikit_image(height: int, width: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    target = rng.random((height, width, 3))
    rows, cols = np.mgrid[0:height, 0:width]
    if seed == 1:  # a smooth, structured scene and a dark noisy version of it
        target = np.stack([rows / height, cols / width, (rows + cols) / (height + width)], axis=2)
    pred = np.clip(0.7 * target + rng.normal(0.0, 0.05, target.shape), 0.0, 1.0)
    pred, target = pred.astype(np.float32), target.astype(np.float32)
    reference = structural_similarity(
        pred.astype(np.float64),
        target.astype(np.float64),
        channel_axis=2,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        data_range=1.0,
    )
    ours = ssim_loss(to_tensor(pred), to_tensor(target)).item()
    assert ours == pytest.approx(1.0 - reference, abs=1e-3)


def test_ssim_loss_batch_is_mean_of_images() -> None:
    pred, target = pair(seed=5)
    together = ssim_loss(pred, target)
    separately = (ssim_loss(pred[:1], target[:1]) + ssim_loss(pred[1:], target[1:])) / 2
    assert together.item() == pytest.approx(separately.item(), abs=1e-6)


def test_edge_loss_known_value() -> None:
    # Flat images have no edges; a flat prediction against a flat target costs 0 whatever
    # the levels, since only gradients are compared.
    assert edge_loss(torch.full((1, 3, 8, 8), 0.2), torch.full((1, 3, 8, 8), 0.7)).item() == 0.0
    step = torch.zeros(1, 3, 8, 8)
    step[..., 4:] = 1.0
    assert edge_loss(step, torch.zeros_like(step)).item() > 0.0


def test_multiscale_structural_known_scales() -> None:
    pred, target = pair(seed=6, shape=(1, 3, 48, 48))
    expected = torch.stack(
        [
            ssim_loss(pred, target),
            ssim_loss(*(torch.nn.functional.avg_pool2d(t, 2) for t in (pred, target))),
            ssim_loss(*(torch.nn.functional.avg_pool2d(t, 4) for t in (pred, target))),
        ]
    ).mean()
    assert multiscale_structural_loss(pred, target).item() == pytest.approx(
        expected.item(), abs=1e-6
    )
    # 16 pixels: only the full-resolution scale fits the 11-pixel window.
    small_pred, small_target = pair(seed=7, shape=(1, 3, 16, 16))
    assert multiscale_structural_loss(small_pred, small_target).item() == pytest.approx(
        ssim_loss(small_pred, small_target).item(), abs=1e-6
    )


def test_multiscale_structural_rejects_tiny_images() -> None:
    with pytest.raises(ValueError, match="too small for SSIM"):
        multiscale_structural_loss(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8))


# --------------------------------------------------------------------------- perceptual


def test_perceptual_without_weights_is_the_fallback() -> None:
    loss = PerceptualLoss()
    assert loss.kind == "multiscale_structural"
    assert loss.features is None
    pred, target = pair(seed=8)
    assert loss(pred, target).item() == pytest.approx(
        multiscale_structural_loss(pred, target).item(), abs=1e-7
    )


def test_perceptual_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(LowlightError, match="VGG16 weights not found"):
        PerceptualLoss(tmp_path / "nowhere.pth")


def test_perceptual_missing_file_from_env_raises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(VGG_WEIGHTS_ENV, str(tmp_path / "nowhere.pth"))
    with pytest.raises(LowlightError, match="not found"):
        PerceptualLoss()


def test_perceptual_corrupt_file_raises(tmp_path: Path) -> None:
    path = tmp_path / "vgg16.pth"
    path.write_bytes(b"not a state dict")
    with pytest.raises(LowlightError, match="cannot load VGG16 weights"):
        PerceptualLoss(path)


def test_perceptual_incomplete_state_raises(tmp_path: Path) -> None:
    state = {f"features.{k}": v for k, v in _vgg16_features().state_dict().items()}
    del state["features.14.weight"]
    path = tmp_path / "vgg16.pth"
    torch.save(state, path)
    with pytest.raises(LowlightError, match="lacks VGG16 layer"):
        PerceptualLoss(path)


def test_perceptual_with_vgg_weights(vgg_weights: Path) -> None:
    loss = PerceptualLoss(vgg_weights)
    assert loss.kind == "vgg16"
    assert all(not p.requires_grad for p in loss.features.parameters())
    expected = torch.load(vgg_weights, weights_only=True)["features.0.weight"]
    assert torch.equal(loss.features[0].weight, expected)
    pred, target = pair(seed=9)
    assert loss(target, target).item() == 0.0
    pred.requires_grad_()
    value = loss(pred, target)
    assert value.item() > 0.0
    value.backward()
    assert torch.isfinite(pred.grad).all() and pred.grad.abs().max() > 0


def test_perceptual_vgg_from_env(vgg_weights: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VGG_WEIGHTS_ENV, str(vgg_weights))
    assert PerceptualLoss().kind == "vgg16"


def test_perceptual_explicit_path_beats_env(
    vgg_weights: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(VGG_WEIGHTS_ENV, str(tmp_path / "nowhere.pth"))
    assert PerceptualLoss(vgg_weights).kind == "vgg16"


def test_perceptual_vgg_from_safetensors(tmp_path: Path) -> None:
    state = {f"features.{k}": v for k, v in _vgg16_features().state_dict().items()}
    path = tmp_path / "vgg16.safetensors"
    save_file(state, str(path))
    assert PerceptualLoss(path).kind == "vgg16"


# --------------------------------------------------------------------------- colour losses


def test_color_consistency_known_values() -> None:
    grey = torch.full((2, 3, 8, 8), 0.4)
    # Only sqrt(eps) remains for a balanced image.
    assert color_consistency_loss(grey).item() == pytest.approx(1e-4, rel=1e-3)
    cast = torch.tensor([0.6, 0.4, 0.2]).view(1, 3, 1, 1).expand(1, 3, 8, 8)
    d_rg, d_rb, d_gb = 0.2**2, 0.4**2, 0.2**2
    expected = math.sqrt(d_rg**2 + d_rb**2 + d_gb**2 + 1e-8)
    assert color_consistency_loss(cast).item() == pytest.approx(expected, rel=1e-5)


def test_color_consistency_gradient_flows() -> None:
    cast = torch.tensor([0.6, 0.4, 0.2]).view(1, 3, 1, 1) + 0.1 * torch.rand(1, 3, 8, 8)
    cast.requires_grad_()
    color_consistency_loss(cast).backward()
    assert torch.isfinite(cast.grad).all() and cast.grad.abs().max() > 0


def test_exposure_known_values() -> None:
    assert exposure_loss(torch.full((1, 3, 32, 32), 0.6)).item() == pytest.approx(0.0, abs=1e-12)
    assert exposure_loss(torch.full((2, 3, 20, 20), 0.2)).item() == pytest.approx(0.16, rel=1e-5)
    # Per 16x16 patch: left half at 0.6, right half at 0.0.
    half = torch.full((1, 3, 16, 32), 0.6)
    half[..., 16:] = 0.0
    assert exposure_loss(half).item() == pytest.approx(0.5 * 0.36, rel=1e-5)


def test_exposure_gradient_flows() -> None:
    dark = (torch.rand(1, 3, 16, 16) * 0.2).requires_grad_()
    exposure_loss(dark).backward()
    # Every pixel is pushed brighter.
    assert (dark.grad < 0).all()


def test_mask_mean_loss() -> None:
    mask = torch.tensor([0.0, 0.5, 1.0, 0.5]).view(1, 1, 2, 2).requires_grad_()
    loss = mask_mean_loss(mask)
    assert loss.item() == 0.5
    loss.backward()
    assert torch.allclose(mask.grad, torch.full_like(mask, 0.25))


def diversity_reference(pred: np.ndarray, noise_floor=0.01, brightness_floor=0.05) -> float:
    """The documented formula, per image, averaged over the batch, written out in NumPy."""
    values = []
    for image in pred:
        grey = image.mean(axis=0)
        spread = np.sqrt(((image - grey) ** 2).mean(axis=0) + noise_floor**2)
        avg_diversity = spread.mean()
        saturation = (spread / (grey + brightness_floor)).mean()
        values.append(0.5 * np.exp(-15.0 * avg_diversity) + 0.5 * np.exp(-10.0 * saturation))
    return float(np.mean(values))


def diversity_batches() -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(10)
    return {
        "grey": torch.full((2, 3, 8, 8), 0.5),
        "colourful": torch.rand(2, 3, 8, 8, generator=generator),
        "black": torch.zeros(2, 3, 8, 8),
        "mixed": torch.cat(
            [torch.full((1, 3, 8, 8), 0.3), torch.rand(1, 3, 8, 8, generator=generator)]
        ),
    }


@pytest.mark.parametrize("name", ["grey", "colourful", "black", "mixed"])
def test_color_diversity_matches_formula(name: str) -> None:
    batch = diversity_batches()[name]
    ours = color_diversity_loss(batch).item()
    assert ours == pytest.approx(diversity_reference(batch.double().numpy()), rel=1e-5)
    assert 0.0 < ours <= 1.0


def test_color_diversity_known_values_grey_and_black() -> None:
    # Grey level g: spread = noise floor 0.01, saturation = 0.01 / (g + 0.05).
    for level in (0.0, 0.5):
        expected = 0.5 * math.exp(-15 * 0.01) + 0.5 * math.exp(-10 * 0.01 / (level + 0.05))
        loss = color_diversity_loss(torch.full((1, 3, 4, 4), level))
        assert loss.item() == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("name", ["grey", "colourful", "black", "mixed"])
def test_color_diversity_gradient_is_finite_and_nonzero(name: str) -> None:
    batch = diversity_batches()[name].clone().requires_grad_()
    color_diversity_loss(batch).backward()
    assert torch.isfinite(batch.grad).all()
    assert batch.grad.abs().max() > 0


def test_color_diversity_is_never_a_constant() -> None:
    values = {name: color_diversity_loss(b).item() for name, b in diversity_batches().items()}
    assert len(set(values.values())) == len(values)
    # Collapse costs more than colour; two grey levels differ too.
    assert values["grey"] > values["colourful"]
    grey_levels = [color_diversity_loss(torch.full((1, 3, 4, 4), g)).item() for g in (0.2, 0.8)]
    assert grey_levels[0] != grey_levels[1]


def test_color_diversity_on_grey_rewards_darkening() -> None:
    # A property of the documented formula worth knowing: the noise floor over the brightness
    # floor makes dark pixels count as saturated, so black (0.498) scores better than mid
    # grey (0.847), and on a grey image the only gradient is along the grey axis, darker.
    black = color_diversity_loss(torch.zeros(1, 3, 4, 4)).item()
    grey = torch.full((1, 3, 4, 4), 0.5, requires_grad=True)
    value = color_diversity_loss(grey)
    value.backward()
    assert black == pytest.approx(0.5 * math.exp(-0.15) + 0.5 * math.exp(-2.0), rel=1e-6)
    assert black < value.item()
    assert (grey.grad > 0).all()
    assert torch.allclose(grey.grad, grey.grad[:, :1].expand_as(grey.grad))


def test_color_diversity_is_the_mean_over_images() -> None:
    batches = diversity_batches()
    together = color_diversity_loss(torch.cat([batches["grey"], batches["colourful"]]))
    halves = (
        color_diversity_loss(batches["grey"]) + color_diversity_loss(batches["colourful"])
    ) / 2
    assert together.item() == pytest.approx(halves.item(), rel=1e-6)


def test_color_diversity_gradcheck() -> None:
    torch.manual_seed(11)
    pred = torch.rand(2, 3, 3, 3, dtype=torch.float64, requires_grad=True)
    assert gradcheck(color_diversity_loss, (pred,))
    grey = torch.full((1, 3, 2, 2), 0.5, dtype=torch.float64, requires_grad=True)
    assert gradcheck(color_diversity_loss, (grey,))
