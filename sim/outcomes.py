"""Named outcome metrics: annual records and the run summary (DESIGN.md sections 2 and 6).

Two poverty measures are always computed (:class:`Measure`); ``poverty.measure`` picks the
headline, whose figures carry the unprefixed names (``relapse_rate``, ``headcount_ratio``, ...).

- ``income``: per-capita income of the year (market income plus what the enabled policies paid)
  below the line — the official measure.
- ``after_shocks``: the same minus the year's uncovered shock spending (hospital bills and
  disaster repairs that insurance, the policies and savings did not pay) — impoverishment by
  shock spending as the health literature measures it (S34). It is never above ``income``, so the
  households below the line under ``income`` are below it under ``after_shocks`` too.

Definitions, under each measure:

- ``relapse_rate`` of a year: among households lifted out of poverty by 2020 and not below the
  line at the previous assessment, the share below the line this year. A run's ``relapse_rate``
  is the mean over its years. A **relapse event** is one household-year below the line;
  ``households_relapsed`` counts households with at least one event.
- ``new_poverty_rate``: the same for households that were never registered poor.
- ``headcount_ratio``: people in households below the line over all people.
- ``poverty_gap_index`` (FGT1) and ``poverty_severity_index`` (FGT2): the people-weighted mean of
  ``g`` and ``g**2`` with ``g = (line - y) / line`` for a person below the line and 0 otherwise,
  ``y`` the household's per-capita income floored at 0 (a negative income after shocks counts as
  none, so ``g`` lies in [0, 1]).
- cause of a relapse: ``withdrawal`` when the household would not have been below the line had
  the policies paid it at least its 2020 support (the policy payments its 2020 income contained,
  ``HouseholdState.support_2020``): income fell below the line because support was withdrawn.
  Otherwise the shock with the largest income loss that year (illness, disaster, job loss,
  price), and ``other`` when no shock took anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np

CAUSES = ("illness", "disaster", "job_loss", "price", "withdrawal", "other")
SHOCK_CAUSES = CAUSES[:4]  # the causes attributed by the largest loss, in that order


class Measure(Enum):
    """The poverty measures (see the module docstring)."""

    income = "income"
    after_shocks = "after_shocks"


MEASURES = tuple(m.value for m in Measure)

HEADLINE_KEYS = ("relapse_rate", "relapse_cumulative", "new_poverty_rate", "headcount_ratio_final")
"""The figures of each measure that ``poverty.measure`` makes the headline."""


def share(part: int | float, whole: int | float) -> float:
    """``part / whole``, and 0.0 for an empty ``whole`` (a rate over nobody is reported as 0)."""
    return float(part / whole) if whole else 0.0


def fgt(per_capita: np.ndarray, size: np.ndarray, line: float, alpha: int) -> float:
    """The people-weighted Foster-Greer-Thorbecke index of order ``alpha`` (0, 1 or 2).

    Args:
        per_capita: yuan per person per year, one per household (may be negative).
        size: persons per household (the weights).
        line: the poverty line, yuan per person per year.
        alpha: 0 headcount ratio, 1 poverty gap index, 2 poverty severity index.
    """
    poor = per_capita < line
    gap = np.clip(line - per_capita, 0.0, line) / line
    people = float(size.sum())
    return share(float((size * poor * gap**alpha).sum()), people)


@dataclass(frozen=True)
class YearCounts:
    """One year's assessment under one measure (counts of households unless said otherwise)."""

    at_risk_lifted: int
    relapses: int
    at_risk_others: int
    newly_poor: int
    people_below: int
    people: int
    causes: np.ndarray  # relapses by cause, in the order of CAUSES
    poverty_gap_index: float
    poverty_severity_index: float

    def record(self) -> dict[str, Any]:
        """The year's figures under this measure, as a flat record."""
        record: dict[str, Any] = {
            "at_risk_lifted": self.at_risk_lifted,
            "relapses": self.relapses,
            "relapse_rate": share(self.relapses, self.at_risk_lifted),
            "at_risk_others": self.at_risk_others,
            "newly_poor": self.newly_poor,
            "new_poverty_rate": share(self.newly_poor, self.at_risk_others),
            "headcount_ratio": share(self.people_below, self.people),
            "poverty_gap_index": self.poverty_gap_index,
            "poverty_severity_index": self.poverty_severity_index,
        }
        record.update({f"relapses_{c}": int(n) for c, n in zip(CAUSES, self.causes, strict=True)})
        return record


def annual_record(
    *, year: int, headline: str, by_measure: dict[str, YearCounts], cost_yuan: float
) -> dict[str, Any]:
    """One year's assessment: the headline measure's figures, then each measure's, prefixed.

    Args:
        year: the calendar year.
        headline: the headline measure's name (``income`` or ``after_shocks``).
        by_measure: the year's counts under each measure.
        cost_yuan: what the enabled policies spent in the year, yuan.
    """
    record: dict[str, Any] = {"year": year, **by_measure[headline].record()}
    for name, counts in by_measure.items():
        record.update({f"{name}_{key}": value for key, value in counts.record().items()})
    record["cost_yuan"] = float(cost_yuan)
    return record


