"""Full-reference image quality as the low-light field scores LOL: PSNR, SSIM and GT-mean.

Protocol (see ``protocol()``): RGB, both images rounded to uint8 levels first, peak 1.0 (255 on
uint8), SSIM of Wang et al. with an 11x11 Gaussian window (sigma 1.5) on the valid interior,
exactly as scikit-image computes it on uint8 arrays. Every function works on a batch and returns
one value per image, in the input's floating dtype (at least float32). PSNR is accumulated in
float64 where the device has it; SSIM in float32 inputs agrees with float64 to about 1e-6.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from lowlight.metrics.checks import check_image, out_dtype, work_dtype
from lowlight.models.colour import luminance

__all__ = [
    "quantize",
    "psnr",
    "ssim",
    "gt_mean_rescale",
    "psnr_gt_mean",
    "ssim_gt_mean",
    "protocol",
]

# SSIM constants of Wang et al. (2004), relative to a data range of 1.
SSIM_K1 = 0.01
SSIM_K2 = 0.03
# Gaussian window: sigma 1.5 truncated at 3.5 sigma gives scikit-image's 11x11 window.
SSIM_SIGMA = 1.5
SSIM_WINDOW = 11


def _check_pair(pred: torch.Tensor, target: torch.Tensor) -> None:
    check_image(pred, "pred")
    check_image(target, "target")
    if pred.shape != target.shape:
        raise ValueError(
            f"pred and target must have the same shape, got {tuple(pred.shape)} "
            f"and {tuple(target.shape)}"
        )


def quantize(x: torch.Tensor, bit_depth: int = 8) -> torch.Tensor:
    """Round to the nearest level of ``bit_depth`` bits: ``round(x * peak) / peak`` in [0, 1].

    ``peak`` is 255 for 8 bits (how the metrics see an image) and 65535 for 16. Saving an image
    stores these levels as integers (``lowlight.imageio.samples.to_samples``).

    Args:
        x: any shape, nominally in [0, 1].
        bit_depth: 8 or 16.

    Returns:
        Same shape and dtype, values in {0, 1/peak, ..., 1}.

    Examples:
        >>> quantize(torch.tensor([0.0, 0.5, 1.2]))
        tensor([0.0000, 0.5020, 1.0000])
    """
    if bit_depth not in (8, 16):
        raise ValueError(f"bit_depth must be 8 or 16, got {bit_depth}")
    peak = float(2**bit_depth - 1)
    # One temporary, rounded and rescaled in place: a 24-megapixel image is large.
    return (x * peak).round_().div_(peak).clamp_(0.0, 1.0)


def psnr(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """PSNR in dB of each image, as scikit-image scores uint8 arrays with ``data_range=255``.

    Both images are rounded to uint8 levels first; the MSE is over all pixels and channels of
    one image; the peak is 1.0 (255 on uint8). Identical images give ``inf``, as in scikit-image.

    Args:
        pred: (B, 3, H, W) in [0, 1], the enhanced images.
        target: (B, 3, H, W) in [0, 1], the references.

    Returns:
        (B,) in dB, dtype of ``pred`` (at least float32).

    Examples:
        >>> target = torch.full((1, 3, 4, 4), 0.5)
        >>> round(float(psnr(target + 0.1, target)), 2)  # 25 uint8 levels apart
        20.17
    """
    _check_pair(pred, target)
    dtype = work_dtype(pred)
    diff = quantize(pred.to(dtype)) - quantize(target.to(dtype))
    mse = diff.square().mean(dim=(1, 2, 3))
    # 10 * log10(1 / 0) is inf, which is scikit-image's answer for identical images.
    return (-10.0 * torch.log10(mse)).to(out_dtype(pred))


def _gaussian_window(dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    radius = SSIM_WINDOW // 2
    offsets = torch.arange(-radius, radius + 1, dtype=dtype, device=device)
    window = torch.exp(-0.5 * (offsets / SSIM_SIGMA) ** 2)
    return window / window.sum()


def _blur_valid(x: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian filter per channel keeping only fully covered pixels."""
    channels = x.shape[1]
    size = window.numel()
    rows = window.view(1, 1, size, 1).expand(channels, 1, size, 1)
    cols = window.view(1, 1, 1, size).expand(channels, 1, 1, size)
    return F.conv2d(F.conv2d(x, rows, groups=channels), cols, groups=channels)


