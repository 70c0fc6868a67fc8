"""Dynamic monitoring: a register of monitoring objects, three entry routes, colours, assistance.

The 2021 mechanism (S5, S24): households at risk of (re)falling into poverty enter a register as
"monitoring objects"; registered households get help according to their risk colour, and leave
the register when their risk is eliminated. As implemented:

- **What is observed.** Each month every route sees a household's income of the month as it is
  reported to it: earned income plus what the policies acting before it paid
  (``state.income_month + state.policy_transfers_month``), times a measurement factor
  ``exp(sigma * z - sigma**2 / 2)`` (mean 1) drawn per household and route each January from
  the policy's own stream; with sigma 0 the route sees the true income. Shock spending (hospital
  bills out of pocket, disaster repairs: ``state.expense_month``) is seen exactly, through the
  medical-insurance, civil-affairs and emergency data. The policy keeps the last 12 months of
  observed income and spending (before a year has passed, each missing month counts a twelfth of
  the household's assessed 2020 income and no spending). Savings and the true annual income are
  never used.
- **Entry criteria** (S5), on a route's observed annual income ``A`` per person ``A / n`` and the
  spending of the last 12 months ``E``: per-capita income below the monitoring threshold
  (``A / n < T``); rigid spending above income (``E > A``); or a sudden severe difficulty (the
  month's spending above ``shock_share_of_income * A``).
- **Routes**, each with its own coverage, delay and error:

  - *village cadre visits*: each month a share ``coverage`` of the households is visited (a
    lottery per household and month); a visit sees every criterion with income error
    ``income_error_sigma``; entry ``delay_months`` later (reporting and village review);
  - *household application*: a household meeting a criterion applies with probability
    ``application_rate`` a month, on its own income (error ``application_error_sigma``); entry
    ``application_delay_months`` later;
  - *department data screening*: the medical-insurance, civil-affairs and emergency data flag
    rigid spending above income and sudden severe difficulties (on income as the data show it,
    error ``screening_error_sigma``), and every new dibao case (a household on the dibao roll,
    ``state.safety_net``, that was not on it the month before); a share ``screening_coverage``
    of the records is matched; entry ``screening_delay_months`` later.

  A household detected by a route is pending on that route until its delay has run; it enters
  when the first pending route matures (entries are counted by that route, so they sum to the
  total), unless it is already registered.
- **Colours** (``state.risk_colour``), for registered households from the cadres' observation
  (error ``income_error_sigma``), the others green: red below the poverty line or with rigid
  spending above income; orange below the threshold with a sudden severe difficulty; yellow below
  the threshold or with a sudden difficulty; green otherwise.
- **Assistance tied to the register.** A registered household whose colour is at least
  ``grant_from`` gets a ``relief_grant`` (at most once per calendar year); at least
  ``placement_from``: a job-placement referral for one unemployed returned migrant
  (``placement_capacity`` referrals per 1,000 households a year, by lottery in a month; a
  referral succeeds with ``placement_success_rate``); at least ``dibao_from``: an application
  to the safety net (``state.safety_net``; the ``safety_net`` policy means-tests it). Amounts
  scale with the year's intensity.
- **Exit** ("risk eliminated"): a registered household whose observed per-capita income has
  stayed at or above the threshold, without rigid spending above income, for ``exit_months``
  consecutive months is verified: the verification observes its income once more (a fresh draw
  of the cadres' error) and the household leaves if it is still at or above the threshold.
- **Cost.** ``admin_cost_per_household`` per registered household per year, booked monthly.

Evaluation (never used to act): after each December assessment the policy compares the year's
register (households registered at some time in the year) with the assessment under both poverty
measures (``state.below_income`` and ``state.below_after_shocks``): the share of relapses whose
household was registered during the year, and the share of registered households not below the
line.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, NamedTuple

import numpy as np

from sim.engine.state import COLOUR_NAMES, GREEN, LIFTED, MARGINAL, ORANGE, RED, YELLOW
from sim.outcomes import share
from sim.params import bounded, probability
from sim.policies.base import Policy, PolicyConfig, PolicyContext

ROUTES = ("screening", "visit", "application")
"""Entry routes, in the order a same-month entry is credited."""

CADRE = ROUTES.index("visit")
"""The route whose observation colours registered households and decides exits."""

MEASURES = ("income", "after_shocks")
"""The poverty measures the register's flags are evaluated against."""


class Observation(NamedTuple):
    """What one route sees of every household this month."""

    per_capita: np.ndarray  # observed annual income per person, yuan
    rigid: np.ndarray  # 12 months of shock spending above observed annual income
    sudden: np.ndarray  # this month's spending above shock_share_of_income x that income


