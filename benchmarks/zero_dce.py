"""Zero-DCE (Li et al., CVPR 2020), the published model real photos are judged against.

DCE-Net as the paper describes it: seven 3x3 convolutions of 32 channels, each of the last
three fed the concatenation of the previous layer and its mirror in the first half; the last
gives 24 maps through tanh, eight curve maps per RGB channel, applied one after the other as
``x <- x + r * (x**2 - x)`` on the full-resolution input (no resizing, no padding). The
module's names follow the published state dict (``Zero-DCE_code/snapshots/Epoch99.pth`` in
Li-Chongyi/Zero-DCE), so the authors' weights load as they are; the file is read with
``weights_only``, so it runs no code.

    python benchmarks/zero_dce.py --zero-dce PATH/Epoch99.pth [--data DIR] [--threads N]

checks this implementation against ``anchors/real-dark-zerodce.json`` (the authors' own code
on ``real-dark/``): per photo, the NIQE, mean grey and clipped share of the result, as
``benchmarks/real_photos.py`` scores them, and prints the largest differences.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
import torch.nn.functional as F
from data_location import data_root, read_batch
from photo_figures import figures
from torch import nn

from lowlight.imageio import find_inputs

CURVES = 8
WIDTH = 32


class DceNet(nn.Module):
    """Zero-DCE's curve network: RGB (B, 3, H, W) in [0, 1] -> enhanced RGB in [0, 1]."""

    def __init__(self) -> None:
        super().__init__()
        self.e_conv1 = nn.Conv2d(3, WIDTH, 3, padding=1)
        self.e_conv2 = nn.Conv2d(WIDTH, WIDTH, 3, padding=1)
        self.e_conv3 = nn.Conv2d(WIDTH, WIDTH, 3, padding=1)
        self.e_conv4 = nn.Conv2d(WIDTH, WIDTH, 3, padding=1)
        self.e_conv5 = nn.Conv2d(2 * WIDTH, WIDTH, 3, padding=1)
        self.e_conv6 = nn.Conv2d(2 * WIDTH, WIDTH, 3, padding=1)
        self.e_conv7 = nn.Conv2d(2 * WIDTH, 3 * CURVES, 3, padding=1)

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        x1 = F.relu(self.e_conv1(rgb))
        x2 = F.relu(self.e_conv2(x1))
        x3 = F.relu(self.e_conv3(x2))
        x4 = F.relu(self.e_conv4(x3))
        x5 = F.relu(self.e_conv5(torch.cat([x3, x4], dim=1)))
        x6 = F.relu(self.e_conv6(torch.cat([x2, x5], dim=1)))
        curves = torch.tanh(self.e_conv7(torch.cat([x1, x6], dim=1)))
        enhanced = rgb
        for curve in torch.split(curves, 3, dim=1):
            enhanced = enhanced + curve * (enhanced * enhanced - enhanced)
        return enhanced


def load_zero_dce(path: Path) -> DceNet:
    """DCE-Net with the published weights at ``path`` (a PyTorch state dict), in eval mode.

    The published weights hold subnormal numbers (down to 7e-44), which make a CPU's
    convolutions about 30 times slower; they are set to zero, which changes no result by
    more than float32's rounding.

    Raises:
        FileNotFoundError: no file at ``path``.
    """
    if not path.is_file():
        raise FileNotFoundError(
            f"no Zero-DCE weights at {path}: pass the authors' Epoch99.pth "
            "(Zero-DCE_code/snapshots/ in Li-Chongyi/Zero-DCE)"
        )
    state = torch.load(path, map_location="cpu", weights_only=True)
    tiny = torch.finfo(torch.float32).tiny
    model = DceNet()
    model.load_state_dict({k: v.masked_fill(v.abs() < tiny, 0.0) for k, v in state.items()})
    return model.eval()


@torch.inference_mode()
def enhance_zero_dce(model: DceNet, rgb: torch.Tensor) -> torch.Tensor:
    """Zero-DCE's result for a (1, 3, H, W) picture in [0, 1], clamped to [0, 1]."""
    return model(rgb).clamp(0.0, 1.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zero-dce", type=Path, required=True, metavar="FILE")
    parser.add_argument("--data", type=Path, default=data_root())
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    anchor_file = args.data / "anchors" / "real-dark-zerodce.json"
    if not anchor_file.is_file():
        print(f"Zero-DCE's figures not found at {anchor_file}; pass --data", flush=True)
        return 2
    torch.set_num_threads(args.threads)
    model = load_zero_dce(args.zero_dce)
    anchors = json.loads(anchor_file.read_text())["zerodce"]
    largest = {"niqe": 0.0, "grey": 0.0, "clipped": 0.0}
    print("| photo | NIQE here | NIQE, authors' code | grey here | grey, authors' code |")
    print("|---|---|---|---|---|")
    for found in find_inputs([str(args.data / "real-dark")], videos=False):
        name = found.path.stem
        ours = figures(enhance_zero_dce(model, read_batch(found.path)))
        theirs = anchors[name]
        for key in largest:
            largest[key] = max(largest[key], abs(ours[key] - theirs[key]))
        print(
            f"| {name} | {ours['niqe']:.3f} | {theirs['niqe']:.3f} | "
            f"{ours['grey']:.4f} | {theirs['grey']:.4f} |",
            flush=True,
        )
    print(
        f"largest difference: NIQE {largest['niqe']:.4f}, grey {largest['grey']:.5f}, "
        f"clipped {100 * largest['clipped']:.3f} points"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
