"""The second model: market incomes, withdrawal, two measures, dynamics, groups and targeting."""

from __future__ import annotations

import numpy as np
import pytest

from sim.config import compose
from sim.engine.model import PovertyModel
from sim.engine.state import LIFTED
from sim.outcomes import CAUSES, MEASURES
from sim.run import run

MARKET_ARRAYS = (
    "farm_income",
    "local_wage",
    "migrant_wage",
    "transfer_income",
    "property_income",
    "support_2020",
    "workers",
    "savings",
)


def test_no_shocks_and_no_support_relapse_only_by_withdrawal(run_small):
    result = run_small("shocks=none", "policy=none", "years=4")
    for name in MEASURES:
        figures = result.summary["by_measure"][name]
        assert figures["relapse_events"] > 0
        assert figures["relapses_by_cause"]["withdrawal"] == figures["relapse_events"], name
    # Market incomes only grow: whoever relapses does so when support stops, in the first year.
    years = result.summary["relapse_rate_by_year"]
    assert years["2021"] > 0 and not any(years[y] for y in ("2022", "2023", "2024"))


def test_no_shocks_under_the_2020_support_means_no_relapse_under_either_measure(run_small):
    summary = run_small("shocks=none", "policy=status_quo", "years=4").summary
    for name in MEASURES:
        assert summary["by_measure"][name]["relapse_events"] == 0, name
        assert summary["by_measure"][name]["headcount_ratio_final"] == 0.0, name


def test_below_the_line_on_income_implies_below_after_shocks_every_year(small):
    model = PovertyModel(small("seed=3", "shocks=severe", "years=4"))
    s = model.state
    while not model.finished:
        model.step()
        if model.month_of_year == 0 and model.month_index > 0:  # just after an assessment
            assert not (s.below_income & ~s.below_after_shocks).any()
            assert (s.per_capita_after_shocks <= s.per_capita_income).all()
    for r in model.annual:
        assert r["income_headcount_ratio"] <= r["after_shocks_headcount_ratio"]
        assert r["income_poverty_gap_index"] <= r["after_shocks_poverty_gap_index"]
    assert any(r["after_shocks_relapses"] > r["income_relapses"] for r in model.annual)


def test_realised_hospitalisation_rate_is_the_source_on_the_default_county():
    cfg = compose(["output.progress=false", "years=1"])
    model = PovertyModel(cfg)
    model.run()
    assert model.hospitalisations_per_person_year == pytest.approx(0.138, rel=0.05)  # S12


def test_disabled_policies_pay_nothing_and_market_incomes_ignore_the_policies(small):
    none = PovertyModel(small("seed=4", "policy=none", "years=2"))
    every = PovertyModel(small("seed=4", "policy=all", "years=2"))
    paying = PovertyModel(small("seed=4", "policy=safety_net", "years=2"))
    for name in MARKET_ARRAYS:
        np.testing.assert_array_equal(getattr(none.state, name), getattr(every.state, name))
    months = []
    while not none.finished:
        for model in (none, every, paying):
            model.step()
        # The same shocks and earnings draws whatever the policies.
        for model in (every, paying):
            np.testing.assert_array_equal(model.month_draws.illness_u, none.month_draws.illness_u)
            np.testing.assert_array_equal(
                model.household_draws.transitory_z, none.household_draws.transitory_z
            )
        # A policy that only pays leaves the market incomes bit-identical.
        np.testing.assert_array_equal(
            paying.state.market_income_month, none.state.market_income_month
        )
        assert not none.state.policy_transfers_month.any()
        months.append(paying.state.policy_transfers_month.sum())
    assert not none.ledger.received.any() and not none.ledger.received_by
    assert sum(months) > 0 and set(paying.ledger.received_by) == {"safety_net"}


def test_without_shocks_market_incomes_grow_at_the_real_growth_rate(small):
    model = PovertyModel(small("seed=5", "shocks=none", "policy=none", "years=2"))
    s = model.state
    totals = []
    while not model.finished:
        model.step()
        if model.month_of_year == 11:
            totals.append(s.market_income_month * 12)
    growth = model.cfg.population.real_growth
    np.testing.assert_allclose(totals[1], (1 + growth) * totals[0], rtol=1e-12)


