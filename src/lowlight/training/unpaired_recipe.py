"""Every figure of fine-tuning on photos without targets (``lowlight train --unpaired``).

The objective (``UnpairedLoss``) is Zero-DCE's four zero-reference losses plus a distillation
term that keeps the network near the model it started from: its output on the same crop is the
target of an L1 and an SSIM term, so that the denoising and structure learnt from pairs survive
while exposure and colour adapt to the photos. The paired recipe (``loss_weights``) is not used.

An unpaired run takes ``UNPAIRED_DEFAULTS`` for every option that neither the YAML file nor
the command line sets: a short, gentle fine-tune rather than training from scratch.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from types import MappingProxyType

from lowlight.errors import LowlightError

__all__ = ["UnpairedLoss", "UNPAIRED_DEFAULTS", "UNPAIRED_TERMS"]

UNPAIRED_TERMS = (
    "spatial_consistency",
    "exposure",
    "colour_constancy",
    "illumination_smoothness",
    "distill_l1",
    "distill_ssim",
)
"""The logged loss terms, in the order of ``UnpairedLoss``'s weights."""


@dataclass(frozen=True)
class UnpairedLoss:
    """Weights of the unpaired objective's terms, and the exposure term's target level.

    ``total = sum_k weight_k * term_k``; a weight of 0 leaves its term out of the gradient
    (it is still logged).

    Attributes:
        spatial_consistency: Zero-DCE's Eq. 3 (``spatial_consistency_loss``): neighbouring
            4x4 regions keep the contrast they had in the photo.
        exposure: Zero-DCE's Eq. 4 (``exposure_loss``): the grey level of 16x16 patches is
            pulled towards ``exposure_level``.
        colour_constancy: Zero-DCE's Eq. 5 (``color_consistency_loss``): grey-world balance
            of the channel means.
        illumination_smoothness: Zero-DCE's Eq. 6 (``illumination_smoothness_loss``) on the
            curve parameters.
        distill_l1: Charbonnier L1 between the output and the starting model's output.
        distill_ssim: 1 - SSIM between the same two.
        exposure_level: the well-exposed grey level of the exposure term, in (0, 1).
    """

    # Zero-DCE's relative weights of its four terms (its code doubles the smoothness term).
    spatial_consistency: float = 1.0
    exposure: float = 10.0
    colour_constancy: float = 5.0
    illumination_smoothness: float = 200.0
    # Strong enough that fine-tuning the shipped model on half of real-dark/ leaves LOL-v1
    # eval15 where it was (22.47 dB); with 1 and 1 it can lose 0.9 dB
    # (benchmarks/unpaired_finetune.py, docs/benchmarks.md).
    distill_l1: float = 5.0
    distill_ssim: float = 5.0
    # Zero-DCE aims at 0.6; the shipped model's outputs, like LOL-v1's targets, sit near 0.45,
    # and a brighter aim would pull everything up rather than even out its extremes.
    exposure_level: float = 0.45

    @classmethod
    def from_dict(cls, values: dict) -> UnpairedLoss:
        """The weights of a config's ``unpaired_loss`` mapping; missing keys take defaults.

        Raises:
            LowlightError: an unknown key, a value that is not a number, a negative weight, or
                an exposure level outside (0, 1).
        """
        known = [field.name for field in dataclasses.fields(cls)]
        unknown = sorted(str(key) for key in values if key not in known)
        if unknown:
            raise LowlightError(
                f"unknown unpaired_loss key(s): {', '.join(unknown)}; known: {', '.join(known)}"
            )
        for key, value in values.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise LowlightError(f"unpaired_loss '{key}' must be a number, got {value!r}")
            if not value >= 0:
                raise LowlightError(f"unpaired_loss '{key}' must be 0 or more, got {value}")
        loss = cls(**{key: float(value) for key, value in values.items()})
        if not 0.0 < loss.exposure_level < 1.0:
            raise LowlightError(
                f"unpaired_loss 'exposure_level' must be in (0, 1), got {loss.exposure_level}"
            )
        return loss

    def to_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)

    def weight(self, term: str) -> float:
        """The weight of one of ``UNPAIRED_TERMS``."""
        return getattr(self, term)


UNPAIRED_DEFAULTS = MappingProxyType(
    {
        # One stage: the mask predictor, which decides where the curves' result is kept, stays
        # as the starting model learnt it; --stage-epochs A,B,C unfreezes it from stage 2.
        "stage_epochs": (8, 0, 0),
        # Crops let photos of any size share a batch and keep their noise as it is.
        "image_size": 256,
        "batch_size": 4,
        "samples_per_epoch": 32,
        # Fine-tuning rates: a tenth to a hundredth of training from scratch, so that a few
        # hundred steps adapt exposure and colour without undoing what the pairs taught.
        "lr_decoder": 2e-5,
        "lr_curve": 1e-4,
        "lr_other": 1e-5,
        "warmup_iterations": 8,
        "val_fraction": 0.2,
    }
)
"""The options of a ``--unpaired`` run that none of the command line, the YAML file or a
resumed run sets."""
