"""Robust comparison of scenarios over what we do not know: ``python -m sim.studies.robust DIR``.

A robust comparison runs every scenario (policy preset) on every draw of the uncertain parameters
(a Latin hypercube over the declared ranges, or draws from a calibration's posterior) and every
seed. A *pair* is one (draw, seed): within it all scenarios share the parameters and the shocks,
so scenarios are compared pair by pair. Reads the study's files only (never the model; see
:mod:`sim.studies.runs`) and writes into ``SWEEP_DIR/robust/``:

- ``summary.csv``: one row per scenario, best mean relapse first: ``pairs``, the relapse rate's
  mean and central 95% interval over the pairs (``relapse_rate_mean``, ``_lo``, ``_hi``: the 2.5th
  and 97.5th percentiles, so the interval covers parameter uncertainty and seed noise together),
  the paired difference to the baseline with its interval (``relapse_rate_diff_*``),
  ``p_better_than_baseline`` (share of pairs in which the scenario's relapse rate is lower than
  the baseline's; a tie is not better), ``mean_rank``, and the mean cost;
- ``ranks.csv``: ``scenario, rank, share``: the share of pairs in which each scenario ranks 1st
  (lowest relapse), 2nd, ...; tied scenarios share the better rank;
- ``pairs.csv``: ``scenario, other, p_better``: for every ordered pair of scenarios, the share of
  pairs in which the first has the lower relapse rate;
- ``report.md`` and the plot ``ranks`` (PNG and SVG): the rank distribution and the intervals.

The functions on run tables (:func:`p_better`, :func:`rank_distribution`, :func:`summarize`) take
one row per (draw, seed, scenario); the ordinary comparison report can call them on any sweep whose
runs carry a draw column. :func:`intervals_cover` says in one line what a sweep's intervals cover.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.analysis.compare import SEED_NOISE_ONLY
from sim.files import atomic_write_text
from sim.studies.runs import STUDY_FILE, analysis_command, read_study, save_figure

NODE = "robust"
PAIR = ["draw", "seed"]
METRIC = "relapse_rate"
CONFIDENCE = 0.95
HOLDS = 0.8  # the report lists the ranking's pairs that hold in at least this share of pairs


def paired(table: pd.DataFrame, metric: str = METRIC) -> pd.DataFrame:
    """One row per pair (draw, seed), one column per scenario (in order of first appearance)."""
    wide = table.pivot(index=PAIR, columns="scenario", values=metric)
    return wide[list(dict.fromkeys(table["scenario"]))]


def p_better(table: pd.DataFrame, reference: str, metric: str = METRIC) -> pd.Series:
    """Share of pairs in which each scenario's ``metric`` is lower than ``reference``'s.

    A tie is not better, so the reference against itself gives 0. Pairs in which either run is
    missing are left out.
    """
    wide = paired(table, metric)
    return wide.apply(
        lambda column: float(
            (column < wide[reference])[column.notna() & wide[reference].notna()].mean()
        )
    )


def pairwise(table: pd.DataFrame, metric: str = METRIC) -> pd.DataFrame:
    """``scenario, other, p_better`` for every ordered pair of different scenarios."""
    wide = paired(table, metric)
    rows = [
        {"scenario": a, "other": b, "p_better": float((wide[a] < wide[b]).mean())}
        for a in wide.columns
        for b in wide.columns
        if a != b
    ]
    return pd.DataFrame(rows, columns=["scenario", "other", "p_better"])


def rank_distribution(table: pd.DataFrame, metric: str = METRIC) -> pd.DataFrame:
    """``scenario, rank, share``: how often each scenario ranks 1st (lowest), 2nd, ... over pairs.

    Tied scenarios share the better rank (so a rank may be empty while the one before it holds
    two scenarios); each scenario's shares sum to 1.
    """
    wide = paired(table, metric).dropna()
    ranks = wide.rank(axis=1, method="min").astype(int)
    counts = (
        ranks.melt(var_name="scenario", value_name="rank")
        .groupby(["scenario", "rank"], sort=False)
        .size()
    )
    shares = (counts / len(wide)).rename("share").reset_index()
    shares["order"] = shares["scenario"].map({s: i for i, s in enumerate(wide.columns)})
    return shares.sort_values(["order", "rank"]).drop(columns="order").reset_index(drop=True)


def summarize(table: pd.DataFrame, baseline: str, metric: str = METRIC) -> pd.DataFrame:
    """One row per scenario, lowest mean ``metric`` first (see the module docstring)."""
    wide = paired(table, metric)
    diff = wide.sub(wide[baseline], axis=0)
    tail = (1 - CONFIDENCE) / 2
    ranks = wide.dropna().rank(axis=1, method="min")
    summary = pd.DataFrame(
        {
            "pairs": wide.notna().sum(),
            f"{metric}_mean": wide.mean(),
            f"{metric}_lo": wide.quantile(tail),
            f"{metric}_hi": wide.quantile(1 - tail),
            f"{metric}_diff_mean": diff.mean(),
            f"{metric}_diff_lo": diff.quantile(tail),
            f"{metric}_diff_hi": diff.quantile(1 - tail),
            "p_better_than_baseline": p_better(table, baseline, metric),
            "mean_rank": ranks.mean(),
        }
    )
    if "cost_total_yuan" in table:
        summary["cost_total_yuan_mean"] = paired(table, "cost_total_yuan").mean()
    summary.index.name = "scenario"
    return summary.sort_values(f"{metric}_mean", kind="stable").reset_index()


def holding_pairs(
    pairs: pd.DataFrame, order: Sequence[str], threshold: float = HOLDS
) -> pd.DataFrame:
    """The pairs of the ranking ``order`` (better first) that hold in at least ``threshold``."""
    position = {s: i for i, s in enumerate(order)}
    first, second = pairs["scenario"].map(position), pairs["other"].map(position)
    held = pairs[(first < second) & (pairs["p_better"] >= threshold)]
    return held.iloc[np.lexsort((second[held.index], first[held.index]))].reset_index(drop=True)


def intervals_cover(sweep_dir: Path) -> str:
    """One line for a sweep's report: which uncertainty its intervals cover."""
    study_file = Path(sweep_dir) / NODE / STUDY_FILE
    if study_file.exists():
        import json

        study = json.loads(study_file.read_text())
        source = (
            f"from the posterior {study['posterior']}"
            if study.get("posterior")
            else "of a Latin hypercube over the declared ranges (configs/uncertainty/default.yaml)"
        )
        return (
            f"Intervals cover parameter uncertainty ({study['draws']} draws {source})"
            f" and seed noise ({len(study['seeds'])} seeds per draw), paired over draw and seed."
        )
    return SEED_NOISE_ONLY


