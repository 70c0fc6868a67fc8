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
from scipy.special import ndtri

from sim.engine.rng import step_quantiles, steps_below, uniform_float32_words, words_below
from sim.engine.state import (
    ALL,
    COLOUR_NAMES,
    GREEN,
    LIFTED,
    MARGINAL,
    ORANGE,
    RED,
    YELLOW,
    Rows,
)
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
    """What one route sees of some households this month (all of them, or rows)."""

    per_capita: np.ndarray  # observed annual income per person, yuan
    rigid: np.ndarray  # 12 months of shock spending above observed annual income
    sudden: np.ndarray  # this month's spending above shock_share_of_income x that income


class Observations:
    """What the routes see this month, computed for the households a phase asks about.

    A route sees the true annual income through its measurement factors (``error``, one row per
    route; per person, ``error_per_person``, the factors over the household's size) and the
    spending exactly. A phase asks for all households (``ALL``) or for row
    indices: detection by a route that reaches few households looks at those only. A sudden
    difficulty needs spending this month, so it is evaluated on the few households with some
    and is false elsewhere.

    Args:
        error: measurement factors, routes x households.
        error_per_person: ``error`` over each household's persons (observed per-capita income
            is ``income * error_per_person``).
        income: true income of the last 12 months, yuan per household.
        spending: shock spending of the last 12 months, yuan per household.
        expense: this month's shock spending, yuan per household.
        spent: the households whose ``expense`` is not 0 (indices, a few percent of them).
        shock_share: the share of annual income a month's spending must pass to be sudden.
    """

    def __init__(
        self,
        error: np.ndarray,
        error_per_person: np.ndarray,
        income: np.ndarray,
        spending: np.ndarray,
        expense: np.ndarray,
        spent: np.ndarray,
        shock_share: float,
    ):
        self._error = error
        self._error_per_person = error_per_person
        self._income = income
        self._positive = np.maximum(income, 0.0)
        self._spending = spending
        self._households = expense.size
        expense = expense[spent]
        self._spent = spent[expense > 0]
        self._spent_expense = expense[expense > 0]
        self._sudden_above = shock_share * self._positive[self._spent]
        self._sudden: dict[int, np.ndarray] = {}

    def route(self, route: int, rows: Rows = ALL, *, income: bool = True) -> Observation:
        """What ``route`` sees of households ``rows``; ``income=False`` skips the per-capita income.

        Without it, ``per_capita`` is an empty array (the screening route sees no income level).
        """
        error = self._error[route][rows]
        if income:
            per_capita = self._income[rows] * self._error_per_person[route][rows]
        else:
            per_capita = np.empty(0)
        return Observation(
            per_capita=per_capita,
            rigid=self._spending[rows] > self._positive[rows] * error,
            sudden=self._sudden_of(route)[rows],
        )

    def _sudden_of(self, route: int) -> np.ndarray:
        """Whether ``route`` sees a sudden severe difficulty, for every household."""
        if route not in self._sudden:
            spent = self._spent
            sudden = np.zeros(self._households, bool)
            sudden[spent] = self._spent_expense > self._sudden_above * self._error[route][spent]
            self._sudden[route] = sudden
        return self._sudden[route]


class IncomeWindow:
    """A flow of every household over the last 12 months, and its 12-month total.

    Slot ``k`` holds month ``k`` of the year (``month_index % 12``). The total of month ``k`` is
    this year's slots added in slot order (the prefix, ``((slot 0 + slot 1) + ...) + slot k``,
    kept from month to month) plus last year's slots not yet overwritten, added from December
    backwards (``(slot 11 + slot 10) + ... + slot k+1``): those sums of last year's slots are
    made once a year, in January, so a month costs three passes over memory instead of up to
    twelve. The total equals ``months.sum(axis=0)`` up to rounding (the order of additions).

    Args:
        first: each household's flow in every month before the first recorded (12 copies).
    """

    def __init__(self, first: np.ndarray):
        self.months = np.tile(first, (12, 1))
        self._prefix = np.empty_like(first)
        # Row j: slots 11, 10, ..., 11 - j added in that order (last year's later months).
        self._later = np.empty((11, first.size))
        self._recorded = -1  # the month (month_index) last recorded

    def record(self, month: int, flow: np.ndarray, more: np.ndarray) -> np.ndarray:
        """Store ``flow + more`` as month ``month`` (``month_index``); the total of the 12 slots."""
        months, slot = self.months, month % 12
        if slot == 0 or self._recorded != month - 1:  # a new year, or months not recorded
            later = self._later
            if slot < 11:
                later[0] = months[11]
            for j in range(1, 11 - slot):
                np.add(later[j - 1], months[11 - j], out=later[j])
        np.add(flow, more, out=months[slot])
        if slot == 0:
            self._prefix[:] = months[0]
        elif self._recorded == month - 1:
            self._prefix += months[slot]
        else:  # the month before was not recorded: sum this year's slots afresh
            np.add.reduce(months[: slot + 1], axis=0, out=self._prefix)
        self._recorded = month
        if slot == 11:
            return self._prefix.copy()
        return np.add(self._prefix, self._later[10 - slot])


