"""Outcome metrics: annual records, FGT indices and the run summary against known answers."""

from __future__ import annotations

import numpy as np
import pytest

from sim.outcomes import (
    CAUSES,
    MEASURES,
    YearCounts,
    annual_record,
    discounted,
    fgt,
    relapses_by_cause,
    share,
    summarize,
)


def counts(relapses: int, causes: list[int], **values: float) -> YearCounts:
    fields = dict(
        at_risk_lifted=100,
        at_risk_others=200,
        newly_poor=4,
        people_below=30,
        people=600,
        poverty_gap_index=0.01,
        poverty_severity_index=0.002,
    )
    fields.update(values)
    return YearCounts(relapses=relapses, causes=np.array(causes), **fields)  # type: ignore[arg-type]


def record(year: int, income: YearCounts, after: YearCounts, cost: float = 0.0) -> dict:
    return annual_record(
        year=year,
        headline="income",
        by_measure={"income": income, "after_shocks": after},
        cost_yuan=cost,
    )


def test_share_of_nobody_is_zero():
    assert share(3, 4) == 0.75
    assert share(0, 0) == 0.0


def test_fgt_indices_known_answer():
    # Line 4,000. Household sizes 2, 1, 3, 4 (10 people); per-capita incomes 2,000 (gap 1/2),
    # 3,000 (gap 1/4), 4,000 (at the line: not poor) and -1,000 (floored at 0: gap 1).
    per_capita = np.array([2000.0, 3000.0, 4000.0, -1000.0])
    size = np.array([2, 1, 3, 4])
    assert fgt(per_capita, size, 4000.0, 0) == pytest.approx(7 / 10)
    assert fgt(per_capita, size, 4000.0, 1) == pytest.approx((2 * 0.5 + 0.25 + 4 * 1.0) / 10)
    assert fgt(per_capita, size, 4000.0, 2) == pytest.approx((2 * 0.25 + 0.0625 + 4 * 1.0) / 10)
    assert fgt(np.array([5000.0]), np.array([3]), 4000.0, 1) == 0.0


def test_annual_record_has_the_headline_and_each_measure():
    r = record(
        2021, counts(5, [2, 1, 1, 0, 0, 1]), counts(8, [5, 1, 1, 0, 0, 1], people_below=60), 7.5
    )
    assert r["relapse_rate"] == 0.05 and r["income_relapse_rate"] == 0.05
    assert r["after_shocks_relapse_rate"] == 0.08
    assert r["new_poverty_rate"] == 0.02
    assert r["headcount_ratio"] == 0.05 and r["after_shocks_headcount_ratio"] == 0.1
    assert r["poverty_gap_index"] == 0.01
    assert [r[f"relapses_{c}"] for c in CAUSES] == [2, 1, 1, 0, 0, 1]
    assert r["cost_yuan"] == 7.5


def test_summary_known_answer():
    annual = [
        record(2021, counts(5, [2, 1, 1, 0, 0, 1]), counts(6, [3, 1, 1, 0, 0, 1]), 1000.0),
        record(
            2022,
            counts(2, [0, 1, 0, 0, 1, 0], at_risk_lifted=50, people_below=60),
            counts(2, [0, 1, 0, 0, 1, 0], at_risk_lifted=40, people_below=90),
            250.5,
        ),
    ]
    summary = summarize(
        seed=9,
        households=300,
        years=2,
        headline="income",
        annual=annual,
        cumulative={"income": 0.06, "after_shocks": 0.07},
        households_relapsed={"income": 6, "after_shocks": 7},
        cost_by_policy={"monitoring": 1000.0, "custom": 250.5},
        start_year=2021,
        discount_rate=0.1,
        extra={"by_group": {}},
        policy_metrics={"monitoring_relief_grants": 3},
    )
    assert summary["measure"] == "income"
    assert summary["relapse_rate"] == pytest.approx((0.05 + 0.04) / 2)
    assert summary["relapse_events"] == summary["relapses_total"] == 7
    assert summary["households_relapsed"] == 6
    assert summary["relapses_by_cause"] == {
        "illness": 2,
        "disaster": 2,
        "job_loss": 1,
        "price": 0,
        "withdrawal": 1,
        "other": 1,
    }
    assert summary["relapse_cause_shares"]["disaster"] == pytest.approx(2 / 7)
    assert summary["new_poverty_rate"] == pytest.approx(0.02)
    assert summary["newly_poor_total"] == 8
    assert summary["headcount_ratio_final"] == pytest.approx(0.1)
    assert summary["cost_total_yuan"] == 1250.5
    assert summary["cost_total_yuan_discounted"] == pytest.approx(1000.0 + 250.5 / 1.1)
    assert summary["cost_by_year_yuan"] == {"2021": 1000.0, "2022": 250.5}
    assert summary["relapse_rate_by_year"] == {"2021": 0.05, "2022": 0.04}
    assert summary["monitoring_relief_grants"] == 3
    after = summary["by_measure"]["after_shocks"]
    assert after["relapse_events"] == 8 and after["households_relapsed"] == 7
    assert after["relapse_rate"] == pytest.approx((0.06 + 0.05) / 2)
    assert after["headcount_ratio_final"] == pytest.approx(0.15)
    assert set(summary["by_measure"]) == set(MEASURES)
    for figures in summary["by_measure"].values():
        for key in (
            "relapse_rate",
            "relapse_cumulative",
            "new_poverty_rate",
            "headcount_ratio_final",
        ):
            assert key in figures


def test_the_headline_follows_the_measure():
    annual = [
        annual_record(
            year=2021,
            headline="after_shocks",
            by_measure={
                "income": counts(1, [1, 0, 0, 0, 0, 0]),
                "after_shocks": counts(3, [3, 0, 0, 0, 0, 0]),
            },
            cost_yuan=0.0,
        )
    ]
    summary = summarize(
        seed=0,
        households=10,
        years=1,
        headline="after_shocks",
        annual=annual,
        cumulative={"income": 0.01, "after_shocks": 0.03},
        households_relapsed={"income": 1, "after_shocks": 3},
        cost_by_policy={},
        start_year=2021,
        discount_rate=0.0,
        extra={},
        policy_metrics={},
    )
    assert summary["measure"] == "after_shocks"
    assert summary["relapse_events"] == 3 and summary["relapse_cumulative"] == 0.03
    assert summary["by_measure"]["income"]["relapse_events"] == 1


def test_discounting_known_answer():
    assert discounted({2021: 100.0, 2023: 121.0}, 2021, 0.1) == pytest.approx(200.0)
    assert discounted({2021: 5.0}, 2021, 0.2) == 5.0


def test_summary_of_a_run_without_years_is_zero():
    summary = summarize(
        seed=0,
        households=1,
        years=0,
        headline="income",
        annual=[],
        cumulative={},
        households_relapsed={},
        cost_by_policy={},
        start_year=2021,
        discount_rate=0.05,
        extra={},
        policy_metrics={},
    )
    assert summary["relapse_rate"] == 0.0 and summary["relapses_total"] == 0
    assert summary["poverty_gap_index"] == 0.0 and summary["cost_total_yuan_discounted"] == 0.0
    assert relapses_by_cause([]) == dict.fromkeys(CAUSES, 0)
    assert summary["relapse_cause_shares"] == dict.fromkeys(CAUSES, 0.0)
