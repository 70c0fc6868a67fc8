"""One-line checks of a ``python -m sim`` command line, before Hydra starts or a run allocates.

Each check returns None or one line that names the override (or key, or path) and what is
allowed, which :func:`sim.cli.main.cli` prints on stderr before it exits with status 2:

- :func:`command_line_error`: malformed overrides, a key given twice, run folders outside the
  sweep folder, a run or sweep folder that cannot be written, a launcher that cannot start here,
  unknown config-group options and keys (with the allowed ones), a config group set to a value,
  keys the schema does not have (``+poverty.extra=5``), interpolations that do not resolve;
- :func:`memory_error`: a population that will not fit in the memory available, estimated from
  the number of households before anything is allocated.

Range and type checks of values are :func:`sim.config.load_config`'s: in a sweep a bad value fails
its run only. The checks cost one composition of the config (about 0.1 s) per start.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import shutil
import sys
import typing
from collections.abc import Sequence
from pathlib import Path, PurePath
from typing import Any, NoReturn

from sim.cli import hydra_private
from sim.config import CONFIG_DIR

# Peak memory of a run per household: 1,024 bytes traced by tracemalloc over `sim.run.run` and
# `write_outputs` of 100,000 households under `policy=all` (1,028 at 20,000), plus the Arrow copy of
# the household table when it is written (about 70 bytes, not traced), rounded up;
# tests/test_cli_refusals.py measures it again.
BYTES_PER_HOUSEHOLD = 1200
# The interpreter with numpy, pandas, Mesa and Hydra loaded, before any household exists.
BYTES_PER_PROCESS = 300 * 2**20
# A launcher config of configs/hydra/launcher/ -> the modules it needs and how to get them.
LAUNCHER_NEEDS = {
    "cores": (("hydra_plugins.hydra_joblib_launcher",), "pip install hydra-joblib-launcher"),
    "local_submitit": (
        ("hydra_plugins.hydra_submitit_launcher", "submitit"),
        'pip install -e ".[cluster]"',
    ),
    "slurm": (("hydra_plugins.hydra_submitit_launcher", "submitit"), 'pip install -e ".[cluster]"'),
    "ray_cluster": (("hydra_plugins.hydra_ray_launcher", "ray"), 'pip install -e ".[cluster]"'),
}
GRAMMAR = "overrides are KEY=VALUE (seed=3), +KEY=VALUE to add a key, ~KEY to remove one"


def refuse(message: str, status: int = 2) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``status`` (2: bad input)."""
    print(f"error: {message}", file=sys.stderr, flush=True)
    sys.exit(status)


def _key(line: str) -> str:
    return line.split("=", 1)[0].lstrip("+~")


def syntax_error(lines: Sequence[str]) -> str | None:
    """The first override that Hydra's grammar cannot read, and why."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    parser = OverridesParser.create()
    for line in lines:
        if line.startswith("=") or _key(line) == "":
            return f"{line}: no key before '='; {GRAMMAR}"
        try:
            parser.parse_overrides([line])
        except HydraException as exc:
            if "=" not in line and not line.startswith("~"):
                return f"{line}: not an override; {GRAMMAR}"
            reasons = [
                text.strip()
                for text in str(exc).splitlines()
                if text.strip() and not text.startswith("See ") and "Error parsing" not in text
            ]
            return f"{line}: cannot be read ({reasons[0] if reasons else 'syntax'}); {GRAMMAR}"
    return None


def repeated_key_error(lines: Sequence[str]) -> str | None:
    """A key given more than once (Hydra would silently take the last value)."""
    seen: dict[str, list[str]] = {}
    for line in lines:
        seen.setdefault(_key(line), []).append(line)
    for key, given in seen.items():
        if len(given) > 1:
            return f"{key} is given {len(given)} times ({' '.join(given)}); give each key once"
    return None


def folder_problem(path: Path) -> str | None:
    """Why a run could not write into the folder ``path`` (creating it if needed), or None."""
    path = path.absolute()
    existing = next(p for p in (path, *path.parents) if p.exists() or p.is_symlink())
    if not existing.is_dir():
        return f"{existing} is a file, not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{existing} is not writable"
    return None


def subdir_error(subdir: str) -> str | None:
    """Why a sweep's ``hydra.sweep.subdir`` would put run folders outside the sweep folder."""
    parts = PurePath(subdir).parts
    if PurePath(subdir).is_absolute() or ".." in parts or not parts:
        return (
            f"hydra.sweep.subdir={subdir}: run folders must stay inside the sweep folder; allowed: "
            "a relative path without '..', e.g. ${hydra.job.num} (the default)"
        )
    return None


