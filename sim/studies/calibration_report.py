"""A calibration's outputs: fit table, posterior, calibrated values, plots and report.

``python -m sim -m +experiment=calibration`` writes, into ``SWEEP_DIR/calibration/``:

- ``posterior.parquet``: the posterior's draws, one column per calibrated parameter (config keys,
  in the parameter's unit) and ``weight`` (normalised; equal for Metropolis draws); the
  robust comparison draws from it (``robust.posterior=...``);
- ``waves.csv``: each wave's kind, points and the share of the prior not ruled out before it;
- ``runs.csv``: every run's target statistics (wave, point, seed, run, status, one column per
  target);
- ``fit.csv``: one row per target: ``target, source, observed, low, high, simulated, sim_low,
  sim_high, within, use`` -- simulated is the mean of the check runs (posterior draws x
  seeds), ``sim_low``/``sim_high`` their 5th and 95th percentiles, ``within`` whether the
  simulated mean lies in the observation's interval, ``use`` ``fit`` or ``held_out``;
- ``parameters.csv``: each parameter's prior range, default, posterior mean, 5/50/95th weighted
  percentiles, the central value (the weighted mean, four significant digits), and whether the
  targets identify it;
- ``params.yaml``: the central values as a ``params`` config group file (copy it to
  ``configs/params/calibrated.yaml`` to make them the defaults);
- ``fit.png/svg``, ``posterior.png/svg`` and ``report.md``.

``python -m sim.studies.calibration_report SWEEP_DIR`` rebuilds all but the posterior and waves
from the run folders.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.files import atomic_write, atomic_write_text
from sim.studies.runs import JOBS_FILE, STUDY_FILE, SWEEP_FILE, StudyError

if TYPE_CHECKING:
    from sim.studies.calibration import Calibration
    from sim.studies.uncertainty import Uncertain

NODE = "calibration"
POSTERIOR_FILE = "posterior.parquet"
WAVES_FILE = "waves.csv"
RESULT_FILE = "result.json"
IDENTIFIED_RATIO = (
    0.8  # a posterior 90% interval wider than this share of the prior's: not identified
)
SIGNIFICANT = 4  # digits of the calibrated central values


def write_posterior(folder: Path, result: Calibration, params: list[Uncertain]) -> None:
    """Write ``posterior.parquet``, ``waves.csv`` and ``result.json`` from :func:`calibrate`."""
    from sim.studies.design import WEIGHT_COLUMN, to_values

    draws = to_values(result.posterior_unit, params)
    draws[WEIGHT_COLUMN] = result.weights
    draws = draws[draws[WEIGHT_COLUMN] > 0].sort_values(WEIGHT_COLUMN, ascending=False)
    atomic_write(folder / POSTERIOR_FILE, lambda tmp: draws.to_parquet(tmp, index=False))
    waves = pd.DataFrame(
        {
            "wave": w.number,
            "kind": w.kind,
            "points": len(w.unit),
            "nroy_share": w.nroy_share,
            "matched": w.matched,
        }
        for w in result.waves
    )
    atomic_write_text(folder / WAVES_FILE, waves.to_csv(index=False))
    summary: dict[str, Any] = {"draws": len(result.weights), "nroy_share": result.nroy_share}
    summary["acceptance"] = round(result.acceptance, 3)
    summary["matched"] = result.matched
    atomic_write_text(folder / RESULT_FILE, json.dumps(summary, indent=1) + "\n")


@dataclass
class CalibrationReport:
    """What :func:`analyse` wrote."""

    folder: Path
    fit: pd.DataFrame
    parameters: pd.DataFrame
    failed: int

    def describe(self) -> str:
        """A few lines for the console."""
        fitted = self.fit[self.fit["use"] == "fit"]
        lines = [
            f"calibration: {self.folder}",
            f"  fitted targets within their interval: {int(fitted['within'].sum())} of "
            f"{len(fitted)}; calibrated values: {self.folder / 'params.yaml'}",
        ]
        if self.failed:
            lines.append(f"  {self.failed} runs failed: their error.json files are in the sweep")
        return "\n".join(lines)


def _targets(study: dict[str, Any]) -> list[Any]:
    from sim.studies.targets import Target

    return [Target(**t) for t in study["targets"]]


def run_statistics(sweep_dir: Path, study: dict[str, Any]) -> pd.DataFrame:
    """Every run's target statistics: the jobs table plus ``status`` and one column per target."""
    from sim.analysis.compare import CompareError, read_sweep
    from sim.studies.targets import simulate_targets

    folder = sweep_dir / NODE
    try:
        jobs = pd.read_csv(folder / JOBS_FILE)
        runs = read_sweep(sweep_dir).runs.set_index("job")
    except (OSError, ValueError, CompareError) as exc:
        raise StudyError(f"{folder}: not a calibration ({exc})") from None
    targets = _targets(study)
    rows = []
    for job in jobs.to_dict("records"):
        row = runs.loc[job["run"]] if job["run"] in runs.index else None
        status = "missing" if row is None else row["status"]
        stats = (
            simulate_targets(sweep_dir / row["folder"], targets)
            if row is not None and status == "ok"
            else {t.name: np.nan for t in targets}
        )
        rows.append({**job, "status": status, **stats})
    return pd.DataFrame(rows)


