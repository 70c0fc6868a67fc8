"""Industrial (cash-crop) projects: income, price risk, coverage and booking."""

from __future__ import annotations

import numpy as np

from sim.engine.model import PovertyModel
from sim.engine.state import LIFTED
from sim.run import simulate

# No growth and no one ageing out of or into work: farm income and worker counts change only
# through the policy.
STATIC = ("population.real_growth=0", "shocks.retirement_rate=0", "shocks.labour_entry_rate=0")


def test_cash_crops_raise_income_of_enrolled_households(small, income_to_end):
    base_income, enrolled_income = 0.0, 0.0
    for seed in range(3):
        common = (f"seed={seed}", "years=6", "population.households=2000")
        model = PovertyModel(small(*common, "policy=industry"))
        with_industry = income_to_end(model)
        enrolled = model.policy("industry").enrolled
        assert enrolled.sum() > 0
        base = income_to_end(PovertyModel(small(*common)))
        enrolled_income += with_industry[enrolled].sum()
        base_income += base[enrolled].sum()
    assert enrolled_income > base_income


def test_volatile_cash_crop_prices_raise_relapse_among_enrolled_households(small):
    # With industry alone the 2020 support (population.support_share_lifted of a lifted
    # household's income) is withdrawn, and a relapse the support would have prevented is
    # attributed to its withdrawal, which outranks the price. Without support in 2020 there is
    # nothing to withdraw: the price risk shows in relapses and in their attributed cause.
    relapsed, price_relapses = {}, {}
    for sigma in ("0", "0.5"):
        relapsed[sigma], price_relapses[sigma] = 0, 0
        for seed in range(5):
            common = (
                f"seed={seed}",
                "years=10",
                "population.households=2000",
                "population.support_share_lifted=0",
            )
            cfg = small(*common, "policy=industry", f"shocks.price_sigma_cash_crop={sigma}")
            model = simulate(cfg, progress=False)
            enrolled = model.policy("industry").enrolled
            relapsed[sigma] += int((model.state.ever_relapsed & enrolled).sum())
            price_relapses[sigma] += sum(r["relapses_price"] for r in model.annual)
    assert relapsed["0.5"] > relapsed["0"]
    assert price_relapses["0.5"] > price_relapses["0"]


def test_coverage_is_never_exceeded_and_only_registered_farmers_switch(small):
    cfg = small("seed=1", "years=4", "policy=industry", "policies.industry.coverage=0.3", *STATIC)
    model = PovertyModel(cfg)
    uplift = 1.0 + cfg.policies.industry.farm_income_uplift
    s, policy = model.state, model.policy("industry")
    registered = s.initial_status == LIFTED
    cap = int(0.3 * registered.sum())
    farm_income_start = s.farm_income.copy()
    farmers_start = registered & (s.farm_workers > 0)
    assert farmers_start.sum() > cap
    while not model.finished:
        model.step()
        assert policy.enrolled.sum() <= cap
    assert policy.enrolled.sum() == cap == policy.metrics()["industry_enrolled"]
    np.testing.assert_array_equal(s.cash_crop, policy.enrolled)
    assert not (policy.enrolled & ~farmers_start).any()
    np.testing.assert_allclose(
        s.farm_income[policy.enrolled], uplift * farm_income_start[policy.enrolled]
    )
    np.testing.assert_array_equal(
        s.farm_income[~policy.enrolled], farm_income_start[~policy.enrolled]
    )


def test_support_and_startup_are_overhead_and_nobody_is_paid(small):
    cfg = small("seed=2", "years=3", "policy=industry")
    model = PovertyModel(cfg)
    policy, ind = model.policy("industry"), cfg.policies.industry
    enrolled_by_year = []
    while not model.finished:
        model.step()
        if model.month_of_year == 0:
            enrolled_by_year.append(int(policy.enrolled.sum()))
    assert enrolled_by_year[0] > 0
    expected = ind.startup_subsidy * enrolled_by_year[-1] + ind.support_cost_per_household * sum(
        enrolled_by_year
    )
    np.testing.assert_allclose(model.ledger.overhead["industry"], expected)
    assert model.ledger.paid["industry"] == 0.0
    assert model.ledger.received.sum() == 0.0
    assert model.ledger.cost("industry") == model.ledger.overhead["industry"]


def test_disabled_or_without_reach_changes_nothing(run_small):
    base = run_small("seed=5", "years=3").summary
    disabled = run_small(
        "seed=5", "years=3", "policies.industry.enabled=false", "policies.industry.coverage=1"
    ).summary
    assert disabled == base
    no_reach = run_small(
        "seed=5", "years=3", "policy=industry", "policies.industry.coverage=0"
    ).summary
    assert no_reach["cost_by_policy_yuan"] == {"industry": 0.0}
    assert no_reach["industry_enrolled"] == 0
    outcomes = {k: v for k, v in no_reach.items() if not k.startswith(("cost", "industry"))}
    assert outcomes == {k: v for k, v in base.items() if not k.startswith("cost")}
