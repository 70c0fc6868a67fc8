"""A sweep's run in a process of its own, so that a run that dies is one failed run.

The out-of-memory killer ends a process with SIGKILL: nothing in it can record the failure, and
the launcher's worker that ran it dies too (joblib's loky then stops the whole sweep). So each run
of a sweep is computed in a child forked from the job's process (:func:`run_forked`): the job's
process stays small, waits for the child and writes ``error.json`` when a signal killed it. A
fork costs a few milliseconds; the child shares the parent's imported modules, so it starts at
once. The workers of :class:`sim.cli.launcher.CoresLauncher` are themselves such disposable
processes, watched by the launching process: they compute their runs in themselves
(:func:`compute_here`) and tell the launcher which run they work on (:func:`run_begins`).

Processes that run jobs for a launcher (joblib's workers, submitit's and Ray's jobs) ignore
Ctrl-C, which the launching process handles for the whole sweep, and end themselves when the
process that started them is gone (:func:`watch_parent`), so that no worker outlives its sweep,
not even a SIGKILL of the launching process. A child ends itself when its job's process is gone.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

# The launching process of the sweep (set by sim.cli.callbacks.SweepReport, inherited by the
# workers of local launchers): a job in another process runs in a worker.
LAUNCHER_PID = "SIM_SWEEP_LAUNCHER_PID"
_POLL_S = 0.5  # how often a worker or a child looks whether its parent is still there
_child: int | None = None  # the pid of the run this process is waiting for
_watching = False
_importing: threading.Thread | None = None
_deferred: tuple[str, ...] = ()
_here = False  # run_forked computes in this process (set by compute_here)
_tell: Callable[[str], None] | None = None  # where run_begins reports a run folder
FORK_LOCK = threading.Lock()
"""Held by a thread of the launching process that writes to the terminal (the progress bar) and
by a launcher while it forks its workers: a process forked while another thread holds a lock
(of a stream, a module's import) would wait for it forever."""


def import_in_background(*modules: str, after_workers_start: bool = False) -> None:
    """Import ``modules`` in a thread, so that their import overlaps the sweep's runs.

    :func:`run_forked` waits for the thread before it forks: a child forked while a thread holds
    a module's import lock could never import that module. With ``after_workers_start``, the
    thread starts only when the launcher calls :func:`workers_started` (a launcher that forks its
    workers from this process: they need not wait for, nor inherit, these imports).
    """
    global _importing, _deferred
    if after_workers_start:
        _deferred = modules
        return

    def load() -> None:
        for module in modules:
            importlib.import_module(module)

    _importing = threading.Thread(target=load, daemon=True, name="import-in-background")
    _importing.start()


def workers_started() -> None:
    """Start the imports that waited for the launcher's workers (:func:`import_in_background`)."""
    global _deferred
    if _deferred:
        import_in_background(*_deferred)
        _deferred = ()


def wait_for_imports() -> None:
    """Wait for the imports of :func:`import_in_background` to end (before a fork)."""
    if _importing is not None:
        _importing.join()


def compute_here(tell: Callable[[str], None]) -> None:
    """Make :func:`run_forked` compute in this process, and :func:`run_begins` call ``tell``.

    For a launcher's worker that is itself the disposable process (see
    :class:`sim.cli.launcher.CoresLauncher`): ``tell`` lets the launcher know which run folder
    the worker works on, should the worker die.
    """
    global _here, _tell
    _here, _tell = True, tell


def job_process() -> int:
    """The process id of the sweep job computing this run (the parent of a forked run)."""
    return os.getpid() if _here or not hasattr(os, "fork") else os.getppid()


def run_begins(output_dir: Path) -> None:
    """A sweep job begins its run in ``output_dir`` (its ``.hydra/`` files are written)."""
    if _tell is not None:
        _tell(str(output_dir))


def in_worker() -> bool:
    """Whether this process runs jobs for a launcher, rather than being the launching process."""
    launcher = os.environ.get(LAUNCHER_PID)
    return launcher is not None and launcher != str(os.getpid())


def _exit_when_orphaned(parent: int) -> None:
    while True:
        if os.getppid() != parent:
            if _child is not None:
                try:
                    os.kill(_child, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            os._exit(1)
        time.sleep(_POLL_S)


def watch_parent(parent: int | None = None) -> None:
    """Make this worker ignore Ctrl-C and end (with its run) when its parent process is gone.

    Called at the start of each job in a worker; the watching thread is started once per process.
    ``parent``: the parent's process id as the parent knew it before forking this process (a
    parent that died before this call is then noticed); default: the current parent.
    """
    global _watching
    if _watching:
        return
    _watching = True
    if threading.current_thread() is threading.main_thread():  # where Python allows handlers
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(
        target=_exit_when_orphaned,
        args=(os.getppid() if parent is None else parent,),
        daemon=True,
        name="watch-parent",
    ).start()


def run_forked(work: Callable[[], None]) -> int:
    """Run ``work()`` in a forked child process and wait for it.

    ``work`` records its own results and failures (a raised exception is printed and gives exit
    status 1). Ctrl-C ends the child at once (the default action of SIGINT).

    Returns:
        The child's exit status: 0 when ``work`` returned, minus the signal number when a signal
        killed it (as :attr:`subprocess.Popen.returncode`).
    """
    global _child
    if _here or not hasattr(os, "fork"):  # a launcher's worker, or Windows: in this process
        try:
            work()
        except Exception:
            import traceback

            traceback.print_exc()
            return 1
        finally:
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
        return 0
    wait_for_imports()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    gc.freeze()  # the child's collections then skip the inherited objects (no copy-on-write)
    parent = os.getpid()
    pid = os.fork()
    if pid != 0:
        gc.unfreeze()  # this process collects its garbage as before
    if pid == 0:  # the child
        status = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True).start()
            work()
            status = 0
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            logging.shutdown()
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            os._exit(status)
    _child = pid
    try:
        _, wait_status = os.waitpid(pid, 0)
    except BaseException:  # Ctrl-C in the launching process (an in-process launcher)
        with contextlib.suppress(ProcessLookupError, ChildProcessError):  # unless reaped already
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        raise
    finally:
        _child = None
    return os.waitstatus_to_exitcode(wait_status)