def plot_ranks(summary: pd.DataFrame, ranks: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Each scenario's rank distribution as a stacked bar (rank 1 darkest), best mean first."""
    order = list(summary["scenario"])
    ax = ax if ax is not None else plt.subplots(figsize=(7, 1.5 + 0.4 * len(order)))[1]
    wide = ranks.pivot(index="scenario", columns="rank", values="share").reindex(order).fillna(0)
    left = np.zeros(len(order))
    y = np.arange(len(order))[::-1]
    n = max(len(wide.columns), 2)
    for i, rank in enumerate(wide.columns):
        ax.barh(
            y,
            wide[rank],
            left=left,
            color=str(0.15 + 0.8 * i / (n - 1)),
            edgecolor="0.1",
            hatch="//" if i % 2 else "",
            label=f"rank {rank}",
        )
        left += wide[rank].to_numpy()
    ax.set_yticks(y, order)
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of (draw, seed) pairs")
    ax.set_title("Rank of each scenario by relapse rate (1 = lowest)")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7)
    return ax


def plot_intervals(summary: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Mean relapse rate of each scenario with the central 95% of draws and seeds."""
    ax = ax if ax is not None else plt.subplots(figsize=(7, 1.5 + 0.4 * len(summary)))[1]
    y = np.arange(len(summary))[::-1]
    mean = 100 * summary[f"{METRIC}_mean"]
    errors = np.vstack([mean - 100 * summary[f"{METRIC}_lo"], 100 * summary[f"{METRIC}_hi"] - mean])
    ax.errorbar(mean, y, xerr=errors, fmt="o", color="0.1", ecolor="0.5", capsize=3)
    ax.set_yticks(y, summary["scenario"])
    ax.set_xlabel("relapse rate, % of lifted households a year (central 95% of draws x seeds)")
    ax.set_title("Relapse rate over parameter uncertainty and seeds")
    return ax


def _save(figure: Figure, path: Path) -> None:
    save_figure(figure, path)


@dataclass
class RobustReport:
    """What :func:`analyse` wrote."""

    folder: Path
    study: dict[str, Any]
    summary: pd.DataFrame
    ranks: pd.DataFrame
    pairs: pd.DataFrame

    def holding(self) -> pd.DataFrame:
        """The pairs of the mean ranking that hold with probability >= 0.8."""
        return holding_pairs(self.pairs, list(self.summary["scenario"]))

    def describe(self) -> str:
        """A few lines for the console."""
        order = " < ".join(self.summary["scenario"])
        return f"robust comparison: {self.folder}\n  mean relapse: {order}"


def _percent(value: float) -> str:
    return f"{100 * value:.2f}"


def _report(report: RobustReport) -> str:
    study, summary = report.study, report.summary
    baseline = study["baseline"]
    wall = study.get("wall_time_s")
    runs = len(study["scenario_labels"]) * study["draws"] * len(study["seeds"])
    lines = [
        "# Robust comparison",
        "",
        f"- {intervals_cover(report.folder.parent)}",
        f"- {study['draws']} draws x {len(study['seeds'])} seeds"
        f" (seeds {', '.join(map(str, study['seeds']))}) x {len(study['scenario_labels'])}"
        f" scenarios = **{runs} runs**"
        + (f", {wall:,.0f} s wall time for the last launch." if wall is not None else "."),
        f"- Parameters drawn: {len(study['parameters']) + len(study['posterior_parameters'])}"
        " (`study.json`; the values of each draw: `design.csv`). Baseline: "
        f"`{baseline}`.",
        "",
        "A pair is one draw of the parameters with one seed: every scenario runs on it, so the"
        " scenarios are compared pair by pair. Intervals are the central 95% of the pairs"
        " (parameter uncertainty and seed noise together), not intervals of a mean.",
        "",
        "| scenario | relapse rate, % a year [central 95%] | difference to baseline, points"
        " [central 95%] | p better than baseline | mean rank | mean cost, million yuan |",
        "|---|---|---|---|---|---|",
    ]
    for _, r in summary.iterrows():
        cost = r.get("cost_total_yuan_mean", np.nan)
        lines.append(
            f"| {r['scenario']} | {_percent(r['relapse_rate_mean'])}"
            f" [{_percent(r['relapse_rate_lo'])}, {_percent(r['relapse_rate_hi'])}]"
            f" | {_percent(r['relapse_rate_diff_mean'])}"
            f" [{_percent(r['relapse_rate_diff_lo'])}, {_percent(r['relapse_rate_diff_hi'])}]"
            f" | {r['p_better_than_baseline']:.2f} | {r['mean_rank']:.2f} | {cost / 1e6:,.1f} |"
        )
    ranks = report.ranks.pivot(index="scenario", columns="rank", values="share")
    ranks = ranks.reindex(summary["scenario"]).fillna(0.0)
    lines += [
        "",
        "## Rank distribution (share of pairs; 1 = lowest relapse)",
        "",
        "| scenario | " + " | ".join(str(r) for r in ranks.columns) + " |",
        "|---|" + "---|" * len(ranks.columns),
    ]
    lines += [
        f"| {s} | " + " | ".join(f"{v:.2f}" for v in row) + " |" for s, row in ranks.iterrows()
    ]
    holding = report.holding()
    order = list(summary["scenario"])
    adjacent = set(itertools.pairwise(order))
    lines += [
        "",
        f"## Pairs of the ranking that hold with p >= {HOLDS}",
        "",
        "The ranking by mean relapse rate is "
        + " < ".join(f"`{s}`" for s in order)
        + ". A pair holds when the better-ranked scenario has the lower relapse rate in at least"
        f" {HOLDS:.0%} of the pairs (`pairs.csv` has every pair).",
        "",
    ]
    if len(holding):
        lines += [
            f"- `{r['scenario']}` below `{r['other']}`: p = {r['p_better']:.2f}"
            + (" (neighbours in the ranking)" if (r["scenario"], r["other"]) in adjacent else "")
            for _, r in holding.iterrows()
        ]
    else:
        lines.append("None.")
    weak = [
        f"`{a}` vs `{b}`"
        for a, b in sorted(adjacent)
        if not ((holding["scenario"] == a) & (holding["other"] == b)).any()
    ]
    if weak:
        lines += ["", "Neighbours in the ranking that do not hold: " + ", ".join(weak) + "."]
    return "\n".join(lines) + "\n"


def analyse(sweep_dir: Path, plots: bool = True) -> RobustReport:
    """Summarise a finished robust comparison and write its outputs.

    Raises:
        StudyError: not a robust comparison, or some of its runs did not finish.
    """
    study, table = read_study(Path(sweep_dir), NODE)
    table = table[table["scenario"].isin(study["scenario_labels"])]
    summary = summarize(table, study["baseline"])
    ranks = rank_distribution(table)
    pairs = pairwise(table)
    folder = Path(sweep_dir) / NODE
    atomic_write_text(folder / "summary.csv", summary.to_csv(index=False))
    atomic_write_text(folder / "ranks.csv", ranks.to_csv(index=False))
    atomic_write_text(folder / "pairs.csv", pairs.to_csv(index=False))
    report = RobustReport(folder, study, summary, ranks, pairs)
    atomic_write_text(folder / "report.md", _report(report))
    if plots:
        figure, (top, bottom) = plt.subplots(
            2, 1, figsize=(8, 3 + 0.8 * len(summary)), height_ratios=[1, 1]
        )
        plot_intervals(summary, top)
        plot_ranks(summary, ranks, bottom)
        _save(figure, folder / "ranks")
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sim.studies.robust SWEEP_DIR``: (re)build a robust comparison's outputs."""
    return analysis_command("python -m sim.studies.robust", __doc__, analyse, argv)


if __name__ == "__main__":
    sys.exit(main())
