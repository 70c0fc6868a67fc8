"""Global sensitivity of a study's outcomes: ``python -m sim.studies.sensitivity SWEEP_DIR``.

Reads a sensitivity study's files only (never the model; see :mod:`sim.studies.runs`) and writes
into ``SWEEP_DIR/sensitivity/``:

- ``outcomes.csv``: each outcome at each design point (the mean over the study's seeds);
- ``indices.csv``: ``outcome, parameter, method, index, value, conf``. Morris (SALib
  ``analyze.morris``): ``mu_star`` (mean absolute elementary effect, with ``conf`` the half-width
  of its 95% bootstrap interval), ``mu`` (mean elementary effect, signed) and ``sigma`` (their
  standard deviation). Sobol' (SALib ``analyze.sobol``): ``S1`` (first order) and ``ST`` (total
  order), each with the half-width of its 95% bootstrap interval;
- ``report.md``: the study's size and wall time, how to read the indices, the ten parameters that
  matter most for each outcome, the parameters with exactly zero effect;
- plots, PNG and SVG: Morris mu*-sigma per outcome (``morris_<outcome>``), Sobol' bars with
  intervals (``sobol_<outcome>``).

Outcomes (``sensitivity.outcomes``), each the mean over seeds at a design point:

- ``relapse_rate``: the baseline scenario's relapse rate (share of lifted households a year);
- ``relapse_rate_after_shocks``: the same under the ``after_shocks`` measure, when the runs'
  summaries have ``by_measure.after_shocks.relapse_rate``;
- ``effect``: for each scenario, ``effect.<scenario>`` = relapse rate of the baseline minus that
  of the scenario, paired on seed (positive: the policy lowers relapse);
- ``effect_after_shocks``: the same under the ``after_shocks`` measure, when present;
- ``cost_per_event_averted``: for each scenario, the scenario's extra cost summed over seeds over
  the relapse events averted summed over seeds (yuan per relapse event); undefined where no event
  is averted, and then left out of the indices (the report says so). When the runs report the
  ``after_shocks`` measure, also ``cost_per_event_averted_after_shocks.<scenario>`` over the
  events it averts under that measure (a policy that pays health bills, like medical relief,
  averts events only there).

Morris elementary effects are taken on the unit scale of each parameter's quantiles: ``mu_star``
is, roughly, the outcome's change when the parameter moves across its whole declared range, in the
outcome's unit. A parameter that cannot act on an outcome (one of a policy that no scenario
enables) gets exactly zero: its runs are bit-identical.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.files import atomic_write_text
from sim.studies.runs import analysis_command, read_study, save_figure

NODE = "sensitivity"
OUTCOME_KINDS = (
    "relapse_rate",
    "relapse_rate_after_shocks",
    "effect",
    "effect_after_shocks",
    "cost_per_event_averted",
)
HEADLINE = "relapse_rate"
AFTER_SHOCKS = "by_measure.after_shocks.relapse_rate"
EVENTS = ("relapse_events", "relapses_total")  # relapse events (household-years below the line)
AFTER_SHOCKS_EVENTS = "by_measure.after_shocks.relapse_events"
COST = "cost_total_yuan"
CONFIDENCE = 0.95
RESAMPLES = 1000
TOP = 10


def _slug(outcome: str) -> str:
    return outcome.replace(".", "_")


def unit_of(outcome: str) -> tuple[float, str]:
    """Scale and unit in which the report shows an outcome and its indices."""
    if outcome.startswith("cost_per_event_averted"):
        return 1.0, "yuan per relapse event averted"
    return 100.0, "percentage points a year"


def point_outcomes(
    table: pd.DataFrame, kinds: Sequence[str], scenarios: Sequence[str]
) -> tuple[pd.DataFrame, list[str]]:
    """Each outcome at each design point, from one row per (point, scenario, seed).

    Args:
        table: ``point, scenario, seed`` and the runs' metrics
            (:func:`sim.studies.runs.read_study`).
        kinds: outcome kinds (:data:`OUTCOME_KINDS`).
        scenarios: the scenario labels, the baseline first.

    Returns:
        One row per design point (index ``point``, in order), one column per outcome; and notes on
        the outcomes left out.
    """
    baseline, others = scenarios[0], list(scenarios[1:])
    notes: list[str] = []

    def by_seed(metric: str) -> pd.DataFrame:
        return table.pivot(index=["point", "seed"], columns="scenario", values=metric)

    columns: dict[str, pd.Series] = {}
    measures = {"": HEADLINE}
    if AFTER_SHOCKS in table:
        measures["_after_shocks"] = AFTER_SHOCKS
    elif {"relapse_rate_after_shocks", "effect_after_shocks"} & set(kinds):
        notes.append(f"no `{AFTER_SHOCKS}` in the runs' summaries: after-shocks outcomes left out")
    for suffix, metric in measures.items():
        rates = by_seed(metric)
        if f"relapse_rate{suffix}" in kinds:
            columns[f"relapse_rate{suffix}"] = rates[baseline].groupby("point").mean()
        if f"effect{suffix}" in kinds:
            for s in others:
                columns[f"effect{suffix}.{s}"] = (
                    (rates[baseline] - rates[s]).groupby("point").mean()
                )
    if "cost_per_event_averted" in kinds and others:
        cost = by_seed(COST).fillna(0.0)
        counts = {"": next(e for e in EVENTS if e in table)}
        if AFTER_SHOCKS_EVENTS in table:
            counts["_after_shocks"] = AFTER_SHOCKS_EVENTS
        for suffix, metric in counts.items():
            events = by_seed(metric)
            for s in others:
                averted = (events[baseline] - events[s]).groupby("point").sum()
                extra = (cost[s] - cost[baseline]).groupby("point").sum()
                columns[f"cost_per_event_averted{suffix}.{s}"] = (extra / averted).where(
                    averted > 0
                )
    outcomes = pd.DataFrame(columns)
    for name in outcomes.columns[outcomes.isna().any()]:
        n = int(outcomes[name].isna().sum())
        notes.append(
            f"`{name}` undefined at {n} design points (no relapse event averted): left out"
        )
    return outcomes.sort_index(), notes


def _rows(outcome: str, names: list[str], method: str, result: Any, indices: dict[str, str]):
    for index, conf in indices.items():
        values = np.asarray(result[index], dtype=float)
        confs = np.asarray(result[conf], dtype=float) if conf else np.full(len(names), math.nan)
        for name, value, c in zip(names, values, confs, strict=True):
            yield {
                "outcome": outcome,
                "parameter": name,
                "method": method,
                "index": index,
                "value": value,
                "conf": c,
            }


def morris_indices(
    unit: np.ndarray, outcomes: pd.DataFrame, names: list[str], levels: int, seed: int
) -> pd.DataFrame:
    """Morris ``mu_star`` (with ``conf``), ``mu`` and ``sigma`` of each complete outcome."""
    from SALib.analyze import morris

    from sim.studies.design import problem

    rows: list[dict[str, Any]] = []
    for outcome in outcomes.columns:
        y = outcomes[outcome].to_numpy(dtype=float)
        if np.isnan(y).any():
            continue
        result = morris.analyze(
            problem(names),
            unit,
            y,
            num_resamples=RESAMPLES,
            conf_level=CONFIDENCE,
            num_levels=levels,
            seed=seed,
        )
        indices = {"mu_star": "mu_star_conf", "mu": "", "sigma": ""}
        rows += _rows(outcome, names, "morris", result, indices)
    return pd.DataFrame(rows, columns=["outcome", "parameter", "method", "index", "value", "conf"])


def sobol_indices(outcomes: pd.DataFrame, names: list[str], seed: int) -> pd.DataFrame:
    """Sobol' ``S1`` and ``ST`` with interval half-widths of each complete outcome.

    An outcome that is the same at every design point depends on no parameter: every index is 0.
    """
    from SALib.analyze import sobol

    from sim.studies.design import problem

    rows: list[dict[str, Any]] = []
    for outcome in outcomes.columns:
        y = outcomes[outcome].to_numpy(dtype=float)
        if np.isnan(y).any():
            continue
        if np.ptp(y) == 0:
            zeros = np.zeros(len(names))
            result: Any = {"S1": zeros, "S1_conf": zeros, "ST": zeros, "ST_conf": zeros}
        else:
            result = sobol.analyze(
                problem(names),
                y,
                calc_second_order=False,
                num_resamples=RESAMPLES,
                conf_level=CONFIDENCE,
                seed=seed,
            )
        rows += _rows(outcome, names, "sobol", result, {"S1": "S1_conf", "ST": "ST_conf"})
    return pd.DataFrame(rows, columns=["outcome", "parameter", "method", "index", "value", "conf"])


def ranking(indices: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """Parameters of one outcome, most influential first: by ``mu_star`` (Morris) or ``ST``.

    One row per parameter, one column per index and ``<index>_conf``.
    """
    rows = indices[indices["outcome"] == outcome]
    wide = rows.pivot(index="parameter", columns="index", values="value")
    conf = rows.pivot(index="parameter", columns="index", values="conf").add_suffix("_conf")
    key = "mu_star" if "mu_star" in wide else "ST"
    table = wide.join(conf.dropna(axis=1, how="all"))
    return table.sort_values(key, ascending=False, kind="stable")


def plot_morris(indices: pd.DataFrame, outcome: str, ax: Axes | None = None) -> Axes:
    """Morris mu* against sigma for one outcome; the most influential parameters labelled."""
    scale, unit = unit_of(outcome)
    ax = ax if ax is not None else plt.subplots(figsize=(7, 5))[1]
    table = ranking(indices, outcome)
    mu_star, sigma = scale * table["mu_star"], scale * table["sigma"]
    ax.errorbar(
        mu_star,
        sigma,
        xerr=np.nan_to_num(scale * table["mu_star_conf"]),
        fmt="o",
        color="0.2",
        ecolor="0.6",
        markersize=4,
    )
    top = max(float(mu_star.max()), float(sigma.max()), 1e-12)
    ax.plot([0, top], [0, top], linestyle=":", color="0.5", label="sigma = mu*")
    for name in table.index[:8]:
        ax.annotate(
            name,
            (mu_star[name], sigma[name]),
            fontsize=7,
            xytext=(3, 3),
            textcoords="offset points",
        )
    ax.set_xlabel(f"mu* ({unit})")
    ax.set_ylabel(f"sigma ({unit})")
    ax.set_title(f"Morris screening: {outcome}")
    ax.legend(loc="upper left", fontsize=8)
    return ax


def plot_sobol(indices: pd.DataFrame, outcome: str, ax: Axes | None = None) -> Axes:
    """Sobol' first-order and total indices with 95% intervals, the 15 largest totals."""
    table = ranking(indices, outcome).head(15).iloc[::-1]
    ax = ax if ax is not None else plt.subplots(figsize=(7, 1.5 + 0.35 * len(table)))[1]
    y = np.arange(len(table))
    for offset, index, colour, hatch in ((-0.2, "S1", "0.35", ""), (0.2, "ST", "0.8", "//")):
        ax.barh(
            y + offset,
            table[index],
            height=0.4,
            xerr=np.nan_to_num(table[f"{index}_conf"]),
            color=colour,
            hatch=hatch,
            edgecolor="0.1",
            ecolor="0.1",
            label={"S1": "first order S1", "ST": "total ST"}[index],
        )
    ax.set_yticks(y, table.index, fontsize=8)
    ax.set_xlabel("share of the outcome's variance")
    ax.set_title(f"Sobol' indices: {outcome}")
    ax.legend(loc="lower right", fontsize=8)
    return ax