class Colour(Enum):
    """A risk colour named in the config (the state holds its code, ``COLOUR_NAMES``)."""

    green = GREEN
    yellow = YELLOW
    orange = ORANGE
    red = RED


@dataclass
class MonitoringConfig(PolicyConfig):
    """Parameters of ``policies.monitoring`` (defaults in ``configs/policies/monitoring.yaml``)."""

    coverage: float = probability()  # cadre visits: share of households visited a month
    delay_months: int = bounded(0, 24)  # cadre visits: months from a visit to entry
    income_error_sigma: float = bounded(0.0, 2.0)  # cadre visits: log-sd of observed income
    application_rate: float = probability()  # a household at risk applies, chance a month
    application_delay_months: int = bounded(0, 24)  # months from an application to entry
    application_error_sigma: float = bounded(0.0, 2.0)  # log-sd of income a household reports
    screening_coverage: float = probability()  # share of department records matched
    screening_delay_months: int = bounded(0, 24)  # months from a record to entry
    screening_error_sigma: float = bounded(0.0, 2.0)  # log-sd of income in department data
    shock_share_of_income: float = bounded(0.0, 1.0, open_lo=True)  # sudden severe difficulty
    exit_months: int = bounded(1, 120)  # months above the threshold before verification
    grant_from: Colour = Colour.orange  # lowest colour that triggers the relief grant
    placement_from: Colour = Colour.orange  # lowest colour that triggers a placement referral
    dibao_from: Colour = Colour.red  # lowest colour that triggers a dibao application
    # yuan per household, at most once per year; up to 100,000: eight years at the line (S4)
    relief_grant: float = bounded(0.0, 1e5)
    placement_capacity: float = bounded(0.0, 1000.0)  # referrals per 1,000 households per year
    placement_success_rate: float = probability()  # share of referrals that find a job
    # yuan per registered household per year; up to 100,000: far above any administration cost
    admin_cost_per_household: float = bounded(0.0, 1e5)


