"""Real sweeps (``python -m sim -m``) of a small county: report, robustness, launchers."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

import sim.cli.main
from sim.config import CONFIG_DIR, compose

SMALL = ("population=small", "output.plots=false", "output.household_table=false")
# Monitoring lowers relapse without driving it to zero in this small county, so that paired
# differences show their advantage (a policy that brings every seed to zero relapse would not).
POLICY_X_SEED = ("policy=none,monitoring", "seed=0,1,2", "years=3")


def run_sweep(sweep_dir: Path, *args: str, status: int = 0) -> subprocess.CompletedProcess[str]:
    """Run a sweep of the small county; check its exit status (1 when a run failed)."""
    done = subprocess.run(
        [sys.executable, "-m", "sim", "-m", *SMALL, *args, f"hydra.sweep.dir={sweep_dir}"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == status, done.stderr
    return done


def summaries(sweep_dir: Path) -> dict[str, bytes]:
    return {p.parent.name: p.read_bytes() for p in sorted(sweep_dir.glob("*/summary.json"))}


@pytest.fixture(scope="module")
def sweep_2x3(tmp_path_factory) -> Path:
    """policy none/monitoring x seeds 0-2 on two workers."""
    sweep_dir = tmp_path_factory.mktemp("sweeps") / "two_workers"
    run_sweep(sweep_dir, *POLICY_X_SEED, "hydra.launcher.n_jobs=2")
    return sweep_dir


def test_sweep_report_has_a_row_per_scenario_and_intervals_around_the_seed_mean(sweep_2x3):
    summary = pd.read_csv(sweep_2x3 / "comparison" / "summary.csv").set_index("scenario")
    assert summary.index.tolist() == ["policy=none", "policy=monitoring"]
    assert summary["n_seeds"].tolist() == [3, 3]
    for scenario, policy in (("policy=none", "none"), ("policy=monitoring", "monitoring")):
        rates = [
            json.loads((sweep_2x3 / str(job) / "summary.json").read_text())["relapse_rate"]
            for job in range(6)
            if f"policy={policy}"
            in json.loads((sweep_2x3 / str(job) / "provenance.json").read_text())["overrides"]
        ]
        row = summary.loc[scenario]
        assert len(rates) == 3
        assert row["relapse_rate_mean"] == pytest.approx(np.mean(rates))
        assert row["relapse_rate_lo"] <= np.mean(rates) <= row["relapse_rate_hi"]
    report = (sweep_2x3 / "comparison" / "report.md").read_text()
    assert "Runs used: **6** of 6 planned (0 failed, 0 missing)" in report
    for plot in ("relapse_rate", "relapse_over_time", "relapse_causes", "cost_effectiveness"):
        assert (sweep_2x3 / "comparison" / f"{plot}.png").exists()
        assert (sweep_2x3 / "comparison" / f"{plot}.svg").exists()


def test_each_run_records_its_provenance(sweep_2x3):
    provenance = json.loads((sweep_2x3 / "4" / "provenance.json").read_text())
    assert provenance["seed"] == 1 and provenance["config"]["seed"] == 1
    assert {"policy=monitoring", "seed=1"} <= set(provenance["overrides"])
    assert provenance["config"]["population"]["households"] == 600
    assert provenance["wall_time_s"] > 0
    assert {"python", "numpy", "mesa", "hydra-core", "pandas"} <= set(provenance["packages"])
    summary = json.loads((sweep_2x3 / "4" / "summary.json").read_text())
    assert not {"wall_time_s", "packages", "host"} & summary.keys()


def test_paired_interval_is_narrower_than_the_unpaired_one_for_a_real_effect(sweep_2x3):
    runs = pd.read_csv(sweep_2x3 / "comparison" / "runs.csv")
    treated = runs[runs["policy"] == "monitoring"].sort_values("seed")["relapse_rate"].to_numpy()
    control = runs[runs["policy"] == "none"].sort_values("seed")["relapse_rate"].to_numpy()
    welch = stats.ttest_ind(treated, control, equal_var=False).confidence_interval(0.95)
    row = pd.read_csv(sweep_2x3 / "comparison" / "summary.csv").set_index("scenario")
    paired = row.loc["policy=monitoring", ["relapse_rate_diff_lo", "relapse_rate_diff_hi"]]
    paired = paired.to_numpy()
    assert (treated < control).all(), "monitoring lowers relapse under every seed's shocks"
    differences = stats.ttest_1samp(treated - control, 0.0).confidence_interval(0.95)
    assert paired == pytest.approx([differences.low, differences.high])
    assert paired[1] - paired[0] < welch.high - welch.low


def test_rerunning_an_interrupted_sweep_computes_only_the_missing_runs(sweep_2x3, tmp_path):
    sweep_dir = tmp_path / "interrupted"
    shutil.copytree(sweep_2x3, sweep_dir)
    shutil.rmtree(sweep_dir / "5")  # never started
    (sweep_dir / "4" / "summary.json").unlink()  # interrupted before its summary was written
    before = {job: (sweep_dir / job / "provenance.json").read_bytes() for job in "0123"}
    done = subprocess.run(
        [sys.executable, "-m", "sim.compare", str(sweep_dir)], capture_output=True, text=True
    )
    assert "comparison of 4 runs of 6 planned (0 failed, 2 missing)" in done.stdout

    done = run_sweep(sweep_dir, *POLICY_X_SEED, "hydra.launcher.n_jobs=2")
    assert "reused 4 runs finished earlier with the same config and code" in done.stdout
    assert "recomputed 1 runs (not finished): jobs 4" in done.stdout
    assert {job: (sweep_dir / job / "provenance.json").read_bytes() for job in "0123"} == before
    assert summaries(sweep_dir) == summaries(sweep_2x3)
    assert (sweep_dir / "comparison" / "summary.csv").read_bytes() == (
        sweep_2x3 / "comparison" / "summary.csv"
    ).read_bytes()
    report, original = (
        [
            line
            for line in (d / "comparison" / "report.md").read_text().splitlines()[1:]
            if str(d) not in line
        ]  # the title and the command name the folder
        for d in (sweep_dir, sweep_2x3)
    )
    assert report == original


def test_one_worker_and_two_workers_give_identical_results(sweep_2x3, tmp_path):
    one = tmp_path / "one_worker"
    run_sweep(one, *POLICY_X_SEED, "hydra.launcher.n_jobs=1")
    assert len(summaries(one)) == 6
    assert summaries(one) == summaries(sweep_2x3)
    assert (one / "comparison" / "summary.csv").read_bytes() == (
        sweep_2x3 / "comparison" / "summary.csv"
    ).read_bytes()


def test_hydras_joblib_launcher_gives_the_forked_workers_results(sweep_2x3, tmp_path):
    """``hydra.launcher.fork=false``: fresh worker processes (the default where fork is unsafe)."""
    joblib = tmp_path / "joblib"
    run_sweep(joblib, *POLICY_X_SEED, "hydra.launcher.n_jobs=2", "hydra.launcher.fork=false")
    assert summaries(joblib) == summaries(sweep_2x3)
    overrides = [(joblib / str(job) / ".hydra" / "overrides.yaml").read_text() for job in range(6)]
    assert overrides == [
        (sweep_2x3 / str(job) / ".hydra" / "overrides.yaml").read_text() for job in range(6)
    ]


def test_a_single_run_and_the_same_run_in_a_sweep_write_the_same_summary(sweep_2x3, tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            *SMALL,
            "policy=monitoring",
            "seed=1",
            "years=3",
            f"hydra.run.dir={tmp_path / 'single'}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    overrides = json.loads((sweep_2x3 / "4" / "provenance.json").read_text())["overrides"]
    assert {"policy=monitoring", "seed=1"} <= set(overrides)
    single = (tmp_path / "single" / "summary.json").read_bytes()
    assert single == (sweep_2x3 / "4" / "summary.json").read_bytes()


def test_a_failing_run_is_recorded_and_the_others_are_reported(tmp_path, monkeypatch):
    """In-process sweep on Hydra's basic launcher, with a run that raises deliberately."""
    real = sim.cli.main.run_and_write

    def fail_seed_one(cfg, output_dir, timing=None):
        if cfg.seed == 1:
            raise RuntimeError("deliberate failure of seed 1")
        return real(cfg, output_dir, timing)

    monkeypatch.setattr(sim.cli.main, "run_and_write", fail_seed_one)
    sweep_dir = tmp_path / "failing"
    argv = ["sim", "-m", *SMALL, "years=2", "seed=0,1,2", "hydra/launcher=basic"]
    monkeypatch.setattr(sys, "argv", [*argv, f"hydra.sweep.dir={sweep_dir}"])
    with pytest.raises(SystemExit) as exited:  # after the report, with status 1
        sim.cli.main.main()
    assert exited.value.code == 1

    error = json.loads((sweep_dir / "1" / "error.json").read_text())
    assert error["type"] == "RuntimeError"
    assert "deliberate failure of seed 1" in error["traceback"]
    assert not (sweep_dir / "1" / "summary.json").exists()
    assert sorted(summaries(sweep_dir)) == ["0", "2"]
    report = (sweep_dir / "comparison" / "report.md").read_text()
    assert "Runs used: **2** of 3 planned (1 failed, 0 missing)" in report
    assert "RuntimeError: deliberate failure of seed 1" in report
    summary = pd.read_csv(sweep_dir / "comparison" / "summary.csv")
    assert summary[["n_seeds", "n_failed"]].values.tolist() == [[2, 1]]


