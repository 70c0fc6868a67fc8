"""Cost of a sweep: its wall time against the engine time of its runs, and where the rest goes.

Run from the repository root::

    python -m benchmarks.sweep_time         # policy none/all x seeds 0-9, default county, 2 workers
    python -m benchmarks.sweep_time --experiment policy_comparison --workers 1 2
    python -m benchmarks.sweep_time --workers 1 2 -- population=small years=1 seed=0 policy=none,all

Each sweep is the real command line, ``python -m sim -m [+experiment=NAME] OVERRIDES
hydra.launcher.n_jobs=N``, run in a child process into a temporary folder (or ``--keep DIR``);
then the same runs are timed one after the other in this process (``sim.run.run`` of each run's
composed config: the engine time). Prints ``key=value`` lines:

- ``engine_s``: seconds of the sweep's runs in one process, engine only (no files written);
- ``sweep_wall_s[workers:N]``: wall time of the whole command (start-up, runs, report);
- ``sweep_efficiency[workers:N]``: ``engine_s / (sweep_wall_s x N)``; 1 is a sweep that costs
  nothing but its runs, 0.5 a sweep as long as its runs one after the other in one process;
- ``sweep_cpu_s[workers:N]``, ``engine_cpu_s``: the same in CPU seconds (all the sweep's
  processes); ``cpu_share_of_engine[workers:N]``: ``engine_cpu_s / sweep_cpu_s``, the sweep's
  overhead apart from idle cores, and less sensitive than wall times to other jobs on the machine;
- ``runs[workers:N]``: runs the report used, as it states them;
- where the sweep's time went, in worker-seconds that add up to N x wall (``*_s[workers:N]``),
  from the timings each run records in ``provenance.json`` (see :func:`breakdown`): ``launch``
  (Python, imports, checks, Hydra's composition of the sweep), ``worker_start`` (worker
  processes, their imports, Hydra's composition of the first job), ``engine``, ``write``,
  ``in_run_other``, ``between_runs`` (Hydra's per-job composition and files, the resume check,
  the fork), ``end_wait``, ``report``, ``unused``;
- ``speedup[workers:N]``: the 1-worker time over the N-worker time (with ``--workers 1 ...``);
- ``identical_results``: whether every sweep's ``comparison/summary.csv`` is byte-identical;
- ``report_files``: the files of the first sweep's ``comparison/`` folder.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SWEEP = ["policy=none,all", "seed=range(0,10)"]  # 20 runs of the default county


def time_sweep(command: list[str], workers: int, sweep_dir: Path) -> tuple[float, float, float]:
    """Run the sweep with ``workers`` processes into ``sweep_dir``.

    Returns:
        Its start (Unix time), its wall time and the CPU time of all its processes (seconds).
    """
    full = [
        sys.executable,
        "-m",
        "sim",
        "-m",
        *command,
        f"hydra.launcher.n_jobs={workers}",
        f"hydra.sweep.dir={sweep_dir}",
        "hydra.callbacks.comparison.progress=false",
    ]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    cpu_before = _children_cpu()
    started = time.time()
    start = time.perf_counter()
    done = subprocess.run(full, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"the sweep failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return started, time.perf_counter() - start, _children_cpu() - cpu_before


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def runs_used(sweep_dir: Path) -> str:
    """The report's "Runs used" statement, e.g. ``200 of 200 planned (0 failed, 0 missing)``."""
    report = (sweep_dir / "comparison" / "report.md").read_text()
    found = re.search(r"Runs used: \*\*(\d+)\*\* of (.*?)\.", report)
    return f"{found.group(1)} of {found.group(2)}" if found else "unknown"


def engine_seconds(sweep_dir: Path) -> tuple[float, float]:
    """Wall and CPU seconds of ``sim.run.run`` for every run of the sweep's plan, one after the
    other in this process."""
    from sim.config import compose
    from sim.run import run

    plan = json.loads((sweep_dir / "sweep_plan.json").read_text())["runs"]
    wall = cpu = 0.0
    for job in plan:
        cfg = compose([*job, "output.progress=false"])
        start, start_cpu = time.perf_counter(), time.process_time()
        run(cfg)
        wall += time.perf_counter() - start
        cpu += time.process_time() - start_cpu
    return wall, cpu


