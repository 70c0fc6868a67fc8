"""The fast forms of monitoring's bookkeeping give exactly what the plain numpy forms give."""

from __future__ import annotations

import numpy as np
import pytest

from sim.policies.monitoring import IncomeWindow, SpendingWindow, float32_at_least


def flows(rng: np.random.Generator, households: int) -> tuple[np.ndarray, np.ndarray]:
    """Two flows of mixed magnitudes (so that the order of additions shows in the last bits)."""
    scale = 10.0 ** rng.integers(-3, 6, households)
    return rng.standard_normal(households) * scale, rng.random(households) * scale


@pytest.mark.parametrize("skip", [None, 17])
def test_the_income_window_total_is_the_sum_of_the_12_months_to_the_bit(skip):
    rng = np.random.default_rng(0)
    households = 5_000
    first = rng.random(households) * 1000
    window, dense = IncomeWindow(first), np.tile(first, (12, 1))
    for month in range(40):
        if month == skip:  # a month not recorded: the window must not reuse a stale prefix
            continue
        flow, more = flows(rng, households)
        dense[month % 12] = flow + more
        total = window.record(month, flow, more)
        assert np.array_equal(total, dense.sum(axis=0))


def test_the_spending_window_total_equals_the_dense_sum_and_is_zero_without_spending():
    rng = np.random.default_rng(1)
    households = 5_000
    window, dense = SpendingWindow(households), np.zeros((12, households))
    for month in range(30):
        flow, _ = flows(rng, households)
        flow[rng.random(households) < 0.9] = 0.0  # most households spend nothing
        dense[month % 12] = flow
        total = window.record(month, flow, np.flatnonzero(flow))
        # equal as numbers (a total of zeros may differ from the dense sum in the sign of 0)
        assert (total == dense.sum(axis=0)).all()
        assert (total[(dense == 0).all(axis=0)] == 0).all()


@pytest.mark.parametrize("share", [0.0, 0.1, 0.25, 1 / 3, 0.8, 0.123456789, 1.0])
def test_a_single_precision_lottery_against_the_rounded_up_share_is_the_double_precision_one(
    share,
):
    rng = np.random.default_rng(2)
    bound = float32_at_least(share)
    numbers = rng.random(1_000_000, dtype=np.float32)
    around = np.array(
        [np.nextafter(bound, np.float32(0)), bound, np.nextafter(bound, np.float32(2))],
        np.float32,
    )
    for u in (numbers, around):
        assert np.array_equal(u < bound, u < np.float64(share))
