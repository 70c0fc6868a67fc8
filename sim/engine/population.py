"""Synthetic county: villages with remoteness and disaster exposure, and their households.

:func:`generate_population` draws the county the model starts from into a
:class:`~sim.engine.state.HouseholdState` and :class:`~sim.engine.state.Villages`. Incomes are
annual yuan (2020 prices) unless a name says otherwise. Parameters and their sources are in
``configs/population/default.yaml`` and ``docs/model.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.engine.rng import stream
from sim.engine.state import (
    HIGH,
    LIFTED,
    LOW,
    MARGINAL,
    MEDIUM,
    NON_POOR,
    HouseholdState,
    Villages,
)

# Names that other modules import from here; they are defined in sim.engine.state.
from sim.engine.state import RELAPSED as RELAPSED
from sim.engine.state import STATUS_NAMES as STATUS_NAMES

if TYPE_CHECKING:
    from sim.config import PopulationConfig, PovertyConfig

# Resettlement sites are near county towns (assumption: remoteness 0.1 on the 0-1 scale).
SITE_REMOTENESS = 0.1


def _villages(cfg: PopulationConfig, rng: np.random.Generator) -> Villages:
    n = cfg.villages
    remoteness = rng.uniform(0.0, 1.0, n)
    # Remote villages are more often disaster-prone: rank villages by remoteness plus noise
    # (assumption: mountain villages are both remote and exposed to landslides and floods).
    score = remoteness + rng.normal(0.0, 0.3, n)
    order = np.argsort(-score, kind="stable")
    exposure = np.full(n, LOW, dtype=np.int8)
    n_high = round(cfg.share_high_exposure * n)
    n_medium = round(cfg.share_medium_exposure * n)
    exposure[order[:n_high]] = HIGH
    exposure[order[n_high : n_high + n_medium]] = MEDIUM
    sites = cfg.resettlement_sites
    return Villages(
        remoteness=np.concatenate([remoteness, np.full(sites, SITE_REMOTENESS)]),
        exposure=np.concatenate([exposure, np.full(sites, LOW, dtype=np.int8)]),
        is_site=np.concatenate([np.zeros(n, bool), np.ones(sites, bool)]),
    )


def _shifted_lognormal(
    rng: np.random.Generator, floor: np.ndarray | float, mean: float, sigma: float, n: int
) -> np.ndarray:
    """``floor`` plus a lognormal whose mean makes the total's mean about ``mean``."""
    excess = np.maximum(mean - floor, 1.0)
    mu = np.log(excess) - sigma**2 / 2
    return floor + np.exp(mu + sigma * rng.standard_normal(n))


