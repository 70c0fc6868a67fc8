"""The per-agent baseline: the engine's core household rules written the way a Mesa user would.

Each household is a ``mesa.Agent`` that holds its own attributes as Python numbers, and every month
the model calls ``Household.step`` on each agent through ``AgentSet.shuffle_do``. The rules are
those of :class:`sim.engine.model.PovertyModel` and of the household rules of
:class:`sim.engine.state.HouseholdState`, without policies, operation for operation: each January
real growth, the year's earnings level (persistent and transitory parts) and the life course
(retirement, entry into work); every month illness (hospital bill, out-of-pocket share, a worker
off sick), village disasters (farm income destroyed for the year, repair costs), the migrant
labour market (job losses, re-employment), the month's market income and remittances, savings
(shock spending, consumption floor), and the December assessment under both poverty measures
(status, relapse, cause including withdrawal of the 2020 support). The engine's monthly
statistics are not kept.

Random numbers come from the engine's own :class:`sim.engine.shocks.ShockDraws` (the same
named streams of the same seed, drawn as arrays once a month or year); each agent reads its own
entries. Both implementations therefore face the same illnesses and disasters, which is what
``tests/test_benchmark_baseline.py`` checks. Reading a list entry costs an agent about what a call
to ``self.random.random()`` would, so the baseline is not slowed by its random numbers.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import mesa
import numpy as np

from sim.config import Config
from sim.engine.population import generate_population
from sim.engine.shocks import ShockDraws, monthly_rate
from sim.engine.state import LIFTED, MARGINAL, NEWLY_POOR, RELAPSED, HouseholdState
from sim.outcomes import CAUSES, MEASURES, YearCounts, annual_record, fgt

WITHDRAWAL, OTHER = CAUSES.index("withdrawal"), CAUSES.index("other")


class Household(mesa.Agent):
    """One household with its own attributes (yuan, persons, months; see HouseholdState)."""

    def __init__(self, model: PerAgentModel, state: HouseholdState, row: int):
        super().__init__(model)
        self.row = row  # its index into the month's draws
        self.village = int(state.village[row])
        self.size = int(state.size[row])
        self.workers = int(state.workers[row])
        self.chronic_illness = bool(state.chronic_illness[row])
        self.initial_status = int(state.initial_status[row])
        self.status = int(state.status[row])
        self.farm_workers = int(state.farm_workers[row])
        self.local_workers = int(state.local_workers[row])
        self.migrant_workers = int(state.migrant_workers[row])
        self.unemployed_migrants = int(state.unemployed_migrants[row])
        self.farm_income = float(state.farm_income[row])
        self.local_wage = float(state.local_wage[row])
        self.migrant_wage = float(state.migrant_wage[row])
        self.transfer_income = float(state.transfer_income[row])
        self.property_income = float(state.property_income[row])
        self.remittance_share = float(state.remittance_share[row])
        self.support_2020 = float(state.support_2020[row])
        self.earnings_persistent = 0.0
        self.earnings_level = 1.0
        self.cash_crop = bool(state.cash_crop[row])
        self.farm_price_premium = float(state.farm_price_premium[row])
        self.savings = float(state.savings[row])
        self.reimbursement_rate = float(state.reimbursement_rate[row])
        self.sick_workers = 0
        self.sick_months_left = 0
        self.farm_damage = 0.0
        self.income_month = 0.0
        self.expense_month = 0.0
        self.start_year_accounts()
        self.per_capita_income = float(state.per_capita_income[row])
        self.below_line = bool(state.below_line[row])
        self.ever_relapsed = False
        # Per measure, set by the assessment for the model's tallies.
        self.per_capita = {m: float(state.per_capita_income[row]) for m in MEASURES}
        self.below = {m: bool(state.below_line[row]) for m in MEASURES}
        self.at_risk_lifted = dict.fromkeys(MEASURES, False)
        self.at_risk_other = dict.fromkeys(MEASURES, False)
        self.relapsed = dict.fromkeys(MEASURES, False)
        self.newly_poor = dict.fromkeys(MEASURES, False)
        self.relapse_cause = dict.fromkeys(MEASURES, OTHER)

    def step(self) -> None:
        """One month of this household's life."""
        self.fall_ill()
        self.suffer_disaster()
        self.work_as_migrant()
        self.earn_income()
        self.close_month()

    def start_year(self) -> None:
        """January: real growth, the year's earnings level, retirement and entry into work."""
        model = self.model
        shocks = model.cfg.shocks
        growth = 1.0 + model.cfg.population.real_growth
        self.farm_income *= growth
        self.local_wage *= growth
        self.migrant_wage *= growth
        self.transfer_income *= growth
        self.property_income *= growth
        rho = shocks.earnings_persistence
        sigma_p, sigma_e = shocks.earnings_persistent_sigma, shocks.earnings_transitory_sigma
        self.earnings_persistent *= rho
        self.earnings_persistent += sigma_p * model.persistent_z[self.row]
        log_level = self.earnings_persistent + sigma_e * model.transitory_z[self.row]
        self.earnings_level = math.exp(log_level - (model.persistent_variance + sigma_e**2) / 2)
        retire = -math.expm1(self.workers * math.log1p(-min(shocks.retirement_rate, 1 - 1e-12)))
        if self.workers > 0 and model.retire_u[self.row] < retire:
            self.retire()
        others = self.size - self.workers
        entry = -math.expm1(others * math.log1p(-min(shocks.labour_entry_rate, 1 - 1e-12)))
        if self.workers > 0 and others > 0 and model.entry_u[self.row] < entry:
            self.workers += 1
            if model.entry_migrate_u[self.row] < shocks.entrant_migrant_share:
                self.migrant_workers += 1
            else:
                self.local_workers += 1

    def retire(self) -> None:
        """A farm worker stops working (with his farm share), else a local, unemployed, migrant."""
        if self.farm_workers > 0:
            self.farm_income *= (self.farm_workers - 1) / self.farm_workers
            self.farm_workers -= 1
        elif self.local_workers > 0:
            self.local_workers -= 1
        elif self.unemployed_migrants > 0:
            self.unemployed_migrants -= 1
        else:
            self.migrant_workers -= 1
        self.workers -= 1
        self.sick_workers = min(self.sick_workers, self.workers)

    def fall_ill(self) -> None:
        """Perhaps a hospitalisation: the bill's out-of-pocket part, perhaps a worker off sick."""
        model = self.model
        shocks = model.cfg.shocks
        multiplier = shocks.chronic_illness_multiplier if self.chronic_illness else 1.0
        admissions = shocks.hospitalisation_rate / 12 * self.size * multiplier
        if model.illness_u[self.row] < admissions / model.mean_multiplier:
            cost = shocks.hospital_cost_median * math.exp(
                shocks.hospital_cost_sigma * model.illness_cost_z[self.row]
            )
            out_of_pocket = cost * (1.0 - self.reimbursement_rate)
            self.expense_month = out_of_pocket
            self.loss_illness_ytd += out_of_pocket
            serious = model.illness_serious_u[self.row] < shocks.serious_illness_share
            if serious and self.workers > 0:
                self.sick_workers = min(self.sick_workers + 1, self.workers)
                self.sick_months_left = shocks.recovery_months
        else:
            self.expense_month = 0.0

    def suffer_disaster(self) -> None:
        """If the village is struck: part of the year's farm income lost, repairs to pay."""
        model = self.model
        if model.village_struck[self.village]:
            severity = model.village_severity[self.village]
            self.farm_damage = max(self.farm_damage, severity)
            shocks = model.cfg.shocks
            per_person = shocks.disaster_loss_per_person * shocks.disaster_household_share
            mean = shocks.disaster_severity_mean
            repair = severity / mean * per_person * self.size if mean > 0 else 0.0
            self.expense_month += repair
            self.loss_disaster_ytd += repair

    def work_as_migrant(self) -> None:
        """A migrant may lose the job; an unemployed migrant may find one."""
        model = self.model
        if model.job_loss_hazard < 1:
            any_loss = -math.expm1(self.migrant_workers * model.log_job_kept)
        else:
            any_loss = 1.0
        loses = self.migrant_workers > 0 and model.job_loss_u[self.row] < any_loss
        finds = (
            self.unemployed_migrants > 0
            and model.reemployment_u[self.row] < model.cfg.shocks.reemployment_rate
        )
        change = int(finds) - int(loses)
        self.migrant_workers += change
        self.unemployed_migrants -= change

    def earn_income(self) -> None:
        """The month's market income from the farm, wages and transfers, and what shocks took."""
        year = self.model.year_draws
        level = self.earnings_level
        market = year.price_cash_crop if self.cash_crop else year.price_staple
        price = market * (1.0 + self.farm_price_premium)
        farm_normal = self.farm_income * level / 12
        farm = farm_normal * price * (1.0 - self.farm_damage)
        self.loss_price_ytd += farm_normal * max(1.0 - market, 0.0)
        self.loss_disaster_ytd += farm_normal * price * self.farm_damage
        remitted = self.migrant_wage * self.remittance_share * level
        wages = (
            self.local_workers * self.local_wage * level + self.migrant_workers * remitted
        ) / 12
        labour = farm + wages
        sick_share = self.sick_workers / self.workers if self.workers > 0 else 0.0
        lost_to_sickness = labour * sick_share if self.sick_workers > 0 else 0.0
        self.loss_illness_ytd += lost_to_sickness
        self.loss_job_ytd += self.unemployed_migrants * remitted / 12
        self.income_month = (
            labour - lost_to_sickness + (self.transfer_income + self.property_income) / 12
        )

    def close_month(self) -> None:
        """Pay shock expenses and consumption from savings, book the month, count down sickness."""
        model = self.model
        from_savings = min(self.expense_month, max(self.savings, 0.0))
        self.savings -= from_savings
        self.uncovered_expense_ytd += self.expense_month - from_savings
        self.income_ytd += self.income_month
        floor = model.cfg.population.consumption_floor_ratio * model.line / 12 * self.size
        excess = self.income_month - floor
        if excess > 0:
            self.savings += model.cfg.population.saving_rate * excess
        else:
            self.savings += -min(-excess, self.savings)
        if self.sick_months_left > 0:
            self.sick_months_left -= 1
        if self.sick_months_left == 0:
            self.sick_workers = 0

    def assess_year(self) -> None:
        """December: per-capita income under both measures against the line."""
        line = self.model.line
        lifted = self.initial_status == LIFTED
        shortfall = max(self.support_2020, 0.0) / self.size  # no policy paid anything
        losses = [
            self.loss_illness_ytd,
            self.loss_disaster_ytd,
            self.loss_job_ytd,
            self.loss_price_ytd,
        ]
        largest = max(losses)
        shock = losses.index(largest) if largest > 0 else OTHER
        values = {
            "income": self.income_ytd / self.size,
            "after_shocks": (self.income_ytd - self.uncovered_expense_ytd) / self.size,
        }
        for measure, per_capita in values.items():
            below = per_capita < line
            self.at_risk_lifted[measure] = lifted and not self.below[measure]
            self.at_risk_other[measure] = not lifted and not self.below[measure]
            self.relapsed[measure] = self.at_risk_lifted[measure] and below
            self.newly_poor[measure] = self.at_risk_other[measure] and below
            self.relapse_cause[measure] = WITHDRAWAL if per_capita + shortfall >= line else shock
            self.per_capita[measure] = per_capita
            self.below[measure] = below
        headline = self.model.headline
        below = self.below[headline]
        if self.relapsed[headline]:
            self.ever_relapsed = True
            self.status = RELAPSED
        if self.newly_poor[headline]:
            self.status = NEWLY_POOR
        if not below and self.below_line:
            self.status = LIFTED if lifted else MARGINAL
        self.per_capita_income = values["income"]
        self.below_line = below
        self.start_year_accounts()

    def start_year_accounts(self) -> None:
        """Zero the year's income, uncovered expenses, losses by cause and farm damage."""
        self.income_ytd = 0.0
        self.uncovered_expense_ytd = 0.0
        self.loss_illness_ytd = 0.0
        self.loss_disaster_ytd = 0.0
        self.loss_job_ytd = 0.0
        self.loss_price_ytd = 0.0
        self.farm_damage = 0.0


