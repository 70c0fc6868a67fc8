"""The studies' Hydra sweepers, where Hydra looks for plugins (the ``hydra_plugins`` package).

Hydra instantiates a sweeper only from a class defined under ``hydra_plugins``; the classes here
are the ones of :mod:`sim.studies.sweeper` under that name. The module imports Hydra and the
sweeper module only (no model, no SALib), since Hydra imports every plugin at each start.
"""

from sim.studies import sweeper


class SensitivitySweeper(sweeper.SensitivitySweeper):
    """Global sensitivity as a sweep: ``hydra.sweeper._target_`` of experiments/sensitivity.yaml."""


class RobustSweeper(sweeper.RobustSweeper):
    """Robust comparison as a sweep: ``hydra.sweeper._target_`` of robust_comparison.yaml."""


class CalibrationSweeper(sweeper.CalibrationSweeper):
    """Calibration as a sweep: ``hydra.sweeper._target_`` of experiments/calibration.yaml."""
