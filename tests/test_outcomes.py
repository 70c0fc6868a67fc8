"""Outcome metrics: annual records and the run summary against hand-computed answers."""

from __future__ import annotations

import numpy as np
import pytest

from sim.outcomes import CAUSES, annual_record, relapses_by_cause, share, summarize


def record(year: int, relapses: int, causes: list[int], **counts: int) -> dict:
    values = dict(at_risk_lifted=100, at_risk_others=200, newly_poor=4, people_below=30, people=600)
    values.update(counts)
    return annual_record(year=year, relapses=relapses, causes=np.array(causes), **values)


def test_share_of_nobody_is_zero():
    assert share(3, 4) == 0.75
    assert share(0, 0) == 0.0


def test_annual_record_rates():
    r = record(2021, 5, [2, 1, 1, 0, 1])
    assert r["relapse_rate"] == 0.05
    assert r["new_poverty_rate"] == 0.02
    assert r["headcount_ratio"] == 0.05
    assert [r[f"relapses_{c}"] for c in CAUSES] == [2, 1, 1, 0, 1]


def test_summary_known_answer():
    annual = [
        record(2021, 5, [2, 1, 1, 0, 1]),
        record(2022, 2, [0, 2, 0, 0, 0], at_risk_lifted=50, people_below=60),
    ]
    summary = summarize(
        seed=9,
        households=300,
        years=2,
        annual=annual,
        relapse_cumulative=0.06,
        cost_by_policy={"monitoring": 1000.0, "custom": 250.5},
        policy_metrics={"monitoring_relief_grants": 3},
    )
    assert summary["relapse_rate"] == pytest.approx((0.05 + 0.04) / 2)
    assert summary["relapses_total"] == 7
    assert summary["relapses_by_cause"] == {
        "illness": 2,
        "disaster": 3,
        "job_loss": 1,
        "price": 0,
        "other": 1,
    }
    assert summary["relapse_cause_shares"]["disaster"] == pytest.approx(3 / 7)
    assert summary["new_poverty_rate"] == pytest.approx(0.02)
    assert summary["newly_poor_total"] == 8
    assert summary["headcount_ratio_final"] == pytest.approx(0.1)
    assert summary["cost_total_yuan"] == 1250.5
    assert summary["cost_by_policy_yuan"] == {"monitoring": 1000.0, "custom": 250.5}
    assert summary["relapse_rate_by_year"] == {"2021": 0.05, "2022": 0.04}
    assert summary["monitoring_relief_grants"] == 3


def test_summary_of_a_run_without_years_is_zero():
    summary = summarize(
        seed=0,
        households=1,
        years=0,
        annual=[],
        relapse_cumulative=0.0,
        cost_by_policy={},
        policy_metrics={},
    )
    assert summary["relapse_rate"] == 0.0 and summary["relapses_total"] == 0
    assert relapses_by_cause([]) == dict.fromkeys(CAUSES, 0)
    assert summary["relapse_cause_shares"] == dict.fromkeys(CAUSES, 0.0)
