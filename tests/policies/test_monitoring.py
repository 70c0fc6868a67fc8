"""Monitoring as a register: entry routes and delays, verified exit, colours, money."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine.model import PovertyModel
from sim.engine.state import GREEN, LIFTED, MARGINAL
from sim.run import run

# Only the cadre visits route, seeing true incomes, every household every month; no grants (so
# that the month's income after the step is the income the policy recorded).
EXACT_VISITS = (
    "policy=monitoring",
    "policies.monitoring.coverage=1.0",
    "policies.monitoring.income_error_sigma=0.0",
    "policies.monitoring.application_rate=0.0",
    "policies.monitoring.screening_coverage=0.0",
    "policies.monitoring.relief_grant=0",
    "policies.monitoring.placement_capacity=0",
)


class Criteria:
    """The entry criteria recomputed from the state, as a route with no error sees them."""

    def __init__(self, model: PovertyModel):
        s = model.state
        self.model = model
        self.income = np.tile(s.per_capita_income * s.size / 12, (12, 1))
        self.spending = np.zeros((12, s.count))

    def after_step(self) -> tuple[np.ndarray, np.ndarray]:
        """(low income, any criterion) of the month just stepped."""
        m = self.model
        s, ctx = m.state, m.policy_context
        slot = (m.month_index - 1) % 12
        self.income[slot] = s.income_month + s.policy_transfers_month
        self.spending[slot] = s.expense_month
        annual, spent = self.income.sum(axis=0), self.spending.sum(axis=0)
        low = annual / s.size < ctx.monitoring_threshold
        rigid = spent > np.maximum(annual, 0.0)
        share = m.cfg.policies.monitoring.shock_share_of_income
        sudden = s.expense_month > share * np.maximum(annual, 0.0)
        return low, low | rigid | sudden


def test_without_error_or_delay_every_household_below_the_threshold_is_registered_that_month(
    small,
):
    model = PovertyModel(small(*EXACT_VISITS, "policies.monitoring.delay_months=0", "years=3"))
    policy, criteria = model.policy("monitoring"), Criteria(model)
    while not model.finished:
        model.step()
        low, meets = criteria.after_step()
        assert low.any()
        assert policy.registered_now[low].all()
        assert policy.registered_now[meets].all()


@pytest.mark.parametrize("delay", [1, 3])
def test_a_household_meeting_the_criteria_enters_after_the_configured_delay(small, delay):
    model = PovertyModel(
        small(*EXACT_VISITS, f"policies.monitoring.delay_months={delay}", "years=2", "seed=5")
    )
    policy, criteria = model.policy("monitoring"), Criteria(model)
    detected_at = np.full(model.state.count, -1)
    entered = 0
    while not model.finished:
        before = policy.registered_now.copy()
        model.step()
        month = model.month_index - 1
        _, meets = criteria.after_step()
        new = policy.registered_now & ~before
        # Entry exactly `delay` months after the first month the household met a criterion.
        assert (detected_at[new] == month - delay).all()
        entered += int(new.sum())
        detected_at[new] = -1
        detected_at[meets & ~policy.registered_now & (detected_at < 0)] = month
    assert entered > 0


def test_a_household_leaves_only_after_the_exit_period_above_the_threshold(small):
    exit_months = 3
    model = PovertyModel(
        small(
            *EXACT_VISITS,
            "policies.monitoring.delay_months=0",
            f"policies.monitoring.exit_months={exit_months}",
            "shocks=severe",
            "years=3",
        )
    )
    policy, criteria = model.policy("monitoring"), Criteria(model)
    s = model.state
    safe_run = np.zeros(s.count, int)  # consecutive months registered and safe
    exits = 0
    while not model.finished:
        before = policy.registered_now.copy()
        model.step()
        low, _ = criteria.after_step()
        annual = criteria.income.sum(axis=0)
        safe = ~low & ~(criteria.spending.sum(axis=0) > np.maximum(annual, 0.0))
        month = model.month_index - 1
        # Left, or left and entered again the same month by a sudden difficulty.
        left = before & (~policy.registered_now | (policy.entered_month == month))
        # The month it leaves is the exit_months-th consecutive safe month.
        assert (safe_run[left] == exit_months - 1).all() and safe[left].all()
        exits += int(left.sum())
        safe_run = np.where(before & safe & ~left, safe_run + 1, 0)
    assert exits > 0
    assert policy.metrics()["monitoring_exits"] == exits


def test_entries_sum_over_the_routes_and_every_route_is_used(small):
    result = run(small("policy=monitoring", "seed=2", "shocks=severe", "years=4"))
    summary = result.summary
    by_route = summary["monitoring_entries_by_route"]
    assert set(by_route) == {"screening", "visit", "application"}
    assert all(n > 0 for n in by_route.values())
    assert summary["monitoring_entries"] == sum(by_route.values())
    assert summary["monitoring_registered_ever"] <= summary["monitoring_entries"]
    assert 0 < summary["monitoring_ever_registered_share"] <= 1
    for measure in ("income", "after_shocks"):
        quality = summary["monitoring_flag_quality"][measure]
        assert set(quality) == {"relapses_registered_share", "registered_not_below_share"}


def test_a_route_switched_off_enters_no_one(small):
    model = PovertyModel(small(*EXACT_VISITS, "policies.monitoring.coverage=0.0", "years=2"))
    model.run()
    metrics = model.policy("monitoring").metrics()
    assert metrics["monitoring_entries"] == 0
    assert (model.state.risk_colour == GREEN).all()


def test_only_registered_households_have_colours_and_the_share_counts_lifted_and_marginal(small):
    model = PovertyModel(small("policy=monitoring", "seed=3", "years=3", "shocks=severe"))
    policy = model.policy("monitoring")
    while not model.finished:
        model.step()
        assert (model.state.risk_colour[~policy.registered_now] == GREEN).all()
    s = model.state
    at_risk = (s.initial_status == LIFTED) | (s.initial_status == MARGINAL)
    expected = (policy.ever_registered & at_risk).sum() / at_risk.sum()
    assert policy.metrics()["monitoring_ever_registered_share"] == pytest.approx(expected)


def test_money_booked_equals_money_received_and_grants_follow_the_colours(small):
    cfg = small("policy=monitoring", "seed=2", "years=4", "shocks=severe")
    model = PovertyModel(cfg)
    model.run()
    metrics = model.policy("monitoring").metrics()
    ledger, grant = model.ledger, cfg.policies.monitoring.relief_grant
    assert metrics["monitoring_relief_grants"] > 0
    assert ledger.paid["monitoring"] == pytest.approx(ledger.received.sum())
    assert ledger.paid["monitoring"] == pytest.approx(metrics["monitoring_relief_grants"] * grant)
    assert ledger.received.max() <= cfg.years * grant  # at most one grant a year


def test_no_grant_colour_means_no_grant(small):
    model = PovertyModel(
        small("policy=monitoring", "seed=2", "years=2", "policies.monitoring.grant_from=red")
    )
    model.run()
    red_only = model.policy("monitoring").metrics()["monitoring_relief_grants"]
    model = PovertyModel(small("policy=monitoring", "seed=2", "years=2"))
    model.run()
    assert red_only < model.policy("monitoring").metrics()["monitoring_relief_grants"]


def test_more_visits_register_more_households(run_small):
    def ever(coverage: float) -> float:
        shares = [
            run_small(
                "policy=monitoring",
                f"seed={seed}",
                "years=3",
                f"policies.monitoring.coverage={coverage}",
                "policies.monitoring.application_rate=0",
                "policies.monitoring.screening_coverage=0",
            ).summary["monitoring_ever_registered_share"]
            for seed in range(2)
        ]
        return float(np.mean(shares))

    assert ever(0.05) < ever(0.5)
