"""Stage bookkeeping and the learning-rate factor, at their boundaries."""

from __future__ import annotations

import math

import pytest

from lowlight.training.schedule import cosine_with_warmup, stage_of_epoch

STAGE_EPOCHS = (10, 20, 30)


@pytest.mark.parametrize(
    ("epoch", "expected"),
    [
        (0, (1, 0)),
        (9, (1, 9)),
        (10, (2, 0)),
        (29, (2, 19)),
        (30, (3, 0)),
        (59, (3, 29)),
        # Past the end: still the last stage (a resumed run given more epochs).
        (60, (3, 30)),
        (75, (3, 45)),
    ],
)
def test_stage_of_epoch_boundaries(epoch: int, expected: tuple[int, int]) -> None:
    assert stage_of_epoch(epoch, STAGE_EPOCHS) == expected


def test_stage_of_epoch_skips_empty_stages() -> None:
    assert stage_of_epoch(0, (0, 5, 5)) == (2, 0)
    assert stage_of_epoch(5, (0, 5, 5)) == (3, 0)
    assert stage_of_epoch(4, (5, 0, 5)) == (1, 4)
    assert stage_of_epoch(5, (5, 0, 5)) == (3, 0)


def test_stage_of_epoch_past_the_end_with_empty_last_stage() -> None:
    # The last non-empty stage is 2; epochs keep counting within it.
    assert stage_of_epoch(9, (5, 5, 0)) == (2, 4)
    assert stage_of_epoch(10, (5, 5, 0)) == (2, 5)
    assert stage_of_epoch(12, (5, 5, 0)) == (2, 7)


def test_stage_of_epoch_single_epoch_stages() -> None:
    assert [stage_of_epoch(e, (1, 1, 1)) for e in range(4)] == [(1, 0), (2, 0), (3, 0), (3, 1)]


@pytest.mark.parametrize(
    ("step", "expected"),
    [(0, 0.1), (4, 0.5), (9, 1.0)],
)
def test_cosine_warmup_is_linear(step: int, expected: float) -> None:
    assert cosine_with_warmup(step, total_steps=110, warmup_steps=10) == pytest.approx(expected)


def test_cosine_boundaries() -> None:
    floor = 0.02
    assert cosine_with_warmup(10, 110, 10) == pytest.approx(1.0)
    # Half-way through the decay: floor + (1 - floor) / 2.
    assert cosine_with_warmup(60, 110, 10) == pytest.approx(floor + (1 - floor) * 0.5)
    assert cosine_with_warmup(35, 110, 10) == pytest.approx(
        floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * 0.25))
    )
    assert cosine_with_warmup(110, 110, 10) == pytest.approx(floor)
    assert cosine_with_warmup(500, 110, 10) == pytest.approx(floor)


def test_cosine_without_warmup_and_custom_floor() -> None:
    assert cosine_with_warmup(0, 100, 0) == pytest.approx(1.0)
    assert cosine_with_warmup(100, 100, 0, floor=0.0) == pytest.approx(0.0, abs=1e-12)
    assert cosine_with_warmup(50, 100, 0, floor=0.5) == pytest.approx(0.75)


def test_cosine_is_monotone_after_warmup_and_stays_in_range() -> None:
    values = [cosine_with_warmup(step, 200, 20) for step in range(250)]
    assert all(0.02 - 1e-12 <= v <= 1.0 + 1e-12 for v in values)
    decay = values[20:]
    assert all(a >= b for a, b in zip(decay, decay[1:], strict=False))
    warmup = values[:20]
    assert all(a < b for a, b in zip(warmup, warmup[1:], strict=False))


def test_cosine_degenerate_total_equals_warmup() -> None:
    # span is floored at one step, so no division by zero.
    assert cosine_with_warmup(10, 10, 10) == pytest.approx(1.0)
    assert cosine_with_warmup(11, 10, 10) == pytest.approx(0.02)
