"""Every use of Hydra's private API (``hydra._internal``) in ``sim``, each with a fallback.

Hydra 1.3 keeps three things the command line needs under ``hydra._internal``: its command-line
parser (to read the overrides of ``python -m sim`` before Hydra starts), the basic sweeper's split
of a sweep into jobs (to know every job's overrides in job-number order) and the basic sweeper
itself (to launch a sweep without composing every job's config in the launching process first).
Nothing else in ``sim`` imports ``hydra._internal``. When a Hydra release moves them, each part
degrades instead of failing:

- :func:`parse_args` returns None: the one-line checks of :mod:`sim.cli.checks` are skipped, and
  Hydra reports a bad command line itself;
- :func:`job_overrides` returns None: the sweep has no ``sweep_plan.json`` (the comparison report
  then uses the run folders it finds, and a re-used sweep folder is not checked);
- :func:`basic_sweeper` finds Hydra's basic sweeper through the target of Hydra's own
  ``hydra/sweeper/basic`` config.

Hydra instantiates plugins only from the ``hydra_plugins`` package: ``hydra_plugins.sim_cli``
holds the planned sweeper (:func:`validate_representative_jobs`) of ``configs/config.yaml``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from hydra.core.override_parser.types import Override
from hydra.plugins.sweeper import Sweeper


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
    composes each job's config again where the job runs. The planned sweeper of
    ``configs/config.yaml`` is the basic sweeper with this method::

        class PlannedSweeper(hydra_private.basic_sweeper()):
            validate_batch_is_legal = hydra_private.validate_representative_jobs
    """
    assert sweeper.hydra_context is not None
    loader: Any = sweeper.hydra_context.config_loader
    groups: dict[str, bool] = {}

    def is_group(key: str) -> bool:
        if key not in groups:
            groups[key] = bool(loader.get_group_options(key))
        return groups[key]

    Sweeper.validate_batch_is_legal(sweeper, representative_jobs(batch, is_group))


SWEEPER_MODULES = ("hydra_plugins.sim_cli", "hydra_plugins.sim_studies")
"""The modules of the project's sweepers (the planned sweeper, the studies' sweepers)."""


def register_sweepers() -> None:
    """Register the project's sweepers with Hydra, whether or not its plugin scan finds them.

    Hydra finds plugins by listing the ``hydra_plugins`` package, which an editable install does
    not list (its import hook imports modules but cannot enumerate them). Registering the classes
    through Hydra's public ``Plugins.register`` makes ``hydra.sweeper._target_`` work however the
    package is installed.
    """
    import importlib
    import inspect

    from hydra.core.plugins import Plugins

    plugins = Plugins.instance()
    for name in SWEEPER_MODULES:
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == name and issubclass(cls, Sweeper):
                plugins.register(cls)
