"""Wall time of a prepared study (``experiments/``) with 1, 2, ... local workers.

Run from the repository root::

    python -m benchmarks.sweep_time            # policy_comparison with 1 and 2 workers
    python -m benchmarks.sweep_time --experiment shock_intensity --workers 2
    python -m benchmarks.sweep_time -- population=small 'seed=range(0,4)'   # extra overrides

Each sweep is the real command line, ``python -m sim -m +experiment=NAME
hydra.launcher.n_jobs=N``, run in a child process into a temporary folder (or ``--keep DIR``).
Prints ``key=value`` lines:

- ``sweep_wall_s[workers:N]``: wall time of the whole command (start-up, runs, report);
- ``runs[workers:N]``: runs the report used, as it states them;
- ``speedup[workers:N]``: the 1-worker time over the N-worker time (with ``--workers 1 ...``);
- ``identical_results``: whether every sweep's ``comparison/summary.csv`` is byte-identical;
- ``report_files``: the files of the first sweep's ``comparison/`` folder.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def time_sweep(experiment: str, workers: int, sweep_dir: Path, extra: list[str]) -> float:
    """Run the study with ``workers`` processes into ``sweep_dir``; its wall time in seconds."""
    command = [
        sys.executable,
        "-m",
        "sim",
        "-m",
        f"+experiment={experiment}",
        f"hydra.launcher.n_jobs={workers}",
        f"hydra.sweep.dir={sweep_dir}",
        "hydra.callbacks.comparison.progress=false",
        *extra,
    ]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return time.perf_counter() - start


def runs_used(sweep_dir: Path) -> str:
    """The report's "Runs used" statement, e.g. ``200 of 200 planned (0 failed, 0 missing)``."""
    report = (sweep_dir / "comparison" / "report.md").read_text()
    found = re.search(r"Runs used: \*\*(\d+)\*\* of (.*)\.", report)
    return f"{found.group(1)} of {found.group(2)}" if found else "unknown"


def main(argv: list[str] | None = None) -> None:
    """Time the sweeps and print the ``key=value`` lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiment", default="policy_comparison", help="a study in experiments/")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="processes to try")
    parser.add_argument("--keep", type=Path, help="write the sweeps here instead of a temp folder")
    parser.add_argument("overrides", nargs="*", help="extra overrides, after --")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        folders, seconds = {}, {}
        for workers in args.workers:
            folders[workers] = base / f"{args.experiment}_{workers}_workers"
            seconds[workers] = time_sweep(
                args.experiment, workers, folders[workers], args.overrides
            )
            print(f"sweep_wall_s[workers:{workers}]={seconds[workers]:.1f}", flush=True)
            print(f"runs[workers:{workers}]={runs_used(folders[workers])}", flush=True)
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
