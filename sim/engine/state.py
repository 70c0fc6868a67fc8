"""The household state and the household rules every part of the model shares.

All household attributes are numpy arrays of length ``count`` held in one :class:`HouseholdState`
(a struct of arrays); row ``i`` of every array is household ``i``. Incomes are annual yuan (2020
prices) unless a name says otherwise.

The rules that the model and the policies both apply live here, once, as methods of the state:

- :meth:`HouseholdState.reset_month` and :meth:`HouseholdState.reset_year`: the month's flows
  and the year's accumulators start from zero;
- :meth:`HouseholdState.earn_month`: the month's income — farm income at the year's price of the
  household's crop with its price premium, net of disaster damage; wages; the share lost to
  sick workers — and what each shock took from it;
- :meth:`HouseholdState.sick_share`, :meth:`HouseholdState.working_share` and
  :meth:`HouseholdState.able_workers`: who is off sick, safe for households without workers;
- :meth:`HouseholdState.move_workers`: workers change jobs, keeping every worker in exactly one
  of farm, local wage, migrant and unemployed returned migrant, a farm worker taking his share of
  the farm income with him.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    from sim.engine.shocks import YearDraws

# Status codes (DESIGN.md section 2).
LIFTED, MARGINAL, NON_POOR, RELAPSED, NEWLY_POOR = 0, 1, 2, 3, 4
STATUS_NAMES = ("lifted", "marginal", "non_poor", "relapsed", "newly_poor")

# Monitoring's risk colours (DESIGN.md section 2).
GREEN, YELLOW, ORANGE, RED = 0, 1, 2, 3
COLOUR_NAMES = ("green", "yellow", "orange", "red")

# Disaster exposure classes of a village.
LOW, MEDIUM, HIGH = 0, 1, 2

Job = Literal["farm", "local", "migrant", "unemployed"]
"""A worker's job: farming, local wage work, migrant work, or returned migrant out of work."""

Rows = np.ndarray | slice
"""Households a rule applies to: row indices (unique), or ``slice(None)`` for all of them."""

ALL = slice(None)


@dataclass
class Villages:
    """Per-village arrays; the last ``sites`` entries are resettlement sites."""

    remoteness: np.ndarray  # 0 (county town) .. 1 (most remote)
    exposure: np.ndarray  # LOW / MEDIUM / HIGH
    is_site: np.ndarray  # resettlement site (low exposure, near town)

    @property
    def count(self) -> int:
        """Number of villages including resettlement sites."""
        return len(self.remoteness)


