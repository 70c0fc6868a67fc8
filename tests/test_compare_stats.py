"""The report's statistics and plots read right: known answers on hand-made sweep folders."""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.text import Text
from scipy import stats
from test_compare import SEED_LEVEL, make_sweep, policy_effect, summary_of, write_run

from sim.analysis import compare_plots
from sim.analysis.compare import build_report, main, read_sweep, summarize_sweep, yearly_by_scenario
from sim.analysis.stats import grouped_intervals, mean_interval


def write_plan(root: Path, runs: list[list[str]], **extra) -> None:
    (root / "sweep_plan.json").write_text(json.dumps({"runs": runs, **extra}))


def test_paired_difference_of_known_offsets_is_their_mean_with_the_t_interval(tmp_path):
    """Scenario = baseline + 1, 2, 3 points on seeds 0, 1, 2: mean 2 points, sd 1 point."""
    base = {0: 0.05, 1: 0.02, 2: 0.08}
    offsets = {0: 0.01, 1: 0.02, 2: 0.03}
    plan = []
    for job, (policy, seed) in enumerate(itertools.product(("none", "all"), base)):
        overrides = [f"policy={policy}", f"seed={seed}"]
        rate = base[seed] + (offsets[seed] if policy == "all" else 0.0)
        write_run(tmp_path / str(job), overrides, summary_of(seed, rate))
        plan.append(overrides)
    write_plan(tmp_path, plan)
    row = summarize_sweep(read_sweep(tmp_path)).set_index("scenario").loc["policy=all"]
    half = stats.t.ppf(0.975, 2) * 0.01 / math.sqrt(3)
    assert row["n_pairs"] == 3
    assert row["relapse_rate_diff"] == pytest.approx(0.02)
    assert row["relapse_rate_diff_lo"] == pytest.approx(0.02 - half)
    assert row["relapse_rate_diff_hi"] == pytest.approx(0.02 + half)
    # The unpaired interval of the scenario's own mean is far wider than the paired one.
    assert row["relapse_rate_hi"] - row["relapse_rate_lo"] > 3 * 2 * half


def test_grouped_intervals_agree_with_the_one_group_reference():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"scenario": np.repeat(["a", "b", "c"], [1, 3, 6]), "x": rng.uniform(0, 1, 10)}
    )
    table = grouped_intervals(frame, "scenario", ["x"])
    for name, group in frame.groupby("scenario"):
        expected = mean_interval(group["x"])
        got = tuple(table[part].loc[name, "x"] for part in ("mean", "lo", "hi", "n"))
        np.testing.assert_allclose(got, expected, equal_nan=True)


def test_rate_intervals_stay_between_zero_and_one_and_count_intervals_above_zero(tmp_path):
    rates = {0: 0.0, 1: 0.0, 2: 0.03}  # t-interval of the mean: 0.01 +- 0.043
    plan = []
    for seed, rate in rates.items():
        write_run(tmp_path / str(seed), [f"seed={seed}"], summary_of(seed, rate))
        plan.append([f"seed={seed}"])
    write_plan(tmp_path, plan)
    sweep = read_sweep(tmp_path)
    row = summarize_sweep(sweep).iloc[0]
    unbounded = mean_interval(rates.values())
    assert unbounded[1] < 0
    assert row["relapse_rate_lo"] == 0.0
    assert row["relapse_rate_hi"] == pytest.approx(unbounded[2])
    assert row["relapses_total_lo"] == 0.0 and row["cost_total_yuan_lo"] == 0.0
    assert (yearly_by_scenario(sweep)["lo"] >= 0).all()
    assert mean_interval([0.98, 1.0, 0.9], bounds=(0.0, 1.0))[2] == 1.0


