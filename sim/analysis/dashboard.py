"""Plots of one run, read from its files (never from the model).

Each ``plot_*`` function draws on an ``Axes`` from a tidy table and returns it (without ``ax``, on
a new pyplot figure, so that a notebook shows it inline); ``dashboard`` reads a run folder and
writes ``plots/dashboard.png`` from a :class:`matplotlib.figure.Figure`, without pyplot. Importing
this module selects no matplotlib backend. Styles use line patterns and hatches as well as colour
so that figures stay readable in greyscale print.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

CAUSE_HATCHES = {"illness": "", "disaster": "//", "job_loss": "..", "price": "xx", "other": "--"}
GREYS = ["0.15", "0.4", "0.6", "0.8", "0.95"]


def _axes(ax: Axes | None) -> Axes:
    """``ax``, or the axes of a new pyplot figure (imported here: shown inline in notebooks)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(layout="constrained")[1]


def plot_headcount(timeseries: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Share of people below the line: projected monthly and assessed annually."""
    ax = _axes(ax)
    ax.plot(
        timeseries["date"],
        100 * timeseries["headcount_ratio_projected"],
        color="0.55",
        linestyle="--",
        label="projected from year-to-date income",
    )
    december = timeseries[timeseries["month"] == 12]
    ax.plot(
        december["date"], 100 * december["headcount_ratio_year"], "ko-", label="annual assessment"
    )
    ax.set_title("Poverty headcount")
    ax.set_xlabel("date")
    ax.set_ylabel("people below the line (%)")
    ax.legend(fontsize="small")
    return ax


def plot_relapse(timeseries: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Annual relapse rate of lifted households and new-poverty rate of the others."""
    ax = _axes(ax)
    december = timeseries[timeseries["month"] == 12]
    ax.plot(december["year"], 100 * december["relapse_rate_year"], "ks-", label="relapse (lifted)")
    ax.plot(
        december["year"],
        100 * december["new_poverty_rate_year"],
        "o--",
        color="0.5",
        label="new poverty (others)",
    )
    ax.set_title("Falling below the line, per year")
    ax.set_xlabel("year")
    ax.set_ylabel("households at risk that fell below (%)")
    ax.legend(fontsize="small")
    return ax


def plot_causes(relapses_by_cause: dict[str, int], ax: Axes | None = None) -> Axes:
    """Relapses of the run by cause."""
    ax = _axes(ax)
    causes = list(relapses_by_cause)
    bars = ax.bar(causes, [relapses_by_cause[c] for c in causes], color="0.75", edgecolor="black")
    for bar, cause in zip(bars, causes, strict=True):
        bar.set_hatch(CAUSE_HATCHES.get(cause, ""))
    ax.set_title("Causes of relapse")
    ax.set_xlabel("cause (largest income loss of the year)")
    ax.set_ylabel("relapses over the run (households)")
    return ax


def plot_income_distribution(
    households: pd.DataFrame, line: float | None = None, ax: Axes | None = None
) -> Axes:
    """Final per-capita income by initial status, with the poverty line."""
    ax = _axes(ax)
    income = households["per_capita_income"].clip(lower=0)
    upper = float(income.quantile(0.99)) if len(income) else 1.0
    groups = [
        (status, income[households["initial_status"] == status])
        for status in ("lifted", "marginal", "non_poor")
    ]
    groups = [(status, values) for status, values in groups if len(values)]
    ax.hist(
        [values for _, values in groups],
        bins=40,
        range=(0, upper),
        histtype="step",
        linestyle="solid",
        color=GREYS[: len(groups)],
        linewidth=1.5,
        label=[status for status, _ in groups],
    )
    if line is not None:
        ax.axvline(line, color="black", linestyle=":", label=f"poverty line ({line:,.0f})")
    ax.set_title("Per-capita income, last year")
    ax.set_xlabel("yuan per person per year")
    ax.set_ylabel("households")
    ax.legend(fontsize="small", title="status in 2020")
    return ax


def dashboard(run_dir: Path, line: float | None = None) -> Path:
    """Write ``plots/dashboard.png`` for the run in ``run_dir`` and return its path."""
    summary: dict[str, Any] = json.loads((run_dir / "summary.json").read_text())
    timeseries = pd.read_parquet(run_dir / "timeseries.parquet")
    fig = Figure(figsize=(12, 8), layout="constrained")
    axes = fig.subplots(2, 2)
    plot_headcount(timeseries, axes[0, 0])
    plot_relapse(timeseries, axes[0, 1])
    plot_causes(summary["relapses_by_cause"], axes[1, 0])
    households_file = run_dir / "households.parquet"
    if households_file.exists():
        plot_income_distribution(pd.read_parquet(households_file), line, axes[1, 1])
    else:
        axes[1, 1].set_axis_off()
    fig.suptitle(
        f"{summary['households']:,} households, {summary['years']} years, seed {summary['seed']}: "
        f"relapse rate {100 * summary['relapse_rate']:.2f}% a year"
    )
    out = run_dir / "plots" / "dashboard.png"
    out.parent.mkdir(exist_ok=True)
    fig.savefig(out, dpi=110)
    return out
