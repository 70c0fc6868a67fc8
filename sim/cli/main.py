"""Command line: ``python -m sim [overrides]``, a thin Hydra wrapper around :func:`sim.run.run`.

:func:`cli` checks the command line (:mod:`sim.cli.checks`), then hands over to Hydra, which calls
:func:`main` once (a run) or once per job of a sweep (``-m``, :func:`sweep_job`). What goes wrong
outside the model ends with one line on stderr and an exit status, never a traceback:

- 2: bad input, refused before anything is computed (a bad override, a folder that cannot be
  written, a population that will not fit in memory, a launcher that cannot start here), or
  outputs that could not be written (a full disk; the run's partial files are removed);
- 1: a sweep with failed runs, after its comparison report (:mod:`sim.cli.callbacks`);
- 130: Ctrl-C; for a sweep, the line gives the command that resumes it.

Modules of the model, the analysis and the plots are imported where they are used, so that the
launching process of a sweep and each worker import only what they need.
"""

from __future__ import annotations

import errno
import json
import logging
import math
import os
import shlex
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from sim.cli import hydra_private, jobs
from sim.cli.checks import command_line_error, memory_error, refuse
from sim.cli.provenance import (
    clear_run,
    code_version,
    composed_config,
    git_commit,
    machine,
    package_versions,
    reuse_refusal,
    write_error,
    write_provenance,
)
from sim.config import CONFIG_DIR, Config, load_config, structured
from sim.files import (
    ERROR_FILE,
    HOUSEHOLDS_FILE,
    PROGRESS_DIR,
    PROVENANCE_FILE,
    SUMMARY_FILE,
    TIMESERIES_FILE,
    atomic_write_text,
    temp_files,
)
from sim.params import ConfigError

if TYPE_CHECKING:
    from sim.run import RunResult

__all__ = ["cli", "command_line_error", "format_summary", "main", "run_and_write", "sweep_job"]

log = logging.getLogger(__name__)

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
DASHBOARD = Path("plots") / "dashboard.png"
# Errors of writing files that may come without a file name (a full disk met by a library).
WRITE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EFBIG, errno.EIO}
# In a sweep these outputs are written only when the command line asks for them.
SWEEP_OPTIONAL_OUTPUTS = ("output.plots", "output.household_table")


def format_summary(summary: dict[str, Any]) -> str:
    """The console table of a run's headline figures."""
    rows = [
        ("households", f"{summary['households']:,}"),
        ("years", str(summary["years"])),
        ("seed", str(summary["seed"])),
        ("poverty measure (headline)", str(summary.get("measure", "income"))),
        ("relapse rate (mean per year)", f"{100 * summary['relapse_rate']:.2f}%"),
    ]
    other = {k: v for k, v in summary.get("by_measure", {}).items() if k != summary.get("measure")}
    rows += [
        (f"  under {name}", f"{100 * figures['relapse_rate']:.2f}%")
        for name, figures in other.items()
    ]
    rows += [
        ("relapsed at least once", f"{100 * summary['relapse_cumulative']:.2f}%"),
        ("new poverty rate (mean per year)", f"{100 * summary['new_poverty_rate']:.2f}%"),
        ("headcount ratio, final year", f"{100 * summary['headcount_ratio_final']:.2f}%"),
        ("relapse events", f"{summary['relapses_total']:,}"),
    ]
    rows += [
        (f"  caused by {cause}", f"{n:,} ({100 * summary['relapse_cause_shares'][cause]:.0f}%)")
        for cause, n in summary["relapses_by_cause"].items()
    ]
    rows.append(("policy cost (yuan)", f"{summary['cost_total_yuan']:,.0f}"))
    rows += [(f"  {name}", f"{cost:,.0f}") for name, cost in summary["cost_by_policy_yuan"].items()]
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value:>14}" for label, value in rows)


def remove_outputs(output_dir: Path) -> None:
    """Remove a run's result files and unfinished temporary files (nothing half-written stays)."""
    for name in (SUMMARY_FILE, PROVENANCE_FILE, TIMESERIES_FILE, HOUSEHOLDS_FILE, DASHBOARD):
        (output_dir / name).unlink(missing_ok=True)
    for path in temp_files(output_dir):
        path.unlink(missing_ok=True)


