"""Hydra callback of ``python -m sim -m``: the sweep's plan, progress bar and comparison report.

Configured under ``hydra.callbacks.comparison`` in ``configs/config.yaml``. Hydra calls
``on_multirun_start`` and ``on_multirun_end`` in the process that launches the sweep, and
``on_job_start``/``on_job_end`` in the process that runs each job (a joblib worker, a submitit or
Ray job). So the progress bar lives in the launching process and counts marker files that each job
leaves in ``SWEEP_DIR/.progress/`` when it ends, whatever the launcher, as long as the sweep folder
is on a file system that both see.
"""

from __future__ import annotations

import json
import shutil
import sys
import threading
from pathlib import Path
from typing import Any

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig
from tqdm import tqdm

from sim.analysis.compare import CompareError, build_report
from sim.files import PLAN_FILE, PROGRESS_DIR, atomic_write_text

BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"


def planned_runs(config: DictConfig) -> list[list[str]] | None:
    """The overrides of each job of the sweep in job-number order, as the basic sweeper makes them.

    Returns None for another sweeper, whose jobs are not known in advance.
    """
    sweeper = config.hydra.sweeper
    if sweeper.get("_target_") != BASIC_SWEEPER:
        return None
    params = [f"{key}={value}" for key, value in (sweeper.get("params") or {}).items()]
    loader = (
        GlobalHydra.instance().config_loader() if GlobalHydra.instance().is_initialized() else None
    )
    parser = OverridesParser.create(config_loader=loader)
    overrides = parser.parse_overrides([*params, *config.hydra.overrides.task])
    return [list(job) for job in BasicSweeper.split_arguments(overrides, None)[0]]


class _ProgressBar:
    """A tqdm bar over the sweep's jobs, updated by a thread that counts the jobs' end markers."""

    def __init__(self, folder: Path, total: int | None) -> None:
        self.folder = folder
        self.bar = tqdm(total=total, desc="sweep", unit="run", dynamic_ncols=True, delay=1.0)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()

    def _count(self) -> int:
        return sum(1 for _ in self.folder.iterdir()) if self.folder.exists() else 0

    def _poll(self) -> None:
        while not self.stopped.wait(0.5):
            done = self._count()
            if done != self.bar.n:
                self.bar.update(done - self.bar.n)

    def close(self) -> None:
        """Stop the thread, show the final count and close the bar."""
        self.stopped.set()
        self.thread.join()
        self.bar.update(self._count() - self.bar.n)
        self.bar.close()


class SweepReport(Callback):
    """Plan, progress bar and comparison report of a sweep.

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
        self._bar: _ProgressBar | None = None

    def __getstate__(self) -> dict[str, Any]:
        """Pickled into each job (joblib, submitit): without the launching process's bar."""
        return {**self.__dict__, "_bar": None}

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Write ``sweep_plan.json`` and start the progress bar."""
        sweep_dir = Path(config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        plan = planned_runs(config)
        if plan is not None:
            text = json.dumps({"runs": plan}, indent=1) + "\n"
            atomic_write_text(sweep_dir / PLAN_FILE, text)
        markers = sweep_dir / PROGRESS_DIR
        markers.mkdir(exist_ok=True)
        for marker in markers.iterdir():
            marker.unlink()
        if self.progress:
            self._bar = _ProgressBar(markers, None if plan is None else len(plan))

    def on_job_end(self, config: DictConfig, job_return: Any, **kwargs: Any) -> None:
        """Leave this job's end marker for the progress bar (in the job's own process)."""
        if config.hydra.mode != RunMode.MULTIRUN:
            return
        markers = Path(config.hydra.sweep.dir) / PROGRESS_DIR
        markers.mkdir(parents=True, exist_ok=True)
        (markers / str(config.hydra.job.num)).touch()

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Close the progress bar, remove the end markers and write the comparison report."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        shutil.rmtree(Path(config.hydra.sweep.dir) / PROGRESS_DIR, ignore_errors=True)
        if not self.report:
            return
        sweep_dir = Path(config.hydra.sweep.dir)
        try:
            report = build_report(sweep_dir, self.baseline)
        except CompareError as exc:
            print(f"no comparison report: {exc}")
            return
        print(report.describe())
        if len(report.failed) or len(report.missing):
            print(f"some runs did not finish; the report lists them: {report.folder / 'report.md'}")
        if len(report.failed):
            sys.exit(1)  # after the report: the sweep's exit status tells scripts a run failed
