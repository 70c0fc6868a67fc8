"""Every use of Hydra's private API (``hydra._internal``) in ``sim``, each with a fallback.

Hydra 1.3 keeps five things the command line needs under ``hydra._internal``: its command-line
parser (to read the overrides of ``python -m sim`` before Hydra starts), the basic sweeper's split
of a sweep into jobs (to know every job's overrides in job-number order), the basic sweeper
itself (to launch a sweep without composing every job's config in the launching process first),
the registry of config sources (to read each config file once per process, not once per
composition)
and its ``get_overrides_dirname`` (to compose a job like an earlier one, :class:`JobComposer`).
Nothing else in ``sim`` imports ``hydra._internal``. When a Hydra release moves them, each part
degrades instead of failing:

- :func:`parse_args` returns None: the one-line checks of :mod:`sim.cli.checks` are skipped, and
  Hydra reports a bad command line itself;
- :func:`job_overrides` returns None: the sweep has no ``sweep_plan.json`` (the comparison report
  then uses the run folders it finds, and a re-used sweep folder is not checked);
- :func:`basic_sweeper` finds Hydra's basic sweeper through the target of Hydra's own
  ``hydra/sweeper/basic`` config;
- :func:`read_config_files_once` leaves Hydra's config sources as they are (files read at each
  composition);
- :class:`JobComposer` composes every job with Hydra's ``load_sweep_config``.

Hydra instantiates plugins only from the ``hydra_plugins`` package: ``hydra_plugins.sim_cli``
holds the planned sweeper (:func:`validate_representative_jobs`) of ``configs/config.yaml``.
"""

from __future__ import annotations

import argparse
import copy
import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override, OverrideType
from hydra.plugins.config_source import ConfigSource
from hydra.plugins.launcher import Launcher
from hydra.plugins.sweeper import Sweeper
from omegaconf import DictConfig, ListConfig, OmegaConf


def parse_args(args: Sequence[str]) -> argparse.Namespace | None:
    """``python -m sim``'s arguments as Hydra reads them (``overrides``, ``multirun``, ...).

    Arguments Hydra's parser would refuse (an option after the overrides) are in ``unrecognized``.
    Returns None when Hydra's parser is not where Hydra 1.3 keeps it, or when the arguments are
    not a command line Hydra runs (``--version`` or a bad option: Hydra answers those itself).
    """
    try:
        from hydra._internal.utils import get_args_parser
    except ImportError:
        return None
    try:
        parsed, unrecognized = get_args_parser().parse_known_args(list(args))
    except SystemExit:
        return None
    parsed.unrecognized = unrecognized
    return parsed


def job_overrides(overrides: list[Override]) -> list[list[str]] | None:
    """The overrides of each job of a basic sweep of ``overrides``, in job-number order.

    Returns None when Hydra's basic sweeper is not where Hydra 1.3 keeps it.
    """
    try:
        from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    except ImportError:
        return None
    return [list(job) for job in BasicSweeper.split_arguments(overrides, None)[0]]


def basic_sweeper() -> type[Sweeper]:
    """Hydra's basic sweeper class: where Hydra 1.3 keeps it, or where Hydra's config points.

    Looked up at each call: Hydra's plugin scan executes the plugin modules again, which makes a
    new class of the same name.
    """
    try:
        from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    except ImportError:
        import hydra.conf  # noqa: F401  (registers Hydra's own configs, the basic sweeper's too)
        from hydra.core.config_store import ConfigStore
        from hydra.utils import get_class

        node = ConfigStore.instance().load("hydra/sweeper/basic.yaml").node
        return get_class(node["_target_"])  # type: ignore[no-any-return]
    return BasicSweeper  # type: ignore[no-any-return]


def read_config_files_once() -> None:
    """Make every config loader created from now on read each config file once per process.

    Hydra composes a config from its files at each composition (four times before a sweep's
    first job, once per job in Hydra's launchers), parsing every YAML file of the defaults list
    again: about a third of the 0.12 s a composition of the default config takes. The files do
    not change while a command runs. Hydra's file and package sources are replaced by subclasses
    that keep what they read and hand each caller its own deep copy, as from a fresh read. Does
    nothing where Hydra keeps its config sources elsewhere.
    """
    try:
        from hydra._internal.sources_registry import SourcesRegistry
    except ImportError:
        return
    from hydra.core.plugins import Plugins

    Plugins.instance()  # registers Hydra's own sources first (a later registration would refuse)
    types = SourcesRegistry.instance().types
    for source in _READ_ONCE:
        types[source.scheme()] = source


def _read_once(source: Any, read: Callable[[str], Any], config_path: str) -> Any:
    cache = type(source).read
    key = (str(source.path), config_path)
    if key not in cache:
        cache[key] = read(config_path)
    return copy.deepcopy(cache[key])