def folder_error(lines: Sequence[str], *, multirun: bool) -> str | None:
    """A run or sweep folder on the command line that cannot be written, or runs outside a sweep."""
    for line in lines:
        key, _, value = line.partition("=")
        if key == "hydra.sweep.subdir" and (problem := subdir_error(value)):
            return problem
        if key != ("hydra.sweep.dir" if multirun else "hydra.run.dir") or "${" in value:
            continue
        if problem := folder_problem(Path(value)):
            return f"{line}: cannot write the outputs there: {problem}; allowed: a writable folder"
    return None


def launcher_error(lines: Sequence[str]) -> str | None:
    """A launcher (``hydra/launcher=NAME``) that cannot start on this machine, and what it needs."""
    for line in lines:
        key, _, name = line.partition("=")
        if key.lstrip("+") != "hydra/launcher" or name not in LAUNCHER_NEEDS:
            continue
        modules, install = LAUNCHER_NEEDS[name]
        missing = [m for m in modules if _absent(m)]
        if missing:
            return f"{line}: needs {', '.join(missing)}, which is not installed: {install}"
        if name == "slurm" and shutil.which("sbatch") is None:
            return (
                f"{line}: needs Slurm, and sbatch is not on this machine's PATH: run the sweep "
                "on the cluster's login node, or try it here with hydra/launcher=local_submitit"
            )
    return None


def _absent(module: str) -> bool:
    """Whether ``module`` cannot be imported here (without importing it)."""
    try:
        return importlib.util.find_spec(module) is None
    except ModuleNotFoundError:
        return True


def command_line_error(args: Sequence[str]) -> str | None:
    """A one-line description of what is wrong with a ``python -m sim`` command line, or None.

    Hydra reports an unknown option of a config group or an unknown key over several lines,
    with a hint about its own syntax; this check composes the configs first (for a sweep, with the
    first value of each swept key; the other options of a swept config group must be files of
    the group) and names the override and what is allowed instead.
    """
    parsed = hydra_private.parse_args(args)
    if parsed is None or parsed.config_dir or parsed.config_name or parsed.experimental_rerun:
        return None
    if parsed.unrecognized:
        return (
            f"{parsed.unrecognized[0]}: not expected here; options go before the overrides "
            "(python -m sim -m KEY=VALUE ...)"
        )
    lines = list(parsed.overrides)
    multirun = bool(parsed.multirun)
    return (
        syntax_error(lines)
        or repeated_key_error(lines)
        or folder_error(lines, multirun=multirun)
        or (launcher_error(lines) if multirun else None)
        or composition_error(lines)
    )


def composition_error(lines: Sequence[str]) -> str | None:
    """An override the configs cannot take: unknown options and keys, groups set to values."""
    from hydra import compose, initialize_config_dir
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    overrides = OverridesParser.create().parse_overrides(list(lines))
    together: list[str] = []  # one value per key: a single run standing for the command line
    for o in overrides:
        if o.key_or_group.startswith("hydra"):
            continue
        if not o.is_sweep_override():
            together.append(o.input_line or f"{o.get_key_element()}={o.value()}")
            continue
        values = [f"{o.get_key_element()}={v}" for v in o.sweep_string_iterator()]
        together.append(values[0])
        group = CONFIG_DIR / o.key_or_group
        for value in values[1:] if group.is_dir() else ():  # the other options of a swept group
            if not (group / f"{value.split('=', 1)[1]}.yaml").is_file():
                options = ", ".join(sorted(p.stem for p in group.glob("*.yaml")))
                return f"{value}: no such option; allowed {o.key_or_group}: {options}"
    errors = (HydraException, OmegaConfBaseException, ValueError)
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        try:
            composed = compose(config_name="config", overrides=together)
        except errors as exc:
            combined: Exception | None = exc
        else:
            combined = None
        for override in together if combined else ():
            try:
                compose(config_name="config", overrides=[override])
            except errors as exc:
                return _one_line(override, exc, OmegaConf.to_container(compose("config")))
        if combined is not None:
            defaults = OmegaConf.to_container(compose("config"))
            return _one_line(" ".join(together), combined, defaults)
    return _schema_error(together, composed) or _interpolation_error(together, composed)


def _one_line(override: str, exc: Exception, defaults: Any) -> str:
    """``override``'s error in one line, with the options or keys allowed in its place."""
    key = _key(override)
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    options = getattr(exc, "options", None)  # a config group's options (MissingConfigException)
    if not options and (CONFIG_DIR / key).is_dir():
        options = sorted(p.stem for p in (CONFIG_DIR / key).glob("*.yaml"))
    if options:
        return f"{override}: no such option; allowed {key}: {', '.join(options)}"
    node, parent = defaults, list[str]()
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            break
        node, parent = node[part], [*parent, part]
    if isinstance(node, dict) and len(parent) < len(key.split(".")):
        where = ".".join(parent) or "the top level"
        return f"{override}: no such key; allowed under {where}: {', '.join(node)}"
    return f"{override}: {'; '.join(lines)}"