def test_report_warns_in_one_line_when_a_scenario_has_fewer_than_five_seeds(tmp_path):
    few = make_sweep(tmp_path / "few", {"policy": ["none", "all"]}, policy_effect, skip={7})
    text = (build_report(few, plots=False).folder / "report.md").read_text()
    warnings = [line for line in text.splitlines() if "fewer than 5 valid seeds" in line]
    assert len(warnings) == 1
    assert "1 of 2 scenarios" in warnings[0] and "`policy=all`: 4" in warnings[0]
    enough = make_sweep(tmp_path / "enough", {"policy": ["none", "all"]}, policy_effect)
    assert (
        "fewer than 5" not in (build_report(enough, plots=False).folder / "report.md").read_text()
    )


def test_a_sweep_without_seed_overrides_pairs_on_the_recorded_seed(tmp_path):
    """As ``python -m sim -m policy=none,all population=small`` writes it: every run seed 0."""
    plan = [["policy=none", "population=small"], ["policy=all", "population=small"]]
    for job, overrides in enumerate(plan):
        rate = 0.04 if job == 0 else 0.01
        write_run(tmp_path / str(job), overrides, summary_of(0, rate, 1e5 * job))
    write_plan(tmp_path, plan)
    report = build_report(tmp_path)
    assert report.exit_status == 0 and report.used == 2
    summary = pd.read_csv(report.folder / "summary.csv").set_index("scenario")
    assert summary.loc["policy=all", "relapse_rate_diff"] == pytest.approx(-0.03)
    assert summary.loc["policy=all", "n_pairs"] == 1
    assert math.isnan(summary.loc["policy=all", "relapse_rate_diff_lo"])
    text = (report.folder / "report.md").read_text()
    assert "with one seed a scenario has no interval" in text
    assert "shared by every run: `population=small`" in text
    assert "| policy=all | 1 | 1.00 | -3.00 |" in text


def test_report_records_the_command_and_the_fixed_overrides_when_the_plan_holds_them(tmp_path):
    root = make_sweep(tmp_path, {"policy": ["none", "all"]}, policy_effect)
    text = (build_report(root, plots=False).folder / "report.md").read_text()
    assert "Command: not recorded." in text
    assert "Fixed overrides: not recorded in `sweep_plan.json`; shared by every run: `none`" in text
    plan = json.loads((root / "sweep_plan.json").read_text())
    command = ["python", "-m", "sim", "-m", "policy=none,all", "seed=range(0,5)", "years=2"]
    write_plan(root, plan["runs"], command=command, fixed=["years=2"])
    text = (build_report(root, plots=False).folder / "report.md").read_text()
    assert "Command: `python -m sim -m policy=none,all 'seed=range(0,5)' years=2`." in text
    assert "Fixed overrides: `years=2`." in text


def test_relapses_averted_are_counted_and_labelled_as_events(tmp_path):
    report = build_report(make_sweep(tmp_path, {"policy": ["none", "all"]}, policy_effect))
    summary = pd.read_csv(report.folder / "summary.csv").set_index("scenario")
    assert not {"relapses_averted", "cost_per_relapse_averted_yuan"} & set(summary.columns)
    row = summary.loc["policy=all"]
    assert row["relapse_events_averted"] == pytest.approx(-row["relapses_total_diff"])
    assert row["relapse_events_averted_lo"] == pytest.approx(-row["relapses_total_diff_hi"])
    assert "relapse events averted" in (report.folder / "report.md").read_text()


def test_baseline_option_writes_beside_the_default_report_never_over_it(tmp_path, capsys):
    root = make_sweep(tmp_path, {"policy": ["none", "all"]}, policy_effect)
    assert main([str(root), "--no-plots"]) == 0
    default = (root / "comparison" / "summary.csv").read_bytes()
    assert main([str(root), "--no-plots", "--baseline", "policy=all"]) == 0
    assert "comparison-policy=all/report.md" in capsys.readouterr().out
    assert (root / "comparison" / "summary.csv").read_bytes() == default
    other = pd.read_csv(root / "comparison-policy=all" / "summary.csv").set_index("scenario")
    assert other.loc["policy=none", "relapse_rate_diff"] > 0
    assert not (root / "comparison-policy=all" / "comparison").exists()
    # The second report folder is not taken for a run folder.
    assert main([str(root), "--no-plots"]) == 0


