"""Relocation out of high-hazard villages to resettlement sites near the county town.

S20: 9.6 M people were relocated in 2016-20 for about 600 bn yuan (about 62,500 yuan per person);
S21: 94.5% of the relocated working-age people are in work and wages are about 80% of their
income; S24 (the seed): a housing subsidy of 40,000 yuan.

- **Who and when.** Every January, up to ``relocations_per_1000_households`` households per 1,000
  households of the county move, chosen among the households living in villages of high disaster
  exposure (``villages.exposure == HIGH``, resettlement sites excluded): registered lifted
  households (``initial_status == LIFTED``) and households monitoring colours orange or red
  (``state.risk_colour >= ORANGE``) first, then the others, by lottery from the policy's own
  stream within each group. A household moves at most once (sites are never high-exposure).
- **Where.** ``state.village`` is set to a resettlement site (``villages.is_site``); movers are
  assigned to the sites in turn (round robin over the run), so the sites fill evenly. From then
  on the household faces the site's disasters (low exposure, ``shocks.disaster_rate_low``)
  instead of its old village's.
- **Income.** The household keeps its land but farms it from afar: its farm income falls by
  ``farm_income_loss_share``. Each of its farm workers finds a local wage job at the site with
  probability ``wage_job_probability`` (S21): he moves from ``farm_workers`` to
  ``local_workers``, earns the household's local wage (which reflects its skill) and takes his
  share of the remaining farm income with him. Migrants and returned migrants are unaffected.
- **Money.** ``cost_per_person`` per person moved (S20: about 600 bn yuan for 9.6 M people) is
  the programme's whole cost: the new home, construction of the site, roads, schools, follow-up
  services. The ``housing_subsidy_per_household`` (S24) is the part of it a household receives
  as its new home: an **in-kind** benefit, never income. Both are overhead; the metrics split the
  cost into ``relocation_housing_in_kind_yuan`` and the rest, ``relocation_construction_yuan``.
  A household's cost is ``max(size * cost_per_person, housing_subsidy_per_household)``, so the
  subsidy is never counted on top of S20's figure.

What the policy observes: the village a household lives in and its exposure, registered status,
monitoring's colour, household size and its farm workers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.engine.state import HIGH
from sim.params import bounded, probability
from sim.policies.base import Policy, PolicyConfig, PolicyContext
from sim.policies.lottery import fill_places


@dataclass
class RelocationConfig(PolicyConfig):
    """Parameters of ``policies.relocation`` (defaults in ``configs/policies/relocation.yaml``)."""

    relocations_per_1000_households: float = bounded(0.0, 1000.0)  # households per 1,000 a year
    farm_income_loss_share: float = probability()  # share of farm income lost by moving
    wage_job_probability: float = probability()  # a farm worker's chance of a wage job at a site
    # yuan per person moved, once, overhead; up to 1 M: 16 x S20's 62,500
    cost_per_person: float = bounded(0.0, 1e6)
    # yuan per household, once, in kind; up to 1 M: 25 x S24's 40,000, more than a rural house
    housing_subsidy_per_household: float = bounded(0.0, 1e6)


class Relocation(Policy[RelocationConfig]):
    """Annual relocation of high-exposure households to resettlement sites, by priority lottery."""

    name = "relocation"
    config_type = RelocationConfig

    def __init__(self, cfg: RelocationConfig, ctx: PolicyContext):
        super().__init__(cfg, ctx)
        s, villages = ctx.state, ctx.villages
        self.high_exposure_village = (villages.exposure == HIGH) & ~villages.is_site
        self.sites = np.flatnonzero(villages.is_site)
        self.capacity = int(cfg.relocations_per_1000_households * s.count / 1000)
        self.relocated = np.zeros(s.count, bool)
        self.origin = np.full(s.count, -1, np.int32)  # village left (-1: not relocated)
        self.households_by_year: list[int] = []
        self.people = 0
        self.wage_jobs = 0
        self.construction_yuan = 0.0
        self.housing_in_kind_yuan = 0.0

    def start_year(self, ctx: PolicyContext) -> None:
        """Move the year's households, change their income sources and book the costs."""
        s, cfg = ctx.state, self.cfg
        candidates = np.flatnonzero(self.high_exposure_village[s.village])
        places = int(self.capacity * self.intensity)
        movers = candidates[fill_places(self.rng, places, self.targeted(s)[candidates])]
        self.households_by_year.append(int(movers.size))

        self.origin[movers] = s.village[movers]
        turn = sum(self.households_by_year[:-1]) + np.arange(movers.size)
        s.village[movers] = self.sites[turn % self.sites.size]
        self.relocated[movers] = True

        s.farm_income[movers] *= 1.0 - cfg.farm_income_loss_share
        to_wage = self.rng.binomial(s.farm_workers[movers], cfg.wage_job_probability)
        s.move_workers(movers, to_wage, "farm", "local")

        # S20's cost per person is the programme's whole cost, the new home included: the housing
        # subsidy (S24) is the part of it each household receives in kind, never added on top.
        people = int(s.size[movers].sum())
        whole = np.maximum(s.size[movers] * cfg.cost_per_person, cfg.housing_subsidy_per_household)
        housing = movers.size * cfg.housing_subsidy_per_household
        construction = float(whole.sum()) - housing
        ctx.ledger.spend_overhead(self.name, construction + housing)
        self.people += people
        self.wage_jobs += int(to_wage.sum())
        self.construction_yuan += construction
        self.housing_in_kind_yuan += housing

    def metrics(self) -> dict[str, Any]:
        """Households and people moved, wage jobs found, and the cost split (yuan)."""
        return {
            "relocation_households": int(self.relocated.sum()),
            "relocation_people": self.people,
            "relocation_wage_jobs": self.wage_jobs,
            "relocation_construction_yuan": self.construction_yuan,
            "relocation_housing_in_kind_yuan": self.housing_in_kind_yuan,
        }
