"""The comparison's statistics: means over seeds, their 95% intervals, paired differences.

- **Mean over seeds** of a metric, with its Student-t interval
  ``mean +- t(0.975, n - 1) * s / sqrt(n)``: ``n`` the number of seeds with a value, ``s`` their
  standard deviation (``n - 1`` in the denominator). With one value the interval is undefined (NaN,
  never zero); without values the mean is NaN too.
- **Bounded metrics** (shares in [0, 1], counts and yuan amounts in [0, inf); see
  :func:`sim.analysis.validate.metric_bounds`): the interval is cut to the range the mean can take.
  Since the true mean lies in that range, a cut interval covers it exactly when the uncut one does:
  the coverage stays 95%, and a relapse rate's interval never runs below 0% or above 100%.
- **Paired difference** of a scenario to its baseline: the runs of both with the same seed share
  their shocks (common random numbers), so ``d_s = x_s - b_s`` is taken seed by seed over the seeds
  both have, and its mean and t-interval are computed as above over those ``n`` pairs (not cut:
  a difference can take either sign). This interval is usually far narrower than that of the
  difference of two independent means, because most of the variation between seeds is shared.
- **Few seeds**: below :data:`FEW_SEEDS` values an interval rests on a rough estimate of ``s`` and
  a large t quantile (12.7 for 2 seeds, 4.3 for 3); the report says so.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.special import stdtrit  # scipy.stats.t.ppf's quantile, without scipy.stats

CONFIDENCE = 0.95
FEW_SEEDS = 5
UNBOUNDED = (-math.inf, math.inf)


def t_factor(n: int) -> float:
    """The t quantile ``t(0.975, n - 1)`` of a 95% interval over ``n`` values (NaN below 2)."""
    return float(stdtrit(n - 1, 0.5 + CONFIDENCE / 2)) if n >= 2 else math.nan


def t_half_width(std: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Half-width of the 95% t-interval of a mean: NaN where ``n < 2``.

    Args:
        std: standard deviations over seeds (``n - 1`` in the denominator).
        n: numbers of values.
    """
    n = np.asarray(n, dtype=float)
    enough = n >= 2
    safe_n = np.where(enough, n, 2.0)
    half = stdtrit(safe_n - 1, 0.5 + CONFIDENCE / 2) * np.asarray(std) / np.sqrt(safe_n)
    return np.where(enough, half, math.nan)


def mean_interval(
    values: Iterable[float], bounds: tuple[float, float] = UNBOUNDED
) -> tuple[float, float, float, int]:
    """Mean, lower and upper bound of its 95% t-interval (cut to ``bounds``), and ``n``.

    NaN values are dropped. The bounds are NaN with fewer than two values; everything is NaN
    without values.
    """
    v = np.asarray([x for x in values if not math.isnan(x)], dtype=float)
    n = len(v)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(v.mean())
    std = float(v.std(ddof=1)) if n > 1 else math.nan
    half = float(t_half_width(np.array([std]), np.array([n]))[0])
    low, high = bounds
    return mean, _cut(mean - half, low, high), _cut(mean + half, low, high), n


def _cut(value: float, low: float, high: float) -> float:
    return value if math.isnan(value) else min(max(value, low), high)


def grouped_intervals(
    frame: pd.DataFrame,
    by: str,
    columns: Sequence[str],
    bounds: Mapping[str, tuple[float, float]] | None = None,
) -> dict[str, pd.DataFrame]:
    """Mean, interval and count of each column within each group of rows, all groups at once.

    Args:
        frame: one row per run.
        by: the column that names the group (a scenario).
        columns: the metrics.
        bounds: the range of each metric (absent: unbounded); intervals are cut to it.

    Returns:
        ``{"mean", "lo", "hi", "n"}``: tables with one row per group (in order of appearance)
        and one column per metric.
    """
    grouped = frame.groupby(by, sort=False)[list(columns)]
    mean = grouped.mean()
    n = grouped.count()
    half = pd.DataFrame(
        t_half_width(grouped.std(ddof=1).to_numpy(dtype=float), n.to_numpy()),
        index=mean.index,
        columns=mean.columns,
    )
    limits = np.array([(bounds or {}).get(column, UNBOUNDED) for column in mean.columns]).T
    lo, hi = (
        pd.DataFrame(
            np.clip(edge.to_numpy(dtype=float), limits[0], limits[1]),
            index=mean.index,
            columns=mean.columns,
        )
        for edge in (mean - half, mean + half)
    )
    return {"mean": mean, "lo": lo, "hi": hi, "n": n}