def grid_sweep(root: Path) -> tuple[Path, pd.DataFrame, pd.DataFrame]:
    """4 hospitalisation levels x policy none/all: the policy's effect grows with the level."""

    def rate(setting, seed):
        level = setting["shocks.hospitalisation_rate"]
        effect = -0.1 * level if setting["policy"] == "all" else 0.0
        return SEED_LEVEL[seed] + level / 10 + effect

    grid = {"shocks.hospitalisation_rate": [0.05, 0.1, 0.15, 0.2], "policy": ["none", "all"]}
    sweep = read_sweep(make_sweep(root, grid, rate))
    return root, summarize_sweep(sweep), yearly_by_scenario(sweep)


def test_over_time_panels_draw_the_matching_baseline_cell_of_a_grid(tmp_path):
    _, summary, yearly = grid_sweep(tmp_path)
    params = ["shocks.hospitalisation_rate", "policy"]
    figure = compare_plots.draw_plots(summary, yearly, params)["relapse_over_time"]
    checked = 0
    for ax in figure.axes:
        dotted = [line for line in ax.get_lines() if line.get_linestyle() == ":"]
        title = ax.get_title()
        if not title or title.endswith("(baseline)"):
            assert not dotted
            continue
        level = float(title.split(",")[0].removeprefix("hospitalisation_rate="))
        base = f"shocks.hospitalisation_rate={level:g}, policy=none"
        expected = 100 * yearly[yearly["scenario"] == base].sort_values("year")["mean"]
        assert len(dotted) == 1
        np.testing.assert_allclose(dotted[0].get_ydata(), expected.to_numpy())
        checked += 1
    assert checked == 4


def test_first_plot_is_the_paired_difference_to_the_baseline(tmp_path):
    root, summary, _ = grid_sweep(tmp_path)
    report = build_report(root)
    plots = [f.name for f in report.files if f.suffix == ".png"]
    assert plots[0] == "difference_to_baseline.png"
    text = (report.folder / "report.md").read_text()
    assert text.split("## Plots")[1].strip().startswith("![difference_to_baseline]")
    ax = compare_plots.plot_difference_to_baseline(summary, ax=Figure().add_subplot())
    assert ax.get_xlabel() == "relapse rate, difference to baseline (percentage points)"
    assert any(tuple(line.get_xdata()) == (0, 0) for line in ax.get_lines())  # the zero line
    assert len(ax.get_yticks()) == 4  # the policy=all cells, not the baselines
    treated = summary[~summary["is_baseline"]]
    drawn = sorted(float(x) for x in ax.collections[0].get_segments()[0][:, 0])
    assert drawn == pytest.approx(
        sorted(100 * treated.iloc[0][["relapse_rate_diff_lo", "relapse_rate_diff_hi"]])
    )


def heatmap_images(figure) -> list[AxesImage]:
    return [image for ax in figure.axes for image in ax.get_images()]


