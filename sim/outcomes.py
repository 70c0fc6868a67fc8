"""Named outcome metrics: annual records and the run summary (DESIGN.md section 6).

Definitions (DESIGN.md section 2):

- ``relapse_rate`` of a year: among households lifted out of poverty by 2020 and not below the
  line at the previous assessment, the share whose per-capita income of the year is below the
  line. A run's ``relapse_rate`` is the mean over its years.
- ``new_poverty_rate``: the same for households that were never registered poor.
- ``headcount_ratio``: people in households below the line over all people.
- cause of a relapse: the shock with the largest income loss in that year (``other`` when no
  shock took anything).
"""

from __future__ import annotations

from typing import Any

import numpy as np

CAUSES = ("illness", "disaster", "job_loss", "price", "other")


def share(part: int | float, whole: int | float) -> float:
    """``part / whole``, and 0.0 for an empty ``whole`` (a rate over nobody is reported as 0)."""
    return float(part / whole) if whole else 0.0


def annual_record(
    *,
    year: int,
    at_risk_lifted: int,
    relapses: int,
    at_risk_others: int,
    newly_poor: int,
    people_below: int,
    people: int,
    causes: np.ndarray,
) -> dict[str, Any]:
    """One year's assessment as a flat record."""
    record: dict[str, Any] = {
        "year": year,
        "at_risk_lifted": at_risk_lifted,
        "relapses": relapses,
        "relapse_rate": share(relapses, at_risk_lifted),
        "at_risk_others": at_risk_others,
        "newly_poor": newly_poor,
        "new_poverty_rate": share(newly_poor, at_risk_others),
        "headcount_ratio": share(people_below, people),
    }
    record.update({f"relapses_{cause}": int(n) for cause, n in zip(CAUSES, causes, strict=True)})
    return record


def relapses_by_cause(annual: list[dict[str, Any]]) -> dict[str, int]:
    """Relapses of the whole run by cause."""
    return {cause: sum(int(r[f"relapses_{cause}"]) for r in annual) for cause in CAUSES}


def summarize(
    *,
    seed: int,
    households: int,
    years: int,
    annual: list[dict[str, Any]],
    relapse_cumulative: float,
    cost_by_policy: dict[str, float],
    policy_metrics: dict[str, Any],
) -> dict[str, Any]:
    """The run summary written to ``summary.json``."""
    by_cause = relapses_by_cause(annual)
    relapses = sum(by_cause.values())
    summary: dict[str, Any] = {
        "seed": seed,
        "households": households,
        "years": years,
        "relapse_rate": float(np.mean([r["relapse_rate"] for r in annual])) if annual else 0.0,
        "relapse_cumulative": relapse_cumulative,
        "new_poverty_rate": (
            float(np.mean([r["new_poverty_rate"] for r in annual])) if annual else 0.0
        ),
        "headcount_ratio_final": annual[-1]["headcount_ratio"] if annual else 0.0,
        "relapses_total": relapses,
        "relapses_by_cause": by_cause,
        "relapse_cause_shares": {c: share(n, relapses) for c, n in by_cause.items()},
        "newly_poor_total": sum(int(r["newly_poor"]) for r in annual),
        "cost_total_yuan": float(sum(cost_by_policy.values())),
        "cost_by_policy_yuan": {name: float(v) for name, v in cost_by_policy.items()},
        "relapse_rate_by_year": {str(r["year"]): r["relapse_rate"] for r in annual},
    }
    summary.update(policy_metrics)
    return summary
