"""The sweeper and launcher of ordinary sweeps (``python -m sim -m``), where Hydra finds plugins.

Hydra instantiates sweepers and launchers only from classes under the ``hydra_plugins`` package.
The launcher of ``configs/hydra/launcher/cores.yaml`` is :class:`sim.cli.launcher.CoresLauncher`.
The planned sweeper is Hydra's basic sweeper that validates one job of each combination of
config-group options before launching, instead of composing every job's config twice
(:func:`sim.cli.hydra_private.validate_representative_jobs`). Set in ``configs/config.yaml``.
"""

from sim.cli import hydra_private, launcher


class PlannedSweeper(hydra_private.basic_sweeper()):  # type: ignore[misc]
    """Hydra's basic sweeper, validating a representative job per config-group combination."""

    validate_batch_is_legal = hydra_private.validate_representative_jobs


class CoresLauncher(launcher.CoresLauncher):
    """Runs a sweep's jobs on worker processes forked from the launching process."""
