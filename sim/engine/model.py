"""The Mesa model: household state in arrays, a monthly schedule of vectorized phases.

One step is one month. January opens the year (annual shocks, real growth, the year's earnings
draws, the life course, policies' annual actions); every month illness, disasters and the
migrant labour market hit, market incomes are earned, the enabled policies act, and the month is
booked (shock spending and consumption drawn from savings); December closes the year with the
poverty assessment under both measures (:mod:`sim.outcomes`).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import mesa
import numpy as np

from sim.config import Config
from sim.engine.ledger import Ledger
from sim.engine.population import generate_population
from sim.engine.rng import steps_below_each, words_below
from sim.engine.shocks import HouseholdYearDraws, MonthDraws, ShockDraws, YearDraws, monthly_rate
from sim.engine.state import LIFTED, MARGINAL, NEWLY_POOR, RELAPSED, STATUS_NAMES, HouseholdState
from sim.outcomes import CAUSES, MEASURES, SHOCK_CAUSES, YearCounts, annual_record, fgt, share
from sim.policies import build_policies
from sim.policies.base import Policy, PolicyContext

WAGE_POLICIES = ("workshops", "public_jobs")
"""Policies whose payments are wages for work (counted as wage income in the calibration)."""


class Household(mesa.Agent):
    """A view onto row ``row`` of the model's household arrays.

    Views hold no state of their own, so Mesa's ``AgentSet`` verbs (``select``, ``agg``,
    ``groupby``, ``shuffle_do``) work on households while the step stays vectorized.
    """

    def __init__(self, model: PovertyModel, row: int):
        super().__init__(model)
        self.row = row

    @property
    def _state(self) -> HouseholdState:
        return self.model.state  # type: ignore[attr-defined, no-any-return]

    @property
    def size(self) -> int:
        """Persons in the household."""
        return int(self._state.size[self.row])

    @property
    def workers(self) -> int:
        """Persons able to work."""
        return int(self._state.workers[self.row])

    @property
    def status(self) -> str:
        """Current status name (``lifted``, ``marginal``, ``non_poor``, ...)."""
        return STATUS_NAMES[int(self._state.status[self.row])]

    @property
    def per_capita_income(self) -> float:
        """Per-capita income of the last assessed year, yuan per person."""
        return float(self._state.per_capita_income[self.row])

    @property
    def savings(self) -> float:
        """Savings, yuan."""
        return float(self._state.savings[self.row])

    @property
    def village(self) -> int:
        """Index of the household's village (or resettlement site)."""
        return int(self._state.village[self.row])


