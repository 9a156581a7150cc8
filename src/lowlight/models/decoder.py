"""The restoration network: a small multi-scale transformer with channel attention."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from lowlight.models.attention import TransformerBlock

__all__ = ["TransformerDecoder"]


class _Stage(nn.ModuleList):
    def __init__(self, channels: int, heads: int, depth: int) -> None:
        super().__init__(TransformerBlock(channels, heads) for _ in range(depth))

    def forward(self, x: torch.Tensor, snr: torch.Tensor) -> torch.Tensor:
        for block in self:
            x = block(x, snr)
        return x


class TransformerDecoder(nn.Module):
    """Denoises and restores a low-light image: a small multi-scale transformer.

    Design (chosen for quality per CPU-second on LOL-like data, where read noise dominates):

    * All work happens at 1/2 resolution or below: the full-resolution input is
      pixel-unshuffled by 2, and a U-Net of transformer stages runs at 1/2, 1/4 and 1/8.
      Most blocks sit at 1/8, where a wide receptive field removes heavy noise cheaply.
    * Attention is across channels (transposed attention), so its cost is linear in pixels
      and each block sees global image statistics, which exposure correction needs.
    * The SNR map gates every attention block, so noisy dark regions and clean bright ones
      are treated differently.

    The enhancer uses the output either as an image estimate whose detail it keeps (the
    input is then the low image and its SNR map, 4 channels) or, in files from before the
    tone split, as a residual on the curve image (curve image, low image, SNR map: 7).

    Args:
        in_channels: input channels at full resolution.
        widths: channels at 1/2, 1/4 and 1/8 resolution.
        depths: blocks per encoder stage (the last is the bottleneck).
        decoder_depths: blocks per decoder stage, from 1/4 back up to 1/2.
        heads: attention heads per stage.

    Input (B, in_channels, H, W) with H and W divisible by ``factor``; the SNR map
    (B, 1, H, W); output (B, 3, H, W).
    """

    def __init__(
        self,
        in_channels: int = 7,
        widths: Sequence[int] = (32, 64, 128),
        depths: Sequence[int] = (1, 1, 4),
        decoder_depths: Sequence[int] = (1, 1),
        heads: Sequence[int] = (1, 2, 4),
    ) -> None:
        super().__init__()
        levels = len(widths)
        if not (len(depths) == len(heads) == levels and len(decoder_depths) == levels - 1):
            raise ValueError("widths, depths and heads need one entry per level, decoder one less")
        self.factor = 2**levels
        self.embed = nn.Sequential(
            nn.PixelUnshuffle(2), nn.Conv2d(4 * in_channels, widths[0], 3, padding=1)
        )
        self.encoders = nn.ModuleList(
            _Stage(w, h, d) for w, h, d in zip(widths, heads, depths, strict=True)
        )
        self.downs = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(widths[i], widths[i + 1] // 4, 3, padding=1), nn.PixelUnshuffle(2)
            )
            for i in range(levels - 1)
        )
        self.ups = nn.ModuleList(
            nn.Sequential(nn.Conv2d(widths[i + 1], 4 * widths[i], 1), nn.PixelShuffle(2))
            for i in range(levels - 1)
        )
        self.fuses = nn.ModuleList(
            nn.Conv2d(2 * widths[i], widths[i], 1) for i in range(levels - 1)
        )
        self.decoders = nn.ModuleList(
            _Stage(widths[i], heads[i], decoder_depths[i]) for i in range(levels - 1)
        )
        self.head = nn.Sequential(nn.Conv2d(widths[0], 12, 3, padding=1), nn.PixelShuffle(2))

    def forward(self, features_in: torch.Tensor, snr: torch.Tensor) -> torch.Tensor:
        """The restored (B, 3, H, W) output alone; see ``restore``."""
        return self.restore(features_in, snr)[0]

    def restore(
        self, features_in: torch.Tensor, snr: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(restored, scene)``: the (B, 3, H, W) output and the bottleneck's features.

        ``scene`` is (B, widths[-1], H * 2 / factor, W * 2 / factor): the deepest stage's
        view of the picture (at 1/8 resolution with three levels), for other branches to use.
        """
        scene, skips, snr_levels = self._encode(features_in, snr)
        x = scene
        for i in reversed(range(len(self.decoders))):
            x = self.fuses[i](torch.cat([self.ups[i](x), skips[i]], dim=1))
            x = self.decoders[i](x, snr_levels[i])
        return self.head(x), scene

    def scene(self, features_in: torch.Tensor, snr: torch.Tensor) -> torch.Tensor:
        """``restore``'s ``scene`` alone, without the decoding half's cost."""
        return self._encode(features_in, snr)[0]

    def _encode(
        self, features_in: torch.Tensor, snr: torch.Tensor
    ) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
        """The bottleneck's features, the skips to each decoder stage and the SNR map pooled
        to each stage's resolution."""
        x = self.embed(features_in)
        snr_levels = [F.avg_pool2d(snr, 2 ** (i + 1)) for i in range(len(self.encoders))]
        skips = []
        for i, encoder in enumerate(self.encoders):
            x = encoder(x, snr_levels[i])
            if i < len(self.downs):
                skips.append(x)
                x = self.downs[i](x)
        return x, skips, snr_levels
