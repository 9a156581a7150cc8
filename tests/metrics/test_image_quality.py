"""PSNR, SSIM and GT-mean against scikit-image and the published LOL-v1 figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from lowlight.imageio import read_rgb
from lowlight.metrics import (
    gt_mean_rescale,
    psnr,
    psnr_gt_mean,
    quantize,
    ssim,
    ssim_gt_mean,
)

TOLERANCE = 1e-3
SIZES = [(11, 11), (17, 23), (48, 64), (33, 40)]
GREY = np.array([0.299, 0.587, 0.114])


def skimage_psnr(pred: np.ndarray, target: np.ndarray) -> float:
    return peak_signal_noise_ratio(target, pred, data_range=255)


def skimage_ssim(pred: np.ndarray, target: np.ndarray) -> float:
    return structural_similarity(
        pred,
        target,
        channel_axis=2,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        data_range=255,
    )


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Round as the metrics do, from the float32 values the tensors hold."""
    image = image.astype(np.float32).astype(np.float64)
    return np.clip(np.round(image * 255.0), 0, 255).astype(np.uint8)


def to_tensor(images: list[np.ndarray]) -> torch.Tensor:
    """(H, W, 3) float arrays in [0, 1] -> (B, 3, H, W) float32."""
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float()


def random_pair(rng: np.random.Generator, height: int, width: int) -> tuple[np.ndarray, ...]:
    target = rng.random((height, width, 3))
    pred = np.clip(target + rng.normal(0.0, 0.1, target.shape), 0.0, 1.0)
    return pred, target