def _save(ax: Axes, path: Path) -> None:
    assert isinstance(ax.figure, Figure)
    save_figure(ax.figure, path)


@dataclass
class SensitivityReport:
    """What :func:`analyse` wrote."""

    folder: Path
    study: dict[str, Any]
    indices: pd.DataFrame
    outcomes: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """A few lines for the console: where the outputs are, the top parameters."""
        lines = [f"sensitivity ({self.study['method']}): {self.folder}"]
        for outcome in self.indices["outcome"].unique():
            top = ", ".join(ranking(self.indices, outcome).index[:3])
            lines.append(f"  {outcome}: {top}")
        return "\n".join(lines)


def _report(report: SensitivityReport) -> str:
    study, indices = report.study, report.indices
    morris = study["method"] == "morris"
    runs = int(report.outcomes.attrs.get("runs", 0))
    size = (
        f"{study['trajectories']} trajectories x ({len(study['parameters'])} parameters + 1)"
        if morris
        else f"{study['samples']} samples x ({len(study['parameters'])} parameters + 2)"
    )
    wall = study.get("wall_time_s")
    lines = [
        f"# Sensitivity study ({study['method']})",
        "",
        f"- Design: {size} = **{study['points']} design points**"
        f" (design seed {study['design_seed']}).",
        f"- Each point runs the scenarios {', '.join(study['scenario_labels'])} (the first is the"
        f" baseline) on seeds {', '.join(map(str, study['seeds']))}: **{runs} runs**"
        + (f", {wall:,.0f} s wall time for the last launch." if wall is not None else "."),
        "- Parameters and ranges: `study.json` (declared in `configs/uncertainty/default.yaml`);"
        " the values of each point: `design.csv`; the outcomes: `outcomes.csv`.",
        "",
        "## How to read it",
        "",
    ]
    if morris:
        lines += [
            "mu* is the mean absolute elementary effect: roughly how much the outcome changes when"
            " the parameter moves across its whole declared range (in the outcome's unit), with"
            " the half-width of its 95% bootstrap interval. sigma is the spread of the elementary"
            " effects: a sigma near or above mu* means the effect depends on where the other"
            " parameters are (interactions or non-linearity). mu (signed) near mu* means the"
            " parameter acts in one direction. Morris screens: it ranks parameters, it does not"
            " split the variance.",
        ]
    else:
        lines += [
            "S1 is the share of the outcome's variance over the declared ranges that the parameter"
            " explains alone; ST adds its interactions. ST near 0: the parameter can be fixed"
            " anywhere in its range. Intervals are 95% bootstrap intervals (half-widths).",
        ]
    lines += [
        "Seeds are shared by every design point (common random numbers); the remaining seed noise"
        " shows as small non-zero indices of parameters that do not act on the outcome.",
        "",
    ]
    for outcome in indices["outcome"].unique():
        scale, unit = unit_of(outcome)
        table = ranking(indices, outcome).head(TOP)
        mean = report.outcomes[outcome].mean()
        lines += [f"## {outcome}", "", f"Mean over the design: {scale * mean:.3g} ({unit}).", ""]
        if morris:
            lines += [
                f"| rank | parameter | mu* ({unit}) | ± | mu | sigma |",
                "|---|---|---|---|---|---|",
            ]
            lines += [
                f"| {i} | `{name}` | {scale * r['mu_star']:.3g} | {scale * r['mu_star_conf']:.2g}"
                f" | {scale * r['mu']:.3g} | {scale * r['sigma']:.3g} |"
                for i, (name, r) in enumerate(table.iterrows(), start=1)
            ]
        else:
            lines += ["| rank | parameter | S1 | ± | ST | ± |", "|---|---|---|---|---|---|"]
            lines += [
                f"| {i} | `{name}` | {r['S1']:.3f} | {r['S1_conf']:.3f} | {r['ST']:.3f}"
                f" | {r['ST_conf']:.3f} |"
                for i, (name, r) in enumerate(table.iterrows(), start=1)
            ]
        lines.append("")
    key = "mu_star" if morris else "ST"
    main = indices[indices["index"] == key]
    zero = sorted(set(main["parameter"]) - set(main.loc[main["value"] != 0, "parameter"]))
    lines += [
        "## Parameters with exactly zero effect on every outcome",
        "",
        ", ".join(f"`{p}`" for p in zero) if zero else "None.",
        "",
    ]
    if report.notes:
        lines += ["## Notes", "", *[f"- {note}" for note in report.notes], ""]
    return "\n".join(lines)


