"""Poverty-alleviation workshops: wage jobs near home for workers who cannot migrate.

S17 counts 31,441 workshops employing 413,600 poor people in 22 provinces (about 13 jobs each);
S18 and the seed (S24) report about 2,000 yuan a month in wages plus a 300-yuan monthly subsidy.

- **Where.** Each village (and each resettlement site with ``include_sites``) is planned
  ``workshops_per_village`` workshops on average, each with ``jobs_per_workshop`` jobs: the whole
  part of ``workshops_per_village``, plus one more with probability its fractional part (one
  draw per village from the policy's stream, at the start). The default, 0.027, is the national
  dose (S17, S37: about 0.44% of lifted people hold a workshop job) for the default county
  (docs/policies.md, "Doses"). A village's workshops open in the first month it has
  households (a site once relocation has brought people there), and a ``startup_grant`` is
  booked per workshop opened. After each December assessment every open workshop closes with
  probability ``closure_rate`` (a binomial draw per village from the policy's stream); **a
  closed workshop stays closed** for the rest of the run, and the jobs above the village's
  remaining capacity are lost (by lottery among the village's workshop workers).
- **Who.** Workers who cannot migrate: farm workers (``state.farm_workers``) and unemployed
  returned migrants (``state.unemployed_migrants``) of households living in the village. The
  targeted households come first: registered lifted households (``initial_status == LIFTED``) and
  households monitoring colours orange or red (``state.risk_colour >= ORANGE``); then all others.
  **Vacancies are refilled every month**: within each village, candidate workers are ranked by
  (priority group, lottery key from the policy's stream) and the first ``vacancies`` are hired
  (:func:`sim.policies.lottery.fill_places`: one sort over all candidates, no loop over
  households or villages).
- **Pay.** A workshop worker earns ``wage_monthly`` and the government adds ``subsidy_monthly``
  (the seed's worker counts the 300 yuan in her pay). Both are what the policy pays (workshop
  wages are among the anti-poverty payments that ``population.support_share_lifted`` counts in
  the 2020 income; incomes are generated before policy): they reach the household **as one
  ledger transfer booked to this policy**, never as market income, so they count in the
  ``income`` measure, in this year's policy payments that the ``withdrawal`` cause compares with
  the 2020 support, and in the policy's targeting errors. A farm worker hired gives up
  ``farm_income_forgone_share`` of his share of the month's farm income (the household's
  ``state.farm_income_month``, at this year's prices and net of disaster damage, divided by its
  farm workers): a loss of market income, subtracted from ``state.income_month``
  (``state.market_income_month`` keeps it: it is the income without the policy); a returned
  migrant gives up nothing. Sick workers (``state.sick_workers``) do not earn: wage, subsidy and
  forgone farm income are paid on the household's expected working share
  (``state.working_share``), as the model pays all labour income. The policy's cost is the wages
  and subsidies paid plus the start-up grants.
- **Leaving.** A worker leaves the job when the household's farm workers or unemployed migrants
  fall below its workshop jobs (a returned migrant who finds migrant work again, a farm worker
  placed or trained into other work by another policy), or when the household moves to another
  village (relocation).

Workshop jobs are the policy's own arrays (``farm_jobs``, ``returnee_jobs``: jobs held by the
household's farm workers and by its returned migrants); the state's employment counts are left
unchanged, so a hired farm worker stays counted in ``farm_workers`` (he still farms part-time)
and a hired returned migrant stays in ``unemployed_migrants`` (the model keeps counting his lost
migrant wage as a job-loss in the cause of a relapse).

What the policy observes: the village a household lives in, registered status, monitoring's
colour, the household's farm workers and returned migrants (as the village registers them), the
farm income it gives up, and its workers' sick leave (as an employer sees it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.params import bounded, probability, required
from sim.policies.base import Policy, PolicyConfig, PolicyContext
from sim.policies.lottery import fill_places


@dataclass
class WorkshopsConfig(PolicyConfig):
    """Parameters of ``policies.workshops`` (defaults in ``configs/policies/workshops.yaml``)."""

    workshops_per_village: float = bounded(0.0, 100.0)  # mean workshops planned per village
    include_sites: bool = required()  # resettlement sites get workshops as well
    jobs_per_workshop: int = bounded(1, 1000)  # jobs per workshop
    closure_rate: float = probability()  # share of open workshops closing per year
    # yuan per worker per month, a policy payment; up to 100,000: 50 x S18's wage
    wage_monthly: float = bounded(0.0, 1e5)
    # yuan per worker per month, government transfer; up to 100,000 as the wage
    subsidy_monthly: float = bounded(0.0, 1e5)
    farm_income_forgone_share: float = probability()  # share of a farm worker's farm income
    # yuan per workshop opened, once; up to 10 M: the price of a factory building
    startup_grant: float = bounded(0.0, 1e7)


class Workshops(Policy[WorkshopsConfig]):
    """Village workshops hiring farm workers and returned migrants, targeted households first."""

    name = "workshops"
    config_type = WorkshopsConfig

    def __init__(self, cfg: WorkshopsConfig, ctx: PolicyContext):
        super().__init__(cfg, ctx)
        s, villages = ctx.state, ctx.villages
        hosts = ~villages.is_site | cfg.include_sites
        self.open = np.zeros(villages.count, np.int32)  # open workshops per village
        whole, fraction = divmod(cfg.workshops_per_village, 1.0)
        planned = whole + (self.rng.random(villages.count) < fraction)
        self.planned = np.where(hosts, planned, 0).astype(np.int32)
        self._opened = np.zeros(villages.count, bool)  # its workshops have opened once
        self.farm_jobs = np.zeros(s.count, np.int16)  # jobs held by the household's farm workers
        self.returnee_jobs = np.zeros(s.count, np.int16)  # held by its returned migrants
        self._village_seen = s.village.copy()
        self._villages_counted = False  # the villages' households were counted once
        self.filled_by_month: list[int] = []
        self.hires = 0

    @property
    def capacity(self) -> np.ndarray:
        """Jobs per village in the open workshops, at this year's intensity (rounded down)."""
        return np.floor(self.open * self.cfg.jobs_per_workshop * self.intensity).astype(np.int64)

    def jobs_by_village(self, ctx: PolicyContext) -> np.ndarray:
        """Workshop jobs filled per village."""
        jobs = self.farm_jobs + self.returnee_jobs
        holders = np.flatnonzero(jobs != 0)  # the few households holding jobs
        return np.bincount(
            ctx.state.village[holders], weights=jobs[holders], minlength=self.open.size
        ).astype(np.int64)

    def start_year(self, ctx: PolicyContext) -> None:
        """Lay off the workers above the capacity when this year's intensity is lower."""
        if (self.jobs_by_village(ctx) > self.capacity).any():
            self._lay_off(ctx)

    def step(self, ctx: PolicyContext) -> None:
        """Open new workshops, release leavers' jobs, refill vacancies, pay wages and subsidies."""
        moved = np.flatnonzero(ctx.state.village != self._village_seen)
        self._open_new(ctx, moved)
        self._release_leavers(ctx, moved)
        self._hire(ctx)
        self.filled_by_month.append(self._pay(ctx))

    def end_year(self, ctx: PolicyContext) -> None:
        """Close workshops; lay off, by lottery, the workers above the remaining capacity."""
        closing = self.rng.binomial(self.open, self.cfg.closure_rate)
        self.open -= closing.astype(self.open.dtype)
        self._lay_off(ctx)

    def withdraw(self, ctx: PolicyContext) -> None:
        """The workshops' support ends: their jobs are no longer counted as the policy's."""
        self.farm_jobs[:] = 0
        self.returnee_jobs[:] = 0

    def _lay_off(self, ctx: PolicyContext) -> None:
        """Lay off, by lottery within each village, the workers above its capacity."""
        s = ctx.state
        rows = np.arange(s.count)
        holders = np.concatenate(
            [np.repeat(rows, self.farm_jobs), np.repeat(rows, self.returnee_jobs)]
        )
        is_farm = np.arange(holders.size) < int(self.farm_jobs.sum())
        everyone = np.zeros(holders.size, bool)  # no one is kept first
        kept = fill_places(self.rng, self.capacity, everyone, groups=s.village[holders])
        laid_off = np.delete(np.arange(holders.size), kept)
        self.farm_jobs -= self._per_household(holders[laid_off[is_farm[laid_off]]], s.count)
        self.returnee_jobs -= self._per_household(holders[laid_off[~is_farm[laid_off]]], s.count)

    def metrics(self) -> dict[str, Any]:
        """Jobs filled (mean over the run's months), workshops and jobs open at the end, hires."""
        return {
            "workshops_jobs_filled": (
                float(np.mean(self.filled_by_month)) if self.filled_by_month else 0.0
            ),
            "workshops_open": int(self.open.sum()),
            "workshops_capacity": int(self.capacity.sum()),
            "workshops_hires": self.hires,
        }

    # -- phases ---------------------------------------------------------------------------

    def _open_new(self, ctx: PolicyContext, moved: np.ndarray) -> None:
        """Open the workshops of villages with their first households; book start-up grants.

        ``moved``: the households whose village changed since the last step (rows). Which
        villages have households changes only when some move, so they are counted only then
        (and at the first step).
        """
        opening = np.zeros(self.open.size, bool)
        if moved.size or not self._villages_counted:
            inhabited = np.bincount(ctx.state.village, minlength=self.open.size) > 0
            opening = inhabited & ~self._opened
            self.open[opening] = self.planned[opening]
            self._opened |= opening
            self._villages_counted = True
        ctx.ledger.spend_overhead(
            self.name, int(self.planned[opening].sum()) * self.cfg.startup_grant
        )

    @staticmethod
    def _per_household(rows: np.ndarray, count: int) -> np.ndarray:
        """Entries per household, from the household row of each entry."""
        return np.bincount(rows, minlength=count).astype(np.int16)

    def _release_leavers(self, ctx: PolicyContext, moved: np.ndarray) -> None:
        """Jobs end when the household moved or no longer has the workers holding them.

        ``moved``: the households whose village changed since the last step (rows).
        """
        s = ctx.state
        self.farm_jobs[moved] = 0
        self.returnee_jobs[moved] = 0
        self._village_seen[moved] = s.village[moved]
        np.minimum(self.farm_jobs, s.farm_workers, out=self.farm_jobs)
        np.minimum(self.returnee_jobs, s.unemployed_migrants, out=self.returnee_jobs)

    def _hire(self, ctx: PolicyContext) -> None:
        """Fill each village's vacancies: targeted households first, lottery within a group."""
        s = ctx.state
        vacancies = self.capacity - self.jobs_by_village(ctx)
        if not (vacancies > 0).any():
            return
        in_open_village = vacancies[s.village] > 0
        free_farm = (s.farm_workers - self.farm_jobs) * in_open_village
        free_returnees = (s.unemployed_migrants - self.returnee_jobs) * in_open_village
        rows = np.arange(s.count)
        candidates = np.concatenate([np.repeat(rows, free_farm), np.repeat(rows, free_returnees)])
        is_farm = np.arange(candidates.size) < int(free_farm.sum())
        targeted = self.targeted(s)[candidates]
        hired = fill_places(self.rng, vacancies, targeted, groups=s.village[candidates])
        self.farm_jobs += self._per_household(candidates[hired[is_farm[hired]]], s.count)
        self.returnee_jobs += self._per_household(candidates[hired[~is_farm[hired]]], s.count)
        self.hires += hired.size

    def _pay(self, ctx: PolicyContext) -> int:
        """Wages and subsidies as this policy's transfers; forgone farm income off market income.

        Returns:
            The jobs filled this month.
        """
        s, cfg = ctx.state, self.cfg
        jobs = self.farm_jobs + self.returnee_jobs
        holders = np.flatnonzero(jobs > 0)
        working = jobs[holders] * s.working_share(holders)
        farm_jobs = self.farm_jobs[holders]
        forgone_per_worker = np.divide(
            cfg.farm_income_forgone_share * s.farm_income_month[holders],
            s.farm_workers[holders],
            out=np.zeros(holders.size),
            where=farm_jobs > 0,
        )
        share_farm = np.divide(farm_jobs, jobs[holders])
        s.income_month[holders] -= working * share_farm * forgone_per_worker
        paid = working > 0
        self.pay(ctx, holders[paid], (cfg.wage_monthly + cfg.subsidy_monthly) * working[paid])
        return int(jobs[holders].sum())
