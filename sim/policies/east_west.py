"""East-west pairing: labour placement in paired eastern jobs, consumption purchases, fiscal aid.

Eastern provinces are paired with western counties (S22, S23). Three channels are represented:

- **Labour placement.** Up to ``placements_per_1000_households`` workers per 1,000 households of
  the county are placed in paired eastern jobs each year, spread evenly over the months (the
  cumulative quota of month ``m`` is ``capacity * (m + 1) / 12``, so a year never exceeds its
  capacity). Candidates, by lottery from the policy's own stream, first from the targeted
  households (registered lifted households, ``initial_status == LIFTED``, and households monitoring
  colours orange or red): their unemployed returned migrants and their farm workers; then the
  unemployed returned migrants of any other household. A placed farm worker takes their share of
  the household's farm income (``farm_income / farm_workers``) with them; a placed unemployed
  migrant is simply back in work. Placed migrants earn their household's migrant wage plus
  ``wage_premium`` (paid by the eastern employer: earned income, not a policy cost) until they
  lose the job.
- **Consumption purchases.** Paired eastern buyers (canteens, unions, online malls) buy a share
  ``purchase_share`` of the targeted households' farm sales at ``purchase_price_margin`` above the
  market price. The premium money, ``purchase_share * purchase_price_margin`` times the month's
  farm sales at market prices (net of disaster damage and sickness, as the buyers see them), is
  paid as a ledger transfer, so it is counted in household income exactly once and booked as this
  policy's cost (``state.farm_price_premium`` is left untouched).
- **Fiscal aid.** ``fiscal_aid_per_household`` yuan per household of the county per year, booked
  as overhead every January. Its uses (infrastructure, industrial parks, schools) are not modelled.

What the policy observes: registered status, monitoring's colour, the household's employment
(farm workers, employed and unemployed returned migrants, as a placement office registers them),
the household's normal farm income and the year's market prices (buyers see sales), and whether
its placed workers are still employed. Job losses are decided by the model's labour shocks, which
do not say which of a household's migrants lost the job: when a household's employed migrants
fall by ``d`` between two months, the number of placed workers among the ``d`` lost jobs is drawn
from the hypergeometric distribution (placed and other migrants are equally exposed). A month in
which one migrant loses a job and another finds one shows no change and is not noticed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.params import bounded, required
from sim.policies.base import Policy

if TYPE_CHECKING:
    from sim.engine.model import PovertyModel


@dataclass
class EastWestConfig:
    """Parameters of ``policies.east_west`` (defaults in ``configs/policies/east_west.yaml``)."""

    enabled: bool = required()
    placements_per_1000_households: float = bounded(0.0, 1000.0)  # per 1,000 households a year
    wage_premium: float = bounded(0.0, 5.0)  # share above the household's migrant wage
    placement_cost_per_worker: float = bounded(0.0)  # yuan per placement, one-off
    purchase_share: float = bounded(0.0, 1.0)  # share of targeted households' farm sales
    purchase_price_margin: float = bounded(0.0, 5.0)  # share above the market price
    fiscal_aid_per_household: float = bounded(0.0)  # yuan per household of the county per year


class EastWest(Policy):
    """Labour placement with a wage premium, premium purchases of farm products, fiscal aid."""

    name = "east_west"

    def __init__(self, cfg: EastWestConfig, model: PovertyModel):

        super().__init__(cfg, model)
        self.cfg: EastWestConfig = cfg
        state = model.state
        self.capacity = int(cfg.placements_per_1000_households * state.count / 1000)
        self.placed = np.zeros(state.count, np.int32)  # placed workers still in their job
        self._migrants_seen = state.migrant_workers.astype(np.int32)
        self.placed_this_year = 0
        self.placements_by_year: list[int] = []
        self.placements = 0
        self.purchase_premium_yuan = 0.0

    def start_year(self, model: PovertyModel) -> None:
        """Book the year's fiscal aid and open the year's placement quota."""
        model.ledger.spend_overhead(
            self.name, self.cfg.fiscal_aid_per_household * model.state.count
        )
        self.placed_this_year = 0

    def step(self, model: PovertyModel) -> None:
        """Track lost placements, pay the wage and purchase premiums, place this month's quota."""
        s = model.state
        self._track_job_losses(model)
        placed = np.flatnonzero(self.placed)
        s.income_month[placed] += (
            self.placed[placed]
            * s.migrant_wage[placed]
            * (self.cfg.wage_premium / 12)
            * (1.0 - s.sick_workers[placed] / s.workers[placed])
        )
        targeted = self.targeted(s)
        self._buy_farm_products(model, np.flatnonzero(targeted))
        self._place_workers(model, targeted)
        self._migrants_seen = s.migrant_workers.astype(np.int32)

    def end_year(self, model: PovertyModel) -> None:
        """Record the year's placements."""
        self.placements_by_year.append(self.placed_this_year)

    def metrics(self) -> dict[str, Any]:
        """Placements over the run and the purchase premium paid to households (yuan)."""
        return {
            "east_west_placements": self.placements,
            "east_west_placed_in_work_final": int(self.placed.sum()),
            "east_west_purchase_premium_yuan": self.purchase_premium_yuan,
        }

    def _track_job_losses(self, model: PovertyModel) -> None:
        """Draw which of the household's lost migrant jobs were placed ones."""
        s = model.state
        lost = np.maximum(self._migrants_seen - s.migrant_workers, 0)
        hit = (lost > 0) & (self.placed > 0)
        if hit.any():
            placed = self.placed[hit]
            others = np.maximum(self._migrants_seen[hit] - placed, 0)
            self.placed[hit] -= self.rng.hypergeometric(
                placed, others, np.minimum(lost[hit], placed + others)
            )
        np.minimum(self.placed, s.migrant_workers, out=self.placed)

    def _buy_farm_products(self, model: PovertyModel, targeted: np.ndarray) -> None:
        """Pay the premium on the share of this month's farm sales the eastern buyers take.

        ``targeted`` are the rows of the targeted households. Sales are the month's farm income
        at this year's prices, net of disaster damage and of the working share lost to sickness.
        """
        s, cfg = model.state, self.cfg
        rate = cfg.purchase_share * cfg.purchase_price_margin
        if rate <= 0:
            return
        assert model.year_draws is not None
        rows = targeted[s.farm_income[targeted] > 0]
        market = np.where(
            s.cash_crop[rows], model.year_draws.price_cash_crop, model.year_draws.price_staple
        )
        working = 1.0 - np.divide(
            s.sick_workers[rows],
            s.workers[rows],
            out=np.zeros(rows.size),
            where=s.workers[rows] > 0,
        )
        sales = s.farm_income[rows] / 12 * market * (1.0 - s.farm_damage[rows]) * working
        premium = rate * sales
        paid = premium > 0
        model.ledger.transfer(self.name, rows[paid], premium[paid])
        self.purchase_premium_yuan += float(premium[paid].sum())

    def _place_workers(self, model: PovertyModel, targeted: np.ndarray) -> None:
        """Place up to this month's quota by lottery, targeted households' workers first.

        Every candidate worker has the same chance within his group: first the unemployed
        returned migrants and farm workers of targeted households, then the unemployed returned
        migrants of the others. Only the month's few placements are drawn and updated (the quota
        is a small fraction of the candidates), never a full shuffle of all of them.
        """
        s = model.state
        quota = self.capacity * (model.month_of_year + 1) // 12 - self.placed_this_year
        if quota <= 0:
            return
        first = np.flatnonzero(targeted)
        # The first group's entries: each targeted household's unemployed migrants, then (a second
        # block of the same rows) its farm workers.
        first_rows = np.concatenate([first, first])
        chosen = draw_workers(
            self.rng, np.concatenate([s.unemployed_migrants[first], s.farm_workers[first]]), quota
        )
        is_farm = chosen >= first.size
        second = np.flatnonzero(~targeted & (s.unemployed_migrants > 0))
        chosen_second = draw_workers(self.rng, s.unemployed_migrants[second], quota - chosen.size)
        farm_rows, farm = np.unique(first_rows[chosen[is_farm]], return_counts=True)
        unemployed_rows, unemployed = np.unique(
            np.concatenate([first_rows[chosen[~is_farm]], second[chosen_second]]),
            return_counts=True,
        )

        s.farm_income[farm_rows] *= (s.farm_workers[farm_rows] - farm) / s.farm_workers[farm_rows]
        s.farm_workers[farm_rows] -= farm.astype(s.farm_workers.dtype)
        s.unemployed_migrants[unemployed_rows] -= unemployed.astype(s.unemployed_migrants.dtype)
        for rows, placed in ((farm_rows, farm), (unemployed_rows, unemployed)):
            s.migrant_workers[rows] += placed.astype(s.migrant_workers.dtype)
            self.placed[rows] += placed.astype(self.placed.dtype)

        count = chosen.size + chosen_second.size
        self.placed_this_year += count
        self.placements += count
        model.ledger.spend_overhead(self.name, count * self.cfg.placement_cost_per_worker)


def draw_workers(rng: np.random.Generator, workers: np.ndarray, k: int) -> np.ndarray:
    """Draw ``k`` of the workers (all if fewer) without replacement, each with the same chance.

    ``workers[i]`` is the number of candidate workers of entry ``i`` (a household); returns the
    entry of each worker drawn, so an entry appears as often as its workers were drawn.
    """
    ends = np.cumsum(workers, dtype=np.int64)
    total = int(ends[-1]) if ends.size else 0
    drawn = rng.choice(total, size=min(max(k, 0), total), replace=False)
    return np.searchsorted(ends, drawn, side="right")
