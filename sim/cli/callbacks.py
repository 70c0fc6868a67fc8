"""Hydra callback of ``python -m sim -m``: the sweep's plan, progress bar, final lines and report.

Configured under ``hydra.callbacks.comparison`` in ``configs/config.yaml``. Hydra calls
``on_multirun_start`` and ``on_multirun_end`` in the process that launches the sweep; each job
(:func:`sim.cli.main.sweep_job`, in a joblib worker, a submitit or a Ray job) leaves a marker in
``SWEEP_DIR/.progress/`` when it ends, with its outcome, whatever the launcher, as long as the
sweep folder is on a file system that both see. The progress bar counts the markers; the final
lines count the runs reused and recomputed (and why) from them.

A sweep folder holds one sweep: a sweep whose jobs differ from the runs already in its folder is
refused before anything is written, so that no earlier run is ever overwritten (re-running the
same command resumes the sweep instead).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from sim.cli import hydra_private, jobs
from sim.cli.checks import folder_problem, refuse, subdir_error
from sim.cli.launcher import forks_workers
from sim.files import (
    COMPARISON_DIR,
    ERROR_FILE,
    OVERRIDES_FILE,
    PLAN_FILE,
    PROGRESS_DIR,
    SUMMARY_FILE,
    atomic_write_text,
)

if TYPE_CHECKING:
    from tqdm import tqdm

_active: SweepReport | None = None  # the sweep this process launches (for Ctrl-C)
FAILED_SHOWN = 3  # error.json paths named on the console; report.md lists them all


def planned_runs(config: DictConfig) -> list[list[str]] | None:
    """The overrides of each job of the sweep in job-number order, as the basic sweeper makes them.

    Returns None for another sweeper, whose jobs are not known in advance.
    """
    sweeper = config.hydra.sweeper
    if not hydra_private.is_basic_sweeper(str(sweeper.get("_target_"))):
        return None
    params = [f"{key}={value}" for key, value in (sweeper.get("params") or {}).items()]
    loader = (
        GlobalHydra.instance().config_loader() if GlobalHydra.instance().is_initialized() else None
    )
    parser = OverridesParser.create(config_loader=loader)
    return hydra_private.job_overrides(
        parser.parse_overrides([*params, *config.hydra.overrides.task])
    )


def fixed_overrides(plan: list[list[str]]) -> list[str]:
    """The overrides every job of ``plan`` has (``population=small``): not varied by the sweep."""
    return [o for o in plan[0] if all(o in job for job in plan[1:])] if plan else []


def _read_overrides(folder: Path) -> list[str] | None:
    try:
        loaded = yaml.safe_load((folder / OVERRIDES_FILE).read_text())
    except (OSError, ValueError, yaml.YAMLError):
        return None
    return [str(o) for o in loaded] if isinstance(loaded, list) else None


def other_sweep(sweep_dir: Path, plan: list[list[str]]) -> str | None:
    """Why ``sweep_dir`` holds runs of another sweep (that ``plan`` would overwrite), or None."""
    try:
        earlier = json.loads((sweep_dir / PLAN_FILE).read_text()).get("runs")
    except (OSError, ValueError, AttributeError):
        earlier = None
    if isinstance(earlier, list):
        found = dict(enumerate(earlier))
    else:  # no plan: the run folders and their overrides
        found = {}
        for path in sweep_dir.glob(f"*/{OVERRIDES_FILE}"):
            folder = path.parent.parent
            if folder.name.isdigit() and (overrides := _read_overrides(folder)) is not None:
                found[int(folder.name)] = overrides
    for job, overrides in sorted(found.items()):
        if job >= len(plan) or plan[job] != overrides:
            here = " ".join(plan[job]) if job < len(plan) else "no such job"
            return (
                f"hydra.sweep.dir={sweep_dir} holds another sweep (job {job} there: "
                f"{' '.join(map(str, overrides))}; in this sweep: {here}); its runs are kept: "
                "choose a new folder, or run that sweep's own command to resume it"
            )
    return None


def stop_active_sweep() -> tuple[Path, int | None] | None:
    """Close the progress bar of the sweep this process launches; its folder and planned runs."""
    if _active is None or _active.sweep_dir is None:
        return None
    if _active.bar is not None:
        _active.bar.close()
        _active.bar = None
    return _active.sweep_dir, _active.planned


class _ProgressBar:
    """A tqdm bar over the sweep's jobs, updated by a thread that counts the jobs' end markers."""

    def __init__(self, folder: Path, total: int | None) -> None:
        from tqdm import tqdm

        self.folder = folder
        self.bar: tqdm[Any] = tqdm(
            total=total, desc="sweep", unit="run", dynamic_ncols=True, delay=1.0
        )
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()

    def _count(self) -> int:
        if not self.folder.exists():
            return 0
        return sum(1 for p in self.folder.iterdir() if not p.name.startswith("."))  # no temp files

    def _poll(self) -> None:
        while not self.stopped.wait(0.5):
            done = self._count()
            if done != self.bar.n:
                with jobs.FORK_LOCK:
                    self.bar.update(done - self.bar.n)

    def close(self) -> None:
        """Stop the thread, show the final count and close the bar."""
        self.stopped.set()
        self.thread.join()
        self.bar.update(self._count() - self.bar.n)
        self.bar.close()


def _outcomes(markers: Path) -> dict[str, dict[str, list[int]]]:
    """The jobs' end markers: ``{"outcome": {...: [jobs]}, "recomputed": {reason: [jobs]}}``."""
    found: dict[str, dict[str, list[int]]] = {"outcome": {}, "recomputed": {}}
    for marker in sorted(markers.glob("[0-9]*"), key=lambda p: (len(p.name), p.name)):
        try:
            record = json.loads(marker.read_text())
        except (OSError, ValueError):
            continue
        for kind in found:
            if isinstance(record, dict) and kind in record:
                found[kind].setdefault(str(record[kind]), []).append(int(marker.name))
    return found


