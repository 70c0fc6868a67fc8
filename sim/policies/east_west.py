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
from sim.population import LIFTED, ORANGE

if TYPE_CHECKING:
    from sim.model import PovertyModel


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
        self.rng = model.policy_stream(self.name)
        state = model.state
        self.registered = state.initial_status == LIFTED
        self.monitored_colour = ORANGE  # monitoring's orange and red households are targeted
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
        sick_share = np.divide(
            s.sick_workers, s.workers, out=np.zeros(s.count), where=s.workers > 0
        )
        s.income_month += (
            self.placed * s.migrant_wage * self.cfg.wage_premium / 12 * (1.0 - sick_share)
        )
        targeted = self.registered | (s.risk_colour >= self.monitored_colour)
        self._buy_farm_products(model, targeted, sick_share)
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

    def _buy_farm_products(
        self, model: PovertyModel, targeted: np.ndarray, sick_share: np.ndarray
    ) -> None:
        """Pay the premium on the share of this month's farm sales the eastern buyers take."""
        s, cfg = model.state, self.cfg
        rate = cfg.purchase_share * cfg.purchase_price_margin
        if rate <= 0:
            return
        assert model.year_draws is not None
        market = np.where(
            s.cash_crop, model.year_draws.price_cash_crop, model.year_draws.price_staple
        )
        sales = s.farm_income / 12 * market * (1.0 - s.farm_damage) * (1.0 - sick_share)
        premium = rate * sales
        paid = targeted & (premium > 0)
        model.ledger.transfer(self.name, paid, premium[paid])
        self.purchase_premium_yuan += float(premium[paid].sum())

    def _place_workers(self, model: PovertyModel, targeted: np.ndarray) -> None:
        """Place up to this month's quota by lottery, targeted households' workers first."""
        s = model.state
        quota = self.capacity * (model.month_of_year + 1) // 12 - self.placed_this_year
        if quota <= 0:
            return
        rows = np.arange(s.count)
        # Each candidate worker is one entry: (household, is a farm worker).
        first = np.concatenate(
            [
                np.repeat(rows[targeted], s.unemployed_migrants[targeted]),
                np.repeat(rows[targeted], s.farm_workers[targeted]),
            ]
        )
        first_is_farm = np.arange(len(first)) >= int(s.unemployed_migrants[targeted].sum())
        second = np.repeat(rows[~targeted], s.unemployed_migrants[~targeted])
        chosen_first = self.rng.permutation(len(first))[:quota]
        chosen_second = self.rng.permutation(len(second))[: quota - len(chosen_first)]
        farm = np.bincount(first[chosen_first[first_is_farm[chosen_first]]], minlength=s.count)
        unemployed = np.bincount(
            first[chosen_first[~first_is_farm[chosen_first]]], minlength=s.count
        ) + np.bincount(second[chosen_second], minlength=s.count)

        share_kept = np.divide(
            s.farm_workers - farm, s.farm_workers, out=np.ones(s.count), where=s.farm_workers > 0
        )
        s.farm_income *= share_kept
        s.farm_workers -= farm.astype(s.farm_workers.dtype)
        s.unemployed_migrants -= unemployed.astype(s.unemployed_migrants.dtype)
        s.migrant_workers += (farm + unemployed).astype(s.migrant_workers.dtype)
        self.placed += (farm + unemployed).astype(np.int32)

        count = len(chosen_first) + len(chosen_second)
        self.placed_this_year += count
        self.placements += count
        model.ledger.spend_overhead(self.name, count * self.cfg.placement_cost_per_worker)
