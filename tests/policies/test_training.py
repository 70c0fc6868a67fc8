"""Training: skill, wage employment and relapse; intake capacity, worker counts and booking."""

from __future__ import annotations

import numpy as np

from sim.engine.model import PovertyModel
from sim.engine.state import LIFTED
from sim.run import simulate

LARGE_INTAKE = ("policy=training", "policies.training.trainees_per_1000_households=60")

# No growth and no one ageing out of or into work: farm income and worker counts change only
# through the policy.
STATIC = ("population.real_growth=0", "shocks.retirement_rate=0", "shocks.labour_entry_rate=0")


def _labour_income_by_household(model: PovertyModel) -> np.ndarray:
    """Step to the end of the run; each household's earned income (no transfers), yuan."""
    s = model.state
    total = np.zeros(s.count)
    while not model.finished:
        model.step()
        total += s.income_month - (s.transfer_income + s.property_income) / 12
    return total


def test_training_raises_wage_work_and_labour_income_and_lowers_relapse(small):
    wage_workers = {"base": 0, "training": 0}
    labour_of_trained = {"base": 0.0, "training": 0.0}
    relapses = {"base": 0, "training": 0}
    for seed in range(4):
        common = (f"seed={seed}", "years=8", "population.households=2000")
        model = PovertyModel(small(*common, *LARGE_INTAKE))
        income = _labour_income_by_household(model)
        trained = model.policy("training").trained > 0
        base_model = PovertyModel(small(*common))
        base_income = _labour_income_by_household(base_model)
        for label, m, inc in (("base", base_model, base_income), ("training", model, income)):
            wage_workers[label] += int((m.state.local_workers + m.state.migrant_workers).sum())
            labour_of_trained[label] += float(inc[trained].sum())
            relapses[label] += sum(r["relapses"] for r in m.annual)
    assert wage_workers["training"] > wage_workers["base"]
    assert labour_of_trained["training"] > labour_of_trained["base"]
    assert relapses["training"] < relapses["base"]


def test_intake_fills_but_never_exceeds_capacity_and_reaches_only_the_targeted(small):
    # 60 per 1,000 on 600 households: 36 places a year, fewer than the eligible workers.
    model = simulate(small("seed=1", "years=4", *LARGE_INTAKE), progress=False)
    policy = model.policy("training")
    assert policy.capacity == 36
    assert policy.trainees_by_year == [36] * 4
    assert policy.trained.sum() == 144 == policy.metrics()["training_trainees"]
    registered = model.state.initial_status == LIFTED
    assert (policy.trained[~registered] == 0).all()  # monitoring is off: registered only
    # Every worker on offer: the eligible run out before the capacity does.
    model = simulate(
        small(
            "seed=1",
            "years=4",
            "policy=training",
            "policies.training.trainees_per_1000_households=1000",
        ),
        progress=False,
    )
    policy = model.policy("training")
    assert 0 < policy.trainees_by_year[0] < policy.capacity
    # Training lifts skills above the eligibility bound, so the eligible dwindle year by year.
    assert policy.trainees_by_year == sorted(policy.trainees_by_year, reverse=True)
    assert policy.trainees_by_year[-1] < policy.trainees_by_year[0]


def test_worker_counts_skill_and_farm_income_stay_consistent(small, assert_worker_counts):
    model = PovertyModel(
        small(
            "seed=2",
            "years=5",
            "shocks=severe",
            "policy=training",
            "policies.training.trainees_per_1000_households=300",
            "policies.training.wage_job_probability=1",
            *STATIC,
        )
    )
    s, policy = model.state, model.policy("training")
    skill_start = s.skill.copy()
    farm_workers_start = s.farm_workers.copy()
    farm_income_start = s.farm_income.copy()
    local_wage_start = s.local_wage.copy()
    while not model.finished:
        model.step()
        assert_worker_counts(model)
    trained = policy.trained > 0
    assert policy.wage_jobs > 0
    assert (s.skill[trained] > skill_start[trained]).all() and (s.skill <= 1).all()
    np.testing.assert_array_equal(s.skill[~trained], skill_start[~trained])
    assert (s.local_wage[trained] > local_wage_start[trained]).all()
    assert int((farm_workers_start - s.farm_workers).sum()) == policy.wage_jobs
    farming = farm_workers_start > 0
    np.testing.assert_allclose(
        s.farm_income[farming],
        farm_income_start[farming] * s.farm_workers[farming] / farm_workers_start[farming],
    )


def test_allowances_received_are_booked_and_course_costs_are_overhead(small):
    cfg = small("seed=3", "years=3", *LARGE_INTAKE)
    model = simulate(cfg, progress=False)
    policy, ledger, tr = model.policy("training"), model.ledger, cfg.policies.training
    trainees = policy.metrics()["training_trainees"]
    assert trainees > 0
    np.testing.assert_allclose(ledger.paid["training"], ledger.received.sum(), rtol=1e-12)
    np.testing.assert_allclose(ledger.received, policy.trained * tr.allowance_per_trainee)
    np.testing.assert_allclose(ledger.overhead["training"], trainees * tr.cost_per_trainee)
    np.testing.assert_allclose(
        ledger.cost("training"), trainees * (tr.allowance_per_trainee + tr.cost_per_trainee)
    )


def test_disabled_or_without_places_changes_nothing(run_small):
    base = run_small("seed=5", "years=3").summary
    disabled = run_small(
        "seed=5",
        "years=3",
        "policies.training.enabled=false",
        "policies.training.trainees_per_1000_households=500",
    ).summary
    assert disabled == base
    no_places = run_small(
        "seed=5", "years=3", "policy=training", "policies.training.trainees_per_1000_households=0"
    ).summary
    assert no_places["cost_by_policy_yuan"] == {"training": 0.0}
    assert no_places["training_trainees"] == 0
    outcomes = {k: v for k, v in no_places.items() if not k.startswith(("cost", "training"))}
    assert outcomes == {k: v for k, v in base.items() if not k.startswith("cost")}