def fit_table(statistics: pd.DataFrame, study: dict[str, Any]) -> pd.DataFrame:
    """One row per target: the observation and the check runs' mean and 5-95% range."""
    check = statistics[
        (statistics["wave"] == len(study["sizes"]) - 1) & (statistics["status"] == "ok")
    ]
    rows = []
    for t in _targets(study):
        values = check[t.name].to_numpy(dtype=float)
        simulated = float(np.mean(values)) if len(values) else np.nan
        low, high = np.quantile(values, [0.05, 0.95]) if len(values) else (np.nan, np.nan)
        rows.append(
            {
                "target": t.name,
                "source": t.source,
                "observed": t.observed,
                "low": t.low,
                "high": t.high,
                "simulated": simulated,
                "sim_low": float(low),
                "sim_high": float(high),
                "within": bool(t.low <= simulated <= t.high),
                "use": t.use,
            }
        )
    return pd.DataFrame(rows)


def parameter_table(posterior: pd.DataFrame, study: dict[str, Any]) -> pd.DataFrame:
    """Prior, posterior summary and central value of each calibrated parameter."""
    from sim.studies.calibration import weighted_quantiles
    from sim.studies.design import WEIGHT_COLUMN
    from sim.studies.uncertainty import Uncertain

    weights = posterior[WEIGHT_COLUMN].to_numpy(dtype=float)
    weights = weights / weights.sum()
    rows = []
    for p in study["parameters"]:
        declared = Uncertain(
            **{k: p[k] for k in ("key", "low", "high", "dist", "reason", "integer")}
        )
        values = posterior[declared.key].to_numpy(dtype=float)
        q05, q50, q95 = weighted_quantiles(values, weights, [0.05, 0.5, 0.95])
        mean = float(np.sum(values * weights))
        central = round(mean) if declared.integer else float(f"{mean:.{SIGNIFICANT}g}")
        prior05, prior95 = declared.values(np.array([0.05, 0.95]))
        ratio = (q95 - q05) / (prior95 - prior05) if prior95 > prior05 else 1.0
        rows.append(
            {
                "parameter": declared.key,
                "default": p["default"],
                "prior_low": declared.low,
                "prior_high": declared.high,
                "dist": declared.dist,
                "mean": mean,
                "q05": q05,
                "median": q50,
                "q95": q95,
                "central": central,
                "width_ratio": ratio,
                "identified": bool(ratio < IDENTIFIED_RATIO),
                "integer": declared.integer,
            }
        )
    return pd.DataFrame(rows)


def params_yaml(parameters: pd.DataFrame, study: dict[str, Any]) -> str:
    """The central values as a ``params`` config group file."""
    import yaml

    nested: dict[str, Any] = {}
    for row in parameters.to_dict("records"):
        *path, name = row["parameter"].split(".")
        node = nested
        for part in path:
            node = node.setdefault(part, {})
        node[name] = int(row["central"]) if row["integer"] else float(row["central"])
    header = (
        "# @package _global_\n"
        "# Calibrated values: the posterior means of a calibration under "
        f"policy={study['policy']}\n# ({study['budget']} simulations, seeds {study['seeds']}; "
        "docs/calibration.md). Written by\n# sim/studies/calibration_report.py; copy to "
        "configs/params/calibrated.yaml to make them\n# the defaults.\n"
    )
    return header + yaml.safe_dump(nested, sort_keys=False)