def test_incomes_move_and_savings_run_out(small):
    model = PovertyModel(small("seed=6", "policy=none", "years=3"))
    s = model.state
    lifted = s.initial_status == LIFTED
    incomes = []
    while not model.finished:
        model.step()
        if model.month_of_year == 0 and model.month_index > 0:
            incomes.append(s.per_capita_income.copy())
    change = np.log(incomes[1][lifted] / incomes[0][lifted])
    assert 0.1 < change.std() < 1.0
    # Households without workers consume above their income and exhaust their savings.
    assert (s.savings[(s.workers == 0) & lifted] == 0).mean() > 0.5


def test_life_course_moves_workers_and_keeps_counts(small):
    model = PovertyModel(small("seed=7", "years=3", "shocks.retirement_rate=0.2"))
    workers = model.state.workers.copy()
    model.run()
    s = model.state
    retired = sum(m["retirements"] for m in model.monthly)
    entered = sum(m["labour_entries"] for m in model.monthly)
    assert retired > 0 and entered > 0
    assert int(s.workers.sum()) == int(workers.sum()) - retired + entered
    employed = s.farm_workers + s.local_workers + s.migrant_workers + s.unemployed_migrants
    np.testing.assert_array_equal(employed, s.workers)


def test_groups_add_up_to_the_county(run_small):
    result = run_small("seed=8", "years=3")
    summary = result.summary
    lifted = int((result.households["initial_status"] == "lifted").sum())
    for grouping, groups in summary["by_group"].items():
        assert sum(g["households"] for g in groups.values()) == summary["households"], grouping
        assert sum(g["lifted_households"] for g in groups.values()) == lifted
        assert sum(g["relapse_events"] for g in groups.values()) == summary["relapse_events"]
        assert (
            sum(g["households_relapsed"] for g in groups.values()) == summary["households_relapsed"]
        )
        people_below = sum(g["people_below_final"] for g in groups.values())
        people = sum(g["people"] for g in groups.values())
        assert people_below / people == pytest.approx(summary["headcount_ratio_final"])
    assert set(summary["by_group"]["household_type"]) == {
        "farm",
        "local_wage",
        "migrant",
        "no_worker",
    }
    assert summary["relapse_events"] > 0
    ids = result.households["household_id"]
    assert ids.is_unique and ids.tolist() == list(range(summary["households"]))


def test_targeting_errors_follow_their_definitions(small):
    model = PovertyModel(small("seed=9", "policy=all", "years=3"))
    model.run()
    targeting = model.targeting()
    relapsed = model._initially_lifted & model.state.ever_relapsed
    assert set(targeting) == set(model.ledger.received_by)
    for name, figures in targeting.items():
        recipients = model.ledger.received_by[name] > 0
        assert figures["recipients"] == int(recipients.sum())
        included = (recipients & ~model.market_ever_below).sum() / max(recipients.sum(), 1)
        assert figures["inclusion_error"] == pytest.approx(included)
        missed = (relapsed & ~recipients).sum() / max(relapsed.sum(), 1)
        assert figures["exclusion_error"] == pytest.approx(missed)
        assert 0 <= figures["inclusion_error"] <= 1 and 0 <= figures["exclusion_error"] <= 1


def test_the_after_shocks_headline_reports_that_measure(run_small):
    income = run_small("seed=2", "years=2").summary
    after = run_small("seed=2", "years=2", "poverty.measure=after_shocks").summary
    assert after["measure"] == "after_shocks"
    assert after["by_measure"] == income["by_measure"]
    assert after["relapse_rate"] == income["by_measure"]["after_shocks"]["relapse_rate"]
    assert set(after["relapses_by_cause"]) == set(CAUSES)


def test_a_full_run_is_deterministic(small):
    a = run(small("seed=11", "years=2", "policy=all")).summary
    b = run(small("seed=11", "years=2", "policy=all")).summary
    assert a == b
