"""Fine-tuning on photos without targets, through the staged trainer's steps."""

from __future__ import annotations

import copy

import torch
from torch import Tensor

from lowlight.models import EnhancerOutput
from lowlight.training.trainer import Trainer
from lowlight.training.unpaired_objective import UnpairedObjective
from lowlight.training.validation import mixed_precision

__all__ = ["UnpairedTrainer"]


class UnpairedTrainer(Trainer):
    """Fine-tunes the model of ``init_weights`` on ``config.data``, a folder of photos.

    Everything but the objective is ``Trainer``'s: the run folder and its files, the stages
    (by default one, with the mask predictor frozen), learning rates, clipping, guards, the
    weight average, validation, resume, ``torchrun``. Each batch is a set of photo crops; the
    objective (``UnpairedObjective``) scores the output with Zero-DCE's zero-reference terms
    and against the output of the starting model, a frozen copy kept as ``teacher``, on the
    same crops. The teacher is saved in every checkpoint, so that a resumed run distils toward
    the model it started from even if the ``init_weights`` file has changed since.
    """

    teacher: torch.nn.Module

    def _initial_model(self, resume: bool):
        model = super()._initial_model(resume)
        self.teacher = copy.deepcopy(model).eval().requires_grad_(False).to(self.device)
        return model

    def _make_objective(self) -> torch.nn.Module:
        return UnpairedObjective(self.config.unpaired_objective())

    def _objective_note(self) -> str:
        terms = ", ".join(f"{k} {v:g}" for k, v in self.objective.loss.to_dict().items())
        return f"unpaired objective, distilled toward {self.config.init_weights}: {terms}"

    def _epoch_weights(self, stage: int, epoch_in_stage: int) -> dict[str, float]:
        """The unpaired objective's weights are the same in every epoch (its own ``loss``)."""
        return {}

    def _inputs(self, batch: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """``(photos, reference)``: the crops and the starting model's output on them."""
        (photos,) = batch
        photos = photos.to(self.device)
        with torch.no_grad(), mixed_precision(self.device):
            reference = self.teacher(photos).image.float()
        return photos, reference

    def _loss(self, output: EnhancerOutput, low: Tensor, target: Tensor, weights: dict) -> tuple:
        """The unpaired objective of the output on the crops ``low``, distilled toward
        ``target``, the starting model's output; ``weights`` are the objective's own."""
        return self.objective(output, low, target)

    def _state(self) -> dict:
        return {**super()._state(), "teacher": self.teacher.state_dict()}

    def _restore(self, state: dict) -> None:
        super()._restore(state)
        self.teacher.load_state_dict(state["teacher"])
