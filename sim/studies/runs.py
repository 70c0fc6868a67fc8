"""A study's files and its runs as one table (the analysis side: files only, never the model).

A study's sweeper (:mod:`sim.studies.sweeper`) writes into ``SWEEP_DIR/<study>/``
(``sensitivity`` or ``robust``): ``study.json`` (settings, parameters, design), ``design.csv``
(parameter values of each design point), ``jobs.csv`` (design point, scenario, seed -> run number)
and ``sweep.json`` (wall time of the last launch). The runs themselves are read by
:func:`sim.analysis.compare.read_sweep` from their folders, matched to the plan by overrides.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis.compare import CompareError, read_sweep

STUDY_FILE = "study.json"
DESIGN_FILE = "design.csv"
JOBS_FILE = "jobs.csv"
SWEEP_FILE = "sweep.json"


class StudyError(RuntimeError):
    """A study folder cannot be analysed (not a study, or runs failed or are missing)."""


def read_study(sweep_dir: Path, node: str) -> tuple[dict[str, Any], pd.DataFrame]:
    """The study's settings and one row per (design point, scenario, seed) with its run's metrics.

    Returns:
        ``study.json`` as a dict (with ``wall_time_s`` of the last launch when recorded), and a
        table with the columns of ``jobs.csv`` (``point`` or ``draw``, ``scenario``, ``seed``,
        ``run``) plus ``status`` and every numeric figure of the run's summary (nested keys as
        ``parent.child``).

    Raises:
        StudyError: the folder holds no study of this kind, or some runs did not finish.
    """
    folder = Path(sweep_dir) / node
    try:
        study = json.loads((folder / STUDY_FILE).read_text())
        jobs = pd.read_csv(folder / JOBS_FILE, dtype={"scenario": str}, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise StudyError(f"{folder}: not a {node} study ({type(exc).__name__})") from None
    try:
        study.update(json.loads((folder / SWEEP_FILE).read_text()))
    except (OSError, ValueError):
        pass  # analysed before the launch finished: no wall time to report
    try:
        runs = read_sweep(Path(sweep_dir)).runs
    except CompareError as exc:
        raise StudyError(str(exc)) from None
    metrics = runs.drop(columns=["scenario", "folder", "overrides", "seed"], errors="ignore")
    numeric = [c for c in metrics.columns if pd.api.types.is_numeric_dtype(metrics[c])]
    table = jobs.merge(
        metrics[list(dict.fromkeys(["job", "status", *numeric]))],
        left_on="run",
        right_on="job",
        how="left",
    ).drop(columns="job")
    table["status"] = table["status"].fillna("missing")
    bad = table.drop_duplicates("run")["status"].value_counts().drop("ok", errors="ignore")
    if len(bad):
        counts = ", ".join(f"{n} {status}" for status, n in bad.items())
        raise StudyError(
            f"{counts} of {table['run'].nunique()} runs in {sweep_dir}; run the same command "
            f"with hydra.sweep.dir={sweep_dir} to finish them"
        )
    return study, table


def save_figure(figure: Any, path: Path) -> None:
    """Write ``figure`` as ``path``.png and ``path``.svg (atomically), then close it."""
    from functools import partial

    import matplotlib.pyplot as plt

    from sim.files import atomic_write

    figure.tight_layout()
    for suffix in (".png", ".svg"):
        atomic_write(path.with_suffix(suffix), partial(figure.savefig, dpi=150))
    plt.close(figure)


def analysis_command(
    prog: str, description: str | None, analyse: Any, argv: Sequence[str] | None
) -> int:
    """``python -m PROG SWEEP_DIR [--no-plots]``: rebuild a study's outputs; the exit status.

    Args:
        prog: the command's name, for its help.
        description: the help text (the module docstring).
        analyse: ``analyse(sweep_dir, plots=...)`` returning a report with ``describe()``.
        argv: the arguments (default: the command line's).
    """
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("sweep_dir", type=Path)
    parser.add_argument("--no-plots", action="store_true", help="tables and report only")
    args = parser.parse_args(argv)
    try:
        report = analyse(args.sweep_dir, plots=not args.no_plots)
    except StudyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report.describe())
    return 0