def ssim(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean SSIM of each image, matching scikit-image on uint8 arrays.

    Equal to ``structural_similarity(a, b, channel_axis=2, gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False, data_range=255)``: both images rounded to uint8 levels, an
    11x11 Gaussian window (sigma 1.5), K1 = 0.01, K2 = 0.03, population (co)variances, the SSIM
    map averaged over the interior that excludes a 5-pixel border, per channel, then over the
    three channels. The interior of a filtered map does not depend on how the border is padded,
    so a 'valid' convolution gives exactly scikit-image's numbers.

    Args:
        pred: (B, 3, H, W) in [0, 1] with H, W >= 11.
        target: (B, 3, H, W) in [0, 1].

    Returns:
        (B,) in [-1, 1], dtype of ``pred`` (at least float32); 1 for identical images.

    Examples:
        >>> image = torch.rand(2, 3, 16, 16)
        >>> ssim(image, image)
        tensor([1., 1.])
    """
    _check_pair(pred, target)
    height, width = pred.shape[-2:]
    if height < SSIM_WINDOW or width < SSIM_WINDOW:
        raise ValueError(
            f"SSIM needs images of at least {SSIM_WINDOW}x{SSIM_WINDOW} pixels, "
            f"got {height}x{width}"
        )
    # Rounded in float64 so that float32 and float64 inputs land on the same uint8 levels.
    work, dtype = work_dtype(pred), out_dtype(pred)
    x = quantize(pred.to(work)).to(dtype)
    y = quantize(target.to(work)).to(dtype)
    # Centring each channel on its mean leaves the (co)variances unchanged and makes
    # E[x^2] - E[x]^2 cancel far less, so float32 stays within about 1e-6 of float64.
    x_centre = x.mean(dim=(2, 3), keepdim=True)
    y_centre = y.mean(dim=(2, 3), keepdim=True)
    x = x - x_centre
    y = y - y_centre
    window = _gaussian_window(dtype, x.device)
    channels = x.shape[1]
    moments = _blur_valid(torch.cat([x, y, x * x, y * y, x * y], dim=1), window)
    mu_x, mu_y, xx, yy, xy = moments.split(channels, dim=1)
    var_x = xx - mu_x * mu_x
    var_y = yy - mu_y * mu_y
    cov_xy = xy - mu_x * mu_y
    mu_x = mu_x + x_centre
    mu_y = mu_y + y_centre
    c1 = SSIM_K1**2
    c2 = SSIM_K2**2
    ssim_map = ((2.0 * mu_x * mu_y + c1) * (2.0 * cov_xy + c2)) / (
        (mu_x * mu_x + mu_y * mu_y + c1) * (var_x + var_y + c2)
    )
    return ssim_map.mean(dim=(1, 2, 3))


def _grey_mean(rgb: torch.Tensor) -> torch.Tensor:
    """Mean Rec. 601 luma of each image (OpenCV's RGB2GRAY, as the field's GT-mean code)."""
    return luminance(rgb).mean(dim=(1, 2, 3))


def gt_mean_rescale(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Scale each prediction so its mean grey level equals its target's ("GT-mean").

    The grey level is Rec. 601 luma (0.299 R + 0.587 G + 0.114 B, OpenCV's RGB2GRAY), as in the
    field's GT-mean code; with it the LOL-v1 eval15 low images score 18.78 dB / 0.492, the
    published figures. The scaled image is clamped to [0, 1], so where it saturates its mean can
    fall short of the target's. A black prediction is left black. Scores computed after this
    rescale must be labelled GT-mean: they use the reference's exposure.

    Args:
        pred: (B, 3, H, W) in [0, 1].
        target: (B, 3, H, W) in [0, 1].

    Returns:
        (B, 3, H, W) in [0, 1], dtype of ``pred`` (at least float32).

    Examples:
        >>> pred = torch.full((1, 3, 2, 2), 0.2)
        >>> gt_mean_rescale(pred, torch.full((1, 3, 2, 2), 0.4))[0, 0, 0, 0]
        tensor(0.4000)
    """
    _check_pair(pred, target)
    return _rescale_to_grey_mean(pred, target).to(out_dtype(pred))


def _rescale_to_grey_mean(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``gt_mean_rescale`` in the work dtype (float64 where the device has it)."""
    dtype = work_dtype(pred)
    pred_work = pred.to(dtype)
    pred_grey = _grey_mean(pred_work)
    target_grey = _grey_mean(target.to(dtype))
    # A black image has no exposure to adjust; a factor of 1 avoids dividing by zero.
    scale = torch.where(pred_grey > 0, target_grey / pred_grey.clamp_min(1e-12), 1.0)
    return torch.clamp(pred_work * scale.view(-1, 1, 1, 1), 0.0, 1.0)


def _gt_mean_levels(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The GT-mean rescaled prediction rounded to uint8 levels, in the dtype of ``pred``.

    Rounding before the cast keeps float32 and float64 inputs on the same uint8 levels.
    """
    _check_pair(pred, target)
    rescaled = _rescale_to_grey_mean(quantize(pred.to(work_dtype(pred))), target)
    return quantize(rescaled).to(out_dtype(pred))


def psnr_gt_mean(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``psnr`` after ``gt_mean_rescale``: (B,) in dB. Label it GT-mean.

    The prediction is rounded to uint8 levels before the rescale (the field scales the saved
    uint8 output) and again after it.
    """
    return psnr(_gt_mean_levels(pred, target), target)


def ssim_gt_mean(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``ssim`` after ``gt_mean_rescale``: (B,) in [-1, 1]. Label it GT-mean."""
    return ssim(_gt_mean_levels(pred, target), target)


def protocol() -> dict[str, str]:
    """How the numbers of this module are computed, to store next to every result."""
    return {
        "colour": "RGB, full image, no border crop for PSNR",
        "quantisation": "output and target rounded to uint8 levels (round(x*255)/255) first",
        "psnr": "10*log10(1/MSE), peak 1.0 (255 on uint8), MSE over all pixels and channels "
        "of one image; inf for identical images; scikit-image peak_signal_noise_ratio "
        "(data_range=255) on uint8",
        "ssim": "Wang et al. 2004, 11x11 Gaussian window sigma 1.5, K1=0.01, K2=0.03, "
        "population covariance, mean over the valid interior (5-pixel border excluded) per "
        "channel then over RGB; scikit-image structural_similarity(channel_axis=2, "
        "gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255) on uint8",
        "gt_mean": "psnr_gt_mean / ssim_gt_mean: output scaled so its mean grey level "
        "(Rec. 601 luma, as OpenCV RGB2GRAY) equals the target's, clamped to [0, 1], then scored "
        "as above; these use the reference's exposure and must be labelled GT-mean",
        "mean": "arithmetic mean over images",
    }