def structured_pair(rng: np.random.Generator, height: int, width: int) -> tuple[np.ndarray, ...]:
    """A smooth colour gradient with a checkerboard and a saturated patch, and a dark noisy copy."""
    rows, cols = np.mgrid[0:height, 0:width]
    ramp = np.stack([rows / height, cols / width, (rows + cols) / (height + width)], axis=2)
    checker = ((rows // 4 + cols // 4) % 2)[..., None] * 0.3
    target = np.clip(0.2 + 0.5 * ramp + checker, 0.0, 1.0)
    target[: height // 3, : width // 3] = 1.0
    dark = 0.08 * target + rng.normal(0.0, 0.01, target.shape)
    return np.clip(dark, 0.0, 1.0), target


@pytest.mark.parametrize("make_pair", [random_pair, structured_pair])
@pytest.mark.parametrize(("height", "width"), SIZES)
def test_matches_scikit_image(make_pair, height: int, width: int) -> None:
    rng = np.random.default_rng(height * 1000 + width)
    pred, target = make_pair(rng, height, width)
    pred_t, target_t = to_tensor([pred]), to_tensor([target])
    pred_u8, target_u8 = to_uint8(pred), to_uint8(target)

    assert float(psnr(pred_t, target_t)[0]) == pytest.approx(
        skimage_psnr(pred_u8, target_u8), abs=TOLERANCE
    )
    assert float(ssim(pred_t, target_t)[0]) == pytest.approx(
        skimage_ssim(pred_u8, target_u8), abs=TOLERANCE
    )


def test_gt_mean_matches_numpy_reference() -> None:
    rng = np.random.default_rng(0)
    pred, target = structured_pair(rng, 40, 52)
    pred_u8, target_u8 = to_uint8(pred), to_uint8(target)
    # The field's GT-mean: scale the uint8 output by the ratio of grey-level means, clamp.
    pred_f = pred_u8 / 255.0
    scaled = np.clip(pred_f * ((target_u8 / 255.0) @ GREY).mean() / (pred_f @ GREY).mean(), 0, 1)
    scaled_u8 = to_uint8(scaled)
    pred_t, target_t = to_tensor([pred]), to_tensor([target])

    assert float(psnr_gt_mean(pred_t, target_t)[0]) == pytest.approx(
        skimage_psnr(scaled_u8, target_u8), abs=TOLERANCE
    )
    assert float(ssim_gt_mean(pred_t, target_t)[0]) == pytest.approx(
        skimage_ssim(scaled_u8, target_u8), abs=TOLERANCE
    )


def test_batch_equals_one_image_at_a_time() -> None:
    rng = np.random.default_rng(1)
    pairs = [random_pair(rng, 24, 30), structured_pair(rng, 24, 30), random_pair(rng, 24, 30)]
    preds = to_tensor([p for p, _ in pairs])
    targets = to_tensor([t for _, t in pairs])
    for metric in (psnr, ssim, psnr_gt_mean, ssim_gt_mean):
        batch = metric(preds, targets)
        assert batch.shape == (3,)
        single = torch.cat([metric(preds[i : i + 1], targets[i : i + 1]) for i in range(3)])
        torch.testing.assert_close(batch, single)


def test_identical_images() -> None:
    image = torch.rand(2, 3, 16, 20)
    # scikit-image returns inf for identical images; so do we.
    assert torch.isinf(psnr(image, image)).all()
    torch.testing.assert_close(ssim(image, image), torch.ones(2))


def test_quantize() -> None:
    x = torch.tensor([-0.1, 0.0, 0.5, 1.0 / 510.0 + 1e-6, 1.0, 1.3])
    expected = torch.tensor([0.0, 0.0, 128 / 255, 1 / 255, 1.0, 1.0])
    torch.testing.assert_close(quantize(x), expected)


def test_psnr_scores_uint8_levels() -> None:
    target = torch.full((1, 3, 12, 12), 100 / 255)
    nearly = target + 0.4 / 255  # rounds back to the same uint8 level
    assert torch.isinf(psnr(nearly, target)).all()


def test_gt_mean_rescale_matches_target_grey_level() -> None:
    rng = np.random.default_rng(2)
    target = to_tensor([rng.random((20, 24, 3)) * 0.6, rng.random((20, 24, 3)) * 0.3])
    pred = target * torch.tensor([0.2, 0.5]).view(2, 1, 1, 1)
    rescaled = gt_mean_rescale(pred, target)
    grey = torch.tensor(GREY, dtype=torch.float32).view(1, 3, 1, 1)
    torch.testing.assert_close(
        (rescaled * grey).sum(dim=1).mean(dim=(1, 2)), (target * grey).sum(dim=1).mean(dim=(1, 2))
    )
    assert rescaled.shape == pred.shape and rescaled.dtype == pred.dtype


def test_gt_mean_rescale_clamps_and_keeps_black() -> None:
    target = torch.full((2, 3, 8, 8), 0.9)
    pred = torch.zeros(2, 3, 8, 8)
    pred[0, :, :4] = 0.5  # scaled by 3.6: the bright half saturates at 1
    rescaled = gt_mean_rescale(pred, target)
    assert float(rescaled.max()) == 1.0 and float(rescaled.min()) == 0.0
    assert torch.equal(rescaled[1], pred[1])


@pytest.mark.parametrize(
    ("pred_shape", "target_shape", "match"),
    [
        ((1, 3, 16, 16), (1, 3, 16, 17), r"same shape.*\(1, 3, 16, 16\).*\(1, 3, 16, 17\)"),
        ((2, 3, 16, 16), (1, 3, 16, 16), "same shape"),
        ((1, 4, 16, 16), (1, 4, 16, 16), r"expected \(B, 3, H, W\), got \(1, 4, 16, 16\)"),
        ((3, 16, 16), (3, 16, 16), r"expected \(B, 3, H, W\), got \(3, 16, 16\)"),
    ],
)
def test_shape_errors(pred_shape, target_shape, match) -> None:
    for metric in (psnr, ssim, psnr_gt_mean, ssim_gt_mean, gt_mean_rescale):
        with pytest.raises(ValueError, match=match):
            metric(torch.rand(pred_shape), torch.rand(target_shape))


def test_ssim_needs_the_window() -> None:
    with pytest.raises(ValueError, match="at least 11x11.*10x32"):
        ssim(torch.rand(1, 3, 10, 32), torch.rand(1, 3, 10, 32))


def test_rejects_non_float_tensors() -> None:
    with pytest.raises(TypeError, match="ndarray"):
        psnr(np.zeros((1, 3, 16, 16)), torch.zeros(1, 3, 16, 16))
    with pytest.raises(TypeError, match="float tensor in \\[0, 1\\], got torch.uint8"):
        ssim(torch.zeros(1, 3, 16, 16), torch.zeros(1, 3, 16, 16, dtype=torch.uint8))


def test_float64_inputs_agree_with_float32() -> None:
    rng = np.random.default_rng(3)
    pred, target = structured_pair(rng, 40, 50)
    single = [to_tensor([pred]), to_tensor([target])]
    double = [t.double() for t in single]
    for metric in (psnr, ssim, psnr_gt_mean, ssim_gt_mean):
        result = metric(*double)
        assert result.dtype == torch.float64
        assert float(result[0]) == pytest.approx(float(metric(*single)[0]), abs=1e-5)


def test_eval15_low_images_score_the_published_figures(eval15_root: Path) -> None:
    names = sorted(path.name for path in (eval15_root / "low").iterdir())
    assert len(names) == 15
    scores: dict[str, list[float]] = {"psnr": [], "ssim": [], "psnr_gt": [], "ssim_gt": []}
    for name in names:
        low = to_tensor([read_rgb(eval15_root / "low" / name)])
        high = to_tensor([read_rgb(eval15_root / "high" / name)])
        scores["psnr"].append(float(psnr(low, high)[0]))
        scores["ssim"].append(float(ssim(low, high)[0]))
        scores["psnr_gt"].append(float(psnr_gt_mean(low, high)[0]))
        scores["ssim_gt"].append(float(ssim_gt_mean(low, high)[0]))
    assert np.mean(scores["psnr"]) == pytest.approx(7.77, abs=0.01)
    assert np.mean(scores["ssim"]) == pytest.approx(0.195, abs=0.002)
    assert np.mean(scores["psnr_gt"]) == pytest.approx(18.78, abs=0.01)
    assert np.mean(scores["ssim_gt"]) == pytest.approx(0.492, abs=0.002)
