"""The names of the files a run and a sweep write, and atomic writes of them.

The one home of these names for both sides of the wall: the command line that writes run folders
and the analysis that reads them. Kept free of model imports, so that the comparison code (which
reads files only) can use it. A reader never sees a half-written result file.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

# A run folder
SUMMARY_FILE = "summary.json"  # written last: its presence marks a finished run
TIMESERIES_FILE = "timeseries.parquet"
HOUSEHOLDS_FILE = "households.parquet"
PROVENANCE_FILE = "provenance.json"
ERROR_FILE = "error.json"  # instead of the summary, when the run failed
OVERRIDES_FILE = Path(".hydra") / "overrides.yaml"
CONFIG_FILE = Path(".hydra") / "config.yaml"
# A sweep folder
PLAN_FILE = "sweep_plan.json"
COMPARISON_DIR = "comparison"
PROGRESS_DIR = ".progress"

# The temporary file of an atomic write of ``STEM.EXT``: ``.STEM.<random>.tmp.EXT`` beside it (the
# extension kept last, so that writers that infer a format from it, like ``savefig``, still can).
_TEMP_NAME = re.compile(r"\..+\.tmp(\.[^.]+)?")


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``.

    The temporary file is ``.STEM.<random>.tmp.EXT``: a process killed while writing leaves it
    behind, and :func:`temp_files` finds it. The file gets the usual permissions (0644):
    ``mkstemp`` would leave it readable by its owner only.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}"
    )
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    atomic_write(path, lambda tmp: tmp.write_text(text))


def temp_files(folder: Path) -> Iterator[Path]:
    """Temporary files of atomic writes that never finished (a killed process) under ``folder``."""
    for path in Path(folder).rglob(".*"):
        if _TEMP_NAME.fullmatch(path.name) and path.is_file():
            yield path