class PovertyModel(mesa.Model):
    """Households facing illness, disaster, job-loss and price shocks under a policy mix.

    Args:
        cfg: a validated run config (see :func:`sim.config.compose`).
    """

    def __init__(self, cfg: Config):
        super().__init__(rng=cfg.seed)
        self.cfg = cfg
        self.line = cfg.poverty.line
        self.headline = cfg.poverty.measure.value
        self.state, self.villages = generate_population(
            cfg.population, cfg.poverty, cfg.shocks.reimbursement_rate, cfg.seed
        )
        s = self.state
        self.shocks = ShockDraws(cfg.shocks, cfg.seed, s.count, self.villages.count)
        self.ledger = Ledger(s)
        self.month_index = 0  # months since the start of the run
        self.year_draws: YearDraws | None = None
        self.household_draws: HouseholdYearDraws | None = None
        self.month_draws: MonthDraws | None = None
        self.monthly: list[dict[str, Any]] = []
        self.annual: list[dict[str, Any]] = []
        self._month_stats: dict[str, float] = {}
        self._year_cost = 0.0
        self._disaster_rate = np.asarray(
            monthly_rate(
                np.array(
                    [
                        cfg.shocks.disaster_rate_low,
                        cfg.shocks.disaster_rate_medium,
                        cfg.shocks.disaster_rate_high,
                    ]
                )
            )
        )
        # Hospitalisations per person-month: the county average is hospitalisation_rate / 12
        # whatever the chronic share, members of chronically ill households at the multiplier.
        c = cfg.shocks
        multiplier = np.where(s.chronic_illness, c.chronic_illness_multiplier, 1.0)
        mean_multiplier = float((s.size * multiplier).sum() / s.size.sum())
        self._admissions_per_month = c.hospitalisation_rate / 12 * s.size * multiplier
        self._admissions_per_month /= mean_multiplier
        self._admissions_steps = steps_below_each(self._admissions_per_month)  # for u < p
        self._persistent_variance = 0.0  # variance of the persistent earnings part this year
        # yuan a month a household consumes at least, from savings if its income falls short
        self._consumption_floor_month = (
            cfg.population.consumption_floor_ratio * self.line / 12 * s.size
        )
        self._initially_lifted = s.initial_status == LIFTED
        # For the calibration figures of the time series (docs/calibration.md): the initially
        # lifted households' rows, their people and the county's people. (Sums over gathered
        # rows: np.dot would use the BLAS threads, sum(where=) is slow.)
        self._lifted_rows = np.flatnonzero(self._initially_lifted)
        self._lifted_people = int(s.size[self._lifted_rows].sum())
        self._people = int(s.size.sum())
        self._lifted_policy_wages_to_date = 0.0  # what WAGE_POLICIES paid lifted households
        # Each wage policy's payments to the initially lifted households so far, in the order of
        # their rows (received_by[name][_lifted_rows], refreshed where the policy paid).
        self._lifted_received: dict[str, np.ndarray] = {}
        self._lifted_position = np.full(s.count, -1, np.intp)  # row -> place among them
        self._lifted_position[self._lifted_rows] = np.arange(self._lifted_rows.size)
        self._wage_figures: dict[str, float] = {}
        self._people_hit_by_disaster = 0
        self._income_median = people_median(s.per_capita_income, s.size)  # 2020 incomes
        # Per measure: ever relapsed; per household, headline: relapse events, years at risk;
        # below the line on market income alone in some year (for the targeting errors).
        self.ever_relapsed = {m: np.zeros(s.count, bool) for m in MEASURES}
        self.ever_relapsed[self.headline] = s.ever_relapsed
        self.relapse_events = np.zeros(s.count, np.int32)
        self.years_at_risk = np.zeros(s.count, np.int32)
        self.market_ever_below = np.zeros(s.count, bool)
        self.hospitalisations = 0
        self.person_years = 0
        self.groups = household_groups(s, self.villages)
        self._members = VillageMembers(self.villages.count)
        self.policy_context = PolicyContext(self)
        self.policies = build_policies(cfg.policies, self.policy_context)

    # -- public helpers -------------------------------------------------------------------

    @property
    def year(self) -> int:
        """Calendar year of the current month."""
        return self.cfg.start_year + self.month_index // 12

    @property
    def month_of_year(self) -> int:
        """0 for January .. 11 for December."""
        return self.month_index % 12

    @property
    def finished(self) -> bool:
        """Whether all months of the run have been simulated."""
        return self.month_index >= self.cfg.months

    def policy(self, name: str) -> Policy[Any]:
        """The enabled policy ``name`` (``KeyError`` naming the enabled ones if it is not)."""
        for policy in self.policies:
            if policy.name == name:
                return policy
        enabled = ", ".join(p.name for p in self.policies) or "none"
        raise KeyError(f"policy {name!r} is not enabled (enabled: {enabled})")

    @cached_property
    def households(self) -> mesa.agent.AgentSet:
        """Mesa agent views of all households, created on first use (they cost start-up time)."""
        Household.create_agents(self, self.state.count, np.arange(self.state.count))
        return self.agents_by_type[Household]

    def run(self) -> None:
        """Step until the end of the run."""
        while not self.finished:
            self.step()

    # -- the schedule ---------------------------------------------------------------------

    def step(self) -> None:
        """Advance one month.

        The enabled policies act in the order of :data:`sim.policies.ORDER` (then the custom
        ones), in each of their phases: January actions before the month's shocks, monthly
        actions after the month's incomes are earned, and annual book-keeping after the
        December assessment.
        """
        self.state.reset_month()
        self._month_stats = {"retirements": 0, "labour_entries": 0}
        if self.month_of_year == 0:
            self._start_year()
        self.month_draws = self.shocks.month()
        self._illness(self.month_draws)
        self._disasters(self.month_draws)
        self._labour_market(self.month_draws)
        self._earn_income()
        for policy in self.policies:
            policy.step(self.policy_context)
        self._close_month()
        if self.month_of_year == 11:
            self._assess_year()
            for policy in self.policies:
                policy.end_year(self.policy_context)
        self.month_index += 1

    def _start_year(self) -> None:
        self.year_draws = self.shocks.year()
        self.household_draws = self.shocks.household_year()
        self.state.grow(self.cfg.population.real_growth)
        self._earnings(self.household_draws)
        self._life_course(self.household_draws)
        self._year_cost = 0.0
        for policy in self.policies:
            policy.start_year(self.policy_context)

    def _earnings(self, draws: HouseholdYearDraws) -> None:
        """The year's earnings level: a persistent AR(1) part and a transitory part.

        log level = p + e - (var p + var e) / 2 with p = rho p' + sigma_p z, e = sigma_e z', so
        the level has mean 1 in every year; p starts at 0 (the 2020 incomes).
        """
        c, s = self.cfg.shocks, self.state
        rho, sigma_p, sigma_e = (
            c.earnings_persistence,
            c.earnings_persistent_sigma,
            c.earnings_transitory_sigma,
        )
        s.earnings_persistent *= rho
        s.earnings_persistent += sigma_p * draws.persistent_z
        self._persistent_variance = rho**2 * self._persistent_variance + sigma_p**2
        log_level = s.earnings_persistent + sigma_e * draws.transitory_z
        np.exp(log_level - (self._persistent_variance + sigma_e**2) / 2, out=s.earnings_level)

    def _life_course(self, draws: HouseholdYearDraws) -> None:
        """Workers age out of work; members start working (a share of them migrate)."""
        c, s = self.cfg.shocks, self.state
        retire = -np.expm1(s.workers * np.log1p(-min(c.retirement_rate, 1 - 1e-12)))
        retiring = np.flatnonzero((s.workers > 0) & (draws.retire_u < retire))
        s.retire_workers(retiring)
        others = s.size - s.workers
        entry = -np.expm1(others * np.log1p(-min(c.labour_entry_rate, 1 - 1e-12)))
        entering = np.flatnonzero((s.workers > 0) & (others > 0) & (draws.entry_u < entry))
        s.enter_work(entering, draws.entry_migrate_u[entering] < c.entrant_migrant_share)
        self._month_stats.update(retirements=len(retiring), labour_entries=len(entering))

    def _illness(self, draws: MonthDraws) -> None:
        """Hospitalisations, their out-of-pocket cost, and workers taken out of work."""
        s, c = self.state, self.cfg.shocks
        # A household has at most one stay a month, with probability its members' expected
        # admissions (a few percent), so the county's admissions per person-year average
        # hospitalisation_rate. The bills are computed on the rows of the hospitalised only
        # (indices, which numpy updates much faster than boolean masks).
        hospitalised = np.flatnonzero((draws.illness_w >> 8) < self._admissions_steps)
        self.hospitalisations += len(hospitalised)
        cost = c.hospital_cost_median * np.exp(
            c.hospital_cost_sigma * draws.illness_cost_z_of(hospitalised)
        )
        out_of_pocket = cost * (1.0 - s.reimbursement_rate[hospitalised])
        s.medical_cost_month[hospitalised] = cost
        s.medical_oop_month[hospitalised] = out_of_pocket
        s.expense_month[hospitalised] = out_of_pocket
        s.loss_illness_ytd[hospitalised] += out_of_pocket
        serious = hospitalised[
            (draws.illness_serious_w[hospitalised] < words_below(c.serious_illness_share))
            & (s.workers[hospitalised] > 0)
        ]
        s.sick_workers[serious] = np.minimum(s.sick_workers[serious] + 1, s.workers[serious])
        s.sick_months_left[serious] = c.recovery_months
        self._month_stats.update(
            hospitalisations=len(hospitalised),
            serious_illnesses=len(serious),
            hospital_cost_yuan=float(cost.sum()),  # bills are 0 elsewhere (reset_month)
            medical_out_of_pocket_yuan=float(out_of_pocket.sum()),
        )

    def _disasters(self, draws: MonthDraws) -> None:
        """Covariate village disasters: farm income destroyed for the year, repair costs."""
        s, v = self.state, self.villages
        struck = draws.disaster_u < self._disaster_rate[v.exposure]
        # the households of struck villages (rows ascending), from the villages' member lists
        hit = self._members.of(s.village, np.flatnonzero(struck))
        severity = draws.disaster_severity[s.village[hit]]
        s.farm_damage[hit] = np.maximum(s.farm_damage[hit], severity)
        c = self.cfg.shocks
        # The household's share of the direct loss per person affected (S36), scaled by the
        # disaster's severity relative to the mean severity.
        per_person = c.disaster_loss_per_person * c.disaster_household_share
        if c.disaster_severity_mean > 0:
            repair = severity / c.disaster_severity_mean * per_person * s.size[hit]
        else:
            repair = np.zeros(hit.size)
        s.expense_month[hit] += repair
        s.loss_disaster_ytd[hit] += repair
        self._people_hit_by_disaster = int(s.size[hit].sum())
        self._month_stats.update(
            disaster_villages=int(struck.sum()),
            households_hit_by_disaster=len(hit),
            disaster_repair_yuan=float(repair.sum()),
        )

    def _labour_market(self, draws: MonthDraws) -> None:
        """Migrants lose jobs (more in a downturn year) and unemployed migrants find work."""
        s, c = self.state, self.cfg.shocks
        assert self.year_draws is not None
        annual = c.job_loss_rate * (c.downturn_multiplier if self.year_draws.downturn else 1.0)
        hazard = monthly_rate(min(annual, 1.0))
        migrants = s.migrant_workers.astype(np.intp)
        if hazard < 1:
            # The chance that any of k migrants loses the job, for every k a household has,
            # looked up by its migrants (the same numbers as computed household by household).
            any_loss = -np.expm1(np.arange(migrants.max(initial=0) + 1) * np.log1p(-hazard))
        else:
            any_loss = (np.arange(migrants.max(initial=0) + 1) > 0).astype(float)
        # any_loss[0] is 0: a household without migrants never loses a job
        loses = (draws.job_loss_w >> 8) < steps_below_each(any_loss)[migrants]
        finds = (s.unemployed_migrants > 0) & (
            draws.reemployment_w < words_below(c.reemployment_rate)
        )
        s.move_workers(np.flatnonzero(loses), 1, "migrant", "unemployed")
        s.move_workers(np.flatnonzero(finds), 1, "unemployed", "migrant")
        self._month_stats.update(
            job_losses=int(np.count_nonzero(loses)),
            unemployed_migrants=int(s.unemployed_migrants.sum()),
        )

    def _earn_income(self) -> None:
        """The month's income at this year's prices (:meth:`HouseholdState.earn_month`)."""
        assert self.year_draws is not None
        wages = self.state.earn_month(self.year_draws)
        self._wage_figures = self._wages_earned(wages)

    def _wages_earned(self, wages: np.ndarray) -> dict[str, float]:
        """The month's wages, and who earned them, at the year's earnings level (yuan a month).

        ``wages``: each household's local wages and remittances this month before sick leave
        (:meth:`HouseholdState.earn_month`). ``migrant_workers``: employed migrants in the
        county; ``migrant_wage_yuan``: their whole wages (before the remittance share; a wage
        rate: sick leave is not deducted); ``lifted_wage_workers``: workers of the initially
        lifted households in local wage jobs or employed as migrants;
        ``lifted_wage_income_yuan``: their wages as paid, on the household's working share.
        """
        s, rows = self.state, self._lifted_rows
        lifted = wages[rows]
        sick = np.flatnonzero(s.sick_workers[rows])  # a few households
        lifted[sick] *= s.working_share(rows[sick])
        migrant_wages = s.migrant_workers * s.migrant_wage
        migrant_wages *= s.earnings_level
        local, migrants = s.local_workers[rows], s.migrant_workers[rows]
        return {
            "migrant_workers": int(s.migrant_workers.sum()),
            "migrant_wage_yuan": float(migrant_wages.sum()) / 12,
            "lifted_wage_workers": int(local.sum()) + int(migrants.sum()),
            "lifted_wage_income_yuan": float(lifted.sum()),
        }

    def _close_month(self) -> None:
        """Pay shock expenses and consumption from savings, book the month, count down sickness.

        Shock spending is paid from savings first; what savings cannot pay is *uncovered*. Then a
        household whose month's income is below its consumption floor (``consumption_floor_ratio``
        x the line per person) draws the difference from savings as far as they go, and one above
        it saves ``saving_rate`` of the excess.
        """
        s, pop = self.state, self.cfg.population
        income = s.income_month + s.policy_transfers_month
        lifted_income = float(income[self._lifted_rows].sum())  # for the calibration figures
        # Shock spending concerns a few percent of the households: their rows only.
        spent = np.flatnonzero(s.expense_month != 0)
        expense = s.expense_month[spent]
        from_savings = np.minimum(expense, np.maximum(s.savings[spent], 0.0))
        s.savings[spent] -= from_savings
        s.uncovered_expense_ytd[spent] += expense - from_savings
        s.income_ytd += income
        s.market_income_ytd += s.market_income_month
        people = s.size.sum()
        income_mean = income.sum() * 12 / people
        change = np.subtract(income, self._consumption_floor_month, out=income)
        s.savings += savings_change(change, s.savings, pop.saving_rate)
        s.sick_months_left -= s.sick_months_left > 0  # count down to 0 (True is 1)
        s.sick_workers *= s.sick_months_left > 0  # back at work when no month is left

        months_elapsed = self.month_of_year + 1
        net = s.income_ytd - s.uncovered_expense_ytd if self.headline == "after_shocks" else None
        projected = (s.income_ytd if net is None else net) * (12 / months_elapsed)
        projected /= s.size
        below = projected < self.line
        self.person_years += int(people)
        stats = self._month_stats
        stats.update(
            year=self.year,
            month=self.month_of_year + 1,
            headcount_ratio_projected=float((s.size * below).sum() / people),
            income_per_capita_mean=float(income_mean),
            market_income_per_capita_mean=float(s.market_income_month.sum() * 12 / people),
            policy_spending_yuan=self.ledger.month_spending,
            downturn=bool(self.year_draws.downturn) if self.year_draws else False,
        )
        stats.update(self._calibration_month(lifted_income))
        self._year_cost += self.ledger.close_month()
        self.monthly.append(stats)

    def _calibration_month(self, lifted_income: float) -> dict[str, float]:
        """The month's figures for the calibration targets (docs/calibration.md), at its close.

        ``people`` and ``lifted_people``: the county's and the initially lifted households'
        people; ``lifted_income_yuan``: the month's income (``income`` measure: market income
        plus policy payments) of the initially lifted households, ``lifted_income``; the wage
        figures of :meth:`_wages_earned`; ``lifted_policy_wage_yuan``: what
        :data:`WAGE_POLICIES` paid the initially lifted households this month;
        ``safety_net_people``: people in households on the safety-net roll
        (``state.safety_net``, dibao and 特困; without the safety_net policy the 2020 roll,
        which nobody pays); ``people_hit_by_disaster``: people in the households of villages
        struck this month; ``income_per_capita_median``: the people-weighted median per-capita
        income (``income`` measure, :func:`people_median`) of the last complete year, the 2020
        incomes until the first December (from December on, that year's). Money in yuan.
        """
        s, received = self.state, self.ledger.received_by
        paid = sum(
            float(self._lifted_received_of(name).sum())
            for name in WAGE_POLICIES
            if name in received
        )
        policy_wages = paid - self._lifted_policy_wages_to_date
        self._lifted_policy_wages_to_date = paid
        if self.month_of_year == 11:  # the year is complete (assessed right after)
            self._income_median = people_median(s.income_ytd / s.size, s.size)
        return {
            "people": self._people,
            "lifted_people": self._lifted_people,
            "lifted_income_yuan": lifted_income,
            **self._wage_figures,
            "lifted_policy_wage_yuan": policy_wages,
            "safety_net_people": int((s.size * s.safety_net).sum()),
            "people_hit_by_disaster": self._people_hit_by_disaster,
            "income_per_capita_median": self._income_median,
        }

    def _lifted_received_of(self, name: str) -> np.ndarray:
        """Policy ``name``'s payments so far to each initially lifted household (yuan).

        ``ledger.received_by[name][_lifted_rows]``, kept from month to month and refreshed on
        the rows the policy paid this month (a few of them): the same numbers without gathering
        every lifted household's. Called every month, before the ledger's month is closed.
        """
        lifted = self._lifted_received.get(name)
        if lifted is None:
            lifted = self._lifted_received[name] = np.zeros(self._lifted_rows.size)
        paid = self.ledger.paid_this_month(name)
        at = self._lifted_position[paid]
        mine = at >= 0
        lifted[at[mine]] = self.ledger.received_by[name][paid[mine]]
        return lifted

    def _assess_year(self) -> None:
        """Annual assessment under both measures (:mod:`sim.outcomes`); status by the headline."""
        s = self.state
        income = s.income_ytd / s.size
        after_shocks = (s.income_ytd - s.uncovered_expense_ytd) / s.size
        market = (
            s.market_income_ytd
            - (s.uncovered_expense_ytd if self.headline == "after_shocks" else 0.0)
        ) / s.size
        self.market_ever_below |= market < self.line
        # Support withdrawn: what the policies paid short of the 2020 support, per person.
        shortfall = np.maximum(s.support_2020 - s.policy_ytd, 0.0) / s.size
        losses = (s.loss_illness_ytd, s.loss_disaster_ytd, s.loss_job_ytd, s.loss_price_ytd)
        counts, masks = {}, {}
        for name, per_capita, below_before in (
            ("income", income, s.below_income),
            ("after_shocks", after_shocks, s.below_after_shocks),
        ):
            below = per_capita < self.line
            lifted_before = self._initially_lifted & ~below_before
            others_before = ~self._initially_lifted & ~below_before
            relapsed = lifted_before & below
            # The cause of each relapse, on the relapsed households' rows only.
            rows = np.flatnonzero(relapsed)
            lost = np.stack([loss[rows] for loss in losses])
            withdrawal = per_capita[rows] + shortfall[rows] >= self.line
            cause = np.where(
                withdrawal,
                CAUSES.index("withdrawal"),
                np.where(lost.max(axis=0) > 0, lost.argmax(axis=0), CAUSES.index("other")),
            )
            counts[name] = YearCounts(
                at_risk_lifted=int(lifted_before.sum()),
                relapses=int(relapsed.sum()),
                at_risk_others=int(others_before.sum()),
                newly_poor=int((others_before & below).sum()),
                people_below=int(s.size[below].sum()),
                people=int(s.size.sum()),
                causes=np.bincount(cause, minlength=len(CAUSES)),
                poverty_gap_index=fgt(per_capita, s.size, self.line, 1),
                poverty_severity_index=fgt(per_capita, s.size, self.line, 2),
            )
            masks[name] = (below, lifted_before, relapsed, others_before & below)
            self.ever_relapsed[name] |= relapsed
        assert len(SHOCK_CAUSES) == len(losses)

        self.annual.append(
            annual_record(
                year=self.year, headline=self.headline, by_measure=counts, cost_yuan=self._year_cost
            )
        )
        below, lifted_before, relapsed, newly_poor = masks[self.headline]
        self.relapse_events += relapsed
        self.years_at_risk += lifted_before
        s.status[relapsed] = RELAPSED
        s.status[newly_poor] = NEWLY_POOR
        recovered = ~below & s.below_line
        s.status[recovered] = np.where(
            s.initial_status[recovered] == LIFTED, LIFTED, MARGINAL
        ).astype(np.int8)
        s.per_capita_income[:] = income
        s.per_capita_after_shocks[:] = after_shocks
        s.below_income[:] = masks["income"][0]
        s.below_after_shocks[:] = masks["after_shocks"][0]
        s.below_line[:] = below
        s.reset_year()

    # -- results --------------------------------------------------------------------------

    def relapse_cumulative(self, measure: str) -> float:
        """Share of initially lifted households that relapsed at least once under ``measure``."""
        lifted = self._initially_lifted
        return share(int(self.ever_relapsed[measure][lifted].sum()), int(lifted.sum()))

    def households_relapsed(self, measure: str) -> int:
        """Initially lifted households that relapsed at least once under ``measure``."""
        return int(self.ever_relapsed[measure][self._initially_lifted].sum())

    @property
    def hospitalisations_per_person_year(self) -> float:
        """Hospital stays per person-year so far."""
        return share(self.hospitalisations, self.person_years / 12)

    def by_group(self) -> dict[str, dict[str, dict[str, float]]]:
        """Relapse and headcount by household type, chronic illness and village remoteness.

        For each group: households; initially lifted households; years at risk (lifted, above the
        line at the previous assessment: the denominator of the relapse rate); relapse events
        and the pooled relapse rate (events / years at risk); households relapsed; people; people
        below the line at the last assessment and the group's headcount ratio. All under the
        headline measure; the counts of a grouping add up to the county's.
        """
        s = self.state
        below_people = s.size * s.below_line
        result: dict[str, dict[str, dict[str, float]]] = {}
        for grouping, (codes, names) in self.groups.items():

            def total(
                values: np.ndarray, codes: np.ndarray = codes, k: int = len(names)
            ) -> np.ndarray:
                return np.bincount(codes, weights=values, minlength=k)

            households = np.bincount(codes, minlength=len(names))
            lifted = total(self._initially_lifted.astype(float))
            at_risk = total(self.years_at_risk.astype(float))
            events = total(self.relapse_events.astype(float))
            relapsed = total((s.ever_relapsed & self._initially_lifted).astype(float))
            people = total(s.size.astype(float))
            below = total(below_people.astype(float))
            result[grouping] = {
                name: {
                    "households": int(households[k]),
                    "lifted_households": int(lifted[k]),
                    "years_at_risk": int(at_risk[k]),
                    "relapse_events": int(events[k]),
                    "relapse_rate": share(events[k], at_risk[k]),
                    "households_relapsed": int(relapsed[k]),
                    "people": int(people[k]),
                    "people_below_final": int(below[k]),
                    "headcount_ratio_final": share(below[k], people[k]),
                }
                for k, name in enumerate(names)
            }
        return result

    def targeting(self) -> dict[str, dict[str, float]]:
        """Inclusion and exclusion errors of every policy that paid households.

        ``recipients``: households that received anything from the policy during the run.
        ``inclusion_error``: the share of recipients who would not have fallen below the line,
        i.e. whose market income (headline measure: less uncovered shock spending under
        ``after_shocks``) was above the line in every year. ``exclusion_error``: the share of
        relapsed households (initially lifted, registered and so eligible for every targeted
        policy, relapsed at least once) that never received anything from the policy.
        """
        relapsed = self._initially_lifted & self.state.ever_relapsed
        result = {}
        for name, received in self.ledger.received_by.items():
            recipients = received > 0
            result[name] = {
                "recipients": int(recipients.sum()),
                "inclusion_error": share(
                    int((recipients & ~self.market_ever_below).sum()), int(recipients.sum())
                ),
                "exclusion_error": share(int((relapsed & ~recipients).sum()), int(relapsed.sum())),
            }
        return result


