"""Hydra sweepers of the studies: a design of runs launched through the configured launcher.

``python -m sim -m +experiment=sensitivity`` and ``+experiment=robust_comparison`` set
``hydra.sweeper._target_`` to the sweepers of ``hydra_plugins.sim_studies`` (Hydra instantiates
sweepers only from the ``hydra_plugins`` package), which are the classes here. A sweeper reads its
settings from the study's node of the composed config (``sensitivity:`` or ``robust:``), makes the
design, and hands every run to ``self.launcher.launch`` like Hydra's basic sweeper: so the runs use
every core with the joblib launcher, Slurm with submitit and a cluster with Ray.

Each run is one design point (a set of parameter values) under one policy scenario and one seed,
given to the run as command-line overrides: the study's own command-line overrides (minus its
settings), ``policy=<scenario>``, ``seed=<seed>``, ``KEY=VALUE`` for each varied parameter, and
``~sensitivity`` (``~robust``) so that the run's config is a plain run config. Every design point
runs the same seeds, so scenarios and design points differ by their parameters only (common random
numbers). The design is reproducible from ``design_seed`` and the job order is fixed, so running
the same command again with ``hydra.sweep.dir=<the sweep folder>`` gives every run the folder it
had; the command line reuses a finished run whose recorded config equals the composed one
(:func:`sim.cli.main.sweep_job`), so an interrupted study computes only what is missing.

Files written to the sweep folder: ``sweep_plan.json`` (the overrides of each run, read by
:func:`sim.analysis.compare.read_sweep`), and under ``sensitivity/`` (``robust/``) ``study.json``
(settings, parameters and the design), ``design.csv`` (parameter values per design point),
``jobs.csv`` (design point, scenario, seed -> run) and ``sweep.json`` (wall time of the launch);
then the analysis of :mod:`sim.studies.sensitivity` or :mod:`sim.studies.robust`.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from hydra.plugins.launcher import Launcher
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.files import PLAN_FILE, atomic_write_text
from sim.params import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from sim.studies.uncertainty import Uncertain

log = logging.getLogger(__name__)

POLICY_GROUP = "policy"
CONFIGURED = "configured"  # scenario label of runs that keep the configured policies
METHODS = ("morris", "sobol")
CALIBRATION_METHODS = ("history_matching",)


@dataclass
class SensitivitySettings:
    """``sensitivity:`` of ``experiments/sensitivity.yaml`` (defaults and meaning there)."""

    method: str
    parameters: list[str] | None
    trajectories: int
    levels: int
    samples: int
    seeds: list[int]
    baseline: str | None
    scenarios: list[str]
    outcomes: list[str]
    design_seed: int
    uncertainty: str | None


@dataclass
class RobustSettings:
    """``robust:`` of ``experiments/robust_comparison.yaml`` (defaults and meaning there)."""

    draws: int
    seeds: list[int]
    baseline: str
    scenarios: list[str]
    parameters: list[str] | None
    posterior: str | None
    design_seed: int
    uncertainty: str | None


@dataclass
class CalibrationSettings:
    """``calibration:`` of ``experiments/calibration.yaml`` (defaults and meaning there)."""

    method: str
    budget: int
    parameters: list[str] | None
    waves: int
    seeds: list[int]
    policy: str
    cutoff: float
    discrepancy: float
    check_share: float
    posterior_candidates: int
    targets: str | None
    design_seed: int
    uncertainty: str | None


@dataclass
class Plan:
    """A study's runs: the design points, which run each (point, scenario, seed) is, and why."""

    values: pd.DataFrame  # one row per design point, one column per parameter key
    jobs: pd.DataFrame  # point, scenario, seed, run
    runs: list[list[str]]  # the overrides of each run, in job-number order
    study: dict[str, Any]  # written to study.json