def run_and_write(
    cfg: Config, output_dir: Path, timing: dict[str, float] | None = None
) -> RunResult:
    """Run a validated config and write all its outputs into ``output_dir``.

    When the outputs cannot all be written (a full disk), those written are removed before the
    ``OSError`` propagates. ``timing``, when given, receives ``engine_s`` (seconds of the run) and
    ``write_s`` (seconds of writing).
    """
    from sim.run import run, write_outputs

    started = time.perf_counter()
    result = run(cfg)
    engine_done = time.perf_counter()
    try:
        write_outputs(result, output_dir, household_table=cfg.output.household_table)
        if cfg.output.plots:
            from sim.analysis.dashboard import dashboard

            dashboard(output_dir, line=cfg.poverty.line)
    except OSError:
        remove_outputs(output_dir)
        raise
    if timing is not None:
        timing["engine_s"] = round(engine_done - started, 4)
        timing["write_s"] = round(time.perf_counter() - engine_done, 4)
    return result


def _compute(raw: DictConfig, output_dir: Path, overrides: list[str], config: dict) -> None:
    """One run of a sweep, in its own process: outputs and provenance, or ``error.json``."""
    started_at = time.time()
    started = time.perf_counter()
    timing: dict[str, float] = {"started": round(started_at, 3)}
    try:
        cfg = load_config(raw)
        if (problem := memory_error(cfg.population.households)) is not None:
            raise MemoryError(problem)
        asked = {o.split("=", 1)[0].lstrip("+") for o in overrides}
        cfg.output.progress = False
        cfg.output.plots = cfg.output.plots and "output.plots" in asked
        cfg.output.household_table = (
            cfg.output.household_table and "output.household_table" in asked
        )
        run_and_write(cfg, output_dir, timing)
        wall = time.perf_counter() - started
        timing.update(finished=round(time.time(), 3), worker=jobs.job_process())
        write_provenance(
            output_dir, config=config, overrides=overrides, wall_time_s=wall, timing=timing
        )
    except Exception as exc:
        remove_outputs(output_dir)
        write_error(output_dir, exc, overrides=overrides)
        log.error("run failed (%s: %s), recorded in %s", type(exc).__name__, exc, output_dir)


def sweep_job(
    raw: DictConfig,
    output_dir: Path,
    overrides: list[str],
    *,
    sweep_dir: Path | None = None,
    job: int | None = None,
) -> float:
    """One run of a sweep (``-m``): reuse a finished run, or compute it in a process of its own.

    A run folder that holds a finished run of the same config and code (see
    :func:`sim.cli.provenance.reuse_refusal`) is left as it is, so re-running an interrupted sweep
    computes only what is missing; any other earlier attempt is cleared first. The run itself is
    computed in a forked child (:func:`sim.cli.jobs.run_forked`; in the worker itself under the
    cores launcher, which records a worker that dies): any exception, a bad config value
    included, and any signal that kills the child are written to ``error.json``, so that one failure
    neither stops nor loses the other runs of the sweep. Per-run plots and household tables are
    written only when the command line asks for them (``output.plots=true``,
    ``output.household_table=true``); per-run progress bars and summary tables are off.

    The job's outcome (``reused``, ``computed``, ``failed``; and why an earlier attempt was not
    reused) goes to ``SWEEP_DIR/.progress/<job>`` for the sweep's progress bar and final lines.

    Returns:
        The run's relapse rate (mean per year), or NaN when it failed.
    """
    if jobs.in_worker():
        jobs.watch_parent()
    prepare_forks()
    record: dict[str, str] = {}
    earlier = [n for n in (SUMMARY_FILE, ERROR_FILE, TIMESERIES_FILE) if (output_dir / n).exists()]
    try:
        config = composed_config(raw)
    except Exception as exc:  # an interpolation that does not resolve for this run
        clear_run(output_dir)
        remove_outputs(output_dir)
        write_error(output_dir, exc, overrides=overrides)
    else:
        refusal = reuse_refusal(output_dir, config)
        if refusal is None:
            log.info("finished earlier with the same config and code, reused: %s", output_dir)
            _mark(sweep_dir, job, {"outcome": "reused"})
            return _relapse_rate(output_dir)
        if earlier:
            record["recomputed"] = "failed earlier" if earlier == [ERROR_FILE] else refusal
        clear_run(output_dir)
        jobs.run_begins(output_dir)
        status = jobs.run_forked(lambda: _compute(raw, output_dir, overrides, config))
        for path in temp_files(output_dir):
            path.unlink(missing_ok=True)
        if status == -signal.SIGINT:  # interrupted: the run is computed again on resume
            if not (output_dir / PROVENANCE_FILE).exists():
                remove_outputs(output_dir)
            return math.nan
        if status != 0 or not (output_dir / SUMMARY_FILE).exists():
            remove_outputs(output_dir)
            if status < 0:
                write_error(output_dir, None, overrides=overrides, killed_by=-status)
            elif not (output_dir / ERROR_FILE).exists():
                ended = RuntimeError(f"the run's process ended with status {status}, no result")
                write_error(output_dir, ended, overrides=overrides)
    record["outcome"] = "computed" if (output_dir / SUMMARY_FILE).exists() else "failed"
    _mark(sweep_dir, job, record)
    return _relapse_rate(output_dir)


