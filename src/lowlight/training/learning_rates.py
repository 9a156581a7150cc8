"""The optimiser's parameter groups and their learning rates.

The decoder and curve groups follow a warm-up + cosine curve over the whole run
(``DECAYED_GROUPS``); the mask and colour ("other") groups keep absolute rates, the mask's set
again on entering each stage from 2 on (the trainer does that).
"""

from __future__ import annotations

import torch

from lowlight.models import UnifiedLowLightEnhancer
from lowlight.training.config import TrainConfig
from lowlight.training.schedule import cosine_with_warmup

__all__ = ["DECAYED_GROUPS", "param_groups", "group", "decay_learning_rates"]

DECAYED_GROUPS = ("decoder", "curve")
"""The parameter groups whose learning rate decays over a stage (``decay_learning_rates``)."""


def param_groups(model: UnifiedLowLightEnhancer, config: TrainConfig) -> list[dict]:
    """The groups ``decoder``, ``curve``, ``mask`` and ``other`` at their configured rates."""
    other = [*model.colour_affine.parameters(), *model.colour_correction.parameters()]
    return [
        {"name": "decoder", "params": list(model.decoder.parameters()), "lr": config.lr_decoder},
        {
            "name": "curve",
            "params": list(model.curve_estimator.parameters()),
            "lr": config.lr_curve,
        },
        {"name": "mask", "params": list(model.mask_predictor.parameters()), "lr": config.lr_mask},
        {"name": "other", "params": other, "lr": config.lr_other},
    ]


def group(optimizer: torch.optim.Optimizer, name: str) -> dict:
    """The parameter group called ``name``."""
    return next(g for g in optimizer.param_groups if g["name"] == name)


def decay_learning_rates(
    optimizer: torch.optim.Optimizer, config: TrainConfig, step: int, total_steps: int
) -> None:
    """Set ``DECAYED_GROUPS`` to their configured rates times the curve's factor at ``step``."""
    factor = cosine_with_warmup(step, total_steps, config.warmup_iterations)
    for name in DECAYED_GROUPS:
        group(optimizer, name)["lr"] = getattr(config, f"lr_{name}") * factor
