"""Comparison report of a sweep: ``python -m sim.compare SWEEP_DIR [--baseline KEY=VALUE ...]``.

Reads a sweep folder's files only (never the model): the plan of the sweep (``sweep_plan.json``,
written by :class:`sim.cli.callbacks.SweepReport`), and of each run its overrides
(``.hydra/overrides.yaml``) and ``summary.json`` or ``error.json``. Writes into
``SWEEP_DIR/comparison/``:

- ``runs.csv``: one row per planned or found run: folder, status (``ok``, ``failed``,
  ``missing``), seed, the varying parameters, the summary metrics or the error;
- ``summary.csv``: one row per scenario (a scenario is a combination of the overrides other than
  ``seed``): the varying parameters, the number of seeds, and for each metric ``<metric>_mean``
  with its 95% interval ``<metric>_lo``/``<metric>_hi``, and the difference to the baseline
  scenario paired on seed, ``<metric>_diff`` with ``<metric>_diff_lo``/``<metric>_diff_hi``;
  then ``relapses_averted`` and ``cost_per_relapse_averted_yuan``;
- ``report.md``: how many runs were used, the failed and missing runs, the headline table;
- plots, each as PNG and SVG (see :mod:`sim.analysis.compare_plots`).

Intervals are Student-t 95% intervals of the mean over seeds: mean +- t(0.975, n-1) s / sqrt(n).
With one seed the interval is NaN (undefined), not zero. Seeds share their shocks (common random
numbers), so the difference of a scenario to its baseline is computed seed by seed; its interval
is usually much narrower than the one of the difference of two independent means.

The baseline is a setting of some varying parameters (``--baseline policy=none``); a scenario is
compared with the scenario that has the baseline setting and the same values of the other varying
parameters (so in an illness x disaster x policy grid, ``policy=all`` at each shock level is
compared with ``policy=none`` at that shock level). Without ``--baseline``: ``policy=none`` when
``policy`` varies and takes that value; otherwise the policy settings of the first scenario whose
runs enable no policy; otherwise the first scenario.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from scipy import stats

from sim.files import (
    COMPARISON_DIR,
    CONFIG_FILE,
    ERROR_FILE,
    OVERRIDES_FILE,
    PLAN_FILE,
    SUMMARY_FILE,
    atomic_write,
    atomic_write_text,
)

CONFIDENCE = 0.95
HEADLINE_METRICS = (
    "relapse_rate",
    "relapse_cumulative",
    "new_poverty_rate",
    "headcount_ratio_final",
    "relapses_total",
    "newly_poor_total",
    "cost_total_yuan",
)
NOT_METRICS = ("seed", "households", "years")
YEARLY_KEY = "relapse_rate_by_year"
COST_PREFIX = "cost_by_policy_yuan."


class CompareError(RuntimeError):
    """The sweep folder cannot be compared (no runs, no finished run, bad baseline)."""


def split_override(override: str) -> tuple[str, str]:
    """``"+a.b=1"`` -> ``("a.b", "1")``; the ``+``, ``++`` and ``~`` prefixes are dropped."""
    key, _, value = override.partition("=")
    return key.lstrip("+~"), value


def flatten(summary: dict[str, Any]) -> dict[str, float]:
    """The numeric figures of a run summary, nested objects as ``parent.child`` keys.

    The run's descriptors (seed, households, years) and the per-year relapse rates are left out.
    """
    flat: dict[str, float] = {}

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(f"{prefix}.{key}" if prefix else str(key), value)
        elif isinstance(node, int | float) and not isinstance(node, bool):
            flat[prefix] = float(node)

    walk("", {k: v for k, v in summary.items() if k not in (*NOT_METRICS, YEARLY_KEY)})
    return flat


def mean_interval(values: Iterable[float]) -> tuple[float, float, float, int]:
    """Mean, lower and upper bound of its 95% t-interval, and the number of values (NaN dropped).

    The bounds are NaN with fewer than two values; everything is NaN without values.
    """
    v = np.asarray([x for x in values if not math.isnan(x)], dtype=float)
    n = len(v)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(v.mean())
    if n < 2:
        return mean, math.nan, math.nan, n
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * v.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half, n


def _read_overrides(folder: Path) -> list[str]:
    loaded = yaml.safe_load((folder / OVERRIDES_FILE).read_text()) or []
    return [str(o) for o in loaded]


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


@dataclass
class Sweep:
    """What a sweep folder holds: its runs as a table, and the yearly relapse rates."""

    folder: Path
    runs: pd.DataFrame
    params: list[str]
    metrics: list[str]
    yearly: pd.DataFrame
    planned: int | None
    ignored: list[str] = field(default_factory=list)


def read_sweep(sweep_dir: Path) -> Sweep:
    """Read a sweep folder into a table of runs (one row per planned or found run).

    A run is ``ok`` when it has ``summary.json``, ``failed`` when it has ``error.json``, and
    ``missing`` when it was planned but has neither (never started, or interrupted).

    Raises:
        CompareError: the folder holds no run and no plan.
    """
    sweep_dir = Path(sweep_dir)
    plan = _read_json(sweep_dir / PLAN_FILE)
    planned: list[list[str]] | None = plan["runs"] if plan is not None else None
    found = {
        tuple(_read_overrides(f.parent.parent)): f.parent.parent
        for f in sorted(sweep_dir.rglob(str(OVERRIDES_FILE)))
        if COMPARISON_DIR not in f.relative_to(sweep_dir).parts
    }
    if planned is None:
        planned_keys = list(found)
        ignored: list[str] = []
    else:
        planned_keys = [tuple(p) for p in planned]
        ignored = sorted(
            str(folder.relative_to(sweep_dir))
            for key, folder in found.items()
            if key not in set(planned_keys)
        )
    if not planned_keys:
        raise CompareError(f"no runs in {sweep_dir}: neither {PLAN_FILE} nor run folders")

    rows: list[dict[str, Any]] = []
    yearly_rows: list[dict[str, Any]] = []
    for job, overrides in enumerate(planned_keys):
        folder = found.get(overrides)
        row: dict[str, Any] = {"job": job, "folder": "", "status": "missing"}
        row.update(dict(split_override(o) for o in overrides))
        row["overrides"] = " ".join(overrides)
        if folder is not None:
            row["folder"] = str(folder.relative_to(sweep_dir))
            summary = _read_json(folder / SUMMARY_FILE)
            error = _read_json(folder / ERROR_FILE)
            if summary is not None:
                row["status"] = "ok"
                row["seed"] = summary.get("seed", row.get("seed"))
                row.update(flatten(summary))
                yearly_rows += [
                    {"job": job, "year": int(year), "relapse_rate": float(rate)}
                    for year, rate in summary.get(YEARLY_KEY, {}).items()
                ]
            elif error is not None:
                row["status"] = "failed"
                row["error"] = f"{error.get('type', 'Error')}: {error.get('message', '')}"
        rows.append(row)

    runs = pd.DataFrame(rows)
    runs["seed"] = pd.to_numeric(runs["seed"], errors="coerce") if "seed" in runs else math.nan
    override_keys = list(dict.fromkeys(split_override(o)[0] for key in planned_keys for o in key))
    params = [k for k in override_keys if k != "seed" and runs[k].nunique(dropna=False) > 1]
    for param in params:
        numeric = pd.to_numeric(runs[param], errors="coerce")
        if numeric.notna().all():
            runs[param] = numeric
    runs.insert(
        1, "scenario", [scenario_label(values) for values in runs[params].to_dict("records")]
    )
    metrics = _metric_columns(runs, set(override_keys))
    ok = runs["status"] == "ok"
    for metric in metrics:
        if metric.startswith(COST_PREFIX):
            # A policy that is not enabled spends nothing; its cost is absent from the summary.
            runs.loc[ok, metric] = runs.loc[ok, metric].fillna(0.0)
    runs = runs.drop(columns=[k for k in override_keys if k not in params and k != "seed"])
    yearly = pd.DataFrame(yearly_rows, columns=["job", "year", "relapse_rate"])
    return Sweep(
        folder=sweep_dir,
        runs=runs,
        params=params,
        metrics=metrics,
        yearly=yearly,
        planned=None if planned is None else len(planned),
        ignored=ignored,
    )


def _metric_columns(runs: pd.DataFrame, override_keys: set[str]) -> list[str]:
    bookkeeping = {"job", "scenario", "folder", "status", "overrides", "error", *override_keys}
    found = [c for c in runs.columns if c not in bookkeeping]
    return [m for m in HEADLINE_METRICS if m in found] + [
        m for m in found if m not in HEADLINE_METRICS
    ]


def _text(value: Any) -> str:
    """A parameter value as text: numbers without trailing zeros (``0.10`` and ``0.1`` agree)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return str(int(number)) if number.is_integer() else repr(number)