def record_killed_run(
    output_dir: Path, overrides: list[str], signal_number: int, sweep_dir: Path, job: int
) -> None:
    """A run whose process a signal killed: ``error.json`` in place of its outputs.

    And the job's end marker, as :func:`sweep_job` records a run child that a signal killed.
    """
    for path in temp_files(output_dir):
        path.unlink(missing_ok=True)
    remove_outputs(output_dir)
    write_error(output_dir, None, overrides=overrides, killed_by=signal_number)
    _mark(sweep_dir, job, {"outcome": "failed"})


def clear_interrupted_run(output_dir: Path) -> None:
    """A run stopped by Ctrl-C: its temporary files go, and its outputs unless it finished."""
    for path in temp_files(output_dir):
        path.unlink(missing_ok=True)
    if not (output_dir / PROVENANCE_FILE).exists():
        remove_outputs(output_dir)


def prepare_forks() -> None:
    """Import the model, make the config schema, look up the code and package versions once.

    Once per job process (or per launching process whose workers are forked), not once per run.
    A run's forked child inherits them; without this each child would repeat the work.
    """
    import pyarrow.parquet  # noqa: F401  (pandas' Parquet writer, else imported by each run)

    import sim.run  # noqa: F401

    structured(Config)
    code_version()
    git_commit()
    machine()
    package_versions()


def _relapse_rate(output_dir: Path) -> float:
    try:
        return float(json.loads((output_dir / SUMMARY_FILE).read_text())["relapse_rate"])
    except (OSError, ValueError, KeyError, TypeError):
        return math.nan


def _mark(sweep_dir: Path | None, job: int | None, record: dict[str, str]) -> None:
    """Leave the job's end marker for the launching process (see sim.cli.callbacks)."""
    if sweep_dir is None or job is None:
        return
    atomic_write_text(sweep_dir / PROGRESS_DIR / str(job), json.dumps(record) + "\n")


@hydra.main(config_path=str(CONFIG_DIR), config_name="config", version_base="1.3")
def main(raw: DictConfig) -> float:
    """Validate the composed config, run it, write outputs, print the summary table."""
    hydra_cfg = HydraConfig.get()
    output_dir = Path(hydra_cfg.runtime.output_dir)
    overrides = list(hydra_cfg.overrides.task)
    if hydra_cfg.mode == RunMode.MULTIRUN:
        return sweep_job(
            raw,
            output_dir,
            overrides,
            sweep_dir=Path(hydra_cfg.sweep.dir),
            job=int(hydra_cfg.job.num),
        )
    started = time.perf_counter()
    try:
        cfg = load_config(raw)
    except ConfigError as exc:
        refuse(str(exc))
    if (problem := memory_error(cfg.population.households)) is not None:
        refuse(problem)
    timing: dict[str, float] = {"started": round(time.time(), 3)}
    try:
        result = run_and_write(cfg, output_dir, timing)
        write_provenance(
            output_dir,
            config=composed_config(raw),
            overrides=overrides,
            wall_time_s=time.perf_counter() - started,
            timing=timing,
        )
    except OSError as exc:  # a full disk, a folder made read-only meanwhile
        remove_outputs(output_dir)
        refuse(_failure_line(exc, multirun=False, folder=output_dir) or str(exc))
    if cfg.output.console_summary:
        print(format_summary(result.summary))
        print(f"outputs: {output_dir}")
    return float(result.summary["relapse_rate"])


