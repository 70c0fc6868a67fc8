"""Plots of a sweep's comparison, from the tables of :mod:`sim.analysis.compare` (never the model).

Each ``plot_*`` function draws on an ``Axes`` and returns it; :func:`write_plots` lays them out
and saves each figure as PNG and SVG. Scenarios are told apart by markers, line styles and hatches
as well as by shades of grey, so that the figures stay readable in greyscale print. Intervals are
95% t-intervals over seeds; differences to the baseline are paired on seed.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim.analysis.compare import scenario_label
from sim.analysis.dashboard import CAUSE_HATCHES

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
LINESTYLES = ("-", "--", ":", "-.")
CAUSE_GREYS = {"illness": "0.25", "disaster": "0.5", "job_loss": "0.7", "price": "0.85"}
MAX_LINES_PER_AXES = 6
CAUSE_PREFIX = "relapses_by_cause."


def _axes(ax: Axes | None, height: float = 4.0) -> Axes:
    return ax if ax is not None else plt.subplots(figsize=(7, height))[1]


def _style(i: int) -> dict[str, Any]:
    """Marker, line style and grey of the ``i``-th scenario."""
    return {
        "marker": MARKERS[i % len(MARKERS)],
        "linestyle": LINESTYLES[i % len(LINESTYLES)],
        "color": str(0.6 * (i % 4) / 3),
    }


def _errors(mean: pd.Series, lo: pd.Series, hi: pd.Series) -> np.ndarray:
    """Error-bar lengths below and above the mean; zero where the interval is undefined."""
    return np.nan_to_num(np.vstack([mean - lo, hi - mean]), nan=0.0)


def plot_relapse_by_scenario(summary: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Mean relapse rate of each scenario with its 95% interval; the baseline hollow and dotted."""
    ax = _axes(ax, 1.5 + 0.4 * len(summary))
    y = np.arange(len(summary))[::-1]
    mean = 100 * summary["relapse_rate_mean"]
    lo, hi = 100 * summary["relapse_rate_lo"], 100 * summary["relapse_rate_hi"]
    ax.errorbar(mean, y, xerr=_errors(mean, lo, hi), fmt="none", ecolor="black", capsize=3)
    base = summary["is_baseline"].to_numpy()
    ax.plot(mean[~base], y[~base], "ko", label="scenario")
    ax.plot(mean[base], y[base], "o", mfc="white", mec="black", label="baseline")
    if base.sum() == 1:
        ax.axvline(mean[base].iloc[0], color="0.5", linestyle=":", linewidth=1)
    ax.set_yticks(y, summary["scenario"])
    ax.set_title("Relapse rate by scenario\n(mean over seeds, 95% interval)")
    ax.set_xlabel("lifted households falling below the line (% a year)")
    ax.legend(fontsize="small", loc="best")
    return ax