def scenario_label(values: dict[str, Any]) -> str:
    """``"policy=all, shocks.hospitalisation_rate=0.2"``; ``"all runs"`` when nothing varies."""
    return ", ".join(f"{k}={_text(v)}" for k, v in values.items()) or "all runs"


def parse_baseline(items: Sequence[str]) -> dict[str, str]:
    """``["policy=none"]`` -> ``{"policy": "none"}``.

    Raises:
        CompareError: an item is not ``KEY=VALUE``.
    """
    spec: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CompareError(f"--baseline takes KEY=VALUE, got {item!r}")
        spec[key.lstrip("+~")] = value
    return spec


def _enables_no_policy(sweep: Sweep, scenario: str) -> bool:
    """Whether the composed config of the scenario's first run enables no policy."""
    runs = sweep.runs[(sweep.runs["scenario"] == scenario) & (sweep.runs["folder"] != "")]
    for folder in runs["folder"]:
        path = sweep.folder / folder / CONFIG_FILE
        if path.exists():
            policies = (yaml.safe_load(path.read_text()) or {}).get("policies") or {}
            return not any(bool(node.get("enabled")) for node in policies.values())
    return False


def default_baseline(sweep: Sweep, scenarios: pd.DataFrame) -> dict[str, Any]:
    """The baseline setting used when none is given (see the module docstring)."""
    if "policy" in sweep.params and (sweep.runs["policy"].astype(str) == "none").any():
        return {"policy": "none"}
    policy_params = [p for p in sweep.params if p == "policy" or p.startswith("policies.")]
    if policy_params:
        for _, row in scenarios.iterrows():
            if _enables_no_policy(sweep, row["scenario"]):
                return {p: row[p] for p in policy_params}
    return {p: scenarios.iloc[0][p] for p in sweep.params}