try:
    from hydra._internal.core_plugins.file_config_source import (
        FileConfigSource as HydrasFileConfigSource,
    )
    from hydra._internal.core_plugins.importlib_resources_config_source import (
        ImportlibResourcesConfigSource as HydrasImportlibResourcesConfigSource,
    )
except ImportError:
    _READ_ONCE: tuple[type[ConfigSource], ...] = ()
else:
    # Named as Hydra's own: Hydra's registry keeps a source of the same name that is already
    # registered (the workers of the joblib launcher restore it before Hydra registers its own).

    class FileConfigSource(HydrasFileConfigSource):
        """Hydra's source of config files, reading each file once per process."""

        read: ClassVar[dict[tuple[str, str], Any]] = {}

        def load_config(self, config_path: str) -> Any:
            """The config at ``config_path``: read once, a deep copy each time."""
            return _read_once(self, super().load_config, config_path)

    class ImportlibResourcesConfigSource(HydrasImportlibResourcesConfigSource):
        """Hydra's source of packaged config files, reading each file once per process."""

        read: ClassVar[dict[tuple[str, str], Any]] = {}

        def load_config(self, config_path: str) -> Any:
            """The config at ``config_path``: read once, a deep copy each time."""
            return _read_once(self, super().load_config, config_path)

    _READ_ONCE = (FileConfigSource, ImportlibResourcesConfigSource)


def write_config_files_fast() -> None:
    """Make Hydra write each job's ``.hydra/*.yaml`` with libyaml's emitter.

    Hydra's ``run_job`` writes the job's config, Hydra's config and the overrides through
    ``OmegaConf.to_yaml``, whose emitter is PyYAML's pure-Python one: about 25 ms a job at the
    default config, a tenth of a 20,000-household run. The same container is emitted by libyaml,
    with OmegaConf's own rule for quoting strings (:func:`config_yaml`): the same YAML, read back
    to the same values; only long strings are folded at other places. Does nothing where PyYAML
    lacks libyaml or where Hydra's ``hydra.core.utils._save_config`` has moved.
    """
    import yaml
    from hydra.core import utils

    if not yaml.__with_libyaml__ or not callable(getattr(utils, "_save_config", None)):
        return
    utils._save_config = _save_config


def config_yaml(cfg: DictConfig | ListConfig) -> str:
    """``OmegaConf.to_yaml(cfg)``'s YAML, emitted by libyaml where PyYAML has it."""
    import yaml

    container = OmegaConf.to_container(cfg, resolve=False, enum_to_str=True)
    return yaml.dump(  # type: ignore[no-any-return]
        container,
        Dumper=_libyaml_dumper(),
        default_flow_style=False,
        allow_unicode=True,
        sort_keys=False,
    )


@functools.cache
def _libyaml_dumper() -> type:
    import yaml
    from omegaconf._utils import get_omega_conf_dumper

    base = yaml.CDumper if yaml.__with_libyaml__ else yaml.Dumper
    dumper: Any = type("ConfigDumper", (base,), {})
    dumper.add_representer(str, get_omega_conf_dumper().yaml_representers[str])
    return dumper  # type: ignore[no-any-return]


def _save_config(cfg: DictConfig, filename: str, output_dir: Path) -> None:
    """Hydra's ``_save_config``, the text from :func:`config_yaml`."""
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / filename).write_text(config_yaml(cfg), encoding="utf-8")


