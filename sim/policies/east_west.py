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
  migrant is simply back in work. ``placement_cost_per_worker`` per placement (transport and job
  matching, bought for the worker) is overhead.
- **Market wage, policy premium.** A placed migrant earns his household's migrant wage: a market
  wage the placement gave access to, earned income like any migrant's (remitted on
  ``remittance_share``, :meth:`sim.engine.state.HouseholdState.earn_month`), not a policy payment;
  it stays market income, and so in the income without the policy that the targeting errors use.
  What the programme pays is the placement cost, the purchase premium below and the **wage
  premium**: ``wage_premium`` times the placed worker's migrant wage at this year's earnings
  level, on the household's working share, each month until he loses the job (the pairing's
  employment subsidies for paired workers). The ``remittance_share`` of the premium reaches home,
  as the wage does: it is paid as a ledger transfer booked to this policy, so it counts in the
  ``income`` measure, in this year's policy payments that the ``withdrawal`` cause compares with
  the 2020 support, and in the targeting errors; the rest, spent where the worker works, is
  overhead, so the programme's cost is the whole premium.
- **Consumption purchases.** Paired eastern buyers (canteens, unions, online malls) buy a share
  ``purchase_share`` of the targeted households' farm sales at ``purchase_price_margin`` above the
  market price. The premium money, ``purchase_share * purchase_price_margin`` times the month's
  farm sales (the farm income as earned, ``state.farm_income_month``, at this year's prices with
  any price premium and net of disaster damage, on the working share: as the buyers see them), is
  paid as a ledger transfer, so it is counted in household income exactly once and booked as this
  policy's cost (``state.farm_price_premium`` is left untouched).
- **Fiscal aid.** ``fiscal_aid_per_household`` yuan per household of the county per year, booked
  as overhead every January. Its uses (infrastructure, industrial parks, schools) are not modelled.

What the policy observes: registered status, monitoring's colour, the household's employment
(farm workers, employed and unemployed returned migrants, as a placement office registers them),
the household's farm income of the month (buyers see sales), and whether its placed workers are
still employed and what they earn (as their employer sees them). Job losses are decided by the
model's labour shocks, which do not say which of a household's migrants lost the job: when a
household's employed migrants fall by ``d`` between two months, the number of placed workers among
the ``d`` lost jobs is drawn from the hypergeometric distribution (placed and other migrants are
equally exposed). A month in which one migrant loses a job and another finds one shows no change
and is not noticed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.params import bounded
from sim.policies.base import Policy, PolicyConfig, PolicyContext
from sim.policies.lottery import entry_households, fill_places


@dataclass
class EastWestConfig(PolicyConfig):
    """Parameters of ``policies.east_west`` (defaults in ``configs/policies/east_west.yaml``)."""

    placements_per_1000_households: float = bounded(0.0, 1000.0)  # per 1,000 households a year
    wage_premium: float = bounded(0.0, 5.0)  # share above the household's migrant wage
    # yuan per placement, one-off; up to 100,000: a year's migrant wage several times over
    placement_cost_per_worker: float = bounded(0.0, 1e5)
    purchase_share: float = bounded(0.0, 1.0)  # share of targeted households' farm sales
    purchase_price_margin: float = bounded(0.0, 5.0)  # share above the market price
    # yuan per household of the county per year; up to 100,000: 70 x S23's aid
    fiscal_aid_per_household: float = bounded(0.0, 1e5)