def analyse(sweep_dir: Path, plots: bool = True) -> CalibrationReport:
    """Write the fit table, parameter table, calibrated values, plots and report.

    Raises:
        StudyError: not a calibration folder, or its posterior was not written.
    """
    sweep_dir = Path(sweep_dir)
    folder = sweep_dir / NODE
    try:
        study = json.loads((folder / STUDY_FILE).read_text())
        posterior = pd.read_parquet(folder / POSTERIOR_FILE)
        waves = pd.read_csv(folder / WAVES_FILE)
        result = json.loads((folder / RESULT_FILE).read_text())
    except (OSError, ValueError) as exc:
        raise StudyError(f"{folder}: not a finished calibration ({type(exc).__name__})") from None
    try:
        study.update(json.loads((folder / SWEEP_FILE).read_text()))
    except (OSError, ValueError):
        pass
    statistics = run_statistics(sweep_dir, study)
    fit = fit_table(statistics, study)
    parameters = parameter_table(posterior, study)
    atomic_write_text(folder / "runs.csv", statistics.to_csv(index=False))
    atomic_write_text(folder / "fit.csv", fit.to_csv(index=False))
    atomic_write_text(folder / "parameters.csv", parameters.to_csv(index=False))
    atomic_write_text(folder / "params.yaml", params_yaml(parameters, study))
    failed = int((statistics.drop_duplicates("run")["status"] != "ok").sum())
    if plots:
        from sim.studies.runs import save_figure

        save_figure(plot_fit(fit), folder / "fit")
        save_figure(plot_posterior(posterior, parameters), folder / "posterior")
    report = CalibrationReport(folder, fit, parameters, failed)
    atomic_write_text(folder / "report.md", _report(report, study, waves, result, plots))
    return report


