"""Comparison report of a sweep: ``python -m sim.compare SWEEP_DIR [--baseline KEY=VALUE ...]``.

Reads a sweep folder's files only (never the model): the plan of the sweep (``sweep_plan.json``,
written by :class:`sim.cli.callbacks.SweepReport`), and of each run its overrides
(``.hydra/overrides.yaml``) and ``summary.json`` or ``error.json``. Every file is checked before
use (:mod:`sim.analysis.validate`: file type, size cap, UTF-8, schema); a file that fails is not
used, and named with the reason in ``report.md`` and counted in the console line.

Output: ``SWEEP_DIR/comparison/``, or ``SWEEP_DIR/comparison-<baseline>/`` when ``--baseline`` is
given (e.g. ``comparison-policy=safety_net/``), so that another baseline never overwrites the
default report:

- ``runs.csv``: one row per planned or found run: folder, status, seed, the varying parameters,
  the summary metrics, or the reason it was not used. Status ``ok`` (a valid ``summary.json``),
  ``failed`` (``error.json`` instead), ``invalid`` (a ``summary.json`` that fails its checks, or a
  second run of the same scenario and seed), ``missing`` (planned, but no folder, or a folder with
  neither file: never started or interrupted);
- ``summary.csv``: one row per scenario (a combination of the overrides other than ``seed``): the
  varying parameters, its baseline scenario, ``n_seeds`` (valid runs only), ``n_failed``,
  ``n_missing``, ``n_invalid``, ``n_pairs`` (seeds shared with the baseline), and for each metric
  ``<metric>_mean`` with its 95% interval ``<metric>_lo``/``<metric>_hi`` and the paired difference
  to the baseline ``<metric>_diff`` with ``<metric>_diff_lo``/``<metric>_diff_hi``; then
  ``relapse_events_averted`` (= minus the paired difference of ``relapses_total``: falls of
  initially lifted households below the line at the December assessments of the run, so a
  household that recovers and falls again counts twice) with its interval, and
  ``cost_per_relapse_event_averted_yuan`` (mean additional cost / mean events averted, where
  events are averted);
- ``report.md``: runs used, warnings (fewer than 5 seeds), the sweep's command and fixed overrides,
  the headline table, the plots, and every failed, missing, invalid run and skipped file;
- plots, each as PNG and SVG (:mod:`sim.analysis.compare_plots`); the first is the paired
  difference of the relapse rate of each scenario to its baseline.

Statistics (:mod:`sim.analysis.stats`), for each scenario and metric:

- **Mean and interval**: over the scenario's ``n`` valid runs that have the metric, the mean and
  the Student-t 95% interval ``mean +- t(0.975, n-1) s / sqrt(n)`` (``s`` the standard deviation
  with ``n-1`` in the denominator); NaN (undefined, not zero) with one run.
- **Bounded metrics**: the interval is cut to the metric's range
  (:func:`sim.analysis.validate.metric_bounds`): [0, 1] for rates and shares (``relapse_rate``,
  ``relapse_cumulative``, ``new_poverty_rate``, ``headcount_ratio_final``, the members of
  ``relapse_cause_shares``, any ``*_rate`` or ``*_share``), [0, inf) for the summary's counts and
  amounts in yuan (``relapses_total``, ``newly_poor_total``, ``cost_total_yuan`` and the members
  of ``relapses_by_cause`` and ``cost_by_policy_yuan``). The true mean lies in that range, so the
  cut interval covers it whenever the uncut one does: the coverage stays 95%.
- **Paired difference to the baseline**: seeds share their shocks (common random numbers), so
  ``d_s = x_s - b_s`` is taken for each seed ``s`` with a valid run in both the scenario and its
  baseline (the seed that ``summary.json`` records: a sweep without ``seed`` among its overrides
  pairs its runs on their common seed), and ``<metric>_diff`` is the mean of the ``n_pairs``
  values ``d_s`` with their t-interval (not cut). It is usually much narrower than the interval
  of the difference of two independent means.
- ``relapse_events_averted`` is ``-relapses_total_diff`` (interval: the negated bounds);
  ``cost_per_relapse_event_averted_yuan`` is ``cost_total_yuan_diff / relapse_events_averted``
  where events are averted (a ratio of means, without interval).
- The relapse rate per year: mean and interval per scenario and year as above, cut to [0, 1].
- ``report.md`` warns in one line when a scenario has fewer than 5 valid seeds.

The baseline is a setting of some varying parameters (``--baseline policy=none``); a scenario is
compared with the scenario that has the baseline setting and the same values of the other varying
parameters (so in an illness x disaster x policy grid, ``policy=all`` at each shock level is
compared with ``policy=none`` at that shock level). Without ``--baseline``: ``policy=none`` when
``policy`` varies and takes that value; otherwise the policy settings of the first scenario whose
runs enable no policy; otherwise the first scenario with a valid run.

Exit status of ``python -m sim.compare``: 0 when every run was used and no file skipped; 1 when
the report was written but some run failed, is missing or invalid, or some file or folder was
skipped; 2 when no report can be written (not a sweep folder, several sweeps in one folder, a bad
``--baseline``, ``comparison`` not a folder, an unwritable folder).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shlex
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd

from sim.analysis.stats import FEW_SEEDS, grouped_intervals, t_factor
from sim.analysis.validate import (
    SIZE_CAPS,
    Refused,
    check_error,
    check_mapping,
    check_overrides,
    check_plan,
    check_summary,
    metric_bounds,
    parse_json,
    parse_yaml,
    read_bytes,
)
from sim.files import (
    COMPARISON_DIR,
    CONFIG_FILE,
    ERROR_FILE,
    OVERRIDES_FILE,
    PLAN_FILE,
    PROGRESS_DIR,
    SUMMARY_FILE,
    atomic_write,
    atomic_write_text,
)

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
MULTIRUN_FILE = "multirun.yaml"
NOT_RUN_FOLDERS = (PROGRESS_DIR, ".submitit")
JOB_NUM = "${hydra.job.num}"
STATUSES = ("ok", "failed", "missing", "invalid")


class CompareError(RuntimeError):
    """No report can be written (no runs, several sweeps, bad baseline, unwritable output)."""


SEED_NOISE_ONLY = (
    "Intervals cover seed noise only: every parameter at its configured value; the declared"
    " parameter uncertainty (docs/uncertainty.md) is not in them."
)


def split_override(override: str) -> tuple[str, str]:
    """``"+a.b=1"`` -> ``("a.b", "1")``; the ``+``, ``++`` and ``~`` prefixes are dropped."""
    key, _, value = override.partition("=")
    return key.lstrip("+~"), value


def flatten(summary: dict[str, Any]) -> dict[str, float]:
    """The numeric figures of a run summary, nested objects as ``parent.child`` keys.

    The run's descriptors (seed, households, years), booleans and the per-year relapse rates are
    left out.
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


