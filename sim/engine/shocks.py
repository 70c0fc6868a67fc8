"""Shock draws: illness, disaster, labour market, prices, earnings and the life course.

Each kind of shock has its own named stream (``illness``, ``disaster``, ``labour``, ``price``,
``earnings``, ``life_course``), and every month (every year for the yearly ones) the same number
of numbers is drawn for every household and village whatever the state or the policies.
Probabilities that depend on the state (household size, exposure, employment) are applied to
these fixed uniforms by the model, so two scenarios with the same seed face the same shocks
(common random numbers). The households' monthly uniforms are single precision (a hazard of a
few percent needs no more), kept as the 32-bit words they are made from; a hospital bill is
drawn for every household as a uniform and turned into its standard normal (the normal quantile
of the uniform) only for the households hospitalised, a few percent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import ndtri

from sim.engine.rng import (
    UNIFORM_FLOAT32_STEPS,
    step_quantiles,
    stream,
    uniform_float32_words,
)

if TYPE_CHECKING:
    from sim.config import ShocksConfig


def monthly_rate(annual: float | np.ndarray) -> float | np.ndarray:
    """The monthly probability equivalent to an annual probability (constant hazard)."""
    return 1.0 - (1.0 - np.asarray(annual)) ** (1.0 / 12.0)


@dataclass(frozen=True)
class YearDraws:
    """Shocks drawn once a year, at January."""

    downturn: bool  # an aggregate migrant labour-market downturn this year
    price_staple: float  # price factor of staple crops this year (mean 1)
    price_cash_crop: float  # price factor of cash crops this year (mean 1)


@dataclass(frozen=True)
class HouseholdYearDraws:
    """Each household's draws of the year, at January (not public: policies never see them)."""

    persistent_z: np.ndarray  # standard normal: innovation of the persistent earnings part
    transitory_z: np.ndarray  # standard normal: the year's transitory earnings part
    retire_u: np.ndarray  # uniform: does a worker stop working this year
    entry_u: np.ndarray  # uniform: does a member start working this year
    entry_migrate_u: np.ndarray  # uniform: does the newcomer migrate


@dataclass(frozen=True)
class MonthDraws:
    """Shocks drawn every month for every household and village.

    A household's uniforms are single precision, kept as their 32-bit words ``w``
    (:func:`sim.engine.rng.uniform_float32_words`): the uniform is ``(w >> 8) / 2**24``, so
    ``u < p`` is ``w < words_below(p)``, or ``(w >> 8) < steps_below(p)``. The ``*_u`` properties
    give the uniforms themselves.
    """

    illness_w: np.ndarray  # per household: is anyone hospitalised this month
    illness_cost_w: np.ndarray  # per household: the hospital bill's quantile
    illness_serious_w: np.ndarray  # per household: does a stay take a worker out of work
    disaster_u: np.ndarray  # per village: does a disaster strike this month
    disaster_severity: np.ndarray  # per village: share of farm income and repair cost
    job_loss_w: np.ndarray  # per household: does a migrant lose the job
    reemployment_w: np.ndarray  # per household: does an unemployed migrant find work

    def illness_cost_z_of(self, rows: np.ndarray | slice) -> np.ndarray:
        """The standard normal of the hospital bill of households ``rows`` (indices or a slice).

        The normal quantile of the middle of the household's uniform step
        (:func:`sim.engine.rng.step_quantiles`), finite: ``|z| < 5.5``.
        """
        return np.asarray(ndtri(step_quantiles(self.illness_cost_w[rows] >> 8)))

    @property
    def illness_cost_z(self) -> np.ndarray:
        """Every household's hospital-bill standard normal (the model needs the hospitalised')."""
        return self.illness_cost_z_of(slice(None))

    @property
    def illness_u(self) -> np.ndarray:
        """Every household's uniform for a hospital stay."""
        return _uniforms(self.illness_w)

    @property
    def illness_serious_u(self) -> np.ndarray:
        """Every household's uniform for a stay that takes a worker out of work."""
        return _uniforms(self.illness_serious_w)

    @property
    def job_loss_u(self) -> np.ndarray:
        """Every household's uniform for a migrant's job loss."""
        return _uniforms(self.job_loss_w)

    @property
    def reemployment_u(self) -> np.ndarray:
        """Every household's uniform for an unemployed migrant finding work."""
        return _uniforms(self.reemployment_w)


def _uniforms(words: np.ndarray) -> np.ndarray:
    """The single-precision uniforms of 32-bit words, ``(w >> 8) / 2**24`` (exactly)."""
    return (words >> 8) / UNIFORM_FLOAT32_STEPS


class ShockDraws:
    """Draws shocks from their named streams (see the module docstring)."""

    def __init__(self, cfg: ShocksConfig, seed: int, households: int, villages: int):
        self.cfg = cfg
        self.households = households
        self.villages = villages
        self._illness = stream(seed, "illness")
        self._disaster = stream(seed, "disaster")
        self._labour = stream(seed, "labour")
        self._price = stream(seed, "price")
        self._earnings = stream(seed, "earnings")
        self._life_course = stream(seed, "life_course")
        m, a = cfg.disaster_severity_mean, cfg.disaster_severity_shape
        # Beta(a, b) with mean m: most disasters are moderate, a few destroy most.
        self._severity_b = a * (1.0 - m) / m if 0 < m < 1 else 1.0

    def year(self) -> YearDraws:
        """Draw the year's aggregate shocks."""
        cfg = self.cfg
        downturn = bool(self._labour.random() < cfg.downturn_rate)
        z = self._price.standard_normal(2)
        return YearDraws(
            downturn=downturn,
            price_staple=float(
                np.exp(cfg.price_sigma_staple * z[0] - cfg.price_sigma_staple**2 / 2)
            ),
            price_cash_crop=float(
                np.exp(cfg.price_sigma_cash_crop * z[1] - cfg.price_sigma_cash_crop**2 / 2)
            ),
        )

    def household_year(self) -> HouseholdYearDraws:
        """Draw every household's earnings innovations and life-course uniforms of the year."""
        n = self.households
        return HouseholdYearDraws(
            persistent_z=self._earnings.standard_normal(n),
            transitory_z=self._earnings.standard_normal(n),
            retire_u=self._life_course.random(n),
            entry_u=self._life_course.random(n),
            entry_migrate_u=self._life_course.random(n),
        )

    def month(self) -> MonthDraws:
        """Draw the month's household and village shocks."""
        n, v = self.households, self.villages
        m = self.cfg.disaster_severity_mean
        if 0 < m < 1:
            severity = self._disaster.beta(self.cfg.disaster_severity_shape, self._severity_b, v)
        else:
            severity = np.full(v, m)
            self._disaster.random(v)  # keep the stream's position independent of the mean
        illness = uniform_float32_words(self._illness, 3 * n).reshape(3, n)
        labour = uniform_float32_words(self._labour, 2 * n).reshape(2, n)
        return MonthDraws(
            illness_w=illness[0],
            illness_cost_w=illness[1],
            illness_serious_w=illness[2],
            disaster_u=self._disaster.random(v),
            disaster_severity=severity,
            job_loss_w=labour[0],
            reemployment_w=labour[1],
        )
