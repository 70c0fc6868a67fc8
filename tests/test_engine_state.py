"""The household rules on the state: the month's income, sick leave, job moves and resets."""

from __future__ import annotations

import numpy as np
import pytest

from sim.config import compose
from sim.engine.model import PovertyModel
from sim.engine.population import generate_population
from sim.engine.shocks import YearDraws
from sim.engine.state import HouseholdState

PRICES = YearDraws(downturn=False, price_staple=0.8, price_cash_crop=1.5)


@pytest.fixture
def state() -> HouseholdState:
    """A small county's state whose first three rows are set by hand."""
    cfg = compose(["population=small", "seed=1"])
    s, _ = generate_population(cfg.population, cfg.poverty, 0.5, cfg.seed)
    s.reset_year()
    rows = [0, 1, 2]
    s.workers[rows] = [3, 0, 2]
    s.farm_workers[rows] = [1, 0, 2]
    s.local_workers[rows] = [1, 0, 0]
    s.migrant_workers[rows] = [1, 0, 0]
    s.unemployed_migrants[rows] = [0, 0, 0]
    s.sick_workers[rows] = [1, 0, 0]
    s.farm_income[rows] = [1200.0, 0.0, 2400.0]
    s.cash_crop[rows] = [False, False, True]
    s.farm_price_premium[rows] = [0.25, 0.0, 0.0]
    s.farm_damage[rows] = [0.5, 0.0, 0.0]
    s.local_wage[rows] = 2400.0
    s.migrant_wage[rows] = 7200.0
    s.remittance_share[rows] = 0.5  # 3,600 a year sent home
    s.earnings_level[rows] = 1.0
    s.transfer_income[rows] = [1200.0, 2400.0, 0.0]
    s.property_income[rows] = [120.0, 0.0, 0.0]
    return s


def test_month_income_known_answer(state):
    state.earn_month(PRICES)
    # Household 0: farm 1,200 / 12 x staple price 0.8 x premium 1.25 x (1 - damage 0.5) = 50;
    # wages (2,400 + half of 7,200) / 12 = 500; one of three workers sick: labour 550 x 2/3;
    # transfers and property (1,200 + 120) / 12 = 110.
    assert state.farm_income_month[0] == pytest.approx(50.0)
    assert state.income_month[0] == pytest.approx(550 * 2 / 3 + 110)
    np.testing.assert_array_equal(state.market_income_month, state.income_month)
    assert state.loss_price_ytd[0] == pytest.approx(100 * 0.2)  # price 0.8 below normal
    assert state.loss_disaster_ytd[0] == pytest.approx(100 * 1.0 * 0.5)  # at the premium price
    assert state.loss_illness_ytd[0] == pytest.approx(550 / 3)
    # Household 1 has no worker: its transfers, nothing lost to sickness.
    assert state.income_month[1] == pytest.approx(200.0)
    assert state.loss_illness_ytd[1] == 0.0
    # Household 2 farms a cash crop at 1.5: above normal, so no price loss.
    assert state.farm_income_month[2] == pytest.approx(300.0)
    assert state.loss_price_ytd[2] == 0.0


def test_working_share_is_safe_without_workers(state):
    rows = np.array([0, 1, 2])
    np.testing.assert_allclose(state.sick_share(rows), [1 / 3, 0.0, 0.0])
    np.testing.assert_allclose(state.working_share(rows), [2 / 3, 1.0, 1.0])
    np.testing.assert_array_equal(state.able_workers(rows), [2, 0, 2])
    assert state.working_share().shape == (state.count,)


def test_moving_farm_workers_keeps_counts_and_takes_their_farm_share(state):
    def employed():
        return (
            state.farm_workers + state.local_workers + state.migrant_workers
        ) + state.unemployed_migrants

    assert (employed() == state.workers).all()
    state.move_workers(np.array([0, 2]), np.array([1, 1]), "farm", "migrant")
    assert (employed() == state.workers).all()
    np.testing.assert_array_equal(state.farm_workers[[0, 2]], [0, 1])
    np.testing.assert_array_equal(state.migrant_workers[[0, 2]], [2, 1])
    # The only farm worker of household 0 took all of its farm income, household 2's one of two.
    np.testing.assert_allclose(state.farm_income[[0, 2]], [0.0, 1200.0])
    state.move_workers(np.array([0]), 1, "migrant", "unemployed")
    assert state.unemployed_migrants[0] == 1 and state.farm_income[0] == 0.0
    assert (employed() == state.workers).all()


