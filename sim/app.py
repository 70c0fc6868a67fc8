"""Command line: ``python -m sim [overrides]``, a thin Hydra wrapper around :func:`sim.run.run`."""

from __future__ import annotations

import json
import logging
import math
import sys
import time
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from sim.config import CONFIG_DIR, Config, load_config
from sim.params import ConfigError
from sim.provenance import (
    clear_run,
    composed_config,
    is_complete,
    write_error,
    write_provenance,
)
from sim.run import SUMMARY_FILE, RunResult, run, write_outputs

log = logging.getLogger(__name__)


def format_summary(summary: dict[str, Any]) -> str:
    """The console table of a run's headline figures."""
    rows = [
        ("households", f"{summary['households']:,}"),
        ("years", str(summary["years"])),
        ("seed", str(summary["seed"])),
        ("relapse rate (mean per year)", f"{100 * summary['relapse_rate']:.2f}%"),
        ("relapsed at least once", f"{100 * summary['relapse_cumulative']:.2f}%"),
        ("new poverty rate (mean per year)", f"{100 * summary['new_poverty_rate']:.2f}%"),
        ("headcount ratio, final year", f"{100 * summary['headcount_ratio_final']:.2f}%"),
        ("relapses", f"{summary['relapses_total']:,}"),
    ]
    rows += [
        (f"  caused by {cause}", f"{n:,} ({100 * summary['relapse_cause_shares'][cause]:.0f}%)")
        for cause, n in summary["relapses_by_cause"].items()
    ]
    rows.append(("policy cost (yuan)", f"{summary['cost_total_yuan']:,.0f}"))
    rows += [(f"  {name}", f"{cost:,.0f}") for name, cost in summary["cost_by_policy_yuan"].items()]
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value:>14}" for label, value in rows)


def run_and_write(cfg: Config, output_dir: Path) -> RunResult:
    """Run a validated config and write all its outputs into ``output_dir``."""
    result = run(cfg)
    write_outputs(result, output_dir, household_table=cfg.output.household_table)
    if cfg.output.plots:
        from sim.plots import dashboard

        dashboard(output_dir, line=cfg.poverty.line)
    return result


def sweep_job(raw: DictConfig, output_dir: Path, overrides: list[str]) -> float:
    """One run of a sweep (``-m``): reuse a finished run, record a failure instead of raising.

    A run folder that already holds the finished run of the same composed config is left as it is
    (so re-running an interrupted sweep computes only what is missing). Any exception, a bad config
    value included, is written to ``error.json`` and the run returns NaN, so that one failure
    neither stops nor loses the other runs of the sweep. Per-run progress bars and summary tables
    are off: the sweep has its own progress bar and comparison report.

    Returns:
        The run's relapse rate (mean per year), or NaN when it failed.
    """
    composed = composed_config(raw)
    if is_complete(output_dir, composed):
        log.info("finished earlier with the same config, not recomputed: %s", output_dir)
        summary = json.loads((output_dir / SUMMARY_FILE).read_text())
        return float(summary["relapse_rate"])
    clear_run(output_dir)
    started = time.perf_counter()
    try:
        cfg = load_config(raw)
        cfg.output.progress = False
        result = run_and_write(cfg, output_dir)
    except Exception as exc:
        write_error(output_dir, exc, overrides=overrides)
        log.error("run failed (%s: %s), recorded in %s", type(exc).__name__, exc, output_dir)
        return math.nan
    write_provenance(
        output_dir,
        config=composed,
        overrides=overrides,
        wall_time_s=time.perf_counter() - started,
    )
    return float(result.summary["relapse_rate"])


@hydra.main(config_path=str(CONFIG_DIR), config_name="config", version_base="1.3")
def main(raw: DictConfig) -> float:
    """Validate the composed config, run it, write outputs, print the summary table."""
    hydra_cfg = HydraConfig.get()
    output_dir = Path(hydra_cfg.runtime.output_dir)
    overrides = list(hydra_cfg.overrides.task)
    if hydra_cfg.mode == RunMode.MULTIRUN:
        return sweep_job(raw, output_dir, overrides)
    started = time.perf_counter()
    try:
        cfg = load_config(raw)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    result = run_and_write(cfg, output_dir)
    write_provenance(
        output_dir,
        config=composed_config(raw),
        overrides=overrides,
        wall_time_s=time.perf_counter() - started,
    )
    if cfg.output.console_summary:
        print(format_summary(result.summary))
        print(f"outputs: {output_dir}")
    return float(result.summary["relapse_rate"])
