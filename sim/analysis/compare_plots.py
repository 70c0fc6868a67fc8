"""Plots of a sweep's comparison, from the tables of :mod:`sim.analysis.compare` (never the model).

Each ``plot_*`` function draws on an ``Axes`` and returns it (without ``ax``, on a new pyplot
figure, so that a notebook shows it inline); :func:`draw_plots` lays the report's figures out on
:class:`matplotlib.figure.Figure` objects, without pyplot and without choosing a backend, and
:func:`write_plots` saves each as PNG and SVG. Importing this module selects no backend.

The first figure is the paired difference of each scenario's relapse rate to its baseline. Up to
:data:`MAX_ROWS` scenarios are drawn one row each; a larger sweep draws the :data:`MAX_ROWS` / 2
lowest and highest of them (the title says so; every scenario is in ``summary.csv``) and puts the
relapse over time of all scenarios in one panel, so that every figure's size and drawing time stay
bounded or linear in the number of scenarios. Scenarios are told apart by markers, line styles and
hatches as well as by shades of grey, so that the figures stay readable in greyscale print.
Intervals are 95% t-intervals over seeds (rates cut to [0, 100%]); differences to the baseline are
paired on seed.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import Bbox

from sim.analysis.compare import scenario_label
from sim.analysis.dashboard import CAUSE_HATCHES
from sim.analysis.validate import metric_bounds

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
LINESTYLES = ("-", "--", ":", "-.")
CAUSE_GREYS = {"illness": "0.25", "disaster": "0.5", "job_loss": "0.7", "price": "0.85"}
MAX_LINES_PER_AXES = 6
"""Up to this many scenarios share one panel of relapse over time."""
MAX_ROWS = 30
"""Up to this many scenarios are drawn each; beyond, the lowest and highest half of this each."""
MAX_PANELS = 8
"""Most facet panels of a heatmap figure."""
MAX_CELL_TEXT = (12, 8)
"""Heatmap cells carry their value as text up to this many rows and columns (wider grids leave
too little room for the text of a panel 5.5 inches wide)."""
CAUSE_PREFIX = "relapses_by_cause."
DPI = 120


def _axes(ax: Axes | None, height: float = 4.0) -> Axes:
    """``ax``, or the axes of a new pyplot figure (imported here: shown inline in notebooks)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(7, height), layout="constrained")[1]


def _style(i: int) -> dict[str, Any]:
    """Marker, line style and grey of the ``i``-th scenario."""
    return {
        "marker": MARKERS[i % len(MARKERS)],
        "linestyle": LINESTYLES[i % len(LINESTYLES)],
        "color": str(0.6 * (i % 4) / 3),
    }


def _errors(mean: pd.Series, lo: pd.Series, hi: pd.Series) -> np.ndarray:
    """Error-bar lengths below and above the mean; zero where the interval is undefined."""
    return np.nan_to_num(np.vstack([mean - lo, hi - mean]), nan=0.0).clip(min=0.0)


def metric_words(metric: str) -> str:
    """``"relapse_rate"`` -> ``"relapse rate"``."""
    return metric.replace("_", " ").replace(".", ": ")


def select_rows(
    summary: pd.DataFrame, column: str, limit: int = MAX_ROWS
) -> tuple[pd.DataFrame, str]:
    """The rows to draw one by one.

    All of them up to ``limit``, in the sweep's order; beyond, the ``limit // 2`` lowest and
    highest by ``column`` (rows without a value count as lowest), from lowest to highest.

    Returns:
        The rows and a note for the title ("" when all are drawn).
    """
    if len(summary) <= limit:
        return summary, ""
    ranked = summary.sort_values(column, kind="stable", na_position="first")
    half = limit // 2
    shown = pd.concat([ranked.head(half), ranked.tail(half)])
    return shown, f"the {half} lowest and {half} highest of {len(summary)} scenarios"


