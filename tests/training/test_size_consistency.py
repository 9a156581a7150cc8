"""The size-consistency term: the network's answer on a reduced batch against its own
full-size answer reduced alike."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from lowlight.errors import LowlightError
from lowlight.models import UnifiedLowLightEnhancer
from lowlight.training.size_consistency import draw_factor, size_consistency_loss
from lowlight.training.trainer import Trainer


def test_the_term_is_zero_for_a_network_whose_answer_does_not_depend_on_size() -> None:
    def scale(picture: torch.Tensor) -> torch.Tensor:
        return picture * 1.5

    low = torch.rand(2, 3, 64, 96) * 0.5
    assert float(size_consistency_loss(scale, low, scale(low), 0.5)) < 1e-6


def test_the_term_scores_the_reduced_answer_against_the_full_one_reduced() -> None:
    low = torch.rand(1, 3, 64, 96) * 0.5
    full = low * 2.0

    def brighter_when_small(picture: torch.Tensor) -> torch.Tensor:
        return picture * 2.2

    loss = size_consistency_loss(brighter_when_small, low, full, 0.5)
    small = F.interpolate(low, size=(32, 48), mode="area")
    expected = (small * 0.2).abs().mean()
    assert float(loss) == pytest.approx(float(expected), rel=0.02)


def test_no_gradient_reaches_the_full_size_result() -> None:
    model = UnifiedLowLightEnhancer()
    low = torch.rand(1, 3, 64, 64) * 0.3
    full = model(low).image
    loss = size_consistency_loss(lambda picture: model(picture).image, low, full, 0.5)
    (grad,) = torch.autograd.grad(loss, full, allow_unused=True)
    assert grad is None


def test_factors_are_drawn_log_uniformly_in_range() -> None:
    generator = torch.Generator().manual_seed(0)
    factors = torch.tensor([draw_factor((0.25, 1.0), generator) for _ in range(2000)])
    assert float(factors.min()) >= 0.25 and float(factors.max()) <= 1.0
    # Log-uniform: half of the draws below the geometric middle, 0.5.
    assert float((factors < 0.5).float().mean()) == pytest.approx(0.5, abs=0.05)


def test_a_run_with_the_term_trains_logs_it_and_says_so(make_config) -> None:
    trainer = Trainer(
        make_config(
            image_size=0, batch_size=1, size_consistency=1.0,
            size_consistency_scale=(0.5, 0.75), stage_epochs=(1, 0, 0),
        )
    )  # fmt: skip
    before = {name: p.detach().clone() for name, p in trainer.model.named_parameters()}
    rows = trainer.fit()
    assert len(rows) == 1 and rows[0]["train_skipped"] == 0
    assert rows[0]["train_size_consistency"] > 0
    assert "size consistency 1 at x0.5 to x0.75" in trainer.banner()
    moved = [n for n, p in trainer.model.named_parameters() if not torch.equal(p, before[n])]
    assert moved


def test_the_term_passes_gradients_to_the_curves_and_the_decoder(make_config) -> None:
    low = torch.rand(1, 3, 48, 48) * 0.3
    trainer = Trainer(make_config(image_size=0, batch_size=1, size_consistency=1.0))
    result = trainer.model(low).image
    term = trainer._size_consistency(low, result)
    term.backward()
    with_grad = [n for n, p in trainer.model.named_parameters() if p.grad is not None]
    assert any(n.startswith("curve_estimator") for n in with_grad)
    assert any(n.startswith("decoder") for n in with_grad)


def test_a_step_whose_term_is_not_finite_is_skipped_and_moves_nothing(make_config) -> None:
    trainer = Trainer(make_config(image_size=0, batch_size=1, size_consistency=1.0))
    trainer._size_consistency = lambda low, result: torch.tensor(float("nan"))
    low = torch.rand(1, 3, 48, 48) * 0.3
    # A first forward pass projects the colour parameters into their ranges; then nothing moves.
    trainer.model(low)
    before = {name: p.detach().clone() for name, p in trainer.model.named_parameters()}
    result = trainer.train_step(low, low * 3, {"w_reconstruction": 1.0})
    assert result.skipped
    assert all(torch.equal(p, before[n]) for n, p in trainer.model.named_parameters())


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"size_consistency": -1.0}, "size_consistency must be 0 \\(off\\) or positive"),
        ({"size_consistency_scale": (0.5, 1.5)}, "size_consistency_scale must be a range"),
    ],
)
def test_bad_settings_are_refused(make_config, values, message) -> None:
    with pytest.raises(LowlightError, match=message):
        make_config(**values).validate()
