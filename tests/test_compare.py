"""The comparison report, on synthetic sweep folders with known answers (no model runs)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from sim.analysis.compare import CompareError, build_report, read_sweep, summarize_sweep
from sim.analysis.stats import mean_interval

SEED_LEVEL = {0: 0.02, 1: 0.06, 2: 0.035, 3: 0.05, 4: 0.025}  # large differences between seeds


def write_run(
    folder: Path,
    overrides: list[str],
    summary: dict | None,
    *,
    policies_enabled: bool = False,
    error: str | None = None,
) -> None:
    (folder / ".hydra").mkdir(parents=True)
    (folder / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    config = {"policies": {"safety_net": {"enabled": policies_enabled}}}
    (folder / ".hydra" / "config.yaml").write_text(yaml.safe_dump(config))
    if summary is not None:
        (folder / "summary.json").write_text(json.dumps(summary))
    if error is not None:
        (folder / "error.json").write_text(json.dumps({"type": "RuntimeError", "message": error}))


def summary_of(seed: int, relapse_rate: float, cost: float = 0.0) -> dict:
    """A summary with every key of a real one (sim.outcomes.summarize), from a relapse rate."""
    relapses = round(1000 * relapse_rate)
    by_cause = {"illness": relapses // 2, "disaster": relapses - relapses // 2}
    return {
        "seed": seed,
        "households": 600,
        "years": 2,
        "relapse_rate": relapse_rate,
        "relapse_cumulative": min(1.0, 2 * relapse_rate),
        "new_poverty_rate": relapse_rate / 2,
        "headcount_ratio_final": relapse_rate / 3,
        "relapses_total": relapses,
        "relapses_by_cause": by_cause,
        "relapse_cause_shares": {c: n / relapses if relapses else 0.0 for c, n in by_cause.items()},
        "newly_poor_total": relapses // 2,
        "cost_total_yuan": cost,
        "cost_by_policy_yuan": {"safety_net": cost} if cost else {},
        "relapse_rate_by_year": {"2021": relapse_rate * 1.1, "2022": relapse_rate * 0.9},
    }


def make_sweep(root: Path, grid: dict[str, list], rate, *, skip=(), fail=()) -> Path:
    """A sweep folder over ``grid`` x seeds 0-4: ``rate(values, seed)`` gives the relapse rate.

    Jobs in ``skip`` have no folder (never started); jobs in ``fail`` have ``error.json``.
    """
    keys = list(grid)
    plan, job = [], 0
    for values in product(*grid.values()):
        for seed in SEED_LEVEL:
            overrides = [f"{k}={v}" for k, v in zip(keys, values, strict=True)] + [f"seed={seed}"]
            plan.append(overrides)
            setting = dict(zip(keys, values, strict=True))
            enabled = setting.get("policy", "none") != "none" or bool(
                setting.get("policies.safety_net.enabled")
            )
            if job in fail:
                write_run(root / str(job), overrides, None, error=f"job {job} broke")
            elif job not in skip:
                cost = 1e5 if enabled else 0.0
                summary = summary_of(seed, rate(setting, seed), cost)
                write_run(root / str(job), overrides, summary, policies_enabled=enabled)
            job += 1
    (root / "sweep_plan.json").write_text(json.dumps({"runs": plan}))
    return root


def policy_effect(setting: dict, seed: int) -> float:
    """A policy that lowers relapse by 1 point, with a little seed-specific variation."""
    effect = -0.01 + 0.001 * (seed % 2) if setting["policy"] == "all" else 0.0
    return SEED_LEVEL[seed] + effect


def test_mean_interval_is_the_student_t_interval():
    values = [1.0, 2.0, 3.0, 4.0]
    mean, lo, hi, n = mean_interval(values)
    expected = stats.t.interval(0.95, 3, loc=2.5, scale=stats.sem(values))
    assert (mean, n) == (2.5, 4)
    np.testing.assert_allclose((lo, hi), expected)
    assert mean_interval([1.0, math.nan, 3.0])[3] == 2


def test_one_value_has_no_interval_and_no_value_has_no_mean():
    mean, lo, hi, n = mean_interval([0.3])
    assert mean == 0.3 and n == 1 and math.isnan(lo) and math.isnan(hi)
    assert all(math.isnan(x) for x in mean_interval([])[:3])


def test_summary_has_a_row_per_scenario_with_means_and_intervals(tmp_path):
    sweep = read_sweep(make_sweep(tmp_path, {"policy": ["none", "all"]}, policy_effect))
    summary = summarize_sweep(sweep)
    assert summary["scenario"].tolist() == ["policy=none", "policy=all"]
    assert summary["n_seeds"].tolist() == [5, 5]
    for _, row in summary.iterrows():
        rates = [policy_effect({"policy": row["policy"]}, s) for s in SEED_LEVEL]
        assert row["relapse_rate_mean"] == pytest.approx(np.mean(rates))
        expected = stats.t.interval(0.95, 4, loc=np.mean(rates), scale=stats.sem(rates))
        assert (row["relapse_rate_lo"], row["relapse_rate_hi"]) == pytest.approx(expected)
    baseline = summary.set_index("scenario").loc["policy=none"]
    assert baseline["is_baseline"] and baseline["relapse_rate_diff"] == 0


def test_paired_difference_is_narrower_than_unpaired_and_covers_the_effect(tmp_path):
    summary = summarize_sweep(
        read_sweep(make_sweep(tmp_path, {"policy": ["none", "all"]}, policy_effect))
    )
    policy = summary.set_index("scenario").loc["policy=all"]
    treated = [policy_effect({"policy": "all"}, s) for s in SEED_LEVEL]
    control = [policy_effect({"policy": "none"}, s) for s in SEED_LEVEL]
    welch = stats.ttest_ind(treated, control, equal_var=False).confidence_interval(0.95)
    paired_width = policy["relapse_rate_diff_hi"] - policy["relapse_rate_diff_lo"]
    assert paired_width < (welch.high - welch.low) / 10
    assert policy["relapse_rate_diff_lo"] < -0.0094 < policy["relapse_rate_diff_hi"] < 0
    assert policy["relapse_events_averted"] > 0
    assert policy["cost_per_relapse_event_averted_yuan"] == pytest.approx(
        1e5 / policy["relapse_events_averted"]
    )


def test_baseline_is_policy_none_by_default_and_can_be_chosen(tmp_path):
    sweep = read_sweep(make_sweep(tmp_path, {"policy": ["all", "none"]}, policy_effect))
    default = summarize_sweep(sweep).set_index("scenario")
    assert default.loc["policy=none", "is_baseline"]
    assert default.loc["policy=all", "baseline"] == "policy=none"
    chosen = summarize_sweep(sweep, ["policy=all"]).set_index("scenario")
    assert chosen.loc["policy=none", "baseline"] == "policy=all"
    assert chosen.loc["policy=none", "relapse_rate_diff"] > 0
    with pytest.raises(CompareError, match="not a varying parameter"):
        summarize_sweep(sweep, ["shocks.job_loss_rate=0.1"])
    with pytest.raises(CompareError, match="no scenario"):
        summarize_sweep(sweep, ["policy=safety_net"])


def test_without_policy_values_the_first_scenario_without_policies_is_the_baseline(tmp_path):
    def rate(setting, seed):
        return SEED_LEVEL[seed] - (0.01 if setting["policies.safety_net.enabled"] else 0)

    grid = {"policies.safety_net.enabled": [True, False]}
    summary = summarize_sweep(read_sweep(make_sweep(tmp_path, grid, rate))).set_index("scenario")
    assert summary.index.tolist() == [
        "policies.safety_net.enabled=True",
        "policies.safety_net.enabled=False",
    ]
    assert summary["is_baseline"].tolist() == [False, True]
    assert summary.loc["policies.safety_net.enabled=True", "relapse_rate_diff"] == pytest.approx(
        -0.01
    )


def test_each_cell_of_a_grid_is_compared_with_the_baseline_at_the_same_cell(tmp_path):
    def rate(setting, seed):
        effect = -0.005 * setting["shocks.hospitalisation_rate"] / 0.1
        return SEED_LEVEL[seed] + (effect if setting["policy"] == "all" else 0.0)

    grid = {"shocks.hospitalisation_rate": [0.1, 0.2], "policy": ["none", "all"]}
    summary = summarize_sweep(read_sweep(make_sweep(tmp_path, grid, rate))).set_index("scenario")
    treated = summary.loc["shocks.hospitalisation_rate=0.2, policy=all"]
    assert treated["baseline"] == "shocks.hospitalisation_rate=0.2, policy=none"
    assert treated["relapse_rate_diff"] == pytest.approx(-0.01)
    assert summary["is_baseline"].sum() == 2


def test_failed_and_missing_runs_are_listed_and_the_rest_used(tmp_path):
    root = make_sweep(tmp_path, {"policy": ["none", "all"]}, policy_effect, skip={7}, fail={3})
    (root / "8" / "summary.json").unlink()  # interrupted: the folder exists, no summary, no error
    report = build_report(root)
    runs = pd.read_csv(root / "comparison" / "runs.csv")
    assert runs.set_index("job")["status"].to_dict() == {
        **dict.fromkeys(range(10), "ok"),
        3: "failed",
        7: "missing",
        8: "missing",
    }
    assert report.used == 7 and report.planned == 10
    summary = pd.read_csv(root / "comparison" / "summary.csv").set_index("scenario")
    assert summary.loc["policy=none", ["n_seeds", "n_failed"]].tolist() == [4, 1]
    assert summary.loc["policy=all", ["n_seeds", "n_missing"]].tolist() == [3, 2]
    text = (root / "comparison" / "report.md").read_text()
    assert "Runs used: **7** of 10 planned (1 failed, 2 missing)" in text
    assert "job 3 (policy=none seed=3), `3`: RuntimeError: job 3 broke" in text
    assert "job 7 (policy=all seed=2), no folder" in text
    assert "Intervals cover seed noise only" in text  # an ordinary sweep: no parameter draws


def test_a_sweep_without_finished_runs_still_reports_its_failures(tmp_path):
    root = make_sweep(tmp_path, {"policy": ["none"]}, policy_effect, fail=set(range(5)))
    report = build_report(root)
    assert report.used == 0
    assert not (root / "comparison" / "summary.csv").exists()
    assert (
        "job 4 (policy=none seed=4), `4`: RuntimeError"
        in (root / "comparison" / "report.md").read_text()
    )


def test_plots_are_written_as_png_and_svg_with_a_heatmap_for_two_numeric_parameters(tmp_path):
    def rate(setting, seed):
        return SEED_LEVEL[seed] + setting["a"] / 100 - setting["b"] / 200

    grid = {"a": [1, 2, 3], "b": [0.5, 1.0], "policy": ["none", "all"]}
    report = build_report(make_sweep(tmp_path / "grid", grid, rate))
    names = {f.name for f in report.files}
    for plot in (
        "relapse_rate",
        "relapse_over_time",
        "relapse_causes",
        "cost_effectiveness",
        "heatmap_relapse_rate",
    ):
        assert {f"{plot}.png", f"{plot}.svg"} <= names
        assert (report.folder / f"{plot}.png").stat().st_size > 10_000
    line = build_report(make_sweep(tmp_path / "line", {"policy": ["none", "all"]}, policy_effect))
    assert not any(f.name.startswith("heatmap") for f in line.files)


def test_compare_command_reads_files_only_and_never_imports_the_model(tmp_path):
    root = make_sweep(tmp_path, {"policy": ["none", "all"]}, policy_effect)
    code = (
        "import sys; from sim import compare; status = compare.main([sys.argv[1]]);"
        "model = ('sim.engine.model', 'sim.run', 'sim.policies', 'mesa');"
        "print('leaked', [m for m in model if m in sys.modules]); sys.exit(status)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(root)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "comparison of 10 runs of 10 planned (0 failed, 0 missing)" in done.stdout
    assert "leaked []" in done.stdout


def test_compare_command_rejects_a_bad_folder_and_a_bad_baseline(tmp_path):
    root = make_sweep(tmp_path, {"policy": ["none", "all"]}, policy_effect)
    for args in ([str(tmp_path / "nowhere")], [str(root), "--baseline", "policy"]):
        done = subprocess.run(
            [sys.executable, "-m", "sim.compare", *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 2
        assert len(done.stderr.strip().splitlines()) == 1 and "error:" in done.stderr
