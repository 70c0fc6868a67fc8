"""Dynamic monitoring and early warning: risk colours from observed income, then assistance.

The mechanism the seed describes (S24: Xinjiang's four colours, Hebei's integrated medical
insurance, civil-affairs and emergency-management network, Anhui's marginal households):

- **Who is observed.** ``coverage`` is the share of households in the system, drawn once at the
  start by lottery from the policy's own stream; with ``cover_registered`` every registered
  lifted household (``initial_status == LIFTED``) is in it as well. Households outside the system
  always stay green.
- **What is observed.** Each month, a covered household's income (``income_month`` plus policy
  transfers booked before monitoring acts) and, with ``data_sharing``, its shock expenditure
  (``expense_month``: hospital bills out of pocket and disaster repairs, as the medical-insurance,
  civil-affairs and emergency-management data show them). Without data sharing only income is
  seen, collected by household visits every ``visit_interval_months`` (a visit records the
  months since the previous one). Savings, true annual income and the assessment are never used.
- **How late.** Records reach the system ``delay_months`` after they are collected. The system
  keeps its own year-to-date sums of the records it holds, ``k`` months of one calendar year; the
  pending records wait in a ring buffer of ``delay_months + visit interval`` months (one month
  with data sharing), so memory is O(covered households x (delay + visit interval)).
- **Colours** (``state.risk_colour``), recomputed whenever new records arrive. With the observed
  year-to-date income ``I`` and shock expenditure ``E`` over ``k`` months, household size ``n``,
  line ``L`` and monitoring threshold ``T`` (S4, S5), the projected annual income is
  ``A = 12 I / k`` and the projected per-capita income ``P = (A - E) / n`` (income annualised,
  shocks counted once, as the assessment counts them). A large shock is
  ``E > shock_share_of_income * A``. Then

  - red: ``P < L`` (this includes S5's spending on illness or disaster above income, ``E > A``);
  - orange: ``P < T`` and a large shock;
  - yellow: ``P < T`` or a large shock;
  - green otherwise.

- **Assistance.** A household turning orange or red is flagged; ``response_delay_months`` later
  (verification by staff), and every month after that while it stays orange or red, it is
  assisted: a ``relief_grant`` (cash, at most once per calendar year), a job-placement referral
  for one unemployed returned migrant (``placement_capacity`` referrals per 1,000 households of
  the county per year, first come first served, ties in a month by lottery; a referral succeeds
  with ``placement_success_rate`` and moves one ``unemployed_migrants`` back to
  ``migrant_workers``), and, for red households without a member able to work (all workers are
  out of work after a serious illness, or there are none), enrolment in the safety net
  (``state.safety_net``; money flows only if the ``safety_net`` policy is enabled). Each January,
  households this policy enrolled leave the safety net again if a member can work.
- **Cost.** ``admin_cost_per_household`` per covered household per year, booked as overhead each
  January; relief grants are ledger transfers.

Evaluation (never used to act): after each December assessment the policy compares its flags of
the year with the assessment's results for the metrics of :meth:`Monitoring.metrics`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.engine.state import COLOUR_NAMES, GREEN, LIFTED, ORANGE, RED, YELLOW
from sim.outcomes import share
from sim.params import bounded, probability, required
from sim.policies.base import Policy, PolicyConfig, PolicyContext


@dataclass
class MonitoringConfig(PolicyConfig):
    """Parameters of ``policies.monitoring`` (defaults in ``configs/policies/monitoring.yaml``)."""

    coverage: float = probability()  # share of households drawn into the system
    cover_registered: bool = required()  # registered lifted households always covered
    data_sharing: bool = required()  # sees shock expenditure monthly; else income at visits
    visit_interval_months: int = bounded(1, 12)  # months between visits without data sharing
    delay_months: int = bounded(0, 24)  # months from collection to the system
    response_delay_months: int = bounded(0, 24)  # months from a flag to assistance
    shock_share_of_income: float = bounded(0.0, 1.0, open_lo=True)  # large-shock rule
    # yuan per household, at most once per year; up to 100,000: eight years at the line (S4)
    relief_grant: float = bounded(0.0, 1e5)
    placement_capacity: float = bounded(0.0, 1000.0)  # referrals per 1,000 households per year
    placement_success_rate: float = probability()  # share of referrals that find a job
    # yuan per covered household per year; up to 100,000: far above any administration cost
    admin_cost_per_household: float = bounded(0.0, 1e5)


class Monitoring(Policy[MonitoringConfig]):
    """Colours covered households from delayed observations and assists orange and red ones."""

    name = "monitoring"
    config_type = MonitoringConfig

    def __init__(self, cfg: MonitoringConfig, ctx: PolicyContext):
        super().__init__(cfg, ctx)
        s = ctx.state
        in_lottery = self.rng.random(s.count) < cfg.coverage
        self.covered = np.flatnonzero(in_lottery | (cfg.cover_registered & self.registered))
        covered = self.covered.size
        self._line = ctx.line
        self._threshold = ctx.monitoring_threshold
        self._size = s.size[self.covered].astype(float)
        self._placement_capacity = int(cfg.placement_capacity * s.count / 1000)

        # Observations: pending records in a ring buffer, and the system's year-to-date sums.
        self._collect_every = 1 if cfg.data_sharing else cfg.visit_interval_months
        self._buffer_months = cfg.delay_months + self._collect_every
        self._income_records = np.zeros((self._buffer_months, covered))
        self._shock_records = np.zeros((self._buffer_months, covered))
        self._known_through = -1  # last month (index since the start) the system holds
        self._months_known = 0  # months of that month's calendar year the sums hold
        self._income_ytd = np.zeros(covered)
        self._shock_ytd = np.zeros(covered)

        # Colours and assistance, one entry per covered household.
        self._colour = np.full(covered, GREEN, dtype=np.int8)
        self._countdown = np.full(covered, -1, dtype=np.int16)  # months to assistance; -1: none
        self._granted_this_year = np.zeros(covered, bool)
        self._enrolled = np.zeros(covered, bool)  # enrolled in the safety net by this policy
        self._referrals_this_year = 0

        # Evaluation against the annual assessment.
        self._ever_coloured = np.zeros((len(COLOUR_NAMES), covered), bool)
        self._flagged_this_year = np.zeros(covered, bool)
        self._below_at_start = s.below_line.copy()
        self._totals = dict.fromkeys(
            (
                "relief_grants",
                "referrals",
                "placements",
                "enrolments",
                "relapses",
                "relapses_flagged",
                "flagged",
                "false_alarms",
            ),
            0,
        )

    def start_year(self, ctx: PolicyContext) -> None:
        """Reset yearly quotas, review safety-net enrolments and book the year's administration."""
        s = ctx.state
        self._referrals_this_year = 0
        self._granted_this_year[:] = False
        self._flagged_this_year[:] = False
        self._below_at_start = s.below_line.copy()
        able = s.able_workers(self.covered) > 0
        leaving = self._enrolled & able
        s.safety_net[self.covered[leaving]] = False
        self._enrolled &= ~leaving
        ctx.ledger.spend_overhead(self.name, self.covered.size * self.cfg.admin_cost_per_household)

    def step(self, ctx: PolicyContext) -> None:
        """Record the month, take in the records that arrive, recolour, assist."""
        s = ctx.state
        month = ctx.month_index
        slot = month % self._buffer_months
        rows = self.covered
        self._income_records[slot] = s.income_month[rows] + s.policy_transfers_month[rows]
        self._shock_records[slot] = s.expense_month[rows] if self.cfg.data_sharing else 0.0
        arrived_through = self._arrived_through(month)
        if arrived_through > self._known_through:
            for record_month in range(self._known_through + 1, arrived_through + 1):
                self._take_in(record_month)
            self._known_through = arrived_through
            self._recolour()
            s.risk_colour[rows] = self._colour
        self._assist(ctx)

    def end_year(self, ctx: PolicyContext) -> None:
        """Compare the year's flags with the December assessment (evaluation only)."""
        s = ctx.state
        relapsed = (s.initial_status == LIFTED) & ~self._below_at_start & s.below_line
        flagged = self._flagged_this_year
        t = self._totals
        t["relapses"] += int(relapsed.sum())
        t["relapses_flagged"] += int((relapsed[self.covered] & flagged).sum())
        t["flagged"] += int(flagged.sum())
        t["false_alarms"] += int((flagged & ~s.below_line[self.covered]).sum())

    def metrics(self) -> dict[str, Any]:
        """Coverage, flags per colour, timeliness, false alarms and the assistance delivered."""
        t = self._totals
        return {
            "monitoring_covered_households": int(self.covered.size),
            "monitoring_flagged_by_colour": {
                name: int(self._ever_coloured[colour].sum())
                for colour, name in enumerate(COLOUR_NAMES)
            },
            "monitoring_relapses_flagged_in_time_share": share(
                t["relapses_flagged"], t["relapses"]
            ),
            "monitoring_false_alarm_share": share(t["false_alarms"], t["flagged"]),
            "monitoring_relief_grants": t["relief_grants"],
            "monitoring_placement_referrals": t["referrals"],
            "monitoring_job_placements": t["placements"],
            "monitoring_safety_net_enrolments": t["enrolments"],
        }

    # -- phases ---------------------------------------------------------------------------

    def _arrived_through(self, month: int) -> int:
        """The last month whose records have reached the system by ``month`` (-1: none yet).

        Records are collected at the end of each block of ``collect_every`` months (every month
        with data sharing, at each visit otherwise) and arrive ``delay_months`` later.
        """
        collected_by = month - self.cfg.delay_months
        return (collected_by + 1) // self._collect_every * self._collect_every - 1

    def _take_in(self, record_month: int) -> None:
        """Add one month's records to the year-to-date sums (restarting them each January)."""
        if record_month % 12 == 0:
            self._income_ytd[:] = 0.0
            self._shock_ytd[:] = 0.0
        slot = record_month % self._buffer_months
        self._income_ytd += self._income_records[slot]
        self._shock_ytd += self._shock_records[slot]
        self._months_known = record_month % 12 + 1

    def _recolour(self) -> None:
        """Colours from projected per-capita income and shock expenditure (module docstring)."""
        annual_income = self._income_ytd * (12 / self._months_known)
        projected = (annual_income - self._shock_ytd) / self._size
        below_threshold = projected < self._threshold
        large_shock = self._shock_ytd > self.cfg.shock_share_of_income * np.maximum(
            annual_income, 0.0
        )
        self._colour[:] = np.select(
            [projected < self._line, below_threshold & large_shock, below_threshold | large_shock],
            [RED, ORANGE, YELLOW],
            GREEN,
        )
        self._ever_coloured[self._colour, np.arange(self._colour.size)] = True

    def _assist(self, ctx: PolicyContext) -> None:
        """Start countdowns on new flags; assist households whose countdown has run out."""
        flagged = self._colour >= ORANGE
        self._flagged_this_year |= flagged
        countdown = self._countdown
        countdown[~flagged] = -1
        countdown[flagged & (countdown < 0)] = self.cfg.response_delay_months
        due = flagged & (countdown == 0)
        countdown[flagged & (countdown > 0)] -= 1
        # Lotteries are drawn every month whatever the state, so the stream stays aligned.
        referral_order = self.rng.random(self.covered.size)
        referral_success = self.rng.random(self.covered.size)
        self._grant(ctx, due)
        self._place(ctx, due, referral_order, referral_success)
        self._enrol(ctx, due)

    def _grant(self, ctx: PolicyContext, due: np.ndarray) -> None:
        """Pay the relief grant to due households not yet granted this year."""
        granted = due & ~self._granted_this_year
        ctx.ledger.transfer(self.name, self.covered[granted], self.cfg.relief_grant)
        self._granted_this_year |= granted
        self._totals["relief_grants"] += int(granted.sum())

    def _place(
        self,
        ctx: PolicyContext,
        due: np.ndarray,
        referral_order: np.ndarray,
        referral_success: np.ndarray,
    ) -> None:
        """Refer one unemployed migrant per due household while the year's capacity lasts."""
        s = ctx.state
        candidates = np.flatnonzero(due & (s.unemployed_migrants[self.covered] > 0))
        slots = min(self._placement_capacity - self._referrals_this_year, candidates.size)
        referred = candidates[np.argsort(referral_order[candidates], kind="stable")[:slots]]
        placed = self.covered[
            referred[referral_success[referred] < self.cfg.placement_success_rate]
        ]
        s.move_workers(placed, 1, "unemployed", "migrant")
        self._referrals_this_year += slots
        self._totals["referrals"] += slots
        self._totals["placements"] += placed.size

    def _enrol(self, ctx: PolicyContext, due: np.ndarray) -> None:
        """Enrol due red households without a member able to work in the safety net."""
        s = ctx.state
        rows = self.covered
        unable = s.able_workers(rows) <= 0
        enrol = due & (self._colour == RED) & unable & ~s.safety_net[rows]
        s.safety_net[rows[enrol]] = True
        self._enrolled |= enrol
        self._totals["enrolments"] += int(enrol.sum())
