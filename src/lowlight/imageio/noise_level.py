"""The standard deviation of a picture's noise, per channel, from a sample of its rows.

Immerkær's (1996) kernel, the difference of two Laplacians, cancels locally planar signal, so
its response on a picture is mostly the noise (36 times its variance). Texture, edges and fine
detail respond too; taking only the lower half of the responses leaves most of them out: on
30 Urban100 and Sun80 photos darkened in linear light with shot and read noise, this read the
noise at 0.8 to 2.0 times its true level (median 1.13), where the median of a picture's detail
beside its reduced copy (1.35 times smaller) read 1.2 to 3.7 times (median 1.9), taking each
photo's fine texture for noise. Computed on about ``NOISE_ROWS`` rows spread over the picture,
it costs little at any size and runs in an exported graph (``torch.topk``, not
``torch.median``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["noise_level", "NOISE_ROWS"]

NOISE_ROWS = 64
"""Rows the noise is read on, each with its two neighbours: over 250 000 samples per channel on
a 12-megapixel photo."""
# Immerkær's kernel; its response to white noise of variance s^2 has variance 36 s^2.
_IMMERKAER = ((1.0, -2.0, 1.0), (-2.0, 4.0, -2.0), (1.0, -2.0, 1.0))
_KERNEL_NORM = 6.0
# The mean of |z| over the lower half of a standard normal's absolute values, which lie below
# 0.6745: 4 * (phi(0) - phi(0.6745)).
_LOWER_HALF_MEAN = 0.3247


def noise_level(image: torch.Tensor) -> torch.Tensor:
    """The standard deviation of the white noise in each channel of ``image``: (B, C, 1, 1).

    The mean of the lower half of the absolute responses to Immerkær's kernel over about
    ``NOISE_ROWS`` rows evenly spread (edges replicated), divided by what the same mean is for
    unit Gaussian noise. Unlike a median, the mean of a half varies smoothly with the noise
    on 8-bit pictures, whose responses are whole multiples of a level.

    Args:
        image: (B, C, H, W), any size (a picture under 3 pixels on a side reads as noiseless).

    Example:
        >>> _ = torch.manual_seed(0)
        >>> noisy = 0.5 + 0.02 * torch.randn(1, 3, 200, 300)
        >>> tuple(round(float(s), 2) for s in noise_level(noisy).flatten())
        (0.02, 0.02, 0.02)
    """
    batch, channels, height, width = image.shape
    step = torch.sym_max(1, height // NOISE_ROWS)
    centres = torch.arange(step // 2, height, step, device=image.device)
    neighbours = [(centres + offset).clamp(0, height - 1) for offset in (-1, 0, 1)]
    # Each sampled row with the rows above and below it, stacked as pictures three rows high.
    triples = torch.stack([image.index_select(-2, rows) for rows in neighbours], dim=-2)
    triples = triples.transpose(1, 2).flatten(0, 1)
    padded = F.pad(triples, (1, 1, 0, 0), mode="replicate")
    kernel = torch.tensor(_IMMERKAER, dtype=image.dtype, device=image.device)
    kernel = kernel.expand(channels, 1, 3, 3)
    response = F.conv2d(padded, kernel, groups=channels).abs()
    response = response.unflatten(0, (batch, -1)).transpose(1, 2).flatten(2)
    count = response.shape[-1]
    lower = torch.topk(response, (count + 1) // 2, dim=-1, largest=False).values
    return (lower.mean(dim=-1) / (_KERNEL_NORM * _LOWER_HALF_MEAN))[..., None, None]