class JobComposer:
    """Each job's config as ``config_loader.load_sweep_config(master, overrides)`` composes it.

    Composing a config from its files (the defaults list, every file merged) takes about 0.08 s
    at the default config, once per job in Hydra's launchers. The jobs of a sweep mostly differ
    in plain values (``seed=3``): those are applied to the composed config last, one
    ``OmegaConf.update`` each. So the first job of each combination of the other overrides
    (config-group choices such as ``policy=all``, additions ``+key=...``, deletions, list or
    dict values, ``hydra.*`` keys) is composed by Hydra; a later job with the same combination
    and the same plain keys is a copy of it with its own plain values applied and Hydra's
    records of the job's overrides (``hydra.overrides.task``, ``hydra.job.override_dirname``)
    rewritten. tests/test_cli_hydra_private.py checks the copies against Hydra's composition.
    Where Hydra keeps ``get_overrides_dirname`` elsewhere, every job is composed by Hydra.
    """

    def __init__(self, config_loader: Any, master: DictConfig) -> None:
        self.loader = config_loader
        self.master = master
        self.composed: dict[tuple[tuple[str, ...], tuple[str, ...]], DictConfig] = {}
        self.groups: dict[str, bool] = {}

    def __call__(self, overrides: Sequence[str]) -> DictConfig:
        """The config of the job with ``overrides`` (its whole list, as the sweeper gives it)."""
        try:
            from hydra._internal.config_loader_impl import get_overrides_dirname
        except ImportError:
            return self.loader.load_sweep_config(self.master, list(overrides))  # type: ignore[no-any-return]
        parsed = OverridesParser.create().parse_overrides(list(overrides))
        plain = [o for o in parsed if self._plain(o)]
        key = (
            tuple(str(o.input_line) for o in parsed if not self._plain(o)),
            tuple(o.key_or_group for o in plain),
        )
        base = self.composed.get(key)
        if base is None:
            config = self.loader.load_sweep_config(self.master, list(overrides))
            self.composed[key] = copy.deepcopy(config)
            return config  # type: ignore[no-any-return]
        config = copy.deepcopy(base)
        for override in plain:
            OmegaConf.update(config, override.key_or_group, override.value(), merge=True)
        job = config.hydra.job
        task = [o for o in parsed if not o.is_hydra_override()]
        config.hydra.overrides.task = [str(o.input_line) for o in task]
        job.override_dirname = get_overrides_dirname(
            overrides=task,
            kv_sep=job.config.override_dirname.kv_sep,
            item_sep=job.config.override_dirname.item_sep,
            exclude_keys=job.config.override_dirname.exclude_keys,
        )
        return config

    def _plain(self, override: Override) -> bool:
        """A value of a key that exists (``key=value``, a scalar), not of a group or of Hydra."""
        key = override.key_or_group
        if override.type != OverrideType.CHANGE or override.package is not None:
            return False
        if (
            key.startswith("hydra.")
            or key == "hydra"
            or not isinstance(override.value(), str | int | float | bool | type(None))
        ):
            return False
        if key not in self.groups:
            self.groups[key] = bool(self.loader.get_group_options(key))
        return not self.groups[key]


def is_basic_sweeper(target: str) -> bool:
    """Whether the sweeper class ``target`` (a ``_target_``) splits sweeps as the basic sweeper."""
    from hydra.utils import get_class

    try:
        return issubclass(get_class(target), basic_sweeper())
    except (ImportError, ValueError, TypeError):
        return False


def representative_jobs(
    jobs: Sequence[Sequence[str]], is_group: Callable[[str], bool]
) -> list[Sequence[str]]:
    """The first job of each combination of config-group options among ``jobs``.

    Whether a job's config composes depends on its config-group options (``policy=all``) and on
    its keys, not on the values of its keys (``seed=3``): all jobs of a sweep have the same keys.
    """
    first: dict[tuple[str, ...], Sequence[str]] = {}
    for job in jobs:
        groups = tuple(o for o in job if is_group(o.split("=", 1)[0].lstrip("+~")))
        first.setdefault(groups, job)
    return list(first.values())


def validate_representative_jobs(sweeper: Sweeper, batch: Sequence[Sequence[str]]) -> None:
    """Compose one job of each combination of config-group options in ``batch``, not every job.

    The ``validate_batch_is_legal`` of the planned sweeper (see :func:`representative_jobs`).
    Hydra's basic sweeper composes every job's config in the launching process before it launches
    them (0.1 s a job: 20 s of a 200-run sweep during which no run starts), although the launcher
    composes each job's config again where the job runs. With a launcher that composes through a
    :class:`JobComposer` (``launcher.compose``), the jobs are composed by it, which keeps them
    for the jobs like them. The planned sweeper of
    ``configs/config.yaml`` is the basic sweeper with this method::

        class PlannedSweeper(hydra_private.basic_sweeper()):
            validate_batch_is_legal = hydra_private.validate_representative_jobs
    """
    assert sweeper.hydra_context is not None
    loader: Any = sweeper.hydra_context.config_loader
    compose = getattr(getattr(sweeper, "launcher", None), "compose", None)
    groups: dict[str, bool] = {}

    def is_group(key: str) -> bool:
        if key not in groups:
            groups[key] = bool(loader.get_group_options(key))
        return groups[key]

    jobs = representative_jobs(batch, is_group)
    if isinstance(compose, JobComposer):  # the launcher's: its workers start with these configs
        for job in jobs:
            compose(job)
    else:
        Sweeper.validate_batch_is_legal(sweeper, jobs)


PLUGIN_MODULES = ("hydra_plugins.sim_cli", "hydra_plugins.sim_studies")
"""The modules of the project's Hydra plugins (the planned sweeper and the cores launcher, the
studies' sweepers)."""


def register_plugins() -> None:
    """Register the project's sweepers and launcher with Hydra, whether or not its scan finds them.

    Hydra finds plugins by listing the ``hydra_plugins`` package, which an editable install does
    not list (its import hook imports modules but cannot enumerate them). Registering the classes
    through Hydra's public ``Plugins.register`` makes ``hydra.sweeper._target_`` and
    ``hydra.launcher._target_`` work however the package is installed.
    """
    import importlib
    import inspect

    from hydra.core.plugins import Plugins

    plugins = Plugins.instance()
    for name in PLUGIN_MODULES:
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == name and issubclass(cls, Sweeper | Launcher):
                plugins.register(cls)
