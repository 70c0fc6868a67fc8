"""Provenance and failure records of a run: ``provenance.json`` and ``error.json``.

``provenance.json`` records what produced a run folder (seed, the composed config, the command-line
overrides, package versions, the code's git commit, host and wall time). It is kept apart from
``summary.json`` so that the summary of two identical runs stays byte-identical.

In a sweep, a run whose ``summary.json`` and ``provenance.json`` exist and whose recorded config
equals the config composed now is complete, and :func:`sim.cli.main.main` skips it; a run that
raised leaves ``error.json`` (exception type, message, traceback) instead of a summary.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import socket
import subprocess
import traceback
from importlib import metadata
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from sim.files import ERROR_FILE, PROVENANCE_FILE, SUMMARY_FILE, atomic_write_text

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
REPOSITORY = Path(__file__).resolve().parents[2]


def package_versions() -> dict[str, str | None]:
    """Installed versions of Python and of the packages a run depends on (None: not installed)."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


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
) -> Path:
    """Write ``provenance.json`` for a finished run.

    Args:
        output_dir: the run folder.
        config: the composed config of the run, resolved to plain containers (the ``hydra`` node
            excluded); it is what a re-run is matched against.
        overrides: the run's command-line overrides.
        wall_time_s: seconds from the start of the run to its last output, wall clock.
    """
    record = {
        "seed": config.get("seed"),
        "overrides": overrides,
        "wall_time_s": round(wall_time_s, 3),
        "finished_at": _now(),
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "git_commit": git_commit(),
        "packages": package_versions(),
        "config": config,
    }
    path = output_dir / PROVENANCE_FILE
    _write_json(path, record)
    return path


def write_error(output_dir: Path, exc: BaseException, *, overrides: list[str]) -> Path:
    """Write ``error.json`` (type, message, traceback) for a run that raised ``exc``."""
    record = {
        "type": type(exc).__name__,
        "message": str(exc),
        "overrides": overrides,
        "failed_at": _now(),
        "host": socket.gethostname(),
        "traceback": "".join(traceback.format_exception(exc)),
    }
    path = output_dir / ERROR_FILE
    _write_json(path, record)
    return path


def is_complete(output_dir: Path, config: dict[str, Any]) -> bool:
    """Whether ``output_dir`` holds a finished run of exactly ``config``."""
    if not (output_dir / SUMMARY_FILE).exists():
        return False
    try:
        recorded = json.loads((output_dir / PROVENANCE_FILE).read_text())
    except (OSError, ValueError):
        return False
    return bool(recorded.get("config") == json.loads(json.dumps(config, default=str)))


def clear_run(output_dir: Path) -> None:
    """Remove the completion and failure records of an earlier attempt before recomputing."""
    for name in (SUMMARY_FILE, PROVENANCE_FILE, ERROR_FILE):
        (output_dir / name).unlink(missing_ok=True)
