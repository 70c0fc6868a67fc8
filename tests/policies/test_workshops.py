"""Workshops: local jobs, relapse of households that cannot migrate, capacities and booking."""

from __future__ import annotations

import numpy as np

from sim.engine.model import PovertyModel
from sim.engine.state import LIFTED, ORANGE


def test_workshops_employ_locals_and_lower_relapse_of_households_that_cannot_migrate(small):
    relapsed = {"base": 0, "workshops": 0}
    employed_households = 0
    for seed in range(4):
        common = (f"seed={seed}", "years=8", "population.households=2000")
        one_each = ("policy=workshops", "policies.workshops.workshops_per_village=1")
        for label, extra in (("base", ()), ("workshops", one_each)):
            model = PovertyModel(small(*common, *extra))
            s = model.state
            # Lifted households whose workers all farm at the start: none can migrate.
            farm_only = (s.initial_status == LIFTED) & (s.workers > 0)
            farm_only &= s.farm_workers == s.workers
            ever_employed = np.zeros(s.count, bool)
            while not model.finished:
                model.step()
                if label == "workshops":
                    policy = model.policy("workshops")
                    ever_employed |= policy.farm_jobs + policy.returnee_jobs > 0
            relapsed[label] += int(s.ever_relapsed[farm_only].sum())
        employed_households += int(ever_employed.sum())
        assert model.policy("workshops").metrics()["workshops_jobs_filled"] > 0
    assert employed_households > 0
    assert relapsed["workshops"] < relapsed["base"]


def test_first_hires_fill_every_village_targeted_households_first(small):
    model = PovertyModel(
        small("seed=1", "policy=workshops", "policies.workshops.workshops_per_village=1")
    )
    model.step()
    s, policy = model.state, model.policy("workshops")
    jobs = policy.jobs_by_village(model)
    is_site = model.villages.is_site
    assert (policy.open[~is_site] == 1).all()
    assert (policy.open[is_site] == 0).all()  # no one lives at the sites without relocation
    # Each village has far more farm workers than 13 jobs: all jobs are filled at once.
    np.testing.assert_array_equal(jobs, policy.capacity)
    holders = policy.farm_jobs + policy.returnee_jobs > 0
    targeted = (s.initial_status == LIFTED) | (s.risk_colour >= ORANGE)
    free = s.farm_workers - policy.farm_jobs + s.unemployed_migrants - policy.returnee_jobs
    free_targeted = np.bincount(s.village, weights=free * targeted, minlength=jobs.size)
    # Where targeted candidates remain unhired, no other household holds a job.
    others_hired = np.bincount(s.village, weights=holders & ~targeted, minlength=jobs.size)
    assert (others_hired[free_targeted > 0] == 0).all()
    assert (holders & targeted).sum() > 0


def test_jobs_never_exceed_open_capacity_and_closed_workshops_stay_closed(small):
    model = PovertyModel(
        small(
            "seed=2",
            "years=6",
            "shocks=severe",
            "policy=workshops",
            "policies.relocation.enabled=true",
            "policies.relocation.relocations_per_1000_households=60",
            # Relocated farm workers stay farm workers: only the move itself ends their jobs.
            "policies.relocation.wage_job_probability=0",
            "policies.training.enabled=true",
            "policies.workshops.closure_rate=0.3",
            "policies.workshops.workshops_per_village=2",
        )
    )
    s, policy = model.state, model.policy("workshops")
    open_before = policy.open.copy()
    ever_open = np.zeros(open_before.size, bool)
    site_jobs = 0
    while not model.finished:
        model.step()
        site_jobs = max(site_jobs, policy.jobs_by_village(model)[model.villages.is_site].sum())
        assert (policy.jobs_by_village(model) <= policy.capacity).all()
        assert (policy.farm_jobs <= s.farm_workers).all()
        assert (policy.returnee_jobs <= s.unemployed_migrants).all()
        assert (policy.farm_jobs >= 0).all() and (policy.returnee_jobs >= 0).all()
        # Once a village's workshops have opened, closed ones never reopen.
        ever_open |= open_before > 0
        assert (policy.open[ever_open] <= open_before[ever_open]).all()
        open_before = policy.open.copy()
    assert site_jobs > 0  # the sites' workshops opened when relocated households arrived
    assert policy.open.sum() < 2 * model.villages.count
    jobs_per_workshop = model.cfg.policies.workshops.jobs_per_workshop
    assert policy.metrics()["workshops_capacity"] == policy.open.sum() * jobs_per_workshop


