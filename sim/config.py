"""Typed configuration: the schema the Hydra YAML files are validated against.

Defaults live in one place, the YAML files under ``configs/`` (each value with its source).
The dataclasses here carry types and allowed ranges only; :func:`load_config` merges a composed
Hydra config into them, converts it to plain objects and checks every range, so the model never
sees a ``DictConfig`` and every bad value stops with a one-line :class:`ConfigError` that names
the key and what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.params import ConfigError, bounded, probability, required
from sim.policies import PoliciesConfig

_PACKAGED_CONFIGS = Path(__file__).resolve().parent / "configs"  # in an installed wheel
CONFIG_DIR = (
    _PACKAGED_CONFIGS
    if _PACKAGED_CONFIGS.is_dir()
    else Path(__file__).resolve().parent.parent / "configs"  # in the source tree
)


@dataclass
class PovertyConfig:
    """Poverty line and monitoring threshold (yuan per person per year, 2020 prices)."""

    line: float = bounded(0.0, open_lo=True)
    monitoring_threshold_ratio: float = bounded(1.0)


@dataclass
class PopulationConfig:
    """Synthetic county: villages and households (see ``configs/population/default.yaml``)."""

    households: int = bounded(1)
    villages: int = bounded(1)
    resettlement_sites: int = bounded(1)
    share_lifted: float = probability()
    share_marginal: float = probability()
    share_high_exposure: float = probability()
    share_medium_exposure: float = probability()
    mean_household_size: float = bounded(1.0, 8.0)
    worker_share: float = probability()
    share_no_work_capacity_lifted: float = probability()
    share_no_work_capacity_other: float = probability()
    share_chronic_illness_lifted: float = probability()
    share_chronic_illness_other: float = probability()
    income_lifted_mean: float = bounded(0.0, open_lo=True)
    income_non_poor_mean: float = bounded(0.0, open_lo=True)
    income_sigma: float = bounded(0.0, 2.0)
    transfer_share_poor: float = probability()
    transfer_share_non_poor: float = probability()
    property_share: float = probability()
    migrant_propensity: float = probability()
    local_wage_propensity: float = probability()
    earnings_weight_local: float = bounded(0.0, open_lo=True)
    earnings_weight_migrant: float = bounded(0.0, open_lo=True)
    savings_months_poor: float = bounded(0.0)
    savings_months_non_poor: float = bounded(0.0)
    saving_rate: float = probability()
    land_mu_mean: float = bounded(0.0)


@dataclass
class ShocksConfig:
    """Illness, disaster, labour-market and price shocks (see ``configs/shocks/default.yaml``)."""

    hospitalisation_rate: float = probability()
    chronic_illness_multiplier: float = bounded(1.0)
    hospital_cost_median: float = bounded(0.0)
    hospital_cost_sigma: float = bounded(0.0, 3.0)
    reimbursement_rate: float = probability()
    serious_illness_share: float = probability()
    recovery_months: int = bounded(0, 24)
    disaster_rate_low: float = probability()
    disaster_rate_medium: float = probability()
    disaster_rate_high: float = probability()
    disaster_severity_mean: float = probability()
    disaster_repair_cost: float = bounded(0.0)
    job_loss_rate: float = probability()
    downturn_rate: float = probability()
    downturn_multiplier: float = bounded(1.0)
    reemployment_rate: float = probability()
    price_sigma_staple: float = bounded(0.0, 2.0)
    price_sigma_cash_crop: float = bounded(0.0, 2.0)


@dataclass
class OutputConfig:
    """What a run writes besides ``summary.json`` and ``timeseries.parquet``."""

    plots: bool = required()
    household_table: bool = required()
    progress: bool = required()
    console_summary: bool = required()


@dataclass
class Config:
    """A whole run: seed, horizon, population, shocks, policies and outputs."""

    seed: int = bounded(0, 2**63 - 1)
    years: int = bounded(1, 100)
    start_year: int = bounded(1900, 2200)
    poverty: PovertyConfig = field(default_factory=PovertyConfig)
    population: PopulationConfig = field(default_factory=PopulationConfig)
    shocks: ShocksConfig = field(default_factory=ShocksConfig)
    policies: PoliciesConfig = field(default_factory=PoliciesConfig)
    output: OutputConfig = field(default_factory=OutputConfig)

    @property
    def months(self) -> int:
        """Length of the run in months."""
        return 12 * self.years


def _check_ranges(obj: Any, path: str) -> None:
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        key = f"{path}{f.name}"
        if dataclasses.is_dataclass(value):
            _check_ranges(value, key + ".")
            continue
        lo, hi, open_lo = f.metadata.get("lo"), f.metadata.get("hi"), f.metadata.get("open_lo")
        if lo is None and hi is None:
            continue
        allowed = f"{'(' if open_lo else '['}{lo if lo is not None else '-inf'}, "
        allowed += f"{hi if hi is not None else 'inf'}]"
        too_low = lo is not None and (value <= lo if open_lo else value < lo)
        too_high = hi is not None and value > hi
        if (isinstance(value, float) and math.isnan(value)) or too_low or too_high:
            raise ConfigError(f"{key}={value} is out of range: allowed {allowed}")


def _check_consistency(cfg: Config) -> None:
    pop = cfg.population
    if pop.share_lifted + pop.share_marginal > 1:
        raise ConfigError(
            "population.share_lifted + population.share_marginal must not exceed 1, got "
            f"{pop.share_lifted + pop.share_marginal:g}"
        )
    if pop.share_high_exposure + pop.share_medium_exposure > 1:
        raise ConfigError(
            "population.share_high_exposure + population.share_medium_exposure must not exceed 1"
        )


def load_config(cfg: DictConfig | dict[str, Any]) -> Config:
    """Validate a composed config against the schema and return plain typed objects.

    Raises:
        ConfigError: a key is unknown or missing, a value has the wrong type or is out of range.
    """
    try:
        merged = OmegaConf.merge(OmegaConf.structured(Config), cfg)
        typed = OmegaConf.to_object(merged)
    except OmegaConfBaseException as exc:
        key = getattr(exc, "full_key", None) or "config"
        reason = str(exc).splitlines()[0]
        raise ConfigError(f"{key}: {reason}") from None
    assert isinstance(typed, Config)
    _check_ranges(typed, "")
    _check_consistency(typed)
    return typed


def compose(overrides: Sequence[str] = ()) -> Config:
    """Compose the real configs with Hydra's compose API (for tests, scripts and notebooks).

    Args:
        overrides: command-line style overrides, e.g. ``["population=small", "seed=3"]``.
    """
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = hydra_compose(config_name="config", overrides=list(overrides))
    return load_config(cfg)
