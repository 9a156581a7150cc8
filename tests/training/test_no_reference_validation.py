"""Validation on photos without targets: the figures, and the rule that picks the best epoch."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from lowlight.data import PhotoDataset, find_photos
from lowlight.metrics import clipped_fraction, score_no_reference
from lowlight.training.best import best_row, improves, saved_rank
from lowlight.training.distributed import init_distributed
from lowlight.training.no_reference_validation import (
    CLIPPING_ALLOWANCE,
    NoReferenceValidation,
    validate_no_reference,
)
from lowlight.training.validation import PairedValidation


class Brighten(nn.Module):
    """A stand-in enhancer: every pixel times ``gain``, clipped at 1."""

    def __init__(self, gain: float) -> None:
        super().__init__()
        self.gain = gain

    def forward(self, photo: torch.Tensor) -> SimpleNamespace:
        return SimpleNamespace(image=(photo * self.gain).clamp(0.0, 1.0))


def test_the_figures_are_the_means_of_each_photo_s(photo_data: Path) -> None:
    photos = PhotoDataset(find_photos(photo_data))
    scores = validate_no_reference(
        Brighten(8.0), photos, init_distributed("cpu"), torch.device("cpu")
    )
    outputs = [(photo[None] * 8.0).clamp(0.0, 1.0) for _, photo in photos]
    each = [score_no_reference(output) for output in outputs]
    assert scores["val_niqe"] == pytest.approx(sum(s.niqe for s in each) / len(each))
    assert scores["val_mean_grey"] == pytest.approx(sum(s.mean_grey for s in each) / len(each))
    assert scores["val_clipped"] == pytest.approx(sum(s.clipped for s in each) / len(each))
    assert scores["val_clipped"] > 0.0 and scores["val_input_clipped"] == 0.0
    inputs = [float(clipped_fraction(photo[None])[0]) for _, photo in photos]
    assert scores["val_input_clipped"] == pytest.approx(sum(inputs) / len(inputs))
    assert scores["val_skipped"] == 0


def test_without_photos_nothing_is_scored_and_every_epoch_counts() -> None:
    scores = validate_no_reference(
        Brighten(1.0), PhotoDataset([]), init_distributed("cpu"), torch.device("cpu")
    )
    assert math.isnan(scores["val_niqe"]) and math.isnan(scores["val_mean_grey"])
    assert NoReferenceValidation.rank(scores) is None
    assert NoReferenceValidation(PhotoDataset([])).summary(scores) == "no validation scores"


def row(epoch: int, niqe: float, clipped: float, photos_clipped: float = 0.02) -> dict:
    return {
        "epoch": epoch,
        "val_niqe": niqe,
        "val_mean_grey": 0.4,
        "val_clipped": clipped,
        "val_input_clipped": photos_clipped,
    }


def test_the_best_epoch_has_the_lowest_niqe_among_those_not_clipping_more() -> None:
    limit = 0.02 + CLIPPING_ALLOWANCE
    rows = [
        row(1, 4.0, limit),  # at the limit: allowed
        row(2, 3.5, limit + 0.001),  # lower NIQE, but clips more than allowed
        row(3, 3.8, 0.0),
        row(4, 3.9, 0.01),
    ]
    assert best_row(rows, NoReferenceValidation.rank)["epoch"] == 3
    assert best_row(rows[1:2], NoReferenceValidation.rank)["epoch"] == 2  # none allowed
    flat = row(5, math.nan, 0.0)  # outputs without a NIQE rank below any that have one
    assert best_row([rows[0], flat], NoReferenceValidation.rank)["epoch"] == 1


def test_ranks_compare_as_the_rule_says() -> None:
    rank = NoReferenceValidation.rank
    assert improves(rank(row(2, 3.0, 0.0)), rank(row(1, 3.1, 0.0)))
    assert not improves(rank(row(2, 3.2, 0.0)), rank(row(1, 3.1, 0.0)))
    assert improves(rank(row(2, 9.0, 0.0)), rank(row(1, 3.0, 0.5)))
    assert improves(None, rank(row(1, 3.0, 0.0))) and improves(rank(row(1, 3.0, 0.0)), None)


def test_paired_ranks_are_psnr_and_old_checkpoints_keep_their_best() -> None:
    assert PairedValidation.rank({"val_psnr": 21.5}) == (21.5,)
    assert PairedValidation.rank({"val_psnr": math.nan}) is None
    assert saved_rank({"best_psnr": 21.5}) == (21.5,)
    assert saved_rank({"best_psnr": -math.inf}) is None
    assert saved_rank({"best_rank": [1.0, -3.5]}) == (1.0, -3.5)
