"""The shipped default model scores on eval15 what its benchmark table and model card say."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lowlight.evaluation import evaluate_folder
from lowlight.weights import load_model

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "eval15_quality.json"


def test_default_model_reproduces_the_published_eval15_table(eval15_root: Path) -> None:
    published = json.loads(RESULTS.read_text())["mean"]
    result = evaluate_folder(load_model(), eval15_root)
    for metric, tolerance in (
        ("psnr", 0.01),
        ("ssim", 1e-4),
        ("psnr_gt_mean", 0.01),
        ("ssim_gt_mean", 1e-4),
    ):
        assert result["mean"][metric] == pytest.approx(published[metric], abs=tolerance), metric
    # Far better than the dark inputs themselves (7.77 dB / 0.195).
    assert result["mean"]["psnr"] > 19.0 and result["mean"]["ssim"] > 0.75