class PerAgentModel(mesa.Model):
    """The county of :class:`sim.engine.model.PovertyModel` (same config and seed), no policies.

    Args:
        cfg: a validated run config; its ``policies`` are ignored.
    """

    def __init__(self, cfg: Config):
        super().__init__(rng=cfg.seed)
        self.cfg = cfg
        self.line = cfg.poverty.line
        state, villages = generate_population(
            cfg.population, cfg.poverty, cfg.shocks.reimbursement_rate, cfg.seed
        )
        self.shocks = ShockDraws(cfg.shocks, cfg.seed, state.count, villages.count)
        self.headline = cfg.poverty.measure.value
        s = cfg.shocks
        multiplier = np.where(state.chronic_illness, s.chronic_illness_multiplier, 1.0)
        self.mean_multiplier = float((state.size * multiplier).sum() / state.size.sum())
        self.persistent_variance = 0.0
        by_exposure = np.asarray(
            monthly_rate(
                np.array([s.disaster_rate_low, s.disaster_rate_medium, s.disaster_rate_high])
            )
        )
        self.village_disaster_rate = by_exposure[villages.exposure].tolist()
        self.month_index = 0
        self.annual: list[dict[str, Any]] = []
        for row in range(state.count):
            Household(self, state, row)

    @property
    def year(self) -> int:
        """Calendar year of the current month."""
        return self.cfg.start_year + self.month_index // 12

    def step(self) -> None:
        """Advance one month: draw the shocks, step every household in random order."""
        if self.month_index % 12 == 0:
            self.year_draws = self.shocks.year()
            s = self.cfg.shocks
            annual = s.job_loss_rate * (s.downturn_multiplier if self.year_draws.downturn else 1.0)
            self.job_loss_hazard = float(monthly_rate(min(annual, 1.0)))
            self.log_job_kept = (
                math.log1p(-self.job_loss_hazard) if self.job_loss_hazard < 1 else 0.0
            )
            households = self.shocks.household_year()
            self.persistent_z = households.persistent_z.tolist()
            self.transitory_z = households.transitory_z.tolist()
            self.retire_u = households.retire_u.tolist()
            self.entry_u = households.entry_u.tolist()
            self.entry_migrate_u = households.entry_migrate_u.tolist()
            rho, sigma_p = s.earnings_persistence, s.earnings_persistent_sigma
            self.persistent_variance = rho**2 * self.persistent_variance + sigma_p**2
            self.agents.do("start_year")
        draws = self.shocks.month()
        self.illness_u = draws.illness_u.tolist()
        self.illness_cost_z = draws.illness_cost_z.tolist()
        self.illness_serious_u = draws.illness_serious_u.tolist()
        self.job_loss_u = draws.job_loss_u.tolist()
        self.reemployment_u = draws.reemployment_u.tolist()
        self.village_severity = draws.disaster_severity.tolist()
        self.village_struck = [
            u < rate
            for u, rate in zip(draws.disaster_u.tolist(), self.village_disaster_rate, strict=True)
        ]
        self.agents.shuffle_do("step")
        if self.month_index % 12 == 11:
            self.assess_year()
        self.month_index += 1

    def assess_year(self) -> None:
        """Every household's assessment, then the year's tallies under each measure."""
        households = self.agents
        households.do("assess_year")
        ordered = sorted(households, key=lambda h: h.row)
        size = np.array([h.size for h in ordered])
        by_measure = {}
        for m in MEASURES:
            relapsed = [h for h in ordered if h.relapsed[m]]
            causes = Counter(h.relapse_cause[m] for h in relapsed)
            per_capita = np.array([h.per_capita[m] for h in ordered])
            by_measure[m] = YearCounts(
                at_risk_lifted=sum(h.at_risk_lifted[m] for h in ordered),
                relapses=len(relapsed),
                at_risk_others=sum(h.at_risk_other[m] for h in ordered),
                newly_poor=sum(h.newly_poor[m] for h in ordered),
                people_below=sum(h.size for h in ordered if h.below[m]),
                people=int(size.sum()),
                causes=np.array([causes[i] for i in range(len(CAUSES))]),
                poverty_gap_index=fgt(per_capita, size, self.line, 1),
                poverty_severity_index=fgt(per_capita, size, self.line, 2),
            )
        self.annual.append(
            annual_record(
                year=self.year, headline=self.headline, by_measure=by_measure, cost_yuan=0.0
            )
        )

    def column(self, name: str) -> np.ndarray:
        """Attribute ``name`` of every household, in the engine's row order."""
        return np.array([getattr(h, name) for h in sorted(self.agents, key=lambda h: h.row)])