class VillageMembers:
    """The households of each village, kept as one index sorted by village.

    :meth:`of` gives the households of some villages as ``np.flatnonzero(struck[village])``
    would, looking up only those villages' members. The index is rebuilt when households have
    moved since it was built (relocation), which a comparison of the village array finds.

    Args:
        villages: the number of villages, resettlement sites included.
    """

    def __init__(self, villages: int):
        self._villages = villages
        self._village = np.zeros(0, np.int32)  # each household's village when the index was built
        self._order = np.zeros(0, np.intp)  # households sorted by village (stable: rows ascending)
        self._starts = np.zeros(villages + 1, np.intp)  # v's: _order[_starts[v]:_starts[v + 1]]

    def of(self, village: np.ndarray, villages: np.ndarray) -> np.ndarray:
        """The households (rows, ascending) whose ``village`` is one of ``villages`` (unique)."""
        if villages.size == 0:
            return np.zeros(0, np.intp)
        if not np.array_equal(village, self._village):
            # a stable sort of 16-bit keys is a radix sort, several times faster
            small = self._villages <= np.iinfo(np.int16).max + 1
            self._order = np.argsort(village.astype(np.int16) if small else village, kind="stable")
            self._starts = np.searchsorted(village[self._order], np.arange(self._villages + 1))
            self._village = village.copy()
        starts = self._starts
        rows = np.concatenate([self._order[starts[v] : starts[v + 1]] for v in villages.tolist()])
        rows.sort()
        return rows


