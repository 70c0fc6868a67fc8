"""Public-welfare jobs (公益性岗位): part-time village posts paid from public funds.

S19 and S37 count 4.33-4.95 M public-welfare jobs held by poor people in 2020 (village cleaners,
road and forest wardens, care helpers): about 5% of the 98.99 M lifted people (S6). The posts
go to registered workers who cannot leave the village, and are paid by the government.

- **How many.** ``jobs_per_1000_lifted_people`` posts per 1,000 people of registered lifted
  households (``initial_status == LIFTED``) of the county, times the year's intensity, rounded
  down; the number is fixed at the start from the initial register.
- **Who and when.** Every January the posts are filled for the year by lottery from the policy's
  own stream (:func:`sim.policies.lottery.fill_places`) among the workers who stay in the village
  (farm workers and unemployed returned migrants, one entry per worker) of the targeted
  households: registered lifted households and households monitoring colours orange or red
  (``state.risk_colour >= ORANGE``) first, then nobody else (posts are for the registered and
  monitored). Each post is a one-year appointment.
- **Pay.** ``wage_monthly`` per post, paid by the government to the household as a ledger
  transfer each month while the household still has a worker to hold it (its farm workers plus
  unemployed migrants at least its posts; a post whose holder left for migrant work or another
  job is vacated), on the household's working share (sick workers do not earn). The post is
  part-time: the worker keeps his farm work and his place in the state's employment counts.
- **Cost.** Wages are transfers; ``admin_cost_per_post`` per post filled per year is overhead,
  booked in January.

What the policy observes: registered status, monitoring's colour, the household's farm workers
and returned migrants, and its workers' sick leave (as the village employer sees them). Not
represented: the tasks' public value (clean villages, forest protection), posts for people with
disabilities who are not counted as workers, and workers holding both a post and a workshop job
(posts are part-time, so the two are not exclusive).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.engine.state import LIFTED
from sim.params import bounded
from sim.policies.base import Policy, PolicyConfig, PolicyContext
from sim.policies.lottery import fill_places


@dataclass
class PublicJobsConfig(PolicyConfig):
    """Parameters of ``policies.public_jobs`` (defaults in its YAML file)."""

    # posts per 1,000 people of registered lifted households; up to 1,000: one per person
    jobs_per_1000_lifted_people: float = bounded(0.0, 1000.0)
    # yuan per post per month, paid by the government; up to 100,000: 50 x S18's workshop wage
    wage_monthly: float = bounded(0.0, 1e5)
    # yuan per post filled per year, overhead; up to 100,000: far above any administration cost
    admin_cost_per_post: float = bounded(0.0, 1e5)


class PublicJobs(Policy[PublicJobsConfig]):
    """Yearly lottery of part-time public posts among targeted households' village workers."""

    name = "public_jobs"
    config_type = PublicJobsConfig

    def __init__(self, cfg: PublicJobsConfig, ctx: PolicyContext):
        super().__init__(cfg, ctx)
        s = ctx.state
        lifted_people = int(s.size[s.initial_status == LIFTED].sum())
        self.capacity = cfg.jobs_per_1000_lifted_people * lifted_people / 1000
        self._state = s
        self._posts = np.zeros(s.count, np.int16)  # posts filled in January, less those vacated
        self._holders = np.zeros(0, np.intp)  # households holding posts (posts only fall in a year)
        self.filled_by_year: list[int] = []
        self._post_months = 0

    def start_year(self, ctx: PolicyContext) -> None:
        """Fill the year's posts by lottery among targeted households' village workers."""
        s = ctx.state
        staying = (s.farm_workers + s.unemployed_migrants) * self.targeted(s)
        candidates = np.repeat(np.arange(s.count), staying)
        chosen = fill_places(
            self.rng, int(self.capacity * self.intensity), np.ones(candidates.size, bool)
        )
        self._posts[:] = np.bincount(candidates[chosen], minlength=s.count)
        self._holders = np.flatnonzero(self._posts)
        self.filled_by_year.append(int(chosen.size))
        ctx.ledger.spend_overhead(self.name, chosen.size * self.cfg.admin_cost_per_post)

    def step(self, ctx: PolicyContext) -> None:
        """Vacate posts whose holders left; pay the month's wages."""
        s = ctx.state
        held = self._holders
        posts = np.minimum(self._posts[held], s.farm_workers[held] + s.unemployed_migrants[held])
        self._posts[held] = posts
        kept = posts > 0
        holders, posts = held[kept], posts[kept]
        self._holders = holders
        wages = self.cfg.wage_monthly * posts * s.working_share(holders)
        paid = wages > 0
        self.pay(ctx, holders[paid], wages[paid])
        self._post_months += int(posts.sum())

    def withdraw(self, ctx: PolicyContext) -> None:
        """The posts end."""
        self._posts[:] = 0
        self._holders = np.zeros(0, np.intp)

    @property
    def posts(self) -> np.ndarray:
        """Posts held by each household's workers (a post whose holder left is vacated).

        The posts filled in January and not vacated, as far as the household's farm workers and
        unemployed migrants can still hold them: a holder who left this month, after the
        month's wages (a placement in migrant work by a later policy), has vacated his post.
        """
        s = self._state
        return np.minimum(self._posts, s.farm_workers + s.unemployed_migrants)

    def metrics(self) -> dict[str, Any]:
        """Posts filled per year (mean) and post-months held over the run."""
        return {
            "public_jobs_posts_filled": (
                float(np.mean(self.filled_by_year)) if self.filled_by_year else 0.0
            ),
            "public_jobs_post_months": self._post_months,
        }