def plot_difference_to_baseline(
    summary: pd.DataFrame, metric: str = "relapse_rate", ax: Axes | None = None
) -> Axes:
    """Each scenario's paired difference to its baseline, with its 95% interval, and the zero line.

    Shares are shown in percentage points. Scenarios whose difference rests on fewer than 5 pairs
    of seeds say so in their label.
    """
    rows = summary[~summary["is_baseline"]]
    rows, note = select_rows(rows, f"{metric}_diff")
    ax = _axes(ax, 1.5 + 0.35 * len(rows))
    share = metric_bounds(metric) == (0.0, 1.0)
    scale = 100.0 if share else 1.0
    y = np.arange(len(rows))[::-1]
    diff = scale * rows[f"{metric}_diff"]
    lo, hi = scale * rows[f"{metric}_diff_lo"], scale * rows[f"{metric}_diff_hi"]
    ax.axvline(0, color="0.4", linewidth=1)
    ax.errorbar(diff, y, xerr=_errors(diff, lo, hi), fmt="ko", ecolor="black", capsize=3)
    labels = [
        name if n >= 5 else f"{name} (n={n})"
        for name, n in zip(rows["scenario"], rows["n_pairs"], strict=True)
    ]
    ax.set_yticks(y, labels)
    if note:
        ax.axhline(len(rows) / 2 - 0.5, color="0.7", linestyle="--", linewidth=0.8)
    unit = " (percentage points)" if share else ""
    ax.set_xlabel(f"{metric_words(metric)}, difference to baseline{unit}")
    bases = summary.loc[summary["is_baseline"], "scenario"]
    against = bases.iloc[0] if len(bases) == 1 else "the baseline at the same other values"
    title = (
        f"{metric_words(metric).capitalize()}: difference to {against}\n"
        "(paired on seed, mean and 95% interval)"
    )
    ax.set_title(title + (f"\n{note}" if note else ""), fontsize="medium")
    return ax


