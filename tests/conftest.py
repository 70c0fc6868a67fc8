"""Shared fixtures: compose the real configs, shrunk to a small county."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from sim.config import Config, compose
from sim.run import RunResult, run

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