def read_settings(node: str, raw: Any, kind: type) -> Any:
    """The study's settings, typed; a missing, unknown or mistyped setting is a ConfigError."""
    if raw is None:
        raise ConfigError(f"{node}: the study's settings are missing (use +experiment={node}...)")
    try:
        merged = OmegaConf.merge(OmegaConf.structured(kind), raw)
        settings: Any = OmegaConf.to_object(merged)
    except OmegaConfBaseException as exc:
        key = getattr(exc, "full_key", None) or ""
        reason = str(exc).splitlines()[0]
        raise ConfigError(f"{node}.{key}: {reason}" if key else f"{node}: {reason}") from None
    for name in ("trajectories", "levels", "samples", "draws", "budget", "waves"):
        least = 2 if name in ("levels", "trajectories") else 1  # sigma needs two trajectories
        if hasattr(settings, name) and getattr(settings, name) < least:
            raise ConfigError(f"{node}.{name}={getattr(settings, name)}: must be at least {least}")
    if not settings.seeds or min(settings.seeds) < 0:
        raise ConfigError(f"{node}.seeds={settings.seeds}: need at least one seed, all >= 0")
    if len(set(settings.seeds)) != len(settings.seeds):
        raise ConfigError(f"{node}.seeds={settings.seeds}: a seed is named twice")
    return settings


def scenario_labels(baseline: str | None, scenarios: list[str], node: str) -> list[str]:
    """The policy presets each design point runs: the baseline first."""
    if baseline is None:
        if scenarios:
            raise ConfigError(f"{node}.scenarios needs {node}.baseline (e.g. none)")
        return [CONFIGURED]
    labels = [baseline, *scenarios]
    if len(set(labels)) != len(labels):
        raise ConfigError(f"{node}.scenarios={scenarios}: each preset once, not the baseline")
    return labels


def point_overrides(values: pd.DataFrame) -> list[list[str]]:
    """The ``KEY=VALUE`` overrides of each design point (one column per config key)."""
    from sim.studies.uncertainty import override, schema_range

    integer = {key: schema_range(key).type is int for key in values.columns}
    return [
        [override(key, value, integer=integer[key]) for key, value in row.items()]
        for row in values.to_dict("records")
    ]