def relapses_by_cause(annual: list[dict[str, Any]], prefix: str = "") -> dict[str, int]:
    """Relapse events of the whole run by cause (``prefix``: a measure's, e.g. ``income_``)."""
    return {cause: sum(int(r[f"{prefix}relapses_{cause}"]) for r in annual) for cause in CAUSES}


def _measure_summary(
    annual: list[dict[str, Any]], prefix: str, cumulative: float, households_relapsed: int
) -> dict[str, Any]:
    """The headline figures of one measure over the run (``prefix``: ``""`` for the headline)."""

    def mean(key: str) -> float:
        return float(np.mean([r[f"{prefix}{key}"] for r in annual])) if annual else 0.0

    def final(key: str) -> float:
        return float(annual[-1][f"{prefix}{key}"]) if annual else 0.0

    by_cause = relapses_by_cause(annual, prefix)
    events = sum(by_cause.values())
    return {
        "relapse_rate": mean("relapse_rate"),
        "relapse_cumulative": cumulative,
        "new_poverty_rate": mean("new_poverty_rate"),
        "headcount_ratio_final": final("headcount_ratio"),
        "poverty_gap_index": final("poverty_gap_index"),
        "poverty_severity_index": final("poverty_severity_index"),
        "relapse_events": events,
        "households_relapsed": households_relapsed,
        "relapses_by_cause": by_cause,
        "relapse_rate_by_year": {str(r["year"]): r[f"{prefix}relapse_rate"] for r in annual},
    }


def discounted(cost_by_year: dict[int, float], start_year: int, rate: float) -> float:
    """``sum(cost_y / (1 + rate) ** (y - start_year))``: costs in yuan of the first year."""
    return float(
        sum(cost / (1.0 + rate) ** (year - start_year) for year, cost in cost_by_year.items())
    )


def summarize(
    *,
    seed: int,
    households: int,
    years: int,
    headline: str,
    annual: list[dict[str, Any]],
    cumulative: dict[str, float],
    households_relapsed: dict[str, int],
    cost_by_policy: dict[str, float],
    start_year: int,
    discount_rate: float,
    extra: dict[str, Any],
    policy_metrics: dict[str, Any],
) -> dict[str, Any]:
    """The run summary written to ``summary.json``.

    Args:
        seed: the run seed.
        households: households in the county.
        years: years simulated.
        headline: the headline measure (``poverty.measure``).
        annual: the annual records (:func:`annual_record`).
        cumulative: per measure, the share of initially lifted households that relapsed at
            least once.
        households_relapsed: per measure, initially lifted households that relapsed at least
            once.
        cost_by_policy: yuan spent by each enabled policy over the run.
        start_year: the first simulated year (discounting starts there).
        discount_rate: per year, for ``cost_total_yuan_discounted``.
        extra: further model figures (``by_group``, ``targeting``, realised rates).
        policy_metrics: figures the policies add.
    """
    by_measure = {
        name: _measure_summary(
            annual, f"{name}_", cumulative.get(name, 0.0), households_relapsed.get(name, 0)
        )
        for name in MEASURES
    }
    head = by_measure[headline]
    cost_by_year = {int(r["year"]): float(r["cost_yuan"]) for r in annual}
    summary: dict[str, Any] = {
        "seed": seed,
        "households": households,
        "years": years,
        "measure": headline,
        **{key: head[key] for key in HEADLINE_KEYS},
        "poverty_gap_index": head["poverty_gap_index"],
        "poverty_severity_index": head["poverty_severity_index"],
        "relapse_events": head["relapse_events"],
        "households_relapsed": head["households_relapsed"],
        "relapses_total": head["relapse_events"],
        "relapses_by_cause": head["relapses_by_cause"],
        "relapse_cause_shares": {
            c: share(n, head["relapse_events"]) for c, n in head["relapses_by_cause"].items()
        },
        "newly_poor_total": sum(int(r["newly_poor"]) for r in annual),
        "cost_total_yuan": float(sum(cost_by_policy.values())),
        "cost_total_yuan_discounted": discounted(cost_by_year, start_year, discount_rate),
        "cost_by_policy_yuan": {name: float(v) for name, v in cost_by_policy.items()},
        "cost_by_year_yuan": {str(y): c for y, c in cost_by_year.items()},
        "relapse_rate_by_year": head["relapse_rate_by_year"],
        "headcount_ratio_by_year": {str(r["year"]): r["headcount_ratio"] for r in annual},
        "poverty_gap_index_by_year": {str(r["year"]): r["poverty_gap_index"] for r in annual},
        "poverty_severity_index_by_year": {
            str(r["year"]): r["poverty_severity_index"] for r in annual
        },
        "by_measure": {
            name: {key: value for key, value in figures.items() if key != "relapse_rate_by_year"}
            for name, figures in by_measure.items()
        },
    }
    summary.update(extra)
    summary.update(policy_metrics)
    return summary
