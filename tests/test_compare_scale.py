"""A large study draws summaries, not one panel per scenario (no timing assertion)."""

from __future__ import annotations

import json
from itertools import product
from pathlib import Path

import pandas as pd
from test_compare import summary_of, write_run

from sim.analysis import compare_plots
from sim.analysis.compare import build_report, read_sweep, summarize_sweep, yearly_by_scenario


def grid_sweep(root: Path, a_values: int, b_values: int, seeds: int = 2) -> Path:
    """``a`` x ``b`` x policy none/all, ``seeds`` seeds: 2 * a_values * b_values scenarios."""
    plan = []
    for a, b, policy, seed in product(
        range(a_values), range(b_values), ("none", "all"), range(seeds)
    ):
        overrides = [f"a={a}", f"b={b / 10}", f"policy={policy}", f"seed={seed}"]
        rate = 0.02 + 0.001 * a + 0.002 * b + 0.003 * seed - (0.005 if policy == "all" else 0.0)
        cost = 1e5 + 1e3 * a if policy == "all" else 0.0
        write_run(root / str(len(plan)), overrides, summary_of(seed, rate, cost))
        plan.append(overrides)
    (root / "sweep_plan.json").write_text(json.dumps({"runs": plan}))
    return root


def axes_drawn(root: Path) -> dict[str, int]:
    sweep = read_sweep(root)
    summary = summarize_sweep(sweep)
    figures = compare_plots.draw_plots(summary, yearly_by_scenario(sweep), sweep.params)
    return {name: len(figure.axes) for name, figure in figures.items()}


def test_a_300_scenario_sweep_builds_its_report_with_as_many_axes_as_a_40_scenario_one(tmp_path):
    large = grid_sweep(tmp_path / "large", 15, 10)
    report = build_report(large)
    assert report.used == 600 and report.exit_status == 0
    assert len(pd.read_csv(report.folder / "summary.csv")) == 300
    names = {f.name for f in report.files}
    for plot in ("difference_to_baseline", "relapse_rate", "relapse_over_time", "relapse_causes"):
        assert {f"{plot}.png", f"{plot}.svg"} <= names
    assert "heatmap_relapse_rate.png" in names and "cost_effectiveness.png" in names

    many = axes_drawn(large)
    fewer = axes_drawn(grid_sweep(tmp_path / "fewer", 4, 5))
    assert many == fewer
    # heatmaps: policy none, policy all, their difference, each with its colour bar
    assert many["heatmap_relapse_rate"] == 6
    assert sum(many.values()) == 11