class EastWest(Policy[EastWestConfig]):
    """Labour placement with a wage premium, premium purchases of farm products, fiscal aid."""

    name = "east_west"
    config_type = EastWestConfig

    def __init__(self, cfg: EastWestConfig, ctx: PolicyContext):

        super().__init__(cfg, ctx)
        state = ctx.state
        self.capacity = int(cfg.placements_per_1000_households * state.count / 1000)
        self.placed = np.zeros(state.count, np.int32)  # placed workers still in their job
        # The households with placed workers (rows, ascending) and their employed migrants at
        # the end of the last step: only their job losses concern the policy.
        self._placed_rows = np.zeros(0, np.intp)
        self._migrants_seen = np.zeros(0, np.int32)
        self.placed_this_year = 0
        self.placements_by_year: list[int] = []
        self.placements = 0
        self.purchase_premium_yuan = 0.0
        self.wage_premium_yuan = 0.0

    def start_year(self, ctx: PolicyContext) -> None:
        """Book the year's fiscal aid and open the year's placement quota."""
        aid = self.cfg.fiscal_aid_per_household * self.intensity
        ctx.ledger.spend_overhead(self.name, aid * ctx.state.count)
        self.placed_this_year = 0

    def step(self, ctx: PolicyContext) -> None:
        """Track lost placements, pay the wage and purchase premiums, place this month's quota."""
        s = ctx.state
        still_placed = self._track_job_losses(ctx)
        self._pay_wage_premium(ctx, still_placed)
        targeted = self.targeted(s)
        self._buy_farm_products(ctx, targeted)
        newly_placed = self._place_workers(ctx, targeted)
        self._placed_rows = union_of_rows(still_placed, newly_placed)
        self._migrants_seen = s.migrant_workers[self._placed_rows].astype(np.int32)

    def end_year(self, ctx: PolicyContext) -> None:
        """Record the year's placements."""
        self.placements_by_year.append(self.placed_this_year)

    def metrics(self) -> dict[str, Any]:
        """Placements over the run; purchase premium and whole wage premium paid (yuan)."""
        return {
            "east_west_placements": self.placements,
            "east_west_placed_in_work_final": int(self.placed.sum()),
            "east_west_purchase_premium_yuan": self.purchase_premium_yuan,
            "east_west_wage_premium_yuan": self.wage_premium_yuan,
        }

    def _pay_wage_premium(self, ctx: PolicyContext, rows: np.ndarray) -> None:
        """Pay the month's wage premium of the placed workers still in their job.

        ``rows``: the households with placed workers in their job (ascending). The remitted share
        reaches the household as a transfer; the rest is overhead.
        """
        s = ctx.state
        if rows.size == 0:
            return
        premium = (
            self.placed[rows]
            * s.migrant_wage[rows]
            * s.earnings_level[rows]
            * (self.cfg.wage_premium / 12)
            * s.working_share(rows)
        )
        remitted = premium * s.remittance_share[rows]
        paid = remitted > 0
        self.pay(ctx, rows[paid], remitted[paid])
        ctx.ledger.spend_overhead(self.name, float((premium - remitted).sum()))
        self.wage_premium_yuan += float(premium.sum())

    def _track_job_losses(self, ctx: PolicyContext) -> np.ndarray:
        """Draw which of the household's lost migrant jobs were placed ones.

        Only the households with placed workers are looked at (the others have none to lose).

        Returns:
            The households that still have placed workers in their job (rows, ascending).
        """
        s = ctx.state
        rows = self._placed_rows
        lost = self._migrants_seen - s.migrant_workers[rows]
        hit = lost > 0
        if hit.any():
            hit_rows = rows[hit]
            placed = self.placed[hit_rows]
            others = np.maximum(self._migrants_seen[hit] - placed, 0)
            self.placed[hit_rows] -= self.rng.hypergeometric(
                placed, others, np.minimum(lost[hit], placed + others)
            )
        placed = np.minimum(self.placed[rows], s.migrant_workers[rows])
        self.placed[rows] = placed
        return rows[placed != 0]

    def _buy_farm_products(self, ctx: PolicyContext, targeted: np.ndarray) -> None:
        """Pay the premium on the share of this month's farm sales the eastern buyers take.

        ``targeted``: whether each household is targeted. Sales are the month's farm income
        as earned (``state.farm_income_month``: at this year's prices with any price premium, net
        of disaster damage) on the household's working share (sick workers do not farm).
        """
        s, cfg = ctx.state, self.cfg
        rate = cfg.purchase_share * self.intensity * cfg.purchase_price_margin
        if rate <= 0:
            return
        rows = np.flatnonzero(targeted & (s.farm_income > 0))
        sales = s.farm_income_month[rows] * s.working_share(rows)
        premium = rate * sales
        paid = np.flatnonzero(premium > 0)  # indices: a boolean selection is several times slower
        self.pay(ctx, rows[paid], premium[paid])
        self.purchase_premium_yuan += float(premium[paid].sum())

    def _place_workers(self, ctx: PolicyContext, targeted: np.ndarray) -> np.ndarray:
        """Place up to this month's quota by lottery, targeted households' workers first.

        Every candidate worker has the same chance within his group
        (:func:`sim.policies.lottery.fill_places`): first the unemployed returned migrants and
        farm workers of targeted households, then the unemployed returned migrants of the others.

        Returns:
            The households that had workers placed this month (rows).
        """
        s = ctx.state
        capacity = int(self.capacity * self.intensity)
        quota = capacity * (ctx.month_of_year + 1) // 12 - self.placed_this_year
        if quota <= 0:
            return np.zeros(0, np.intp)
        first = np.flatnonzero(targeted)
        second = np.flatnonzero(~targeted & (s.unemployed_migrants > 0))
        # One entry per candidate worker, in blocks: unemployed migrants and farm workers of
        # targeted households, then unemployed migrants of the others (the entries themselves
        # are not listed, only the chosen ones are looked up).
        blocks = [
            (first, s.unemployed_migrants[first]),
            (first, s.farm_workers[first]),
            (second, s.unemployed_migrants[second]),
        ]
        ends = np.cumsum([int(counts.sum()) for _, counts in blocks])
        served_first = np.zeros(ends[-1], bool)  # targeted households' entries first
        served_first[: ends[1]] = True
        chosen = fill_places(self.rng, quota, served_first)
        placed_from = []  # the households of the chosen entries, block by block
        for (rows, counts), start, end in zip(blocks, (0, *ends[:-1]), ends, strict=True):
            entries = chosen[(chosen >= start) & (chosen < end)] - start
            placed_from.append(entry_households(rows, counts, entries))
        farm_rows, farm = np.unique(placed_from[1], return_counts=True)
        unemployed_rows, unemployed = np.unique(
            np.concatenate([placed_from[0], placed_from[2]]), return_counts=True
        )

        s.move_workers(farm_rows, farm, "farm", "migrant")
        s.move_workers(unemployed_rows, unemployed, "unemployed", "migrant")
        for rows, placed in ((farm_rows, farm), (unemployed_rows, unemployed)):
            self.placed[rows] += placed.astype(self.placed.dtype)

        count = chosen.size
        self.placed_this_year += count
        self.placements += count
        ctx.ledger.spend_overhead(self.name, count * self.cfg.placement_cost_per_worker)
        return np.concatenate([farm_rows, unemployed_rows])


def union_of_rows(rows: np.ndarray, more: np.ndarray) -> np.ndarray:
    """The rows in ``rows`` or ``more`` (each unique), ascending: ``np.union1d(rows, more)``.

    A sort of the two and a comparison of neighbours, without ``np.unique``'s extra passes.
    """
    union = np.concatenate([rows, more])
    union.sort()
    first = np.ones(union.size, bool)  # the first of equal neighbours
    np.not_equal(union[1:], union[:-1], out=first[1:])
    return union[first]
