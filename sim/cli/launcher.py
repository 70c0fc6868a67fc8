"""The default launcher of sweeps on one machine: jobs on every core, in forked worker processes.

Hydra's joblib launcher starts fresh Python processes (loky): each imports Hydra, numpy, pandas
and the model again (about 2.5 s a worker), and every job carries the launcher's whole state
(config loader, config, task function, Hydra's singletons) pickled along with it. A 20-run sweep
of the default county on 2 cores spent a third of its time there (docs/performance.md, "Sweeps").

:class:`CoresLauncher` forks its workers from the launching process instead, once the model and
the writers are imported there: a worker starts in milliseconds with everything loaded and the
launcher's state in memory, and receives only each job's number and overrides. Each job is
composed and run by Hydra's own ``run_job``, as with every Hydra launcher (job folders,
``.hydra/`` files, callbacks, logging); the jobs' configs come from a
:class:`sim.cli.hydra_private.JobComposer`, which composes each combination of config-group
choices once. Where fork is not the safe way to start processes (macOS, Windows;
``hydra.launcher.fork=false`` anywhere), the batch goes to Hydra's joblib launcher instead.

A worker computes its runs in itself and is the process a run's failure may take (see
:class:`_Pool`): a worker that dies is one failed run, and a new worker goes on with the others.
Workers ignore Ctrl-C (the launching process stops the sweep, see :mod:`sim.cli.jobs`) and end
with the launching process. With one worker (``hydra.launcher.n_jobs=1``, or a one-job batch)
the jobs run in the launching process, one after the other, as with Hydra's basic launcher, each
run in a process forked for it.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import math
import multiprocessing
import os
import sys
from collections.abc import Sequence
from multiprocessing import connection
from pathlib import Path
from typing import Any

from hydra.core.utils import (
    JobReturn,
    JobStatus,
    configure_log,
    filter_overrides,
    run_job,
    setup_globals,
)
from hydra.plugins.launcher import Launcher
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf, open_dict

from sim.cli import hydra_private, jobs

log = logging.getLogger(__name__)

# The launcher's state, which forked workers inherit: (hydra_context, task_function, the composer
# of the jobs' configs).
_state: tuple[HydraContext, TaskFunction, hydra_private.JobComposer] | None = None


def cores(n_jobs: int) -> int:
    """The number of worker processes ``n_jobs`` asks for, as joblib reads it.

    A positive number is that many processes; -1 is every core this process may use, -2 all but
    one, and so on (at least one).

    Raises:
        LaunchError: ``n_jobs`` is 0 or not an integer.
    """
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0:
        raise LaunchError(
            f"hydra.launcher.n_jobs={n_jobs!r}: must be a positive number of processes, or -1 "
            "(every core), -2 (all but one), ..."
        )
    if n_jobs > 0:
        return n_jobs
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (available or 1) + 1 + n_jobs)


def forks_workers(config: DictConfig) -> bool:
    """Whether the sweep of ``config`` runs on a :class:`CoresLauncher`."""
    target = OmegaConf.select(config, "hydra.launcher._target_", default="")
    return str(target).rsplit(".", 1)[-1] == CoresLauncher.__name__


def forks(asked: bool | None = None) -> bool:
    """Whether workers are forked: ``asked``, else where fork is safe (Linux).

    Raises:
        LaunchError: ``asked`` is not a boolean or null, or fork does not exist here.
    """
    if asked is None:
        return sys.platform.startswith("linux")
    if not isinstance(asked, bool):
        raise LaunchError(f"hydra.launcher.fork={asked!r}: allowed true, false or null")
    if asked and "fork" not in multiprocessing.get_all_start_methods():
        raise LaunchError("hydra.launcher.fork=true: this platform cannot fork processes")
    return asked


class CoresLauncher(Launcher):
    """Runs a sweep's jobs on ``n_jobs`` worker processes of this machine (see the module).

    Args:
        n_jobs: worker processes: a positive number, or -1 for every core (-2 all but one, ...).
        fork: fork the workers (:func:`forks`; None: on Linux); false: Hydra's joblib launcher.
    """

    def __init__(self, n_jobs: int = -1, fork: bool | None = None) -> None:
        self.n_jobs = n_jobs
        self.fork = fork
        self.config: DictConfig | None = None
        self.compose: hydra_private.JobComposer | None = None
        self.task_function: TaskFunction | None = None
        self.hydra_context: HydraContext | None = None

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        """Keep what each job needs (called by the sweeper before the first batch)."""
        self.config = config
        self.hydra_context = hydra_context
        self.task_function = task_function
        self.compose = hydra_private.JobComposer(hydra_context.config_loader, config)

    def launch(
        self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int
    ) -> Sequence[JobReturn]:
        """Run a batch of jobs and return their results in the batch's order."""
        global _state
        assert self.config is not None
        assert self.hydra_context is not None
        assert self.task_function is not None
        assert self.compose is not None
        setup_globals()
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        Path(str(self.config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
        batch = [(initial_job_idx + i, list(o)) for i, o in enumerate(job_overrides)]
        workers = min(cores(self.n_jobs), len(batch))
        log.info(f"Launching {len(batch)} jobs on {workers} worker processes")
        for number, overrides in batch:
            log.info(f"\t#{number} : {' '.join(filter_overrides(overrides))}")
        state = (self.hydra_context, self.task_function, self.compose)
        if workers <= 1:
            _state = state
            jobs.workers_started()
            return [_execute(job) for job in batch]
        if not forks(self.fork):
            return self._launch_with_joblib(job_overrides, initial_job_idx)
        _state = state
        _preload()
        return _Pool(workers, Path(str(self.config.hydra.sweep.dir))).run(batch)

    def _launch_with_joblib(
        self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int
    ) -> Sequence[JobReturn]:
        """The batch on Hydra's joblib launcher: fresh worker processes, where fork is unsafe."""
        from hydra_plugins.hydra_joblib_launcher.joblib_launcher import JoblibLauncher

        assert self.hydra_context is not None and self.task_function is not None
        joblib = JoblibLauncher(n_jobs=self.n_jobs, prefer="processes")
        joblib.setup(
            hydra_context=self.hydra_context, task_function=self.task_function, config=self.config
        )
        jobs.workers_started()
        return joblib.launch(job_overrides, initial_job_idx)  # type: ignore[no-any-return]


class LaunchError(RuntimeError):
    """A launcher setting that cannot be used; its message is the one line to print."""


class _Pool:
    """Worker processes forked from this one, each computing one job at a time, in itself.

    A worker computes its runs in its own process (``jobs.compute_here``), which keeps the memory
    of one run for the next: a run in a freshly forked process pays for copying the pages it
    writes, about a tenth of a 20,000-household run. A worker that dies (the out-of-memory
    killer, a signal) takes only its current job with it: the job is recorded as a failed run
    (``error.json`` with the signal), a new worker takes its place, and the other jobs go on.
    """

    def __init__(self, size: int, sweep_dir: Path) -> None:
        self.size = size
        self.sweep_dir = sweep_dir
        self.context = multiprocessing.get_context("fork")
        self.idle: list[_Worker] = []
        self.busy: dict[Any, _Worker] = {}  # by its connection
        self.retried: set[int] = set()  # jobs given again after their worker died

    def run(self, batch: list[tuple[int, list[str]]]) -> list[JobReturn]:
        """The jobs' results, in the batch's order."""
        waiting = list(reversed(batch))
        results: dict[int, JobReturn] = {}
        try:
            with jobs.FORK_LOCK:  # no progress-bar update, no import under way while forking
                jobs.wait_for_imports()
                self.idle = [self._start() for _ in range(self.size)]
            jobs.workers_started()
            while waiting or self.busy:
                while waiting and self.idle:
                    worker = self.idle.pop()
                    worker.give(waiting.pop())
                    self.busy[worker.connection] = worker
                self._collect(results, waiting)
        except BaseException:  # Ctrl-C: stop the workers and their runs now
            for worker in [*self.idle, *self.busy.values()]:
                worker.process.kill()
            for worker in self.busy.values():
                worker.abandon()
            raise
        for worker in self.idle:
            worker.stop()
        return [results[number] for number, _ in batch]

    def _start(self) -> _Worker:
        here, there = self.context.Pipe()
        process = self.context.Process(target=_serve, args=(there, os.getpid()), daemon=True)
        gc.freeze()  # the worker's collections skip the objects it inherits
        try:
            process.start()
        finally:
            gc.unfreeze()  # this process collects its garbage as before
        there.close()
        return _Worker(process, here, self.sweep_dir)

    def _collect(self, results: dict[int, JobReturn], waiting: list[tuple[int, list[str]]]) -> None:
        """Wait for a worker to finish its job or to die; take its result.

        A job whose worker died before it began the job's run goes back to the waiting jobs
        (once: a job that keeps killing its workers before its run begins is a failed run).
        """
        ready = connection.wait(
            [*self.busy, *(worker.process.sentinel for worker in self.busy.values())]
        )
        for worker in list(self.busy.values()):
            if worker.connection not in ready and worker.process.sentinel not in ready:
                continue
            state, result = worker.result()
            if state == "going":  # it said where its run goes
                continue
            del self.busy[worker.connection]
            if result is not None:
                results[worker.job[0]] = result
                if worker.process.is_alive():
                    self.idle.append(worker)
                    continue
            elif worker.output_dir is None and worker.job[0] not in self.retried:
                log.warning("the worker given job %d ended before its run began", worker.job[0])
                self.retried.add(worker.job[0])
                waiting.append(worker.job)
            else:
                results[worker.job[0]] = worker.killed()
            with jobs.FORK_LOCK:
                jobs.wait_for_imports()
                self.idle.append(self._start())


class _Worker:
    """A worker process of :class:`_Pool` and the job it computes."""

    def __init__(self, process: Any, connection: Any, sweep_dir: Path) -> None:
        self.process = process
        self.connection = connection
        self.sweep_dir = sweep_dir
        self.job: tuple[int, list[str]] = (-1, [])
        self.output_dir: str | None = None

    def give(self, job: tuple[int, list[str]]) -> None:
        """Send the worker its job (a worker that died meanwhile is found by :meth:`result`)."""
        self.job, self.output_dir = job, None
        with contextlib.suppress(OSError):
            self.connection.send(job)

    def result(self) -> tuple[str, JobReturn | None]:
        """``("done", result)``, ``("going", None)`` or ``("died", None)`` (then joined)."""
        try:
            if self.connection.poll():
                kind, value = self.connection.recv()
                if kind == "started":
                    self.output_dir = value
                    return "going", None
                return "done", value
        except (EOFError, OSError):
            pass
        self.process.join()
        return "died", None

    def killed(self) -> JobReturn:
        """Record the job of a worker that a signal killed as a failed run; its result."""
        from sim.cli.main import record_killed_run

        number, overrides = self.job
        signal_number = -(self.process.exitcode or 0) or 9
        log.error("the worker computing job %d ended (signal %d)", number, signal_number)
        if self.output_dir is not None:
            record_killed_run(
                Path(self.output_dir), overrides, signal_number, self.sweep_dir, number
            )
        return JobReturn(
            overrides=overrides,
            working_dir=self.output_dir or "",
            status=JobStatus.COMPLETED,
            _return_value=math.nan,
        )

    def abandon(self) -> None:
        """Clear the unfinished run of a worker stopped by Ctrl-C (computed again on resume)."""
        self.process.join()
        if self.output_dir is not None:
            from sim.cli.main import clear_interrupted_run

            clear_interrupted_run(Path(self.output_dir))

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.send(None)
        self.process.join()


def _serve(connection: Any, launcher: int) -> None:
    """A worker: compute the jobs it is given, in this process, until it is given None.

    ``launcher``: the process id of the launching process, whose end ends the worker.
    """
    jobs.watch_parent(launcher)
    jobs.compute_here(lambda folder: connection.send(("started", folder)))
    while (job := connection.recv()) is not None:
        connection.send(("done", _execute(job)))


def _preload() -> None:
    """Import what every job imports, so that forked workers inherit it instead."""
    import sim.cli.main

    sim.cli.main.prepare_forks()


def _execute(job: tuple[int, list[str]]) -> JobReturn:
    """Compose job ``number``'s config with its overrides and run it with Hydra's ``run_job``."""
    number, overrides = job
    assert _state is not None
    hydra_context, task_function, compose = _state
    sweep_config = compose(overrides)
    with open_dict(sweep_config):
        sweep_config.hydra.job.id = f"{sweep_config.hydra.job.name}_{number}"
        sweep_config.hydra.job.num = number
    return run_job(
        hydra_context=hydra_context,
        task_function=task_function,
        config=sweep_config,
        job_dir_key="hydra.sweep.dir",
        job_subdir_key="hydra.sweep.subdir",
    )