def plot_fit(fit: pd.DataFrame) -> Any:
    """Each target's observed interval and simulated 5-95% range, as ratios to the observed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(8, 1.2 + 0.45 * len(fit)))
    for y, row in enumerate(fit.to_dict("records")):
        scale = row["observed"] if row["observed"] else 1.0
        ax.plot([row["low"] / scale, row["high"] / scale], [y, y], color="0.6", lw=8, alpha=0.6)
        ax.plot([row["sim_low"] / scale, row["sim_high"] / scale], [y, y], color="tab:blue", lw=2)
        marker = "o" if row["use"] == "fit" else "D"
        ax.plot(
            row["simulated"] / scale, y, marker, color="tab:blue" if row["within"] else "tab:red"
        )
    ax.axvline(1.0, color="0.3", lw=0.8, ls=":")
    ax.set_yticks(range(len(fit)))
    ax.set_yticklabels([f"{t} ({u})" for t, u in zip(fit["target"], fit["use"], strict=True)])
    ax.invert_yaxis()
    ax.set_xlabel("value / observed (grey: observed 95% interval; blue: check runs' 5-95%)")
    ax.set_title("Calibration fit: observed vs simulated on posterior draws")
    return figure


def plot_posterior(posterior: pd.DataFrame, parameters: pd.DataFrame) -> Any:
    """Weighted marginal histogram of each parameter over its prior range, default marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sim.studies.design import WEIGHT_COLUMN

    count = len(parameters)
    columns = min(4, count)
    rows = -(-count // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.4 * rows), squeeze=False)
    weights = posterior[WEIGHT_COLUMN].to_numpy(dtype=float)
    for ax, row in zip(axes.flat, parameters.to_dict("records"), strict=False):
        bins = np.linspace(row["prior_low"], row["prior_high"], 26)
        ax.hist(
            posterior[row["parameter"]], bins=bins, weights=weights, density=True, color="tab:blue"
        )
        ax.axhline(1 / (row["prior_high"] - row["prior_low"]), color="0.5", lw=0.8, ls="--")
        ax.axvline(row["default"], color="tab:red", lw=1)
        ax.axvline(row["central"], color="k", lw=1)
        ax.set_title(row["parameter"].split(".")[-1], fontsize=9)
        ax.set_yticks([])
    for ax in list(axes.flat)[count:]:
        ax.set_visible(False)
    figure.suptitle("Posterior marginals (dashed: a uniform prior; red: default; black: central)")
    return figure


def _number(value: float) -> str:
    if abs(value) >= 1_000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def _report(
    report: CalibrationReport,
    study: dict[str, Any],
    waves: pd.DataFrame,
    result: dict[str, Any],
    plots: bool,
) -> str:
    fit, parameters = report.fit, report.parameters
    fitted = fit[fit["use"] == "fit"]
    lines = [
        "# Calibration",
        "",
        "History matching with Gaussian-process emulators, then a posterior sampled on them "
        f"(docs/calibration.md). Policy preset: `{study['policy']}`; {study['budget']} simulations "
        f"budgeted ({study.get('runs', '?')} run) on seeds {study['seeds']}; wall time "
        f"{study.get('wall_time_s', '?')} s; implausibility cutoff {study['cutoff']}, model "
        f"discrepancy {study['discrepancy']:.0%} of each observed value.",
        "",
        "Fitted targets within their interval: "
        f"**{int(fitted['within'].sum())} of {len(fitted)}**. "
        f"Posterior: {result['draws']} Metropolis draws (acceptance {result['acceptance']:.0%}); "
        "share of the prior not ruled out "
        f"{result['nroy_share']:.4f}"
        + ("" if result["matched"] else " (no point met the cutoff: the least implausible used)")
        + ".",
        "",
        "## Fit",
        "",
        "Simulated: mean of the check runs (posterior draws x seeds) with their 5-95% range.",
        "",
        "| target | source | use | observed [95% interval] | simulated [5-95%] | within |",
        "|---|---|---|---|---|---|",
    ]
    for r in fit.to_dict("records"):
        lines.append(
            f"| {r['target']} | {r['source']} | {r['use']} | {_number(r['observed'])} "
            f"[{_number(r['low'])}, {_number(r['high'])}] | {_number(r['simulated'])} "
            f"[{_number(r['sim_low'])}, {_number(r['sim_high'])}] | "
            f"{'yes' if r['within'] else 'no'} |"
        )
    lines += [
        "",
        "## Parameters",
        "",
        f"Not identified: a posterior 90% interval wider than {IDENTIFIED_RATIO:.0%} of the "
        "prior's.",
        "",
        "| parameter | default | prior | posterior mean [5-95%] | central | identified |",
        "|---|---|---|---|---|---|",
    ]
    for r in parameters.to_dict("records"):
        lines.append(
            f"| `{r['parameter']}` | {_number(r['default'])} | {_number(r['prior_low'])}-"
            f"{_number(r['prior_high'])} ({r['dist']}) | {_number(r['mean'])} "
            f"[{_number(r['q05'])}, {_number(r['q95'])}] | {_number(r['central'])} | "
            f"{'yes' if r['identified'] else 'no'} |"
        )
    lines += [
        "",
        "## Waves",
        "",
        "| wave | kind | points | prior share not ruled out |",
        "|---|---|---|---|",
    ]
    for w in waves.to_dict("records"):
        lines.append(f"| {w['wave']} | {w['kind']} | {w['points']} | {w['nroy_share']:.4f} |")
    if report.failed:
        lines += [
            "",
            f"{report.failed} runs failed or are missing; see `runs.csv` and their `error.json`.",
        ]
    if plots:
        lines += ["", "## Plots", "", "![fit](fit.png)", "", "![posterior](posterior.png)"]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sim.studies.calibration_report SWEEP_DIR``: rebuild a calibration's outputs."""
    from sim.studies.runs import analysis_command

    return analysis_command("python -m sim.studies.calibration_report", __doc__, analyse, argv)


if __name__ == "__main__":
    raise SystemExit(main())