def analyse(sweep_dir: Path, plots: bool = True) -> SensitivityReport:
    """Compute the indices of a finished sensitivity study and write its outputs.

    Raises:
        StudyError: not a sensitivity study, or some of its runs did not finish.
    """
    study, table = read_study(Path(sweep_dir), NODE)
    names = [p["key"] for p in study["parameters"]]
    outcomes, notes = point_outcomes(table, study["outcomes"], study["scenario_labels"])
    outcomes.attrs["runs"] = int(table["run"].nunique())
    unit = np.asarray(study["unit"], dtype=float)
    if study["method"] == "morris":
        indices = morris_indices(unit, outcomes, names, study["levels"], study["design_seed"])
    else:
        indices = sobol_indices(outcomes, names, study["design_seed"])
    folder = Path(sweep_dir) / NODE
    atomic_write_text(folder / "outcomes.csv", outcomes.to_csv())
    atomic_write_text(folder / "indices.csv", indices.to_csv(index=False))
    report = SensitivityReport(folder, study, indices, outcomes, notes)
    atomic_write_text(folder / "report.md", _report(report))
    if plots:
        plot = plot_morris if study["method"] == "morris" else plot_sobol
        for outcome in indices["outcome"].unique():
            _save(plot(indices, outcome), folder / f"{study['method']}_{_slug(outcome)}")
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sim.studies.sensitivity SWEEP_DIR``: (re)build a study's indices and report."""
    return analysis_command("python -m sim.studies.sensitivity", __doc__, analyse, argv)


if __name__ == "__main__":
    sys.exit(main())
