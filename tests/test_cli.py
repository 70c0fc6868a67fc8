"""The command line: a real run, and a clear one-line error for every kind of bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def run_cli(*args: str, cwd) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args, f"hydra.run.dir={cwd}/run"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_run_writes_outputs_and_prints_the_summary(tmp_path):
    done = run_cli("population=small", "years=2", "seed=3", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "relapse rate" in done.stdout
    run_dir = tmp_path / "run"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["seed"] == 3 and summary["years"] == 2
    assert (run_dir / ".hydra" / "config.yaml").exists()
    assert (run_dir / "timeseries.parquet").exists()
    assert (run_dir / "plots" / "dashboard.png").exists()


@pytest.mark.parametrize(
    ("override", "key", "allowed"),
    [
        ("population.households=0", "population.households", "allowed [1, "),
        ("shocks.hospitalisation_rate=1.5", "shocks.hospitalisation_rate", "allowed [0, 1]"),
        ("shocks.job_loss_rate=-0.1", "shocks.job_loss_rate", "allowed [0, 1]"),
        ("years=0", "years", "[1, 100]"),
        ("seed=abc", "seed", "Integer"),
        ("population.households=many", "population.households", "Integer"),
    ],
)
def test_bad_values_stop_with_one_line_naming_the_key(tmp_path, override, key, allowed):
    done = run_cli("population=small", override, cwd=tmp_path)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert key in lines[0] and allowed in lines[0]
    assert not (tmp_path / "run" / "summary.json").exists()


@pytest.mark.parametrize(
    ("overrides", "named", "allowed"),
    [
        (["policy=nonexistent"], "policy=nonexistent", "allowed policy: all, east_west"),
        (["shocks=mild"], "shocks=mild", "allowed shocks: default, none, severe"),
        (["population.colour=red"], "population.colour", "allowed under population: households"),
        (["policies.foo.enabled=true"], "policies.foo", "allowed under policies: monitoring"),
        (["-m", "policy=none,nonexistent"], "policy=nonexistent", "allowed policy: all"),
        (["-m", "+experiment=nonexistent"], "experiment=nonexistent", "policy_comparison"),
    ],
)
def test_unknown_options_and_keys_stop_with_one_line_naming_what_is_allowed(
    tmp_path, overrides, named, allowed
):
    done = run_cli(*overrides, cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert named in lines[0] and allowed in lines[0]
    assert not (tmp_path / "multirun").exists()