def baselines(scenarios: pd.DataFrame, params: list[str], spec: dict[str, Any]) -> list[str | None]:
    """For each scenario, the label of the scenario it is compared with (None: not in the sweep).

    That is the scenario with the values of ``spec`` and the scenario's own other values.
    """
    by_values = {
        tuple(_text(row[p]) for p in params): row["scenario"] for _, row in scenarios.iterrows()
    }
    return [
        by_values.get(tuple(_text(spec[p] if p in spec else row[p]) for p in params))
        for _, row in scenarios.iterrows()
    ]


def summarize_sweep(sweep: Sweep, baseline: Sequence[str] = ()) -> pd.DataFrame:
    """One row per scenario: parameters, seeds, means, intervals and paired differences.

    Args:
        sweep: the sweep read by :func:`read_sweep`.
        baseline: ``KEY=VALUE`` settings of varying parameters that define the baseline.

    Raises:
        CompareError: no run finished, or ``baseline`` names a parameter that does not vary or
            a setting no scenario has.
    """
    ok = sweep.runs[sweep.runs["status"] == "ok"]
    if ok.empty:
        raise CompareError(f"no finished run in {sweep.folder}")
    scenarios = sweep.runs[["scenario", *sweep.params]].drop_duplicates("scenario")
    scenarios = scenarios.reset_index(drop=True)
    spec: dict[str, Any] = parse_baseline(baseline)
    unknown = [k for k in spec if k not in sweep.params]
    if unknown:
        varying = ", ".join(sweep.params) or "none"
        raise CompareError(f"--baseline {unknown[0]}: not a varying parameter (varying: {varying})")
    spec = spec or default_baseline(sweep, scenarios)
    scenarios["baseline"] = baselines(scenarios, sweep.params, spec)
    scenarios["is_baseline"] = scenarios["baseline"] == scenarios["scenario"]
    if not scenarios["is_baseline"].any():
        raise CompareError(f"no scenario has the baseline setting {scenario_label(spec)}")

    counts = pd.crosstab(sweep.runs["scenario"], sweep.runs["status"])
    rows = []
    for _, scenario in scenarios.iterrows():
        runs = ok[ok["scenario"] == scenario["scenario"]]
        base = ok[ok["scenario"] == scenario["baseline"]]
        paired = runs.merge(base, on="seed", suffixes=("", "_base"))
        status = counts.loc[scenario["scenario"]]
        row: dict[str, Any] = {
            "n_seeds": len(runs),
            "n_failed": int(status.get("failed", 0)),
            "n_missing": int(status.get("missing", 0)),
            "n_pairs": len(paired),
        }
        for metric in sweep.metrics:
            mean, lo, hi, _ = mean_interval(runs[metric])
            diff, diff_lo, diff_hi, _ = mean_interval(paired[metric] - paired[f"{metric}_base"])
            row |= {
                f"{metric}_mean": mean,
                f"{metric}_lo": lo,
                f"{metric}_hi": hi,
                f"{metric}_diff": diff,
                f"{metric}_diff_lo": diff_lo,
                f"{metric}_diff_hi": diff_hi,
            }
        rows.append(row)
    table = pd.concat([scenarios, pd.DataFrame(rows)], axis=1)
    table.attrs["baseline"] = scenario_label(spec)
    if "relapses_total_diff" in table and "cost_total_yuan_diff" in table:
        table["relapses_averted"] = -table["relapses_total_diff"]
        table["cost_per_relapse_averted_yuan"] = (
            table["cost_total_yuan_diff"] / table["relapses_averted"]
        ).where(table["relapses_averted"] > 0)
    return table