def plot_relapse_by_scenario(summary: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Mean relapse rate of each scenario with its 95% interval; baselines hollow."""
    rows, note = select_rows(summary, "relapse_rate_mean")
    ax = _axes(ax, 1.5 + 0.35 * len(rows))
    y = np.arange(len(rows))[::-1]
    mean = 100 * rows["relapse_rate_mean"]
    lo, hi = 100 * rows["relapse_rate_lo"], 100 * rows["relapse_rate_hi"]
    ax.errorbar(mean, y, xerr=_errors(mean, lo, hi), fmt="none", ecolor="black", capsize=3)
    base = rows["is_baseline"].to_numpy()
    ax.plot(mean[~base], y[~base], "ko", label="scenario")
    ax.plot(mean[base], y[base], "o", mfc="white", mec="black", label="baseline")
    if summary["is_baseline"].sum() == 1 and base.any():
        ax.axvline(mean[base].iloc[0], color="0.5", linestyle=":", linewidth=1)
    ax.set_yticks(y, rows["scenario"])
    ax.set_xlim(left=0)
    title = "Relapse rate by scenario\n(mean over seeds, 95% interval)"
    ax.set_title(title + (f"\n{note}" if note else ""), fontsize="medium")
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
        reference: a scenario drawn as a thin dotted line without band (the matching baseline).
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
    ax.set_ylim(bottom=0)
    if len(names) > 1:
        ax.legend(fontsize="x-small", loc="best")
    else:
        ax.set_title(names[0], fontsize="small")
    return ax


def plot_relapse_over_time_summary(
    yearly: pd.DataFrame, summary: pd.DataFrame, ax: Axes | None = None
) -> Axes:
    """Relapse rate per year of many scenarios in one panel.

    A grey band spans the scenarios' means each year (lowest to highest), a line their median;
    the scenarios with the lowest and highest mean relapse rate are drawn with their 95% bands.
    """
    ax = _axes(ax)
    spread = yearly.groupby("year")["mean"].agg(["min", "median", "max"])
    years = spread.index.to_numpy()
    ax.fill_between(
        years, 100 * spread["min"], 100 * spread["max"], color="0.88", label="range of scenarios"
    )
    ax.plot(years, 100 * spread["median"], color="0.5", linestyle="--", label="median scenario")
    ranked = summary.sort_values("relapse_rate_mean", kind="stable")["scenario"]
    extremes = list(dict.fromkeys([ranked.iloc[0], ranked.iloc[-1]]))
    for i, name in enumerate(extremes):
        rows = yearly[yearly["scenario"] == name]
        ax.fill_between(rows["year"], 100 * rows["lo"], 100 * rows["hi"], color="0.7", alpha=0.5)
        which = "lowest" if i == 0 else "highest"
        ax.plot(rows["year"], 100 * rows["mean"], label=f"{which}: {name}", **_style(i))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("year")
    ax.set_ylabel("relapse rate (% a year)")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1))
    return ax


def cause_columns(summary: pd.DataFrame) -> list[str]:
    """The causes of relapse present in a summary table, in their order."""
    return [
        c.removeprefix(CAUSE_PREFIX).removesuffix("_mean")
        for c in summary.columns
        if c.startswith(CAUSE_PREFIX) and c.endswith("_mean")
    ]


def plot_causes_by_scenario(summary: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Relapse events of each scenario by cause: stacked bars of the mean over seeds."""
    rows, note = select_rows(summary, "relapses_total_mean")
    ax = _axes(ax, 1.5 + 0.35 * len(rows))
    y = np.arange(len(rows))[::-1]
    left = np.zeros(len(rows))
    for cause in cause_columns(rows):
        values = rows[f"{CAUSE_PREFIX}{cause}_mean"].fillna(0.0).to_numpy()
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
    ax.set_yticks(y, rows["scenario"])
    title = "Causes of relapse by scenario\n(mean over seeds)"
    ax.set_title(title + (f"\n{note}" if note else ""), fontsize="medium")
    ax.set_xlabel("relapse events over the run (mean over seeds)")
    ax.legend(title="cause", fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    return ax


def _root(ax: Axes) -> Figure:
    """The figure that holds ``ax`` (the top one, when ``ax`` is in a subfigure)."""
    fig = ax.figure
    return fig if isinstance(fig, Figure) else fig.figure


RINGS = (6, 14, 24, 36, 52, 72)
"""Distances (points) at which a label is tried around its point, in eight directions each."""
DIRECTIONS = ((1, 1), (1, -1), (-1, 1), (-1, -1), (1, 0), (-1, 0), (0, 1), (0, -1))
LABEL_BOX = {"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.8}
HORIZONTAL: dict[int, Literal["left", "center", "right"]] = {1: "left", -1: "right", 0: "center"}
VERTICAL: dict[int, Literal["bottom", "center", "top"]] = {1: "bottom", -1: "top", 0: "center"}


def _spot(
    ax: Axes, probe: Any, taken: list[Bbox], rings: Sequence[int]
) -> tuple[int, int, int] | None:
    """The first ring and direction where ``probe`` fits in ``ax`` clear of ``taken``."""
    frame = ax.get_window_extent()
    for ring, (dx, dy) in itertools.product(rings, DIRECTIONS):
        probe.xyann = (dx * ring, dy * ring)
        probe.set_horizontalalignment(HORIZONTAL[dx])
        probe.set_verticalalignment(VERTICAL[dy])
        box = probe.get_window_extent().padded(1.0)
        fits = frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1)
        if fits and not any(box.overlaps(other) for other in taken):
            taken.append(box)
            return ring, dx, dy
    return None


def place_labels(
    ax: Axes,
    points: np.ndarray,
    labels: Sequence[str],
    rings: Sequence[int] = RINGS,
    all_or_none: bool = False,
) -> list[bool]:
    """Label each point where its text overlaps no other label, no point and stays in ``ax``.

    Each label is tried at the distances ``rings`` in eight directions, nearest first; a label
    beyond the second ring gets a thin leader line. Positions are taken from the figure's layout
    at the time of the call (the labels take no part in it).

    Args:
        ax: axes holding the points.
        points: data coordinates, one row per point.
        labels: the text of each point.
        rings: distances from the point tried, in points (1/72 inch).
        all_or_none: place no label unless every label finds a place.

    Returns:
        Whether each label was placed.
    """
    fig = _root(ax)
    fig.draw_without_rendering()
    half = 3 * fig.dpi / 72  # half a marker of 4 points, with a margin
    taken = [
        Bbox.from_extents(x - half, y - half, x + half, y + half)
        for x, y in ax.transData.transform(points)
    ]
    spots = []
    for (x, y), label in zip(points, labels, strict=True):
        probe = ax.annotate(
            label,
            (x, y),
            xytext=(0, 0),
            textcoords="offset points",
            fontsize="x-small",
            bbox=LABEL_BOX,
        )
        spots.append(_spot(ax, probe, taken, rings))
        probe.remove()
        if all_or_none and spots[-1] is None:
            return [False] * len(labels)
    for (x, y), label, spot in zip(points, labels, spots, strict=True):
        if spot is None:
            continue
        ring, dx, dy = spot
        leader = {"arrowstyle": "-", "color": "0.5", "linewidth": 0.5} if ring > RINGS[1] else None
        text = ax.annotate(
            label,
            (x, y),
            xytext=(dx * ring, dy * ring),
            textcoords="offset points",
            fontsize="x-small",
            horizontalalignment=HORIZONTAL[dx],
            verticalalignment=VERTICAL[dy],
            arrowprops=leader,
            bbox=LABEL_BOX,
        )
        text.set_in_layout(False)
    return [spot is not None for spot in spots]


def plot_cost_effectiveness(summary: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Additional policy cost against relapse events averted, both relative to the baseline.

    Error bars are the 95% intervals of the paired differences. Points carry their scenario's
    name where every name finds a place next to its point, overlapping no other name and no
    point (:func:`place_labels`); otherwise each point carries its number (with a leader line
    where it had to move away) and a key beside the axes gives the names. Beyond
    :data:`MAX_ROWS` scenarios the points carry no names (``summary.csv`` has every scenario's
    figures).
    """
    ax = _axes(ax, 5.0)
    rows = summary[~summary["is_baseline"]].dropna(
        subset=["relapse_events_averted", "cost_total_yuan_diff"]
    )
    averted = rows["relapse_events_averted"]
    cost = rows["cost_total_yuan_diff"] / 1e6
    ax.errorbar(
        averted,
        cost,
        xerr=_errors(averted, rows["relapse_events_averted_lo"], rows["relapse_events_averted_hi"]),
        yerr=_errors(
            cost, rows["cost_total_yuan_diff_lo"] / 1e6, rows["cost_total_yuan_diff_hi"] / 1e6
        ),
        fmt="none",
        ecolor="0.6",
        capsize=3,
    )
    ax.plot(averted, cost, "ko", markersize=4)
    ax.axhline(0, color="0.6", linewidth=0.8)
    ax.axvline(0, color="0.6", linewidth=0.8)
    base = summary.loc[summary["is_baseline"], "scenario"]
    against = base.iloc[0] if len(base) == 1 else "the baseline at the same other values"
    title = f"Cost-effectiveness against {against}"
    if len(rows) > MAX_ROWS:
        title += f"\n{len(rows)} scenarios (named in summary.csv)"
    ax.set_title(title, fontsize="medium")
    ax.set_xlabel("relapse events averted over the run (mean over seeds, paired)")
    ax.set_ylabel("additional policy cost (million yuan)")
    if rows.empty or len(rows) > MAX_ROWS:
        return ax
    points = np.column_stack([averted, cost])
    names = rows["scenario"].tolist()
    if all(place_labels(ax, points, names, rings=RINGS[:2], all_or_none=True)):
        return ax
    handles = [
        Line2D([], [], linestyle="none", marker=f"${i}$", color="black", markersize=9, label=name)
        for i, name in enumerate(rows["scenario"], 1)
    ]
    legend = ax.legend(
        handles=handles,
        title="scenario",
        fontsize="x-small",
        loc="upper left",
        bbox_to_anchor=(1.01, 1),
    )
    placed = place_labels(ax, points, [str(i) for i in range(1, len(rows) + 1)])
    if not all(placed):
        # Keep the numbers where they were placed: a longer key must not move the axes.
        _root(ax).set_layout_engine("none")
        for text, fits in zip(legend.get_texts(), placed, strict=True):
            if not fits:
                text.set_text(f"{text.get_text()} (no room for its number)")
    return ax


def plot_heatmap(
    summary: pd.DataFrame,
    x: str,
    y: str,
    metric: str = "relapse_rate",
    difference: bool = False,
    ax: Axes | None = None,
) -> Axes:
    """A share (in %) over a grid of two numeric parameters, on the panel's own grey scale.

    Args:
        summary: one row per scenario, with columns ``x``, ``y``, ``<metric>_mean`` and, for a
            difference, ``<metric>_diff`` and ``is_baseline``.
        x: parameter along the horizontal axis.
        y: parameter along the vertical axis.
        metric: the summary metric, a share (0-1).
        difference: draw the paired difference to the baseline (percentage points, a scale
            symmetric around zero; the baseline cells are marked ``baseline``) instead of the mean.
        ax: where to draw.
    """
    ax = _axes(ax)
    column = f"{metric}_diff" if difference else f"{metric}_mean"
    grid = summary.pivot_table(index=y, columns=x, values=column, aggfunc="mean", dropna=False)
    values = 100 * grid.to_numpy(dtype=float)
    base = summary.pivot_table(index=y, columns=x, values="is_baseline", aggfunc="max")
    base = base.reindex(index=grid.index, columns=grid.columns).fillna(False).to_numpy(dtype=bool)
    if difference:
        values = np.where(base, np.nan, values)
    finite = values[np.isfinite(values)]
    if difference:
        reach = float(np.abs(finite).max()) if finite.size else 1.0
        vmin, vmax, cmap = -(reach or 1.0), reach or 1.0, "PuOr_r"
    else:
        vmin, vmax = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        cmap = "Greys"
    image = ax.imshow(values, cmap=cmap, origin="lower", aspect="auto", vmin=vmin, vmax=vmax)
    if values.shape[0] <= MAX_CELL_TEXT[0] and values.shape[1] <= MAX_CELL_TEXT[1]:
        dark = vmin + 0.6 * (vmax - vmin) if not difference else None
        for (i, j), value in np.ndenumerate(values):
            if base[i, j] and difference:
                text, colour = "baseline", "black"
            elif np.isnan(value):
                text, colour = "n/a", "black"
            else:
                text = f"{value:+.2f}" if difference else f"{value:.2f}"
                strong = abs(value) > 0.6 * vmax if difference else value > (dark or 0.0)
                colour = "white" if strong else "black"
            ax.text(j, i, text, ha="center", va="center", color=colour, fontsize="x-small")
    ax.set_xticks(range(grid.shape[1]), [f"{v:g}" for v in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [f"{v:g}" for v in grid.index])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    label = (
        f"{metric_words(metric)}, difference to baseline (percentage points)"
        if difference
        else f"{metric_words(metric)} (%)"
    )
    ax.figure.colorbar(image, ax=ax, label=label)
    return ax


Save = Callable[[Path, Callable[[Path], object]], None]


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


def _label_width(summary: pd.DataFrame) -> float:
    return max(8.0, 4.5 + 0.07 * float(summary["scenario"].str.len().max()))


def _rows_figure(
    summary: pd.DataFrame, draw: Callable[[pd.DataFrame, Axes], Axes], rows: int, extra: float = 0.0
) -> Figure:
    """A figure for ``draw(summary, ax)``, sized for ``rows`` rows (at most :data:`MAX_ROWS`)."""
    height = 2.4 + 0.3 * min(rows, MAX_ROWS)
    fig = Figure(figsize=(_label_width(summary) + extra, height), layout="constrained")
    draw(summary, fig.add_subplot())
    return fig


def _over_time_figure(summary: pd.DataFrame, yearly: pd.DataFrame) -> Figure:
    """One panel for a few scenarios or many; else one panel per scenario with its baseline."""
    names = summary["scenario"].tolist()
    if len(names) <= MAX_LINES_PER_AXES or len(names) > MAX_ROWS:
        fig = Figure(figsize=(9, 4.5), layout="constrained")
        ax = fig.add_subplot()
        if len(names) <= MAX_LINES_PER_AXES:
            plot_relapse_over_time(yearly, names, None, ax)
            title = "Relapse rate over time (mean over seeds, grey band: 95% interval)"
        else:
            plot_relapse_over_time_summary(yearly, summary, ax)
            title = f"Relapse rate over time of {len(names)} scenarios (mean over seeds)"
        fig.suptitle(title)
        return fig
    reference = dict(zip(summary["scenario"], summary["baseline"], strict=True))
    ncols = 4
    nrows = -(-len(names) // ncols)
    fig = Figure(figsize=(4.5 * ncols, 3.0 * nrows + 0.8), layout="constrained")
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
    for name, ax in itertools.zip_longest(names, axes.flat):
        if name is None:
            ax.set_axis_off()
            continue
        own = reference.get(name)
        plot_relapse_over_time(yearly, [name], None if own == name else own, ax)
        if own == name:
            ax.set_title(f"{name} (baseline)", fontsize="small")
        ax.label_outer()
    fig.suptitle(
        "Relapse rate over time (mean over seeds, grey band: 95% interval)\n"
        "dotted: the scenario's baseline (same values of the other parameters)"
    )
    return fig


def _heatmap_figure(summary: pd.DataFrame, params: Sequence[str]) -> Figure:
    """The heatmaps of a sweep that varies at least two numeric parameters."""
    x, y = _numeric(summary, params)[:2]
    facets = [p for p in params if p not in (x, y)]
    groups = list(summary.groupby(facets, sort=False)) if facets else [((), summary)]
    note = f" (first {MAX_PANELS} of {len(groups)} panels)" if len(groups) > MAX_PANELS else ""
    groups = groups[:MAX_PANELS]
    with_diff = [(key, g) for key, g in groups if not g["is_baseline"].all()]
    panels = [(key, g, False) for key, g in groups] + [(key, g, True) for key, g in with_diff]
    ncols = min(len(panels), 4)
    nrows = -(-len(panels) // ncols)
    fig = Figure(figsize=(5.5 * ncols, 4.6 * nrows + 0.6), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for panel, ax in itertools.zip_longest(panels, axes.flat):
        if panel is None:
            ax.set_axis_off()
            continue
        key, group, difference = panel
        plot_heatmap(group, x, y, "relapse_rate", difference, ax)
        values = key if isinstance(key, tuple) else (key,)
        facet = ", ".join(f"{p}={v}" for p, v in zip(facets, values, strict=True))
        what = "difference to baseline" if difference else "mean"
        ax.set_title(f"{facet}: {what}" if facet else what, fontsize="small")
    fig.suptitle(
        "Relapse rate (% a year, mean over seeds; each panel its own scale) and its paired "
        f"difference to the baseline (percentage points){note}"
    )
    return fig


def draw_plots(
    summary: pd.DataFrame, yearly: pd.DataFrame, params: Sequence[str]
) -> dict[str, Figure]:
    """Every comparison figure that the sweep supports, by file name, in the report's order.

    Args:
        summary: one row per scenario (:func:`sim.analysis.compare.summarize_sweep`).
        yearly: relapse rate per scenario and year
            (:func:`sim.analysis.compare.yearly_by_scenario`).
        params: the varying parameters.
    """
    return {name: draw() for name, draw in plot_makers(summary, yearly, params).items()}


def plot_makers(
    summary: pd.DataFrame, yearly: pd.DataFrame, params: Sequence[str]
) -> dict[str, Callable[[], Figure]]:
    """What :func:`draw_plots` draws, each figure as a function that draws it."""
    labels = short_labels(summary, params)
    summary = summary.assign(
        scenario=summary["scenario"].map(labels), baseline=summary["baseline"].map(labels)
    )
    yearly = yearly.assign(scenario=yearly["scenario"].map(labels))
    makers: dict[str, Callable[[], Figure]] = {}
    compared = int((~summary["is_baseline"] & summary["relapse_rate_diff"].notna()).sum())
    if compared:
        makers["difference_to_baseline"] = lambda: _rows_figure(
            summary, lambda s, ax: plot_difference_to_baseline(s, ax=ax), compared
        )
    makers["relapse_rate"] = lambda: _rows_figure(summary, plot_relapse_by_scenario, len(summary))
    if not yearly.empty:
        makers["relapse_over_time"] = lambda: _over_time_figure(summary, yearly)
    if cause_columns(summary):
        makers["relapse_causes"] = lambda: _rows_figure(
            summary, plot_causes_by_scenario, len(summary), extra=1.5
        )
    if {"relapse_events_averted", "cost_total_yuan_diff"} <= set(summary) and len(summary) > 1:
        makers["cost_effectiveness"] = lambda: _cost_effectiveness_figure(summary)
    if len(_numeric(summary, params)) >= 2:
        makers["heatmap_relapse_rate"] = lambda: _heatmap_figure(summary, params)
    return makers


def _cost_effectiveness_figure(summary: pd.DataFrame) -> Figure:
    fig = Figure(figsize=(11, 5.5), layout="constrained")
    plot_cost_effectiveness(summary, fig.add_subplot())
    return fig


def write_plots(
    out: Path, summary: pd.DataFrame, yearly: pd.DataFrame, params: Sequence[str], save: Save
) -> list[Path]:
    """Draw every comparison plot (:func:`draw_plots`) and save each as PNG and SVG.

    The figures are drawn and saved by as many processes as this process may use cores (forked,
    so that they share the tables; on Linux, one process elsewhere): plots are most of a report's
    time, and the sweep's cores are free by then.

    Args:
        out: the comparison folder.
        summary: one row per scenario (:func:`sim.analysis.compare.summarize_sweep`).
        yearly: relapse rate per scenario and year.
        params: the varying parameters.
        save: ``save(path, write)`` calls ``write(tmp)`` and moves ``tmp`` to ``path``.

    Returns:
        The files written, the first plot's first.
    """
    global _PLOTTING
    _PLOTTING = [
        (out, name, draw, save) for name, draw in plot_makers(summary, yearly, params).items()
    ]
    try:
        cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else ()  # Linux
        workers = min(len(_PLOTTING), len(cores))
        if workers > 1:
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(workers, mp_context=context) as pool:
                files = list(pool.map(_plot, range(len(_PLOTTING))))
        else:
            files = [_plot(task) for task in range(len(_PLOTTING))]
        return [path for pair in files for path in pair]
    finally:
        _PLOTTING = []


# The figures write_plots makes: (folder, name, draw, save); a global so that forked processes
# find them without pickling them.
_PLOTTING: list[tuple[Path, str, Callable[[], Figure], Save]] = []


def _plot(task: int) -> tuple[Path, Path]:
    """Draw figure ``task`` of :data:`_PLOTTING` and save it as PNG and SVG."""
    out, name, draw, save = _PLOTTING[task]
    fig = draw()
    png, svg = out / f"{name}.png", out / f"{name}.svg"
    save(png, lambda tmp: fig.savefig(tmp, format="png", dpi=DPI))
    save(svg, lambda tmp: fig.savefig(tmp, format="svg", dpi=DPI))
    return png, svg