def plot_relapse_over_time(
    yearly: pd.DataFrame,
    scenarios: Sequence[str] | None = None,
    reference: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Relapse rate per year of each scenario: mean over seeds and a grey 95% band.

    Args:
        yearly: rows of scenario, year, mean, lo, hi
            (:func:`sim.analysis.compare.yearly_by_scenario`).
        scenarios: the scenarios to draw, in this order (all by default).
        reference: a scenario drawn as a thin dotted line without band (the baseline).
        ax: where to draw.
    """
    ax = _axes(ax)
    names = list(dict.fromkeys(yearly["scenario"])) if scenarios is None else list(scenarios)
    for i, name in enumerate(names):
        rows = yearly[yearly["scenario"] == name]
        style = _style(i)
        ax.fill_between(rows["year"], 100 * rows["lo"], 100 * rows["hi"], color="0.85", alpha=0.6)
        ax.plot(rows["year"], 100 * rows["mean"], label=name, **style)
    if reference is not None and reference not in names:
        rows = yearly[yearly["scenario"] == reference]
        ax.plot(
            rows["year"], 100 * rows["mean"], "k:", linewidth=1, label=f"{reference} (baseline)"
        )
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("year")
    ax.set_ylabel("relapse rate (% a year)")
    if len(names) > 1:
        ax.legend(fontsize="x-small", loc="best")
    else:
        ax.set_title(names[0], fontsize="small")
    return ax


def cause_columns(summary: pd.DataFrame) -> list[str]:
    """The causes of relapse present in a summary table, in their order."""
    return [
        c.removeprefix(CAUSE_PREFIX).removesuffix("_mean")
        for c in summary.columns
        if c.startswith(CAUSE_PREFIX) and c.endswith("_mean")
    ]


def plot_causes_by_scenario(summary: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Relapses of each scenario by cause: stacked bars of the mean over seeds."""
    ax = _axes(ax, 1.5 + 0.4 * len(summary))
    y = np.arange(len(summary))[::-1]
    left = np.zeros(len(summary))
    for cause in cause_columns(summary):
        values = summary[f"{CAUSE_PREFIX}{cause}_mean"].fillna(0.0).to_numpy()
        ax.barh(
            y,
            values,
            left=left,
            color=CAUSE_GREYS.get(cause, "white"),
            hatch=CAUSE_HATCHES.get(cause, ""),
            edgecolor="black",
            label=cause,
        )
        left += values
    ax.set_yticks(y, summary["scenario"])
    ax.set_title("Causes of relapse by scenario\n(mean over seeds)")
    ax.set_xlabel("relapses over the run (households)")
    ax.legend(title="cause", fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    return ax


def plot_cost_effectiveness(summary: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Incremental policy cost against relapses averted, both relative to the baseline.

    Error bars are the 95% intervals of the paired differences.
    """
    ax = _axes(ax, 5.0)
    rows = summary[~summary["is_baseline"]]
    numbered = len(rows) > MAX_LINES_PER_AXES
    averted = rows["relapses_averted"]
    cost = rows["cost_total_yuan_diff"] / 1e6
    ax.errorbar(
        averted,
        cost,
        xerr=_errors(averted, -rows["relapses_total_diff_hi"], -rows["relapses_total_diff_lo"]),
        yerr=_errors(
            cost, rows["cost_total_yuan_diff_lo"] / 1e6, rows["cost_total_yuan_diff_hi"] / 1e6
        ),
        fmt="ko",
        ecolor="0.4",
        capsize=3,
    )
    for i, (x, y, name) in enumerate(zip(averted, cost, rows["scenario"], strict=True), 1):
        text = str(i) if numbered else name
        ax.annotate(text, (x, y), xytext=(4, 4), textcoords="offset points", fontsize="x-small")
    if numbered:
        key = "\n".join(f"{i}: {name}" for i, name in enumerate(rows["scenario"], 1))
        ax.text(1.02, 1.0, key, transform=ax.transAxes, va="top", fontsize="x-small")
    ax.axhline(0, color="0.6", linewidth=0.8)
    ax.axvline(0, color="0.6", linewidth=0.8)
    base = "; ".join(summary.loc[summary["is_baseline"], "scenario"])
    ax.set_title(f"Cost-effectiveness against the baseline\n({base})")
    ax.set_xlabel("relapses averted over the run (households, mean over seeds)")
    ax.set_ylabel("additional policy cost (million yuan)")
    return ax


def plot_heatmap(
    summary: pd.DataFrame,
    x: str,
    y: str,
    metric: str = "relapse_rate",
    limits: tuple[float, float] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Mean of ``metric`` (a share, shown in %) over a grid of two numeric parameters.

    Args:
        summary: one row per scenario, with columns ``x``, ``y`` and ``<metric>_mean``.
        x: parameter along the horizontal axis.
        y: parameter along the vertical axis.
        metric: the summary metric, a share (0-1).
        limits: the grey scale's range in % (shared by the panels of a figure); default: the
            range of the values.
        ax: where to draw.
    """
    ax = _axes(ax)
    grid = summary.pivot_table(index=y, columns=x, values=f"{metric}_mean", aggfunc="mean")
    values = 100 * grid.to_numpy(dtype=float)
    vmin, vmax = limits if limits is not None else (np.nanmin(values), np.nanmax(values))
    image = ax.imshow(values, cmap="Greys", origin="lower", aspect="auto", vmin=vmin, vmax=vmax)
    threshold = (vmin + vmax) / 2
    for (i, j), value in np.ndenumerate(values):
        colour = "white" if value > threshold else "black"
        ax.text(j, i, f"{value:.2f}", ha="center", va="center", color=colour, fontsize="small")
    ax.set_xticks(range(grid.shape[1]), [f"{v:g}" for v in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [f"{v:g}" for v in grid.index])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.figure.colorbar(image, ax=ax, label=f"{metric.replace('_', ' ')} (%)")
    return ax


Save = Callable[[Path, Callable[[Path], object]], None]


def _save(fig: Figure, out: Path, name: str, save: Save) -> list[Path]:
    paths = [out / f"{name}.png", out / f"{name}.svg"]
    for path in paths:

        def write(tmp: Path, fmt: str = path.suffix[1:]) -> None:
            fig.savefig(tmp, format=fmt, dpi=120)

        save(path, write)
    plt.close(fig)
    return paths


def short_labels(summary: pd.DataFrame, params: Sequence[str]) -> dict[str, str]:
    """Scenario labels for plots: parameter names cut to their last part where still unique."""
    tails = [p.rsplit(".", 1)[-1] for p in params]
    names = tails if len(set(tails)) == len(tails) else list(params)
    return {
        row["scenario"]: scenario_label({n: row[p] for n, p in zip(names, params, strict=True)})
        for _, row in summary.iterrows()
    }


def _numeric(summary: pd.DataFrame, params: Sequence[str]) -> list[str]:
    return [p for p in params if pd.api.types.is_numeric_dtype(summary[p])]


def write_plots(
    out: Path, summary: pd.DataFrame, yearly: pd.DataFrame, params: Sequence[str], save: Save
) -> list[Path]:
    """Draw every comparison plot that the sweep supports and save it as PNG and SVG.

    Args:
        out: the comparison folder.
        summary: one row per scenario (:func:`sim.analysis.compare.summarize_sweep`).
        yearly: relapse rate per scenario and year
            (:func:`sim.analysis.compare.yearly_by_scenario`).
        params: the varying parameters.
        save: ``save(path, write)`` calls ``write(tmp)`` and moves ``tmp`` to ``path``.

    Returns:
        The files written.
    """
    labels = short_labels(summary, params)
    summary = summary.assign(scenario=summary["scenario"].map(labels))
    yearly = yearly.assign(scenario=yearly["scenario"].map(labels))
    files: list[Path] = []
    size = (max(8.0, 4.5 + 0.08 * summary["scenario"].str.len().max()), 1.8 + 0.4 * len(summary))
    fig, ax = plt.subplots(figsize=size, constrained_layout=True)
    plot_relapse_by_scenario(summary, ax)
    files += _save(fig, out, "relapse_rate", save)

    if not yearly.empty:
        names = summary["scenario"].tolist()
        base = summary.loc[summary["is_baseline"], "scenario"].iloc[0]
        panels = [names] if len(names) <= MAX_LINES_PER_AXES else [[n] for n in names]
        ncols = min(len(panels), 4)
        nrows = -(-len(panels) // ncols)
        fig, axes = plt.subplots(
            nrows,
            ncols,
            figsize=(4.5 * ncols if ncols > 1 else 8, 3.2 * nrows + 0.8),
            sharex=True,
            sharey=True,
            squeeze=False,
            constrained_layout=True,
        )
        for panel, ax in itertools.zip_longest(panels, axes.flat):
            if panel is None:
                ax.set_axis_off()
                continue
            plot_relapse_over_time(yearly, panel, None if len(panels) == 1 else base, ax)
            ax.label_outer()
        title = "Relapse rate over time (mean over seeds, grey band: 95% interval)"
        if len(panels) > 1:
            title += f"\ndotted: the baseline, {base}"
        fig.suptitle(title)
        files += _save(fig, out, "relapse_over_time", save)

    if cause_columns(summary):
        fig, ax = plt.subplots(figsize=(size[0] + 1.5, size[1]), constrained_layout=True)
        plot_causes_by_scenario(summary, ax)
        files += _save(fig, out, "relapse_causes", save)

    if {"relapses_averted", "cost_total_yuan_diff"} <= set(summary) and len(summary) > 1:
        width = 11 if len(summary) > MAX_LINES_PER_AXES + 1 else 8
        fig, ax = plt.subplots(figsize=(width, 5.5), constrained_layout=True)
        plot_cost_effectiveness(summary, ax)
        files += _save(fig, out, "cost_effectiveness", save)

    numeric = _numeric(summary, params)
    if len(numeric) >= 2:
        x, y = numeric[:2]
        facets = [p for p in params if p not in (x, y)]
        groups = list(summary.groupby(facets, sort=False)) if facets else [((), summary)]
        fig, axes = plt.subplots(
            1, len(groups), figsize=(5.5 * len(groups), 4.5), squeeze=False, constrained_layout=True
        )
        rates = 100 * summary["relapse_rate_mean"]
        limits = (float(rates.min()), float(rates.max()))
        for (key, group), ax in zip(groups, axes.flat, strict=True):
            plot_heatmap(group, x, y, "relapse_rate", limits, ax)
            values = key if isinstance(key, tuple) else (key,)
            ax.set_title(", ".join(f"{p}={v}" for p, v in zip(facets, values, strict=True)))
        fig.suptitle("Relapse rate (% a year, mean over seeds)")
        files += _save(fig, out, "heatmap_relapse_rate", save)
    return files
