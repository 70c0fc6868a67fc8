"""Command line: ``python -m sim [overrides]``, a thin Hydra wrapper around :func:`sim.run.run`."""

from __future__ import annotations

import json
import logging
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from sim.cli.provenance import (
    clear_run,
    composed_config,
    is_complete,
    write_error,
    write_provenance,
)
from sim.config import CONFIG_DIR, Config, load_config
from sim.files import SUMMARY_FILE
from sim.params import ConfigError
from sim.run import RunResult, run, write_outputs

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
        from sim.analysis.dashboard import dashboard

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


def command_line_error(args: Sequence[str]) -> str | None:
    """A one-line description of an override the configs cannot take, or None.

    Hydra reports an unknown option of a config group or an unknown key over several lines,
    with a hint about its own syntax; this check composes the configs first (for a sweep, with the
    first value of each swept key, and every option of a swept config group) and names the
    override and what is allowed instead. Range and
    type checks are left to :func:`sim.config.load_config`: in a sweep a bad value fails its run
    only.
    """
    from hydra import compose, initialize_config_dir
    from hydra._internal.utils import get_args_parser
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    try:
        parsed, _ = get_args_parser().parse_known_args(list(args))
        overrides = OverridesParser.create().parse_overrides(parsed.overrides)
    except (SystemExit, HydraException):
        return None  # Hydra reports malformed command lines itself
    if parsed.config_dir or parsed.config_name or parsed.experimental_rerun:
        return None
    together: list[str] = []  # one value per key: a single run standing for the command line
    more_options: list[str] = []  # the other options of swept config groups
    for o in overrides:
        if o.key_or_group.startswith("hydra"):
            continue
        if not o.is_sweep_override():
            together.append(o.input_line or f"{o.get_key_element()}={o.value()}")
            continue
        values = [f"{o.get_key_element()}={v}" for v in o.sweep_string_iterator()]
        together.append(values[0])
        if (CONFIG_DIR / o.key_or_group).is_dir():
            more_options += values[1:]
    errors = (HydraException, OmegaConfBaseException)
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        try:
            compose(config_name="config", overrides=together)
        except errors as exc:
            combined: Exception | None = exc
        else:
            combined = None
        for override in together + more_options if combined else more_options:
            try:
                compose(config_name="config", overrides=[override])
            except errors as exc:
                return _one_line(override, exc, OmegaConf.to_container(compose("config")))
        if combined is not None:
            defaults = OmegaConf.to_container(compose("config"))
            return _one_line(" ".join(together), combined, defaults)
    return None


def _one_line(override: str, exc: Exception, defaults: Any) -> str:
    """``override``'s error in one line, with the options or keys allowed in its place."""
    key = override.split("=", 1)[0].lstrip("+~")
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    options = getattr(exc, "options", None)  # a config group's options (MissingConfigException)
    if options:
        return f"{override}: no such option; allowed {key}: {', '.join(options)}"
    node, parent = defaults, list[str]()
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            break
        node, parent = node[part], [*parent, part]
    if isinstance(node, dict) and len(parent) < len(key.split(".")):
        where = ".".join(parent) or "the top level"
        return f"{override}: no such key; allowed under {where}: {', '.join(node)}"
    return f"{override}: {'; '.join(lines)}"


def cli(args: Sequence[str] | None = None) -> None:
    """``python -m sim``: check the overrides, then hand over to Hydra (see :func:`main`)."""
    error = command_line_error(sys.argv[1:] if args is None else args)
    if error is not None:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    main()