class Monitoring(Policy[MonitoringConfig]):
    """The register: entry by three routes, colours, assistance by colour, verified exit."""

    name = "monitoring"
    config_type = MonitoringConfig

    def __init__(self, cfg: MonitoringConfig, ctx: PolicyContext):
        super().__init__(cfg, ctx)
        s = ctx.state
        n = s.count
        self._placement_capacity = int(cfg.placement_capacity * n / 1000)
        self._sigmas = np.array(
            [cfg.screening_error_sigma, cfg.income_error_sigma, cfg.application_error_sigma]
        )
        self._coverages = np.array([cfg.screening_coverage, cfg.coverage, cfg.application_rate])
        self._delays = np.array(
            [cfg.screening_delay_months, cfg.delay_months, cfg.application_delay_months]
        )
        self._error = np.ones((len(ROUTES), n))
        # The last 12 months of true income and shock spending, as the routes see them.
        # Before a year has passed, the missing months are the assessed 2020 income.
        self._income_months = np.tile(s.per_capita_income * s.size / 12, (12, 1))
        self._spending_months = np.zeros((12, n))

        self.registered_now = np.zeros(n, bool)
        self._pending = np.full((len(ROUTES), n), -1, np.int16)  # months to entry; -1: none
        self._months_above = np.zeros(n, np.int16)
        self.entered_month = np.full(n, -1, np.int32)
        self.ever_registered = np.zeros(n, bool)
        self._registered_this_year = np.zeros(n, bool)
        self._granted_this_year = np.zeros(n, bool)
        self._applied_this_year = np.zeros(n, bool)  # dibao applications, one a year
        self._on_dibao_seen = s.safety_net.copy()  # on the dibao roll last month (2020 roll)
        self._referrals_this_year = 0
        self._ever_coloured = np.zeros((len(COLOUR_NAMES), n), bool)
        self._at_risk = (s.initial_status == LIFTED) | (s.initial_status == MARGINAL)
        self._below_at_start = {m: self._below(s, m).copy() for m in MEASURES}
        self._spells_months = 0  # months registered, completed and ongoing spells
        self._spells = 0
        self.entries = dict.fromkeys(ROUTES, 0)
        self._totals = dict.fromkeys(
            ("exits", "verifications_failed", "relief_grants", "referrals", "placements"), 0
        )
        self._dibao_applications = 0
        self._quality = {
            m: dict.fromkeys(("relapses", "relapses_registered", "registered", "not_below"), 0)
            for m in MEASURES
        }

    def start_year(self, ctx: PolicyContext) -> None:
        """Draw the year's measurement factors; reset yearly quotas."""
        z = self.rng.standard_normal(self._error.shape)
        sigma = self._sigmas[:, None]
        self._error = np.exp(sigma * z - sigma**2 / 2)
        self._referrals_this_year = 0
        self._granted_this_year[:] = False
        self._applied_this_year[:] = False
        s = ctx.state
        self._registered_this_year = self.registered_now.copy()
        self._below_at_start = {m: self._below(s, m).copy() for m in MEASURES}

    def step(self, ctx: PolicyContext) -> None:
        """Record the month, exits, detections, entries, colours, assistance, cost."""
        s = ctx.state
        n = s.count
        # Every lottery is drawn every month whatever the state, so the stream stays aligned.
        # Single precision: a lottery against a share needs no more, and draws twice as fast.
        route_u = self.rng.random((len(ROUTES), n), dtype=np.float32)
        verify_z = self.rng.standard_normal(n, dtype=np.float32)
        referral_u = self.rng.random(n, dtype=np.float32)
        success_u = self.rng.random(n, dtype=np.float32)
        income, spending = self._record(ctx)
        seen = self._observe(ctx, income, spending)
        self._exit(ctx, income, seen[CADRE], verify_z)
        self._detect(ctx, seen, route_u)
        colour = self._colour(ctx, seen[CADRE])
        s.risk_colour[:] = colour
        for code in (YELLOW, ORANGE, RED):
            self._ever_coloured[code] |= colour == code
        self._assist(ctx, colour, referral_u, success_u)
        self._registered_this_year |= self.registered_now
        registered = int(self.registered_now.sum())
        self._spells_months += registered
        ctx.ledger.spend_overhead(self.name, registered * self.cfg.admin_cost_per_household / 12)

    def end_year(self, ctx: PolicyContext) -> None:
        """Compare the year's register with the December assessment (evaluation only)."""
        s = ctx.state
        lifted = s.initial_status == LIFTED
        seen = self._registered_this_year
        for m in MEASURES:
            below = self._below(s, m)
            relapsed = lifted & ~self._below_at_start[m] & below
            q = self._quality[m]
            q["relapses"] += int(relapsed.sum())
            q["relapses_registered"] += int((relapsed & seen).sum())
            q["registered"] += int(seen.sum())
            q["not_below"] += int((seen & ~below).sum())

    def withdraw(self, ctx: PolicyContext) -> None:
        """Monitoring ends: colours go back to green and the register is closed."""
        ctx.state.risk_colour[:] = GREEN
        self.registered_now[:] = False
        self._pending[:] = -1

    def metrics(self) -> dict[str, Any]:
        """The register's size, routes, exits, time registered, reach, flag quality, help."""
        t = self._totals
        spells = self._spells + int(self.registered_now.sum())
        quality = {
            m: {
                "relapses_registered_share": share(q["relapses_registered"], q["relapses"]),
                "registered_not_below_share": share(q["not_below"], q["registered"]),
            }
            for m, q in self._quality.items()
        }
        return {
            "monitoring_registered_final": int(self.registered_now.sum()),
            "monitoring_registered_ever": int(self.ever_registered.sum()),
            "monitoring_ever_registered_share": share(
                int((self.ever_registered & self._at_risk).sum()), int(self._at_risk.sum())
            ),
            "monitoring_entries_by_route": dict(self.entries),
            "monitoring_entries": sum(self.entries.values()),
            "monitoring_exits": t["exits"],
            "monitoring_exit_verifications_failed": t["verifications_failed"],
            "monitoring_mean_months_registered": (self._spells_months / spells if spells else 0.0),
            "monitoring_flagged_by_colour": {
                name: int(self._ever_coloured[colour].sum())
                for colour, name in enumerate(COLOUR_NAMES)
                if colour != GREEN
            },
            "monitoring_flag_quality": quality,
            "monitoring_relief_grants": t["relief_grants"],
            "monitoring_placement_referrals": t["referrals"],
            "monitoring_job_placements": t["placements"],
            "monitoring_dibao_applications": self._dibao_applications,
        }

    # -- phases ---------------------------------------------------------------------------

    @staticmethod
    def _below(s: Any, measure: str) -> np.ndarray:
        """Below the line at the last assessment under ``measure``."""
        return np.asarray(s.below_income if measure == "income" else s.below_after_shocks)

    def _record(self, ctx: PolicyContext) -> tuple[np.ndarray, np.ndarray]:
        """Record the month; the true annual income and spending over the last 12 months."""
        s = ctx.state
        slot = ctx.month_index % 12
        self._income_months[slot] = s.income_month + s.policy_transfers_month
        self._spending_months[slot] = s.expense_month
        income = self._income_months.sum(axis=0)
        spending = self._spending_months.sum(axis=0)
        return income, spending

    def _observe(
        self, ctx: PolicyContext, income: np.ndarray, spending: np.ndarray
    ) -> list[Observation]:
        """What each route sees: per-capita income, rigid spending, a sudden difficulty."""
        s = ctx.state
        per_capita = income / s.size
        positive = np.maximum(income, 0.0)
        sudden_above = self.cfg.shock_share_of_income * positive
        seen = []
        for error in self._error:
            seen.append(
                Observation(
                    per_capita=per_capita * error,
                    rigid=spending > positive * error,
                    sudden=s.expense_month > sudden_above * error,
                )
            )
        return seen

    def _detect(self, ctx: PolicyContext, seen: list[Observation], route_u: np.ndarray) -> None:
        """Each route detects households meeting its criteria; matured detections enter."""
        s = ctx.state
        threshold = ctx.monitoring_threshold
        for r, route in enumerate(ROUTES):
            o = seen[r]
            if route == "screening":
                meets = o.rigid | o.sudden | (s.safety_net & ~self._on_dibao_seen)
            else:
                meets = (o.per_capita < threshold) | o.rigid | o.sudden
            reached = route_u[r] < self._coverages[r]
            new = meets & reached & ~self.registered_now & (self._pending[r] < 0)
            self._pending[r][new] = self._delays[r]
        self._on_dibao_seen[:] = s.safety_net
        entering = np.zeros(s.count, bool)
        for r, route in enumerate(ROUTES):
            due = (self._pending[r] == 0) & ~entering
            self.entries[route] += int(due.sum())
            entering |= due
        self._pending[:, entering] = -1
        np.subtract(self._pending, self._pending > 0, out=self._pending)
        self.registered_now |= entering
        self.ever_registered |= entering
        self.entered_month[entering] = ctx.month_index
        self._months_above[entering] = 0

    def _exit(
        self, ctx: PolicyContext, income: np.ndarray, cadre: Observation, verify_z: np.ndarray
    ) -> None:
        """Registered households above the threshold for ``exit_months`` are verified and leave."""
        s = ctx.state
        threshold = ctx.monitoring_threshold
        safe = self.registered_now & (cadre.per_capita >= threshold) & ~cadre.rigid
        np.multiply(self._months_above + 1, safe, out=self._months_above, casting="unsafe")
        due = np.flatnonzero(self._months_above >= self.cfg.exit_months)
        if due.size == 0:
            return
        sigma = self.cfg.income_error_sigma
        check = np.exp(sigma * verify_z[due] - sigma**2 / 2)
        passes = income[due] * check / s.size[due] >= threshold
        leaving = due[passes]
        self.registered_now[leaving] = False
        self._months_above[due] = 0
        self._spells += leaving.size
        self._totals["exits"] += int(leaving.size)
        self._totals["verifications_failed"] += int((~passes).sum())

    def _colour(self, ctx: PolicyContext, cadre: Observation) -> np.ndarray:
        """Colours of registered households from the cadres' observation; the others green."""
        low = cadre.per_capita < ctx.monitoring_threshold
        colour = (low | cadre.sudden).astype(np.int8)  # YELLOW is 1
        colour[low & cadre.sudden] = ORANGE
        colour[(cadre.per_capita < ctx.line) | cadre.rigid] = RED
        colour *= self.registered_now
        return colour

    def _assist(
        self,
        ctx: PolicyContext,
        colour: np.ndarray,
        referral_u: np.ndarray,
        success_u: np.ndarray,
    ) -> None:
        """Grants, placement referrals and dibao applications by colour (module docstring)."""
        s, cfg = ctx.state, self.cfg
        granted = (colour >= cfg.grant_from.value) & ~self._granted_this_year
        granted &= colour > GREEN
        self.pay(ctx, granted, cfg.relief_grant * self.intensity)
        self._granted_this_year |= granted
        self._totals["relief_grants"] += int(granted.sum())

        wanting = (colour >= cfg.placement_from.value) & (colour > GREEN)
        candidates = np.flatnonzero(wanting & (s.unemployed_migrants > 0))
        capacity = int(self._placement_capacity * self.intensity)
        slots = max(min(capacity - self._referrals_this_year, candidates.size), 0)
        referred = candidates[np.argsort(referral_u[candidates], kind="stable")[:slots]]
        placed = referred[success_u[referred] < cfg.placement_success_rate]
        s.move_workers(placed, 1, "unemployed", "migrant")
        self._referrals_this_year += slots
        self._totals["referrals"] += slots
        self._totals["placements"] += int(placed.size)

        applying = (colour >= cfg.dibao_from.value) & (colour > GREEN) & ~s.safety_net
        applying &= ~self._applied_this_year
        s.safety_net[applying] = True
        self._applied_this_year |= applying
        self._dibao_applications += int(applying.sum())
