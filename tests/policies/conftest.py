"""Shared helpers of the policy tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from sim.engine.model import PovertyModel


@pytest.fixture
def income_to_end() -> Callable[[PovertyModel], np.ndarray]:
    """Step a model to the end of its run; each household's income (earned plus transfers)."""

    def step(model: PovertyModel) -> np.ndarray:
        s = model.state
        total = np.zeros(s.count)
        while not model.finished:
            model.step()
            total += s.income_month + s.policy_transfers_month
        return total

    return step


@pytest.fixture
def assert_worker_counts() -> Callable[[PovertyModel], None]:
    """Check each household's workers: farm, local, migrant or unemployed, none negative."""

    def check(model: PovertyModel) -> None:
        s = model.state
        employed = s.farm_workers + s.local_workers + s.migrant_workers + s.unemployed_migrants
        np.testing.assert_array_equal(employed, s.workers)
        assert (s.farm_workers >= 0).all() and (s.unemployed_migrants >= 0).all()

    return check
