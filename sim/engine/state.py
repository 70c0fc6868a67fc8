"""The household state and the household rules every part of the model shares.

All household attributes are numpy arrays of length ``count`` held in one :class:`HouseholdState`
(a struct of arrays); row ``i`` of every array is household ``i``. Incomes are annual yuan (2020
prices) unless a name says otherwise.

The rules that the model and the policies both apply live here, once, as methods of the state:

- :meth:`HouseholdState.reset_month` and :meth:`HouseholdState.reset_year`: the month's flows
  that shocks and policies add to, and the year's accumulators, start from zero;
- :meth:`HouseholdState.earn_month`: the month's income — farm income at the year's price of the
  household's crop with its price premium, net of disaster damage; wages; the share lost to
  sick workers — and what each shock took from it;
- :meth:`HouseholdState.sick_share`, :meth:`HouseholdState.working_share` and
  :meth:`HouseholdState.able_workers`: who is off sick, safe for households without workers;
- :meth:`HouseholdState.move_workers`: workers change jobs, keeping every worker in exactly one
  of farm, local wage, migrant and unemployed returned migrant, a farm worker taking his share of
  the farm income with him;
- :meth:`HouseholdState.retire_workers` and :meth:`HouseholdState.enter_work`: the life course,
  a worker stops working, a member starts.

Incomes are **market incomes** (farm, wages, property, transfers that are not anti-poverty
policy, such as pensions): what a policy pays reaches a household only through the ledger
(``policy_transfers_month``).
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


class CropPrices:
    """Each household's crop price for the year's prices, redrawn only when its inputs change.

    ``price``: the market price factor of the household's crop (cash crop or staple) times
    ``1 + farm_price_premium``; ``below_normal``: how far the crop's market price factor is
    below 1 (0 at or above it). Both depend only on the year's two price factors, the
    households' crops and their price premiums, which change rarely (industry enrols cash-crop
    growers in January); they are recomputed when one of these differs from what they were
    computed from, a check that costs less than the two lookups and two passes it saves.
    """

    def __init__(self) -> None:
        self._key: tuple[float, float] | None = None
        self._cash_crop = np.zeros(0, bool)
        self._premium = np.zeros(0)
        self.price = np.zeros(0)
        self.below_normal = np.zeros(0)

    def update(self, state: HouseholdState, prices: YearDraws) -> None:
        """Make ``price`` and ``below_normal`` those of ``state`` at ``prices``."""
        key = (prices.price_staple, prices.price_cash_crop)
        if (
            key == self._key
            and np.array_equal(state.cash_crop, self._cash_crop)
            and np.array_equal(state.farm_price_premium, self._premium)
        ):
            return
        # Each household's crop price, looked up by its crop (0 staple, 1 cash crop): an index
        # into two prices is faster than np.where on the flag.
        crop = state.cash_crop.astype(np.intp)
        market = np.array(key)
        self.price = np.add(1.0, state.farm_price_premium)
        self.price *= market[crop]
        self.below_normal = np.maximum(1.0 - market, 0.0)[crop]
        self._key = key
        self._cash_crop = state.cash_crop.copy()
        self._premium = state.farm_price_premium.copy()


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
    transfer_income: np.ndarray  # transfers that are not anti-poverty policy (pensions)
    property_income: np.ndarray
    remittance_share: np.ndarray  # share of a migrant's wage sent home (and counted as income)
    earnings_level: np.ndarray  # this year's factor on labour earnings (persistent x transitory)
    earnings_persistent: np.ndarray  # log persistent part of earnings, AR(1) from 0 in 2020
    support_2020: np.ndarray  # yuan/year of anti-poverty payments the 2020 income contained
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
    market_income_month: np.ndarray  # the market income of the month, before policy payments
    farm_income_month: np.ndarray  # farm income as earned this month, before sick leave
    expense_month: np.ndarray  # shock expenditure: out-of-pocket medical cost + repairs
    medical_cost_month: np.ndarray  # hospital bills before reimbursement
    medical_oop_month: np.ndarray  # out-of-pocket part of the bills after basic insurance
    policy_transfers_month: np.ndarray  # money received from policies
    # This year's accumulators (yuan), reset after each December assessment (reset_year).
    income_ytd: np.ndarray  # market income plus policy payments
    market_income_ytd: np.ndarray
    policy_ytd: np.ndarray  # policy payments (ledger transfers)
    uncovered_expense_ytd: np.ndarray  # shock expenditure not paid from savings
    loss_illness_ytd: np.ndarray
    loss_disaster_ytd: np.ndarray
    loss_job_ytd: np.ndarray
    loss_price_ytd: np.ndarray
    # Last assessment.
    per_capita_income: np.ndarray  # the income measure, yuan per person, last assessed year
    per_capita_after_shocks: np.ndarray  # the after_shocks measure, yuan per person
    below_income: np.ndarray  # below the line under the income measure, last assessment
    below_after_shocks: np.ndarray  # below the line under the after_shocks measure
    below_line: np.ndarray  # below the line under the headline measure (poverty.measure)
    ever_relapsed: np.ndarray  # relapsed at least once, headline measure
    # Policy-facing registers, written only by policies (the population sets the 2020 roll).
    risk_colour: np.ndarray  # monitoring's colour: GREEN / YELLOW / ORANGE / RED
    safety_net: np.ndarray  # enrolled in the safety net (dibao); the 2020 roll at the start

    def __post_init__(self) -> None:
        self._crop_prices = CropPrices()  # derived from the arrays above, for earn_month

    @property
    def count(self) -> int:
        """Number of households."""
        return len(self.size)

    def nbytes(self) -> int:
        """Memory held by the state arrays, bytes."""
        return sum(getattr(self, f.name).nbytes for f in fields(self))

    # -- the calendar's resets --------------------------------------------------------------

    def reset_month(self) -> None:
        """Start the month's flows that shocks and policies add to at zero.

        Expenses, bills and policy transfers. The earned flows (``income_month``,
        ``farm_income_month``, ``market_income_month``) are written whole by :meth:`earn_month`,
        which every month runs before anything reads them.
        """
        for flow in (
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
            self.market_income_ytd,
            self.policy_ytd,
            self.uncovered_expense_ytd,
            self.loss_illness_ytd,
            self.loss_disaster_ytd,
            self.loss_job_ytd,
            self.loss_price_ytd,
            self.farm_damage,
        ):
            accumulator[:] = 0.0

    # -- income -----------------------------------------------------------------------------

    def earn_month(self, prices: YearDraws) -> np.ndarray:
        """This month's market income from farm, wages and regular transfers, and what shocks took.

        Farm income is a twelfth of the normal farm income at this year's market price of the
        household's crop (``prices``: cash crop or staple) raised by its price premium, net of
        this year's disaster damage; it is kept in ``farm_income_month`` for the policies that
        pay on it. Labour income (farm, local wages and the ``remittance_share`` of migrant
        wages) is scaled by the year's ``earnings_level`` and earned on the working share
        (:meth:`sick_share`). The year's losses by cause grow by the farm income a price below
        normal took, the farm income the disaster destroyed, the labour income lost to sickness
        and the remittances of returned migrants out of work. The result is both
        ``income_month`` (to which policies add) and ``market_income_month``.

        Returns:
            The month's wages of each household, yuan: local wages and remittances at the
            earnings level, before sick leave.
        """
        level = self.earnings_level
        crop_prices = self._crop_prices
        crop_prices.update(self, prices)
        farm_normal = self.farm_income * level
        farm_normal /= 12
        farm = np.multiply(farm_normal, crop_prices.price, out=self.farm_income_month)
        if min(prices.price_cash_crop, prices.price_staple) < 1:
            self.loss_price_ytd += crop_prices.below_normal * farm_normal
        damaged = np.flatnonzero(self.farm_damage != 0)  # the households of struck villages
        self.loss_disaster_ytd[damaged] += farm[damaged] * self.farm_damage[damaged]
        farm[damaged] *= 1.0 - self.farm_damage[damaged]
        remitted = self.migrant_wage * self.remittance_share
        remitted *= level
        # Worker counts converted first: a float product is faster than an int16-float one.
        wages = self.local_wage * self.local_workers.astype(np.float64)
        wages *= level
        wages += remitted * self.migrant_workers.astype(np.float64)
        wages /= 12
        labour = wages + farm
        # Sickness and unemployment concern a few percent of the households: their rows only
        # (adding nothing to the others' losses).
        sick = np.flatnonzero(self.sick_workers > 0)
        lost_to_sickness = labour[sick] * self.sick_share(sick)
        self.loss_illness_ytd[sick] += lost_to_sickness
        labour[sick] -= lost_to_sickness
        out_of_work = np.flatnonzero(self.unemployed_migrants != 0)
        self.loss_job_ytd[out_of_work] += (
            self.unemployed_migrants[out_of_work] * remitted[out_of_work] / 12
        )
        market_income = np.add(self.transfer_income, self.property_income, out=self.income_month)
        market_income /= 12
        market_income += labour
        self.market_income_month[:] = market_income
        return wages

    def grow(self, rate: float) -> None:
        """Raise every market income source by ``rate`` (a year's real growth)."""
        for source in (
            self.farm_income,
            self.local_wage,
            self.migrant_wage,
            self.transfer_income,
            self.property_income,
        ):
            source *= 1.0 + rate

    def sick_share(self, rows: Rows = ALL) -> np.ndarray:
        """Share of each household's workers off sick: ``sick_workers / workers``, 0 without any."""
        count, ill, share = self._off_sick(rows)
        result = np.zeros(count)
        result[ill] = share
        return result

    def working_share(self, rows: Rows = ALL) -> np.ndarray:
        """Share of each household's workers at work: ``1 - sick_workers / workers``, 1 without any.

        Labour income, and any pay per worker a policy adds, is earned on this share.
        """
        count, ill, share = self._off_sick(rows)
        result = np.ones(count)
        result[ill] = 1.0 - share
        return result

    def _off_sick(self, rows: Rows) -> tuple[int, np.ndarray, np.ndarray]:
        """The number of households ``rows``; where among them workers are off sick; their share.

        Sickness concerns a few percent of the households: the share is computed on their
        positions only (it is 0 elsewhere, and 0 without workers).
        """
        sick = self.sick_workers[rows]
        ill = np.flatnonzero(sick != 0)
        workers = self.workers[rows][ill]
        share = np.divide(sick[ill], workers, out=np.zeros(ill.size), where=workers > 0)
        return sick.size, ill, share

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

    # -- the life course --------------------------------------------------------------------

    def retire_workers(self, rows: np.ndarray) -> None:
        """One worker of each household ``rows`` stops working (ageing out; he stays a member).

        He leaves farm work if the household has a farm worker (the older members farm), else
        a local wage job, else unemployment, else migrant work; a farm worker takes his share of
        the farm income with him. Households ``rows`` must have a worker.
        """
        left = rows
        for job in ("farm", "local", "unemployed", "migrant"):
            counts = self.job_counts(job)
            here = counts[left] > 0
            if job == "farm":
                held = counts[left[here]]
                self.farm_income[left[here]] *= (held - 1) / held
            counts[left[here]] -= 1
            left = left[~here]
        self.workers[rows] -= 1
        np.minimum(self.sick_workers, self.workers, out=self.sick_workers)

    def enter_work(self, rows: np.ndarray, migrate: np.ndarray) -> None:
        """A member of each household ``rows`` starts working: a migrant where ``migrate``.

        Households ``rows`` must have a worker already: the newcomer earns the household's
        migrant or local wage.
        """
        self.workers[rows] += 1
        self.migrant_workers[rows[migrate]] += 1
        self.local_workers[rows[~migrate]] += 1
