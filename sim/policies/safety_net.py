"""Safety net: the minimum living guarantee (dibao) as a means-tested programme, and 特困 support.

The rural dibao (S31) guarantees a local standard (about 542 yuan per person a month, 6,500 a
year, in 2022: above the poverty line) to households whose per-capita income is below it and
whose assets are small; households with no one able to work and no one to support them get the
extreme-hardship (特困) support instead. As implemented:

- **What the office observes.** A household's monthly income as it reports it and the village
  verifies it: earned income plus what other policies paid (``state.income_month +
  state.policy_transfers_month``; the safety net acts last, so its own payment is not in it),
  times a measurement factor ``exp(income_error_sigma * z - income_error_sigma**2 / 2)`` drawn
  per household each January from the policy's own stream (mean 1). The office keeps its own
  record of the last 12 observed months; before a year of records exists, it uses the
  household's assessed 2020 income (``state.per_capita_income``) with the same factor. Savings
  (``state.savings``) are seen as declared, without error (the asset test).
- **Means test, each January (annual review) and for every application monitoring sends during
  the year** (``state.safety_net`` set by monitoring, reviewed the same month on the last 12
  observed months): observed per-capita income below ``standard_per_capita`` and savings per
  person below ``asset_limit_per_capita``.
- **Who is enrolled.** At the annual review an eligible household not enrolled applies with
  probability ``take_up`` and is wrongly rejected with probability ``exclusion_error``; an
  enrolled household found eligible stays; a household found ineligible leaves, except that
  each ineligible household (enrolled or not) is enrolled with probability ``inclusion_error``
  (wrong inclusion). Monitoring's applications are reviewed in the month they arrive (the same
  exclusion error, no take-up lottery: the household has applied). Every draw comes from the
  policy's own stream, one uniform per household and purpose, whatever the state.
- **Benefit.** Each month an enrolled household receives ``standard_per_capita * size / 12``
  minus its observed income of the month (at least 0), times the year's intensity: observed
  income is topped up to the standard.
- **特困.** Households with no worker (``state.workers == 0``, no one able to work) apply with
  probability ``take_up`` at a review and are enrolled without means test or exclusion error
  (civil affairs lists them); once enrolled they stay. Each month they are topped up to
  ``extreme_hardship_standard_per_capita`` instead of the dibao standard. They count as enrolled.
- **Cost.** ``admin_cost_per_household`` per enrolled household per year, booked monthly.

``state.safety_net`` holds the roll (dibao and 特困). What the model cannot represent: local
standards that differ between villages, household-specific deductions (rigid spending, illness)
some counties allow in the means test, the conditionality of benefits on work, and the stigma
and discretion behind take-up beyond one probability.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.engine.rng import uniform_float32_words, words_below
from sim.engine.state import ALL, Rows
from sim.params import bounded, probability
from sim.policies.base import Policy, PolicyConfig, PolicyContext


@dataclass
class SafetyNetConfig(PolicyConfig):
    """Parameters of ``policies.safety_net`` (defaults in ``configs/policies/safety_net.yaml``)."""

    # yuan per person per year; up to 100,000, the highest poverty line allowed
    standard_per_capita: float = bounded(0.0, 1e5)
    # yuan per person per year for households with no worker; up to 100,000 as the standard
    extreme_hardship_standard_per_capita: float = bounded(0.0, 1e5)
    # yuan of savings per person; up to 10 M: no asset test in practice
    asset_limit_per_capita: float = bounded(0.0, 1e7)
    take_up: float = probability()  # an eligible household's chance of applying at a review
    exclusion_error: float = probability()  # an eligible applicant's chance of rejection
    inclusion_error: float = probability()  # an ineligible household's chance of enrolment
    income_error_sigma: float = bounded(0.0, 2.0)  # log-sd of observed vs true income
    # yuan per enrolled household per year; up to 100,000: far above any means test
    admin_cost_per_household: float = bounded(0.0, 1e5)


class SafetyNet(Policy[SafetyNetConfig]):
    """Means-tested monthly top-up to the dibao standard; 特困 top-up without workers."""

    name = "safety_net"
    config_type = SafetyNetConfig

    def __init__(self, cfg: SafetyNetConfig, ctx: PolicyContext):
        super().__init__(cfg, ctx)
        s = ctx.state
        self.extreme_hardship = s.workers == 0  # listed by civil affairs (特困)
        # yuan per person per year each household is topped up to, by its listing
        self._standard = np.where(
            self.extreme_hardship, cfg.extreme_hardship_standard_per_capita, cfg.standard_per_capita
        )
        self._observed_months = np.zeros((12, s.count))  # observed income, ring of 12 months
        self._months_recorded = 0
        self._error = np.ones(s.count)
        self.ever_enrolled = np.zeros(s.count, bool)
        self._approved = np.zeros(s.count, bool)  # on the roll after a review of this policy
        self.review_per_capita = np.zeros(s.count)  # observed at the last annual review, yuan
        self._enrolled_months = 0  # household-months on the roll, dibao and 特困
        self._people_months = 0  # person-months on the roll
        self._extreme_hardship_months = 0
        self._county_people = int(s.size.sum())
        self._reviews = dict.fromkeys(("eligible", "applied", "excluded", "included"), 0)

    def start_year(self, ctx: PolicyContext) -> None:
        """Draw the year's measurement factors and review the roll (module docstring)."""
        s, cfg = ctx.state, self.cfg
        z = self.rng.standard_normal(s.count)
        sigma = cfg.income_error_sigma
        self._error = np.exp(sigma * z - sigma**2 / 2)
        applies = self.rng.random(s.count) < cfg.take_up
        rejected = self.rng.random(s.count) < cfg.exclusion_error
        included = self.rng.random(s.count) < cfg.inclusion_error
        self.review_per_capita = self.observed_per_capita(ctx, ALL)
        eligible = self._means_test(ctx, ALL, self.review_per_capita)
        enrolled = s.safety_net & ~self.extreme_hardship
        stays = enrolled & eligible
        joins = ~enrolled & eligible & applies & ~rejected
        wrongly = ~eligible & included & ~self.extreme_hardship
        hardship = self.extreme_hardship & (s.safety_net | applies)
        s.safety_net[:] = stays | joins | wrongly | hardship
        self._approved[:] = s.safety_net
        r = self._reviews
        r["eligible"] += int((eligible & ~self.extreme_hardship).sum())
        r["applied"] += int((~enrolled & eligible & applies).sum())
        r["excluded"] += int((~enrolled & eligible & applies & rejected).sum())
        r["included"] += int(wrongly.sum())

    def step(self, ctx: PolicyContext) -> None:
        """Review monitoring's applications, record the month, top observed income up."""
        s, cfg = ctx.state, self.cfg
        # One single-precision uniform per household a month for the review's exclusion error,
        # whatever the state, as its 32-bit word (sim.engine.rng.uniform_float32_words).
        rejected_w = uniform_float32_words(self.rng, s.count)
        # Reviewed on the months recorded before this one, which is recorded after the review.
        self._review_applications(ctx, rejected_w)
        observed = self._observed_months[ctx.month_index % 12]
        np.add(s.income_month, s.policy_transfers_month, out=observed)
        observed *= self._error
        roll = np.flatnonzero(s.safety_net)  # the households on the roll (indices)
        size = s.size[roll]
        gap = np.maximum(self._standard[roll] * size / 12 - observed[roll], 0.0) * self.intensity
        paid = np.flatnonzero(gap > 0)  # indices: a boolean selection is several times slower
        self.pay(ctx, roll[paid], gap[paid])
        self._months_recorded += 1
        self.ever_enrolled |= s.safety_net
        self._enrolled_months += roll.size
        self._people_months += int(size.sum())
        self._extreme_hardship_months += int(np.count_nonzero(self.extreme_hardship & s.safety_net))
        ctx.ledger.spend_overhead(self.name, roll.size * cfg.admin_cost_per_household / 12)

    def withdraw(self, ctx: PolicyContext) -> None:
        """The programme ends: the roll is cleared."""
        ctx.state.safety_net[:] = False

    def metrics(self) -> dict[str, Any]:
        """Households ever enrolled, mean coverage of households and people, review outcomes."""
        months = max(self._months_recorded, 1)
        return {
            "safety_net_enrolled": int(self.ever_enrolled.sum()),
            "safety_net_mean_enrolled_households": self._enrolled_months / months,
            "safety_net_mean_extreme_hardship_households": self._extreme_hardship_months / months,
            "safety_net_mean_people_share": self._people_months / months / self._county_people,
            "safety_net_reviews": dict(self._reviews),
        }

    # -- the means test -------------------------------------------------------------------

    def observed_per_capita(self, ctx: PolicyContext, rows: Rows) -> np.ndarray:
        """Observed annual per-capita income of ``rows`` (indices or ``ALL``), last 12 months."""
        s = ctx.state
        if self._months_recorded >= 12:
            annual = self._observed_months[:, rows].sum(axis=0)
            return annual / s.size[rows]
        return s.per_capita_income[rows] * self._error[rows]

    def eligible(self, ctx: PolicyContext, rows: Rows) -> np.ndarray:
        """The means test on observed income and declared savings, for ``rows``."""
        return self._means_test(ctx, rows, self.observed_per_capita(ctx, rows))

    def _means_test(self, ctx: PolicyContext, rows: Rows, per_capita: np.ndarray) -> np.ndarray:
        """The means test of ``rows`` whose observed per-capita income is ``per_capita``."""
        s, cfg = ctx.state, self.cfg
        income_ok = per_capita < cfg.standard_per_capita
        assets_ok = s.savings[rows] / s.size[rows] < cfg.asset_limit_per_capita
        return income_ok & assets_ok

    def _review_applications(self, ctx: PolicyContext, rejected_w: np.ndarray) -> None:
        """Means-test the households monitoring put on the roll since the last review.

        ``rejected_w``: every household's uniform for the exclusion error (its 32-bit word).
        """
        s = ctx.state
        new = np.flatnonzero(s.safety_net & ~self._approved)
        if new.size == 0:
            return
        excluded = rejected_w[new] < words_below(self.cfg.exclusion_error)
        accepted = self.eligible(ctx, new) & ~excluded
        s.safety_net[new[~accepted]] = False
        self._approved[new[accepted]] = True
        self._reviews["applied"] += int(new.size)
        self._reviews["excluded"] += int((~accepted).sum())
