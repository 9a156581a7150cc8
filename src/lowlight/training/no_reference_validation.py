"""Validation on photos without targets: the no-reference figures, and which epoch is best.

Each whole photo is enhanced and scored by ``lowlight.metrics.score_no_reference``, as
``lowlight evaluate --no-reference`` scores it (which also tiles photos above 4 megapixels;
validation runs them whole). The best epoch is the one with the lowest mean NIQE among the
epochs whose outputs are not clipped more than the photos themselves plus
``CLIPPING_ALLOWANCE``: NIQE alone would reward a picture brightened until its highlights burn.
"""

from __future__ import annotations

import math

import torch

from lowlight.data import PhotoDataset
from lowlight.metrics import clipped_fraction, score_no_reference
from lowlight.metrics.niqe import NIQE_BLOCK
from lowlight.models import UnifiedLowLightEnhancer
from lowlight.training.distributed import DistributedContext
from lowlight.training.validation import Validation, mixed_precision

__all__ = ["NoReferenceValidation", "validate_no_reference", "CLIPPING_ALLOWANCE"]

CLIPPING_ALLOWANCE = 0.01
"""How much more of the output may be clipped than of the photos themselves (1 point)."""
# The figures averaged over the validation photos, each kept as ``val_<name>``.
AVERAGED = ("mean_grey", "clipped", "crushed", "colourfulness", "input_clipped")


@torch.no_grad()
def validate_no_reference(
    model: UnifiedLowLightEnhancer,
    photos: PhotoDataset,
    dist: DistributedContext,
    device: torch.device,
) -> dict:
    """The no-reference figures of the model's outputs over the validation photos.

    Each rank scores its share of the photos; sums and counts are reduced over ranks. An
    output that is not finite is skipped and counted.

    Returns:
        ``val_niqe`` (mean over the outputs that have one), ``val_mean_grey``,
        ``val_clipped``, ``val_crushed``, ``val_colourfulness`` and ``val_input_clipped``
        (the clipped share of the photos themselves), all means and NaN when nothing was
        scored; ``val_skipped``.
    """
    model.eval()
    sums = dict.fromkeys(AVERAGED, 0.0)
    niqe_sum = 0.0
    count = niqe_count = skipped = 0
    for index in range(dist.rank, len(photos), dist.world_size):
        _, photo = photos[index]
        photo = photo[None].to(device)
        with mixed_precision(device):
            image = model(photo).image.float()
        if not torch.isfinite(image).all():
            skipped += 1
            continue
        scores = score_no_reference(image)
        for name in AVERAGED[:-1]:
            sums[name] += getattr(scores, name)
        sums["input_clipped"] += float(clipped_fraction(photo)[0])
        count += 1
        if not math.isnan(scores.niqe):
            niqe_sum += scores.niqe
            niqe_count += 1
    local = [*sums.values(), niqe_sum, count, niqe_count, skipped]
    *totals, niqe_sum, count, niqe_count, skipped = dist.sum(local, device)
    means = {
        f"val_{name}": (total / count if count else math.nan)
        for name, total in zip(AVERAGED, totals, strict=True)
    }
    return {
        "val_niqe": niqe_sum / niqe_count if niqe_count else math.nan,
        **means,
        "val_skipped": int(skipped),
    }


class NoReferenceValidation(Validation):
    """Validation on whole photos without targets (``validate_no_reference``), each at least
    one 96x96 NIQE block (``min_side``).

    The best epoch: lowest ``val_niqe`` among the epochs whose ``val_clipped`` is at most
    ``val_input_clipped + CLIPPING_ALLOWANCE``; if no epoch is, the lowest NIQE of all.
    """

    min_side = NIQE_BLOCK
    validate = staticmethod(validate_no_reference)
    label_keys = ("val_niqe", "val_clipped")

    @staticmethod
    def rank(row: dict) -> tuple[float, float] | None:
        """Higher is better; None when nothing was scored."""
        if math.isnan(row["val_mean_grey"]):
            return None
        within = row["val_clipped"] <= row["val_input_clipped"] + CLIPPING_ALLOWANCE
        niqe = row["val_niqe"]
        return float(within), -niqe if not math.isnan(niqe) else -math.inf

    @staticmethod
    def describe(row: dict) -> str:
        clipped = f"clipped {row['val_clipped']:.2%} (photos {row['val_input_clipped']:.2%})"
        figures = [f"val NIQE {row['val_niqe']:.3f}", f"grey level {row['val_mean_grey']:.3f}"]
        figures += [clipped, f"crushed {row['val_crushed']:.2%}"]
        return ", ".join([*figures, f"colourfulness {row['val_colourfulness']:.1f}"])
