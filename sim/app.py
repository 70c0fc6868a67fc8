"""Command line: ``python -m sim [overrides]``, a thin Hydra wrapper around :func:`sim.run.run`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from sim.config import CONFIG_DIR, Config, load_config
from sim.params import ConfigError
from sim.run import RunResult, run, write_outputs


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


@hydra.main(config_path=str(CONFIG_DIR), config_name="config", version_base="1.3")
def main(raw: DictConfig) -> float:
    """Validate the composed config, run it, write outputs, print the summary table."""
    try:
        cfg = load_config(raw)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    output_dir = Path(HydraConfig.get().runtime.output_dir)
    result = run_and_write(cfg, output_dir)
    if cfg.output.console_summary:
        print(format_summary(result.summary))
        print(f"outputs: {output_dir}")
    return float(result.summary["relapse_rate"])