@dataclass
class HouseholdState:
    """The model's household state, one array per attribute, and the rules on it."""

    # Who the household is.
    village: np.ndarray  # index into Villages
    size: np.ndarray  # persons
    workers: np.ndarray  # persons able to work
    skill: np.ndarray  # 0..1, raises wage-job access and wages
    chronic_illness: np.ndarray  # a member has a chronic illness
    land_mu: np.ndarray  # farmland, mu (1 mu = 1/15 ha)
    initial_status: np.ndarray  # LIFTED / MARGINAL / NON_POOR at the start of the run
    status: np.ndarray  # current status code
    # Employment of the workers (counts); every worker is in exactly one of the four.
    farm_workers: np.ndarray
    local_workers: np.ndarray
    migrant_workers: np.ndarray  # employed migrants
    unemployed_migrants: np.ndarray  # migrants who lost their job and returned home
    # Income sources, annual yuan at normal prices with everyone employed and healthy.
    farm_income: np.ndarray  # whole household
    local_wage: np.ndarray  # per local wage worker
    migrant_wage: np.ndarray  # per migrant worker
    transfer_income: np.ndarray  # pensions, subsidies, dibao already received in 2020
    property_income: np.ndarray
    cash_crop: np.ndarray  # farms a cash crop (price risk of cash crops)
    farm_price_premium: np.ndarray  # extra share on farm prices (e.g. guaranteed purchases)
    # Buffers and insurance.
    savings: np.ndarray  # yuan
    reimbursement_rate: np.ndarray  # share of hospital cost reimbursed
    # Health and disaster state.
    sick_workers: np.ndarray  # workers out of work after a serious illness
    sick_months_left: np.ndarray
    farm_damage: np.ndarray  # share of this year's farm income destroyed by disaster
    # This month's flows (yuan), reset each month (reset_month).
    income_month: np.ndarray  # own earned income and regular transfers
    farm_income_month: np.ndarray  # farm income as earned this month, before sick leave
    expense_month: np.ndarray  # shock expenditure: out-of-pocket medical cost + repairs
    medical_cost_month: np.ndarray  # hospital bills before reimbursement
    medical_oop_month: np.ndarray  # out-of-pocket part of the bills after basic insurance
    policy_transfers_month: np.ndarray  # money received from policies
    # This year's accumulators (yuan), reset after each December assessment (reset_year).
    income_ytd: np.ndarray
    uncovered_expense_ytd: np.ndarray  # shock expenditure not paid from savings
    loss_illness_ytd: np.ndarray
    loss_disaster_ytd: np.ndarray
    loss_job_ytd: np.ndarray
    loss_price_ytd: np.ndarray
    # Last assessment.
    per_capita_income: np.ndarray  # yuan per person, last assessed year (baseline at start)
    below_line: np.ndarray  # below the poverty line at the last assessment
    ever_relapsed: np.ndarray
    # Policy-facing registers, written only by policies.
    risk_colour: np.ndarray  # monitoring's colour: GREEN / YELLOW / ORANGE / RED
    safety_net: np.ndarray  # enrolled in the safety net (dibao)

    @property
    def count(self) -> int:
        """Number of households."""
        return len(self.size)

    def nbytes(self) -> int:
        """Memory held by the state arrays, bytes."""
        return sum(getattr(self, f.name).nbytes for f in fields(self))

    # -- the calendar's resets --------------------------------------------------------------

    def reset_month(self) -> None:
        """Start the month's flows (income, farm income, expenses, bills, transfers) at zero."""
        for flow in (
            self.income_month,
            self.farm_income_month,
            self.expense_month,
            self.medical_cost_month,
            self.medical_oop_month,
            self.policy_transfers_month,
        ):
            flow[:] = 0.0

    def reset_year(self) -> None:
        """Start the year's income, uncovered expenses, losses by cause and farm damage at zero."""
        for accumulator in (
            self.income_ytd,
            self.uncovered_expense_ytd,
            self.loss_illness_ytd,
            self.loss_disaster_ytd,
            self.loss_job_ytd,
            self.loss_price_ytd,
            self.farm_damage,
        ):
            accumulator[:] = 0.0

    # -- income -----------------------------------------------------------------------------

    def earn_month(self, prices: YearDraws) -> None:
        """This month's income from farm, wages and regular transfers, and what shocks took.

        Farm income is a twelfth of the normal farm income at this year's market price of the
        household's crop (``prices``: cash crop or staple) raised by its price premium, net of
        this year's disaster damage; it is kept in ``farm_income_month`` for the policies that
        pay on it. Labour income (farm and wages) is earned on the working share
        (:meth:`sick_share`). The year's losses by cause grow by the farm income a price below
        normal took, the farm income the disaster destroyed, the labour income lost to sickness
        and the migrant wages of returned migrants out of work.
        """
        market = np.where(self.cash_crop, prices.price_cash_crop, prices.price_staple)
        price = market * (1.0 + self.farm_price_premium)
        farm_normal = self.farm_income / 12
        farm = np.multiply(farm_normal * price, 1.0 - self.farm_damage, out=self.farm_income_month)
        self.loss_price_ytd += farm_normal * np.maximum(1.0 - market, 0.0)
        self.loss_disaster_ytd += farm_normal * price * self.farm_damage
        wages = (
            self.local_workers * self.local_wage + self.migrant_workers * self.migrant_wage
        ) / 12
        labour = farm + wages
        sick = np.flatnonzero(self.sick_workers > 0)  # a few percent of the households
        lost_to_sickness = np.zeros(self.count)
        lost_to_sickness[sick] = labour[sick] * self.sick_share(sick)
        self.loss_illness_ytd += lost_to_sickness
        self.loss_job_ytd += self.unemployed_migrants * self.migrant_wage / 12
        self.income_month[:] = (
            labour - lost_to_sickness + (self.transfer_income + self.property_income) / 12
        )

    def sick_share(self, rows: Rows = ALL) -> np.ndarray:
        """Share of each household's workers off sick: ``sick_workers / workers``, 0 without any."""
        workers = self.workers[rows]
        return np.divide(
            self.sick_workers[rows], workers, out=np.zeros(workers.shape), where=workers > 0
        )

    def working_share(self, rows: Rows = ALL) -> np.ndarray:
        """Share of each household's workers at work: ``1 - sick_workers / workers``, 1 without any.

        Labour income, and any pay per worker a policy adds, is earned on this share.
        """
        return 1.0 - self.sick_share(rows)

    def able_workers(self, rows: Rows = ALL) -> np.ndarray:
        """Workers not off sick, per household (0: no member can work this month)."""
        return self.workers[rows] - self.sick_workers[rows]

    # -- jobs -------------------------------------------------------------------------------

    def job_counts(self, job: Job) -> np.ndarray:
        """The array counting each household's workers in ``job``."""
        return {
            "farm": self.farm_workers,
            "local": self.local_workers,
            "migrant": self.migrant_workers,
            "unemployed": self.unemployed_migrants,
        }[job]

    def move_workers(
        self, rows: np.ndarray, count: np.ndarray | int, source: Job, target: Job
    ) -> None:
        """Move ``count`` workers of each household ``rows`` from job ``source`` to ``target``.

        Every worker stays in exactly one job, so ``farm + local + migrant + unemployed ==
        workers`` holds before and after. A farm worker who leaves the farm takes his share of
        the farm income with him: the household keeps ``farm_income * (farm_workers - count) /
        farm_workers``.

        Args:
            rows: household rows, each at most once.
            count: workers moved, per row or one number for all; at most the row's workers in
                ``source``.
            source: the job they leave.
            target: the job they take.

        Raises:
            ValueError: a count is negative or larger than the household's workers in ``source``.
        """
        leaving, joining = self.job_counts(source), self.job_counts(target)
        moved = np.broadcast_to(np.asarray(count), rows.shape)
        held = leaving[rows]
        if (moved < 0).any() or (moved > held).any():
            raise ValueError(f"cannot move more {source} workers than a household has")
        if source == "farm":
            self.farm_income[rows] *= np.divide(
                held - moved, held, out=np.ones(rows.size), where=held > 0
            )
        leaving[rows] -= moved.astype(leaving.dtype)
        joining[rows] += moved.astype(joining.dtype)