def test_a_bad_value_in_one_run_of_a_sweep_fails_that_run_only(tmp_path):
    sweep_dir = tmp_path / "bad_value"
    done = run_sweep(
        sweep_dir, "seed=0", "shocks.hospitalisation_rate=0.138,1.5", "years=2", status=1
    )
    assert "1 failed" in done.stdout
    error = json.loads((sweep_dir / "1" / "error.json").read_text())
    assert error["type"] == "ConfigError"
    assert "shocks.hospitalisation_rate=1.5 is out of range" in error["message"]
    assert (sweep_dir / "0" / "summary.json").exists()


def test_submitit_local_launcher_runs_the_sweep(tmp_path):
    sweep_dir = tmp_path / "submitit"
    done = run_sweep(
        sweep_dir, "hydra/launcher=local_submitit", "policy=none,all", "seed=0", "years=2"
    )
    assert "comparison of 2 runs of 2 planned (0 failed, 0 missing)" in done.stdout
    assert sorted(summaries(sweep_dir)) == ["0", "1"]
    assert (sweep_dir / ".submitit").is_dir()


EXPERIMENTS = sorted((CONFIG_DIR / "experiment").glob("*.yaml"))


@pytest.mark.parametrize("path", EXPERIMENTS, ids=[p.stem for p in EXPERIMENTS])
def test_every_value_an_experiment_sweeps_composes_to_a_valid_config(path):
    params = yaml.safe_load(path.read_text())["hydra"]["sweeper"].get("params")
    if params is None:
        pytest.skip("a study with a sweeper of its own, which makes its runs")
    assert params["seed"].startswith("range(")
    for key, values in params.items():
        if key == "seed":
            continue
        for value in str(values).split(","):
            cfg = compose([f"+experiment={path.stem}", f"{key}={value}", "population=small"])
            assert cfg.population.households == 600