class StudySweeper(Sweeper):
    """A sweeper that runs a designed study: see the module docstring.

    Args:
        max_batch_size: runs handed to the launcher at a time (None: all at once).
        params: the basic sweeper's ``hydra.sweeper.params``; a study takes none.
    """

    node: ClassVar[str]

    def __init__(self, max_batch_size: int | None = None, params: Any = None) -> None:
        super().__init__()
        self.max_batch_size = max_batch_size
        self.params = params
        self.config: DictConfig | None = None
        self.hydra_context: HydraContext | None = None
        self.launcher: Launcher | None = None
        self.settings: Any = None

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        """Read and check the study's settings, then set up the configured launcher."""
        from hydra.core.plugins import Plugins

        self.config = config
        self.hydra_context = hydra_context
        try:
            if self.params:
                raise ConfigError(
                    f"hydra.sweeper.params: a {self.node} study makes its own runs; "
                    f"set {self.node}.* instead"
                )
            self.settings = self.read(config)
        except ConfigError as exc:
            _stop(exc)
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def read(self, config: DictConfig) -> Any:
        """The study's typed settings from ``config``."""
        raise NotImplementedError

    def plan(self, base: list[str]) -> Plan:
        """The study's runs, given the overrides every run shares."""
        raise NotImplementedError

    def analyse(self, sweep_dir: Path) -> str:
        """Write the study's outputs from the runs' files; return a line for the console."""
        raise NotImplementedError

    def sweep(self, arguments: list[str]) -> Any:
        """Plan the study, launch its runs, then analyse them."""
        from sim.studies.runs import SWEEP_FILE, StudyError

        assert self.config is not None and self.launcher is not None
        sweep_dir = Path(self.config.hydra.sweep.dir)
        try:
            plan = self.plan(self._shared_overrides(arguments))
            self._check_composes(plan)
        except ConfigError as exc:
            _stop(exc)
        self._write_plan(sweep_dir, plan)
        log.info("%s study: %d runs", self.node, len(plan.runs))
        started = time.perf_counter()
        returns = []
        batch = self.max_batch_size or len(plan.runs)
        for first in range(0, len(plan.runs), batch):
            returns.append(self.launcher.launch(plan.runs[first : first + batch], first))
        record = {"runs": len(plan.runs), "wall_time_s": round(time.perf_counter() - started, 1)}
        atomic_write_text(sweep_dir / self.node / SWEEP_FILE, json.dumps(record, indent=1) + "\n")
        try:
            print(self.analyse(sweep_dir))
        except StudyError as exc:
            print(f"{self.node}: {exc}", file=sys.stderr)
            assert self.hydra_context is not None
            self.hydra_context.callbacks.on_multirun_end(config=self.config)
            sys.exit(1)
        return returns

    def _shared_overrides(self, arguments: list[str]) -> list[str]:
        """The command line's overrides that every run takes: not the study's own settings."""
        assert self.hydra_context is not None
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        shared = []
        for override in parser.parse_overrides(arguments):
            key = override.key_or_group
            if key == self.node or key.startswith(f"{self.node}."):
                continue
            line = override.input_line or f"{key}={override.get_value_element_as_str()}"
            if override.is_sweep_override():
                raise ConfigError(f"{line}: a {self.node} study makes its own runs; no sweeps")
            if key in (POLICY_GROUP, "seed"):
                raise ConfigError(
                    f"{line}: the study sets each run's {key} "
                    f"(from {self.node}.{'seeds' if key == 'seed' else 'baseline/scenarios'})"
                )
            shared.append(line)
        return shared

    def _check_composes(self, plan: Plan) -> None:
        """Compose the first run of each scenario: a bad preset or key stops before any run."""
        assert self.hydra_context is not None and self.config is not None
        first = plan.jobs.groupby("scenario", sort=False)["run"].first()
        for scenario, run in first.items():
            try:
                self.hydra_context.config_loader.load_sweep_config(self.config, plan.runs[run])
            except (HydraException, OmegaConfBaseException) as exc:
                reason = str(exc).strip().splitlines()[0]
                raise ConfigError(f"{self.node} scenario {scenario}: {reason}") from None

    def _write_plan(self, sweep_dir: Path, plan: Plan) -> None:
        from sim.studies.runs import DESIGN_FILE, JOBS_FILE, STUDY_FILE

        folder = sweep_dir / self.node
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(sweep_dir / PLAN_FILE, json.dumps({"runs": plan.runs}, indent=1) + "\n")
        atomic_write_text(folder / STUDY_FILE, json.dumps(plan.study, indent=1) + "\n")
        atomic_write_text(folder / DESIGN_FILE, plan.values.to_csv(index_label="point"))
        atomic_write_text(folder / JOBS_FILE, plan.jobs.to_csv(index=False))

    def _parameters(self, keys: list[str] | None, uncertainty: str | None) -> list[Uncertain]:
        """The varied parameters, checked against the composed config."""
        from sim.studies.uncertainty import load_uncertainty, select

        assert self.config is not None
        params = select(load_uncertainty(uncertainty), keys)
        for p in params:
            if OmegaConf.select(self.config, p.key) is None:
                raise ConfigError(f"{p.key}: declared but not in the composed config")
        return params

    def _jobs(
        self,
        base: list[str],
        values: pd.DataFrame,
        scenarios: list[str],
        seeds: list[int],
    ) -> tuple[pd.DataFrame, list[list[str]]]:
        """Every (point, scenario, seed) with its run; identical runs are launched once."""
        import pandas as pd

        varied = set(values.columns)
        clash = [o for o in base if o.split("=", 1)[0].lstrip("+~") in varied]
        if clash:
            raise ConfigError(f"{clash[0]}: the study varies this parameter; do not set it")
        runs: dict[tuple[str, ...], int] = {}
        rows = []
        for point, overrides in enumerate(point_overrides(values)):
            for scenario in scenarios:
                policy = [] if scenario == CONFIGURED else [f"{POLICY_GROUP}={scenario}"]
                for seed in seeds:
                    run = (*base, *policy, f"seed={seed}", *overrides, f"~{self.node}")
                    number = runs.setdefault(run, len(runs))
                    rows.append({"point": point, "scenario": scenario, "seed": seed, "run": number})
        return pd.DataFrame(rows), [list(run) for run in runs]

    def _describe(self, params: list[Uncertain]) -> list[dict[str, Any]]:
        assert self.config is not None
        return [{**asdict(p), "default": OmegaConf.select(self.config, p.key)} for p in params]