def test_heatmaps_have_a_scale_per_panel_and_a_difference_panel(tmp_path):
    def rate(setting, seed):
        effect = -0.002 * setting["a"] if setting["policy"] == "all" else 0.0
        return 0.2 * SEED_LEVEL[seed] + setting["a"] / 100 + setting["b"] / 50 + effect

    grid = {"a": [1, 2, 3], "b": [0.5, 1.0], "policy": ["none", "all"]}
    sweep = read_sweep(make_sweep(tmp_path, grid, rate))
    summary = summarize_sweep(sweep)
    figure = compare_plots.draw_plots(summary, yearly_by_scenario(sweep), sweep.params)[
        "heatmap_relapse_rate"
    ]
    images = heatmap_images(figure)
    assert len(images) == 3  # policy none, policy all, and the difference of all to none
    for image, policy in zip(images[:2], ("none", "all"), strict=True):
        rates = 100 * summary.loc[summary["policy"] == policy, "relapse_rate_mean"]
        assert image.get_clim() == pytest.approx((rates.min(), rates.max()))
    low, high = images[2].get_clim()
    assert low == pytest.approx(-high)
    diffs = 100 * summary.loc[summary["policy"] == "all", "relapse_rate_diff"]
    assert high == pytest.approx(diffs.abs().max())
    np.testing.assert_allclose(np.sort(images[2].get_array().compressed()), np.sort(diffs))


def texts_overlap(ax) -> list[tuple[str, str]]:
    """Pairs of labels in ``ax`` whose texts overlap (leader lines left out)."""
    ax.figure.draw_without_rendering()
    texts = [t for t in ax.texts if t.get_visible() and t.get_text()]
    boxes = [(t.get_text(), Text.get_window_extent(t)) for t in texts]
    return [
        (a, b)
        for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2)
        if box_a.overlaps(box_b)
    ]


def ce_summary(points: list[tuple[float, float]]) -> pd.DataFrame:
    rows = [{"scenario": "policies.monitoring.coverage=0.25, delay_months=0", "is_baseline": True}]
    for i, (averted, cost) in enumerate(points):
        rows.append(
            {
                "scenario": f"policies.monitoring.coverage={i}, delay_months={i % 4}",
                "is_baseline": False,
                "relapse_events_averted": averted,
                "relapse_events_averted_lo": averted - 1,
                "relapse_events_averted_hi": averted + 1,
                "cost_total_yuan_diff": cost,
                "cost_total_yuan_diff_lo": cost - 1e4,
                "cost_total_yuan_diff_hi": cost + 1e4,
            }
        )
    return pd.DataFrame(rows)


def test_cost_effectiveness_labels_never_overlap(tmp_path):
    rng = np.random.default_rng(1)
    crowded = list(zip(rng.normal(2, 0.1, 15), rng.normal(4e5, 3e3, 15), strict=True))
    figure = Figure(figsize=(11, 5.5), layout="constrained")
    ax = compare_plots.plot_cost_effectiveness(ce_summary(crowded), figure.add_subplot())
    assert texts_overlap(ax) == []
    numbers = sorted(int(t.get_text()) for t in ax.texts)
    assert numbers == list(range(1, 16))  # every point numbered, names in the key
    assert len(ax.get_legend().get_texts()) == 15
    figure.savefig(tmp_path / "crowded.png")

    apart = [(1.0, 1e5), (5.0, 5e5), (9.0, 9e5)]
    figure = Figure(figsize=(11, 5.5), layout="constrained")
    ax = compare_plots.plot_cost_effectiveness(ce_summary(apart), figure.add_subplot())
    assert ax.texts[0].get_text().startswith("policies.monitoring.coverage=0")
    assert ax.get_legend() is None and texts_overlap(ax) == []


def test_importing_the_analysis_selects_no_backend_and_keeps_the_one_chosen(tmp_path):
    root = make_sweep(tmp_path, {"policy": ["none", "all"]}, policy_effect)
    code = (
        "import sys, matplotlib\n"
        "import sim.analysis.compare, sim.analysis.compare_plots, sim.analysis.dashboard\n"
        "import sim.analysis.stats, sim.analysis.validate\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
        "assert matplotlib.rcParams._get_backend_or_none() is None, 'a backend was chosen'\n"
        "matplotlib.use('svg')\n"
        "sim.analysis.compare.build_report(sys.argv[1])\n"
        "assert matplotlib.get_backend() == 'svg', matplotlib.get_backend()\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "MPLBACKEND"}
    done = subprocess.run(
        [sys.executable, "-c", code, str(root)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
