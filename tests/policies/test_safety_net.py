"""Safety net: households without working capacity never relapse; money booked is received."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine.model import PovertyModel
from sim.run import run


def relapsed_without_work_capacity(model: PovertyModel) -> int:
    s = model.state
    return int((s.ever_relapsed & (s.workers == 0)).sum())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_safety_net_removes_relapse_among_households_without_working_capacity(small, seed):
    overrides = (f"seed={seed}", "shocks=severe", "population.households=2000", "years=5")
    baseline = PovertyModel(small(*overrides))
    baseline.run()
    assert relapsed_without_work_capacity(baseline) > 0
    with_net = PovertyModel(small(*overrides, "policy=safety_net"))
    with_net.run()
    assert relapsed_without_work_capacity(with_net) == 0
    assert with_net.state.ever_relapsed.sum() < baseline.state.ever_relapsed.sum()


def test_money_booked_is_money_received_and_admin_follows_enrolment(small):
    model = PovertyModel(small("seed=3", "policy=safety_net", "years=3"))
    enrolled = int((model.state.workers == 0).sum())
    model.run()
    ledger = model.ledger
    assert ledger.paid["safety_net"] > 0
    assert ledger.paid["safety_net"] == pytest.approx(ledger.received.sum(), rel=1e-12)
    admin = model.cfg.policies.safety_net.admin_cost_per_household
    assert ledger.overhead["safety_net"] == pytest.approx(enrolled * admin * 3)
    assert (ledger.received[model.state.workers > 0] == 0).all()


def test_disabled_safety_net_leaves_the_run_unchanged(small):
    baseline = run(small("seed=4", "years=3")).summary
    disabled = run(small("seed=4", "years=3", "policies.safety_net.enabled=false")).summary
    assert baseline == disabled
    enabled = run(small("seed=4", "years=3", "policy=safety_net")).summary
    assert enabled["cost_by_policy_yuan"]["safety_net"] > 0
    assert np.isfinite(enabled["relapse_rate"])