def _natural(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key of a folder name: ``2`` before ``10``."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", name) if p)


class _Reader:
    """Reads and checks the files of one sweep folder, keeping the list of what it refused."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.root = folder.resolve()
        self.skipped: list[tuple[str, str]] = []

    def where(self, path: Path) -> str:
        """``path`` relative to the sweep folder, as the report names it."""
        return os.path.relpath(path, self.folder)

    def skip(self, path: Path, reason: str) -> None:
        self.skipped.append((self.where(path), reason))

    def read(self, path: Path, parse: Callable[[bytes], Any], check: Callable[[Any], Any]) -> Any:
        """The checked content of ``path``; None when absent or refused (then recorded)."""
        try:
            data = read_bytes(path, self.root, SIZE_CAPS[path.name])
            return None if data is None else check(parse(data))
        except Refused as refused:
            self.skip(path, str(refused))
            raise


def _read_or_none(reader: _Reader, path: Path, parse: Callable, check: Callable) -> Any:
    try:
        return reader.read(path, parse, check)
    except Refused:
        return None


@dataclass
class Sweep:
    """What a sweep folder holds: its runs as a table, and the yearly relapse rates.

    Attributes:
        folder: the sweep folder.
        runs: one row per planned or found run (see the module docstring, ``runs.csv``).
        params: the varying parameters (override keys other than ``seed``).
        metrics: the metric columns of ``runs``.
        yearly: rows of job, year and relapse rate of the valid runs.
        planned: the number of planned runs; None without a (valid) plan.
        skipped: ``(path, reason)`` of every file or folder not used.
        command: the sweep's command line, when the plan records it.
        fixed: the overrides every run shares (from the plan when it records them).
        fixed_recorded: whether ``fixed`` comes from the plan.
    """

    folder: Path
    runs: pd.DataFrame
    params: list[str]
    metrics: list[str]
    yearly: pd.DataFrame
    planned: int | None
    skipped: list[tuple[str, str]] = field(default_factory=list)
    command: list[str] | None = None
    fixed: list[str] = field(default_factory=list)
    fixed_recorded: bool = False
    reader: _Reader | None = field(default=None, repr=False)


def _find_run_folders(reader: _Reader) -> tuple[list[Path], list[str]]:
    """Run folders (a ``.hydra`` folder, a summary or an error inside) and nested sweep folders.

    Links to folders are not followed: each is named as skipped. The comparison folders, the
    progress markers and the submitit logs are not searched.
    """
    root = reader.folder
    runs: list[Path] = []
    nested: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        if here != root and PLAN_FILE in filenames:
            nested.append(reader.where(here))
            dirnames.clear()
            continue
        if ".hydra" in dirnames or SUMMARY_FILE in filenames or ERROR_FILE in filenames:
            runs.append(here)
            dirnames.clear()
            continue
        kept = []
        for name in sorted(dirnames, key=_natural):
            path = here / name
            if here == root and (name in NOT_RUN_FOLDERS or _is_comparison(name)):
                continue
            if path.is_symlink():
                target = path.resolve()
                inside = target.is_relative_to(reader.root)
                reader.skip(
                    path,
                    f"a link to {'a folder inside' if inside else target}"
                    f"{'' if inside else ', outside the sweep folder'}: not followed",
                )
                continue
            kept.append(name)
        dirnames[:] = kept
    return sorted(runs, key=lambda p: _natural(reader.where(p))), nested


def _is_comparison(name: str) -> bool:
    return name == COMPARISON_DIR or name.startswith(f"{COMPARISON_DIR}-")


def _escaped_runs(reader: _Reader, jobs: Sequence[int]) -> None:
    """Name the run folders that ``hydra.sweep.subdir`` put outside the sweep folder."""
    multirun = _read_or_none(reader, reader.folder / MULTIRUN_FILE, parse_yaml, check_mapping)
    sweep = ((multirun or {}).get("hydra") or {}).get("sweep") or {}
    subdir = sweep.get("subdir") if isinstance(sweep, dict) else None
    if not isinstance(subdir, str):
        return
    for job in jobs:
        path = Path(os.path.normpath(reader.folder / subdir.replace(JOB_NUM, str(job))))
        if "${" not in str(path) and not path.resolve().is_relative_to(reader.root):
            if os.path.lexists(path):
                reader.skip(
                    path,
                    f"run folder of job {job}, outside the sweep folder "
                    f"(hydra.sweep.subdir={subdir}): not read",
                )


def _match_plan(
    reader: _Reader, planned: list[tuple[str, ...]], found: dict[Path, tuple[str, ...]]
) -> list[Path | None]:
    """The folder of each planned run; folders left over are named as skipped."""
    by_overrides: dict[tuple[str, ...], list[Path]] = {}
    for folder, overrides in found.items():
        by_overrides.setdefault(overrides, []).append(folder)
    folders: list[Path | None] = []
    for job, overrides in enumerate(planned):
        candidates = by_overrides.get(overrides, [])
        own = [f for f in candidates if reader.where(f) == str(job)]
        chosen = (own or candidates)[0] if candidates else None
        if chosen is not None:
            candidates.remove(chosen)
        folders.append(chosen)
    used = {f: job for job, f in enumerate(folders) if f is not None}
    first_job = {overrides: job for job, overrides in reversed(list(enumerate(planned)))}
    for folder, overrides in found.items():
        if folder in used:
            continue
        if overrides in first_job:
            job = first_job[overrides]
            twin = folders[job]
            reason = f"same overrides as job {job}" + (
                f" (folder {reader.where(twin)})" if twin is not None else ""
            )
        else:
            reason = "not in the sweep's plan"
        reader.skip(folder, f"{reason}: not used")
    return folders


def _run_row(reader: _Reader, job: int, overrides: tuple[str, ...], folder: Path | None) -> dict:
    """One row of ``runs.csv`` (and the run's yearly relapse rates under ``"_yearly"``)."""
    row: dict[str, Any] = {"job": job, "folder": "", "status": "missing"}
    row.update(dict(split_override(o) for o in overrides))
    row["overrides"] = " ".join(overrides)
    if folder is None:
        return row
    row["folder"] = reader.where(folder)
    try:
        summary = reader.read(folder / SUMMARY_FILE, parse_json, check_summary)
    except Refused as refused:
        row |= {"status": "invalid", "error": f"{SUMMARY_FILE}: {refused}"}
        return row
    if summary is not None:
        row |= {"status": "ok", "seed": summary["seed"], **flatten(summary)}
        row["_yearly"] = summary[YEARLY_KEY]
        return row
    try:
        error = reader.read(folder / ERROR_FILE, parse_json, check_error)
    except Refused as refused:
        row |= {"status": "failed", "error": f"{ERROR_FILE} not readable: {refused}"}
        return row
    if error is not None:
        row |= {
            "status": "failed",
            "error": f"{error.get('type', 'Error')}: {error.get('message', '')}",
        }
    return row


def read_sweep(sweep_dir: Path) -> Sweep:
    """Read a sweep folder into a table of runs (one row per planned or found run).

    With a valid ``sweep_plan.json``, the runs are the planned ones, matched to folders by their
    overrides; folders outside the plan (or a second folder with a planned run's overrides) are
    skipped and named. Without a plan, every run folder found is a run (a second folder with the
    same overrides is skipped).

    Raises:
        CompareError: the folder holds no run and no plan, or several sweeps and no plan of its
            own.
    """
    reader = _Reader(Path(sweep_dir))
    plan = _read_or_none(reader, reader.folder / PLAN_FILE, parse_json, check_plan)
    folders, nested = _find_run_folders(reader)
    if nested and plan is None:
        names = ", ".join(nested[:4]) + (", ..." if len(nested) > 4 else "")
        raise CompareError(
            f"{reader.folder} holds {len(nested)} sweeps, not one ({names}): compare each of them"
        )
    for name in nested:
        reader.skip(reader.folder / name, f"another sweep (its own {PLAN_FILE}): not read")
    found: dict[Path, tuple[str, ...]] = {}
    for folder in folders:
        path = folder / OVERRIDES_FILE
        try:
            overrides = reader.read(path, parse_yaml, check_overrides)
        except Refused:
            continue
        if overrides is None:
            reader.skip(folder, f"no {OVERRIDES_FILE}: its scenario is unknown; not used")
        else:
            found[folder] = tuple(overrides)

    if plan is not None:
        planned_keys = [tuple(run) for run in plan["runs"]]
        run_folders = _match_plan(reader, planned_keys, found)
        _escaped_runs(reader, [job for job, f in enumerate(run_folders) if f is None])
    else:
        first: dict[tuple[str, ...], Path] = {}
        for folder, overrides in found.items():
            if overrides in first:
                twin = reader.where(first[overrides])
                reader.skip(folder, f"same overrides as folder {twin}: not used")
            else:
                first[overrides] = folder
        planned_keys = list(first)
        run_folders = list[Path | None](first.values())
    if not planned_keys:
        raise CompareError(f"no runs in {reader.folder}: neither {PLAN_FILE} nor run folders")

    rows = [
        _run_row(reader, job, overrides, folder)
        for job, (overrides, folder) in enumerate(zip(planned_keys, run_folders, strict=True))
    ]
    yearly = pd.DataFrame(
        [
            {"job": row["job"], "year": int(year), "relapse_rate": float(rate)}
            for row in rows
            for year, rate in row.pop("_yearly", {}).items()
        ],
        columns=["job", "year", "relapse_rate"],
    )
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
    _mark_repeated_seeds(runs)
    metrics = _metric_columns(runs, set(override_keys))
    ok = runs["status"] == "ok"
    for metric in metrics:
        if metric.startswith(COST_PREFIX):
            # A policy that is not enabled spends nothing; its cost is absent from the summary.
            runs.loc[ok, metric] = runs.loc[ok, metric].fillna(0.0)
    runs = runs.drop(columns=[k for k in override_keys if k not in params and k != "seed"])
    shared = [o for o in planned_keys[0] if all(o in key for key in planned_keys[1:])]
    recorded = plan is not None and "fixed" in plan
    return Sweep(
        folder=reader.folder,
        runs=runs,
        params=params,
        metrics=metrics,
        yearly=yearly[yearly["job"].isin(runs.loc[runs["status"] == "ok", "job"])],
        planned=None if plan is None else len(plan["runs"]),
        skipped=reader.skipped,
        command=None if plan is None else plan.get("command"),
        fixed=list(plan["fixed"]) if recorded else shared,
        fixed_recorded=recorded,
        reader=reader,
    )


def _mark_repeated_seeds(runs: pd.DataFrame) -> None:
    """A second valid run of the same scenario and seed is ``invalid`` (pairing needs one)."""
    ok = runs[runs["status"] == "ok"]
    repeated = ok[ok.duplicated(["scenario", "seed"])]
    first = ok.drop_duplicates(["scenario", "seed"]).set_index(["scenario", "seed"])["job"]
    for index, run in repeated.iterrows():
        runs.loc[index, "status"] = "invalid"
        twin = first[(run["scenario"], run["seed"])]
        runs.loc[index, "error"] = f"same scenario and seed ({run['seed']:g}) as job {twin}"


def _metric_columns(runs: pd.DataFrame, override_keys: set[str]) -> list[str]:
    bookkeeping = {"job", "scenario", "folder", "status", "overrides", "error", "seed"}
    found = [c for c in runs.columns if c not in bookkeeping | override_keys]
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


def output_folder(sweep_dir: Path, baseline: Sequence[str] = ()) -> Path:
    """``comparison/`` without a chosen baseline, else ``comparison-<KEY=VALUE,...>/``.

    Characters other than letters, digits and ``._=,+-`` become ``_``.
    """
    if not baseline:
        return Path(sweep_dir) / COMPARISON_DIR
    name = re.sub(r"[^A-Za-z0-9._=,+-]", "_", ",".join(baseline))[:120]
    return Path(sweep_dir) / f"{COMPARISON_DIR}-{name}"


def _enables_no_policy(sweep: Sweep, scenario: str) -> bool:
    """Whether the composed config of the scenario's first run enables no policy."""
    if sweep.reader is None:
        return False
    runs = sweep.runs[(sweep.runs["scenario"] == scenario) & (sweep.runs["folder"] != "")]
    for folder in runs["folder"]:
        config = _read_or_none(
            sweep.reader, sweep.folder / folder / CONFIG_FILE, parse_yaml, check_mapping
        )
        if config is not None:
            policies = config.get("policies")
            if not isinstance(policies, dict):
                return False
            return not any(
                isinstance(node, dict) and bool(node.get("enabled")) for node in policies.values()
            )
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
    valid = set(sweep.runs.loc[sweep.runs["status"] == "ok", "scenario"])
    first = next((row for _, row in scenarios.iterrows() if row["scenario"] in valid))
    return {p: first[p] for p in sweep.params}


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

    metrics = sweep.metrics
    order = scenarios["scenario"]
    means = grouped_intervals(ok, "scenario", metrics, {m: metric_bounds(m) for m in metrics})
    base_of = dict(zip(scenarios["scenario"], scenarios["baseline"], strict=True))
    values = ok[["scenario", "seed", *metrics]]
    paired = values.assign(_baseline=values["scenario"].map(base_of)).merge(
        values.rename(columns={"scenario": "_baseline"}),
        on=["_baseline", "seed"],
        suffixes=("", "_b"),
    )
    differences = pd.DataFrame(
        paired[metrics].to_numpy(dtype=float)
        - paired[[f"{m}_b" for m in metrics]].to_numpy(dtype=float),
        columns=metrics,
    ).assign(scenario=paired["scenario"].to_numpy())
    diffs = grouped_intervals(differences, "scenario", metrics)

    keys = order.to_numpy()
    counts = pd.crosstab(sweep.runs["scenario"], sweep.runs["status"])
    columns: dict[str, Any] = {
        "n_seeds": ok.groupby("scenario").size().reindex(keys).to_numpy(),
        **{
            f"n_{status}": counts[status].reindex(keys).to_numpy() if status in counts else 0
            for status in ("failed", "missing", "invalid")
        },
        "n_pairs": differences.groupby("scenario").size().reindex(keys).to_numpy(),
    }
    ordered = {
        (part, edge): frame.reindex(keys)
        for part, tables in (("mean", means), ("diff", diffs))
        for edge, frame in tables.items()
    }
    for metric in metrics:
        for part in ("mean", "diff"):
            name = metric if part == "mean" else f"{metric}_diff"
            columns[f"{name}_mean" if part == "mean" else name] = ordered[part, "mean"][metric]
            columns[f"{name}_lo"] = ordered[part, "lo"][metric]
            columns[f"{name}_hi"] = ordered[part, "hi"][metric]
    table = pd.DataFrame({k: getattr(v, "values", v) for k, v in columns.items()})
    for name in ("n_seeds", "n_failed", "n_missing", "n_invalid", "n_pairs"):
        table[name] = table[name].fillna(0).astype(int)
    table = pd.concat([scenarios, table.reset_index(drop=True)], axis=1)
    table.attrs["baseline"] = scenario_label(spec)
    if "relapses_total_diff" in table and "cost_total_yuan_diff" in table:
        table["relapse_events_averted"] = -table["relapses_total_diff"]
        table["relapse_events_averted_lo"] = -table["relapses_total_diff_hi"]
        table["relapse_events_averted_hi"] = -table["relapses_total_diff_lo"]
        table["cost_per_relapse_event_averted_yuan"] = (
            table["cost_total_yuan_diff"] / table["relapse_events_averted"]
        ).where(table["relapse_events_averted"] > 0)
    return table


def yearly_by_scenario(sweep: Sweep) -> pd.DataFrame:
    """Relapse rate per scenario and year: mean over seeds, its 95% interval (in [0, 1]), ``n``."""
    columns = ["scenario", "year", "mean", "lo", "hi", "n"]
    if sweep.yearly.empty:
        return pd.DataFrame(columns=columns)
    scenario_of_job = sweep.runs.set_index("job")["scenario"]
    scenario = scenario_of_job.loc[sweep.yearly["job"]].to_numpy()
    yearly = sweep.yearly.assign(key=list(zip(scenario, sweep.yearly["year"], strict=True)))
    table = grouped_intervals(yearly, "key", ["relapse_rate"], {"relapse_rate": (0.0, 1.0)})
    keys = table["mean"].index
    return pd.DataFrame(
        {
            "scenario": [k[0] for k in keys],
            "year": [k[1] for k in keys],
            **{part: table[part]["relapse_rate"].to_numpy() for part in ("mean", "lo", "hi", "n")},
        },
        columns=columns,
    )


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
        "percentage points [95% CI, paired] | policy cost, million yuan | relapse events "
        "averted over the run [95% CI, paired] | yuan per relapse event averted |",
        "|---|---|---|---|---|---|---|",
    ]
    for _, row in summary.iterrows():
        rate = [row[f"relapse_rate_{part}"] for part in ("mean", "lo", "hi")]
        diff = [row[f"relapse_rate_diff{part}"] for part in ("", "_lo", "_hi")]
        cost = row.get("cost_total_yuan_mean", math.nan)
        averted = [
            row.get(f"relapse_events_averted{part}", math.nan) for part in ("", "_lo", "_hi")
        ]
        per_event = row.get("cost_per_relapse_event_averted_yuan", math.nan)
        if row["is_baseline"]:
            name, difference, averted_text = f"**{row['scenario']}** (baseline)", "—", "—"
        else:
            name, difference = row["scenario"], _interval(*diff, scale=100)
            averted_text = _interval(*averted, digits=1)
        cells = [
            name,
            str(row["n_seeds"]),
            _interval(*rate, scale=100),
            difference,
            _interval(cost, math.nan, math.nan, scale=1e-6),
            averted_text,
            _interval(per_event, math.nan, math.nan, digits=0),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _few_seeds_warning(summary: pd.DataFrame) -> list[str]:
    """One line when a scenario has fewer than :data:`FEW_SEEDS` valid seeds."""
    few = summary[summary["n_seeds"] < FEW_SEEDS]
    if few.empty:
        return []
    pairs = list(zip(few["scenario"], few["n_seeds"], strict=True))
    shown = "; ".join(f"`{scenario}`: {n}" for scenario, n in pairs[:5])
    more = f"; and {len(few) - 5} more" if len(few) > 5 else ""
    fewest = int(few["n_seeds"].min())
    if fewest == 0:
        effect = "a scenario without a valid run has no figures"
    elif fewest == 1:
        effect = "with one seed a scenario has no interval"
    else:
        effect = (
            f"with {fewest} seeds an interval spans +-{t_factor(fewest):.1f} standard errors "
            "(+-2.0 with many seeds)"
        )
    return [
        f"**Warning: {len(few)} of {len(summary)} scenarios have fewer than {FEW_SEEDS} valid "
        f"seeds** ({shown}{more}); {effect}. Add seeds, e.g. `seed='range(0,10)'`.",
        "",
    ]


def _provenance(sweep: Sweep) -> list[str]:
    command = shlex.join(sweep.command) if sweep.command else None
    fixed = " ".join(sweep.fixed) or "none"
    if sweep.fixed_recorded:
        fixed_text = f"`{fixed}`"
    else:
        fixed_text = f"not recorded in `{PLAN_FILE}`; shared by every run: `{fixed}`"
    return [
        f"Command: {f'`{command}`' if command else 'not recorded'}.",
        f"Fixed overrides: {fixed_text}.",
        "",
    ]


def _files(n: int) -> str:
    return f"{n} file or folder" if n == 1 else f"{n} files or folders"


@dataclass
class Report:
    """What :func:`build_report` wrote and how many runs it used.

    Attributes:
        folder: the comparison folder written.
        used: the number of valid runs used.
        planned: the number of planned runs; None without a plan.
        failed: the rows of ``runs.csv`` of failed runs.
        missing: the rows of missing runs.
        files: the files written.
        invalid: the rows of invalid runs.
        skipped: ``(path, reason)`` of every file or folder not used.
    """

    folder: Path
    used: int
    planned: int | None
    failed: pd.DataFrame
    missing: pd.DataFrame
    files: list[Path]
    invalid: pd.DataFrame = field(default_factory=pd.DataFrame)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def exit_status(self) -> int:
        """0 when every run was used and nothing skipped, else 1."""
        return int(bool(len(self.failed) or len(self.missing) or len(self.invalid) or self.skipped))

    def describe(self) -> str:
        """One line: runs used, failed, missing and invalid, files skipped, where the report is."""
        of = f" of {self.planned} planned" if self.planned is not None else ""
        extra = f", {len(self.invalid)} invalid" if len(self.invalid) else ""
        if self.skipped:
            extra += f"; {_files(len(self.skipped))} skipped, named in the report"
        return (
            f"comparison of {self.used} runs{of} ({len(self.failed)} failed, "
            f"{len(self.missing)} missing{extra}): {self.folder / 'report.md'}"
        )


def _check_output(out: Path) -> None:
    if out.is_symlink() or (os.path.lexists(out) and not out.is_dir()):
        raise CompareError(f"{out} exists and is not a folder: move it away and run again")


def build_report(sweep_dir: Path, baseline: Sequence[str] = (), plots: bool = True) -> Report:
    """Write the comparison (tables, report, plots) of the sweep in ``sweep_dir``.

    Into ``comparison/``, or ``comparison-<baseline>/`` when ``baseline`` is given
    (:func:`output_folder`). A sweep without any valid run still gets ``runs.csv`` and
    ``report.md`` (which list the failures), but no ``summary.csv`` and no plots.

    Raises:
        CompareError: the folder holds no run or several sweeps, ``baseline`` is not a setting
            of the sweep, or the output folder is not a folder or cannot be written.
    """
    out = output_folder(Path(sweep_dir), baseline)
    _check_output(out)
    sweep = read_sweep(Path(sweep_dir))
    runs = sweep.runs
    ok, failed, missing, invalid = (runs[runs["status"] == s] for s in STATUSES)
    summary = summarize_sweep(sweep, baseline) if len(ok) else None
    try:
        out.mkdir(exist_ok=True)
        files = _write(out, sweep, summary, plots)
    except OSError as exc:
        raise CompareError(f"cannot write {out}: {exc.strerror or exc}") from None
    return Report(out, len(ok), sweep.planned, failed, missing, files, invalid, sweep.skipped)


def _write(out: Path, sweep: Sweep, summary: pd.DataFrame | None, plots: bool) -> list[Path]:
    runs = sweep.runs
    ok, failed, missing, invalid = (runs[runs["status"] == s] for s in STATUSES)
    files = [out / "runs.csv"]
    atomic_write(files[0], lambda tmp: runs.to_csv(tmp, index=False))
    plot_files: list[Path] = []
    if summary is not None:
        files.append(out / "summary.csv")
        atomic_write(files[-1], lambda tmp: summary.to_csv(tmp, index=False))
        if plots:
            from sim.analysis.compare_plots import write_plots

            plot_files = write_plots(
                out, summary, yearly_by_scenario(sweep), sweep.params, atomic_write
            )
            files += plot_files
    planned = "" if sweep.planned is None else f" of {sweep.planned} planned"
    lines = [
        f"# Comparison of the sweep `{sweep.folder.name}`",
        "",
        f"Runs used: **{len(ok)}**{planned} ({len(failed)} failed, {len(missing)} missing"
        + (f", {len(invalid)} invalid" if len(invalid) else "")
        + ").",
    ]
    if sweep.planned is None:
        lines.append(
            f"No valid `{PLAN_FILE}`: missing runs cannot be told; every run folder found is a run."
        )
    if sweep.skipped:
        lines.append(
            f"Skipped: {_files(len(sweep.skipped))}, each named under "
            "[Skipped files and folders](#skipped-files-and-folders)."
        )
    lines += ["", *_provenance(sweep)]
    if summary is not None:
        baseline_text = summary.attrs["baseline"]
        if summary["is_baseline"].sum() > 1:
            baseline_text += " with the same values of the other parameters"
        lines += [
            *_few_seeds_warning(summary),
            f"Scenarios: {len(summary)}; varying parameters: {', '.join(sweep.params) or 'none'}; "
            f"baseline: {baseline_text}.",
            "",
            "Means over seeds with 95% t-intervals (n/a with one seed); intervals of rates and "
            "shares are cut at 0% and 100%, of counts and yuan at 0 (the mean cannot lie "
            "outside, so the cut keeps the 95% coverage). Differences to the baseline are paired "
            "on seed (same seed, same shocks), with the t-interval of the seed-by-seed "
            "differences. Relapse events count each fall of an initially lifted household below "
            "the line at a December assessment (a household that recovers and falls again "
            "counts twice). Full table: `summary.csv`; one row per run: `runs.csv`.",
            "",
            SEED_NOISE_ONLY,
            "",
            *_headline_table(summary),
        ]
    if plot_files:
        lines += ["", "## Plots", ""]
        lines += [f"![{f.stem}]({f.name})" for f in plot_files if f.suffix == ".png"]
    for title, table in (("Failed runs", failed), ("Missing runs", missing)):
        if len(table):
            lines += ["", f"## {title}", ""]
            for _, run in table.iterrows():
                where = f"`{run['folder']}`" if run["folder"] else "no folder"
                detail = f": {run['error']}" if title == "Failed runs" else ""
                lines.append(f"- job {run['job']} ({run['overrides']}), {where}{detail}")
    if len(invalid):
        lines += ["", "## Invalid runs", ""]
        for _, run in invalid.iterrows():
            lines.append(
                f"- job {run['job']} ({run['overrides']}), `{run['folder']}`: {run['error']}"
            )
    if sweep.skipped:
        lines += ["", "## Skipped files and folders", ""]
        lines += [f"- `{path}`: {reason}" for path, reason in sweep.skipped]
    if len(files) > 2:
        lines += ["", "## Files", "", *(f"- `{f.name}`" for f in files)]
    files.append(out / "report.md")
    atomic_write_text(files[-1], "\n".join(lines) + "\n")
    return files


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr, exit status 2."""

    def error(self, message: str) -> NoReturn:
        usage = " ".join(self.format_usage().split()[1:])
        self.exit(2, f"error: {message} (usage: {usage})\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Command line of ``python -m sim.compare``; returns the exit status (module docstring)."""
    parser = _Parser(
        prog="python -m sim.compare",
        description="(Re)build the comparison report of a sweep folder into SWEEP_DIR/comparison/ "
        "(SWEEP_DIR/comparison-<baseline>/ with --baseline). Exit status: 0 every run used, "
        "1 some run failed, missing or invalid or some file skipped, 2 no report.",
    )
    parser.add_argument("sweep_dir", type=Path, metavar="SWEEP_DIR")
    parser.add_argument(
        "--baseline",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="setting of a varying parameter that defines the baseline (repeatable); "
        "default: policy=none, or the first scenario without policies, or the first scenario "
        "with a valid run",
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
    return report.exit_status


if __name__ == "__main__":
    sys.exit(main())
