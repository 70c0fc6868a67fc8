"""The Python API, for notebooks and scripts: run a scenario, compare runs, read a sweep.

``sim.simulate`` takes the same overrides as ``python -m sim`` and gives the same summary, bit for
bit; it writes nothing unless :meth:`Result.save` is called. ``sim.compare_runs`` and
``sim.load_sweep`` give the tables of the comparison report (:mod:`sim.analysis.compare`) as
pandas DataFrames, differences to the baseline paired on seed. A bad override raises
:class:`sim.ConfigError` with the one line the command line prints. Heavy modules (the engine,
Hydra, pandas, matplotlib) are imported on first use, so ``import sim`` stays cheap and never
chooses a matplotlib backend. See ``docs/api.md``.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.files import CONFIG_FILE, OVERRIDES_FILE, SUMMARY_FILE, atomic_write_text
from sim.params import ConfigError

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from sim.config import Config

Overrides = Sequence[str] | Mapping[str, Any]


@dataclass(frozen=True, eq=False)
class Result:
    """One run of a scenario, in memory.

    Attributes:
        config: the validated, typed config of the run.
        overrides: the overrides it was composed with, as on the command line (the keyword
            arguments of :func:`simulate` last, e.g. ``seed=3``).
        summary: the figures ``summary.json`` holds (shares in [0, 1], costs in yuan).
        timeseries: one row per month (``timeseries.parquet``).
        households: one row per household at the end of the run (``households.parquet``).
        wall_time_s: seconds the run took, wall clock.
    """

    config: Config
    overrides: tuple[str, ...]
    summary: dict[str, Any]
    timeseries: pd.DataFrame
    households: pd.DataFrame
    wall_time_s: float

    def __repr__(self) -> str:
        s = self.summary
        return (
            f"Result({' '.join(self.overrides) or 'defaults'}: relapse rate "
            f"{100 * s['relapse_rate']:.2f}% a year, {s['households']:,} households, "
            f"{s['years']} years)"
        )

    def save(self, directory: str | Path) -> Path:
        """Write the run folder ``python -m sim`` writes, except the plots, and return it.

        ``.hydra/config.yaml`` and ``.hydra/overrides.yaml``, ``timeseries.parquet``,
        ``households.parquet`` (when ``output.household_table``), ``summary.json`` (last: it marks
        the run complete) and ``provenance.json``. ``python -m sim.compare``, :func:`compare_runs`
        and :func:`load_sweep` read such folders.
        """
        from sim.cli.provenance import write_provenance
        from sim.run import RunResult, write_outputs

        folder = Path(directory)
        config = _config_dict(self.config)
        _write_hydra_files(folder, config, self.overrides)
        run = RunResult(self.summary, self.timeseries, self.households)
        write_outputs(run, folder, household_table=self.config.output.household_table)
        write_provenance(
            folder, config=config, overrides=list(self.overrides), wall_time_s=self.wall_time_s
        )
        return folder

    def plot(self) -> Figure:
        """The run's dashboard as a matplotlib figure: headcount, relapse, causes, incomes.

        The figure is built without pyplot, so no backend is chosen or changed; a notebook shows
        it inline, ``fig.savefig("run.png")`` writes it.
        """
        from matplotlib.figure import Figure

        from sim.analysis import dashboard

        fig = Figure(figsize=(12, 8), layout="constrained")
        axes = fig.subplots(2, 2)
        dashboard.plot_headcount(self.timeseries, axes[0, 0])
        dashboard.plot_relapse(self.timeseries, axes[0, 1])
        dashboard.plot_causes(self.summary["relapses_by_cause"], axes[1, 0])
        dashboard.plot_income_distribution(self.households, self.config.poverty.line, axes[1, 1])
        s = self.summary
        fig.suptitle(
            f"{s['households']:,} households, {s['years']} years, seed {s['seed']}: "
            f"relapse rate {100 * s['relapse_rate']:.2f}% a year"
        )
        return fig


@dataclass(frozen=True, eq=False)
class SweepTables:
    """A sweep folder as tables (see :mod:`sim.analysis.compare` for the columns).

    Attributes:
        folder: the sweep folder.
        runs: one row per planned or found run: status (``ok``, ``failed``, ``missing``), seed,
            the varying parameters and the summary's figures.
        summary: one row per scenario: seeds, mean and 95% interval of every figure, and the
            difference to the baseline paired on seed (``<figure>_diff``, ``_diff_lo``,
            ``_diff_hi``); ``None`` when no run finished.
        params: the parameters that vary between scenarios.
    """

    folder: Path
    runs: pd.DataFrame
    summary: pd.DataFrame | None
    params: list[str]


def simulate(
    overrides: Overrides = (),
    *,
    seed: int | None = None,
    households: int | None = None,
    years: int | None = None,
) -> Result:
    """Run one scenario in memory and return its results; nothing is written.

    Args:
        overrides: command-line overrides (``["policy=all", "shocks=severe"]``) or a mapping of
            key to value (``{"policy": "all", "shocks.hospitalisation_rate": 0.2}``).
        seed: the run seed (``seed=N``); every random stream derives from it.
        households: households in the county (``population.households=N``).
        years: years simulated from 2021 (``years=N``).

    Raises:
        ConfigError: an override the configs cannot take, with the one line the command line
            prints (an unknown key or option and what is allowed, a value out of its range).
    """
    args = _override_list(overrides)
    keywords = {"seed": seed, "population.households": households, "years": years}
    for key, value in keywords.items():
        if value is None:
            continue
        given = [o for o in args if o.split("=", 1)[0].lstrip("+~") == key]
        if given:
            raise ConfigError(f"{key}: given twice, as {given[0]} and as a keyword; give it once")
        args.append(f"{key}={_text(value)}")
    cfg = _compose(args)
    from sim.run import run

    started = time.perf_counter()
    result = run(cfg)
    return Result(
        config=cfg,
        overrides=tuple(args),
        summary=result.summary,
        timeseries=result.timeseries,
        households=result.households,
        wall_time_s=time.perf_counter() - started,
    )


def compare_runs(
    runs: Iterable[Result | str | Path], *, baseline: str | Sequence[str] = ()
) -> pd.DataFrame:
    """The comparison table of ``runs`` (results or run folders), paired on seed.

    Runs with the same overrides apart from the seed form a scenario; the table has one row per
    scenario, as ``comparison/summary.csv`` of a sweep: seeds, mean and 95% interval of each
    figure, and the difference to the baseline scenario computed seed by seed
    (``<figure>_diff``), and the report's cost-effectiveness columns. An override that only some
    runs set counts, for the others, with its default value.

    Args:
        runs: :class:`Result` objects or run folders (written by ``python -m sim`` or
            :meth:`Result.save`).
        baseline: ``KEY=VALUE`` settings that pick the baseline scenario (``"policy=none"``);
            by default ``policy=none``, else the first scenario without policies, else the first.

    Raises:
        sim.analysis.compare.CompareError: no run, or no scenario has the baseline setting.
    """
    from sim.analysis.compare import CompareError, read_sweep, summarize_sweep

    records = [_run_record(run) for run in runs]
    if not records:
        raise CompareError("compare_runs: no runs given")
    keys = [
        key
        for key in dict.fromkeys(_key(o) for overrides, _, _ in records for o in overrides)
        if key != "seed"
    ]
    with tempfile.TemporaryDirectory(prefix="sim-compare-") as tmp:
        for number, (overrides, summary, config) in enumerate(records):
            folder = Path(tmp) / str(number)
            given = {_key(o): o for o in overrides if _key(o) != "seed"}
            complete = [given.get(k) or f"{k}={_default_value(k, config)}" for k in keys]
            _write_hydra_files(folder, config, [*complete, f"seed={summary['seed']}"])
            atomic_write_text(folder / SUMMARY_FILE, json.dumps(summary, indent=2) + "\n")
        return summarize_sweep(read_sweep(Path(tmp)), _settings(baseline))


def load_sweep(directory: str | Path, *, baseline: str | Sequence[str] = ()) -> SweepTables:
    """Read a sweep folder (``python -m sim -m ...``) into tables of runs and scenarios.

    Args:
        directory: the sweep folder (``hydra.sweep.dir``).
        baseline: ``KEY=VALUE`` settings that pick the baseline scenario, as
            ``python -m sim.compare --baseline``.

    Raises:
        sim.analysis.compare.CompareError: the folder holds no run, or the baseline is not a
            setting of the sweep.
    """
    from sim.analysis.compare import read_sweep, summarize_sweep

    sweep = read_sweep(Path(directory))
    finished = (sweep.runs["status"] == "ok").any()
    summary = summarize_sweep(sweep, _settings(baseline)) if finished else None
    return SweepTables(Path(directory), sweep.runs, summary, sweep.params)


# -- helpers ------------------------------------------------------------------------------


def _text(value: Any) -> str:
    """A value as an override writes it (``True`` -> ``true``, ``None`` -> ``null``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def _override_list(overrides: Overrides) -> list[str]:
    if isinstance(overrides, str):
        return [overrides]
    if isinstance(overrides, Mapping):
        return [f"{key}={_text(value)}" for key, value in overrides.items()]
    return [str(o) for o in overrides]


def _key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def _settings(baseline: str | Sequence[str]) -> list[str]:
    return [baseline] if isinstance(baseline, str) else list(baseline)


def _compose(overrides: list[str]) -> Config:
    """Compose and validate ``overrides``; every refusal is one :class:`ConfigError` line."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from sim.cli.main import command_line_error
    from sim.config import compose

    for override in overrides:
        if override.startswith("-") or "=" not in override:
            raise ConfigError(f"{override}: not an override; simulate takes KEY=VALUE overrides")
    error = command_line_error(overrides)
    if error is not None:
        raise ConfigError(error)
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
        sweeps = [o.input_line for o in parsed if o.is_sweep_override()]
        if sweeps:
            raise ConfigError(
                f"{sweeps[0]}: a sweep; simulate runs one scenario (call it once per value, "
                "or run the sweep with python -m sim -m)"
            )
        return compose(overrides)
    except (HydraException, OmegaConfBaseException) as exc:
        first = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
        raise ConfigError(f"{' '.join(overrides)}: {first}") from None


def _config_dict(cfg: Config) -> dict[str, Any]:
    """The typed config as plain YAML/JSON values (enumerations by their value)."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {str(key): plain(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [plain(item) for item in value]
        if isinstance(value, Enum):
            return value.value
        if value is None or isinstance(value, bool | int | float | str):
            return value
        return str(value)

    result = plain(dataclasses.asdict(cfg))
    assert isinstance(result, dict)
    return result


def _write_hydra_files(folder: Path, config: dict[str, Any], overrides: Sequence[str]) -> None:
    import yaml

    atomic_write_text(folder / CONFIG_FILE, yaml.safe_dump(config, sort_keys=False))
    atomic_write_text(folder / OVERRIDES_FILE, yaml.safe_dump(list(overrides)))


def _run_record(run: Result | str | Path) -> tuple[list[str], dict[str, Any], dict[str, Any]]:
    """The overrides, summary and composed config of a result or of a run folder."""
    if isinstance(run, Result):
        return list(run.overrides), run.summary, _config_dict(run.config)
    import yaml

    folder = Path(run)
    overrides = yaml.safe_load((folder / OVERRIDES_FILE).read_text()) or []
    config = yaml.safe_load((folder / CONFIG_FILE).read_text()) or {}
    summary = json.loads((folder / SUMMARY_FILE).read_text())
    return [str(o) for o in overrides], summary, config


def _default_value(key: str, config: dict[str, Any]) -> str:
    """The value a run that does not override ``key`` has: its config's, or the group default."""
    node: Any = config
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return default_choices().get(key, "null")
        node = node[part]
    return _text(node)


@functools.cache
def default_choices() -> dict[str, str]:
    """The option each config group takes by default (``{"policy": "none", ...}``)."""
    from hydra import compose, initialize_config_dir

    from sim.config import CONFIG_DIR

    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose(config_name="config", return_hydra_config=True)
    return {str(k): _text(v) for k, v in cfg.hydra.runtime.choices.items()}
