"""Relocation: disaster relapses, yearly capacity, destinations, worker counts and booking."""

from __future__ import annotations

import numpy as np

from sim.engine.model import PovertyModel
from sim.engine.state import HIGH, LIFTED, LOW
from sim.run import simulate

LARGE = ("policy=relocation", "policies.relocation.relocations_per_1000_households=30")

# No growth and no one ageing out of or into work: farm income and worker counts change only
# through the policy.
STATIC = ("population.real_growth=0", "shocks.retirement_rate=0", "shocks.labour_entry_rate=0")


def test_relocation_lowers_disaster_relapses(small):
    disaster_relapses = {"base": 0, "relocation": 0}
    for seed in range(5):
        common = (f"seed={seed}", "years=8", "population.households=2000")
        for label, extra in (("base", ()), ("relocation", LARGE)):
            model = simulate(small(*common, *extra), progress=False)
            disaster_relapses[label] += sum(r["relapses_disaster"] for r in model.annual)
    assert disaster_relapses["relocation"] < 0.75 * disaster_relapses["base"]


def test_yearly_relocations_fill_but_never_exceed_capacity_targeted_first(small):
    # 30 per 1,000 on 600 households: 18 a year, fewer than the high-exposure households.
    model = PovertyModel(small("seed=1", "years=3", *LARGE))
    s, policy = model.state, model.policy("relocation")
    exposed = policy.high_exposure_village[s.village]
    registered = s.initial_status == LIFTED
    assert policy.capacity == 18 and exposed.sum() > 3 * 18
    # Monitoring is off: registered households go first, and there are more than 18 of them.
    assert (exposed & registered).sum() > 18
    model.step()
    assert policy.relocated.sum() == 18 and registered[policy.relocated].all()
    model.run()
    assert policy.households_by_year == [18] * 3
    assert policy.metrics()["relocation_households"] == 54
    # Every household on offer: all exposed households move in the first year, none after.
    model = simulate(
        small(
            "seed=1",
            "years=3",
            "policy=relocation",
            "policies.relocation.relocations_per_1000_households=1000",
        ),
        progress=False,
    )
    policy = model.policy("relocation")
    assert policy.households_by_year[1:] == [0, 0]
    assert 0 < policy.households_by_year[0] < policy.capacity


def test_relocated_households_live_at_low_exposure_sites_with_consistent_workers(
    small, assert_worker_counts
):
    model = PovertyModel(
        small(
            "seed=2",
            "years=4",
            "population.resettlement_sites=3",
            "shocks=severe",
            "policy=relocation",
            "policies.relocation.relocations_per_1000_households=100",
            *STATIC,
        )
    )
    s, policy, villages = model.state, model.policy("relocation"), model.villages
    village_start = s.village.copy()
    farm_workers_start = s.farm_workers.copy()
    local_workers_start = s.local_workers.copy()
    while not model.finished:
        model.step()
        assert_worker_counts(model)
    moved = policy.relocated
    assert moved.sum() > 0
    assert villages.is_site[s.village[moved]].all()
    assert (villages.exposure[s.village[moved]] == LOW).all()
    assert (villages.exposure[policy.origin[moved]] == HIGH).all()
    np.testing.assert_array_equal(policy.origin[moved], village_start[moved])
    np.testing.assert_array_equal(s.village[~moved], village_start[~moved])
    # Spread over the sites in turn: their counts differ by one household at most.
    per_site = np.bincount(s.village[moved], minlength=villages.count)[villages.is_site]
    assert per_site.max() - per_site.min() <= 1
    went_to_wage_work = farm_workers_start[moved] - s.farm_workers[moved]
    np.testing.assert_array_equal(
        went_to_wage_work, s.local_workers[moved] - local_workers_start[moved]
    )
    assert went_to_wage_work.sum() == policy.metrics()["relocation_wage_jobs"] > 0


def test_construction_and_in_kind_housing_are_overhead_never_income(small):
    cfg = small("seed=3", "years=3", *LARGE)
    model = simulate(cfg, progress=False)
    policy, ledger, rel = model.policy("relocation"), model.ledger, cfg.policies.relocation
    metrics = policy.metrics()
    moved = policy.relocated
    assert metrics["relocation_households"] == moved.sum() > 0
    assert metrics["relocation_people"] == model.state.size[moved].sum()
    assert ledger.paid["relocation"] == 0.0 == ledger.received.sum()
    # S20's per-person cost includes the new home (S24's subsidy): never added on top
    sizes = model.state.size[moved]
    expected = np.maximum(sizes * rel.cost_per_person, rel.housing_subsidy_per_household).sum()
    assert expected == rel.cost_per_person * metrics["relocation_people"]  # defaults: S20 alone
    np.testing.assert_allclose(
        metrics["relocation_housing_in_kind_yuan"],
        rel.housing_subsidy_per_household * metrics["relocation_households"],
    )
    np.testing.assert_allclose(ledger.overhead["relocation"], expected)
    np.testing.assert_allclose(ledger.cost("relocation"), expected)
    np.testing.assert_allclose(
        metrics["relocation_construction_yuan"] + metrics["relocation_housing_in_kind_yuan"],
        expected,
    )


def test_disabled_or_without_places_changes_nothing(run_small):
    base = run_small("seed=5", "years=3").summary
    disabled = run_small(
        "seed=5",
        "years=3",
        "policies.relocation.enabled=false",
        "policies.relocation.relocations_per_1000_households=500",
    ).summary
    assert disabled == base
    no_places = run_small(
        "seed=5",
        "years=3",
        "policy=relocation",
        "policies.relocation.relocations_per_1000_households=0",
    ).summary
    assert no_places["cost_by_policy_yuan"] == {"relocation": 0.0}
    assert no_places["relocation_households"] == 0
    outcomes = {k: v for k, v in no_places.items() if not k.startswith(("cost", "relocation"))}
    assert outcomes == {k: v for k, v in base.items() if not k.startswith("cost")}