class SensitivitySweeper(StudySweeper):
    """Global sensitivity (Morris or Sobol') of relapse and the policies' effects."""

    node = "sensitivity"

    def read(self, config: DictConfig) -> SensitivitySettings:
        """``sensitivity:`` settings, checked."""
        from sim.studies.sensitivity import OUTCOME_KINDS

        settings: SensitivitySettings = read_settings(
            self.node, config.get(self.node), SensitivitySettings
        )
        if settings.method not in METHODS:
            raise ConfigError(f"sensitivity.method={settings.method}: allowed {', '.join(METHODS)}")
        unknown = [kind for kind in settings.outcomes if kind not in OUTCOME_KINDS]
        if unknown or not settings.outcomes:
            raise ConfigError(
                f"sensitivity.outcomes={settings.outcomes}: allowed {', '.join(OUTCOME_KINDS)}"
            )
        scenario_labels(settings.baseline, settings.scenarios, self.node)
        return settings

    def plan(self, base: list[str]) -> Plan:
        """Morris trajectories or a Saltelli design, every point under each scenario and seed."""
        from sim.studies.design import morris_unit, sobol_unit, to_values

        s: SensitivitySettings = self.settings
        params = self._parameters(s.parameters, s.uncertainty)
        names = [p.key for p in params]
        if s.method == "morris":
            unit = morris_unit(names, s.trajectories, s.levels, s.design_seed)
        else:
            unit = sobol_unit(names, s.samples, s.design_seed)
        values = to_values(unit, params)
        scenarios = scenario_labels(s.baseline, s.scenarios, self.node)
        jobs, runs = self._jobs(base, values, scenarios, s.seeds)
        study = {
            "study": self.node,
            **{f.name: getattr(s, f.name) for f in fields(s)},
            "parameters": self._describe(params),
            "scenario_labels": scenarios,
            "points": len(unit),
            "unit": unit.tolist(),
        }
        return Plan(values=values, jobs=jobs, runs=runs, study=study)

    def analyse(self, sweep_dir: Path) -> str:
        """Indices, report and plots (:func:`sim.studies.sensitivity.analyse`)."""
        from sim.studies.sensitivity import analyse

        return analyse(sweep_dir).describe()


class RobustSweeper(StudySweeper):
    """Every scenario on every draw of the uncertain parameters and every seed."""

    node = "robust"

    def read(self, config: DictConfig) -> RobustSettings:
        """``robust:`` settings, checked."""
        settings: RobustSettings = read_settings(self.node, config.get(self.node), RobustSettings)
        scenario_labels(settings.baseline, settings.scenarios, self.node)
        return settings

    def plan(self, base: list[str]) -> Plan:
        """Latin-hypercube draws (or posterior draws), each under every scenario and seed."""
        import pandas as pd

        from sim.studies.design import latin_unit, posterior_draws, to_values
        from sim.studies.uncertainty import schema_range

        s: RobustSettings = self.settings
        params = self._parameters(s.parameters, s.uncertainty)
        posterior = pd.DataFrame(index=range(s.draws))
        if s.posterior is not None:
            posterior = posterior_draws(s.posterior, s.draws, s.design_seed)
            for key in posterior.columns:
                schema_range(key)  # a posterior column must be a parameter of the schema
            params = [p for p in params if p.key not in posterior.columns]
        values = posterior.join(
            to_values(latin_unit([p.key for p in params], s.draws, s.design_seed), params)
            if params
            else pd.DataFrame(index=range(s.draws))
        )
        scenarios = scenario_labels(s.baseline, s.scenarios, self.node)
        jobs, runs = self._jobs(base, values, scenarios, s.seeds)
        jobs = jobs.rename(columns={"point": "draw"})
        study = {
            "study": self.node,
            **{f.name: getattr(s, f.name) for f in fields(s)},
            "parameters": self._describe(params),
            "posterior_parameters": list(posterior.columns),
            "scenario_labels": scenarios,
            "points": len(values),
        }
        return Plan(values=values, jobs=jobs, runs=runs, study=study)

    def analyse(self, sweep_dir: Path) -> str:
        """Summary, ranks, report and plots (:func:`sim.studies.robust.analyse`)."""
        from sim.studies.robust import analyse

        return analyse(sweep_dir).describe()