def test_wages_and_subsidies_received_are_what_was_booked(small, income_to_end):
    """Without forgone farm income, extra income is exactly what the ledger booked."""
    common = ("seed=3", "years=3", "shocks=severe")
    cfg = small(
        *common,
        "policy=workshops",
        "policies.workshops.farm_income_forgone_share=0",
        "policies.workshops.workshops_per_village=1",
    )
    base = income_to_end(PovertyModel(small(*common)))
    model = PovertyModel(cfg)
    with_workshops = income_to_end(model)
    ws, ledger = cfg.policies.workshops, model.ledger
    paid = ledger.paid["workshops"]
    assert paid > 0
    np.testing.assert_allclose(paid, ledger.received.sum())
    np.testing.assert_allclose(ledger.received_by["workshops"], ledger.received)
    np.testing.assert_allclose(with_workshops - base, ledger.received, atol=1e-6)
    # No relocation: workshops open in the inhabited villages only, never in the empty sites.
    opened = np.unique(model.state.village).size * ws.workshops_per_village
    np.testing.assert_allclose(ledger.overhead["workshops"], opened * ws.startup_grant)
    np.testing.assert_allclose(ledger.cost("workshops"), paid + opened * ws.startup_grant)


def test_a_workers_wage_is_the_policys_payment_to_the_household(small):
    """Without subsidy, what the ledger books to workshops is the wage, paid to job holders."""
    cfg = small(
        "seed=7",
        "years=3",
        "policy=workshops",
        "policies.workshops.workshops_per_village=1",
        "policies.workshops.subsidy_monthly=0",
        # No closures: no one is laid off after being paid, so holders after a month are payees.
        "policies.workshops.closure_rate=0",
    )
    model = PovertyModel(cfg)
    policy, s = model.policy("workshops"), model.state
    held = np.zeros(s.count, bool)
    while not model.finished:
        model.step()
        held |= policy.farm_jobs + policy.returnee_jobs > 0
    received = model.ledger.received_by["workshops"]
    assert held.sum() > 0
    assert (received[~held] == 0).all()
    assert (received[held] > 0).mean() > 0.95  # a worker off sick all the while earns nothing
    # Each job-month pays the wage on the household's working share (sick workers earn nothing).
    wage_bill = cfg.policies.workshops.wage_monthly * sum(policy.filled_by_month)
    assert 0.9 * wage_bill < model.ledger.paid["workshops"] <= wage_bill


def test_farm_workers_hired_give_up_part_of_their_farm_income(small, income_to_end):
    """With neither wage nor subsidy, only households with a farm worker hired lose income."""
    common = ("seed=4", "years=2")
    base = income_to_end(PovertyModel(small(*common)))
    model = PovertyModel(
        small(
            *common,
            "policy=workshops",
            "policies.workshops.workshops_per_village=1",
            "policies.workshops.wage_monthly=0",
            "policies.workshops.subsidy_monthly=0",
        )
    )
    policy, s = model.policy("workshops"), model.state
    income = np.zeros(s.count)
    held_farm_job = np.zeros(s.count, bool)
    while not model.finished:
        model.step()
        income += s.income_month + s.policy_transfers_month
        held_farm_job |= policy.farm_jobs > 0
    forgone = base - income
    assert held_farm_job.sum() > 0
    np.testing.assert_allclose(forgone[~held_farm_job], 0.0, atol=1e-6)
    assert (forgone[held_farm_job] > 0).all()
    assert model.ledger.paid["workshops"] == 0.0


def test_disabled_or_without_workshops_changes_nothing(run_small):
    base = run_small("seed=5", "years=3").summary
    disabled = run_small(
        "seed=5",
        "years=3",
        "policies.workshops.enabled=false",
        "policies.workshops.workshops_per_village=5",
    ).summary
    assert disabled == base
    assert disabled["cost_by_policy_yuan"] == {}
    none_open = run_small(
        "seed=5", "years=3", "policy=workshops", "policies.workshops.workshops_per_village=0"
    ).summary
    assert none_open["cost_by_policy_yuan"] == {"workshops": 0.0}
    assert none_open["workshops_jobs_filled"] == 0.0
    policy_keys = ("cost", "workshops", "targeting")
    outcomes = {k: v for k, v in none_open.items() if not k.startswith(policy_keys)}
    assert outcomes == {k: v for k, v in base.items() if not k.startswith(policy_keys)}


def test_the_mean_number_of_workshops_per_village_is_drawn_per_village(small):
    model = PovertyModel(
        small("seed=6", "policy=workshops", "policies.workshops.workshops_per_village=1.5")
    )
    planned = model.policy("workshops").planned
    assert set(np.unique(planned)) == {1, 2}
    assert 1.3 < planned.mean() < 1.7
    national = PovertyModel(small("seed=6", "policy=workshops"))
    assert national.policy("workshops").planned.sum() < national.villages.count / 5
