"""Monitoring and early warning: coverage, delays, colours, capacity and bookkeeping."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sim.engine.model import PovertyModel
from sim.engine.state import GREEN, ORANGE
from sim.run import run

SEEDS = range(4)
HOUSEHOLDS = 2000


def mean_relapse_rate(run_small, *overrides: str) -> float:
    rates = [
        run_small(f"seed={seed}", "policy=monitoring", *overrides, households=HOUSEHOLDS).summary[
            "relapse_rate"
        ]
        for seed in SEEDS
    ]
    return float(np.mean(rates))


def test_higher_coverage_lowers_relapse(run_small):
    not_all_registered = "policies.monitoring.cover_registered=false"
    low = mean_relapse_rate(run_small, "policies.monitoring.coverage=0.2", not_all_registered)
    full = mean_relapse_rate(run_small, "policies.monitoring.coverage=1.0", not_all_registered)
    assert full < 0.9 * low


def test_shorter_delay_lowers_relapse(run_small):
    late = mean_relapse_rate(run_small, "policies.monitoring.delay_months=6")
    prompt = mean_relapse_rate(run_small, "policies.monitoring.delay_months=0")
    assert prompt < 0.95 * late


def test_placement_referrals_never_exceed_the_yearly_capacity(small):
    # 2 referrals per 1,000 households: 4 a year for 2,000 households, so the quota binds.
    cfg = small(
        "seed=1",
        "shocks=severe",
        "policy=monitoring",
        f"population.households={HOUSEHOLDS}",
        "policies.monitoring.placement_capacity=2",
        "policies.monitoring.placement_success_rate=1.0",
    )
    model = PovertyModel(cfg)
    policy = model.policy("monitoring")
    referrals, placements, per_year = 0, 0, []
    while not model.finished:
        model.step()
        if model.month_of_year == 0:  # a year has just closed
            metrics = policy.metrics()
            per_year.append(metrics["monitoring_placement_referrals"] - referrals)
            assert metrics["monitoring_job_placements"] - placements == per_year[-1]
            referrals = metrics["monitoring_placement_referrals"]
            placements = metrics["monitoring_job_placements"]
    assert max(per_year) == 4
    assert all(n <= 4 for n in per_year)


def test_money_booked_equals_money_received(small):
    cfg = small("seed=2", "policy=monitoring", "years=4")
    model = PovertyModel(cfg)
    model.run()
    policy = model.policy("monitoring")
    metrics = policy.metrics()
    ledger = model.ledger
    grants = metrics["monitoring_relief_grants"]
    assert grants > 0
    assert ledger.paid["monitoring"] == pytest.approx(ledger.received.sum())
    assert ledger.paid["monitoring"] == pytest.approx(grants * cfg.policies.monitoring.relief_grant)
    admin = policy.covered.size * cfg.policies.monitoring.admin_cost_per_household * cfg.years
    assert ledger.overhead["monitoring"] == pytest.approx(admin)
    # A household gets at most one grant a year.
    assert ledger.received.max() <= cfg.years * cfg.policies.monitoring.relief_grant


def test_colours_only_for_covered_households(small):
    cfg = small(
        "seed=3",
        "policy=monitoring",
        "years=3",
        "policies.monitoring.coverage=0.3",
        "policies.monitoring.cover_registered=false",
    )
    model = PovertyModel(cfg)
    uncovered = np.ones(model.state.count, bool)
    uncovered[model.policy("monitoring").covered] = False
    assert 0 < uncovered.sum() < model.state.count
    flagged = 0
    while not model.finished:
        model.step()
        assert (model.state.risk_colour[uncovered] == GREEN).all()
        flagged += int((model.state.risk_colour >= ORANGE).sum())
    assert flagged > 0


def test_no_help_before_the_data_and_the_response_delay(small):
    cfg = small(
        "seed=0",
        "policy=monitoring",
        "years=2",
        "policies.monitoring.delay_months=2",
        "policies.monitoring.response_delay_months=3",
    )
    model = PovertyModel(cfg)
    colours_by_month, paid_by_month = [], []
    while not model.finished:
        model.step()
        colours_by_month.append(model.state.risk_colour.copy())
        paid_by_month.append(model.ledger.paid["monitoring"])
    # The first records (January) arrive in March; help follows three months later, in June.
    assert not np.any(colours_by_month[1]) and np.any(colours_by_month[2])
    assert paid_by_month[4] == 0.0 and paid_by_month[5] > 0.0


def test_without_data_sharing_colours_change_only_at_visits_and_ignore_bills(small):
    cfg = small(
        "seed=4",
        "policy=monitoring",
        "years=3",
        "shocks=severe",
        "policies.monitoring.data_sharing=false",
        "policies.monitoring.visit_interval_months=3",
        "policies.monitoring.delay_months=0",
    )
    model = PovertyModel(cfg)
    previous = model.state.risk_colour.copy()
    changed_months = set()
    while not model.finished:
        model.step()
        colours = model.state.risk_colour
        if not np.array_equal(colours, previous):
            changed_months.add(model.month_index - 1)
        previous = colours.copy()
    assert changed_months
    assert all(month % 3 == 2 for month in changed_months)  # visits in March, June, ...
    assert model.policy("monitoring").metrics()["monitoring_flagged_by_colour"]["orange"] == 0


def test_disabled_policy_changes_nothing(small):
    baseline = run(small("seed=5", "policy=none")).summary
    disabled = run(
        small(
            "seed=5",
            "policies.monitoring.enabled=false",
            "policies.monitoring.coverage=1.0",
            "policies.monitoring.delay_months=0",
        )
    ).summary
    assert json.dumps(disabled) == json.dumps(baseline)
