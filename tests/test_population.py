"""The synthetic county: shares, income bands, income mix and employment."""

from __future__ import annotations

import numpy as np
import pytest

from sim.config import compose
from sim.engine.population import generate_population
from sim.engine.state import HIGH, LIFTED, MARGINAL, NON_POOR


@pytest.fixture(scope="module")
def county():
    cfg = compose(["population.households=20000", "seed=11"])
    state, villages = generate_population(
        cfg.population, cfg.poverty, cfg.shocks.reimbursement_rate, cfg.seed
    )
    return cfg, state, villages


def test_status_shares_follow_the_config(county):
    cfg, state, _ = county
    lifted = np.mean(state.initial_status == LIFTED)
    marginal = np.mean(state.initial_status == MARGINAL)
    assert lifted == pytest.approx(cfg.population.share_lifted, abs=0.02)
    assert marginal == pytest.approx(cfg.population.share_marginal, abs=0.01)


def test_incomes_lie_in_the_band_of_their_status(county):
    cfg, state, _ = county
    line = cfg.poverty.line
    threshold = line * cfg.poverty.monitoring_threshold_ratio
    pc = state.per_capita_income
    lifted, marginal = state.initial_status == LIFTED, state.initial_status == MARGINAL
    assert pc[lifted].min() > line
    assert pc[lifted].mean() == pytest.approx(cfg.population.income_lifted_mean, rel=0.03)  # S7
    assert line < pc[marginal].min() and pc[marginal].max() <= threshold
    assert pc[state.initial_status == NON_POOR].min() >= threshold
    assert not state.below_line.any()


def market_income(state):
    """Each household's annual market income from its components (yuan)."""
    return (
        state.farm_income
        + state.local_workers * state.local_wage
        + state.migrant_workers * state.migrant_wage * state.remittance_share
        + state.transfer_income
        + state.property_income
    )


def test_market_income_and_2020_support_add_up_to_the_2020_income(county):
    _, state, _ = county
    total = market_income(state) + state.support_2020
    np.testing.assert_allclose(total, state.per_capita_income * state.size, rtol=1e-9)
    for name in ("farm_income", "local_wage", "migrant_wage", "transfer_income", "savings"):
        assert (getattr(state, name) >= 0).all(), name
    assert (state.support_2020 >= 0).all()
    # Households never registered and not marginal received no anti-poverty support.
    assert not state.support_2020[state.initial_status == NON_POOR].any()


def test_market_incomes_fit_the_households(county):
    cfg, state, _ = county
    pop, line = cfg.population, cfg.poverty.line
    market = market_income(state) / state.size
    lifted, working = state.initial_status == LIFTED, state.workers > 0
    # A working lifted household earns at least the market floor; support is its share at most.
    assert market[lifted & working].min() >= pop.lifted_market_floor_ratio * line * (1 - 1e-12)
    share = (
        state.support_2020[lifted & working]
        / (state.per_capita_income * state.size)[lifted & working]
    )
    assert share.max() <= pop.support_share_lifted + 1e-12
    # Poor households without workers live on pensions and property income, below the line.
    poor_idle = (state.initial_status != NON_POOR) & ~working
    np.testing.assert_allclose(market[poor_idle], pop.pension_per_capita, rtol=1e-9)
    assert state.farm_income[~working].max() == 0.0
    assert (market[poor_idle] < line).all()


def test_county_income_mix_of_2020():
    """Uncalibrated, the 2020 incomes (market plus support) have S8's mean; property income is S8's
    share. (The calibration moves ``income_non_poor_mean`` towards S27's formerly poor counties.)"""
    cfg = compose(["population.households=20000", "seed=11", "params=prior"])
    state, _ = generate_population(
        cfg.population, cfg.poverty, cfg.shocks.reimbursement_rate, cfg.seed
    )
    total = (state.per_capita_income * state.size).sum()
    assert state.property_income.sum() / market_income(state).sum() == pytest.approx(0.014)
    county_mean = total / state.size.sum()
    assert county_mean == pytest.approx(11_567, rel=0.02)


def test_workers_and_employment_are_consistent(county):
    cfg, state, villages = county
    assert (state.workers <= state.size).all() and (state.size >= 1).all()
    employed = state.farm_workers + state.local_workers + state.migrant_workers
    np.testing.assert_array_equal(employed, state.workers)
    no_capacity = np.mean(state.workers[state.initial_status == LIFTED] == 0)
    assert no_capacity == pytest.approx(cfg.population.share_no_work_capacity_lifted, abs=0.02)
    assert not villages.is_site[state.village].any()
    assert np.mean(villages.exposure[~villages.is_site] == HIGH) == pytest.approx(0.2, abs=0.01)


def test_same_seed_same_county_other_seed_other_county():
    cfg = compose(["population=small", "seed=1"])
    a, _ = generate_population(cfg.population, cfg.poverty, 0.5, 1)
    b, _ = generate_population(cfg.population, cfg.poverty, 0.5, 1)
    c, _ = generate_population(cfg.population, cfg.poverty, 0.5, 2)
    np.testing.assert_array_equal(a.per_capita_income, b.per_capita_income)
    assert not np.array_equal(a.per_capita_income, c.per_capita_income)