class CalibrationSweeper(StudySweeper):
    """History matching then a posterior (:mod:`sim.studies.calibration`), wave by wave.

    Unlike the other studies, a wave's points depend on the runs of the waves before it, so the
    runs are planned and launched one wave at a time; job numbers continue from wave to wave, so
    the same command with ``hydra.sweep.dir`` of an interrupted calibration finds every finished
    run in its folder again, and the waves (deterministic given the runs) come out the same.
    """

    node = "calibration"

    def read(self, config: DictConfig) -> CalibrationSettings:
        """``calibration:`` settings, checked."""
        s: CalibrationSettings = read_settings(
            self.node, config.get(self.node), CalibrationSettings
        )
        if s.method not in CALIBRATION_METHODS:
            allowed = ", ".join(CALIBRATION_METHODS)
            raise ConfigError(f"calibration.method={s.method}: allowed {allowed}")
        for name, ok, allowed in (
            ("cutoff", s.cutoff > 0, "> 0"),
            ("discrepancy", s.discrepancy >= 0, ">= 0"),
            ("check_share", 0 < s.check_share < 1, "in (0, 1)"),
            ("posterior_candidates", s.posterior_candidates >= 100, ">= 100"),
        ):
            if not ok:
                raise ConfigError(f"calibration.{name}={getattr(s, name)}: must be {allowed}")
        return s

    def sweep(self, arguments: list[str]) -> Any:
        """Run the waves through the launcher, then write calibration/ (fit, posterior, report)."""
        from sim.studies.calibration import MatchSettings, Observation, calibrate, split_budget
        from sim.studies.calibration_report import analyse, write_posterior
        from sim.studies.runs import STUDY_FILE, SWEEP_FILE, StudyError
        from sim.studies.targets import load_targets

        assert self.config is not None and self.hydra_context is not None
        s: CalibrationSettings = self.settings
        sweep_dir = Path(self.config.hydra.sweep.dir)
        try:
            base = self._shared_overrides(arguments)
            params = self._parameters(s.parameters, s.uncertainty)
            targets = load_targets(s.targets)
            try:
                sizes = split_budget(s.budget, len(s.seeds), s.waves, s.check_share)
            except ValueError as exc:
                raise ConfigError(f"calibration.budget={s.budget}: {exc}") from None
            varied = {p.key for p in params}
            clash = [o for o in base if o.split("=", 1)[0].lstrip("+~") in varied]
            if clash:
                raise ConfigError(f"{clash[0]}: the calibration varies this parameter")
            first = int(self.config.start_year)
            last = first + int(self.config.years) - 1
            for t in targets:
                if not first <= t.year <= last:
                    raise ConfigError(
                        f"years={self.config.years}: target {t.name} is for {t.year}, outside "
                        f"the simulated {first}-{last}"
                    )
            if not any(t.use == "fit" for t in targets):
                raise ConfigError("calibration.targets: no target has use: fit")
        except ConfigError as exc:
            _stop(exc)
        folder = sweep_dir / self.node
        folder.mkdir(parents=True, exist_ok=True)
        study = {
            "study": self.node,
            **{f.name: getattr(s, f.name) for f in fields(s)},
            "parameters": self._describe(params),
            "targets": [asdict(t) for t in targets],
            "sizes": sizes,
        }
        atomic_write_text(folder / STUDY_FILE, json.dumps(study, indent=1) + "\n")
        observations = [
            Observation(t.name, t.observed, t.low, t.high, t.use == "fit") for t in targets
        ]
        waves = _WaveRunner(self, base, params, targets, sweep_dir)
        settings = MatchSettings(
            cutoff=s.cutoff,
            discrepancy=s.discrepancy,
            posterior_candidates=s.posterior_candidates,
            seed=s.design_seed,
        )
        started = time.perf_counter()
        try:
            result = calibrate(waves, observations, len(params), sizes, settings)
        except ValueError as exc:  # too few finished runs to fit an emulator
            self._fail(f"{exc}; see the runs' error.json files in {sweep_dir}")
        record = {"runs": len(waves.runs), "wall_time_s": round(time.perf_counter() - started, 1)}
        atomic_write_text(folder / SWEEP_FILE, json.dumps(record, indent=1) + "\n")
        write_posterior(folder, result, params)
        try:
            report = analyse(sweep_dir)
        except StudyError as exc:
            self._fail(str(exc))
        print(report.describe())
        if report.failed:
            self._fail(f"{report.failed} runs failed; their error.json files are in {sweep_dir}")
        return waves.returns

    def _fail(self, line: str) -> NoReturn:
        """One line on stderr, the sweep's callbacks, exit status 1."""
        assert self.hydra_context is not None and self.config is not None
        print(f"{self.node}: {line}", file=sys.stderr)
        self.hydra_context.callbacks.on_multirun_end(config=self.config)
        sys.exit(1)


