"""The Mesa model: household state in arrays, a monthly schedule of vectorized phases.

One step is one month. January opens the year (annual shocks, policies' annual actions); every
month illness, disasters and the migrant labour market hit, incomes are earned, the enabled
policies act, and the month is booked; December closes the year with the poverty assessment.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import mesa
import numpy as np

from sim.config import Config
from sim.engine.ledger import Ledger
from sim.engine.population import generate_population
from sim.engine.shocks import MonthDraws, ShockDraws, YearDraws, monthly_rate
from sim.engine.state import LIFTED, MARGINAL, NEWLY_POOR, RELAPSED, STATUS_NAMES, HouseholdState
from sim.outcomes import CAUSES, annual_record
from sim.policies import build_policies
from sim.policies.base import Policy, PolicyContext


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
        self.state, self.villages = generate_population(
            cfg.population, cfg.poverty, cfg.shocks.reimbursement_rate, cfg.seed
        )
        self.shocks = ShockDraws(cfg.shocks, cfg.seed, self.state.count, self.villages.count)
        self.ledger = Ledger(self.state)
        self.month_index = 0  # months since the start of the run
        self.year_draws: YearDraws | None = None
        self.month_draws: MonthDraws | None = None
        self.monthly: list[dict[str, Any]] = []
        self.annual: list[dict[str, Any]] = []
        self._month_stats: dict[str, float] = {}
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
        self._initially_lifted = self.state.initial_status == LIFTED
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
        if self.month_of_year == 0:
            self._start_year()
        self.month_draws = self.shocks.month()
        self._month_stats = {}
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
        for policy in self.policies:
            policy.start_year(self.policy_context)

    def _illness(self, draws: MonthDraws) -> None:
        """Hospitalisations, their out-of-pocket cost, and workers taken out of work."""
        s, c = self.state, self.cfg.shocks
        per_person = monthly_rate(c.hospitalisation_rate)
        hazard = per_person * s.size * np.where(s.chronic_illness, c.chronic_illness_multiplier, 1)
        # A few percent of households are hospitalised in a month: the bills are computed on
        # their rows only (indices, which numpy updates much faster than boolean masks).
        hospitalised = np.flatnonzero(draws.illness_u < -np.expm1(-hazard))
        cost = c.hospital_cost_median * np.exp(
            c.hospital_cost_sigma * draws.illness_cost_z[hospitalised]
        )
        out_of_pocket = cost * (1.0 - s.reimbursement_rate[hospitalised])
        s.medical_cost_month[hospitalised] = cost
        s.medical_oop_month[hospitalised] = out_of_pocket
        s.expense_month[hospitalised] = out_of_pocket
        s.loss_illness_ytd[hospitalised] += out_of_pocket
        serious = hospitalised[
            (draws.illness_serious_u[hospitalised] < c.serious_illness_share)
            & (s.workers[hospitalised] > 0)
        ]
        s.sick_workers[serious] = np.minimum(s.sick_workers[serious] + 1, s.workers[serious])
        s.sick_months_left[serious] = c.recovery_months
        self._month_stats.update(
            hospitalisations=len(hospitalised),
            serious_illnesses=len(serious),
            hospital_cost_yuan=float(s.medical_cost_month.sum()),
            medical_out_of_pocket_yuan=float(s.medical_oop_month.sum()),
        )

    def _disasters(self, draws: MonthDraws) -> None:
        """Covariate village disasters: farm income destroyed for the year, repair costs."""
        s, v = self.state, self.villages
        struck = draws.disaster_u < self._disaster_rate[v.exposure]
        hit = np.flatnonzero(struck[s.village])  # households of struck villages
        severity = draws.disaster_severity[s.village[hit]]
        s.farm_damage[hit] = np.maximum(s.farm_damage[hit], severity)
        repair = np.zeros(s.count)
        repair[hit] = severity * self.cfg.shocks.disaster_repair_cost
        s.expense_month += repair
        s.loss_disaster_ytd += repair
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
        any_loss = (
            -np.expm1(s.migrant_workers * np.log1p(-hazard))
            if hazard < 1
            else s.migrant_workers > 0
        )
        loses = (s.migrant_workers > 0) & (draws.job_loss_u < any_loss)
        finds = (s.unemployed_migrants > 0) & (draws.reemployment_u < c.reemployment_rate)
        s.move_workers(np.flatnonzero(loses), 1, "migrant", "unemployed")
        s.move_workers(np.flatnonzero(finds), 1, "unemployed", "migrant")
        self._month_stats.update(
            job_losses=int(loses.sum()), unemployed_migrants=int(s.unemployed_migrants.sum())
        )

    def _earn_income(self) -> None:
        """The month's income at this year's prices (:meth:`HouseholdState.earn_month`)."""
        assert self.year_draws is not None
        self.state.earn_month(self.year_draws)

    def _close_month(self) -> None:
        """Pay shock expenses from savings, book the month, count down sickness."""
        s, pop = self.state, self.cfg.population
        income = s.income_month + s.policy_transfers_month
        from_savings = np.minimum(s.expense_month, np.maximum(s.savings, 0.0))
        s.savings -= from_savings
        s.uncovered_expense_ytd += s.expense_month - from_savings
        s.income_ytd += income
        s.savings += pop.saving_rate * np.maximum(income, 0.0)
        s.sick_months_left -= s.sick_months_left > 0  # count down to 0 (True is 1)
        s.sick_workers *= s.sick_months_left > 0  # back at work when no month is left

        months_elapsed = self.month_of_year + 1
        projected = (s.income_ytd - s.uncovered_expense_ytd) * (12 / months_elapsed) / s.size
        people = s.size.sum()
        stats = self._month_stats
        stats.update(
            year=self.year,
            month=self.month_of_year + 1,
            headcount_ratio_projected=float(s.size[projected < self.line].sum() / people),
            income_per_capita_mean=float(income.sum() * 12 / people),
            policy_spending_yuan=self.ledger.month_spending,
            downturn=bool(self.year_draws.downturn) if self.year_draws else False,
        )
        self.ledger.month_spending = 0.0
        self.monthly.append(stats)

    def _assess_year(self) -> None:
        """Annual assessment: per-capita income net of uncovered shock costs vs the line."""
        s = self.state
        per_capita = (s.income_ytd - s.uncovered_expense_ytd) / s.size
        below = per_capita < self.line
        lifted_before = (s.initial_status == LIFTED) & ~s.below_line
        others_before = (s.initial_status != LIFTED) & ~s.below_line
        relapsed = lifted_before & below
        newly_poor = others_before & below
        losses = np.stack(
            [s.loss_illness_ytd, s.loss_disaster_ytd, s.loss_job_ytd, s.loss_price_ytd]
        )[:, relapsed]
        cause = np.where(losses.max(axis=0) > 0, losses.argmax(axis=0), len(CAUSES) - 1)
        causes = np.bincount(cause, minlength=len(CAUSES))

        self.annual.append(
            annual_record(
                year=self.year,
                at_risk_lifted=int(lifted_before.sum()),
                relapses=int(relapsed.sum()),
                at_risk_others=int(others_before.sum()),
                newly_poor=int(newly_poor.sum()),
                people_below=int(s.size[below].sum()),
                people=int(s.size.sum()),
                causes=causes,
            )
        )
        s.ever_relapsed |= relapsed
        s.status[relapsed] = RELAPSED
        s.status[newly_poor] = NEWLY_POOR
        recovered = ~below & s.below_line
        s.status[recovered] = np.where(
            s.initial_status[recovered] == LIFTED, LIFTED, MARGINAL
        ).astype(np.int8)
        s.per_capita_income[:] = per_capita
        s.below_line[:] = below
        s.reset_year()

    # -- results --------------------------------------------------------------------------

    @property
    def relapse_cumulative(self) -> float:
        """Share of initially lifted households that relapsed at least once."""
        lifted = self._initially_lifted.sum()
        return (
            float(self.state.ever_relapsed[self._initially_lifted].sum() / lifted)
            if lifted
            else 0.0
        )
