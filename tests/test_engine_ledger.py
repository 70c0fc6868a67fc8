"""The ledger: every yuan booked to one policy, and money booked equals money received."""

from __future__ import annotations

import numpy as np
import pytest

from sim.config import compose
from sim.engine.ledger import Ledger
from sim.engine.population import generate_population
from sim.engine.state import HouseholdState
from sim.run import simulate


@pytest.fixture
def state() -> HouseholdState:
    cfg = compose(["population=small", "seed=2"])
    return generate_population(cfg.population, cfg.poverty, 0.5, cfg.seed)[0]


def test_payments_reach_the_households_and_are_booked_to_their_policy(state):
    ledger = Ledger(state)
    state.expense_month[:] = 100.0
    mask = np.zeros(state.count, bool)
    mask[[1, 4]] = True
    ledger.transfer("a", mask, 30.0)  # a mask, one amount for all
    ledger.transfer("a", np.array([4, 7]), np.array([10.0, 20.0]))  # rows, one amount each
    ledger.cover_expense("b", np.array([1]), 60.0)
    ledger.spend_overhead("b", 500.0)
    assert ledger.paid["a"] == pytest.approx(90.0)
    assert ledger.paid["b"] == pytest.approx(60.0)
    assert ledger.overhead["a"] == 0.0 and ledger.overhead["b"] == 500.0
    assert ledger.cost("a") == pytest.approx(90.0) and ledger.cost("b") == pytest.approx(560.0)
    np.testing.assert_allclose(ledger.received[[1, 4, 7]], [90.0, 40.0, 20.0])
    np.testing.assert_allclose(state.policy_transfers_month[[1, 4, 7]], [30.0, 40.0, 20.0])
    assert state.expense_month[1] == pytest.approx(40.0)  # the bill paid on its behalf
    assert ledger.received.sum() == pytest.approx(sum(ledger.paid.values()))
    assert ledger.month_spending == pytest.approx(650.0)
    # Each policy's payments per household; transfers also count in the year's policy income.
    np.testing.assert_allclose(ledger.received_by["a"][[1, 4, 7]], [30.0, 40.0, 20.0])
    np.testing.assert_allclose(ledger.received_by["b"][[1, 4, 7]], [60.0, 0.0, 0.0])
    np.testing.assert_allclose(state.policy_ytd[[1, 4, 7]], [30.0, 40.0, 20.0])


def test_a_negative_payment_is_refused(state):
    ledger = Ledger(state)
    with pytest.raises(ValueError, match="'a' booked a negative payment"):
        ledger.transfer("a", np.array([0]), -1.0)


def test_every_policy_pays_what_households_receive(small):
    """policy=all: the payments booked per policy add up to what households received, and the
    summary's cost of each policy is its payments plus overhead."""
    model = simulate(small("seed=4", "years=3", "policy=all", "shocks=severe"), progress=False)
    ledger = model.ledger
    assert set(ledger.paid) <= {p.name for p in model.policies}
    paying = [name for name, paid in ledger.paid.items() if paid > 0]
    assert len(paying) >= 5  # transfers and covered bills of most policies
    assert ledger.received.sum() == pytest.approx(sum(ledger.paid.values()), rel=1e-12)
    assert (ledger.received >= 0).all()
    monthly = sum(m["policy_spending_yuan"] for m in model.monthly)
    total = sum(ledger.cost(p.name) for p in model.policies)
    assert monthly == pytest.approx(total, rel=1e-12)