class SpendingWindow:
    """A flow that is zero for most households, over the last 12 months, and its 12-month total.

    Each month keeps only the households with a non-zero flow (rows and values), and the total
    adds the months in slot order, as :class:`IncomeWindow` does; a household without any flow
    in 12 months totals 0. The total is one weighted count of the 12 months' rows in slot order
    (``np.bincount`` adds each weight in turn to its row's total, from 0).

    Args:
        households: the number of households.
    """

    def __init__(self, households: int):
        self._households = households
        self._rows = [np.zeros(0, np.intp) for _ in range(12)]
        self._values = [np.zeros(0) for _ in range(12)]

    def record(self, month: int, flow: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Store ``flow`` as month ``month`` (``month_index``); the total of the 12 slots.

        ``rows``: the households whose ``flow`` is not 0 (indices).
        """
        self._rows[month % 12], self._values[month % 12] = rows, flow[rows]
        return np.bincount(
            np.concatenate(self._rows),
            weights=np.concatenate(self._values),
            minlength=self._households,
        )


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
        # The lotteries draw single-precision uniforms as their 32-bit words w, and
        # u < coverage exactly when w < words_below(coverage) (a Python integer: it may be 2**32).
        self._reach_below = [words_below(c) for c in self._coverages]
        # A referral's success compares its uniform with the rate in single precision.
        self._placed_below = np.uint32(steps_below(float(np.float32(cfg.placement_success_rate))))
        self._delays = np.array(
            [cfg.screening_delay_months, cfg.delay_months, cfg.application_delay_months]
        )
        self._error = np.ones((len(ROUTES), n))
        self._error_per_person = self._error / s.size
        # The last 12 months of true income and shock spending, as the routes see them.
        # Before a year has passed, the missing months are the assessed 2020 income.
        self._income = IncomeWindow(s.per_capita_income * s.size / 12)
        self._spending = SpendingWindow(n)

        self.registered_now = np.zeros(n, bool)
        # Month of entry of a detection pending on each route (month_index; -1: none). A run
        # has at most 1,200 months (sim.config: years <= 100), so int16 holds it.
        self._entry_month = np.full((len(ROUTES), n), -1, np.int16)
        # The same detections by the month their entry is due: (route, rows) pairs.
        self._maturing: dict[int, list[tuple[int, np.ndarray]]] = {}
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
        error = self.rng.standard_normal(self._error.shape)
        sigma = self._sigmas[:, None]
        error *= sigma
        error -= sigma**2 / 2
        self._error = np.exp(error, out=error)
        self._error_per_person = self._error / ctx.state.size
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
        # Every lottery is drawn every month whatever the state, so the stream stays aligned:
        # per household, one number for each route, one for the exit verification (its
        # quantile; the normal is computed for the households verified only), one for a
        # placement referral and one for its success. Single-precision uniforms (a lottery
        # against a share needs no more), drawn as their 32-bit words
        # (sim.engine.rng.uniform_float32_words): the numbers of rng.random(dtype=np.float32),
        # faster; their integer steps k = u * 2**24 are w >> 8, taken where they are used.
        draws = uniform_float32_words(self.rng, (len(ROUTES) + 3) * n).reshape(-1, n)
        route_w, verify_w, referral_w, success_w = draws[:3], draws[3], draws[4], draws[5]
        spent = np.flatnonzero(s.expense_month != 0)  # a few percent of the households
        income, spending = self._record(ctx, spent)
        seen = Observations(
            self._error,
            self._error_per_person,
            income,
            spending,
            s.expense_month,
            spent,
            self.cfg.shock_share_of_income,
        )
        cadre = seen.route(CADRE)  # every household: exits, detection and colours read it
        self._exit(ctx, income, cadre, verify_w)
        self._detect(ctx, seen, cadre, route_w)
        # Colours and assistance concern registered households (indices), the others are green.
        registered = np.flatnonzero(self.registered_now)
        colour = self._colour(ctx, cadre, registered)
        s.risk_colour[:] = GREEN
        s.risk_colour[registered] = colour
        # One scatter into the flattened colours x households table, at the coloured rows.
        coloured = np.flatnonzero(colour > GREEN)
        flat = colour[coloured].astype(np.intp) * n + registered[coloured]
        self._ever_coloured.reshape(-1)[flat] = True
        self._assist(ctx, registered, colour, referral_w, success_w)
        self._registered_this_year |= self.registered_now
        self._spells_months += registered.size
        ctx.ledger.spend_overhead(
            self.name, registered.size * self.cfg.admin_cost_per_household / 12
        )

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
        self._entry_month[:] = -1
        self._maturing.clear()

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

    def _record(self, ctx: PolicyContext, spent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Record the month; the true annual income and spending over the last 12 months.

        ``spent``: the households with shock spending this month (indices).
        """
        s = ctx.state
        month = ctx.month_index
        income = self._income.record(month, s.income_month, s.policy_transfers_month)
        spending = self._spending.record(month, s.expense_month, spent)
        return income, spending

    def _detect(
        self, ctx: PolicyContext, seen: Observations, cadre: Observation, route_w: np.ndarray
    ) -> None:
        """Each route detects households meeting its criteria; matured detections enter.

        A route looks at every household when it reaches most of them (or already sees them
        all, the cadres), else only at the households it reaches this month.
        """
        s = ctx.state
        threshold = ctx.monitoring_threshold
        month = ctx.month_index
        unregistered = ~self.registered_now
        for r, route in enumerate(ROUTES):
            pending = self._entry_month[r]
            reached = (route_w[r] < self._reach_below[r]) & unregistered
            reached &= pending < 0
            rows: Rows = ALL if r == CADRE or self._coverages[r] >= 0.5 else np.flatnonzero(reached)
            screening = route == "screening"
            o = cadre if r == CADRE else seen.route(r, rows, income=not screening)
            meets = o.rigid | o.sudden
            if screening:
                meets |= (s.safety_net & ~self._on_dibao_seen)[rows]
            else:
                meets |= o.per_capita < threshold
            new = (
                rows.compress(meets)
                if isinstance(rows, np.ndarray)
                else np.flatnonzero(meets & reached)
            )
            pending[new] = month + self._delays[r]
            self._maturing.setdefault(month + int(self._delays[r]), []).append((r, new))
        self._on_dibao_seen[:] = s.safety_net
        # An entry is credited to the first route whose detection of the household is due.
        entering = np.zeros(s.count, bool)
        entered = 0
        for route, due in zip(ROUTES, self._due_entries(month), strict=True):
            entering[due] = True
            now = int(np.count_nonzero(entering))
            self.entries[route] += now - entered
            entered = now
        rows = np.flatnonzero(entering)
        self._entry_month[:, rows] = -1
        self.registered_now[rows] = True
        self.ever_registered[rows] = True
        self.entered_month[rows] = month
        self._months_above[rows] = 0

    def _due_entries(self, month: int) -> list[np.ndarray]:
        """Per route, the households whose detection by it is due to enter this month (rows).

        Detections are kept by the month their entry is due (``_maturing``), so finding the
        entries takes no pass over every household; one whose pending entry was cleared since
        (the household entered by another route, or monitoring was withdrawn) is dropped.
        """
        due: list[list[np.ndarray]] = [[] for _ in ROUTES]
        for r, rows in self._maturing.pop(month, []):
            due[r].append(rows[self._entry_month[r][rows] == month])
        for past in [m for m in self._maturing if m < month]:  # months the policy did not act
            del self._maturing[past]
        return [np.concatenate(rows) if rows else np.zeros(0, np.intp) for rows in due]

    def _exit(
        self, ctx: PolicyContext, income: np.ndarray, cadre: Observation, verify_w: np.ndarray
    ) -> None:
        """Registered households above the threshold for ``exit_months`` are verified and leave.

        ``verify_w``: every household's verification number (a uniform's word), whose normal
        quantile is the verification's income error.
        """
        s = ctx.state
        threshold = ctx.monitoring_threshold
        registered = np.flatnonzero(self.registered_now)
        safe = (cadre.per_capita[registered] >= threshold) & ~cadre.rigid[registered]
        months = (self._months_above[registered] + 1) * safe
        self._months_above[:] = 0
        self._months_above[registered] = months
        due = np.compress(months >= self.cfg.exit_months, registered)
        if due.size == 0:
            return
        sigma = self.cfg.income_error_sigma
        check = np.exp(sigma * ndtri(step_quantiles(verify_w[due] >> 8)) - sigma**2 / 2)
        passes = income[due] * check / s.size[due] >= threshold
        leaving = due[passes]
        self.registered_now[leaving] = False
        self._months_above[due] = 0
        self._spells += leaving.size
        self._totals["exits"] += int(leaving.size)
        self._totals["verifications_failed"] += int((~passes).sum())

    @staticmethod
    def _colour(ctx: PolicyContext, cadre: Observation, rows: np.ndarray) -> np.ndarray:
        """Colours of registered households ``rows`` from the cadres' observation."""
        per_capita, sudden = cadre.per_capita[rows], cadre.sudden[rows]
        low = per_capita < ctx.monitoring_threshold
        # Arithmetic on the flags (np.where and masked assignment are several times slower):
        # YELLOW (1) for one of low and sudden, ORANGE (2) for both, RED (the highest) if red.
        colour = low.view(np.int8) + sudden.view(np.int8)
        red = (per_capita < ctx.line) | cadre.rigid[rows]
        return np.maximum(colour, red.view(np.int8) * np.int8(RED))

    def _assist(
        self,
        ctx: PolicyContext,
        registered: np.ndarray,
        colour: np.ndarray,
        referral_w: np.ndarray,
        success_w: np.ndarray,
    ) -> None:
        """Grants, placement referrals and dibao applications by colour (module docstring).

        ``registered``: the registered households (row indices, ascending); ``colour``: theirs;
        ``referral_w``, ``success_w``: every household's lottery words (the uniforms' steps
        ``k = u * 2**24`` are ``w >> 8``).
        """
        s, cfg = ctx.state, self.cfg
        coloured = colour > GREEN
        # np.compress: a boolean index is several times slower on irregular selections.
        granted = np.compress(
            (colour >= cfg.grant_from.value) & coloured & ~self._granted_this_year[registered],
            registered,
        )
        self.pay(ctx, granted, cfg.relief_grant * self.intensity)
        self._granted_this_year[granted] = True
        self._totals["relief_grants"] += int(granted.size)

        wanting = (colour >= cfg.placement_from.value) & coloured
        candidates = np.compress(wanting & (s.unemployed_migrants[registered] > 0), registered)
        capacity = int(self._placement_capacity * self.intensity)
        slots = max(min(capacity - self._referrals_this_year, candidates.size), 0)
        referral_k = referral_w[candidates] >> 8  # by steps: equal steps keep candidate order
        referred = candidates[np.argsort(referral_k, kind="stable")[:slots]]
        placed = referred[(success_w[referred] >> 8) < self._placed_below]
        s.move_workers(placed, 1, "unemployed", "migrant")
        self._referrals_this_year += slots
        self._totals["referrals"] += slots
        self._totals["placements"] += int(placed.size)

        applying = np.compress(
            (colour >= cfg.dibao_from.value)
            & coloured
            & ~s.safety_net[registered]
            & ~self._applied_this_year[registered],
            registered,
        )
        s.safety_net[applying] = True
        self._applied_this_year[applying] = True
        self._dibao_applications += int(applying.size)
