"""Robust comparison: paired statistics on hand-made run tables, posterior draws, a real study."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.studies.design import posterior_draws
from sim.studies.robust import (
    holding_pairs,
    intervals_cover,
    p_better,
    pairwise,
    rank_distribution,
    summarize,
)
from tests.conftest import run_study

ROOT = Path(__file__).resolve().parent.parent


def runs(rates: dict[str, list[float]], seeds: int = 2) -> pd.DataFrame:
    """A run table: one row per (draw, seed, scenario), pairs in the order of ``rates``' lists."""
    rows = [
        {"draw": i // seeds, "seed": i % seeds, "scenario": scenario, "relapse_rate": rate}
        for scenario, values in rates.items()
        for i, rate in enumerate(values)
    ]
    return pd.DataFrame(rows)


def test_p_better_than_baseline_known_answers():
    table = runs(
        {
            "none": [0.03, 0.04, 0.05, 0.02],
            "lower_everywhere": [0.02, 0.03, 0.01, 0.01],
            "tied": [0.03, 0.04, 0.05, 0.02],
            "three_of_four": [0.02, 0.03, 0.06, 0.01],
        }
    )
    p = p_better(table, "none")
    assert p["lower_everywhere"] == 1.0
    assert p["none"] == 0.0  # the baseline against itself: a tie is not better
    assert p["tied"] == 0.0
    assert p["three_of_four"] == 0.75


def test_p_better_pairs_on_draw_and_seed_not_on_row_order():
    table = runs({"none": [0.03, 0.04, 0.05, 0.02], "policy": [0.025, 0.035, 0.045, 0.015]})
    shuffled = table.sample(frac=1.0, random_state=3)
    assert p_better(shuffled, "none")["policy"] == 1.0


def test_rank_distribution_and_pairwise_known_answers():
    table = runs(
        {
            "a": [0.01, 0.01, 0.03, 0.01],
            "b": [0.02, 0.02, 0.01, 0.02],
            "c": [0.03, 0.03, 0.02, 0.03],
        }
    )
    ranks = rank_distribution(table).set_index(["scenario", "rank"])["share"]
    assert ranks[("a", 1)] == 0.75 and ranks[("a", 3)] == 0.25
    assert ranks[("b", 1)] == 0.25 and ranks[("b", 2)] == 0.75
    assert ranks[("c", 2)] == 0.25 and ranks[("c", 3)] == 0.75
    assert ranks.groupby(level="scenario").sum().tolist() == [1.0, 1.0, 1.0]
    pairs = pairwise(table).set_index(["scenario", "other"])["p_better"]
    assert pairs[("a", "b")] == 0.75 and pairs[("b", "a")] == 0.25
    assert pairs[("b", "c")] == 1.0
    held = holding_pairs(pairwise(table), ["a", "b", "c"], threshold=0.8)
    assert set(zip(held["scenario"], held["other"], strict=True)) == {("b", "c")}


def test_tied_scenarios_share_the_better_rank():
    table = runs({"a": [0.01, 0.02], "b": [0.01, 0.03]}, seeds=1)
    ranks = rank_distribution(table).set_index(["scenario", "rank"])["share"]
    assert ranks[("a", 1)] == 1.0
    assert ranks[("b", 1)] == 0.5 and ranks[("b", 2)] == 0.5


def test_summary_intervals_and_differences_are_paired():
    base = np.linspace(0.02, 0.06, 40)  # wide spread over draws
    table = runs({"none": list(base), "policy": list(base - 0.01)})
    summary = summarize(table, "none").set_index("scenario")
    assert summary.index.tolist() == ["policy", "none"]  # lowest mean first
    row = summary.loc["policy"]
    assert row["pairs"] == 40
    assert row["relapse_rate_lo"] < 0.015 and row["relapse_rate_hi"] > 0.045
    # every pair differs by exactly -0.01: the paired interval has no width
    assert row["relapse_rate_diff_lo"] == pytest.approx(-0.01)
    assert row["relapse_rate_diff_hi"] == pytest.approx(-0.01)
    assert row["p_better_than_baseline"] == 1.0 and row["mean_rank"] == 1.0


def test_posterior_draws_follow_the_weights(tmp_path):
    path = tmp_path / "posterior.parquet"
    pd.DataFrame(
        {"shocks.hospital_cost_sigma": [0.8, 0.9, 1.1], "weight": [0.0, 1.0, 3.0]}
    ).to_parquet(path)
    draws = posterior_draws(path, 8, seed=0)
    values = draws["shocks.hospital_cost_sigma"].tolist()
    assert 0.8 not in values  # weight 0 is never drawn
    assert values.count(1.1) == 6 and values.count(0.9) == 2  # systematic resampling: 3:1
    assert posterior_draws(path, 8, seed=0).equals(draws)


def test_intervals_cover_says_seed_noise_only_for_an_ordinary_sweep(tmp_path):
    assert intervals_cover(tmp_path).startswith("Intervals cover seed noise only")


def test_a_robust_study_from_a_posterior_file_runs_every_scenario_on_every_draw(tmp_path):
    posterior = tmp_path / "posterior.parquet"
    pd.DataFrame(
        {
            "shocks.hospital_cost_sigma": [0.75, 1.25],
            "policies.monitoring.coverage": [0.3, 0.7],
            "weight": [1.0, 1.0],
        }
    ).to_parquet(posterior)
    sweep = tmp_path / "sweep"
    run_study(
        "robust_comparison",
        sweep,
        *("population=small", "population.households=1000", "years=2", "robust.draws=2"),
        *("robust.seeds=[0]", "robust.scenarios=[monitoring,medical_relief]"),
        *("robust.parameters=[shocks.reimbursement_rate]", f"robust.posterior={posterior}"),
        timeout=300,
    )
    design = pd.read_csv(sweep / "robust" / "design.csv", index_col="point")
    assert sorted(design["shocks.hospital_cost_sigma"]) == [0.75, 1.25]
    assert design["shocks.reimbursement_rate"].between(0.45, 0.65).all()  # its declared range
    jobs = pd.read_csv(sweep / "robust" / "jobs.csv")
    assert len(jobs) == 2 * 3 and jobs["run"].nunique() == 6
    for job in jobs.itertuples():
        config = json.loads((sweep / str(job.run) / "provenance.json").read_text())["config"]
        drawn = design.loc[job.draw]
        assert config["shocks"]["hospital_cost_sigma"] == drawn["shocks.hospital_cost_sigma"]
        assert config["policies"]["monitoring"]["coverage"] == drawn["policies.monitoring.coverage"]
    summary = pd.read_csv(sweep / "robust" / "summary.csv").set_index("scenario")
    assert set(summary.index) == {"none", "monitoring", "medical_relief"}
    assert summary.loc["none", "p_better_than_baseline"] == 0.0
    assert (summary["pairs"] == 2).all()
    ranks = pd.read_csv(sweep / "robust" / "ranks.csv")
    assert ranks.groupby("scenario")["share"].sum().round(12).eq(1.0).all()
    report = (sweep / "robust" / "report.md").read_text()
    assert "draws from the posterior" in report
    assert (sweep / "robust" / "ranks.png").exists() and (sweep / "robust" / "ranks.svg").exists()
