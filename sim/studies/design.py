"""Designs of the studies: which parameter values each design point runs.

Every design is first made in the unit hypercube by SALib (one column per parameter, values in
[0, 1], reproducible from its seed) and then mapped to parameter values through the declared
distributions (:meth:`sim.studies.uncertainty.Uncertain.values`):

- ``morris``: Morris trajectories (SALib ``sample.morris``), ``(k + 1) x trajectories`` points for
  ``k`` parameters, on a grid of ``levels`` quantiles;
- ``sobol``: Saltelli's extension of a Sobol' sequence (SALib ``sample.sobol``), without
  second-order terms, ``(k + 2) x samples`` points;
- ``latin``: a Latin hypercube (SALib ``sample.latin``), one point per draw;
- draws from a posterior file (:func:`posterior_draws`), for the robust comparison once a
  calibration exists.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.params import ConfigError

if TYPE_CHECKING:
    from sim.studies.uncertainty import Uncertain

WEIGHT_COLUMN = "weight"


def problem(names: list[str]) -> dict[str, object]:
    """SALib's problem definition of ``names`` on the unit hypercube."""
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def morris_unit(names: list[str], trajectories: int, levels: int, seed: int) -> np.ndarray:
    """Morris trajectories in the unit hypercube: ``(len(names) + 1) * trajectories`` rows."""
    from SALib.sample import morris

    return np.asarray(morris.sample(problem(names), trajectories, num_levels=levels, seed=seed))


def sobol_unit(names: list[str], samples: int, seed: int) -> np.ndarray:
    """Saltelli's Sobol' design (first and total order): ``(len(names) + 2) * samples`` rows."""
    from SALib.sample import sobol

    return np.asarray(sobol.sample(problem(names), samples, calc_second_order=False, seed=seed))


def latin_unit(names: list[str], draws: int, seed: int) -> np.ndarray:
    """A Latin hypercube of ``draws`` points."""
    from SALib.sample import latin

    return np.asarray(latin.sample(problem(names), draws, seed=seed))


def to_values(unit: np.ndarray, params: list[Uncertain]) -> pd.DataFrame:
    """Parameter values of a unit-hypercube design: one column per parameter key."""
    return pd.DataFrame(
        {p.key: p.values(unit[:, i]) for i, p in enumerate(params)}, index=range(len(unit))
    )


def posterior_draws(path: Path | str, draws: int, seed: int) -> pd.DataFrame:
    """``draws`` rows resampled from a posterior file, with probability proportional to weight.

    The file is a Parquet table with one column per parameter (config keys) and a ``weight``
    column (non-negative, not all zero), as the calibration writes ``posterior.parquet``.
    Systematic resampling keeps the draws reproducible from ``seed`` and close to the weights.

    Raises:
        ConfigError: the file cannot be read, or it has no weight column or no positive weight.
    """
    try:
        table = pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"robust.posterior={path}: cannot read ({type(exc).__name__})") from None
    if WEIGHT_COLUMN not in table or len(table.columns) < 2:
        raise ConfigError(
            f"robust.posterior={path}: need a '{WEIGHT_COLUMN}' column and parameter columns"
        )
    weights = table.pop(WEIGHT_COLUMN).to_numpy(dtype=float)
    if not np.all(np.isfinite(weights)) or np.any(weights < 0) or weights.sum() <= 0:
        raise ConfigError(f"robust.posterior={path}: weights must be finite, >= 0, not all 0")
    cumulative = np.cumsum(weights / weights.sum())
    cumulative[-1] = 1.0
    positions = (np.random.default_rng(seed).random() + np.arange(draws)) / draws
    rows = np.searchsorted(cumulative, positions, side="right")
    return table.iloc[rows].reset_index(drop=True)
