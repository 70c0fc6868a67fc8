"""Time the comparison report of a synthetic sweep of many scenarios (tables and plots).

    python benchmarks/compare_time.py [--scenarios 300] [--seeds 3]

Writes a sweep folder of ``a`` x ``b`` x policy none/all scenarios (summaries only, no model run)
into a temporary folder and prints, one ``key=value`` a line, the time to build the report with
and without plots and the number of axes drawn.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from itertools import product
from pathlib import Path

import yaml

from sim.analysis import compare_plots
from sim.analysis.compare import build_report, read_sweep, summarize_sweep, yearly_by_scenario


def summary(seed: int, rate: float, cost: float) -> dict:
    relapses = round(1000 * rate)
    by_cause = {"illness": relapses // 2, "disaster": relapses - relapses // 2}
    return {
        "seed": seed,
        "households": 600,
        "years": 2,
        "relapse_rate": rate,
        "relapse_cumulative": min(1.0, 2 * rate),
        "new_poverty_rate": rate / 2,
        "headcount_ratio_final": rate / 3,
        "relapses_total": relapses,
        "relapses_by_cause": by_cause,
        "relapse_cause_shares": {c: n / relapses for c, n in by_cause.items()},
        "newly_poor_total": relapses,
        "cost_total_yuan": cost,
        "cost_by_policy_yuan": {"safety_net": cost} if cost else {},
        "relapse_rate_by_year": {"2021": rate * 1.1, "2022": rate * 0.9},
    }


def write_sweep(root: Path, scenarios: int, seeds: int) -> None:
    plan = []
    for a, b, policy, seed in product(
        range(scenarios // 20), range(10), ("none", "all"), range(seeds)
    ):
        overrides = [f"a={a}", f"b={b / 10}", f"policy={policy}", f"seed={seed}"]
        folder = root / str(len(plan))
        (folder / ".hydra").mkdir(parents=True)
        (folder / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
        rate = 0.02 + 0.001 * a + 0.002 * b + 0.003 * seed - (0.01 if policy == "all" else 0.0)
        cost = 1e5 if policy == "all" else 0.0
        (folder / "summary.json").write_text(json.dumps(summary(seed, rate, cost)))
        plan.append(overrides)
    (root / "sweep_plan.json").write_text(json.dumps({"runs": plan}))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=300, help="a multiple of 20")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "sweep"
        write_sweep(root, args.scenarios, args.seeds)
        for plots in (False, True):
            start = time.perf_counter()
            report = build_report(root, plots=plots)
            print(f"report_s[plots:{str(plots).lower()}]={time.perf_counter() - start:.2f}")
        sweep = read_sweep(root)
        figures = compare_plots.draw_plots(
            summarize_sweep(sweep), yearly_by_scenario(sweep), sweep.params
        )
        print(f"scenarios={args.scenarios}")
        print(f"runs_used={report.used}")
        print(f"axes_drawn={sum(len(f.axes) for f in figures.values())}")


if __name__ == "__main__":
    main()