def savings_change(excess: np.ndarray, savings: np.ndarray, saving_rate: float) -> np.ndarray:
    """The month's change of savings, computed in ``excess`` (yuan per household).

    ``saving_rate`` of a positive ``excess`` of income over the consumption floor; a shortfall
    (an excess of 0 or less) drawn from ``savings`` as far as they go: ``max(excess, -savings)``
    times ``saving_rate`` where ``excess > 0``, else times 1. Most households have an excess:
    all are scaled by the rate, then the few without get their shortfall back as it was.
    """
    short = np.flatnonzero(np.logical_not(excess > 0))
    np.maximum(excess, -savings, out=excess)
    shortfall = excess[short]
    excess *= saving_rate
    excess[short] = shortfall
    return excess


def people_median(per_capita: np.ndarray, size: np.ndarray) -> float:
    """The people-weighted median of per-capita income (yuan per person per year).

    The smallest household per-capita income ``y`` such that the people of households with
    per-capita income at most ``y`` are at least half of all people (the median person's
    household income per person, as the statistics bureau's median); 0.0 for no people.
    """
    # The ceil(people / 2)-th person in income order, found by partial sorts of the households
    # (a list of one entry per person, np.repeat(per_capita, size), costs more to build than
    # to partition): the household of rank r holds it when the people of the r households
    # below it are at most ``middle`` and those with it are more; r is guessed from the mean
    # household size, and the search goes on among the households on its side.
    values, weights = per_capita, size
    people = int(weights.sum())
    middle = (people + 1) // 2 - 1
    while people > 0:
        rank = min(middle * values.size // people, values.size - 1)
        order = np.argpartition(values, rank)
        at = order[rank]
        below = order[:rank]
        before = int(weights[below].sum())
        if middle < before:
            values, weights = values[below], weights[below]
        elif middle < before + int(weights[at]):
            return float(values[at])
        else:
            above = order[rank + 1 :]
            middle -= before + int(weights[at])
            values, weights = values[above], weights[above]
        people = int(weights.sum())
    return 0.0


HOUSEHOLD_TYPES = ("farm", "local_wage", "migrant", "no_worker")
"""Household types by the largest labour income source at the start (no_worker: no worker)."""


def household_groups(
    s: HouseholdState, villages: Any
) -> dict[str, tuple[np.ndarray, tuple[str, ...]]]:
    """Each household's group code and the group names, per grouping, fixed at the start.

    ``household_type``: the largest labour income source in 2020 (farm, local wage, migrant
    remittances) or ``no_worker``; ``chronic_illness``: a member chronically ill or not;
    ``remoteness``: the terciles of the households' village remoteness (near, middle, remote).
    """
    sources = np.stack(
        [
            s.farm_income,
            s.local_workers * s.local_wage,
            s.migrant_workers * s.migrant_wage * s.remittance_share,
        ]
    )
    kind = np.where(s.workers > 0, sources.argmax(axis=0), HOUSEHOLD_TYPES.index("no_worker"))
    remote = villages.remoteness[s.village]
    cuts = np.quantile(remote, [1 / 3, 2 / 3])
    return {
        "household_type": (kind, HOUSEHOLD_TYPES),
        "chronic_illness": (s.chronic_illness.astype(np.int64), ("not_chronic", "chronic")),
        "remoteness": (np.searchsorted(cuts, remote, side="right"), ("near", "middle", "remote")),
    }
