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


def _villages(cfg: PopulationConfig, rng: np.random.Generator) -> Villages:
    n = cfg.villages
    remoteness = rng.uniform(0.0, 1.0, n)
    # Remote villages are more often disaster-prone: rank villages by remoteness plus noise
    # (mountain villages are both remote and exposed to landslides and floods).
    score = remoteness + rng.normal(0.0, abs(cfg.exposure_noise), n)  # abs: -0.0 is 0
    order = np.argsort(-score, kind="stable")
    exposure = np.full(n, LOW, dtype=np.int8)
    n_high = round(cfg.share_high_exposure * n)
    n_medium = round(cfg.share_medium_exposure * n)
    exposure[order[:n_high]] = HIGH
    exposure[order[n_high : n_high + n_medium]] = MEDIUM
    sites = cfg.resettlement_sites
    return Villages(
        remoteness=np.concatenate([remoteness, np.full(sites, cfg.site_remoteness)]),
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


def _beta(rng: np.random.Generator, mean: float, concentration: float, n: int) -> np.ndarray:
    """Beta draws with ``mean`` and ``a + b = concentration``."""
    return rng.beta(mean * concentration, (1.0 - mean) * concentration, n)


def generate_population(
    cfg: PopulationConfig, poverty: PovertyConfig, reimbursement_rate: float, seed: int
) -> tuple[HouseholdState, Villages]:
    """Draw the synthetic county from the ``population`` stream of ``seed``.

    Each household's 2020 per-capita income (which sets its status) is drawn first; the
    anti-poverty support it contained (``support_2020``) is taken out, and the rest, the
    **market income**, is split into property income, non-policy transfers (pensions) and
    labour income. Households without workers live on pensions and property income; the lifted
    and marginal among them had the rest of their 2020 income from support. A working lifted
    household's market income stays at or above ``lifted_market_floor_ratio`` x the line. The
    safety-net register (``safety_net``) starts as the 2020 roll: the lifted and marginal
    households without workers, whose 2020 income the dibao or 特困 support topped up.

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
    # the weight 1 + gradient (remoteness - 1/2) has mean 1, so the county-wide shares hold.
    weight = 1.0 + cfg.poverty_remoteness_gradient * (remote - 0.5)
    u = rng.random(n)
    p_lifted = np.clip(cfg.share_lifted * weight, 0, 1)
    p_marginal = np.clip(cfg.share_marginal * weight, 0, 1 - p_lifted)
    initial_status = np.where(
        u < p_lifted, LIFTED, np.where(u < p_lifted + p_marginal, MARGINAL, NON_POOR)
    ).astype(np.int8)
    poor = initial_status != NON_POOR
    lifted = initial_status == LIFTED

    size = np.minimum(1 + rng.poisson(cfg.mean_household_size - 1, n), cfg.max_household_size)
    size = size.astype(np.int16)
    share_incapable = np.where(
        lifted, cfg.share_no_work_capacity_lifted, cfg.share_no_work_capacity_other
    )
    incapable = rng.random(n) < share_incapable
    workers = np.where(incapable, 0, np.maximum(1, rng.binomial(size, cfg.worker_share)))
    workers = workers.astype(np.int16)
    skill = np.where(
        poor,
        _beta(rng, cfg.skill_mean_poor, cfg.skill_concentration, n),
        _beta(rng, cfg.skill_mean_non_poor, cfg.skill_concentration, n),
    )
    share_chronic = np.where(
        lifted, cfg.share_chronic_illness_lifted, cfg.share_chronic_illness_other
    )
    chronic_illness = rng.random(n) < share_chronic
    land_sigma = abs(cfg.land_sigma)  # -0.0 is 0
    land_mu = rng.lognormal(np.log(cfg.land_mu_mean) - land_sigma**2 / 2, land_sigma, n)

    # Workers choose migrant work, local wage work or farming; skill raises migration, remoteness
    # lowers access to local wage jobs.
    p_migrate = cfg.migrant_propensity * (1.0 + cfg.migrant_skill_slope * (skill - 0.5))
    migrant_workers = rng.binomial(workers, np.clip(p_migrate, 0, 1))
    p_local = cfg.local_wage_propensity * (1.0 - cfg.local_wage_remoteness_penalty * remote)
    local_workers = rng.binomial(workers - migrant_workers, np.clip(p_local, 0, 1))
    farm_workers = workers - migrant_workers - local_workers

    # 2020 per-capita income by status (poverty line and monitoring threshold: S4, S5).
    line = poverty.line
    threshold = line * poverty.monitoring_threshold_ratio
    # Lifted households without workers lived on pensions and support at no_worker_income_ratio
    # x the line; the working ones' mean makes the mean of all lifted income_lifted_mean (S7).
    no_worker_income = cfg.no_worker_income_ratio * line
    idle = cfg.share_no_work_capacity_lifted
    working_mean = (cfg.income_lifted_mean - idle * no_worker_income) / max(1.0 - idle, 1e-9)
    income_lifted = _shifted_lognormal(
        rng, cfg.lifted_income_floor_ratio * line, working_mean, cfg.income_sigma, n
    )
    income_marginal = rng.uniform(cfg.marginal_income_floor_ratio * line, threshold, n)
    income_non_poor = _shifted_lognormal(
        rng, threshold, cfg.income_non_poor_mean, cfg.income_sigma, n
    )
    working = workers > 0
    income_2020 = np.select(
        [lifted & working, lifted, initial_status == MARGINAL],
        [income_lifted, np.full(n, no_worker_income), income_marginal],
        income_non_poor,
    )

    # Market income: the 2020 income less the anti-poverty support it contained.
    floor = cfg.lifted_market_floor_ratio * line
    support_working = np.clip(
        np.minimum(cfg.support_share_lifted * income_2020, income_2020 - floor), 0.0, None
    )
    market_per_capita = np.select(
        [working & lifted, ~working & poor],
        [income_2020 - support_working, np.minimum(cfg.pension_per_capita, income_2020)],
        income_2020,
    )
    support_2020 = (income_2020 - market_per_capita) * size
    market = market_per_capita * size

    # Market income mix: property income, pensions, labour income (S8).
    property_income = cfg.property_share * market
    transfer_income = np.where(working, cfg.pension_share * market, market - property_income)
    labour = market - property_income - transfer_income
    earnings = 1.0 + cfg.earnings_skill_slope * (skill - 0.5)
    farm_weight = farm_workers * np.sqrt(land_mu / cfg.land_mu_mean)
    local_weight = cfg.earnings_weight_local * earnings
    migrant_weight = cfg.earnings_weight_migrant * earnings
    units = farm_weight + local_workers * local_weight + migrant_workers * migrant_weight
    unit = np.divide(labour, units, out=np.zeros(n), where=units > 0)
    # A household whose workers all farm without land still earns its labour income on farm.
    no_units = working & (units <= 0)
    farm_income = np.where(no_units, labour, unit * farm_weight)

    monthly = income_2020 * size / 12
    savings_months = np.where(poor, cfg.savings_months_poor, cfg.savings_months_non_poor)
    savings_sigma = abs(cfg.savings_sigma)  # -0.0 is 0
    savings = savings_months * monthly * rng.lognormal(-(savings_sigma**2) / 2, savings_sigma, n)

    zeros = np.zeros(n)
    below = income_2020 < line
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
        # the household receives remittance_share of a migrant's wage: his weight's share
        migrant_wage=unit * migrant_weight / cfg.remittance_share,
        transfer_income=transfer_income,
        property_income=property_income,
        remittance_share=np.full(n, cfg.remittance_share),
        earnings_level=np.ones(n),
        earnings_persistent=zeros.copy(),
        support_2020=support_2020,
        cash_crop=np.zeros(n, bool),
        farm_price_premium=zeros.copy(),
        savings=savings,
        reimbursement_rate=np.full(n, reimbursement_rate),
        sick_workers=np.zeros(n, np.int16),
        sick_months_left=np.zeros(n, np.int16),
        farm_damage=zeros.copy(),
        income_month=zeros.copy(),
        market_income_month=zeros.copy(),
        farm_income_month=zeros.copy(),
        expense_month=zeros.copy(),
        medical_cost_month=zeros.copy(),
        medical_oop_month=zeros.copy(),
        policy_transfers_month=zeros.copy(),
        income_ytd=zeros.copy(),
        market_income_ytd=zeros.copy(),
        policy_ytd=zeros.copy(),
        uncovered_expense_ytd=zeros.copy(),
        loss_illness_ytd=zeros.copy(),
        loss_disaster_ytd=zeros.copy(),
        loss_job_ytd=zeros.copy(),
        loss_price_ytd=zeros.copy(),
        per_capita_income=income_2020.copy(),
        per_capita_after_shocks=income_2020.copy(),
        below_income=below.copy(),
        below_after_shocks=below.copy(),
        below_line=below.copy(),
        ever_relapsed=np.zeros(n, bool),
        risk_colour=np.zeros(n, np.int8),
        safety_net=poor & ~working,  # the 2020 roll: poor households living on dibao or 特困
    )
    return state, villages
