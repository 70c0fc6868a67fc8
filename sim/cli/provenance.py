"""Provenance and failure records of a run (``provenance.json``, ``error.json``), and resume checks.

``provenance.json`` records what produced a run folder (seed, the composed config, the command-line
overrides, the code version, package versions, the repository's git commit, host and timings). It
is kept apart from ``summary.json`` so that the summary of two identical runs stays byte-identical.

A sweep run again into its folder reuses a finished run only when :func:`reuse_refusal` finds
nothing against it: ``summary.json`` parses and holds every key of the output contract, and the
recorded config and code version equal the ones of this attempt. A run that raised leaves
``error.json`` (exception type, message, traceback) instead of a summary.

Git and the package metadata are asked once per process (a sweep worker runs many jobs).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import platform
import signal
import socket
import subprocess
import traceback
from importlib import metadata
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from sim.files import (
    ERROR_FILE,
    PROVENANCE_FILE,
    SUMMARY_FILE,
    atomic_write_text,
    temp_files,
)

PACKAGES = (
    "poverty-relapse-sim",
    "numpy",
    "pandas",
    "pyarrow",
    "mesa",
    "hydra-core",
    "omegaconf",
    "scipy",
    "matplotlib",
    "joblib",
    "hydra-joblib-launcher",
    "hydra-submitit-launcher",
    "hydra-ray-launcher",
)
PACKAGE = Path(__file__).resolve().parents[1]  # the installed or checked-out ``sim`` package
REPOSITORY = PACKAGE.parent
# Subpackages that read run folders and never change what a run computes or writes.
NOT_RUN_CODE = ("analysis", "explore", "studies")
# The keys every summary has (DESIGN.md section 6, the output contract): a summary without one of
# them was not written by a finished run.
SUMMARY_KEYS = (
    "seed",
    "households",
    "years",
    "relapse_rate",
    "relapse_cumulative",
    "new_poverty_rate",
    "headcount_ratio_final",
    "relapses_by_cause",
    "cost_total_yuan",
    "cost_by_policy_yuan",
)


@functools.cache
def package_versions() -> dict[str, str | None]:
    """Installed versions of Python and of the packages a run depends on (None: not installed)."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


@functools.cache
def machine() -> dict[str, str]:
    """The host's name and platform (``platform.platform()`` takes about 20 ms the first time)."""
    return {"host": socket.gethostname(), "platform": platform.platform()}


@functools.cache
def git_commit() -> str | None:
    """The repository's commit, with ``+dirty`` if tracked files changed; None outside git."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPOSITORY), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPOSITORY), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{commit}+dirty" if dirty else commit


@functools.cache
def code_version() -> dict[str, str | None]:
    """The version of the code that computes a run: the package version and a source hash.

    ``sources_sha256`` hashes the names and contents of the ``sim`` package's Python files that
    compute and write a run (all but the analysis side: :data:`NOT_RUN_CODE`), so it is the same
    for a checkout, an editable install and a wheel of the same code, and changes with any change
    of that code (a resumed sweep recomputes its runs then).
    """
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in NOT_RUN_CODE:
            continue
        digest.update(relative.as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return {
        "package": package_versions()["poverty-relapse-sim"],
        "sources_sha256": digest.hexdigest(),
    }


def composed_config(raw: DictConfig) -> dict[str, Any]:
    """A composed config as plain dicts and lists, interpolations resolved."""
    container = OmegaConf.to_container(raw, resolve=True)
    assert isinstance(container, dict)
    return {str(key): value for key, value in container.items()}


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _write_json(path: Path, record: dict[str, Any]) -> None:
    atomic_write_text(path, json.dumps(record, indent=2, default=str) + "\n")


def write_provenance(
    output_dir: Path,
    *,
    config: dict[str, Any],
    overrides: list[str],
    wall_time_s: float,
    timing: dict[str, float] | None = None,
) -> Path:
    """Write ``provenance.json`` for a finished run.

    Args:
        output_dir: the run folder.
        config: the composed config of the run, resolved to plain containers (the ``hydra`` node
            excluded); it is what a re-run is matched against.
        overrides: the run's command-line overrides.
        wall_time_s: seconds from the start of the run to its last output, wall clock.
        timing: where the run's time went, e.g. ``started`` (Unix time, seconds) and
            ``engine_s`` (seconds of :func:`sim.run.run`); read by ``benchmarks/sweep_time.py``.
    """
    record = {
        "seed": config.get("seed"),
        "overrides": overrides,
        "wall_time_s": round(wall_time_s, 3),
        "timing": timing or {},
        "finished_at": _now(),
        **machine(),
        "code": code_version(),
        "git_commit": git_commit(),
        "packages": package_versions(),
        "config": config,
    }
    path = output_dir / PROVENANCE_FILE
    _write_json(path, record)
    return path


def write_error(
    output_dir: Path,
    exc: BaseException | None,
    *,
    overrides: list[str],
    killed_by: int | None = None,
) -> Path:
    """Write ``error.json`` for a run that raised ``exc`` or whose process was killed.

    Args:
        output_dir: the run folder.
        exc: the exception the run raised; None when its process was killed.
        overrides: the run's command-line overrides.
        killed_by: the number of the signal that killed the run's process.
    """
    if exc is not None:
        record: dict[str, Any] = {
            "type": type(exc).__name__,
            "message": str(exc),
            "traceback": "".join(traceback.format_exception(exc)),
        }
    else:
        try:
            name = signal.Signals(killed_by or 0).name
        except ValueError:
            name = "unknown signal"
        record = {
            "type": "Killed",
            "message": f"the run's process was killed by signal {killed_by} ({name}); SIGKILL is "
            "what the out-of-memory killer sends",
            "signal": killed_by,
        }
    record.update(overrides=overrides, failed_at=_now(), host=socket.gethostname())
    path = output_dir / ERROR_FILE
    _write_json(path, record)
    return path


def _read_json(path: Path) -> tuple[Any, str | None]:
    """The JSON in ``path``, or None and why it cannot be read."""
    try:
        return json.loads(path.read_text()), None
    except FileNotFoundError:
        return None, "missing"
    except (OSError, ValueError) as exc:
        return None, type(exc).__name__


def reuse_refusal(output_dir: Path, config: dict[str, Any]) -> str | None:
    """Why the run folder ``output_dir`` cannot stand for a run of ``config``; None if it can.

    The reasons, one class each: ``not finished`` (no summary, or a failure record),
    ``summary unreadable``, ``summary incomplete`` (a key of :data:`SUMMARY_KEYS` missing),
    ``no provenance``, ``config changed``, ``code changed``.
    """
    if not (output_dir / SUMMARY_FILE).exists():
        return "not finished"
    summary, _ = _read_json(output_dir / SUMMARY_FILE)
    if not isinstance(summary, dict):
        return "summary unreadable"
    if any(key not in summary for key in SUMMARY_KEYS):
        return "summary incomplete"
    recorded, _ = _read_json(output_dir / PROVENANCE_FILE)
    if not isinstance(recorded, dict):
        return "no provenance"
    if recorded.get("config") != json.loads(json.dumps(config, default=str)):
        return "config changed"
    if recorded.get("code") != code_version():
        return "code changed"
    return None


def clear_run(output_dir: Path) -> None:
    """Remove the records and temporary files of an earlier attempt before recomputing."""
    for name in (SUMMARY_FILE, PROVENANCE_FILE, ERROR_FILE):
        (output_dir / name).unlink(missing_ok=True)
    for path in temp_files(output_dir):
        path.unlink(missing_ok=True)