def enabled_policies(preset: str) -> set[str]:
    cfg = compose([f"policy={preset}", "population=small"])
    return {name for name, node in vars(cfg.policies).items() if getattr(node, "enabled", False)}


def test_policy_comparison_sweeps_none_every_single_policy_preset_and_all():
    params = yaml.safe_load((CONFIG_DIR / "experiment" / "policy_comparison.yaml").read_text())
    swept = params["hydra"]["sweeper"]["params"]["policy"].split(",")
    presets = {p.stem: enabled_policies(p.stem) for p in (CONFIG_DIR / "policy").glob("*.yaml")}
    single = {name for name, enabled in presets.items() if len(enabled) == 1}
    assert set(swept) == single | {"none", "all"}
    assert swept[0] == "none" and swept[-1] == "all"


def test_sweep_plan_records_the_command_and_the_fixed_overrides(sweep_2x3):
    plan = json.loads((sweep_2x3 / "sweep_plan.json").read_text())
    assert len(plan["runs"]) == 6
    assert plan["command"][:4] == ["python", "-m", "sim", "-m"]
    assert "policy=none,monitoring" in plan["command"]
    varied = {"policy=none", "policy=monitoring", "seed=0", "seed=1", "seed=2"}
    assert set(plan["fixed"]) == set(plan["runs"][0]) - varied
    assert len(plan["fixed"]) == len(SMALL) + 1 and "years=3" in plan["fixed"]
    assert all(set(plan["fixed"]) <= set(run) for run in plan["runs"])


def check_breakdown(lines: dict[str, str], workers: int) -> None:
    """The benchmark's parts of a sweep add up to its worker-seconds (workers x wall)."""
    parts = ("launch", "worker_start", "engine", "write", "in_run_other", "between_runs")
    parts += ("end_wait", "report", "unused")
    total = sum(float(lines[f"{part}_s[workers:{workers}]"]) for part in parts)
    wall = float(lines[f"sweep_wall_s[workers:{workers}]"])
    assert total == pytest.approx(workers * wall, abs=0.5)
    assert float(lines[f"engine_s[workers:{workers}]"]) > 0


def test_sweep_time_benchmark_times_the_study_and_compares_the_results(capsys):
    from benchmarks import sweep_time

    sweep_time.main(["--workers", "1", "2", "--", *SMALL, "years=1", "seed=0", "policy=none,all"])
    lines = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
    assert float(lines["sweep_wall_s[workers:1]"]) > 0
    assert lines["runs[workers:2]"] == "2 of 2 planned (0 failed, 0 missing)"
    assert lines["identical_results"] == "true"
    assert "summary.csv" in lines["report_files"].split(",")
    for workers in (1, 2):
        check_breakdown(lines, workers)
        efficiency = float(lines["engine_s"]) / (
            float(lines[f"sweep_wall_s[workers:{workers}]"]) * workers
        )
        assert float(lines[f"sweep_efficiency[workers:{workers}]"]) == pytest.approx(
            efficiency, abs=0.01
        )


@pytest.mark.slow
def test_twenty_runs_of_the_default_county_on_two_workers(capsys):
    """The sweep of issue 9's cost target: policy none/all x seeds 0-9, default county."""
    from benchmarks import sweep_time

    sweep_time.main([])
    lines = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
    assert lines["runs[workers:2]"] == "20 of 20 planned (0 failed, 0 missing)"
    check_breakdown(lines, 2)
