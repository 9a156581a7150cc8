"""Building blocks of the restoration network: channel ("transposed") attention blocks."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ChannelLayerNorm", "TransposedAttention", "GatedFeedForward", "TransformerBlock"]


class ChannelLayerNorm(nn.Module):
    """Layer norm over the channels of each pixel of a (B, C, H, W) tensor."""

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(1, channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=1, keepdim=True)
        var = (x - mean).pow(2).mean(dim=1, keepdim=True)
        return (x - mean) * torch.rsqrt(var + self.eps) * self.weight + self.bias


class TransposedAttention(nn.Module):
    """Multi-head attention across channels (Restormer's MDTA), modulated by the SNR map.

    The attention matrix is (C/heads x C/heads) per head, so the cost grows linearly with
    the number of pixels and every output pixel sees the statistics of the whole image.
    The output is scaled by ``1 + g(snr)`` (``g`` a zero-initialised 1x1 conv), letting the
    block act differently on noisy and clean regions.
    """

    def __init__(self, channels: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.temperature = nn.Parameter(torch.ones(heads, 1, 1))
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.qkv_local = nn.Conv2d(3 * channels, 3 * channels, 3, padding=1, groups=3 * channels)
        self.project = nn.Conv2d(channels, channels, 1)
        self.snr_gate = nn.Conv2d(1, channels, 1)
        nn.init.zeros_(self.snr_gate.weight)
        nn.init.zeros_(self.snr_gate.bias)

    def forward(self, x: torch.Tensor, snr: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = x.shape
        q, k, v = self.qkv_local(self.qkv(x)).chunk(3, dim=1)
        shape = (batch, self.heads, channels // self.heads, height * width)
        q = F.normalize(q.reshape(shape), dim=-1)
        k = F.normalize(k.reshape(shape), dim=-1)
        attention = torch.softmax(q @ k.transpose(-2, -1) * self.temperature, dim=-1)
        out = (attention @ v.reshape(shape)).reshape(batch, channels, height, width)
        return self.project(out) * (1.0 + self.snr_gate(snr))


class GatedFeedForward(nn.Module):
    """Gated depthwise-conv feed-forward network (Restormer's GDFN)."""

    def __init__(self, channels: int, expansion: float = 2.0) -> None:
        super().__init__()
        hidden = int(channels * expansion)
        self.expand = nn.Conv2d(channels, 2 * hidden, 1)
        self.local = nn.Conv2d(2 * hidden, 2 * hidden, 3, padding=1, groups=2 * hidden)
        self.project = nn.Conv2d(hidden, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate, value = self.local(self.expand(x)).chunk(2, dim=1)
        return self.project(F.gelu(gate) * value)


class TransformerBlock(nn.Module):
    """Pre-norm residual block: SNR-guided transposed attention, then gated feed-forward."""

    def __init__(self, channels: int, heads: int, expansion: float = 2.0) -> None:
        super().__init__()
        self.norm_attention = ChannelLayerNorm(channels)
        self.attention = TransposedAttention(channels, heads)
        self.norm_ffn = ChannelLayerNorm(channels)
        self.ffn = GatedFeedForward(channels, expansion)

    def forward(self, x: torch.Tensor, snr: torch.Tensor) -> torch.Tensor:
        x = x + self.attention(self.norm_attention(x), snr)
        return x + self.ffn(self.norm_ffn(x))
