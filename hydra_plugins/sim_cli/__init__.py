"""The sweeper of ordinary sweeps (``python -m sim -m``), where Hydra looks for plugins.

Hydra instantiates a sweeper only from a class under the ``hydra_plugins`` package. The planned
sweeper is Hydra's basic sweeper that validates one job of each combination of config-group
options before launching, instead of composing every job's config twice
(:func:`sim.cli.hydra_private.validate_representative_jobs`). Set in ``configs/config.yaml``.
"""

from sim.cli import hydra_private


class PlannedSweeper(hydra_private.basic_sweeper()):  # type: ignore[misc]
    """Hydra's basic sweeper, validating a representative job per config-group combination."""

    validate_batch_is_legal = hydra_private.validate_representative_jobs
