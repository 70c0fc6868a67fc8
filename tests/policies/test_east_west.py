"""East-west pairing: placements, purchase premiums, capacities, worker counts and booking."""

from __future__ import annotations

import numpy as np

from sim.engine.model import PovertyModel
from sim.engine.state import LIFTED
from sim.run import simulate

PLACEMENTS_ONLY = (
    "policy=east_west",
    "policies.east_west.purchase_share=0",
    "policies.east_west.placements_per_1000_households=30",
)

# No growth and no one ageing out of or into work: farm income and worker counts change only
# through the policy.
STATIC = ("population.real_growth=0", "shocks.retirement_rate=0", "shocks.labour_entry_rate=0")


def test_placements_raise_migrant_work_and_lower_relapse(small):
    migrants = {"base": 0, "east_west": 0}
    relapses = {"base": 0, "east_west": 0}
    for seed in range(4):
        common = (f"seed={seed}", "years=6", "population.households=2000")
        for label, extra in (("base", ()), ("east_west", PLACEMENTS_ONLY)):
            model = simulate(small(*common, *extra), progress=False)
            migrants[label] += int(model.state.migrant_workers.sum())
            relapses[label] += sum(r["relapses"] for r in model.annual)
    assert migrants["east_west"] > migrants["base"]
    assert relapses["east_west"] < relapses["base"]


def test_yearly_placements_fill_but_never_exceed_capacity(small):
    # 30 per 1,000 on 600 households: 18 a year, far fewer than the candidates.
    model = simulate(small("seed=1", "years=4", *PLACEMENTS_ONLY), progress=False)
    policy = model.policy("east_west")
    assert policy.capacity == 18
    assert policy.placements_by_year == [18] * 4
    assert policy.metrics()["east_west_placements"] == 72
    # Every worker of every household on offer: candidates run out before the capacity does.
    model = simulate(
        small(
            "seed=1",
            "years=4",
            "policy=east_west",
            "policies.east_west.placements_per_1000_households=1000",
        ),
        progress=False,
    )
    policy = model.policy("east_west")
    assert all(0 < placed <= policy.capacity for placed in policy.placements_by_year)
    assert min(policy.placements_by_year) < policy.capacity
    assert sum(policy.placements_by_year) == policy.metrics()["east_west_placements"]


def test_worker_counts_stay_consistent_and_farm_income_follows_farm_workers(
    small, assert_worker_counts
):
    model = PovertyModel(
        small(
            "seed=2",
            "years=4",
            "shocks=severe",
            "policy=east_west",
            "policies.east_west.placements_per_1000_households=200",
            *STATIC,
        )
    )
    s, policy = model.state, model.policy("east_west")
    farm_workers_start = s.farm_workers.copy()
    farm_income_start = s.farm_income.copy()
    while not model.finished:
        model.step()
        assert_worker_counts(model)
        assert (policy.placed >= 0).all() and (policy.placed <= s.migrant_workers).all()
    assert policy.placements > 0
    left_farm = farm_workers_start > s.farm_workers
    assert left_farm.sum() > 0
    farming = farm_workers_start > 0
    np.testing.assert_allclose(
        s.farm_income[farming],
        farm_income_start[farming] * s.farm_workers[farming] / farm_workers_start[farming],
    )


def test_purchase_premium_booked_is_income_received(small, income_to_end):
    """Without placements, the households' extra income is exactly the premium booked."""
    common = ("seed=3", "years=3", "shocks=severe")
    base = income_to_end(PovertyModel(small(*common)))
    model = PovertyModel(
        small(*common, "policy=east_west", "policies.east_west.placements_per_1000_households=0")
    )
    with_purchases = income_to_end(model)
    paid = model.ledger.paid["east_west"]
    assert paid > 0
    assert paid == model.policy("east_west").metrics()["east_west_purchase_premium_yuan"]
    np.testing.assert_allclose(with_purchases.sum() - base.sum(), paid)
    np.testing.assert_allclose(with_purchases - base, model.ledger.received, atol=1e-6)
    registered = model.state.initial_status == LIFTED
    assert (model.ledger.received[~registered] == 0).all()


def test_cost_is_premiums_paid_plus_aid_and_placement_overhead(small):
    cfg = small("seed=4", "years=3", "policy=east_west")
    model = simulate(cfg, progress=False)
    policy, ledger, ew = model.policy("east_west"), model.ledger, cfg.policies.east_west
    metrics = policy.metrics()
    assert policy.placements > 0
    assert metrics["east_west_wage_premium_yuan"] > 0
    np.testing.assert_allclose(ledger.paid["east_west"], ledger.received.sum(), rtol=1e-12)
    aid_and_placements = (
        ew.fiscal_aid_per_household * model.state.count * cfg.years
        + ew.placement_cost_per_worker * policy.placements
    )
    # The remitted share of the wage premium is paid to households, the rest is overhead.
    remitted = cfg.population.remittance_share * metrics["east_west_wage_premium_yuan"]
    np.testing.assert_allclose(
        ledger.paid["east_west"], metrics["east_west_purchase_premium_yuan"] + remitted
    )
    np.testing.assert_allclose(
        ledger.overhead["east_west"],
        aid_and_placements + metrics["east_west_wage_premium_yuan"] - remitted,
    )
    np.testing.assert_allclose(
        ledger.cost("east_west"),
        aid_and_placements
        + metrics["east_west_purchase_premium_yuan"]
        + metrics["east_west_wage_premium_yuan"],
    )


def test_placed_wages_stay_market_income_and_only_the_premium_is_paid(small):
    """Placements alone: the ledger pays placed households the premium, never the market wage."""
    no_aid = (*PLACEMENTS_ONLY, "policies.east_west.fiscal_aid_per_household=0")
    for premium in ("0.1", "0"):
        model = PovertyModel(
            small("seed=6", "years=3", *no_aid, f"policies.east_west.wage_premium={premium}")
        )
        s, policy = model.state, model.policy("east_west")
        ever_placed = np.zeros(s.count, bool)
        while not model.finished:
            model.step()
            ever_placed |= policy.placed > 0
        assert policy.placements > 0
        received = model.ledger.received_by.get("east_west", np.zeros(s.count))
        assert (received[~ever_placed] == 0).all()
        if premium == "0":
            assert model.ledger.paid["east_west"] == 0.0
        else:
            assert (received[ever_placed] > 0).mean() > 0.9


def test_disabled_or_without_reach_changes_nothing(run_small):
    base = run_small("seed=5", "years=3").summary
    disabled = run_small(
        "seed=5",
        "years=3",
        "policies.east_west.enabled=false",
        "policies.east_west.placements_per_1000_households=500",
    ).summary
    assert disabled == base
    no_reach = run_small(
        "seed=5",
        "years=3",
        "policy=east_west",
        "policies.east_west.placements_per_1000_households=0",
        "policies.east_west.purchase_share=0",
        "policies.east_west.fiscal_aid_per_household=0",
    ).summary
    assert no_reach["cost_by_policy_yuan"] == {"east_west": 0.0}
    outcomes = {k: v for k, v in no_reach.items() if not k.startswith(("cost", "east_west"))}
    assert outcomes == {k: v for k, v in base.items() if not k.startswith("cost")}
