"""Global sensitivity as a sweep: known answers through the real sweeper, a real small study,
resuming, and bad settings.

The toy studies run this file as a Hydra app (``python -m tests.test_sensitivity -m ...``): its
task writes a run summary whose relapse rate is a known function of four config keys, so the
sweeper, the launcher, the run folders and the analysis are the same code as in a model study.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import hydra
import numpy as np
import pandas as pd
import pytest
import yaml
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from tests.conftest import run_study as run_experiment

ROOT = Path(__file__).resolve().parent.parent
TOY = {  # config key -> weight in the toy relapse rate (key x_c enters squared, x_d not at all)
    "shocks.reimbursement_rate": 0.06,
    "shocks.serious_illness_share": 0.02,
    "shocks.job_loss_rate": 0.005,
    "population.worker_share": 0.0,
}
A, B, C, D = TOY


def toy_relapse(x: dict[str, float]) -> float:
    """0.06 a + 0.02 b + 0.005 c^2, each key ranging over [0, 1]; d is absent."""
    return TOY[A] * x[A] + TOY[B] * x[B] + TOY[C] * x[C] ** 2


def toy_config(folder: Path, method: str, **settings) -> Path:
    """A toy Hydra config whose sweeper is the sensitivity sweeper, with its declared ranges."""
    ranges = {
        "parameters": {
            key: {"low": 0, "high": 1, "dist": "uniform", "reason": "toy"} for key in TOY
        }
    }
    (folder / "ranges.yaml").write_text(yaml.safe_dump(ranges))
    nested: dict = {"seed": 0}
    for key in TOY:
        group, name = key.split(".")
        nested.setdefault(group, {})[name] = 0.5
    nested["sensitivity"] = {
        "method": method,
        "parameters": None,
        "trajectories": 20,
        "levels": 4,
        "samples": 256,
        "seeds": [0],
        "baseline": None,
        "scenarios": [],
        "outcomes": ["relapse_rate"],
        "design_seed": 1,
        "uncertainty": str(folder / "ranges.yaml"),
        **settings,
    }
    nested["hydra"] = {"sweeper": {"_target_": "hydra_plugins.sim_studies.SensitivitySweeper"}}
    (folder / "toy.yaml").write_text(yaml.safe_dump(nested))
    return folder


def run_toy(folder: Path, method: str, **settings) -> Path:
    toy_config(folder, method, **settings)
    sweep = folder / "sweep"
    done = subprocess.run(
        [
            *(sys.executable, "-m", "tests.test_sensitivity", "-m", f"--config-dir={folder}"),
            *("--config-name=toy", f"hydra.sweep.dir={sweep}", "hydra/job_logging=disabled"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return sweep


def indices_of(sweep: Path, outcome: str = "relapse_rate") -> pd.DataFrame:
    table = pd.read_csv(sweep / "sensitivity" / "indices.csv")
    assert list(table.columns) == ["outcome", "parameter", "method", "index", "value", "conf"]
    rows = table[table["outcome"] == outcome]
    return rows.pivot(index="parameter", columns="index", values="value")


def test_morris_recovers_the_toy_ranking_and_gives_an_absent_parameter_zero(tmp_path):
    sweep = run_toy(tmp_path, "morris")
    mu_star = indices_of(sweep)["mu_star"].sort_values(ascending=False)
    assert list(mu_star.index) == [A, B, C, D]
    assert mu_star[D] == 0.0
    # Linear terms: every elementary effect is the weight (the grid moves by 2/3 of the range).
    assert mu_star[A] == pytest.approx(TOY[A], rel=1e-5)
    assert mu_star[B] == pytest.approx(TOY[B], rel=1e-5)
    assert indices_of(sweep)["sigma"][A] == pytest.approx(0.0, abs=1e-8)
    # Each run's summary holds the toy function of the values the design gave it.
    design = pd.read_csv(sweep / "sensitivity" / "design.csv", index_col="point")
    outcomes = pd.read_csv(sweep / "sensitivity" / "outcomes.csv", index_col="point")
    expected = design.apply(lambda row: toy_relapse(row.to_dict()), axis=1)
    np.testing.assert_allclose(outcomes["relapse_rate"], expected, rtol=1e-12)


def test_sobol_on_the_toy_function_matches_the_analytic_shares(tmp_path):
    sweep = run_toy(tmp_path, "sobol", samples=32)
    # Variances over uniform [0, 1]: (w^2 / 12) for linear terms, w^2 (1/5 - 1/9) for w c^2:
    # shares 0.894, 0.099 and 0.007 of the variance; 32 base samples estimate them to about 0.05,
    # and each analytic share lies inside the reported 95% bootstrap interval.
    parts = {A: TOY[A] ** 2 / 12, B: TOY[B] ** 2 / 12, C: TOY[C] ** 2 * (1 / 5 - 1 / 9)}
    total = sum(parts.values())
    indices = indices_of(sweep)
    table = pd.read_csv(sweep / "sensitivity" / "indices.csv").set_index(["index", "parameter"])
    for key in (A, B):
        for index in ("S1", "ST"):
            value, conf = table.loc[(index, key), ["value", "conf"]]
            assert value == pytest.approx(parts[key] / total, abs=0.05)
            assert abs(value - parts[key] / total) <= conf
    assert indices["ST"][C] < indices["ST"][B]
    assert indices["S1"][D] == 0.0 and indices["ST"][D] == 0.0
    assert (sweep / "sensitivity" / "sobol_relapse_rate.svg").exists()


# A real study of the small county: medical relief as the only scenario, so the parameters of
# workshops and monitoring belong to policies that no run enables.
REAL = (
    "population=small",
    "population.households=1000",
    "years=2",
    "sensitivity.trajectories=2",
    "sensitivity.seeds=[0,1]",
    "sensitivity.scenarios=[medical_relief]",
    "sensitivity.parameters=[shocks.hospital_cost_sigma,policies.workshops.closure_rate,"
    "policies.monitoring.coverage,policies.medical_relief.reimbursement_rate]",
    "hydra.launcher.n_jobs=2",
)


def run_study(sweep: Path, *args: str, status: int = 0) -> subprocess.CompletedProcess[str]:
    return run_experiment("sensitivity", sweep, *args, status=status, timeout=300)


@pytest.fixture(scope="module")
def real_study(tmp_path_factory) -> Path:
    sweep = tmp_path_factory.mktemp("sensitivity") / "sweep"
    run_study(sweep, *REAL)
    return sweep


def test_a_disabled_policys_parameter_gets_exactly_zero_in_a_real_study(real_study):
    table = pd.read_csv(real_study / "sensitivity" / "indices.csv")
    outcomes = set(table["outcome"])
    assert outcomes >= {
        "relapse_rate",
        "relapse_rate_after_shocks",  # the second model reports both measures
        "effect.medical_relief",
        "effect_after_shocks.medical_relief",
    }
    cost = "cost_per_event_averted.medical_relief"
    report = (real_study / "sensitivity" / "report.md").read_text()
    # Defined only where an event is averted at every design point; otherwise left out, and said.
    for name in (cost, "cost_per_event_averted_after_shocks.medical_relief"):
        assert name in outcomes or f"`{name}` undefined at" in report
    assert set(table["index"]) == {"mu_star", "mu", "sigma"}
    for disabled in ("policies.workshops.closure_rate", "policies.monitoring.coverage"):
        assert (table.loc[table["parameter"] == disabled, "value"] == 0.0).all()
    mu_star = table[table["index"] == "mu_star"].set_index(["outcome", "parameter"])["value"]
    relief = "policies.medical_relief.reimbursement_rate"
    assert mu_star[("relapse_rate", relief)] == 0.0  # the baseline runs without medical relief
    # Its own dose moves its effect on impoverishment by health spending (after_shocks); the
    # income measure does not count health spending, so reimbursement cannot move it there.
    assert mu_star[("effect_after_shocks.medical_relief", relief)] > 0.0
    if cost in outcomes:
        assert mu_star[(cost, relief)] > 0.0
    assert mu_star[("relapse_rate_after_shocks", "shocks.hospital_cost_sigma")] > 0.0
    for name in ("report.md", "morris_relapse_rate.png", "morris_effect_medical_relief.svg"):
        assert (real_study / "sensitivity" / name).exists()


def test_every_design_point_runs_both_scenarios_on_the_same_seeds(real_study):
    jobs = pd.read_csv(real_study / "sensitivity" / "jobs.csv")
    design = pd.read_csv(real_study / "sensitivity" / "design.csv", index_col="point")
    assert len(design) == 2 * (4 + 1)
    seeds = jobs.groupby(["point", "scenario"])["seed"].apply(sorted)
    assert all(s == [0, 1] for s in seeds)
    for job in jobs.sample(6, random_state=0).itertuples():
        config = json.loads((real_study / str(job.run) / "provenance.json").read_text())["config"]
        assert config["seed"] == job.seed
        assert "sensitivity" not in config
        assert config["policies"]["medical_relief"]["enabled"] == (job.scenario != "none")
        cost_sigma = design.loc[job.point, "shocks.hospital_cost_sigma"]
        assert config["shocks"]["hospital_cost_sigma"] == pytest.approx(cost_sigma, rel=1e-12)


def test_an_interrupted_study_resumes_reusing_its_finished_runs(real_study, tmp_path):
    sweep = tmp_path / "sweep"
    shutil.copytree(real_study, sweep)
    summaries = sorted(sweep.glob("*/summary.json"), key=lambda p: int(p.parent.name))
    interrupted = summaries[3:6]
    for path in interrupted:
        path.unlink()

    def mtimes(summary: Path) -> tuple[int, int]:
        return summary.stat().st_mtime_ns, (
            summary.parent / "timeseries.parquet"
        ).stat().st_mtime_ns

    kept = {path: mtimes(path) for path in summaries if path not in interrupted}
    run_study(sweep, *REAL)
    for path, before in kept.items():
        assert mtimes(path) == before
    for path in interrupted:
        assert path.exists()
    original = (real_study / "sensitivity" / "indices.csv").read_text()
    assert (sweep / "sensitivity" / "indices.csv").read_text() == original


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ("sensitivity.method=fast", "sensitivity.method=fast"),
        ("sensitivity.parameters=[shocks.no_such_rate]", "shocks.no_such_rate"),
        ("policy=all", "policy=all"),
        ("sensitivity.scenarios=[no_such_preset]", "no_such_preset"),
    ],
)
def test_bad_settings_stop_with_one_line_before_any_run(tmp_path, setting, named):
    sweep = tmp_path / "sweep"
    done = run_study(sweep, "population=small", setting, status=2)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0], done.stderr
    assert not list(sweep.glob("*/summary.json"))


@hydra.main(config_path=None, config_name=None, version_base="1.3")
def toy_task(cfg: DictConfig) -> float:
    """A toy run: a summary whose relapse rate is :func:`toy_relapse` of the composed config."""
    x = {key: float(cfg[key.split(".")[0]][key.split(".")[1]]) for key in TOY}
    rate = toy_relapse(x)
    summary = {
        "seed": int(cfg.seed),
        "households": 1,
        "years": 1,
        "relapse_rate": rate,
        "relapse_cumulative": rate,
        "new_poverty_rate": 0.0,
        "headcount_ratio_final": 0.0,
        "relapses_total": 0,
        "relapses_by_cause": {},
        "relapse_cause_shares": {},
        "newly_poor_total": 0,
        "cost_total_yuan": 0.0,
        "cost_by_policy_yuan": {},
        "relapse_rate_by_year": {"2021": rate},
    }
    output = Path(HydraConfig.get().runtime.output_dir)
    (output / "summary.json").write_text(json.dumps(summary))
    return rate


if __name__ == "__main__":
    toy_task()
