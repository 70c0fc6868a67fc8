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

Workers ignore Ctrl-C (the launching process stops the sweep, see :mod:`sim.cli.jobs`) and end
with the launching process. With one worker (``hydra.launcher.n_jobs=1``, or a one-job batch)
the jobs run in the launching process, one after the other, as with Hydra's basic launcher.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from hydra.core.utils import JobReturn, configure_log, filter_overrides, run_job, setup_globals
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
        pool = ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context("fork"), initializer=jobs.watch_parent
        )
        try:
            with jobs.FORK_LOCK:  # no progress-bar update, no import under way while forking
                jobs.wait_for_imports()
                gc.freeze()  # the workers' collections skip the inherited objects
                results = pool.map(_execute, batch)  # forks every worker at once
            jobs.workers_started()
            done = list(results)
        except BrokenProcessPool:
            _stop(pool)
            raise LaunchError(
                "a worker process of the sweep ended unexpectedly (killed?); the runs it finished "
                "are kept: run the same command again to compute the others"
            ) from None
        except BaseException:  # Ctrl-C: stop the workers and their runs now
            _stop(pool)
            raise
        pool.shutdown()
        return done

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
    """A sweep the launcher cannot start or finish; its message is the one line to print."""


def _stop(pool: ProcessPoolExecutor) -> None:
    """End the pool's workers at once (each run they compute ends with its worker)."""
    if hasattr(pool, "terminate_workers"):  # Python 3.14
        pool.terminate_workers()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)


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