def _jobs(numbers: list[int]) -> str:
    shown = ", ".join(map(str, numbers[:10]))
    return shown + (f" and {len(numbers) - 10} more" if len(numbers) > 10 else "")


class SweepReport(Callback):
    """Plan, progress bar, final lines and comparison report of a sweep.

    Args:
        progress: show a progress bar over the sweep's runs.
        report: write ``SWEEP_DIR/comparison/`` when the sweep ends (see
            :mod:`sim.analysis.compare`).
        baseline: ``KEY=VALUE`` settings that define the baseline scenario (default: see
            :mod:`sim.analysis.compare`).
    """

    def __init__(
        self, progress: bool = True, report: bool = True, baseline: list[str] | None = None
    ) -> None:
        self.progress = progress
        self.report = report
        self.baseline = list(baseline or [])
        self.bar: _ProgressBar | None = None
        self.sweep_dir: Path | None = None
        self.planned: int | None = None

    def __getstate__(self) -> dict[str, Any]:
        """Pickled into each job (joblib, submitit): without the launching process's bar."""
        return {**self.__dict__, "bar": None}

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Check the sweep folder, write ``sweep_plan.json`` and start the progress bar.

        Refused in one line (exit status 2), before anything is written: run folders outside the
        sweep folder, a sweep folder that cannot be written, a folder that holds another sweep.
        """
        global _active
        sweep_dir = Path(config.hydra.sweep.dir)
        sweep = OmegaConf.to_container(config.hydra.sweep, resolve=False)  # ${...} as written
        subdir = sweep.get("subdir", "") if isinstance(sweep, dict) else ""
        if (problem := subdir_error(str(subdir))) is not None:
            refuse(problem)
        if (problem := folder_problem(sweep_dir)) is not None:
            refuse(f"hydra.sweep.dir={sweep_dir}: cannot write the sweep there: {problem}")
        plan = planned_runs(config)
        if plan is not None and (problem := other_sweep(sweep_dir, plan)) is not None:
            refuse(problem)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        if plan is not None:
            record = {
                "runs": plan,
                "command": ["python", "-m", "sim", *sys.argv[1:]],
                "fixed": fixed_overrides(plan),
            }
            atomic_write_text(sweep_dir / PLAN_FILE, json.dumps(record, indent=1) + "\n")
        markers = sweep_dir / PROGRESS_DIR
        shutil.rmtree(markers, ignore_errors=True)
        markers.mkdir()
        os.environ[jobs.LAUNCHER_PID] = str(os.getpid())
        self.sweep_dir, self.planned = sweep_dir, None if plan is None else len(plan)
        _active = self
        if self.progress:
            self.bar = _ProgressBar(markers, self.planned)
        if self.report:  # while the runs go, not after them
            jobs.import_in_background(
                "sim.analysis.compare",
                "sim.analysis.compare_plots",
                after_workers_start=forks_workers(config),
            )

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Close the bar, say what was reused and recomputed, write the report, exit 1 on failures.

        The exit status (1 when a run failed or is missing) comes after the report, so that
        scripts learn of failed runs without losing the report of the others.
        """
        global _active
        _active = None
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        sweep_dir = Path(config.hydra.sweep.dir)
        markers = sweep_dir / PROGRESS_DIR
        outcomes = _outcomes(markers)
        shutil.rmtree(markers, ignore_errors=True)
        if reused := outcomes["outcome"].get("reused"):
            print(f"reused {len(reused)} runs finished earlier with the same config and code")
        for reason, numbers in outcomes["recomputed"].items():
            print(f"recomputed {len(numbers)} runs ({reason}): jobs {_jobs(numbers)}")
        missing = 0
        if self.report:
            missing = self._write_report(sweep_dir)
        failed = sorted(
            path
            for path in sweep_dir.rglob(ERROR_FILE)
            if COMPARISON_DIR not in path.relative_to(sweep_dir).parts
            and not (path.parent / SUMMARY_FILE).exists()
        )
        if failed:
            shown = ", ".join(str(p) for p in failed[:FAILED_SHOWN])
            more = f" and {len(failed) - FAILED_SHOWN} more" if len(failed) > FAILED_SHOWN else ""
            print(f"failed runs: {len(failed)}; why: {shown}{more}", file=sys.stderr)
        if failed or missing:
            sys.exit(1)

    def _write_report(self, sweep_dir: Path) -> int:
        """Write ``comparison/`` and print its line; the number of missing runs (-1: no report)."""
        from sim.analysis.compare import build_report

        try:
            report = build_report(sweep_dir, self.baseline)
        except Exception as exc:
            print(f"no comparison report: {type(exc).__name__}: {exc}", file=sys.stderr)
            return -1
        print(report.describe())
        if len(report.missing):
            print(
                f"{len(report.missing)} runs are missing; run the same command again with "
                f"hydra.sweep.dir={sweep_dir} to compute them",
                file=sys.stderr,
            )
        return len(report.missing)