def test_moving_more_workers_than_a_household_has_is_refused(state):
    farm_before = state.farm_workers.copy()
    with pytest.raises(ValueError, match="farm workers"):
        state.move_workers(np.array([0]), 2, "farm", "local")
    with pytest.raises(ValueError, match="local workers"):
        state.move_workers(np.array([0]), -1, "local", "farm")
    np.testing.assert_array_equal(state.farm_workers, farm_before)


EARNED = ("income_month", "farm_income_month", "market_income_month")


def test_resets_zero_the_months_flows_and_the_years_accumulators(state):
    state.earn_month(PRICES)
    earned = {f: getattr(state, f).copy() for f in EARNED}
    state.expense_month[:] = 5.0
    state.medical_cost_month[:] = 6.0
    state.medical_oop_month[:] = 4.0
    state.policy_transfers_month[:] = 7.0
    state.income_month += 7.0  # a policy's change to the month's income
    state.reset_month()
    for flow in ("expense_month", "medical_cost_month", "medical_oop_month"):
        assert not getattr(state, flow).any(), flow
    assert not state.policy_transfers_month.any()
    # the earned flows are not reset: earn_month writes them whole, whatever they held
    state.earn_month(PRICES)
    for flow, before in earned.items():
        np.testing.assert_array_equal(getattr(state, flow), before, err_msg=flow)
    assert state.loss_price_ytd.any()
    state.reset_year()
    for total in ("income_ytd", "loss_price_ytd", "loss_disaster_ytd", "farm_damage"):
        assert not getattr(state, total).any(), total


def test_the_model_earns_incomes_with_the_states_rule(small):
    model = PovertyModel(small("seed=2", "shocks=severe", "policy=none", "years=1"))
    s = model.state
    for _ in range(8):  # past the first disasters
        model.step()
        assert model.year_draws is not None
        market = np.where(
            s.cash_crop, model.year_draws.price_cash_crop, model.year_draws.price_staple
        )
        expected = (
            s.farm_income
            * s.earnings_level
            / 12
            * market
            * (1.0 + s.farm_price_premium)
            * (1 - s.farm_damage)
        )
        np.testing.assert_allclose(s.farm_income_month, expected, rtol=1e-12)
    assert (s.farm_damage > 0).any()


def test_earnings_level_scales_labour_income_only(state):
    state.earn_month(PRICES)
    before = state.income_month[:3].copy()
    state.earnings_level[:3] = 2.0
    state.earn_month(PRICES)
    # Household 0: labour 550 x 2/3 doubles, transfers and property 110 do not.
    assert state.income_month[0] == pytest.approx(2 * (before[0] - 110) + 110)
    assert state.income_month[1] == pytest.approx(before[1])  # no worker: transfers only


def test_growth_raises_every_market_source(state):
    state.earn_month(PRICES)
    before = state.market_income_month.copy()
    state.grow(0.1)
    state.reset_month()
    state.earn_month(PRICES)
    np.testing.assert_allclose(state.market_income_month, 1.1 * before, rtol=1e-12)


def test_retiring_and_entering_keep_every_worker_in_one_job(state):
    def employed():
        return (
            state.farm_workers + state.local_workers + state.migrant_workers
        ) + state.unemployed_migrants

    state.retire_workers(np.array([0, 2]))
    np.testing.assert_array_equal(state.workers[[0, 2]], [2, 1])
    # Farm workers retire first and take their share of the farm income.
    np.testing.assert_array_equal(state.farm_workers[[0, 2]], [0, 1])
    np.testing.assert_allclose(state.farm_income[[0, 2]], [0.0, 1200.0])
    assert (state.sick_workers <= state.workers).all()
    state.retire_workers(np.array([0]))  # then local wage workers
    assert state.local_workers[0] == 0 and state.migrant_workers[0] == 1
    state.enter_work(np.array([0, 2]), np.array([True, False]))
    np.testing.assert_array_equal(state.migrant_workers[[0, 2]], [2, 0])
    np.testing.assert_array_equal(state.local_workers[[0, 2]], [0, 1])
    assert (employed() == state.workers).all()