def generate_population(
    cfg: PopulationConfig, poverty: PovertyConfig, reimbursement_rate: float, seed: int
) -> tuple[HouseholdState, Villages]:
    """Draw the synthetic county from the ``population`` stream of ``seed``.

    Args:
        cfg: population parameters.
        poverty: poverty line and monitoring threshold; set the income bands of the statuses.
        reimbursement_rate: baseline share of hospital costs reimbursed by insurance.
        seed: the run seed.
    """
    rng = stream(seed, "population")
    villages = _villages(cfg, rng)
    n = cfg.households
    village = rng.integers(0, cfg.villages, n).astype(np.int32)
    remote = villages.remoteness[village]

    # Formerly registered poor and marginal households are concentrated in remote villages:
    # weight (0.5 + remoteness) has mean 1, so the county-wide shares hold on average.
    weight = 0.5 + remote
    u = rng.random(n)
    p_lifted = np.clip(cfg.share_lifted * weight, 0, 1)
    p_marginal = np.clip(cfg.share_marginal * weight, 0, 1 - p_lifted)
    initial_status = np.where(
        u < p_lifted, LIFTED, np.where(u < p_lifted + p_marginal, MARGINAL, NON_POOR)
    ).astype(np.int8)
    poor = initial_status != NON_POOR

    size = np.minimum(1 + rng.poisson(cfg.mean_household_size - 1, n), 10).astype(np.int16)
    share_incapable = np.where(
        initial_status == LIFTED,
        cfg.share_no_work_capacity_lifted,
        cfg.share_no_work_capacity_other,
    )
    incapable = rng.random(n) < share_incapable
    workers = np.where(incapable, 0, np.maximum(1, rng.binomial(size, cfg.worker_share)))
    workers = workers.astype(np.int16)
    skill = np.where(poor, rng.beta(2.0, 3.0, n), rng.beta(3.0, 2.0, n))
    share_chronic = np.where(
        initial_status == LIFTED, cfg.share_chronic_illness_lifted, cfg.share_chronic_illness_other
    )
    chronic_illness = rng.random(n) < share_chronic
    land_mu = rng.lognormal(np.log(max(cfg.land_mu_mean, 1e-9)) - 0.125, 0.5, n)

    # Workers choose migrant work, local wage work or farming; skill raises and remoteness
    # lowers access to wage jobs.
    migrant_workers = rng.binomial(workers, np.clip(cfg.migrant_propensity * (0.5 + skill), 0, 1))
    local_workers = rng.binomial(
        workers - migrant_workers, np.clip(cfg.local_wage_propensity * (1.0 - 0.6 * remote), 0, 1)
    )
    farm_workers = workers - migrant_workers - local_workers

    # Per-capita income by status (poverty line and monitoring threshold: S4, S5).
    line = poverty.line
    threshold = line * poverty.monitoring_threshold_ratio
    income_lifted = _shifted_lognormal(
        rng, 1.05 * line, cfg.income_lifted_mean, cfg.income_sigma, n
    )
    income_marginal = rng.uniform(1.02 * line, threshold, n)
    income_non_poor = _shifted_lognormal(
        rng, threshold, cfg.income_non_poor_mean, cfg.income_sigma, n
    )
    per_capita = np.select(
        [initial_status == LIFTED, initial_status == MARGINAL],
        [income_lifted, income_marginal],
        income_non_poor,
    )
    total = per_capita * size

    # Income mix (S8): transfers and property income, the rest from work. Households without
    # working capacity live on transfers.
    property_income = cfg.property_share * total
    transfer_share = np.where(poor, cfg.transfer_share_poor, cfg.transfer_share_non_poor)
    transfer_income = np.where(workers > 0, transfer_share * total, total - property_income)
    labour = total - property_income - transfer_income
    farm_weight = farm_workers * np.sqrt(land_mu / max(cfg.land_mu_mean, 1e-9))
    local_weight = cfg.earnings_weight_local * (0.75 + 0.5 * skill)
    migrant_weight = cfg.earnings_weight_migrant * (0.75 + 0.5 * skill)
    units = farm_weight + local_workers * local_weight + migrant_workers * migrant_weight
    unit = np.divide(labour, units, out=np.zeros(n), where=units > 0)
    # A household whose workers all farm without land still earns its labour income on farm.
    no_units = (workers > 0) & (units <= 0)
    farm_income = np.where(no_units, labour, unit * farm_weight)

    monthly = total / 12
    savings_months = np.where(poor, cfg.savings_months_poor, cfg.savings_months_non_poor)
    savings = savings_months * monthly * rng.lognormal(-0.125, 0.5, n)

    zeros = np.zeros(n)
    state = HouseholdState(
        village=village,
        size=size,
        workers=workers,
        skill=skill,
        chronic_illness=chronic_illness,
        land_mu=land_mu,
        initial_status=initial_status,
        status=initial_status.copy(),
        farm_workers=farm_workers.astype(np.int16),
        local_workers=local_workers.astype(np.int16),
        migrant_workers=migrant_workers.astype(np.int16),
        unemployed_migrants=np.zeros(n, np.int16),
        farm_income=farm_income,
        local_wage=unit * local_weight,
        migrant_wage=unit * migrant_weight,
        transfer_income=transfer_income,
        property_income=property_income,
        cash_crop=np.zeros(n, bool),
        farm_price_premium=zeros.copy(),
        savings=savings,
        reimbursement_rate=np.full(n, reimbursement_rate),
        sick_workers=np.zeros(n, np.int16),
        sick_months_left=np.zeros(n, np.int16),
        farm_damage=zeros.copy(),
        income_month=zeros.copy(),
        farm_income_month=zeros.copy(),
        expense_month=zeros.copy(),
        medical_cost_month=zeros.copy(),
        medical_oop_month=zeros.copy(),
        policy_transfers_month=zeros.copy(),
        income_ytd=zeros.copy(),
        uncovered_expense_ytd=zeros.copy(),
        loss_illness_ytd=zeros.copy(),
        loss_disaster_ytd=zeros.copy(),
        loss_job_ytd=zeros.copy(),
        loss_price_ytd=zeros.copy(),
        per_capita_income=per_capita,
        below_line=per_capita < line,
        ever_relapsed=np.zeros(n, bool),
        risk_colour=np.zeros(n, np.int8),
        safety_net=np.zeros(n, bool),
    )
    return state, villages
