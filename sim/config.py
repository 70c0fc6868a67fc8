"""Typed configuration: the schema the Hydra YAML files are validated against.

Defaults live in one place, the YAML files under ``configs/`` (each value with its source).
The dataclasses here carry types and allowed ranges only; :func:`load_config` merges a composed
Hydra config into them, converts it to plain objects and checks every range, so the model never
sees a ``DictConfig`` and every bad value stops with a one-line :class:`ConfigError` that names
the key and what is allowed.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

from sim.outcomes import Measure
from sim.params import ConfigError, allowed_at, bounded, check_fields, probability, required
from sim.policies import CustomPolicy, PoliciesConfig, custom_policy_class

_PACKAGED_CONFIGS = Path(__file__).resolve().parent / "configs"  # in an installed wheel
CONFIG_DIR = (
    _PACKAGED_CONFIGS
    if _PACKAGED_CONFIGS.is_dir()
    else Path(__file__).resolve().parent.parent / "configs"  # in the source tree
)


@dataclass
class PovertyConfig:
    """Poverty line and monitoring threshold (yuan per person per year, 2020 prices)."""

    # yuan per person per year; up to 100,000: 25 x the 2020 line (S4), above any line in use
    line: float = bounded(0.0, 1e5, open_lo=True)
    # threshold / line: marginal households' incomes are drawn from 1.02 x the line up to the
    # threshold, so it lies above 1.02; at 3 x the line it is above the county mean income (S8)
    monitoring_threshold_ratio: float = bounded(1.02, 3.0, open_lo=True)
    measure: Measure = Measure.income  # the headline poverty measure (sim/outcomes.py)
    # per year; costs of year t are divided by (1 + rate)^t; 0.2 is above any public rate in use
    discount_rate: float = bounded(0.0, 0.2)


@dataclass
class PopulationConfig:
    """Synthetic county: villages and households (see ``configs/population/default.yaml``)."""

    households: int = bounded(1, 10_000_000)  # up to a province's rural households
    villages: int = bounded(1, 100_000)  # a county has hundreds, a province tens of thousands
    resettlement_sites: int = bounded(1, 1000)  # relocation needs a site to move to
    site_remoteness: float = probability()  # on the 0 (town) .. 1 (most remote) scale
    # sd of the noise added to remoteness when ranking villages by exposure; 0: exposure follows
    # remoteness exactly, 3: ten times the spread of remoteness, exposure nearly random
    exposure_noise: float = bounded(0.0, 3.0)
    share_lifted: float = probability()
    share_marginal: float = probability()
    # how much more often poor households live in remote villages: weight 1 + g (remoteness -
    # 1/2), which stays non-negative for g up to 2
    poverty_remoteness_gradient: float = bounded(0.0, 2.0)
    share_high_exposure: float = probability()
    share_medium_exposure: float = probability()
    mean_household_size: float = bounded(1.0, 8.0)  # persons (a household has 1 to max)
    max_household_size: int = bounded(2, 20)  # persons; 20 is beyond any rural household
    worker_share: float = probability()
    share_no_work_capacity_lifted: float = probability()
    share_no_work_capacity_other: float = probability()
    share_chronic_illness_lifted: float = probability()
    share_chronic_illness_other: float = probability()
    skill_mean_poor: float = bounded(0.05, 0.95)  # Beta mean; inside (0, 1) for a Beta
    skill_mean_non_poor: float = bounded(0.05, 0.95)
    skill_concentration: float = bounded(1.0, 100.0)  # Beta a + b; 100 is nearly one skill
    land_sigma: float = bounded(0.0, 2.0)  # log-sd of farmland; 2 spreads it over 100 x
    # yuan per person per year (2020 income incl. the 2020 support); up to 1 M: 90 x S8's mean
    income_lifted_mean: float = bounded(0.0, 1e6, open_lo=True)
    income_non_poor_mean: float = bounded(0.0, 1e6, open_lo=True)
    income_sigma: float = bounded(0.0, 2.0)  # log-sd; 2 spreads incomes over orders of magnitude
    # x line: lifted households' 2020 incomes start here; 3 x is above S7's mean
    lifted_income_floor_ratio: float = bounded(1.0, 3.0)
    # x line: 2020 per-capita income of a lifted household without workers (pensions plus
    # dibao or 特困 support); from the line to 3 x, above S7's mean
    no_worker_income_ratio: float = bounded(1.0, 3.0)
    # x line: marginal households' 2020 incomes start here, below the monitoring threshold
    marginal_income_floor_ratio: float = bounded(1.0, 1.5)
    support_share_lifted: float = probability()  # of a working lifted household's 2020 income
    # x line: a working lifted household's market income per person is at least this
    lifted_market_floor_ratio: float = bounded(0.5, 3.0)
    pension_share: float = probability()  # of a working household's market income
    # yuan per person per year of a household without workers; 100,000 is 25 x the line
    pension_per_capita: float = bounded(0.0, 1e5)
    property_share: float = probability()
    migrant_propensity: float = probability()
    # x migrant propensity per unit of skill above 0.5; 2 doubles it from the least to the most
    migrant_skill_slope: float = bounded(0.0, 2.0)
    local_wage_propensity: float = probability()
    local_wage_remoteness_penalty: float = probability()  # share of access lost at remoteness 1
    # x a farm worker's income; labour income is shared out by these weights, so a job paying a
    # tenth of farm work is the least (smaller weights overflow the share), 20 x beyond any gap
    earnings_weight_local: float = bounded(0.1, 20.0)
    earnings_weight_migrant: float = bounded(0.1, 20.0)
    # earnings x (1 + slope (skill - 1/2)); 2 is the most that keeps earnings non-negative
    earnings_skill_slope: float = bounded(0.0, 2.0)
    # of a migrant's wage sent home; the wage is what he sends / this share, so from 5% on it
    # stays within 20 x what he sends
    remittance_share: float = bounded(0.05, 1.0)
    savings_months_poor: float = bounded(0.0, 120.0)  # months of income; ten years at most
    savings_months_non_poor: float = bounded(0.0, 120.0)
    savings_sigma: float = bounded(0.0, 2.0)  # log-sd of savings around the months' income
    saving_rate: float = probability()
    # x line: households draw on savings to consume at least this per person; 3 x is above
    # S8's mean income
    consumption_floor_ratio: float = bounded(0.0, 3.0)
    # mu per household; land is drawn relative to this mean, so it is positive; 1,000 mu (67 ha)
    # is beyond any smallholder county
    land_mu_mean: float = bounded(0.0, 1000.0, open_lo=True)
    # real growth of market incomes per year; -10% to +20% spans any decade's rural record (S28)
    real_growth: float = bounded(-0.1, 0.2)


@dataclass
class ShocksConfig:
    """Illness, disaster, labour-market and price shocks (see ``configs/shocks/default.yaml``)."""

    # hospitalisations per person per year, the county average whatever the chronic share
    hospitalisation_rate: float = probability()
    chronic_illness_multiplier: float = bounded(1.0, 20.0)  # x hazard; up to 20 x
    hospital_cost_median: float = bounded(0.0, 1e6)  # yuan per stay; up to 1 M, 170 x the default
    hospital_cost_sigma: float = bounded(0.0, 3.0)  # log-sd; 3 puts one bill in 20 at 140 x median
    reimbursement_rate: float = probability()
    serious_illness_share: float = probability()
    recovery_months: int = bounded(0, 24)  # months out of work; two years at most
    disaster_rate_low: float = probability()
    disaster_rate_medium: float = probability()
    disaster_rate_high: float = probability()
    disaster_severity_mean: float = probability()
    disaster_severity_shape: float = bounded(0.1, 50.0)  # Beta a; 50 makes every disaster alike
    # yuan of direct loss per person affected; up to 100,000, 25 x S36's largest
    disaster_loss_per_person: float = bounded(0.0, 1e5)
    disaster_household_share: float = probability()  # of the direct loss borne by households
    job_loss_rate: float = probability()
    downturn_rate: float = probability()
    downturn_multiplier: float = bounded(1.0, 20.0)  # x job-loss rate; up to 20 x
    reemployment_rate: float = probability()
    price_sigma_staple: float = bounded(0.0, 2.0)  # log-sd per year; 2 is a collapse or boom
    price_sigma_cash_crop: float = bounded(0.0, 2.0)
    # life course, switched off with the shocks (shocks=none freezes who works): per worker and
    # per non-working member per year
    retirement_rate: float = probability()
    labour_entry_rate: float = probability()
    entrant_migrant_share: float = probability()  # of new workers who migrate
    earnings_persistence: float = probability()  # AR(1) coefficient of the persistent part
    # log-sd per year of the persistent and transitory parts of earnings; 1 is a factor of e
    earnings_persistent_sigma: float = bounded(0.0, 1.0)
    earnings_transitory_sigma: float = bounded(0.0, 1.0)


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

    seed: int = bounded(0, 2**63 - 1)  # any non-negative 64-bit seed (numpy's SeedSequence)
    years: int = bounded(1, 100)  # horizon; a century at most
    # first simulated year, a calendar label of a county described as of the end of 2020 (S4
    # prices); with a century's horizon, dates stay within pandas' range (to 2262)
    start_year: int = bounded(2000, 2100)
    poverty: PovertyConfig = field(default_factory=PovertyConfig)
    population: PopulationConfig = field(default_factory=PopulationConfig)
    shocks: ShocksConfig = field(default_factory=ShocksConfig)
    policies: PoliciesConfig = field(default_factory=PoliciesConfig)
    output: OutputConfig = field(default_factory=OutputConfig)

    @property
    def months(self) -> int:
        """Length of the run in months."""
        return 12 * self.years


def _check_consistency(cfg: Config) -> None:
    """Shares of one whole must not add up to more than it."""
    pop = cfg.population
    wholes = [
        ("share_lifted", "share_marginal"),  # of households
        ("share_high_exposure", "share_medium_exposure"),  # of villages
        ("property_share", "pension_share"),  # of market income; labour earns the rest
    ]
    for a, b in wholes:
        total = getattr(pop, a) + getattr(pop, b)
        if total > 1:
            raise ConfigError(
                f"population.{a} + population.{b} = {total:g} is out of range: allowed [0, 1]"
            )


def load_config(cfg: DictConfig | dict[str, Any]) -> Config:
    """Validate a composed config against the schema and return plain typed objects.

    A node ``policies.<name>`` with a ``_target_`` is a custom policy: its class is imported
    (:func:`sim.policies.custom_policy_class`) and the node's other keys are checked against the
    class's ``config_type`` as every other node is against the schema.

    Raises:
        ConfigError: a key is unknown or missing, a value has the wrong type or is out of range,
            or a custom policy's class cannot be used.
    """
    raw = cfg if isinstance(cfg, DictConfig) else OmegaConf.create(cfg)
    built_in, custom = _split_custom_policies(raw)
    classes = {
        name: custom_policy_class(name, node["_target_"], CONFIG_DIR / "experiment")
        for name, node in custom.items()
    }
    typed = _checked(Config, built_in, raw, "")
    assert isinstance(typed, Config)
    _check_consistency(typed)
    for name, node in custom.items():
        params = OmegaConf.masked_copy(node, [str(key) for key in node if key != "_target_"])
        checked = _checked(classes[name].config_type, params, raw, f"policies.{name}.")
        typed.policies.custom[name] = CustomPolicy(classes[name], checked)
    return typed


@functools.cache
def structured(schema: type) -> DictConfig:
    """The dataclass ``schema`` as a structured config, made once (25 ms for :class:`Config`).

    ``OmegaConf.merge`` copies its first argument, so the one made here is never changed.
    """
    return OmegaConf.structured(schema)


def _checked(schema: type, node: DictConfig, raw: DictConfig, path: str) -> Any:
    """``node`` merged into the dataclass ``schema`` as plain typed objects, every field checked.

    ``raw`` is the whole composed config and ``path`` the node's key in it (``""`` for the whole
    config, ``"policies.<name>."`` for a custom policy), for the checks and the messages.
    """
    try:
        merged = OmegaConf.merge(structured(schema), node)
        typed = OmegaConf.to_object(merged)
    except OmegaConfBaseException as exc:
        relative = getattr(exc, "full_key", None) or ""
        key = f"{path}{relative}".rstrip(".") or "config"
        reason = str(exc).splitlines()[0]
        allowed = allowed_at(schema(), relative) if relative else None
        hint = f": allowed {allowed}" if allowed else ""
        raise ConfigError(f"{key}: {reason}{hint}") from None
    check_fields(typed, raw, path)
    return typed


def _split_custom_policies(raw: DictConfig) -> tuple[DictConfig, dict[str, DictConfig]]:
    """The config without its custom policies' nodes, and those nodes by policy name."""
    policies = raw.get("policies")
    if not isinstance(policies, DictConfig):
        return raw, {}
    custom = {
        str(name): node
        for name, node in policies.items()
        if isinstance(node, DictConfig) and "_target_" in node
    }
    if not custom:
        return raw, {}
    built_in = copy.deepcopy(raw)
    with open_dict(built_in):
        for name in custom:
            del built_in.policies[name]
    return built_in, custom


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
