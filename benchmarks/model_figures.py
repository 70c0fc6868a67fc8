"""Figures of the second model on the default county, over seeds (docs/model.md section 5).

Run from the repository root::

    python -m benchmarks.model_figures                  # 10 seeds, about two minutes on two cores
    python -m benchmarks.model_figures --seeds 3 --households 5000

Prints ``key=value`` lines, each the mean over seeds with the smallest and largest seed in
brackets, for ``policy=none`` and ``policy=status_quo`` (the 2020 support kept):

- ``relapse_rate[policy,measure]``: the mean annual relapse rate under each poverty measure;
  ``relapse_cumulative[...]``, ``withdrawal_share[...]`` (share of relapse events caused by
  withdrawal), ``poverty_gap_index[...]``, ``poverty_severity_index[...]`` (final year);
- ``log_income_change_sd[policy]``: the standard deviation of the year-to-year change of log
  per-capita income (income measure) of initially lifted households, over all pairs of
  consecutive years with positive incomes;
- ``hospitalisation_rate[policy]``: hospital stays per person-year (S12: 0.138);
- status-quo targets (``policy=status_quo``, first year, 2020 prices): ``lifted_income_2021``
  (mean per-capita income of initially lifted households; S26: 12,550 yuan nominal),
  ``lifted_wage_share_2021`` (local wages and migrants' remittances over income of the lifted;
  S29: 67.9%), ``county_income_2021`` (S8: 11,567 in 2019), ``county_transfer_share_2021``
  (pensions and policy payments; S8: 27.3%).
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from itertools import pairwise

import numpy as np

from sim.config import compose
from sim.engine.model import PovertyModel
from sim.engine.state import LIFTED
from sim.outcomes import MEASURES
from sim.run import run_model

QUIET = ("output.progress=false", "output.console_summary=false", "output.plots=false")


def one_run(seed: int, policy: str, households: int) -> dict[str, float]:
    """The figures of one run of the default county."""
    cfg = compose(
        [f"seed={seed}", f"policy={policy}", f"population.households={households}", *QUIET]
    )
    model = PovertyModel(cfg)
    s = model.state
    lifted = s.initial_status == LIFTED
    incomes: list[np.ndarray] = []
    first_year: defaultdict[str, float] = defaultdict(float)
    while not model.finished:
        model.step()
        if model.year == cfg.start_year:
            other = (s.transfer_income + s.property_income) / 12
            labour = s.market_income_month - other
            wages = labour - s.farm_income_month * s.working_share()
            income = s.market_income_month + s.policy_transfers_month
            first_year["lifted_income"] += float(income[lifted].sum())
            first_year["lifted_wages"] += float(wages[lifted].sum())
            first_year["county_income"] += float(income.sum())
            first_year["county_transfers"] += float(
                (s.transfer_income / 12 + s.policy_transfers_month).sum()
            )
        if model.month_of_year == 11:
            incomes.append(s.per_capita_income.copy())
    summary = run_model(model)
    pairs = [
        np.log(b[lifted] / a[lifted])[(a[lifted] > 0) & (b[lifted] > 0)]
        for a, b in pairwise(incomes)
    ]
    figures = {
        "log_income_change_sd": float(np.concatenate(pairs).std()),
        "hospitalisation_rate": summary["hospitalisations_per_person_year"],
        "lifted_income_2021": first_year["lifted_income"] / float(s.size[lifted].sum()),
        "lifted_wage_share_2021": first_year["lifted_wages"] / first_year["lifted_income"],
        "county_income_2021": first_year["county_income"] / float(s.size.sum()),
        "county_transfer_share_2021": first_year["county_transfers"] / first_year["county_income"],
    }
    for m in MEASURES:
        by = summary["by_measure"][m]
        events = by["relapse_events"]
        figures[f"relapse_rate[{m}]"] = by["relapse_rate"]
        figures[f"relapse_cumulative[{m}]"] = by["relapse_cumulative"]
        figures[f"withdrawal_share[{m}]"] = (
            by["relapses_by_cause"]["withdrawal"] / events if events else 0.0
        )
        figures[f"poverty_gap_index[{m}]"] = by["poverty_gap_index"]
        figures[f"poverty_severity_index[{m}]"] = by["poverty_severity_index"]
    return figures


def main(argv: list[str] | None = None) -> None:
    """Print the figures (module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--households", type=int, default=20_000)
    args = parser.parse_args(argv)
    for policy in ("none", "status_quo"):
        runs = [one_run(seed, policy, args.households) for seed in range(args.seeds)]
        for key in runs[0]:
            values = np.array([r[key] for r in runs])
            print(f"{key}[{policy}]={values.mean():.6g} ({values.min():.6g}..{values.max():.6g})")


if __name__ == "__main__":
    main()