def yearly_by_scenario(sweep: Sweep) -> pd.DataFrame:
    """Relapse rate per scenario and year: mean over seeds, its 95% interval and ``n``."""
    columns = ["scenario", "year", "mean", "lo", "hi", "n"]
    if sweep.yearly.empty:
        return pd.DataFrame(columns=columns)
    scenario_of_job = sweep.runs.set_index("job")["scenario"]
    yearly = sweep.yearly.assign(scenario=scenario_of_job.loc[sweep.yearly["job"]].to_numpy())
    rows = [
        (scenario, year, *mean_interval(group["relapse_rate"]))
        for (scenario, year), group in yearly.groupby(["scenario", "year"], sort=False)
    ]
    return pd.DataFrame(rows, columns=columns)


def _interval(mean: float, lo: float, hi: float, *, scale: float = 1.0, digits: int = 2) -> str:
    if math.isnan(mean):
        return "n/a"
    text = f"{scale * mean:,.{digits}f}"
    if not math.isnan(lo):
        text += f" [{scale * lo:,.{digits}f}, {scale * hi:,.{digits}f}]"
    return text


def _headline_table(summary: pd.DataFrame) -> list[str]:
    lines = [
        "| scenario | seeds | relapse rate, % a year [95% CI] | difference to baseline, "
        "percentage points [95% CI, paired] | policy cost, million yuan | relapses averted "
        "(households) | yuan per relapse averted |",
        "|---|---|---|---|---|---|---|",
    ]
    for _, row in summary.iterrows():
        rate = [row[f"relapse_rate_{part}"] for part in ("mean", "lo", "hi")]
        diff = [row[f"relapse_rate_diff{part}"] for part in ("", "_lo", "_hi")]
        cost = row.get("cost_total_yuan_mean", math.nan)
        averted = row.get("relapses_averted", math.nan)
        per_relapse = row.get("cost_per_relapse_averted_yuan", math.nan)
        if row["is_baseline"]:
            name, difference, averted_text = f"**{row['scenario']}** (baseline)", "—", "—"
        else:
            name, difference = row["scenario"], _interval(*diff, scale=100)
            averted_text = _interval(averted, math.nan, math.nan, digits=1)
        cells = [
            name,
            str(row["n_seeds"]),
            _interval(*rate, scale=100),
            difference,
            _interval(cost, math.nan, math.nan, scale=1e-6),
            averted_text,
            _interval(per_relapse, math.nan, math.nan, digits=0),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


@dataclass
class Report:
    """What :func:`build_report` wrote and how many runs it used."""

    folder: Path
    used: int
    planned: int | None
    failed: pd.DataFrame
    missing: pd.DataFrame
    files: list[Path]

    def describe(self) -> str:
        """One line: runs used, failed and missing, and where the report is."""
        of = f" of {self.planned} planned" if self.planned is not None else ""
        return (
            f"comparison of {self.used} runs{of} ({len(self.failed)} failed, "
            f"{len(self.missing)} missing): {self.folder / 'report.md'}"
        )


def build_report(sweep_dir: Path, baseline: Sequence[str] = (), plots: bool = True) -> Report:
    """Write ``comparison/`` (tables, report, plots) for the sweep in ``sweep_dir``.

    A sweep without any finished run still gets ``runs.csv`` and ``report.md`` (which list the
    failures), but no ``summary.csv`` and no plots.

    Raises:
        CompareError: the folder holds no run, or ``baseline`` is not a setting of the sweep.
    """
    sweep = read_sweep(Path(sweep_dir))
    out = sweep.folder / COMPARISON_DIR
    out.mkdir(exist_ok=True)
    runs = sweep.runs
    ok, failed, missing = (runs[runs["status"] == s] for s in ("ok", "failed", "missing"))
    summary = summarize_sweep(sweep, baseline) if len(ok) else None
    files = [out / "runs.csv"]
    atomic_write(files[0], lambda tmp: runs.to_csv(tmp, index=False))
    if summary is not None:
        files.append(out / "summary.csv")
        atomic_write(files[-1], lambda tmp: summary.to_csv(tmp, index=False))
        if plots:
            from sim.analysis.compare_plots import write_plots

            files += write_plots(
                out, summary, yearly_by_scenario(sweep), sweep.params, atomic_write
            )
    planned = "" if sweep.planned is None else f" of {sweep.planned} planned"
    lines = [
        f"# Comparison of the sweep `{sweep.folder.name}`",
        "",
        f"Runs used: **{len(ok)}**{planned} ({len(failed)} failed, {len(missing)} missing).",
    ]
    if sweep.planned is None:
        lines.append(f"No `{PLAN_FILE}`: missing runs cannot be told; all run folders are used.")
    if sweep.ignored:
        lines.append(f"Ignored {len(sweep.ignored)} run folders that are not in the sweep's plan.")
    if summary is not None:
        baseline_text = summary.attrs["baseline"]
        if summary["is_baseline"].sum() > 1:
            baseline_text += " with the same values of the other parameters"
        lines += [
            f"Scenarios: {len(summary)}; varying parameters: {', '.join(sweep.params) or 'none'}; "
            f"baseline: {baseline_text}.",
            "",
            "Means over seeds with 95% t-intervals (n/a with one seed). Differences to the "
            "baseline are paired on seed (same seed, same shocks). Full table: `summary.csv`; one "
            "row per run: `runs.csv`.",
            "",
            *_headline_table(summary),
        ]
    for title, table in (("Failed runs", failed), ("Missing runs", missing)):
        if len(table):
            lines += ["", f"## {title}", ""]
            for _, run in table.iterrows():
                where = f"`{run['folder']}`" if run["folder"] else "no folder"
                detail = f": {run['error']}" if title == "Failed runs" else ""
                lines.append(f"- job {run['job']} ({run['overrides']}), {where}{detail}")
    if len(files) > 2:
        lines += ["", "## Files", "", *(f"- `{f.name}`" for f in files)]
    files.append(out / "report.md")
    atomic_write_text(files[-1], "\n".join(lines) + "\n")
    return Report(out, len(ok), sweep.planned, failed, missing, files)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line of ``python -m sim.compare``; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m sim.compare",
        description="(Re)build the comparison report of a sweep folder into SWEEP_DIR/comparison/.",
    )
    parser.add_argument("sweep_dir", type=Path, metavar="SWEEP_DIR")
    parser.add_argument(
        "--baseline",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="setting of a varying parameter that defines the baseline (repeatable); "
        "default: policy=none, or the first scenario without policies, or the first scenario",
    )
    parser.add_argument("--no-plots", action="store_true", help="write the tables only")
    args = parser.parse_args(argv)
    if not args.sweep_dir.is_dir():
        print(f"error: {args.sweep_dir} is not a folder", file=sys.stderr)
        return 2
    try:
        report = build_report(args.sweep_dir, args.baseline, plots=not args.no_plots)
    except CompareError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report.describe())
    return 0 if report.used else 1


if __name__ == "__main__":
    sys.exit(main())