class _WaveRunner:
    """``simulate(wave, unit)`` of :func:`sim.studies.calibration.calibrate`: a wave's model runs.

    Each point runs under the calibration's policy preset on every seed; the plan, jobs and design
    files grow by the wave before it is launched, so that the sweep folder always describes every
    run launched so far.
    """

    def __init__(
        self,
        sweeper: CalibrationSweeper,
        base: list[str],
        params: list[Uncertain],
        targets: list[Any],
        sweep_dir: Path,
    ) -> None:
        self.sweeper, self.base, self.params, self.targets = sweeper, base, params, targets
        self.sweep_dir = sweep_dir
        self.runs: list[list[str]] = []
        self.jobs: list[dict[str, int]] = []
        self.designs: list[pd.DataFrame] = []
        self.returns: list[Any] = []

    def __call__(self, wave: int, unit: Any) -> Any:
        import numpy as np
        import pandas as pd

        from sim.analysis.compare import CompareError, read_sweep
        from sim.studies.design import to_values
        from sim.studies.runs import DESIGN_FILE, JOBS_FILE
        from sim.studies.targets import simulate_targets

        s: CalibrationSettings = self.sweeper.settings
        values = to_values(unit, self.params)
        first, first_job = len(self.runs), len(self.jobs)
        known = {tuple(run): number for number, run in enumerate(self.runs)}
        policy = f"{POLICY_GROUP}={s.policy}"
        for point, overrides in enumerate(point_overrides(values)):
            for seed in s.seeds:
                run = (*self.base, policy, f"seed={seed}", *overrides, "~calibration")
                if run not in known:  # a posterior draw taken twice runs once
                    known[run] = len(self.runs)
                    self.runs.append(list(run))
                self.jobs.append({"wave": wave, "point": point, "seed": seed, "run": known[run]})
        self.designs.append(values.assign(wave=wave).rename_axis("point").reset_index())
        folder = self.sweep_dir / self.sweeper.node
        atomic_write_text(
            self.sweep_dir / PLAN_FILE, json.dumps({"runs": self.runs}, indent=1) + "\n"
        )
        atomic_write_text(folder / JOBS_FILE, pd.DataFrame(self.jobs).to_csv(index=False))
        design = pd.concat(self.designs, ignore_index=True)
        atomic_write_text(folder / DESIGN_FILE, design.to_csv(index=False))
        if wave == 0:
            self._check_composes(self.runs[0])
        log.info("calibration wave %d: %d runs", wave, len(self.runs) - first)
        launcher = self.sweeper.launcher
        assert launcher is not None
        batch = self.sweeper.max_batch_size or max(len(self.runs) - first, 1)
        for start in range(first, len(self.runs), batch):
            self.returns.append(launcher.launch(self.runs[start : start + batch], start))
        try:
            runs = read_sweep(self.sweep_dir).runs.set_index("job")
        except CompareError as exc:
            raise ConfigError(f"calibration: {exc}") from None
        out = np.full((len(unit), len(s.seeds), len(self.targets)), np.nan)
        for job in self.jobs[first_job:]:
            row = runs.loc[job["run"]]
            if row["status"] == "ok":
                stats = simulate_targets(self.sweep_dir / row["folder"], self.targets)
                seed = s.seeds.index(job["seed"])
                out[job["point"], seed] = [stats[t.name] for t in self.targets]
        return out

    def _check_composes(self, run: list[str]) -> None:
        """A bad preset or key stops with one line before any run."""
        sweeper = self.sweeper
        assert sweeper.hydra_context is not None and sweeper.config is not None
        try:
            sweeper.hydra_context.config_loader.load_sweep_config(sweeper.config, run)
        except (HydraException, OmegaConfBaseException) as exc:
            _stop(ConfigError(f"calibration: {str(exc).strip().splitlines()[0]}"))


def _stop(exc: ConfigError) -> NoReturn:
    """Bad study settings: one line on stderr, exit status 2, before any run starts."""
    print(f"error: {exc}", file=sys.stderr)
    sys.exit(2)
