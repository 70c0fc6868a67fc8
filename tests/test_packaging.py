"""The package installs as a wheel that runs from any folder, configs and experiments included."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def declared_packages() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return list(project["tool"]["setuptools"]["packages"])


def test_every_package_of_sim_is_declared():
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("sim", "hydra_plugins")  # hydra_plugins: where Hydra finds the study sweeper
        for init in (ROOT / top).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    declared = set(declared_packages())
    assert found - declared == set(), "packages missing from pyproject's [tool.setuptools]"
    assert declared - found == {"sim.configs"}  # the configs folder, mapped by package-dir


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", str(ROOT), "-w", str(out)],
        check=True,
        capture_output=True,
        cwd=out,
    )
    (built,) = out.glob("*.whl")
    return built


def test_wheel_ships_configs_and_experiments(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    configs = sorted(p.relative_to(ROOT / "configs") for p in (ROOT / "configs").rglob("*.yaml"))
    assert configs, "no configs found in the source tree"
    for path in configs:
        assert f"sim/configs/{path.as_posix()}" in names
    for experiment in (ROOT / "experiments").glob("*.yaml"):
        assert f"sim/configs/experiment/{experiment.name}" in names


def test_installed_wheel_runs_from_another_folder(wheel, tmp_path):
    """The wheel's contents alone (not the source tree) run ``python -m sim``."""
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "population=small",
            "years=1",
            "output.plots=false",
            f"hydra.run.dir={elsewhere / 'run'}",
        ],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    check = subprocess.run(
        [sys.executable, "-c", "import sim; print(sim.__file__)"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(check.stdout.strip()).is_relative_to(site)  # not the source tree
    summary = json.loads((elsewhere / "run" / "summary.json").read_text())
    assert summary["households"] == 600