def breakdown(sweep_dir: Path, started: float, wall: float, workers: int) -> dict[str, float]:
    """Where the sweep's worker-seconds (``workers x wall``) went, from the runs' timings.

    Per worker: the time before its first run (``launch``: the launching process until Hydra's
    sweeper writes ``multirun.yaml``, then ``worker_start``), each run (``engine``, ``write``, and
    ``in_run_other``: config validation, checks, provenance), the gaps between its runs
    (``between_runs``), and the time after its last run (``report``: the last run's end to the
    command's end; ``end_wait``: waiting for the other workers' last runs). Workers that ran no
    run count as ``unused``.
    """
    timings = [
        json.loads(p.read_text())["timing"] for p in sorted(sweep_dir.glob("*/provenance.json"))
    ]
    by_worker: dict[int, list[dict[str, float]]] = defaultdict(list)
    for timing in timings:
        by_worker[int(timing["worker"])].append(timing)
    launched = (sweep_dir / "multirun.yaml").stat().st_mtime
    ended = started + wall
    last = max(t["finished"] for t in timings)
    parts = dict.fromkeys(
        ("launch", "worker_start", "engine", "write", "in_run_other", "between_runs"), 0.0
    )
    end_wait = 0.0
    for runs in by_worker.values():
        runs.sort(key=lambda t: t["started"])
        parts["launch"] += launched - started
        parts["worker_start"] += runs[0]["started"] - launched
        for run in runs:
            parts["engine"] += run["engine_s"]
            parts["write"] += run["write_s"]
            parts["in_run_other"] += (
                run["finished"] - run["started"] - run["engine_s"] - run["write_s"]
            )
        parts["between_runs"] += sum(
            b["started"] - a["finished"] for a, b in itertools.pairwise(runs)
        )
        end_wait += last - runs[-1]["finished"]
    parts["end_wait"] = end_wait
    parts["report"] = (ended - last) * len(by_worker)
    parts["unused"] = (workers - len(by_worker)) * wall
    return parts


def main(argv: list[str] | None = None) -> None:
    """Time the sweeps and print the ``key=value`` lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiment", help="a study in experiments/ (default: 20 runs)")
    parser.add_argument("--workers", type=int, nargs="+", default=[2], help="processes to try")
    parser.add_argument("--keep", type=Path, help="write the sweeps here instead of a temp folder")
    parser.add_argument("overrides", nargs="*", help="overrides, after --")
    args = parser.parse_args(argv)
    command = [f"+experiment={args.experiment}"] if args.experiment else []
    command += args.overrides or ([] if args.experiment else DEFAULT_SWEEP)

    print(f"machine={platform.machine()}, {os.cpu_count()} cores", flush=True)
    print(f"sweep={' '.join(command)}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        folders, seconds, cpu = {}, {}, {}
        for workers in args.workers:
            folders[workers] = base / f"sweep_{workers}_workers"
            started, seconds[workers], cpu[workers] = time_sweep(command, workers, folders[workers])
            print(f"sweep_wall_s[workers:{workers}]={seconds[workers]:.1f}", flush=True)
            print(f"sweep_cpu_s[workers:{workers}]={cpu[workers]:.1f}", flush=True)
            print(f"runs[workers:{workers}]={runs_used(folders[workers])}", flush=True)
            parts = breakdown(folders[workers], started, seconds[workers], workers)
            for name, value in parts.items():
                print(f"{name}_s[workers:{workers}]={value:.1f}", flush=True)
        engine, engine_cpu = engine_seconds(folders[args.workers[0]])
        print(f"engine_s={engine:.1f}")
        print(f"engine_cpu_s={engine_cpu:.1f}")
        for workers in args.workers:
            efficiency = engine / (seconds[workers] * workers)
            print(f"sweep_efficiency[workers:{workers}]={efficiency:.2f}")
            print(f"cpu_share_of_engine[workers:{workers}]={engine_cpu / cpu[workers]:.2f}")
        if 1 in seconds:
            for workers in args.workers:
                if workers != 1:
                    print(f"speedup[workers:{workers}]={seconds[1] / seconds[workers]:.2f}")
        summaries = {(f / "comparison" / "summary.csv").read_bytes() for f in folders.values()}
        print(f"identical_results={str(len(summaries) == 1).lower()}")
        first = folders[args.workers[0]] / "comparison"
        print(f"report_files={','.join(sorted(p.name for p in first.iterdir()))}")


if __name__ == "__main__":
    main()
