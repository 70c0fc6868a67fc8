"""Shared fixtures: compose the real configs, shrunk to a small county."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from sim.config import Config, compose
from sim.run import RunResult, run

ROOT = Path(__file__).resolve().parents[1]
SMALL = ("population=small", "output.progress=false", "output.console_summary=false")


def small_config(*overrides: str) -> Config:
    """The real configs composed with ``population=small`` and ``overrides``."""
    return compose([*SMALL, *overrides])


@pytest.fixture
def small() -> Callable[..., Config]:
    """Compose a small-county config: ``small("seed=3", "policy=all")``."""
    return small_config


@pytest.fixture
def run_small() -> Callable[..., RunResult]:
    """Run a small-county scenario in memory: ``run_small("seed=3", years=5)``."""

    def _run(*overrides: str, households: int | None = None) -> RunResult:
        extra: Sequence[str] = (
            () if households is None else (f"population.households={households}",)
        )
        return run(small_config(*overrides, *extra))

    return _run


def run_study(
    experiment: str, sweep: Path, *args: str, status: int = 0, timeout: int = 600
) -> subprocess.CompletedProcess[str]:
    """``python -m sim -m +experiment=EXPERIMENT ARGS`` into ``sweep``; its exit status checked."""
    done = subprocess.run(
        [
            *(sys.executable, "-m", "sim", "-m", f"+experiment={experiment}", *args),
            *(f"hydra.sweep.dir={sweep}", "hydra.callbacks.comparison.progress=false"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
    )
    assert done.returncode == status, done.stderr[-3000:]
    return done