def _failure_line(
    exc: BaseException, multirun: bool, folder: Path | str | None = None
) -> str | None:
    """What went wrong outside the model, in one line; None for a defect (a traceback then)."""
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    if isinstance(exc, OSError) and (exc.filename is not None or exc.errno in WRITE_ERRORS):
        where = exc.filename or folder or _output_folder(multirun) or "the output folder"
        reason = exc.strerror or str(exc)
        key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
        return (
            f"cannot write {where}: {reason}; the run's result files were removed (free some "
            f"space, or choose a writable folder with {key}=...)"
        )
    from sim.cli.launcher import LaunchError

    if isinstance(exc, LaunchError):
        return str(exc)
    frames = [frame.f_code.co_filename for frame, _ in _walk(exc)]
    from_launcher = any(
        part in name for name in frames for part in ("hydra_plugins", "submitit", "/ray/")
    )
    if from_launcher and isinstance(exc, ImportError | ConnectionError | RuntimeError):
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return (
            f"the launcher cannot start: {first} (see configs/hydra/launcher/ for what each "
            "launcher needs)"
        )
    if isinstance(exc, HydraException | OmegaConfBaseException):
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        return "; ".join(lines[:2]) or type(exc).__name__
    return None


def _output_folder(multirun: bool) -> str | None:
    """The run or sweep folder of the command, once Hydra has composed its config."""
    try:
        hydra_cfg = HydraConfig.get()
    except ValueError:
        return None
    return str(hydra_cfg.sweep.dir if multirun else hydra_cfg.runtime.output_dir)


def _walk(exc: BaseException) -> list[Any]:
    import traceback

    return list(traceback.walk_tb(exc.__traceback__))


def _interrupted(argv: Sequence[str]) -> NoReturn:
    """Ctrl-C: stop with one line; for a sweep, the command that resumes it."""
    from sim.cli import callbacks

    sweep = callbacks.stop_active_sweep()
    if sweep is None:
        refuse("interrupted", EXIT_INTERRUPTED)
    sweep_dir, planned = sweep
    finished = sum(
        1 for p in sweep_dir.glob(f"*/{SUMMARY_FILE}") if (p.parent / PROVENANCE_FILE).exists()
    )
    kept = [a for a in argv if not a.startswith("hydra.sweep.dir=")]
    command = shlex.join(["python", "-m", "sim", *kept, f"hydra.sweep.dir={sweep_dir}"])
    of = f" of {planned}" if planned is not None else ""
    refuse(
        f"interrupted; {finished}{of} runs are finished and kept; resume with: {command}",
        EXIT_INTERRUPTED,
    )


def cli(args: Sequence[str] | None = None) -> None:
    """``python -m sim``: check the overrides, then hand over to Hydra (see :func:`main`)."""
    argv = sys.argv[1:] if args is None else list(args)
    if args is not None:
        sys.argv = [sys.argv[0], *argv]
    multirun = "-m" in argv or "--multirun" in argv
    debug = os.environ.get("HYDRA_FULL_ERROR") == "1"
    os.environ["HYDRA_FULL_ERROR"] = "1"  # Hydra re-raises; the lines below say it in one line
    hydra_private.read_config_files_once()
    hydra_private.write_config_files_fast()
    try:
        error = command_line_error(argv)
        if error is not None:
            refuse(error)
        if multirun:
            hydra_private.register_plugins()
        main()
    except KeyboardInterrupt:
        _interrupted(argv)
    except Exception as exc:
        key = "hydra.sweep.dir=" if multirun else "hydra.run.dir="
        folder = next((a.removeprefix(key) for a in argv if a.startswith(key)), None)
        line = None if debug else _failure_line(exc, multirun, folder)
        if line is None:
            raise
        refuse(line)
