"""Shared helpers of the policy tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from sim.model import PovertyModel


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