def _schema_error(together: Sequence[str], composed: Any) -> str | None:
    """A key the schema lacks (``+poverty.extra=5``), or a group set to a value (``poverty=5``).

    Only keys under the run's own nodes (``Config``'s fields) are checked: other top-level nodes,
    like a study's settings (``robust.draws``), are for their sweeper, which removes them.
    """
    from omegaconf import DictConfig, OmegaConf

    from sim.config import Config

    for line in together:
        key = _key(line)
        parts = key.split(".")
        if (CONFIG_DIR / key).is_dir() or parts[0] not in typing.get_type_hints(Config):
            continue
        node: Any = Config
        for depth, part in enumerate(parts):
            if not dataclasses.is_dataclass(node):
                break  # a value, or a mapping open to any key
            hints = typing.get_type_hints(node)
            if part not in hints:
                where = ".".join(parts[:depth]) or "the top level"
                return f"{line}: no such key; allowed under {where}: {', '.join(hints)}"
            node = hints[part]
        if dataclasses.is_dataclass(node) and not isinstance(
            OmegaConf.select(composed, key), DictConfig
        ):
            names = [f.name for f in dataclasses.fields(node)]
            return (
                f"{line}: {key} is a group of keys ({', '.join(names)}), not a value; "
                f"set one of them, e.g. {key}.{names[0]}=..."
            )
    return None


def _interpolation_error(together: Sequence[str], composed: Any) -> str | None:
    """An override whose interpolation (``${...}``) does not resolve."""
    from omegaconf import OmegaConf
    from omegaconf.errors import InterpolationResolutionError

    for line in together:
        if "${" not in line or "${hydra:" in line:
            continue
        key = _key(line)
        try:
            OmegaConf.select(composed, key, throw_on_resolution_failure=True)
        except InterpolationResolutionError as exc:
            reason = str(exc).splitlines()[0]
            return f"{line}: the interpolation does not resolve ({reason}); allowed: a value"
    return None


def available_memory() -> int | None:
    """Bytes of memory this process could still get, or None when unknown.

    The least of the machine's available memory (``MemAvailable`` in /proc/meminfo, else free
    pages), a cgroup (container) limit, and this process's address-space and data limits
    (``ulimit -v``, ``ulimit -d``) less what it uses.
    """
    found: list[int] = []
    status = _proc_kib(Path("/proc/meminfo"), "MemAvailable")
    if status is not None:
        found.append(status)
    else:
        try:
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (OSError, ValueError, AttributeError):
            pass
    cgroup = Path("/sys/fs/cgroup")
    try:
        limit = (cgroup / "memory.max").read_text().strip()
        if limit != "max":
            found.append(int(limit) - int((cgroup / "memory.current").read_text()))
    except (OSError, ValueError):
        pass
    try:
        import resource
    except ImportError:  # not a POSIX system: no process limits to read
        return min(found) if found else None
    for name, used in (("RLIMIT_AS", "VmSize"), ("RLIMIT_DATA", "VmData")):
        soft, _ = resource.getrlimit(getattr(resource, name))
        if soft != resource.RLIM_INFINITY:
            found.append(soft - (_proc_kib(Path("/proc/self/status"), used) or 0))
    return min(found) if found else None


def _proc_kib(path: Path, field: str) -> int | None:
    """A ``Field:  N kB`` line of a /proc file, in bytes."""
    try:
        for row in path.read_text().splitlines():
            if row.startswith(f"{field}:"):
                return int(row.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def memory_needed(households: int) -> int:
    """Estimated peak bytes of a run of ``households`` households (see BYTES_PER_HOUSEHOLD)."""
    return BYTES_PER_PROCESS + BYTES_PER_HOUSEHOLD * households


def memory_error(households: int) -> str | None:
    """Why a run of ``households`` households will not fit in the memory available, or None."""
    available = available_memory()
    needed = memory_needed(households)
    if available is None or needed <= available:
        return None
    gib = 2**30
    most = max((available - BYTES_PER_PROCESS) // BYTES_PER_HOUSEHOLD, 0)
    return (
        f"population.households={households}: a run needs about {needed / gib:.1f} GiB of memory "
        f"({BYTES_PER_HOUSEHOLD} bytes per household), {available / gib:.1f} GiB are available; "
        f"allowed here: at most about {most:,} households"
    )
