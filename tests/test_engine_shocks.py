"""Shock draws: shapes, determinism by seed, independence from policies, the monthly hazard."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

from sim.config import compose
from sim.engine.model import PovertyModel
from sim.engine.shocks import MonthDraws, ShockDraws, monthly_rate

HOUSEHOLDS, VILLAGES = 500, 40


def draws(seed: int, **changes: float) -> ShockDraws:
    cfg = compose(["population=small"]).shocks
    for key, value in changes.items():
        setattr(cfg, key, value)
    return ShockDraws(cfg, seed, HOUSEHOLDS, VILLAGES)


def test_month_draws_cover_every_household_and_village():
    month = draws(0).month()
    for f in fields(MonthDraws):
        values = getattr(month, f.name)
        expected = VILLAGES if f.name.startswith("disaster") else HOUSEHOLDS
        assert values.shape == (expected,), f.name
        assert np.isfinite(values).all(), f.name
    for name in ("illness_u", "illness_serious_u", "disaster_u", "job_loss_u", "reemployment_u"):
        u = getattr(month, name)
        assert ((u >= 0) & (u < 1)).all(), name
    assert ((month.disaster_severity > 0) & (month.disaster_severity < 1)).all()


def test_same_seed_same_shocks_other_seed_other_shocks():
    a, b, c = draws(4), draws(4), draws(5)
    for _ in range(3):
        year_a, year_b, year_c = a.year(), b.year(), c.year()
        assert year_a == year_b
        assert year_a != year_c
        month_a, month_b, month_c = a.month(), b.month(), c.month()
        for f in fields(MonthDraws):
            np.testing.assert_array_equal(getattr(month_a, f.name), getattr(month_b, f.name))
            assert not np.array_equal(getattr(month_a, f.name), getattr(month_c, f.name))


def test_shock_streams_do_not_depend_on_the_policies(small):
    """Common random numbers: every policy enabled or none, the same shocks month by month."""
    none = PovertyModel(small("seed=3", "years=2"))
    every = PovertyModel(small("seed=3", "years=2", "policy=all"))
    for _ in range(24):
        none.step()
        every.step()
        assert none.year_draws == every.year_draws
        assert none.month_draws is not None and every.month_draws is not None
        for f in fields(MonthDraws):
            np.testing.assert_array_equal(
                getattr(none.month_draws, f.name), getattr(every.month_draws, f.name)
            )
        # the same households hospitalised, with the same bills (before any insurance)
        np.testing.assert_array_equal(none.state.medical_cost_month, every.state.medical_cost_month)
    assert every.ledger.received.sum() > 0  # the policies did act
    assert every.hospitalisations == none.hospitalisations > 0


@pytest.mark.parametrize("name", ["monitoring", "safety_net"])
def test_a_policys_lotteries_do_not_depend_on_the_other_policies(small, name):
    """Monitoring's routes, exit verifications and referrals, and the dibao review's exclusion
    lottery: one number per household a month whatever the state, so the policy alone and with
    every other policy draws the same numbers month by month."""
    alone = PovertyModel(small("seed=5", "years=2", f"policy={name}"))
    every = PovertyModel(small("seed=5", "years=2", "policy=all"))
    for _ in range(24):
        alone.step()
        every.step()
        assert (
            alone.policy(name).rng.bit_generator.state == every.policy(name).rng.bit_generator.state
        )
    assert not np.array_equal(alone.state.income_month, every.state.income_month)


@pytest.mark.parametrize("annual", [0.0, 0.05, 0.138, 0.5, 0.99, 1.0])
def test_monthly_rate_compounds_to_the_annual_rate(annual):
    monthly = float(monthly_rate(annual))
    assert 0.0 <= monthly <= annual
    assert 1 - (1 - monthly) ** 12 == pytest.approx(annual, abs=1e-12)


def test_monthly_rate_known_answers_and_arrays():
    assert monthly_rate(0.75) == pytest.approx(1 - 0.25 ** (1 / 12))  # two halvings a year
    assert monthly_rate(1 - 0.5**12) == pytest.approx(0.5)
    np.testing.assert_allclose(monthly_rate(np.array([0.0, 1.0])), [0.0, 1.0])


def test_price_factors_have_mean_one_and_the_configured_spread():
    shocks = draws(7, price_sigma_staple=0.1, price_sigma_cash_crop=0.4)
    years = [shocks.year() for _ in range(4000)]
    staple = np.log([y.price_staple for y in years])
    cash = np.array([y.price_cash_crop for y in years])
    assert np.mean(np.exp(staple)) == pytest.approx(1.0, abs=0.01)
    assert np.std(staple) == pytest.approx(0.1, rel=0.05)
    assert np.mean(cash) == pytest.approx(1.0, abs=0.03)


def test_disaster_severity_has_the_configured_mean():
    shocks = draws(8, disaster_severity_mean=0.3)
    severity = np.concatenate([shocks.month().disaster_severity for _ in range(100)])
    assert severity.mean() == pytest.approx(0.3, abs=0.01)
