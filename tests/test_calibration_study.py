"""The calibration as a sweep: a tiny real calibration, its files, resuming, bad settings."""

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

from tests.conftest import run_study

ROOT = Path(__file__).resolve().parents[1]
TINY = (
    "calibration.budget=16",
    "calibration.waves=2",
    "population=small",
    "population.households=1000",
    "years=4",  # the targets' years: 2021-2024
    "hydra.launcher.n_jobs=2",
)
FIT_COLUMNS = [
    "target",
    "source",
    "observed",
    "low",
    "high",
    "simulated",
    "sim_low",
    "sim_high",
    "within",
    "use",
]


def run_calibration(sweep: Path, *args: str, status: int = 0) -> subprocess.CompletedProcess[str]:
    return run_study("calibration", sweep, *args, status=status)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    sweep = tmp_path_factory.mktemp("calibration") / "sweep"
    run_calibration(sweep, *TINY)
    return sweep


def test_a_tiny_calibration_writes_every_output(tiny):
    folder = tiny / "calibration"
    for name in (
        "study.json",
        "design.csv",
        "jobs.csv",
        "waves.csv",
        "runs.csv",
        "fit.csv",
        "parameters.csv",
        "posterior.parquet",
        "params.yaml",
        "report.md",
        "fit.png",
        "fit.svg",
        "posterior.png",
        "posterior.svg",
    ):
        assert (folder / name).is_file(), name
    jobs = pd.read_csv(folder / "jobs.csv")
    assert len(jobs) == 16
    assert list(jobs.groupby("wave").size()) == [7, 6, 3]  # two waves, then the check
    runs = sorted(set(jobs["run"]))  # a posterior draw taken twice runs once
    assert runs == list(range(len(runs))) and len(runs) >= 14
    assert len(list(tiny.glob("*/summary.json"))) == len(runs)


def test_fit_table_compares_every_target_with_its_check_runs(tiny):
    from sim.studies.targets import load_targets

    fit = pd.read_csv(tiny / "calibration" / "fit.csv")
    assert list(fit.columns) == FIT_COLUMNS
    targets = load_targets()
    assert list(fit["target"]) == [t.name for t in targets]
    runs = pd.read_csv(tiny / "calibration" / "runs.csv")
    check = runs[runs["wave"] == 2]
    assert len(check) == 3 and (check["status"] == "ok").all()
    for row in fit.to_dict("records"):
        values = check[row["target"]]
        assert row["simulated"] == pytest.approx(values.mean(), rel=1e-12)
        assert row["sim_low"] <= row["simulated"] <= row["sim_high"]
        assert row["within"] == (row["low"] <= row["simulated"] <= row["high"])


def test_the_posterior_holds_weighted_draws_inside_the_priors(tiny):
    posterior = pd.read_parquet(tiny / "calibration" / "posterior.parquet")
    parameters = pd.read_csv(tiny / "calibration" / "parameters.csv")
    weights = posterior.pop("weight").to_numpy()
    assert weights.sum() == pytest.approx(1.0) and (weights > 0).all()
    assert list(posterior.columns) == list(parameters["parameter"])
    for row in parameters.to_dict("records"):
        column = posterior[row["parameter"]]
        assert column.between(row["prior_low"], row["prior_high"]).all()
        assert row["q05"] <= row["median"] <= row["q95"]
        assert row["prior_low"] <= row["central"] <= row["prior_high"]
        assert np.isfinite(row["mean"])


def test_the_calibrated_values_are_a_params_file_the_model_runs_with(tiny, tmp_path):
    text = (tiny / "calibration" / "params.yaml").read_text()
    assert text.startswith("# @package _global_")
    values = yaml.safe_load(text)
    parameters = pd.read_csv(tiny / "calibration" / "parameters.csv")
    overrides = []
    for row in parameters.to_dict("records"):
        value = values
        for part in row["parameter"].split("."):
            value = value[part]
        assert value == pytest.approx(row["central"])
        overrides.append(f"{row['parameter']}={value}")
    run = tmp_path / "run"
    done = subprocess.run(
        [
            *(sys.executable, "-m", "sim", *overrides, "population=small", "years=1"),
            *(f"hydra.run.dir={run}", "output.plots=false", "output.console_summary=false"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    config = json.loads((run / "provenance.json").read_text())["config"]
    for row in parameters.to_dict("records"):
        value = config
        for part in row["parameter"].split("."):
            value = value[part]
        assert value == pytest.approx(row["central"])


def test_an_interrupted_calibration_resumes_reusing_its_finished_runs(tiny, tmp_path):
    sweep = tmp_path / "sweep"
    shutil.copytree(tiny, sweep)
    runs = pd.read_csv(sweep / "calibration" / "jobs.csv")
    lost = set(runs.loc[runs["wave"] >= 1, "run"].head(4))  # a wave cut short
    for run in lost:
        (sweep / str(run) / "summary.json").unlink()
    shutil.rmtree(sweep / "calibration")
    kept = {
        run: (sweep / str(run) / "summary.json").stat().st_mtime_ns
        for run in set(runs["run"]) - lost
    }
    run_calibration(sweep, *TINY)
    for run, mtime in kept.items():
        assert (sweep / str(run) / "summary.json").stat().st_mtime_ns == mtime
    for name in ("fit.csv", "parameters.csv", "params.yaml"):
        assert (sweep / "calibration" / name).read_text() == (
            tiny / "calibration" / name
        ).read_text(), name
    pd.testing.assert_frame_equal(
        pd.read_parquet(sweep / "calibration" / "posterior.parquet"),
        pd.read_parquet(tiny / "calibration" / "posterior.parquet"),
    )


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ("calibration.method=abc", "calibration.method=abc"),
        ("calibration.budget=5", "calibration.budget=5"),
        ("calibration.parameters=[shocks.no_such_rate]", "shocks.no_such_rate"),
        ("shocks.hospital_cost_median=5000", "shocks.hospital_cost_median=5000"),
        ("calibration.targets=/no/such/targets.yaml", "/no/such/targets.yaml"),
        ("years=2", "years=2"),
    ],
)
def test_bad_settings_stop_with_one_line_before_any_run(tmp_path, setting, named):
    sweep = tmp_path / "sweep"
    done = run_calibration(sweep, "population=small", setting, status=2)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0], done.stderr
    assert not list(sweep.glob("*/summary.json"))


def test_the_shipped_calibrated_values_are_the_shipped_posteriors_means():
    from sim.config import CONFIG_DIR
    from sim.studies.design import posterior_draws
    from sim.studies.uncertainty import load_uncertainty

    posterior = pd.read_parquet(CONFIG_DIR / "params" / "posterior.parquet")
    calibrated = yaml.safe_load((CONFIG_DIR / "params" / "calibrated.yaml").read_text())
    declared = load_uncertainty()
    weights = posterior.pop("weight").to_numpy()
    assert weights.sum() == pytest.approx(1.0) and (weights >= 0).all()
    keys = []
    for group, values in calibrated.items():
        for name, value in pd.json_normalize(values, sep=".").iloc[0].items():
            keys.append(f"{group}.{name}")
            column = posterior[keys[-1]]
            assert column.between(declared[keys[-1]].low, declared[keys[-1]].high).all()
            assert value == pytest.approx(np.sum(column * weights), rel=1e-3)  # 4 digits
    assert sorted(keys) == sorted(posterior.columns)
    draws = posterior_draws(CONFIG_DIR / "params" / "posterior.parquet", 50, seed=0)
    assert list(draws.columns) == list(posterior.columns) and len(draws) == 50
